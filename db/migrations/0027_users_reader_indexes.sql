-- Issue 14: the statements that tell someone of a change (domain/agreements/notify.ts, the expiry's
-- notices, the termination digest) look up accounts by graduate, unit, department or school; without
-- these each read every account, and graduates who activate theirs make that a province's million rows.
CREATE INDEX "users_graduate_idx" ON "users" USING btree ("graduate_id") WHERE "users"."graduate_id" is not null;--> statement-breakpoint
CREATE INDEX "users_employer_idx" ON "users" USING btree ("employer_id") WHERE "users"."employer_id" is not null;--> statement-breakpoint
CREATE INDEX "users_school_role_idx" ON "users" USING btree ("school_id","role") WHERE "users"."school_id" is not null;--> statement-breakpoint
CREATE INDEX "users_department_role_idx" ON "users" USING btree ("department_id","role") WHERE "users"."department_id" is not null;