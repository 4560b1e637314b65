import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { Job } from './scheduler.ts';

/**
 * Folds the signed changes the triggers append to agreement_counts (migration 0022) into one row per
 * key, in one statement. Rows added meanwhile by transactions it cannot see are left for the next run,
 * and no writer waits on it: they only insert.
 */
export async function foldAgreementCounts(db: DbOrTx): Promise<number> {
  const [row] = await db.execute<{ folded: number }>(sql`
    with gone as (delete from agreement_counts returning school_id, department_id, kind, state, n),
         kept as (insert into agreement_counts (school_id, department_id, kind, state, n)
                  select school_id, department_id, kind, state, sum(n) from gone group by 1, 2, 3, 4 having sum(n) <> 0 returning 1)
    select (select count(*) from gone)::int - (select count(*) from kept)::int as folded`);
  return row?.folded ?? 0;
}

export const foldAgreementCountsJob: Job = {
  name: 'fold-agreement-counts',
  schedule: '* * * * *',
  async run(tx) {
    return { folded: await foldAgreementCounts(tx) };
  },
};
