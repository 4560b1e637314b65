import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { connect, migrateDatabase } from '../../db/client.ts';
import { seedDemoData } from '../../db/demo.ts';
import { startEmbeddedPostgres } from '../../db/embedded.ts';
import { silentLogger } from '../../db/log.ts';
import './keys.ts';

export const TEMPLATE_DB = 'wq_template';

/**
 * One embedded cluster per test run, with a template database that is migrated and holds the
 * demo data; each test file clones its own database from it in a few milliseconds.
 */
export async function startTestCluster(): Promise<{ serverUrl: string; postmaster: number | null; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wq-test-'));
  // The cluster runs as the `postgres` system user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres(dir, silentLogger, ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300']);
  const serverUrl = pg.url.replace(/\/[^/]*$/, '');
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const db = connect(`${serverUrl}/${TEMPLATE_DB}`, 2);
  await migrateDatabase(db);
  await seedDemoData(db);
  await db.$client.end();
  return {
    serverUrl,
    postmaster: pg.postmaster,
    async stop() {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
