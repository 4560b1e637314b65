import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import type { Logger } from '../db/log.ts';

export type Job = { name: string; schedule: string; /** Also run once when the jobs start. */ runAtStart?: boolean; run: (tx: Tx) => Promise<Record<string, unknown> | void> };

/** This process, as job_runs names it. */
const RUNNER = `${hostname()}:${process.pid}`;

/**
 * Runs a job inside one transaction holding a PostgreSQL advisory lock named after it; a process
 * that cannot get the lock skips the run. With `slot` (the time a scheduled run is due), the run
 * also claims that slot in job_runs: every app process schedules every job, and one that comes to a
 * slot after another process ran it (the lock is free again by then) skips it too. So each run
 * happens once however many processes there are. A failed run gives its claim back with its
 * transaction; the next slot runs again. Without `slot` (a test, a manual run) it just runs.
 */
export async function runJobOnce(db: Db, job: Job, log: Logger, slot?: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext(${'job:' + job.name})) as locked`);
    if (!row?.locked) {
      log.debug('job skipped', { job: job.name, slot: slot?.toISOString(), reason: 'running elsewhere' });
      return false;
    }
    if (slot) {
      const claimed = await tx.execute(sql`
        insert into job_runs (name, slot, ran_by) values (${job.name}, ${slot.toISOString()}, ${RUNNER})
        on conflict (name) do update set slot = excluded.slot, ran_at = now(), ran_by = excluded.ran_by
        -- A slot stored in the database's future (a process whose clock ran ahead) holds nothing back.
        where job_runs.slot < excluded.slot or job_runs.slot > now() + interval '1 minute'
        returning 1`);
      if (claimed.length === 0) {
        log.debug('job skipped', { job: job.name, slot: slot.toISOString(), reason: 'slot already run' });
        return false;
      }
    }
    log.debug('job run', { job: job.name, slot: slot?.toISOString() });
    const result = await job.run(tx);
    if (result && Object.values(result).some((v) => v)) log.info('job done', { job: job.name, ...result });
    return true;
  });
}

/** The slot of a run: its due time to the second (cron's own), or for the run at start its minute, so processes started together run it once. */
const slotOf = (date: Date, ms: 1000 | 60_000) => new Date(Math.floor(date.getTime() / ms) * ms);

/**
 * node-cron's own messages, as JSON lines through the app's logger (its default writes coloured text
 * to the console). A slot that comes while the job's previous run is still under way is skipped
 * (noOverlap) and the next run does what was due: at a busy hour the outbox's runs, which go on for
 * up to 1.5 s every 2 s, meet it often, so that one is a debug line, not a warning each time.
 */
function cronLogger(log: Logger, job: string) {
  const text = (m: unknown) => (m instanceof Error ? m.message : String(m));
  return {
    info: (m: unknown) => log.debug('cron', { job, message: text(m) }),
    warn: (m: unknown) => (/overlap/.test(text(m)) ? log.debug : log.warn)('cron', { job, message: text(m) }),
    error: (m: unknown, e?: unknown) => log.error('cron', { job, message: text(m), ...(e === undefined ? {} : { error: text(e) }) }),
    debug: (m: unknown) => log.debug('cron', { job, message: text(m) }),
  };
}

export function startJobs(db: Db, jobs: Job[], log: Logger): { stop: () => Promise<void> } {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      (ctx) => runJobOnce(db, job, log, slotOf(ctx.date, 1000)).catch((e: unknown) => log.error('job failed', { job: job.name, error: String(e) })),
      { name: job.name, noOverlap: true, logger: cronLogger(log, job.name) },
    ),
  );
  const started = slotOf(new Date(), 60_000);
  for (const job of jobs.filter((j) => j.runAtStart)) runJobOnce(db, job, log, started).catch((e: unknown) => log.error('job failed', { job: job.name, error: String(e) }));
  log.info('jobs started', { jobs: jobs.map((j) => j.name) });
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
