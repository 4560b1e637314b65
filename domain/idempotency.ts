import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { builtOnce, type DbOrTx } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema/index.ts';

// X2: every form a signed-in user submits carries a key; a repeat of the same key (a retry on a
// flaky network, a double click) gets the first answer instead of a second effect.
export type PriorAnswer = { status: number | null; location: string | null };

/** The server gives a request this long to arrive (server.ts sets it on the HTTP server; Node's default). */
export const REQUEST_TIMEOUT_MS = 300_000;
/**
 * An in-progress key this old belongs to a request that is gone. Node bounds only a request's
 * arrival, not its handler, so this is set far past any handler's run (the slowest, a PDF or an
 * upload batch, take seconds): a resubmission never runs beside a first submission still working.
 */
export const ABANDONED_AFTER_MS = 15 * 60_000;

/** Claims the key; returns null when this is the first submission, else what the first one answered. */
export async function claimIdempotencyKey(db: DbOrTx, userId: number, key: string): Promise<PriorAnswer | null> {
  const [claimed] = await claimKey(db).execute({ userId, key });
  if (claimed) return null;
  // A key still "in progress" long after any request could still be running (the server was killed
  // or restarted mid-request) is taken over: the resubmission runs instead of waiting for cleanup.
  const [takenOver] = await db
    .update(idempotencyKeys)
    .set({ createdAt: sql`now()` })
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), isNull(idempotencyKeys.status), lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${ABANDONED_AFTER_MS / 1000})`)))
    .returning({ key: idempotencyKeys.key });
  if (takenOver) return null;
  const [prior] = await db.select({ status: idempotencyKeys.status, location: idempotencyKeys.location }).from(idempotencyKeys).where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
  return prior ?? { status: null, location: null };
}

/** Records the first submission's answer; a refused submission releases the key so the form can be sent again. */
export async function settleIdempotencyKey(db: DbOrTx, userId: number, key: string, status: number, location: string | null): Promise<void> {
  if (status >= 400) await releaseKey(db).execute({ userId, key });
  else await settleKey(db).execute({ userId, key, status, location });
}

// Every form submission claims and settles its key: the two statements are built once (issue 14).
// A repeat's rarer statements (the take-over, the prior answer) are built when used.
const theKey = () => and(eq(idempotencyKeys.userId, sql.placeholder('userId')), eq(idempotencyKeys.key, sql.placeholder('key')));
const claimKey = builtOnce((db) =>
  db
    .insert(idempotencyKeys)
    .values({ userId: sql.placeholder('userId'), key: sql.placeholder('key') })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key })
    .prepare('idempotency_claim'),
);
const settleKey = builtOnce((db) =>
  db
    .update(idempotencyKeys)
    .set({ status: sql`${sql.placeholder('status')}`, location: sql`${sql.placeholder('location')}` })
    .where(theKey())
    .prepare('idempotency_settle'),
);
const releaseKey = builtOnce((db) => db.delete(idempotencyKeys).where(theKey()).prepare('idempotency_release'));
