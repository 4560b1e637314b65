ALTER TYPE "public"."agreement_kind" ADD VALUE 'offline';--> statement-breakpoint
ALTER TYPE "public"."agreement_kind" ADD VALUE 'registered';--> statement-breakpoint
ALTER TABLE "notifications" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "employer_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "invited_at" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "invited_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "validity_days" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "deadline" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "contact_name" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "contact_phone" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agreements" ALTER COLUMN "work_place" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "graduate_id" integer;--> statement-breakpoint
ALTER TABLE "agreements" ADD COLUMN "created_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_graduate_id_graduates_id_fk" FOREIGN KEY ("graduate_id") REFERENCES "public"."graduates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notifications_waiting_idx" ON "notifications" USING btree ("graduate_id") WHERE user_id is null;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_recipient" CHECK ("notifications"."user_id" is not null or "notifications"."graduate_id" is not null);--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_online_letter" CHECK ("agreements"."kind" <> 'online' or ("agreements"."employer_id" is not null and "agreements"."invited_at" is not null and "agreements"."validity_days" is not null and "agreements"."deadline" is not null and "agreements"."contact_name" is not null and "agreements"."contact_phone" is not null and "agreements"."work_place" is not null));--> statement-breakpoint
-- Every agreement so far is an online one: it came to be when its letter was sent.
UPDATE "agreements" SET "created_at" = "invited_at";--> statement-breakpoint
-- The unit's contact rows of an agreement were left blank where the unit's information had none.
-- Fill only the blanks: from the letter's 签约联系人 (the person the unit named for this very
-- agreement), then from the unit's own information.
UPDATE "agreements" SET "unit_snapshot" = "unit_snapshot"
  || CASE WHEN "unit_snapshot"->>'contactName' IS NULL THEN jsonb_build_object('contactName', "contact_name") ELSE '{}'::jsonb END
  || CASE WHEN "unit_snapshot"->>'contactPhone' IS NULL THEN jsonb_build_object('contactPhone', "contact_phone") ELSE '{}'::jsonb END
  || CASE WHEN "unit_snapshot"->>'contactMobile' IS NULL AND "contact_phone" ~ '^1[0-9]{10}$' THEN jsonb_build_object('contactMobile', "contact_phone") ELSE '{}'::jsonb END
WHERE "contact_name" IS NOT NULL;--> statement-breakpoint
UPDATE "agreements" AS a SET "unit_snapshot" = a."unit_snapshot"
  || CASE WHEN a."unit_snapshot"->>'contactMobile' IS NULL AND e."contact_mobile" IS NOT NULL THEN jsonb_build_object('contactMobile', e."contact_mobile") ELSE '{}'::jsonb END
  || CASE WHEN a."unit_snapshot"->>'contactEmail' IS NULL AND e."contact_email" IS NOT NULL THEN jsonb_build_object('contactEmail', e."contact_email") ELSE '{}'::jsonb END
FROM "employers" AS e
WHERE e."id" = a."employer_id" AND (a."unit_snapshot"->>'contactMobile' IS NULL OR a."unit_snapshot"->>'contactEmail' IS NULL);
