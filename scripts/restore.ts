import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { restoreDatabase } from '../db/backup.ts';
import { installIdNumberKeys, loadIdNumberKeys } from '../db/id-number-keys.ts';
import { createLogger } from '../db/log.ts';
import { maintenanceDatabase } from './database.ts';

// npm run restore -- <backup directory>: into an empty database (a new DATA_DIR, or an empty
// DATABASE_URL) with an empty uploads folder; all rows in one transaction, or none.
try {
  const from = process.argv[2];
  if (!from) throw new Error('请指定备份目录，例如: npm run restore -- ./backups/wq-backup-2026-06-01T02-30-00-000Z');
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  // The backup's ID numbers open only under the keys they were sealed with (not in the backup).
  installIdNumberKeys(await loadIdNumberKeys({ dataDir: config.dataDir }));
  const { db, close } = await maintenanceDatabase(config, log);
  try {
    const manifest = await restoreDatabase(db, { dataDir: config.dataDir, from: resolve(from) });
    process.stdout.write(`恢复完成: ${manifest.tables.reduce((n, t) => n + t.rows, 0)} 行，${manifest.uploads} 个上传文件（备份时间 ${manifest.createdAt}）\n`);
  } finally {
    await close();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `恢复失败: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(1);
}
