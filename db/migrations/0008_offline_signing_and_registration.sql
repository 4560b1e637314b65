ALTER TYPE "public"."attempt_purpose" ADD VALUE 'assist_link';--> statement-breakpoint
ALTER TYPE "public"."upload_purpose" ADD VALUE 'agreement_copy';--> statement-breakpoint
ALTER TYPE "public"."upload_purpose" ADD VALUE 'paper_agreement';--> statement-breakpoint
CREATE TABLE "agreement_drafts" (
	"graduate_id" integer NOT NULL,
	"kind" "agreement_kind" NOT NULL,
	"values" jsonb NOT NULL,
	"page_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agreement_drafts_graduate_id_kind_pk" PRIMARY KEY("graduate_id","kind")
);
--> statement-breakpoint
CREATE TABLE "assist_links" (
	"id" serial PRIMARY KEY NOT NULL,
	"agreement_id" integer NOT NULL,
	"token_hash" text NOT NULL,
	"phone" text NOT NULL,
	"created_by" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "assist_links_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "uploads" ALTER COLUMN "uploaded_by" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "agreement_id" integer;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_agreement_id_agreements_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."agreements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD COLUMN "copy_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "agreement_drafts" ADD CONSTRAINT "agreement_drafts_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assist_links" ADD CONSTRAINT "assist_links_agreement_id_agreements_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."agreements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assist_links" ADD CONSTRAINT "assist_links_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assist_links_agreement_idx" ON "assist_links" USING btree ("agreement_id");--> statement-breakpoint
CREATE INDEX "uploads_agreement_idx" ON "uploads" USING btree ("agreement_id");--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_owner" CHECK ("uploads"."uploaded_by" is not null or "uploads"."agreement_id" is not null);--> statement-breakpoint
-- A value added to an enum cannot be used in the transaction that adds it, and the G4 index needs
-- the new states at once (the migrator runs every pending migration in one transaction): the state
-- type is replaced instead, rewriting the table once.
DROP INDEX "agreements_one_active_per_graduate";--> statement-breakpoint
DROP INDEX "agreements_one_pending_invitation";--> statement-breakpoint
DROP INDEX "agreements_pending_deadline_idx";--> statement-breakpoint
DROP INDEX "agreements_school_state_idx";--> statement-breakpoint
DROP INDEX "agreements_employer_state_idx";--> statement-breakpoint
ALTER TYPE "public"."agreement_state" RENAME TO "agreement_state_before_0008";--> statement-breakpoint
CREATE TYPE "public"."agreement_state" AS ENUM('invited', 'department_review', 'school_review', 'signed', 'declined', 'expired', 'review_rejected', 'invalidated', 'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'agreement_rejected', 'signing_rejected', 'registration_department_review', 'registration_school_review', 'registration_rejected', 'abandoned');--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "state" SET DATA TYPE "public"."agreement_state" USING "state"::text::"public"."agreement_state";--> statement-breakpoint
DROP TYPE "public"."agreement_state_before_0008";--> statement-breakpoint
CREATE UNIQUE INDEX "agreements_one_active_per_graduate" ON "agreements" USING btree ("graduate_id") WHERE state in ('department_review', 'school_review', 'signed', 'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'registration_department_review', 'registration_school_review');--> statement-breakpoint
CREATE UNIQUE INDEX "agreements_one_pending_invitation" ON "agreements" USING btree ("employer_id","graduate_id") WHERE state = 'invited';--> statement-breakpoint
CREATE INDEX "agreements_pending_deadline_idx" ON "agreements" USING btree ("deadline") WHERE state = 'invited';--> statement-breakpoint
CREATE INDEX "agreements_school_state_idx" ON "agreements" USING btree ("school_id","state");--> statement-breakpoint
CREATE INDEX "agreements_employer_state_idx" ON "agreements" USING btree ("employer_id","state");
