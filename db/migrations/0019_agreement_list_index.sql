-- 在线签约管理 at a million agreements (issue 14). pg_trgm ships with PostgreSQL's contrib (and the
-- embedded server) and is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
DROP INDEX "agreements_school_state_idx";--> statement-breakpoint
CREATE INDEX "agreements_school_state_updated_idx" ON "agreements" USING btree ("school_id","state","updated_at","id");--> statement-breakpoint
CREATE INDEX "agreements_unit_name_trgm_idx" ON "agreements" USING gin (("unit_snapshot"->>'name') gin_trgm_ops);