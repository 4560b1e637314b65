import { integer, jsonb, pgTable, primaryKey, smallint, timestamp } from 'drizzle-orm/pg-core';
import { schools } from './tenancy.ts';

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
