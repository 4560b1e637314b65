import { sql } from 'drizzle-orm';
import { check, index, integer, pgEnum, pgTable, text, timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { destinationRegistrations } from './destinations.ts';
import { UPLOAD_PURPOSES } from '../../domain/uploads/purposes.ts';
import { agreements } from './agreements.ts';
import { employers } from './employers.ts';
import { schools } from './tenancy.ts';
import { users } from './users.ts';

export const uploadPurposeEnum = pgEnum('upload_purpose', UPLOAD_PURPOSES);

// Every uploaded file: bytes in the storage (db/storage.ts) under a generated key; here who may see it.
export const uploads = pgTable(
  'uploads',
  {
    id: text('id').primaryKey(),
    purpose: uploadPurposeEnum('purpose').notNull(),
    storageKey: text('storage_key').notNull(),
    mime: text('mime').notNull(),
    byteSize: integer('byte_size').notNull(),
    width: integer('width'),
    height: integer('height'),
    originalName: text('original_name').notNull(),
    // SHA-256 of the file as it was sent (hex), so a proof shared by two graduates is found (reviewer flags).
    sha256: text('sha256'),
    // Null for a file received through an assist link (用人单位协助回传协议书): no user uploaded it.
    uploadedBy: integer('uploaded_by').references(() => users.id),
    employerId: integer('employer_id').references(() => employers.id),
    schoolId: integer('school_id').references(() => schools.id),
    // A page of an agreement (its stamped copy, a paper agreement): visible to whoever sees the agreement.
    agreementId: integer('agreement_id').references(() => agreements.id),
    // A proof of a destination registration: visible to whoever sees the registration.
    destinationId: integer('destination_id').references((): AnyPgColumn => destinationRegistrations.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('uploads_uploaded_by_idx').on(t.uploadedBy),
    index('uploads_agreement_idx').on(t.agreementId),
    index('uploads_destination_idx').on(t.destinationId),
    index('uploads_sha256_idx').on(t.sha256),
    check('uploads_owner', sql`${t.uploadedBy} is not null or ${t.agreementId} is not null`),
  ],
);
