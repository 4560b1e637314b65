import cron, { type ScheduledTask } from 'node-cron';
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import type { Logger } from '../db/log.ts';

export type Job = { name: string; schedule: string; /** Also run once when the jobs start. */ runAtStart?: boolean; run: (tx: Tx) => Promise<Record<string, unknown> | void> };

/**
 * Runs a job inside one transaction holding a PostgreSQL advisory lock named after it, so with
 * several app processes each run happens once; a process that cannot get the lock skips the run.
 */
export async function runJobOnce(db: Db, job: Job, log: Logger): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext(${'job:' + job.name})) as locked`);
    if (!row?.locked) return false;
    const result = await job.run(tx);
    if (result && Object.values(result).some((v) => v)) log.info('job done', { job: job.name, ...result });
    return true;
  });
}

export function startJobs(db: Db, jobs: Job[], log: Logger): { stop: () => Promise<void> } {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      () => runJobOnce(db, job, log).catch((e: unknown) => log.error('job failed', { job: job.name, error: String(e) })),
      { name: job.name, noOverlap: true },
    ),
  );
  for (const job of jobs.filter((j) => j.runAtStart)) runJobOnce(db, job, log).catch((e: unknown) => log.error('job failed', { job: job.name, error: String(e) }));
  log.info('jobs started', { jobs: jobs.map((j) => j.name) });
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
