CREATE TYPE "public"."warning_category" AS ENUM('violation', 'fake', 'discrimination', 'false_advertising');--> statement-breakpoint
CREATE TABLE "warning_marks" (
	"id" serial PRIMARY KEY NOT NULL,
	"school_id" integer NOT NULL,
	"employer_id" integer NOT NULL,
	"category" "warning_category" NOT NULL,
	"note" text,
	"created_by" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "warning_marks" ADD CONSTRAINT "warning_marks_employer_id_employers_id_fk" FOREIGN KEY ("employer_id") REFERENCES "public"."employers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warning_marks" ADD CONSTRAINT "warning_marks_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "warning_marks_school_employer_key" ON "warning_marks" USING btree ("school_id","employer_id");--> statement-breakpoint
CREATE INDEX "warning_marks_employer_idx" ON "warning_marks" USING btree ("employer_id");