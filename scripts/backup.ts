import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { backupDatabase, pruneBackups } from '../db/backup.ts';
import { createLogger } from '../db/log.ts';
import { maintenanceDatabase } from './database.ts';

// npm run backup [-- <directory>]: a backup of the database and the uploads into <directory>
// (default BACKUP_DIR, else ./backups), keeping the newest BACKUP_KEEP. Runs beside a running platform.
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const dir = resolve(process.argv[2] ?? config.backupDir ?? './backups');
  const { db, close } = await maintenanceDatabase(config, log);
  try {
    const path = await backupDatabase(db, { dataDir: config.dataDir, backupDir: dir });
    const removed = await pruneBackups(dir, config.backupKeep);
    process.stdout.write(`备份完成: ${path}${removed.length ? `（删除了较早的 ${removed.length} 份）` : ''}\n`);
    if (config.s3) process.stdout.write(`注意：文件保存在对象存储（S3 存储桶 ${config.s3.bucket}）中，不在此备份内。请用存储桶自身的版本控制或复制功能保存它们。\n`);
    process.stdout.write('注意：身份证号密钥不在备份中。请另行妥善保存 DATA_DIR/keys/id-number-keys.json（或 ID_NUMBER_KEYS、ID_NUMBER_HMAC_KEY），恢复时需要它。\n');
  } finally {
    await close();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `备份失败: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(1);
}
