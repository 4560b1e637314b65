DROP INDEX "terminations_school_state_idx";--> statement-breakpoint
CREATE INDEX "terminations_school_state_updated_idx" ON "terminations" USING btree ("school_id","state","updated_at","id");--> statement-breakpoint
CREATE INDEX "terminations_agreement_idx" ON "terminations" USING btree ("agreement_id","id");