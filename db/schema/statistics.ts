import { index, integer, jsonb, pgEnum, pgTable, primaryKey, serial, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { schools } from './tenancy.ts';
import { users } from './users.ts';

// The figures of each school and cohort that the province's and the platform's 数据统计 list side by
// side, refreshed by the statistics job (domain/statistics/overview.ts) with the time shown on the
// page. A school's own page counts live; across a thousand schools a live count of a million
// graduates and three million agreements would take seconds per view (npm run bench measures both).
export const schoolFigures = pgTable(
  'school_figures',
  {
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    cohort: smallint('cohort').notNull(),
    graduates: integer('graduates').notNull(),
    placed: integer('placed').notNull(),
    /** Graduates per 毕业去向 code ('' = 未登记). */
    byCode: jsonb('by_code').$type<Record<string, number>>().notNull(),
    /** Agreements per path and pipeline stage. */
    pipeline: jsonb('pipeline').$type<Record<string, Record<string, number>>>().notNull(),
    refreshedAt: timestamp('refreshed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.schoolId, t.cohort] })],
);

export const ministryExportStatusEnum = pgEnum('ministry_export_status', ['queued', 'running', 'done', 'failed', 'expired']);

// 导出就业方案 (the Ministry reporting system's per-graduate format, domain/statistics/ministry.ts):
// written in the background to a file under DATA_DIR with its progress here, downloadable by the
// school for a day, then deleted (it holds every graduate's ID number). Each download is an event.
export const ministryExports = pgTable(
  'ministry_exports',
  {
    id: serial('id').primaryKey(),
    schoolId: integer('school_id')
      .notNull()
      .references(() => schools.id),
    cohort: smallint('cohort').notNull(),
    requestedBy: integer('requested_by')
      .notNull()
      .references(() => users.id),
    status: ministryExportStatusEnum('status').notNull().default('queued'),
    totalRows: integer('total_rows'),
    processedRows: integer('processed_rows').notNull().default(0),
    storedAs: text('stored_as'),
    bytes: integer('bytes'),
    error: text('error'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('ministry_exports_school_idx').on(t.schoolId, t.createdAt), index('ministry_exports_pending_idx').on(t.status)],
);
