-- Issue 14, goal 6: every index of agreements takes an entry for each new row version, and a state
-- change is never a HOT update, so the expiry of a busy deadline hour wrote six index entries per
-- invitation. Two of them served rare readers and move out of the table:
--   - 数据统计's signing pipeline counts by cohort: agreement_counts gains the cohort, and the
--     pipeline (a school's, and the province's refresh of every school) sums the counters;
--   - the reviewers' search by unit name: agreement_unit_names holds each agreement's unit name under
--     the trigram index, kept by triggers that a change of state does not fire.
-- No agreement changes between the counts and the triggers (another process may still be running),
-- and the lock the index drops need is taken first: a weaker one upgraded later could deadlock with
-- a decision that locked its row and waits to update it. Reads of agreements wait for the migration.
LOCK TABLE agreements IN ACCESS EXCLUSIVE MODE;--> statement-breakpoint
CREATE TABLE "agreement_unit_names" (
	"agreement_id" integer PRIMARY KEY NOT NULL,
	"school_id" integer NOT NULL,
	"name" text NOT NULL
);
--> statement-breakpoint
INSERT INTO agreement_unit_names (agreement_id, school_id, name)
  SELECT id, school_id, coalesce(unit_snapshot->>'name', '') FROM agreements;--> statement-breakpoint
DROP INDEX "agreements_unit_name_trgm_idx";--> statement-breakpoint
DROP INDEX "agreements_school_cohort_kind_state_idx";--> statement-breakpoint
DROP INDEX "agreement_counts_key_idx";--> statement-breakpoint
DROP INDEX "agreement_counts_unfolded_idx";--> statement-breakpoint
-- The counters are counted again, by cohort too, folded.
TRUNCATE agreement_counts;--> statement-breakpoint
ALTER TABLE "agreement_counts" ADD COLUMN "cohort" smallint NOT NULL;--> statement-breakpoint
INSERT INTO agreement_counts (school_id, department_id, kind, state, cohort, n, folded)
  SELECT school_id, department_id, kind, state, cohort, count(*), true FROM agreements GROUP BY 1, 2, 3, 4, 5;--> statement-breakpoint
CREATE INDEX "agreement_unit_names_name_trgm_idx" ON "agreement_unit_names" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "agreement_counts_key_idx" ON "agreement_counts" USING btree ("school_id","department_id","kind","state","cohort");--> statement-breakpoint
CREATE INDEX "agreement_counts_unfolded_idx" ON "agreement_counts" USING btree ("school_id","department_id","kind","state","cohort") WHERE not "agreement_counts"."folded";--> statement-breakpoint
CREATE OR REPLACE FUNCTION agreement_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, cohort, n)
    SELECT school_id, department_id, kind, state, cohort, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION agreement_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, cohort, n)
    SELECT school_id, department_id, kind, state, cohort, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END $$;--> statement-breakpoint
-- Only what moved: an update of other columns (a reminder sent, a reason) adds nothing.
CREATE OR REPLACE FUNCTION agreement_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, cohort, n)
    SELECT school_id, department_id, kind, state, cohort, sum(d) FROM (
      SELECT n.school_id, n.department_id, n.kind, n.state, n.cohort, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE (n.school_id, n.department_id, n.kind, n.state, n.cohort) IS DISTINCT FROM (o.school_id, o.department_id, o.kind, o.state, o.cohort)
      UNION ALL
      SELECT o.school_id, o.department_id, o.kind, o.state, o.cohort, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE (n.school_id, n.department_id, n.kind, n.state, n.cohort) IS DISTINCT FROM (o.school_id, o.department_id, o.kind, o.state, o.cohort)) moved
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_unit_names_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_unit_names (agreement_id, school_id, name)
    SELECT id, school_id, coalesce(unit_snapshot->>'name', '') FROM new_rows;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_unit_names_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM agreement_unit_names u USING old_rows o WHERE u.agreement_id = o.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_unit_names_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE agreement_unit_names SET school_id = NEW.school_id, name = coalesce(NEW.unit_snapshot->>'name', '') WHERE agreement_id = NEW.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_unit_names_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE agreement_unit_names;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER agreements_unit_names_inserted AFTER INSERT ON agreements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_unit_names_inserted();--> statement-breakpoint
CREATE TRIGGER agreements_unit_names_deleted AFTER DELETE ON agreements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_unit_names_deleted();--> statement-breakpoint
-- A column list: an UPDATE whose SET does not name these (a change of state, a reminder) queues nothing.
CREATE TRIGGER agreements_unit_names_updated AFTER UPDATE OF unit_snapshot, school_id ON agreements FOR EACH ROW
  WHEN (OLD.unit_snapshot->>'name' IS DISTINCT FROM NEW.unit_snapshot->>'name' OR OLD.school_id IS DISTINCT FROM NEW.school_id)
  EXECUTE FUNCTION agreement_unit_names_updated();--> statement-breakpoint
CREATE TRIGGER agreements_unit_names_truncated AFTER TRUNCATE ON agreements FOR EACH STATEMENT EXECUTE FUNCTION agreement_unit_names_truncated();
