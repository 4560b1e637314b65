import { bigserial, index, integer, jsonb, pgEnum, pgTable, serial, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { ROSTER_IMPORT_STATUSES } from '../../domain/graduates/import-statuses.ts';
import { schools } from './tenancy.ts';
import { users } from './users.ts';

export const rosterImportStatusEnum = pgEnum('roster_import_status', ROSTER_IMPORT_STATUSES);

// A roster upload (学生名单导入): processed in the background in batches, progress visible to the
// school while it runs; the uploaded file sits in DATA_DIR until the import is done.
export const rosterImports = pgTable(
  'roster_imports',
  {
    id: serial('id').primaryKey(),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    cohort: smallint('cohort').notNull(),
    uploadedBy: integer('uploaded_by')
      .notNull()
      .references(() => users.id),
    fileName: text('file_name').notNull(),
    storedAs: text('stored_as').notNull(),
    status: rosterImportStatusEnum('status').notNull().default('queued'),
    totalRows: integer('total_rows'),
    processedRows: integer('processed_rows').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    error: text('error'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    // 生源所在地 written as names, and the code each became (name → code), to tell the school.
    regionNames: jsonb('region_names').$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('roster_imports_school_idx').on(t.schoolId, t.createdAt), index('roster_imports_pending_idx').on(t.status)],
);

// One row per rejected spreadsheet row: its number, the reasons, and the row as uploaded.
export const rosterImportErrors = pgTable(
  'roster_import_errors',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    importId: integer('import_id')
      .notNull()
      .references(() => rosterImports.id, { onDelete: 'cascade' }),
    rowNumber: integer('row_number').notNull(),
    reasons: text('reasons').notNull(),
    values: jsonb('values').$type<Record<string, string>>().notNull(),
  },
  (t) => [index('roster_import_errors_import_idx').on(t.importId, t.rowNumber)],
);
