import { bigint, boolean, integer, pgEnum, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { AGREEMENT_TYPES, REVIEW_MODES } from '../../domain/tenancy/agreement-types.ts';

export const agreementTypeEnum = pgEnum('agreement_type', AGREEMENT_TYPES);
export const reviewModeEnum = pgEnum('review_mode', REVIEW_MODES);

export const provinces = pgTable('provinces', {
  id: serial('id').primaryKey(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  agreementType: agreementTypeEnum('agreement_type').notNull().default('three_party'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const schools = pgTable('schools', {
  id: serial('id').primaryKey(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  provinceId: integer('province_id')
    .notNull()
    .references(() => provinces.id),
  // S4 signing settings; printed on agreements.
  onlineSigning: boolean('online_signing').notNull().default(false),
  paperRegistration: boolean('paper_registration').notNull().default(false),
  destinationRegistration: boolean('destination_registration').notNull().default(false),
  reviewMode: reviewModeEnum('review_mode').notNull().default('school_only'),
  maxTerminations: integer('max_terminations').notNull().default(1),
  handlerName: text('handler_name'),
  handlerPhone: text('handler_phone'),
  address: text('address'),
  postcode: text('postcode'),
  /**
   * Raised by triggers (migration 0020) whenever what the app caches per school changes: its roster's
   * cohorts, departments and majors, its departments' names, its settings, its province's agreement type. The session
   * look-up reads it, so every process drops a stale cache entry on the next request.
   */
  cacheVersion: bigint('cache_version', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const departments = pgTable(
  'departments',
  {
    id: serial('id').primaryKey(),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('departments_school_name_key').on(t.schoolId, t.name)],
);
