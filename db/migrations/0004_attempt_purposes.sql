CREATE TYPE "public"."attempt_purpose" AS ENUM('sign_in', 'roster_lookup', 'agreement_verify');--> statement-breakpoint
DROP INDEX "login_attempts_ip_idx";--> statement-breakpoint
ALTER TABLE "login_attempts" ALTER COLUMN "portal" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "login_attempts" ADD COLUMN "purpose" "attempt_purpose" DEFAULT 'sign_in' NOT NULL;--> statement-breakpoint
CREATE INDEX "login_attempts_ip_idx" ON "login_attempts" USING btree ("purpose","ip","created_at");