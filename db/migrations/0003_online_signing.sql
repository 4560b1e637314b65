CREATE TYPE "public"."agreement_kind" AS ENUM('online');--> statement-breakpoint
CREATE TYPE "public"."agreement_state" AS ENUM('invited', 'department_review', 'school_review', 'signed', 'declined', 'expired', 'review_rejected', 'invalidated');--> statement-breakpoint
CREATE TYPE "public"."archive_mode" AS ENUM('accept', 'custodian', 'none');--> statement-breakpoint
CREATE TABLE "agreement_counters" (
	"school_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"last" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "agreement_counters_school_id_cohort_pk" PRIMARY KEY("school_id","cohort")
);
--> statement-breakpoint
CREATE TABLE "agreements" (
	"id" serial PRIMARY KEY NOT NULL,
	"kind" "agreement_kind" NOT NULL,
	"state" "agreement_state" NOT NULL,
	"number" text,
	"verification_code" text,
	"employer_id" integer NOT NULL,
	"graduate_id" integer NOT NULL,
	"school_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"invited_by" integer,
	"invited_at" timestamp with time zone DEFAULT now() NOT NULL,
	"position_category" text NOT NULL,
	"position_name" text NOT NULL,
	"validity_days" smallint NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"contact_name" text NOT NULL,
	"contact_phone" text NOT NULL,
	"probation" text,
	"probation_pay" text,
	"regular_pay" text,
	"penalty" text,
	"report_place" text,
	"report_deadline" date,
	"work_place" text NOT NULL,
	"archive_mode" "archive_mode" NOT NULL,
	"archive" jsonb,
	"supplement" text,
	"unit_snapshot" jsonb NOT NULL,
	"graduate_snapshot" jsonb,
	"school_snapshot" jsonb,
	"responded_at" timestamp with time zone,
	"signed_at" timestamp with time zone,
	"review_reason" text,
	"invalid_reason" text,
	"reminded_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agreements_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "favourites" (
	"id" serial PRIMARY KEY NOT NULL,
	"employer_id" integer NOT NULL,
	"graduate_id" integer NOT NULL,
	"school_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"added_by" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"invalidated_at" timestamp with time zone,
	"invalid_reason" text
);
--> statement-breakpoint
CREATE TABLE "invitation_drafts" (
	"employer_id" integer PRIMARY KEY NOT NULL,
	"values" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agreement_counters" ADD CONSTRAINT "agreement_counters_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_invited_by_users_id_fk" FOREIGN KEY ("invited_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "favourites" ADD CONSTRAINT "favourites_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "favourites" ADD CONSTRAINT "favourites_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "favourites" ADD CONSTRAINT "favourites_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "favourites" ADD CONSTRAINT "favourites_added_by_users_id_fk" FOREIGN KEY ("added_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation_drafts" ADD CONSTRAINT "invitation_drafts_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agreements_one_active_per_graduate" ON "agreements" USING btree ("graduate_id") WHERE state in ('department_review', 'school_review', 'signed');--> statement-breakpoint
CREATE UNIQUE INDEX "agreements_one_pending_invitation" ON "agreements" USING btree ("employer_id","graduate_id") WHERE state = 'invited';--> statement-breakpoint
CREATE INDEX "agreements_pending_deadline_idx" ON "agreements" USING btree ("deadline") WHERE state = 'invited';--> statement-breakpoint
CREATE INDEX "agreements_school_state_idx" ON "agreements" USING btree ("school_id","state");--> statement-breakpoint
CREATE INDEX "agreements_employer_state_idx" ON "agreements" USING btree ("employer_id","state");--> statement-breakpoint
CREATE INDEX "agreements_graduate_idx" ON "agreements" USING btree ("graduate_id");--> statement-breakpoint
CREATE UNIQUE INDEX "favourites_one_live_per_unit" ON "favourites" USING btree ("employer_id","graduate_id") WHERE invalidated_at is null;--> statement-breakpoint
CREATE INDEX "favourites_employer_cohort_idx" ON "favourites" USING btree ("employer_id","cohort");--> statement-breakpoint
CREATE INDEX "favourites_graduate_idx" ON "favourites" USING btree ("graduate_id");