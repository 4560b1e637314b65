import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { uploads } from '../../db/schema/index.ts';

/** Uploaded files by id, in the order given (a copy's pages, a 解约函, a destination's proofs): what a page lists of them. */
export async function filesInOrder(db: DbOrTx, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const rows = await db.select({ id: uploads.id, mime: uploads.mime, originalName: uploads.originalName, purpose: uploads.purpose }).from(uploads).where(inArray(uploads.id, [...ids]));
  return ids.map((id) => rows.find((r) => r.id === id)).filter((r) => r !== undefined);
}
