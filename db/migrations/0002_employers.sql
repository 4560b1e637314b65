CREATE TYPE "public"."upload_purpose" AS ENUM('employer_licence', 'employer_authorization');--> statement-breakpoint
CREATE TYPE "public"."employer_verification_method" AS ENUM('remittance', 'documents', 'join');--> statement-breakpoint
CREATE TYPE "public"."employer_verification_state" AS ENUM('submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed', 'approved', 'rejected');--> statement-breakpoint
CREATE TABLE "uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"purpose" "upload_purpose" NOT NULL,
	"storage_key" text NOT NULL,
	"mime" text NOT NULL,
	"byte_size" integer NOT NULL,
	"width" integer,
	"height" integer,
	"original_name" text NOT NULL,
	"uploaded_by" integer NOT NULL,
	"employer_id" integer,
	"school_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "employer_archives" (
	"employer_id" integer PRIMARY KEY NOT NULL,
	"archive_unit" text NOT NULL,
	"archive_address" text NOT NULL,
	"archive_postcode" text NOT NULL,
	"archive_contact" text NOT NULL,
	"archive_phone" text NOT NULL,
	"hukou_address" text NOT NULL,
	"updated_by" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "employer_verifications" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"employer_id" integer,
	"method" "employer_verification_method" NOT NULL,
	"state" "employer_verification_state" DEFAULT 'submitted' NOT NULL,
	"applicant_name" text NOT NULL,
	"applicant_position" text,
	"applicant_email" text,
	"unit_name" text NOT NULL,
	"uscc" text NOT NULL,
	"uscc_check_passed" boolean NOT NULL,
	"employer_type" text NOT NULL,
	"industry" text NOT NULL,
	"region" text NOT NULL,
	"address" text NOT NULL,
	"contact_name" text NOT NULL,
	"contact_phone" text,
	"contact_mobile" text NOT NULL,
	"contact_email" text,
	"bank_account" text,
	"bank_name" text,
	"remittance_cents" smallint,
	"remittance_attempts" smallint DEFAULT 0 NOT NULL,
	"remittance_sent_at" timestamp with time zone,
	"licence_upload_id" text,
	"authorization_upload_id" text NOT NULL,
	"reviewed_by" integer,
	"reviewed_at" timestamp with time zone,
	"decision_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "employers" ADD COLUMN "contact_name" text;--> statement-breakpoint
ALTER TABLE "employers" ADD COLUMN "contact_phone" text;--> statement-breakpoint
ALTER TABLE "employers" ADD COLUMN "contact_mobile" text;--> statement-breakpoint
ALTER TABLE "employers" ADD COLUMN "contact_email" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_uploaded_by_users_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_archives" ADD CONSTRAINT "employer_archives_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_archives" ADD CONSTRAINT "employer_archives_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_verifications" ADD CONSTRAINT "employer_verifications_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_verifications" ADD CONSTRAINT "employer_verifications_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_verifications" ADD CONSTRAINT "employer_verifications_licence_upload_id_uploads_id_fk" FOREIGN KEY ("licence_upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_verifications" ADD CONSTRAINT "employer_verifications_authorization_upload_id_uploads_id_fk" FOREIGN KEY ("authorization_upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "employer_verifications" ADD CONSTRAINT "employer_verifications_reviewed_by_users_id_fk" FOREIGN KEY ("reviewed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "uploads_uploaded_by_idx" ON "uploads" USING btree ("uploaded_by");--> statement-breakpoint
CREATE UNIQUE INDEX "employer_verifications_one_open_per_user" ON "employer_verifications" USING btree ("user_id") WHERE state in ('submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed');--> statement-breakpoint
CREATE INDEX "employer_verifications_queue_idx" ON "employer_verifications" USING btree ("state","created_at");--> statement-breakpoint
CREATE INDEX "employer_verifications_uscc_idx" ON "employer_verifications" USING btree ("uscc");