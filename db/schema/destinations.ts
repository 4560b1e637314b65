import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, primaryKey, serial, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { DESTINATION_STATES, LIVE_DESTINATION_STATES, VOID_CAUSES } from '../../domain/destinations/states.ts';
import type { Details } from '../../domain/destinations/types.ts';
import { graduates } from './graduates.ts';
import { departments, schools } from './tenancy.ts';

export const destinationStateEnum = pgEnum('destination_state', DESTINATION_STATES);
export const voidCauseEnum = pgEnum('destination_void_cause', VOID_CAUSES);

// 无需就业协议去向登记 (graduate guide 6, school guide 8): each registration of a destination other
// than an employment agreement, with its type (domain/destinations/types.ts), the 毕业去向 code it
// counts as, its fields and its proof.
export const destinationRegistrations = pgTable(
  'destination_registrations',
  {
    id: serial('id').primaryKey(),
    state: destinationStateEnum('state').notNull(),
    graduateId: integer('graduate_id')
      .notNull()
      .references(() => graduates.id),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    departmentId: integer('department_id')
      .notNull()
      .references(() => departments.id),
    cohort: smallint('cohort').notNull(),
    /** A key of DESTINATION_TYPES. */
    type: text('type').notNull(),
    /** The 毕业去向 code the type counts as (codes.md), kept for lists, statistics and the export. */
    code: text('code').notNull(),
    details: jsonb('details').$type<Details>().notNull(),
    proofUploadIds: text('proof_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    reviewReason: text('review_reason'),
    voidCause: voidCauseEnum('void_cause'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // G10: one standing registration per graduate; another needs the approved one voided first.
    uniqueIndex('destination_registrations_one_live_per_graduate').on(t.graduateId).where(sql.raw(`state in (${LIVE_DESTINATION_STATES.map((s) => `'${s}'`).join(', ')})`)),
    // A graduate's registrations, latest first (the home's card reads them on every visit).
    index('destination_registrations_graduate_idx').on(t.graduateId, t.id),
    // 去向登记管理 pages by tab, newest activity first. The type and the department ride at the end
    // (issue 14): a tab filtered by type, and a department's tab, are then read from the index alone,
    // not from a heap fetch per row of the tab (a million registrations: the count of 去向登记审核中
    // by type 24 → 6.5 ms). After the unique id they do not change the order.
    index('destination_registrations_school_state_updated_idx').on(t.schoolId, t.state, t.updatedAt, t.id, t.type, t.departmentId),
  ],
);

// What a graduate is filling in (暂存), or editing again after 撤回修改 / 退回修改: the type, the
// fields as typed and the proof uploaded so far.
export const destinationDrafts = pgTable(
  'destination_drafts',
  {
    graduateId: integer('graduate_id')
      .notNull()
      .references(() => graduates.id),
    type: text('type').notNull(),
    values: jsonb('values').$type<Record<string, string>>().notNull(),
    proofUploadIds: text('proof_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.graduateId] })],
);

// Each graduate's current 毕业去向 (code; null or no row = 未登记): a projection kept by every change
// that moves it, in that change's transaction (domain/destinations/current.ts). Statistics and the
// Ministry export read it; nothing recomputes it per page.
export const graduateDestinations = pgTable(
  'graduate_destinations',
  {
    graduateId: integer('graduate_id')
      .primaryKey()
      .references(() => graduates.id),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    code: text('code'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('graduate_destinations_school_code_idx').on(t.schoolId, t.code)],
);
