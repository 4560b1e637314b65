import { ConfigError, loadConfig } from '../config.ts';
import { addIdNumberKeyToFile, installIdNumberKeys, loadIdNumberKeys } from '../db/id-number-keys.ts';
import { createLogger } from '../db/log.ts';
import { keysInUse, resealIdNumbers } from '../domain/graduates/id-numbers-at-rest.ts';
import { maintenanceDatabase } from './database.ts';

// Rotating the key 身份证号 are sealed with, in three steps, because a running platform knows only
// the keys it started with (a number sealed under a key it lacks would fail its pages):
//   1. npm run rotate-id-key             adds a new key to DATA_DIR's key file and makes it current
//                                        (with ID_NUMBER_KEYS: add it there and set ID_NUMBER_KEY_CURRENT);
//   2. restart the platform              it now opens both and seals new numbers under the new key;
//   3. npm run rotate-id-key -- --reseal seals every stored number again under the current key.
// An old key may be removed once step 3 lists it as no longer in use and no backup still needs it.
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (!process.argv.includes('--reseal')) {
    if (process.env.ID_NUMBER_KEYS) {
      process.stdout.write('密钥来自 ID_NUMBER_KEYS：请在其中加入新密钥（编号:base64，32 字节）并设为 ID_NUMBER_KEY_CURRENT，重启平台，然后运行 npm run rotate-id-key -- --reseal。\n');
    } else {
      const added = await addIdNumberKeyToFile(config.dataDir);
      process.stdout.write(`已生成新密钥 ${added} 并设为当前密钥。请先重启平台（运行中的平台还不认识它），然后运行 npm run rotate-id-key -- --reseal 把已存的身份证号改用新密钥加密。\n`);
    }
  } else {
    const keys = await loadIdNumberKeys({ dataDir: config.dataDir });
    installIdNumberKeys(keys);
    const { db, close } = await maintenanceDatabase(config, log);
    try {
      const resealed = await resealIdNumbers(db);
      const inUse = await keysInUse(db);
      process.stdout.write(
        `当前密钥 ${keys.current}：重新加密了 ${resealed} 个身份证号。\n` +
          `使用中的密钥：${Object.entries(inUse).map(([k, n]) => `${k}（${n}）`).join('、') || '无'}\n` +
          '不再使用的旧密钥，在不再需要用它恢复旧备份后，可从密钥文件中删除。\n',
      );
    } finally {
      await close();
    }
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `密钥轮换失败: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(1);
}
