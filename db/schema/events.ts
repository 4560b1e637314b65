import { sql } from 'drizzle-orm';
import { bigserial, doublePrecision, index, inet, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/** The review decisions of the reviewed workflows, as their events name them. */
export const REVIEW_DECISION_ACTIONS = ['agreement.approve', 'agreement.reject', 'agreement.return', 'destination.approve', 'destination.reject', 'destination.return'] as const;

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
    // Seconds since the subject's previous event: for a decision, how long the item had been waiting
    // for it. Written with the row (one index look-up), so the reviewer flags read it from an index.
    secondsSincePrevious: doublePrecision('seconds_since_previous'),
  },
  (t) => [
    index('events_subject_idx').on(t.subjectType, t.subjectId, t.occurredAt),
    // A school's recent review decisions with who made them and how long each item had waited, for
    // the reviewer flags (approvals within seconds) and the usual review time, from the index alone.
    index('events_school_decisions_idx')
      .on(t.schoolId, t.occurredAt, t.action, t.actorUserId, t.secondsSincePrevious)
      .where(sql.raw(`action in (${REVIEW_DECISION_ACTIONS.map((a) => `'${a}'`).join(', ')})`)),
  ],
);
