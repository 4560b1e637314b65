-- Issue 14: what the app caches per school (its roster's cohorts, departments and majors, its
-- settings, the province's agreement type) carries schools.cache_version, raised here by triggers, so no code path
-- that changes those can forget to, and every app process sees the change on its next request.
ALTER TABLE "schools" ADD COLUMN "cache_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "notifications_unread_idx" ON "notifications" USING btree ("user_id") WHERE read_at is null;--> statement-breakpoint
CREATE FUNCTION school_cache_bump_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE schools SET cache_version = cache_version + 1 WHERE id IN (SELECT school_id FROM new_rows);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION school_cache_bump_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE schools SET cache_version = cache_version + 1 WHERE id IN (SELECT school_id FROM old_rows);
  RETURN NULL;
END $$;--> statement-breakpoint
-- A graduate's cohort, department, major or removal (the roster's filter options and cohorts).
CREATE FUNCTION school_cache_bump_graduates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE schools SET cache_version = cache_version + 1 WHERE id IN (
    SELECT unnest(array[n.school_id, o.school_id]) FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (n.school_id, n.cohort, n.department_id, n.major_name, n.removed_at IS NULL)
           IS DISTINCT FROM (o.school_id, o.cohort, o.department_id, o.major_name, o.removed_at IS NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
-- A department's name. A new department needs no trigger: the lists show departments through their
-- graduates, whose insert raises the version (and a trigger here would lock the school row before the
-- graduates in a roster import, against an edit that locks them the other way round).
CREATE FUNCTION school_cache_bump_departments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE schools SET cache_version = cache_version + 1 WHERE id IN (
    SELECT n.school_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.name IS DISTINCT FROM o.name);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION school_cache_bump_provinces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE schools SET cache_version = cache_version + 1 WHERE province_id IN (
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.agreement_type IS DISTINCT FROM o.agreement_type);
  RETURN NULL;
END $$;--> statement-breakpoint
-- The school's own settings (S4) and province (S3).
CREATE FUNCTION school_cache_bump_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.province_id, NEW.review_mode, NEW.online_signing, NEW.paper_registration, NEW.destination_registration)
     IS DISTINCT FROM (OLD.province_id, OLD.review_mode, OLD.online_signing, OLD.paper_registration, OLD.destination_registration)
  THEN NEW.cache_version := OLD.cache_version + 1; END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER graduates_cache_inserted AFTER INSERT ON graduates REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION school_cache_bump_inserted();--> statement-breakpoint
CREATE TRIGGER graduates_cache_deleted AFTER DELETE ON graduates REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION school_cache_bump_deleted();--> statement-breakpoint
CREATE TRIGGER graduates_cache_updated AFTER UPDATE ON graduates REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION school_cache_bump_graduates();--> statement-breakpoint
CREATE TRIGGER departments_cache_updated AFTER UPDATE ON departments REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION school_cache_bump_departments();--> statement-breakpoint
CREATE TRIGGER provinces_cache_updated AFTER UPDATE ON provinces REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION school_cache_bump_provinces();--> statement-breakpoint
CREATE TRIGGER schools_cache_settings BEFORE UPDATE ON schools FOR EACH ROW EXECUTE FUNCTION school_cache_bump_settings();
