-- Issue 14, goal 6: the expiry reads the ids of the due invitations from the partial index on pending
-- deadlines alone (an index-only scan), then expires them in batches side by side by id, instead of
-- each batch finding and locking its rows through the index and the table (FOR UPDATE SKIP LOCKED).
-- Only the invitations pending now have entries, so the index stays small.
DROP INDEX "agreements_pending_deadline_idx";--> statement-breakpoint
CREATE INDEX "agreements_pending_deadline_idx" ON "agreements" USING btree ("deadline","id") WHERE state = 'invited';
