import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { notifications, outbox } from '../db/schema/index.ts';
import type { Actor } from './auth/sessions.ts';
import { notFound } from './errors.ts';

// G11: in-app notifications always; SMS (and later WeChat/email) through the outbox. Both are
// written in the transaction of the change they report.
export type Notice = { title: string; body?: string; link?: string };

export async function notifyUser(tx: DbOrTx, userId: number, notice: Notice): Promise<void> {
  await tx.insert(notifications).values({ userId, title: notice.title, body: notice.body ?? null, link: notice.link ?? null });
}

export async function queueSms(tx: DbOrTx, phone: string, body: string): Promise<void> {
  await tx.insert(outbox).values({ channel: 'sms', recipient: phone, body });
}

/**
 * The stored link when it is a path on this site, else null. `//host` and `/\host` leave the site
 * in browsers, which also drop tabs and newlines inside a URL, so none of those pass.
 */
export function internalLink(link: string | null): string | null {
  return link !== null && /^\/(?![/\\])[^\\\x00-\x20\x7f]*$/.test(link) ? link : null;
}

const withInternalLink = <T extends { link: string | null }>(n: T): T => ({ ...n, link: internalLink(n.link) });

export async function latestNotifications(db: DbOrTx, userId: number, limit = 10) {
  const rows = await db.select().from(notifications).where(eq(notifications.userId, userId)).orderBy(desc(notifications.id)).limit(limit);
  return rows.map(withInternalLink);
}

export async function unreadCount(db: DbOrTx, userId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(notifications).where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

export const NOTIFICATIONS_PAGE_SIZE = 20;

/** The actor's own notifications, newest first, one page at a time, with the totals. */
export async function listNotifications(db: DbOrTx, actor: Actor, page: number) {
  const own = eq(notifications.userId, actor.userId);
  const [rows, [counts]] = await Promise.all([
    db
      .select()
      .from(notifications)
      .where(own)
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(NOTIFICATIONS_PAGE_SIZE)
      .offset((page - 1) * NOTIFICATIONS_PAGE_SIZE),
    db
      .select({ total: count(), unread: sql<number>`count(*) filter (where ${notifications.readAt} is null)`.mapWith(Number) })
      .from(notifications)
      .where(own),
  ]);
  const total = counts?.total ?? 0;
  return { rows: rows.map(withInternalLink), total, unread: counts?.unread ?? 0, page, pages: Math.max(1, Math.ceil(total / NOTIFICATIONS_PAGE_SIZE)) };
}

/** Marks one of the actor's notifications read (again is harmless); anyone else's is not found. */
export async function markNotificationRead(db: DbOrTx, actor: Actor, id: number) {
  const [row] = await db
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, now())` })
    .where(and(eq(notifications.id, id), eq(notifications.userId, actor.userId)))
    .returning();
  if (!row) throw notFound('消息');
  return withInternalLink(row);
}

export async function markAllNotificationsRead(db: DbOrTx, actor: Actor): Promise<void> {
  await db
    .update(notifications)
    .set({ readAt: sql`now()` })
    .where(and(eq(notifications.userId, actor.userId), isNull(notifications.readAt)));
}
