import { and, count, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../db/client.ts';

/**
 * Counts of a reviewer's lists stop at COUNT_CAP (shown as “10000+”): past it a reviewer searches
 * rather than pages, and counting a school's whole history on every page view would cost more than the page.
 */
export const COUNT_CAP = 10000;

export async function cappedCount(db: DbOrTx, table: PgTable, where: SQL | undefined): Promise<{ n: number; more: boolean }> {
  const capped = db.select({ one: sql`1` }).from(table).where(where).limit(COUNT_CAP + 1).as('capped');
  const [row] = await db.select({ n: count() }).from(capped);
  const n = row?.n ?? 0;
  return { n: Math.min(n, COUNT_CAP), more: n > COUNT_CAP };
}

/** A list table's columns the paging reads: its (school, state, updated_at, id) index's. */
export type StateList = { table: PgTable; id: PgColumn; state: PgColumn; updatedAt: PgColumn };

/** Up to this many rows a state, the runs are read in parallel and merged here; past it, by PostgreSQL. */
const PARALLEL_RUNS_UP_TO = 100;

/**
 * One page of a tab made of several states, newest activity first, and the tab's capped count.
 * Each state is read in the order of the (school, state, updated_at, id) index, never a sort of the
 * whole tab. The first pages read each state's run in parallel (a filter outside the index, such as
 * 去向登记's type, makes each run walk further, and the runs then overlap) and merge them here. A
 * deeper page would read its whole offset in every state: there one query of ordered per-state
 * branches lets PostgreSQL merge them (Merge Append) and stop once the page is full.
 */
export async function pageByStates(db: DbOrTx, list: StateList, where: SQL | undefined, states: readonly string[], requested: number, size: number) {
  // No page lies past the capped count: a hand-edited page=40000 reads as far as the last one, not 800,000 rows.
  const page = Math.min(requested, Math.ceil(COUNT_CAP / size));
  const offset = (page - 1) * size;
  // A run's order key: the time itself for PostgreSQL's merge; for the merge here, the time to the
  // microsecond as fixed-width digits (a Date keeps milliseconds).
  const run = (state: string, here: boolean) =>
    sql`select ${list.id} as id, ${here ? sql`to_char(${list.updatedAt} at time zone 'UTC', 'YYYYMMDDHH24MISSUS')` : list.updatedAt} as at from ${list.table} where ${and(where, eq(list.state, state))} order by ${list.updatedAt} desc, ${list.id} desc limit ${offset + size}`;
  const [ids, total] = await Promise.all([
    offset + size <= PARALLEL_RUNS_UP_TO
      ? Promise.all(states.map((state) => db.execute<{ id: number; at: string }>(run(state, true)))).then((runs) =>
          runs
            .flatMap((r) => [...r])
            .map((r) => ({ id: Number(r.id), at: r.at }))
            .sort((x, y) => (x.at === y.at ? y.id - x.id : x.at < y.at ? 1 : -1))
            .slice(offset, offset + size)
            .map((r) => r.id),
        )
      : states.length === 0
        ? []
        : db
            .execute<{ id: number }>(sql`select id from (${sql.join(states.map((state) => sql`(${run(state, false)})`), sql` union all `)}) merged order by at desc, id desc offset ${offset} limit ${size}`)
            .then((rows) => [...rows].map((r) => Number(r.id))),
    cappedCount(db, list.table, and(where, inArray(list.state, [...states]))),
  ]);
  const pages = Math.max(1, Math.ceil(total.n / size));
  // A page past the tab's end (a stale link, a typed number) shows the last page instead of an empty one.
  if (ids.length === 0 && page > pages) return pageByStates(db, list, where, states, pages, size);
  return { ids, page, total: total.n, more: total.more, pages };
}

/** How many matching ids a search hands to the page's queries as a list; past it, the search runs as a subquery. */
const MATCH_LIST_CAP = 5000;

/**
 * `column` among the ids a search selects (`{ id }` rows): read once and given as a list to the
 * page's queries (its state runs and its count), or, when the search matches too many, left to
 * each of them as an InitPlan. Either way a search never walks the whole tab.
 */
export async function amongIds(db: DbOrTx, column: PgColumn, search: () => { limit: (n: number) => PromiseLike<Array<{ id: number }>>; getSQL: () => SQL }): Promise<SQL> {
  const found = await search().limit(MATCH_LIST_CAP + 1);
  if (found.length === 0) return sql`false`;
  // One array parameter, not one per id: a deep page repeats the condition in each state's branch,
  // and 20 branches of 5,000 ids each would pass PostgreSQL's 65,535-parameter limit.
  if (found.length <= MATCH_LIST_CAP) return sql`${column} = any(${`{${found.map((r) => Number(r.id)).join(',')}}`}::int[])`;
  return sql`${column} = any(array(${search()}))`;
}
