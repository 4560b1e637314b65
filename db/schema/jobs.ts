import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The last run of each scheduled job: every app process schedules every job, and the one that
 * claims a time slot first runs it (jobs/scheduler.ts), so a run happens once however many
 * processes there are. `ran_by` names the process (host:pid) for whoever looks.
 */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  slot: timestamp('slot', { withTimezone: true }).notNull(),
  ranAt: timestamp('ran_at', { withTimezone: true }).notNull().defaultNow(),
  ranBy: text('ran_by').notNull(),
});
