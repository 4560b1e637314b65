-- 身份证号 at rest. The column keeps the old plain numbers until the start-up seals them
-- (domain/graduates/id-numbers-at-rest.ts, run by migrateDatabase), which then validates the check;
-- new rows must be sealed from now on. The masked form lists show is filled here already.
ALTER TABLE "graduates" RENAME COLUMN "id_number" TO "id_number_sealed";--> statement-breakpoint
DROP INDEX "graduates_school_cohort_id_number_key";--> statement-breakpoint
DROP INDEX "graduates_id_number_idx";--> statement-breakpoint
ALTER TABLE "graduates" ADD COLUMN "id_number_index" text;--> statement-breakpoint
ALTER TABLE "graduates" ADD COLUMN "id_number_masked" text;--> statement-breakpoint
UPDATE "graduates" SET "id_number_masked" = CASE WHEN length("id_number_sealed") = 18 THEN left("id_number_sealed", 6) || '********' || right("id_number_sealed", 4) ELSE repeat('*', length("id_number_sealed")) END;--> statement-breakpoint
ALTER TABLE "graduates" ALTER COLUMN "id_number_masked" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "graduates_school_cohort_id_number_key" ON "graduates" USING btree ("school_id","cohort","id_number_index");--> statement-breakpoint
CREATE INDEX "graduates_id_number_idx" ON "graduates" USING btree ("id_number_index");--> statement-breakpoint
ALTER TABLE "graduates" ADD CONSTRAINT "graduates_id_number_sealed_check" CHECK ("graduates"."id_number_sealed" like 'v1:%' and "graduates"."id_number_index" is not null) NOT VALID;
