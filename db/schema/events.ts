import { bigserial, index, inet, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

// The audit trail (X1): one row per state change, written in the change's own transaction.
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    actorUserId: integer('actor_user_id').references(() => users.id),
    actorRole: text('actor_role'),
    ip: inet('ip'),
    schoolId: integer('school_id'),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    action: text('action').notNull(),
    fromState: text('from_state'),
    toState: text('to_state'),
    reason: text('reason'),
    data: jsonb('data'),
  },
  (t) => [
    index('events_subject_idx').on(t.subjectType, t.subjectId, t.occurredAt),
    // A school's recent events, for the reviewer flags (approvals within seconds of acceptance).
    index('events_school_occurred_idx').on(t.schoolId, t.occurredAt),
  ],
);
