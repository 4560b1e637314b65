import { count, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
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
