-- Issue 14, goal 6: agreements.unit_uscc was a stored generated column (unit_snapshot->>'uscc').
-- PostgreSQL 18 builds a stored generated column's expression again for every row an UPDATE writes
-- when the UPDATE leaves the column alone, as every change of state does: 6% of the expiry's CPU.
-- It becomes a plain column with the same values and indexes, which triggers keep equal to the
-- snapshot's credit code: set before each insert, and put right after an update that names
-- unit_snapshot or unit_uscc and leaves them apart. No BEFORE UPDATE trigger: PostgreSQL locks every
-- row an UPDATE writes before it asks whether such a trigger applies, which would cost the expiry more
-- than the column did. A change of state names neither column, so neither trigger fires for it.
ALTER TABLE "agreements" ALTER COLUMN "unit_uscc" DROP EXPRESSION;--> statement-breakpoint
CREATE FUNCTION agreement_unit_uscc_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.unit_uscc := NEW.unit_snapshot->>'uscc';
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE FUNCTION agreement_unit_uscc_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE agreements SET unit_uscc = unit_snapshot->>'uscc' WHERE id = NEW.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER agreements_unit_uscc_inserted BEFORE INSERT ON agreements FOR EACH ROW EXECUTE FUNCTION agreement_unit_uscc_inserted();--> statement-breakpoint
CREATE TRIGGER agreements_unit_uscc_updated AFTER UPDATE OF unit_snapshot, unit_uscc ON agreements FOR EACH ROW
  WHEN (NEW.unit_uscc IS DISTINCT FROM NEW.unit_snapshot->>'uscc')
  EXECUTE FUNCTION agreement_unit_uscc_updated();
