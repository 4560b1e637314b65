CREATE TYPE "public"."destination_state" AS ENUM('department_review', 'school_review', 'returned', 'withdrawn', 'approved', 'rejected', 'voided');--> statement-breakpoint
CREATE TYPE "public"."destination_void_cause" AS ENUM('graduate', 'signing');--> statement-breakpoint
ALTER TYPE "public"."upload_purpose" ADD VALUE 'destination_proof';--> statement-breakpoint
CREATE TABLE "destination_drafts" (
	"graduate_id" integer NOT NULL,
	"type" text NOT NULL,
	"values" jsonb NOT NULL,
	"proof_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "destination_drafts_graduate_id_pk" PRIMARY KEY("graduate_id")
);
--> statement-breakpoint
CREATE TABLE "destination_registrations" (
	"id" serial PRIMARY KEY NOT NULL,
	"state" "destination_state" NOT NULL,
	"graduate_id" integer NOT NULL,
	"school_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"type" text NOT NULL,
	"code" text NOT NULL,
	"details" jsonb NOT NULL,
	"proof_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"review_reason" text,
	"void_cause" "destination_void_cause",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "graduate_destinations" (
	"graduate_id" integer PRIMARY KEY NOT NULL,
	"school_id" integer NOT NULL,
	"code" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "destination_id" integer;--> statement-breakpoint
ALTER TABLE "destination_drafts" ADD CONSTRAINT "destination_drafts_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "destination_registrations" ADD CONSTRAINT "destination_registrations_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "destination_registrations" ADD CONSTRAINT "destination_registrations_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "destination_registrations" ADD CONSTRAINT "destination_registrations_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "graduate_destinations" ADD CONSTRAINT "graduate_destinations_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "graduate_destinations" ADD CONSTRAINT "graduate_destinations_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "destination_registrations_one_live_per_graduate" ON "destination_registrations" USING btree ("graduate_id") WHERE state in ('department_review', 'school_review', 'returned', 'withdrawn', 'approved');--> statement-breakpoint
CREATE INDEX "destination_registrations_school_state_updated_idx" ON "destination_registrations" USING btree ("school_id","state","updated_at","id");--> statement-breakpoint
CREATE INDEX "graduate_destinations_school_code_idx" ON "graduate_destinations" USING btree ("school_id","code");--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_destination_id_destination_registrations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "public"."destination_registrations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "uploads_destination_idx" ON "uploads" USING btree ("destination_id");--> statement-breakpoint
-- The current destination of graduates who already signed or terminated (domain/destinations/current.ts).
INSERT INTO "graduate_destinations" ("graduate_id", "school_id", "code", "updated_at")
SELECT g."id", g."school_id",
  CASE WHEN EXISTS (SELECT 1 FROM "agreements" a WHERE a."graduate_id" = g."id" AND a."state" = 'signed') THEN '10' ELSE '70' END,
  now()
FROM "graduates" g
WHERE EXISTS (SELECT 1 FROM "agreements" a WHERE a."graduate_id" = g."id" AND a."state" IN ('signed', 'terminated'));
