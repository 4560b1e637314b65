CREATE TABLE "school_figures" (
	"school_id" integer NOT NULL,
	"cohort" smallint NOT NULL,
	"graduates" integer NOT NULL,
	"placed" integer NOT NULL,
	"by_code" jsonb NOT NULL,
	"pipeline" jsonb NOT NULL,
	"refreshed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "school_figures_school_id_cohort_pk" PRIMARY KEY("school_id","cohort")
);
--> statement-breakpoint
ALTER TABLE "school_figures" ADD CONSTRAINT "school_figures_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;