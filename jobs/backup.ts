import type { Config } from '../config.ts';
import { backupDatabase, pruneBackups } from '../db/backup.ts';
import type { Db } from '../db/client.ts';
import type { Job } from './scheduler.ts';

// The nightly backup, when BACKUP_DIR is set: the database and the uploads, keeping BACKUP_KEEP.
// It reads its own repeatable-read snapshot; the job's transaction only holds the lock that makes
// one process of several take it.
export function backupJob(db: Db, config: Config & { backupDir: string }): Job {
  return {
    name: 'backup',
    schedule: '30 2 * * *',
    async run() {
      const path = await backupDatabase(db, { dataDir: config.dataDir, backupDir: config.backupDir });
      const removed = await pruneBackups(config.backupDir, config.backupKeep);
      // With STORAGE=s3 the files stay in the bucket: the backup holds the database only (README, Operating).
      return { path, removed: removed.length, ...(config.s3 ? { files: 'in the S3 bucket, not in this backup' } : {}) };
    },
  };
}
