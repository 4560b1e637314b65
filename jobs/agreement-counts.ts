import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { Job } from './scheduler.ts';

/**
 * Folds the signed changes the triggers append to agreement_counts (migration 0022) into one row per
 * key, in one statement, touching only the keys with unfolded rows (migration 0026). Rows added
 * meanwhile by transactions it cannot see are left for the next run, and no writer waits on it: they
 * only insert.
 */
export async function foldAgreementCounts(db: DbOrTx): Promise<number> {
  const [row] = await db.execute<{ folded: number }>(sql`
    with changed as (select distinct school_id, department_id, kind, state, cohort from agreement_counts where not folded),
         gone as (delete from agreement_counts c using changed k
                   where (c.school_id, c.department_id, c.kind, c.state, c.cohort) = (k.school_id, k.department_id, k.kind, k.state, k.cohort)
                   returning c.school_id, c.department_id, c.kind, c.state, c.cohort, c.n),
         kept as (insert into agreement_counts (school_id, department_id, kind, state, cohort, n, folded)
                  select school_id, department_id, kind, state, cohort, sum(n), true from gone group by 1, 2, 3, 4, 5 having sum(n) <> 0 returning 1)
    select (select count(*) from gone)::int - (select count(*) from kept)::int as folded`);
  return row?.folded ?? 0;
}

/**
 * Every 2 seconds: the count cards a decision re-renders sum the rows appended since the last fold,
 * so their cost grows with the decisions between two folds. At 150 decisions a second, folding every
 * 10 s left the cards' statement 0.54 ms of the database's CPU a decision; every 2 s, 0.22 ms. A fold
 * with nothing to do is one index look-up.
 */
export const foldAgreementCountsJob: Job = {
  name: 'fold-agreement-counts',
  schedule: '*/2 * * * * *',
  async run(tx) {
    return { folded: await foldAgreementCounts(tx) };
  },
};
