-- Issue 14: the count cards and tab totals of 在线签约管理 and 补登管理 sum agreement_counts. Statement
-- triggers on agreements append each statement's net change per (school, department, kind, state):
-- rows are only ever added (and folded by a job), so no writer waits on another's counter.
CREATE TABLE "agreement_counts" (
	"school_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"kind" "agreement_kind" NOT NULL,
	"state" "agreement_state" NOT NULL,
	"n" integer NOT NULL
);--> statement-breakpoint
CREATE INDEX "agreement_counts_key_idx" ON "agreement_counts" USING btree ("school_id","department_id","kind","state");--> statement-breakpoint
-- No agreement changes between the count and the triggers (another process may still be running).
LOCK TABLE agreements IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
INSERT INTO agreement_counts (school_id, department_id, kind, state, n)
  SELECT school_id, department_id, kind, state, count(*) FROM agreements GROUP BY 1, 2, 3, 4;--> statement-breakpoint
CREATE FUNCTION agreement_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, count(*) FROM new_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;--> statement-breakpoint
-- Only what moved: an update of other columns (a reminder sent, a reason) adds nothing.
CREATE FUNCTION agreement_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, sum(d) FROM (
      SELECT n.school_id, n.department_id, n.kind, n.state, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE (n.school_id, n.department_id, n.kind, n.state) IS DISTINCT FROM (o.school_id, o.department_id, o.kind, o.state)
      UNION ALL
      SELECT o.school_id, o.department_id, o.kind, o.state, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE (n.school_id, n.department_id, n.kind, n.state) IS DISTINCT FROM (o.school_id, o.department_id, o.kind, o.state)) moved
    GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER agreements_counts_inserted AFTER INSERT ON agreements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_inserted();--> statement-breakpoint
CREATE TRIGGER agreements_counts_deleted AFTER DELETE ON agreements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_deleted();--> statement-breakpoint
CREATE TRIGGER agreements_counts_updated AFTER UPDATE ON agreements REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_updated();
