import { sql } from 'drizzle-orm';
import { VERIFICATION_PURPOSES } from '../../domain/auth/verification-purposes.ts';
import { bigserial, index, inet, pgEnum, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';

export const verificationPurposeEnum = pgEnum('verification_purpose', VERIFICATION_PURPOSES);

// 6-digit SMS codes: only a hash is stored; each code expires, allows a few attempts, is used once.
export const verificationCodes = pgTable(
  'verification_codes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    purpose: verificationPurposeEnum('purpose').notNull(),
    phone: text('phone').notNull(),
    // What the code unlocks, e.g. `graduate:42` or `user:7`; checked again when it is used.
    subject: text('subject').notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: smallint('attempts').notNull().default(0),
    ip: inet('ip'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('verification_codes_phone_idx').on(t.purpose, t.phone, t.createdAt),
    index('verification_codes_ip_idx').on(t.ip, t.createdAt),
    // A new code retires the subject's open ones (issue 14: that had read every code of two days).
    index('verification_codes_open_subject_idx')
      .on(t.purpose, t.subject)
      .where(sql`consumed_at is null`),
  ],
);
