DROP INDEX "events_school_occurred_idx";--> statement-breakpoint
DROP INDEX "agreements_school_unit_active_idx";--> statement-breakpoint
DROP INDEX "agreements_unit_active_idx";--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "seconds_since_previous" double precision;--> statement-breakpoint
-- Events written before: the time since the subject's previous event, as writeEvent now records it.
UPDATE "events" e SET "seconds_since_previous" = x.s
  FROM (SELECT id, extract(epoch from occurred_at - lag(occurred_at) over (partition by subject_type, subject_id order by occurred_at, id))::float8 AS s FROM "events") x
 WHERE x.id = e.id AND x.s IS NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ADD COLUMN "unit_uscc" text GENERATED ALWAYS AS (unit_snapshot->>'uscc') STORED;--> statement-breakpoint
CREATE INDEX "events_school_decisions_idx" ON "events" USING btree ("school_id","occurred_at","action","actor_user_id","seconds_since_previous") WHERE action in ('agreement.approve', 'agreement.reject', 'agreement.return', 'destination.approve', 'destination.reject', 'destination.return');--> statement-breakpoint
CREATE INDEX "agreements_school_in_review_idx" ON "agreements" USING btree ("school_id","updated_at") WHERE state in ('department_review', 'school_review', 'agreement_department_review', 'agreement_school_review', 'signing_department_review', 'signing_school_review', 'registration_department_review', 'registration_school_review');--> statement-breakpoint
CREATE INDEX "agreements_school_unit_active_idx" ON "agreements" USING btree ("school_id","unit_uscc","graduate_id") WHERE state in ('department_review', 'school_review', 'signed', 'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'registration_department_review', 'registration_school_review');--> statement-breakpoint
CREATE INDEX "agreements_unit_active_idx" ON "agreements" USING btree ("unit_uscc","school_id") WHERE state in ('department_review', 'school_review', 'signed', 'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'registration_department_review', 'registration_school_review');