import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, pgEnum, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { graduates } from './graduates.ts';
import { users } from './users.ts';

export const outboxChannelEnum = pgEnum('outbox_channel', ['sms', 'email', 'wechat']);
export const outboxStatusEnum = pgEnum('outbox_status', ['pending', 'sent', 'failed']);

// In-app notifications (G11): one per recipient user. A notice for a roster graduate who has not
// activated an account yet waits under graduate_id and becomes the account's on activation.
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
    graduateId: integer('graduate_id').references(() => graduates.id),
    title: text('title').notNull(),
    body: text('body'),
    link: text('link'),
    readAt: timestamp('read_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('notifications_user_idx').on(t.userId, t.createdAt),
    // The header's unread count, read by every signed-in page's session look-up.
    index('notifications_unread_idx').on(t.userId).where(sql`read_at is null`),
    index('notifications_waiting_idx').on(t.graduateId).where(sql`user_id is null`),
    check('notifications_recipient', sql`${t.userId} is not null or ${t.graduateId} is not null`),
  ],
);

// Messages leaving the platform (SMS, email, WeChat), queued in the same transaction as their cause
// and sent by the dispatch job with retries.
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channel: outboxChannelEnum('channel').notNull(),
    recipient: text('recipient').notNull(),
    subject: text('subject'),
    body: text('body').notNull(),
    status: outboxStatusEnum('status').notNull().default('pending'),
    attempts: smallint('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`)],
);

// What the dev transport "sent": shown on the 开发邮箱 page instead of reaching a phone or inbox.
export const devMessages = pgTable('dev_messages', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  channel: outboxChannelEnum('channel').notNull(),
  recipient: text('recipient').notNull(),
  subject: text('subject'),
  body: text('body').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
