import { sql } from 'drizzle-orm';
import { index, pgEnum, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { EMPLOYER_VERIFICATION_STATUSES } from '../../domain/employers/verification.ts';

export const employerVerificationEnum = pgEnum('employer_verification', EMPLOYER_VERIFICATION_STATUSES);

// One employer (用人单位) per 统一社会信用代码; many users belong to it.
export const employers = pgTable(
  'employers',
  {
    id: serial('id').primaryKey(),
    uscc: text('uscc').notNull().unique(),
    name: text('name').notNull(),
    employerType: text('employer_type').notNull(),
    industry: text('industry').notNull(),
    region: text('region').notNull(),
    address: text('address').notNull(),
    contactName: text('contact_name'),
    contactPhone: text('contact_phone'),
    contactMobile: text('contact_mobile'),
    contactEmail: text('contact_email'),
    verification: employerVerificationEnum('verification').notNull().default('unverified'),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // 点击搜索 (a graduate's unit search) and the platform's unit list find names containing the words
  // (ILIKE '%…%') through trigrams, as the units of a whole country would be too many to read (issue 14).
  (t) => [index('employers_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`)],
);
