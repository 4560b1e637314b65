import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect, type Db } from '../../db/client.ts';
import { startTestCluster, TEMPLATE_DB } from './cluster.ts';

// A fresh database per test file, cloned from the run's migrated template with the demo data.
// Run by test/run.ts, the cluster is shared (TEST_PG_SERVER); run alone, a file starts its own.
let cluster: Promise<{ serverUrl: string; stop: () => Promise<void> }> | undefined;

async function serverUrl(): Promise<string> {
  if (process.env.TEST_PG_SERVER) return process.env.TEST_PG_SERVER;
  cluster ??= startTestCluster();
  return (await cluster).serverUrl;
}

export type TestDatabase = { db: Db; url: string; drop: () => Promise<void> };

/** A database cloned from the migrated template with the demo data. */
export function freshDatabase(): Promise<TestDatabase> {
  return newDatabase(TEMPLATE_DB);
}

/** An empty database, for tests that migrate it themselves. */
export function emptyDatabase(): Promise<TestDatabase> {
  return newDatabase('template0');
}

async function newDatabase(template: string): Promise<TestDatabase> {
  const server = await serverUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  await admin.end();
  const url = `${server}/${name}`;
  const db = connect(url, 20);
  return {
    db,
    url,
    async drop() {
      await db.$client.end({ timeout: 2 });
      const a = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
      if (cluster) await (await cluster).stop();
    },
  };
}
