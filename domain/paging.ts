import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { genericPlans, type DbOrTx } from '../db/client.ts';

/**
 * Counts of a reviewer's lists stop at COUNT_CAP (shown as “10000+”): past it a reviewer searches
 * rather than pages, and counting a school's whole history on every page view would cost more than the page.
 */
export const COUNT_CAP = 10000;

const cappedSql = (table: PgTable, where: SQL | undefined) => sql`(select count(*) from (select 1 from ${table} where ${where ?? sql`true`} limit ${COUNT_CAP + 1}) capped)`;
/** A count as the lists show it: at most COUNT_CAP, and whether there are more. */
export const capped = (n: number) => ({ n: Math.min(n, COUNT_CAP), more: n > COUNT_CAP });

/** Counts given as scalar expressions, read as one int[] column. */
const countArray = (counts: SQL[]) => sql`array[${sql.join(counts, sql`, `)}]::int[]`;

/** Counts given as scalar expressions (the count cards above a list), in one statement, each capped. */
export async function countsOf(db: DbOrTx, counts: SQL[]): Promise<Array<{ n: number; more: boolean }>> {
  if (counts.length === 0) return [];
  const [row] = await db.execute<{ n: number[] }>(sql`select ${countArray(counts)} as n`);
  return row!.n.map((n) => capped(Number(n)));
}

/** Several capped counts of one table (the count cards above a list) in one statement. */
export function cappedCounts(db: DbOrTx, table: PgTable, wheres: Array<SQL | undefined>): Promise<Array<{ n: number; more: boolean }>> {
  return countsOf(db, wheres.map((w) => cappedSql(table, w)));
}

/**
 * A page's total carried by its own rows (`total: windowTotal` among the selected fields): the list is
 * read in one pass rather than a page and then a count (issue 14). A page past the end has no rows to
 * carry it; `count` is asked then.
 */
export const windowTotal = () => sql<number>`count(*) over ()`.mapWith(Number);

export async function pageTotal<R extends { total: number }>(found: R[], page: number, count: () => PromiseLike<Array<{ n: number }>>): Promise<{ rows: Array<Omit<R, 'total'>>; total: number }> {
  const total = found[0]?.total ?? (page > 1 ? ((await count())[0]?.n ?? 0) : 0);
  return { rows: found.map(({ total: _, ...r }) => r), total };
}

/** Up to this many rows a state, a page's runs are lateral reads over the states; past it, merged branches. */
const SHALLOW_RUNS_UP_TO = 100;

/** States as one array parameter of the column's enum type (one bind, and short to build). */
const stateArray = (column: PgColumn, states: readonly string[]) => sql`${`{${states.join(',')}}`}::${sql.raw(column.getSQLType())}[]`;

/** `column` among `states`, as one array parameter. */
export const stateIn = (column: PgColumn, states: readonly string[]) => sql`${column} = any(${stateArray(column, states)})`;

/** A list table's columns the paging reads: its (school, state, updated_at, id) index's. */
export type StateList = { table: PgTable; id: PgColumn; state: PgColumn; updatedAt: PgColumn };

/**
 * One page of a tab made of several states, newest activity first, and the tab's capped count, in one
 * statement (issue 14: a page spends at most three queries). Each state is read in the order of the
 * (school, state, updated_at, id) index, never a sort of the whole tab. The first pages (runs of at
 * most 100 rows a state) loop over the states with one lateral run each and sort the few rows they
 * bring: the statement names the filter once, so it is short to build. A deeper page would bring its
 * whole offset from every state: there each state gets its own ordered branch, PostgreSQL merges
 * them (Merge Append) and stops once the page is full.
 */
export async function pageByStates(
  db: DbOrTx,
  list: StateList,
  /**
   * The statement's parts, made only when it is built: `where`, the tab's filter; counts read in the
   * same statement: `cards`, the count cards above the list, as one int[] expression; `total`, the
   * tab's total when something cheaper than counting its rows knows it, as a scalar one. A kept statement (`reuse`)
   * never makes them (issue 14: making the count cards' sums was a sixth of 在线签约管理's node time).
   */
  parts: () => { where: SQL | undefined; cards?: SQL | undefined; total?: SQL | undefined },
  states: readonly string[],
  requested: number,
  size: number,
  /**
   * What the statement is made of when it is nothing but plain values (no search): the same key,
   * the same statement. It is then built once, kept as its text and parameters, and run as a named
   * prepared statement (issue 14: building this statement was a quarter of 在线签约管理's node time).
   */
  reuse?: string,
): Promise<{ ids: number[]; page: number; total: number; more: boolean; pages: number; cards: Array<{ n: number; more: boolean }> }> {
  // No page lies past the capped count: a hand-edited page=40000 reads as far as the last one, not 800,000 rows.
  const page = Math.min(requested, Math.ceil(COUNT_CAP / size));
  const offset = (page - 1) * size;
  if (states.length === 0) {
    const cards = parts().cards;
    const [row] = cards ? await db.execute<{ n: number[] }>(sql`select ${cards} as n`) : [];
    return { ids: [], page: 1, total: 0, more: false, pages: 1, cards: (row?.n ?? []).map((n) => capped(Number(n))) };
  }
  const statement = () => {
    const { where, cards, total } = parts();
    const order = sql`order by ${list.updatedAt} desc, ${list.id} desc limit ${offset + size}`;
    const merged =
    offset + size <= SHALLOW_RUNS_UP_TO
      ? sql`(select r.id, r.at from unnest(${stateArray(list.state, states)}) s(state) cross join lateral (select ${list.id} as id, ${list.updatedAt} as at from ${list.table} where ${and(where, sql`${list.state} = s.state`)} ${order}) r)`
      : sql`(${sql.join(
          states.map((state) => sql`(select ${list.id} as id, ${list.updatedAt} as at from ${list.table} where ${and(where, eq(list.state, state))} ${order})`),
          sql` union all `,
        )})`;
    const counted = cards ? sql`, ${cards} as cards` : sql``;
    return sql`select array(select id from ${merged} merged order by at desc, id desc offset ${offset} limit ${size})::int[] as ids, ${total ?? cappedSql(list.table, and(where, stateIn(list.state, states)))}::int as total${counted}`;
  };
  const [row] = await executeReused<{ ids: number[]; total: number; cards?: number[] }>(db, statement, reuse === undefined ? undefined : `${reuse}|${page}|${size}`);
  const ids = row!.ids.map(Number);
  const total = capped(Number(row!.total));
  const pages = Math.max(1, Math.ceil(total.n / size));
  // A page past the tab's end (a stale link, a typed number) shows the last page instead of an empty one.
  if (ids.length === 0 && page > pages) return pageByStates(db, list, parts, states, pages, size, reuse);
  return { ids, page, total: total.n, more: total.more, pages, cards: (row!.cards ?? []).map((n) => capped(Number(n))) };
}

/** Statements kept as text and parameters, per database handle, by the caller's key; cleared when full. */
const reused = new WeakMap<object, Map<string, { text: string; params: unknown[] }>>();
const REUSED_UP_TO = 1000;

type Client = { unsafe: (text: string, params: unknown[], options: { prepare: boolean }) => PromiseLike<unknown[]> };

/**
 * `statement()` run as `db.execute` would, or, with a key and on the pool (not inside a transaction),
 * built once per key and run as a named prepared statement: PostgreSQL parses it once per connection.
 */
async function executeReused<T>(pool: DbOrTx, statement: () => SQL, key: string | undefined): Promise<T[]> {
  // Kept statements run with one generic plan (genericPlans): their parameters are the key's own.
  const db = key === undefined ? pool : genericPlans(pool);
  const client = (db as { $client?: Client }).$client;
  if (key === undefined || typeof client?.unsafe !== 'function') return (await db.execute(statement())) as unknown as T[];
  let kept = reused.get(db);
  if (kept === undefined) reused.set(db, (kept = new Map()));
  let query = kept.get(key);
  if (query === undefined) {
    const built = (db as unknown as { dialect: { sqlToQuery: (s: SQL) => { sql: string; params: unknown[] } } }).dialect.sqlToQuery(statement());
    if (kept.size >= REUSED_UP_TO) kept.clear();
    kept.set(key, (query = { text: built.sql, params: built.params }));
  }
  return (await client.unsafe(query.text, query.params, { prepare: true })) as T[];
}

/** A search box's text as an ILIKE pattern for "contains": its own %, _ and \\ taken literally. */
export const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;

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
