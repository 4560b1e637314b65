import { index, integer, pgEnum, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { UPLOAD_PURPOSES } from '../../domain/uploads/purposes.ts';
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
    uploadedBy: integer('uploaded_by')
      .notNull()
      .references(() => users.id),
    employerId: integer('employer_id').references(() => employers.id),
    schoolId: integer('school_id').references(() => schools.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('uploads_uploaded_by_idx').on(t.uploadedBy)],
);
