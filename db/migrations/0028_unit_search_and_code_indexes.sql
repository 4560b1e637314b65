-- Issue 14: a graduate's 点击搜索 and the platform's unit list find unit names containing the words
-- through trigrams (pg_trgm, created by 0019), not by reading every unit of the country; a new SMS
-- code retires the subject's open ones through an index, not by reading two days of codes.
CREATE INDEX "employers_name_trgm_idx" ON "employers" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "verification_codes_open_subject_idx" ON "verification_codes" USING btree ("purpose","subject") WHERE consumed_at is null;