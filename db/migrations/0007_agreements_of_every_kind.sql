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
-- Fill only the blanks: 单位联系人 and 联系人电话 from the letter's 签约联系人 (the person the unit
-- named for this very agreement), 联系人手机 from the letter's phone when it is a mobile, else from
-- the unit's information, 联系人邮箱 from the unit's information. Each agreement so filled gets an
-- event row with what was filled, so its timeline says that its document changed, and why.
WITH "filled" AS (
  SELECT a."id", a."school_id", a."unit_snapshot" AS "before",
    a."unit_snapshot" || jsonb_strip_nulls(jsonb_build_object(
      'contactName', CASE WHEN a."unit_snapshot"->>'contactName' IS NULL THEN a."contact_name" END,
      'contactPhone', CASE WHEN a."unit_snapshot"->>'contactPhone' IS NULL THEN a."contact_phone" END,
      'contactMobile', CASE WHEN a."unit_snapshot"->>'contactMobile' IS NULL THEN COALESCE(CASE WHEN a."contact_phone" ~ '^1[0-9]{10}$' THEN a."contact_phone" END, e."contact_mobile") END,
      'contactEmail', CASE WHEN a."unit_snapshot"->>'contactEmail' IS NULL THEN e."contact_email" END
    )) AS "after"
  FROM "agreements" AS a LEFT JOIN "employers" AS e ON e."id" = a."employer_id"
), "changed" AS (
  UPDATE "agreements" AS a SET "unit_snapshot" = f."after" FROM "filled" AS f WHERE a."id" = f."id" AND f."after" <> f."before" RETURNING a."id"
)
INSERT INTO "events" ("actor_role", "subject_type", "subject_id", "school_id", "action", "data")
SELECT 'system', 'agreement', f."id"::text, f."school_id", 'agreement.contacts_filled',
  jsonb_build_object('filled', (SELECT jsonb_object_agg(x.key, x.value) FROM jsonb_each(f."after") AS x WHERE f."before"->x.key IS DISTINCT FROM x.value))
FROM "filled" AS f JOIN "changed" AS c ON c."id" = f."id";
