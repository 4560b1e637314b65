CREATE TYPE "public"."termination_initiator" AS ENUM('graduate', 'employer');--> statement-breakpoint
CREATE TYPE "public"."termination_path" AS ENUM('online', 'letter');--> statement-breakpoint
CREATE TYPE "public"."termination_state" AS ENUM('awaiting_unit', 'awaiting_graduate', 'agreed_department_review', 'agreed_school_review', 'letter_department_review', 'letter_school_review', 'returned', 'terminated', 'failed');--> statement-breakpoint
ALTER TYPE "public"."upload_purpose" ADD VALUE 'termination_letter';--> statement-breakpoint
ALTER TYPE "public"."upload_purpose" ADD VALUE 'termination_evidence';--> statement-breakpoint
ALTER TYPE "public"."agreement_state" ADD VALUE 'terminated';--> statement-breakpoint
CREATE TABLE "terminations" (
	"id" serial PRIMARY KEY NOT NULL,
	"agreement_id" integer NOT NULL,
	"path" "termination_path" NOT NULL,
	"initiator" "termination_initiator" NOT NULL,
	"state" "termination_state" NOT NULL,
	"graduate_id" integer NOT NULL,
	"employer_id" integer,
	"school_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"requested_by" integer NOT NULL,
	"reason" text NOT NULL,
	"answer_reason" text,
	"review_reason" text,
	"letter_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"evidence_upload_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"unilateral" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_agreement_id_agreements_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."agreements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminations" ADD CONSTRAINT "terminations_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "terminations_one_open_per_agreement" ON "terminations" USING btree ("agreement_id") WHERE state in ('awaiting_unit', 'awaiting_graduate', 'agreed_department_review', 'agreed_school_review', 'letter_department_review', 'letter_school_review', 'returned');--> statement-breakpoint
CREATE INDEX "terminations_school_state_idx" ON "terminations" USING btree ("school_id","state");--> statement-breakpoint
CREATE INDEX "terminations_employer_idx" ON "terminations" USING btree ("employer_id","state");--> statement-breakpoint
CREATE INDEX "terminations_graduate_idx" ON "terminations" USING btree ("graduate_id","cohort");