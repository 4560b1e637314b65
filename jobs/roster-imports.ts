import { and, asc, eq, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Logger } from '../db/log.ts';
import type { Storage } from '../db/storage.ts';
import { rosterImports } from '../db/schema/index.ts';
import { processRosterImport, STALE_AFTER } from '../domain/graduates/roster-import.ts';
import type { Job } from './scheduler.ts';

/** At most this many imports run in one process at a time (each streams a file of up to 20 MB). */
const MAX_RUNNING = 2;

/**
 * Crash recovery for 导入学生名单: the upload route starts an import at once; this job picks up
 * the ones left queued, or running with a stale heartbeat because their process died. It only
 * finds them inside the job's locked transaction: each import runs afterwards on its own, in
 * batches that commit separately, and claims itself so a second process never runs it twice.
 */
export function rosterImportsJob(db: Db, storage: Storage, log: Logger): Job {
  const running = new Set<number>();
  return {
    name: 'roster-imports',
    schedule: '*/30 * * * * *',
    async run(tx) {
      const free = MAX_RUNNING - running.size;
      if (free <= 0) return;
      const pending = await tx
        .select({ id: rosterImports.id })
        .from(rosterImports)
        .where(
          and(
            or(
              eq(rosterImports.status, 'queued'),
              and(eq(rosterImports.status, 'running'), lt(rosterImports.heartbeatAt, sql`now() - ${STALE_AFTER}::interval`)),
            ),
            running.size > 0 ? notInArray(rosterImports.id, [...running]) : undefined,
          ),
        )
        .orderBy(asc(rosterImports.createdAt))
        .limit(free);
      for (const { id } of pending) {
        running.add(id);
        void processRosterImport(db, storage, id)
          .catch((e: unknown) => log.error('roster import failed', { importId: id, error: String(e) }))
          .finally(() => running.delete(id));
      }
      return { started: pending.length };
    },
  };
}
