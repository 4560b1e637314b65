-- Issue 14: the count cards and tab totals of 在线签约管理 and 补登管理 read agreement_counts, kept
-- here by statement triggers on agreements: each statement's net change per (school, department,
-- kind, state), applied in key order so that concurrent statements lock the counters alike.
CREATE TABLE "agreement_counts" (
	"school_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"kind" "agreement_kind" NOT NULL,
	"state" "agreement_state" NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "agreement_counts_school_id_department_id_kind_state_pk" PRIMARY KEY("school_id","department_id","kind","state")
);--> statement-breakpoint
INSERT INTO agreement_counts (school_id, department_id, kind, state, n)
  SELECT school_id, department_id, kind, state, count(*) FROM agreements GROUP BY 1, 2, 3, 4;--> statement-breakpoint
CREATE FUNCTION agreement_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts AS c (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, count(*) FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (school_id, department_id, kind, state) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts AS c (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (school_id, department_id, kind, state) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agreement_counts AS c (school_id, department_id, kind, state, n)
    SELECT school_id, department_id, kind, state, sum(d) FROM (
      SELECT school_id, department_id, kind, state, 1 AS d FROM new_rows
      UNION ALL SELECT school_id, department_id, kind, state, -1 FROM old_rows) moved
    GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (school_id, department_id, kind, state) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER agreements_counts_inserted AFTER INSERT ON agreements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_inserted();--> statement-breakpoint
CREATE TRIGGER agreements_counts_deleted AFTER DELETE ON agreements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_deleted();--> statement-breakpoint
CREATE TRIGGER agreements_counts_updated AFTER UPDATE ON agreements REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_updated();
