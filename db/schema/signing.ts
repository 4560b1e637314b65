import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every certificate this platform has signed agreement PDFs with (issue 15): /verify calls a
 * signature "this platform's" only when its signer's certificate is one of these, exactly, and not
 * merely one that a trusted CA issued (with SIGNING_P12 that CA issues to others too). Each process
 * adds its certificate at start, so copies signed before a renewal, or by another process, still verify.
 */
export const signingCertificates = pgTable('signing_certificates', {
  /** SHA-256 of the certificate's DER, in hex. */
  sha256: text('sha256').primaryKey(),
  pem: text('pem').notNull(),
  subject: text('subject').notNull(),
  firstUsedAt: timestamp('first_used_at', { withTimezone: true }).notNull().defaultNow(),
});
