import { and, asc, eq, lte, sql } from 'drizzle-orm';
import { outbox } from '../db/schema/index.ts';
import type { Transport } from './transports/types.ts';
import type { Db, Tx } from '../db/client.ts';
import type { Job } from './scheduler.ts';

export const MAX_ATTEMPTS = 8;
const BATCH = 50;

/** Backoff after the n-th failed attempt: 1, 2, 4 … minutes, at most 4 hours. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000 * 2 ** (attempts - 1), 4 * 60 * 60 * 1000);
}

/** A message's body without the tokens of the links it carried. */
export function redactLinks(body: string): string {
  return body.replace(/\/assist\/[A-Za-z0-9_-]+/g, '/assist/（已发送）');
}

/** A run sends batch after batch while messages are due, for at most this long (the job is due every 2 s). */
const RUN_BUDGET_MS = 1_500;
/** Recipients of a batch sent to at once: a gateway's round trip is tens to hundreds of milliseconds. */
const SENDING_AT_ONCE = 5;

// Sends due outbox messages; rows are locked with SKIP LOCKED so two runs never send one twice.
// A run goes on while messages are due (issue 14): one batch of 50 a run capped the outbox at five
// messages a second, below a school's pace of decisions at a busy hour, and the queue only grew. Each
// batch is claimed, sent and marked in a transaction of its own on `db`, so none holds its rows (and a
// connection) for the whole run; the run's own transaction holds only the job's lock.
export function dispatchOutboxJob(transports: Record<'sms' | 'email' | 'wechat', Transport>, db: Db): Job {
  return {
    name: 'dispatch-outbox',
    // Often, so a busy hour's messages go out a few at a time rather than in one burst that holds up pages.
    schedule: '*/2 * * * * *',
    async run() {
      const started = Date.now();
      let sent = 0;
      let failed = 0;
      for (;;) {
        const batch = await db.transaction((tx) => sendBatch(tx, transports));
        sent += batch.sent;
        failed += batch.failed;
        if (batch.sent + batch.failed < BATCH || Date.now() - started > RUN_BUDGET_MS) return { sent, failed };
      }
    },
  };
}

async function sendBatch(tx: Tx, transports: Record<'sms' | 'email' | 'wechat', Transport>): Promise<{ sent: number; failed: number }> {
  const due = await tx
    .select()
    .from(outbox)
    .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql`now()`)))
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(BATCH)
    .for('update', { skipLocked: true });
  let sent = 0;
  let failed = 0;
  const deliver = async (m: (typeof due)[number]) => {
    try {
      await transports[m.channel].send({ channel: m.channel, recipient: m.recipient, subject: m.subject, body: m.body });
      // A capability link (用人单位协助回传协议书) is the recipient's alone: once sent, the outbox keeps no copy.
      await tx.update(outbox).set({ status: 'sent', sentAt: new Date(), attempts: m.attempts + 1, body: redactLinks(m.body) }).where(eq(outbox.id, m.id));
      sent++;
    } catch (e) {
      const attempts = m.attempts + 1;
      failed++;
      await tx
        .update(outbox)
        .set({
          attempts,
          lastError: String(e).slice(0, 500),
          status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
          nextAttemptAt: sql`now() + ${`${retryDelayMs(attempts)} milliseconds`}::interval`,
        })
        .where(eq(outbox.id, m.id));
    }
  };
  // A few recipients at a time; one recipient's messages one after another, in the order they became due.
  const byRecipient = new Map<string, typeof due>();
  for (const m of due) {
    const queue = byRecipient.get(m.recipient);
    if (queue) queue.push(m);
    else byRecipient.set(m.recipient, [m]);
  }
  const queues = [...byRecipient.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SENDING_AT_ONCE, queues.length) }, async () => {
      while (next < queues.length) for (const m of queues[next++]!) await deliver(m);
    }),
  );
  return { sent, failed };
}
