import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgEnum, pgTable, serial, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { OPEN_TERMINATION_STATES, TERMINATION_INITIATORS, TERMINATION_PATHS, TERMINATION_STATES } from '../../domain/terminations/states.ts';
import { agreements } from './agreements.ts';
import { employers } from './employers.ts';
import { graduates } from './graduates.ts';
import { departments, schools } from './tenancy.ts';
import { users } from './users.ts';

export const terminationStateEnum = pgEnum('termination_state', TERMINATION_STATES);
export const terminationInitiatorEnum = pgEnum('termination_initiator', TERMINATION_INITIATORS);
export const terminationPathEnum = pgEnum('termination_path', TERMINATION_PATHS);

// 解约: each application to end a signed agreement, whoever started it and however it ended. The
// agreement itself becomes 已解约 when one of these ends so; a failed one leaves it valid.
export const terminations = pgTable(
  'terminations',
  {
    id: serial('id').primaryKey(),
    agreementId: integer('agreement_id')
      .notNull()
      .references(() => agreements.id),
    path: terminationPathEnum('path').notNull(),
    initiator: terminationInitiatorEnum('initiator').notNull(),
    state: terminationStateEnum('state').notNull(),
    // The agreement's parties and tenant, copied so that lists and limits read one table.
    graduateId: integer('graduate_id')
      .notNull()
      .references(() => graduates.id),
    employerId: integer('employer_id').references(() => employers.id),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    departmentId: integer('department_id')
      .notNull()
      .references(() => departments.id),
    cohort: smallint('cohort').notNull(),
    requestedBy: integer('requested_by')
      .notNull()
      .references(() => users.id),
    /** 解约原因, as the initiator wrote it. */
    reason: text('reason').notNull(),
    /** The other party's answer when it is 不同意. */
    answerReason: text('answer_reason'),
    reviewReason: text('review_reason'),
    /** 解约函 and other pages (offline); the school's evidence of a 强制解约. */
    letterUploadIds: text('letter_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    evidenceUploadIds: text('evidence_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    /** 强制解约 by the school (school guide 7.1). */
    forced: boolean('forced').notNull().default(false),
    /** 学生单方面解约: approved without the unit (school guide 7.2). */
    unilateral: boolean('unilateral').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('terminations_one_open_per_agreement').on(t.agreementId).where(sql.raw(`state in (${OPEN_TERMINATION_STATES.map((s) => `'${s}'`).join(', ')})`)),
    // 解约管理 pages by tab, newest activity first (read backwards), without sorting a whole tab.
    index('terminations_school_state_updated_idx').on(t.schoolId, t.state, t.updatedAt, t.id),
    // An agreement's terminations: its parties' pages and the employer's 解约 tabs look them up.
    index('terminations_agreement_idx').on(t.agreementId, t.id),
    index('terminations_employer_idx').on(t.employerId, t.state),
    index('terminations_graduate_idx').on(t.graduateId, t.cohort),
  ],
);
