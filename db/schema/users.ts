import { sql } from 'drizzle-orm';
import { boolean, index, inet, integer, pgEnum, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { ATTEMPT_PURPOSES } from '../../domain/auth/attempt-purposes.ts';
import { PORTALS, ROLES } from '../../domain/auth/roles.ts';
import { employers } from './employers.ts';
import { graduates } from './graduates.ts';
import { departments, provinces, schools } from './tenancy.ts';

export const roleEnum = pgEnum('role', ROLES);
export const portalEnum = pgEnum('portal', PORTALS);
export const attemptPurposeEnum = pgEnum('attempt_purpose', ATTEMPT_PURPOSES);

// Every account of every portal. `login` is what the user types: a username, an employer's phone,
// or a graduate's ID number; it is unique within a portal. Tenant links say what the user may see.
export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    role: roleEnum('role').notNull(),
    portal: portalEnum('portal').notNull(),
    login: text('login').notNull(),
    phone: text('phone'),
    email: text('email'),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    provinceId: integer('province_id').references(() => provinces.id),
    schoolId: integer('school_id').references(() => schools.id),
    departmentId: integer('department_id').references(() => departments.id),
    employerId: integer('employer_id').references(() => employers.id),
    graduateId: integer('graduate_id').references(() => graduates.id),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_portal_login_key').on(t.portal, t.login),
    index('users_portal_phone_idx').on(t.portal, t.phone),
    // Who hears of a change (notify.ts, the expiry): a graduate's account, a unit's, a department's
    // or a school's reviewers. Without these every notice read every account (issue 14).
    index('users_graduate_idx')
      .on(t.graduateId)
      .where(sql`${t.graduateId} is not null`),
    index('users_employer_idx')
      .on(t.employerId)
      .where(sql`${t.employerId} is not null`),
    index('users_school_role_idx')
      .on(t.schoolId, t.role)
      .where(sql`${t.schoolId} is not null`),
    index('users_department_role_idx')
      .on(t.departmentId, t.role)
      .where(sql`${t.departmentId} is not null`),
  ],
);

// Lucia-guide sessions: the cookie holds a random token, the table only its SHA-256.
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    ip: inet('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

// Every sign-in attempt; failures within a window limit further attempts per account and per IP.
export const loginAttempts = pgTable(
  'login_attempts',
  {
    id: serial('id').primaryKey(),
    purpose: attemptPurposeEnum('purpose').notNull().default('sign_in'),
    portal: portalEnum('portal'),
    accountKey: text('account_key').notNull(),
    ip: inet('ip'),
    succeeded: boolean('succeeded').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('login_attempts_account_idx').on(t.portal, t.accountKey, t.createdAt),
    index('login_attempts_ip_idx').on(t.purpose, t.ip, t.createdAt),
  ],
);

// Image captchas (S1): the page embeds the id, the answer never leaves the server; used once.
export const captchas = pgTable('captchas', {
  id: text('id').primaryKey(),
  answer: text('answer').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});
