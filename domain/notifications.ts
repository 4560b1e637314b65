import { and, count, desc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { notifications, outbox } from '../db/schema/index.ts';

// G11: in-app notifications always; SMS (and later WeChat/email) through the outbox. Both are
// written in the transaction of the change they report.
export type Notice = { title: string; body?: string; link?: string };

export async function notifyUser(tx: DbOrTx, userId: number, notice: Notice): Promise<void> {
  await tx.insert(notifications).values({ userId, title: notice.title, body: notice.body ?? null, link: notice.link ?? null });
}

export async function queueSms(tx: DbOrTx, phone: string, body: string): Promise<void> {
  await tx.insert(outbox).values({ channel: 'sms', recipient: phone, body });
}

export async function latestNotifications(db: DbOrTx, userId: number, limit = 10) {
  return db.select().from(notifications).where(eq(notifications.userId, userId)).orderBy(desc(notifications.id)).limit(limit);
}

export async function unreadCount(db: DbOrTx, userId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(notifications).where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return row?.n ?? 0;
}
