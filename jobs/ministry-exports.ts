import { and, asc, eq, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Logger } from '../db/log.ts';
import type { Storage } from '../db/storage.ts';
import { ministryExports } from '../db/schema/index.ts';
import { expireMinistryExports, MINISTRY_EXPORT_STALE_AFTER, processMinistryExport } from '../domain/statistics/ministry.ts';
import type { Job } from './scheduler.ts';

/** At most this many exports are written by one process at a time. */
const MAX_RUNNING = 2;

/**
 * 导出就业方案 in the background: the request starts an export at once; this job starts the ones left
 * queued, or running with a stale heartbeat because their process died (they are written again from
 * the start), and deletes files past their keeping time.
 */
export function ministryExportsJob(db: Db, storage: Storage, log: Logger): Job {
  const running = new Set<number>();
  return {
    name: 'ministry-exports',
    schedule: '*/30 * * * * *',
    async run(tx) {
      const expired = await expireMinistryExports(tx, storage);
      const free = MAX_RUNNING - running.size;
      if (free <= 0) return { expired };
      const pending = await tx
        .select({ id: ministryExports.id })
        .from(ministryExports)
        .where(
          and(
            or(eq(ministryExports.status, 'queued'), and(eq(ministryExports.status, 'running'), lt(ministryExports.heartbeatAt, sql`now() - ${MINISTRY_EXPORT_STALE_AFTER}::interval`))),
            running.size > 0 ? notInArray(ministryExports.id, [...running]) : undefined,
          ),
        )
        .orderBy(asc(ministryExports.createdAt))
        .limit(free);
      for (const { id } of pending) {
        running.add(id);
        void processMinistryExport(db, storage, id)
          .catch((e: unknown) => log.error('ministry export failed', { exportId: id, error: String(e) }))
          .finally(() => running.delete(id));
      }
      return { started: pending.length, expired };
    },
  };
}
