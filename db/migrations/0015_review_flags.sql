ALTER TABLE "uploads" ADD COLUMN "sha256" text;--> statement-breakpoint
CREATE INDEX "events_school_occurred_idx" ON "events" USING btree ("school_id","occurred_at");--> statement-breakpoint
CREATE INDEX "uploads_sha256_idx" ON "uploads" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "agreements_school_cohort_kind_state_idx" ON "agreements" USING btree ("school_id","cohort","kind","state","department_id");--> statement-breakpoint
CREATE INDEX "agreements_unit_uscc_idx" ON "agreements" USING btree (("unit_snapshot"->>'uscc'));