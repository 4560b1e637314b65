-- Issue 14: every app process keeps its signed-in users' session look-ups (domain/auth/sessions.ts)
-- while nothing they are read from changes. These triggers say what changed, on the one channel each
-- process listens on (db/changes.ts), whichever code path or process made the change: a user's
-- sessions, row or notifications ('u:<ids>'), a unit's verification ('e:'), a graduate's roster
-- confirmation or removal ('g:'), a school's cache version ('s:'). Too many at once, or a TRUNCATE:
-- '*', everything. PostgreSQL sends them at commit, in commit order, and drops a rolled back one.
CREATE FUNCTION changes_notify(kind text, ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
  payload := kind || ':' || array_to_string(ids, ',');
  -- A payload must stay under 8000 bytes.
  IF length(payload) > 7000 THEN payload := '*'; END IF;
  PERFORM pg_notify('wangqian_changes', payload);
END $$;--> statement-breakpoint
CREATE FUNCTION changes_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wangqian_changes', '*');
  RETURN NULL;
END $$;--> statement-breakpoint
-- Sign-out, expiry, a user's sessions ended or their lifetime changed. A session's last use is not
-- followed (written once a minute; a process that keeps an older one asks the database before ending
-- the session for idleness).
CREATE FUNCTION changes_sessions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(SELECT DISTINCT user_id FROM old_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION changes_sessions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(
    SELECT DISTINCT unnest(array[n.user_id, o.user_id]) FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (n.user_id, n.expires_at) IS DISTINCT FROM (o.user_id, o.expires_at)));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION changes_users_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(SELECT DISTINCT id FROM new_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION changes_users_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(SELECT DISTINCT id FROM old_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
-- The header's unread count (G11): a notice sent, read or deleted.
CREATE FUNCTION changes_notifications_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(SELECT DISTINCT user_id FROM new_rows WHERE user_id IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION changes_notifications_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(SELECT DISTINCT user_id FROM old_rows WHERE user_id IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
-- E3: a unit's users act as verified or not.
CREATE FUNCTION changes_employers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('e', array(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.verification IS DISTINCT FROM o.verification));
  RETURN NULL;
END $$;--> statement-breakpoint
-- G1 / G2: the graduate's roster record confirmed, or the graduate off the roster.
CREATE FUNCTION changes_graduates_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('g', array(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (n.confirmed_at IS NULL, n.removed_at IS NULL) IS DISTINCT FROM (o.confirmed_at IS NULL, o.removed_at IS NULL)));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION changes_graduates_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('g', array(SELECT id FROM old_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
-- What a school's pages keep per school follows its cache version (migration 0020), read with the session.
CREATE FUNCTION changes_schools_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('s', array(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.cache_version IS DISTINCT FROM o.cache_version));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER sessions_changes_deleted AFTER DELETE ON sessions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_sessions_deleted();--> statement-breakpoint
CREATE TRIGGER sessions_changes_updated AFTER UPDATE ON sessions REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_sessions_updated();--> statement-breakpoint
CREATE TRIGGER users_changes_updated AFTER UPDATE ON users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_users_new();--> statement-breakpoint
CREATE TRIGGER users_changes_deleted AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_users_old();--> statement-breakpoint
CREATE TRIGGER notifications_changes_inserted AFTER INSERT ON notifications REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_notifications_new();--> statement-breakpoint
CREATE TRIGGER notifications_changes_updated AFTER UPDATE ON notifications REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_notifications_new();--> statement-breakpoint
CREATE TRIGGER notifications_changes_deleted AFTER DELETE ON notifications REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_notifications_old();--> statement-breakpoint
CREATE TRIGGER employers_changes_updated AFTER UPDATE ON employers REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_employers_updated();--> statement-breakpoint
CREATE TRIGGER graduates_changes_updated AFTER UPDATE ON graduates REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_graduates_updated();--> statement-breakpoint
CREATE TRIGGER graduates_changes_deleted AFTER DELETE ON graduates REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_graduates_deleted();--> statement-breakpoint
CREATE TRIGGER schools_changes_updated AFTER UPDATE ON schools REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_schools_updated();--> statement-breakpoint
CREATE TRIGGER sessions_changes_truncated AFTER TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();--> statement-breakpoint
CREATE TRIGGER users_changes_truncated AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();--> statement-breakpoint
CREATE TRIGGER notifications_changes_truncated AFTER TRUNCATE ON notifications FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();--> statement-breakpoint
CREATE TRIGGER employers_changes_truncated AFTER TRUNCATE ON employers FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();--> statement-breakpoint
CREATE TRIGGER graduates_changes_truncated AFTER TRUNCATE ON graduates FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();--> statement-breakpoint
CREATE TRIGGER schools_changes_truncated AFTER TRUNCATE ON schools FOR EACH STATEMENT EXECUTE FUNCTION changes_everything();
