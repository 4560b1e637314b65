import { join } from 'node:path';
import type { Config } from '../config.ts';
import { connect, type Db } from '../db/client.ts';
import { runningEmbeddedUrl, startEmbeddedPostgres } from '../db/embedded.ts';
import type { Logger } from '../db/log.ts';

/**
 * The platform's database for a maintenance command: DATABASE_URL; or the embedded server of
 * DATA_DIR, the running platform's if it runs, else started for the command and stopped after.
 */
export async function maintenanceDatabase(config: Config, log: Logger): Promise<{ db: Db; close: () => Promise<void> }> {
  if (config.databaseUrl) {
    const db = connect(config.databaseUrl, 2);
    return { db, close: () => db.$client.end() };
  }
  const dir = join(config.dataDir, 'pg');
  const running = runningEmbeddedUrl(dir);
  if (running) {
    const db = connect(running, 2);
    return { db, close: () => db.$client.end() };
  }
  const embedded = await startEmbeddedPostgres(dir, log);
  const db = connect(embedded.url, 2);
  return {
    db,
    async close() {
      await db.$client.end();
      await embedded.stop();
    },
  };
}
