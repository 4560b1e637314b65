-- Migration 0030's notice trigger named only the user a changed notice now belongs to: a notice moved
-- from one user to another (none does today; an activated account's notices move from no user to it)
-- changes both users' unread counts, so both are named (found in review).
CREATE FUNCTION changes_notifications_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_notify('u', array(
    SELECT user_id FROM new_rows WHERE user_id IS NOT NULL UNION SELECT user_id FROM old_rows WHERE user_id IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
DROP TRIGGER notifications_changes_updated ON notifications;--> statement-breakpoint
CREATE TRIGGER notifications_changes_updated AFTER UPDATE ON notifications REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION changes_notifications_updated();
