import { ConfigError, loadConfig } from '../config.ts';
import { addIdNumberKeyToFile, installIdNumberKeys, loadIdNumberKeys } from '../db/id-number-keys.ts';
import { createLogger } from '../db/log.ts';
import { keysInUse, resealIdNumbers } from '../domain/graduates/id-numbers-at-rest.ts';
import { maintenanceDatabase } from './database.ts';

// npm run rotate-id-key: rotates the key 身份证号 are sealed with. With the key file of DATA_DIR, a
// new key is added and made current; with ID_NUMBER_KEYS, add the new key there and make it
// ID_NUMBER_KEY_CURRENT first. Then every stored number is sealed again under the current key.
// Restart the platform afterwards so it seals new numbers under the new key, and run this again
// to catch what it sealed meanwhile. An old key may be removed once it is no longer in use (and no
// backup you may restore still needs it).
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  let added: string | undefined;
  if (!process.env.ID_NUMBER_KEYS && !process.argv.includes('--reseal-only')) added = await addIdNumberKeyToFile(config.dataDir);
  const keys = await loadIdNumberKeys({ dataDir: config.dataDir });
  installIdNumberKeys(keys);
  const { db, close } = await maintenanceDatabase(config, log);
  try {
    const resealed = await resealIdNumbers(db);
    const inUse = await keysInUse(db);
    process.stdout.write(
      `${added ? `已生成新密钥 ${added} 并设为当前密钥。` : `当前密钥 ${keys.current}。`}重新加密了 ${resealed} 个身份证号。\n` +
        `使用中的密钥：${Object.entries(inUse).map(([k, n]) => `${k}（${n}）`).join('、') || '无'}\n` +
        '请重启平台以使用当前密钥；重启后可再运行一次 npm run rotate-id-key -- --reseal-only。旧密钥在不再使用、且不再需要用它恢复旧备份后方可删除。\n',
    );
  } finally {
    await close();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `密钥轮换失败: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(1);
}
