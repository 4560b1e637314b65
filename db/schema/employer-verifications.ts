import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgEnum, pgTable, serial, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { OPEN_VERIFICATION_STATES, VERIFICATION_METHODS, VERIFICATION_STATES } from '../../domain/employers/verification/states.ts';
import { WARNING_CATEGORIES } from '../../domain/employers/warning-categories.ts';
import { employers } from './employers.ts';
import { uploads } from './uploads.ts';
import { users } from './users.ts';

export const verificationMethodEnum = pgEnum('employer_verification_method', VERIFICATION_METHODS);
export const verificationStateEnum = pgEnum('employer_verification_state', VERIFICATION_STATES);

// E2 身份认证: what a user submitted about self and unit, the evidence, the remittance, the decision.
export const employerVerifications = pgTable(
  'employer_verifications',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    // The unit this application is about once known: the verified unit being joined, or the unit
    // created or confirmed on approval.
    employerId: integer('employer_id').references(() => employers.id),
    method: verificationMethodEnum('method').notNull(),
    state: verificationStateEnum('state').notNull().default('submitted'),
    applicantName: text('applicant_name').notNull(),
    applicantPosition: text('applicant_position'),
    applicantEmail: text('applicant_email'),
    unitName: text('unit_name').notNull(),
    uscc: text('uscc').notNull(),
    // A failed check digit warns and flags the case for the reviewer; it does not block (codes.md).
    usccCheckPassed: boolean('uscc_check_passed').notNull(),
    employerType: text('employer_type').notNull(),
    industry: text('industry').notNull(),
    region: text('region').notNull(),
    address: text('address').notNull(),
    contactName: text('contact_name').notNull(),
    contactPhone: text('contact_phone'),
    contactMobile: text('contact_mobile').notNull(),
    contactEmail: text('contact_email'),
    bankAccount: text('bank_account'),
    bankName: text('bank_name'),
    remittanceCents: smallint('remittance_cents'),
    remittanceAttempts: smallint('remittance_attempts').notNull().default(0),
    remittanceSentAt: timestamp('remittance_sent_at', { withTimezone: true }),
    licenceUploadId: text('licence_upload_id').references(() => uploads.id),
    authorizationUploadId: text('authorization_upload_id')
      .notNull()
      .references(() => uploads.id),
    reviewedBy: integer('reviewed_by').references(() => users.id),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('employer_verifications_one_open_per_user').on(t.userId).where(sql.raw(`state in (${OPEN_VERIFICATION_STATES.map((s) => `'${s}'`).join(', ')})`)),
    index('employer_verifications_queue_idx').on(t.state, t.createdAt),
    index('employer_verifications_uscc_idx').on(t.uscc),
  ],
);

// 户档信息管理 (E7): one record per unit, shared and editable by all its users; the edit history is
// the event rows of subject 'employer_archive'.
export const employerArchives = pgTable('employer_archives', {
  employerId: integer('employer_id')
    .primaryKey()
    .references(() => employers.id),
  archiveUnit: text('archive_unit').notNull(),
  archiveAddress: text('archive_address').notNull(),
  archivePostcode: text('archive_postcode').notNull(),
  archiveContact: text('archive_contact').notNull(),
  archivePhone: text('archive_phone').notNull(),
  hukouAddress: text('hukou_address').notNull(),
  updatedBy: integer('updated_by')
    .notNull()
    .references(() => users.id),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const warningCategoryEnum = pgEnum('warning_category', WARNING_CATEGORIES);

// 预警单位 (S10): a school's mark on a unit; one per school and unit.
export const warningMarks = pgTable(
  'warning_marks',
  {
    id: serial('id').primaryKey(),
    schoolId: integer('school_id').notNull(),
    employerId: integer('employer_id')
      .notNull()
      .references(() => employers.id),
    category: warningCategoryEnum('category').notNull(),
    note: text('note'),
    createdBy: integer('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('warning_marks_school_employer_key').on(t.schoolId, t.employerId), index('warning_marks_employer_idx').on(t.employerId)],
);
