import { and, asc, eq, lte, sql } from 'drizzle-orm';
import { outbox } from '../db/schema/index.ts';
import type { Transport } from './transports/types.ts';
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

// Sends due outbox messages; rows are locked with SKIP LOCKED so two runs never send one twice.
export function dispatchOutboxJob(transports: Record<'sms' | 'email' | 'wechat', Transport>): Job {
  return {
    name: 'dispatch-outbox',
    schedule: '*/10 * * * * *',
    async run(tx) {
      const due = await tx
        .select()
        .from(outbox)
        .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql`now()`)))
        .orderBy(asc(outbox.nextAttemptAt))
        .limit(BATCH)
        .for('update', { skipLocked: true });
      let sent = 0;
      let failed = 0;
      for (const m of due) {
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
      }
      return { sent, failed };
    },
  };
}
