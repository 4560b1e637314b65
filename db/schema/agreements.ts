import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, jsonb, pgEnum, pgTable, primaryKey, serial, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { GraduateSnapshot, SchoolSnapshot, UnitSnapshot } from '../../domain/agreements/snapshots.ts';
import { ACTIVE_AGREEMENT_STATES, AGREEMENT_KINDS, IN_REVIEW_AGREEMENT_STATES, AGREEMENT_STATES, ARCHIVE_MODES, PENDING_INVITATION_STATES } from '../../domain/agreements/states.ts';
import { employers } from './employers.ts';
import { graduates } from './graduates.ts';
import { departments, schools } from './tenancy.ts';
import { users } from './users.ts';

export const agreementKindEnum = pgEnum('agreement_kind', AGREEMENT_KINDS);
export const agreementStateEnum = pgEnum('agreement_state', AGREEMENT_STATES);
export const archiveModeEnum = pgEnum('archive_mode', ARCHIVE_MODES);

/**
 * How many agreements each school and department holds of each cohort in each kind and state (issue
 * 14), as signed changes: the count cards and tab totals of 在线签约管理 and 补登管理, and 数据统计's
 * signing pipeline (a school's, a department's, every school's for the province), sum these few rows
 * instead of counting thousands of agreements. Statement triggers on agreements (migrations 0022 and
 * 0032) append each statement's net change, so no code path can forget them and no writer waits on
 * another (an upsert of one counter row would lock it until commit); a job folds the changed keys.
 */
export const agreementCounts = pgTable(
  'agreement_counts',
  {
    schoolId: integer('school_id').notNull(),
    departmentId: integer('department_id').notNull(),
    kind: agreementKindEnum('kind').notNull(),
    state: agreementStateEnum('state').notNull(),
    cohort: smallint('cohort').notNull(),
    n: integer('n').notNull(),
    /** A key's folded sum (false: a change appended since), so that a fold touches only the keys that changed. */
    folded: boolean('folded').notNull().default(false),
  },
  (t) => [
    index('agreement_counts_key_idx').on(t.schoolId, t.departmentId, t.kind, t.state, t.cohort),
    index('agreement_counts_unfolded_idx')
      .on(t.schoolId, t.departmentId, t.kind, t.state, t.cohort)
      .where(sql`not ${t.folded}`),
  ],
);

// 学生收藏夹 (E4): graduates an employer added by exact name + ID number + school; locked once added.
export const favourites = pgTable(
  'favourites',
  {
    id: serial('id').primaryKey(),
    employerId: integer('employer_id')
      .notNull()
      .references(() => employers.id),
    graduateId: integer('graduate_id')
      .notNull()
      .references(() => graduates.id),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    cohort: smallint('cohort').notNull(),
    addedBy: integer('added_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // 失效: the graduate left the eligible roster or a key field changed (the roster-change event).
    invalidatedAt: timestamp('invalidated_at', { withTimezone: true }),
    invalidReason: text('invalid_reason'),
  },
  (t) => [
    uniqueIndex('favourites_one_live_per_unit').on(t.employerId, t.graduateId).where(sql`invalidated_at is null`),
    index('favourites_employer_cohort_idx').on(t.employerId, t.cohort),
    index('favourites_graduate_idx').on(t.graduateId),
  ],
);

// Every agreement of a graduate, whatever its kind, so one partial unique index holds G4 across all
// of them. The invitation letter's columns belong to online agreements only (a CHECK says so); the
// terms (position, pay, 户档, supplement) and the unit snapshot belong to every kind. The unit is a
// platform employer (employer_id) or, for offline and registered agreements, possibly a unit the
// graduate typed in, which only the snapshot holds.
export const agreements = pgTable(
  'agreements',
  {
    id: serial('id').primaryKey(),
    kind: agreementKindEnum('kind').notNull(),
    state: agreementStateEnum('state').notNull(),
    // 协议编号 and the verification code printed on the PDF, assigned when the graduate accepts.
    number: text('number'),
    verificationCode: text('verification_code'),
    employerId: integer('employer_id').references(() => employers.id),
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
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // 签约邀请函 (online only): who sent it when, the response window and the 签约联系人.
    invitedBy: integer('invited_by').references(() => users.id),
    invitedAt: timestamp('invited_at', { withTimezone: true }),
    validityDays: smallint('validity_days'),
    deadline: timestamp('deadline', { withTimezone: true }),
    contactName: text('contact_name'),
    contactPhone: text('contact_phone'),
    // The terms (DESIGN.md section 7), every kind.
    positionCategory: text('position_category').notNull(),
    positionName: text('position_name').notNull(),
    probation: text('probation'),
    probationPay: text('probation_pay'),
    regularPay: text('regular_pay'),
    penalty: text('penalty'),
    reportPlace: text('report_place'),
    reportDeadline: date('report_deadline'),
    // 实际工作地点: required in a letter, optional in a graduate's application (the campus edition).
    workPlace: text('work_place'),
    archiveMode: archiveModeEnum('archive_mode').notNull(),
    archive: jsonb('archive').$type<Record<string, string>>(),
    supplement: text('supplement'),
    // What the parties were when the agreement came to be: the unit at invitation, the graduate's
    // confirmed record and the school's handler at acceptance.
    unitSnapshot: jsonb('unit_snapshot').$type<UnitSnapshot>().notNull(),
    // The unit's credit code as a column of its own, so 风险预警's counts read an index alone (an
    // index on the expression cannot answer without visiting every row). Always unit_snapshot->>'uscc',
    // kept so by triggers (migration 0035), not as a generated column: PostgreSQL 18 rebuilds a stored
    // generated column's expression for every row an UPDATE that leaves it alone writes, 6% of the
    // expiry's CPU (issue 14, goal 6).
    unitUscc: text('unit_uscc'),
    graduateSnapshot: jsonb('graduate_snapshot').$type<GraduateSnapshot>(),
    schoolSnapshot: jsonb('school_snapshot').$type<SchoolSnapshot>(),
    respondedAt: timestamp('responded_at', { withTimezone: true }),
    signedAt: timestamp('signed_at', { withTimezone: true }),
    reviewReason: text('review_reason'),
    invalidReason: text('invalid_reason'),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    // The pages of the stamped agreement (offline: the copy the unit stamped; 补登: the paper
    // agreement), the latest set; earlier sets stay in uploads under this agreement.
    copyUploadIds: text('copy_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Partial: the many invitations without a number (pending, expired, declined) take no entry,
    // so expiring them writes one index fewer.
    uniqueIndex('agreements_number_key').on(t.number).where(sql`number is not null`),
    // G4 / X4: at most one active agreement per graduate, enforced by the database.
    uniqueIndex('agreements_one_active_per_graduate').on(t.graduateId).where(sql.raw(`state in (${ACTIVE_AGREEMENT_STATES.map((s) => `'${s}'`).join(', ')})`)),
    // G6: one pending invitation per unit and graduate.
    uniqueIndex('agreements_one_pending_invitation').on(t.employerId, t.graduateId).where(sql.raw(`state = '${PENDING_INVITATION_STATES[0]}'`)),
    // X3: the expiry job reads the due invitations' ids from this alone (an index-only scan), before
    // it expires them in batches side by side.
    index('agreements_pending_deadline_idx').on(t.deadline, t.id).where(sql.raw(`state = '${PENDING_INVITATION_STATES[0]}'`)),
    // 在线签约管理 and 补登管理 (issue 14): each state of a tab read newest first from here and merged
    // (domain/paging.ts), so a page costs its rows at a million agreements, not a sort of the school's.
    // Its (school, state) prefix serves what the former agreements_school_state_idx did.
    index('agreements_school_state_updated_idx').on(t.schoolId, t.state, t.updatedAt, t.id),
    // No index here serves a search by unit name or 数据统计's counts (agreement_unit_names and
    // agreement_counts do): every index of this table takes an entry for each new row version, and
    // the expiry of a busy deadline hour (X3) writes tens of thousands of them (issue 14, goal 6).
    index('agreements_employer_state_idx').on(t.employerId, t.state),
    index('agreements_graduate_idx').on(t.graduateId),
    // 风险预警: a unit's standing agreements by its credit code, whichever way they were made — per
    // school with the graduates (how many of ours), and across schools (does it hire elsewhere?).
    index('agreements_school_unit_active_idx')
      .on(t.schoolId, t.unitUscc, t.graduateId)
      .where(sql.raw(`state in (${ACTIVE_AGREEMENT_STATES.map((s) => `'${s}'`).join(', ')})`)),
    index('agreements_unit_active_idx')
      .on(t.unitUscc, t.schoolId)
      .where(sql.raw(`state in (${ACTIVE_AGREEMENT_STATES.map((s) => `'${s}'`).join(', ')})`)),
    // 风险预警: what has waited long for a reviewer, oldest first, without reading the school's other agreements.
    index('agreements_school_in_review_idx')
      .on(t.schoolId, t.updatedAt)
      .where(sql.raw(`state in (${IN_REVIEW_AGREEMENT_STATES.map((s) => `'${s}'`).join(', ')})`)),
    check(
      'agreements_online_letter',
      sql`${t.kind} <> 'online' or (${t.employerId} is not null and ${t.invitedAt} is not null and ${t.validityDays} is not null and ${t.deadline} is not null and ${t.contactName} is not null and ${t.contactPhone} is not null and ${t.workPlace} is not null)`,
    ),
  ],
);

/**
 * The unit name of each agreement (its snapshot's), for the reviewers' search by unit name: trigrams
 * (pg_trgm; Chinese too, the database being UTF-8), so '%name%' of three or more characters finds
 * its agreements without reading the school's million. Kept by triggers on agreements (migration
 * 0032), on insert, on an update that names unit_snapshot and on delete, so a change of state (an
 * expiry, a decision) writes nothing here: on agreements the trigram index took an entry for every
 * new row version, a fifth of the expiry's work with the 数据统计 index (issue 14, goal 6).
 */
export const agreementUnitNames = pgTable(
  'agreement_unit_names',
  {
    agreementId: integer('agreement_id').primaryKey(),
    schoolId: integer('school_id').notNull(),
    name: text('name').notNull(),
  },
  (t) => [index('agreement_unit_names_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`)],
);

// The serial part of 协议编号, per school and cohort.
export const agreementCounters = pgTable(
  'agreement_counters',
  {
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    cohort: smallint('cohort').notNull(),
    last: integer('last').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.schoolId, t.cohort] })],
);

// What a graduate is filling in for an application (offline signing, 补登) before 提交, or again
// after 撤回修改 / 退回修改: 暂存 keeps it here; the pages uploaded so far come with it.
export const agreementDrafts = pgTable(
  'agreement_drafts',
  {
    graduateId: integer('graduate_id')
      .notNull()
      .references(() => graduates.id),
    kind: agreementKindEnum('kind').notNull(),
    values: jsonb('values').$type<Record<string, string>>().notNull(),
    pageUploadIds: text('page_upload_ids').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.graduateId, t.kind] })],
);

// 用人单位协助回传协议书: a link sent by SMS to the unit's contact, to download the agreement and
// upload the stamped copy without an account. Only the token's SHA-256 is kept; single-use,
// expiring, and revoked when a new one is sent.
export const assistLinks = pgTable(
  'assist_links',
  {
    id: serial('id').primaryKey(),
    agreementId: integer('agreement_id')
      .notNull()
      .references(() => agreements.id),
    tokenHash: text('token_hash').notNull().unique(),
    phone: text('phone').notNull(),
    createdBy: integer('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('assist_links_agreement_idx').on(t.agreementId)],
);

// The letter an employer sent last, to pre-fill the next one (E5).
export const invitationDrafts = pgTable('invitation_drafts', {
  employerId: integer('employer_id')
    .primaryKey()
    .references(() => employers.id),
  values: jsonb('values').$type<Record<string, string>>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
