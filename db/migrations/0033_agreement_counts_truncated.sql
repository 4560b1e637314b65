-- 数据统计 now reads agreement_counts too (migration 0032): a TRUNCATE of agreements empties its
-- counters as well, as the statement triggers cannot see the rows a TRUNCATE removes.
CREATE FUNCTION agreement_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE agreement_counts;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER agreements_counts_truncated AFTER TRUNCATE ON agreements FOR EACH STATEMENT EXECUTE FUNCTION agreement_counts_truncated();
