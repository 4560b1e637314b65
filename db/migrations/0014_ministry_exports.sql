CREATE TYPE "public"."ministry_export_status" AS ENUM('queued', 'running', 'done', 'failed', 'expired');--> statement-breakpoint
CREATE TABLE "ministry_exports" (
	"id" serial PRIMARY KEY NOT NULL,
	"school_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"requested_by" integer NOT NULL,
	"status" "ministry_export_status" DEFAULT 'queued' NOT NULL,
	"total_rows" integer,
	"processed_rows" integer DEFAULT 0 NOT NULL,
	"stored_as" text,
	"bytes" integer,
	"error" text,
	"heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "ministry_exports" ADD CONSTRAINT "ministry_exports_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ministry_exports" ADD CONSTRAINT "ministry_exports_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ministry_exports_school_idx" ON "ministry_exports" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "ministry_exports_pending_idx" ON "ministry_exports" USING btree ("status");