-- Issue 14: a fold rewrites only the keys with changes appended since the last one (folded = false,
-- as the triggers insert), found through a small partial index, so it can run every 10 seconds: the
-- count cards sum a key's rows, and at a busy school's peak a minute of decisions had left thousands.
ALTER TABLE "agreement_counts" ADD COLUMN "folded" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "agreement_counts_unfolded_idx" ON "agreement_counts" USING btree ("school_id","department_id","kind","state") WHERE not "agreement_counts"."folded";