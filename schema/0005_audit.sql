-- The audit log: one row per write made by an operator, coordinator or
-- admin, appended in the transaction of the write it records. Append-only.

CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,            -- seconds since the epoch
	user_id     INTEGER NOT NULL REFERENCES users (id),
	username    TEXT NOT NULL,
	action      TEXT NOT NULL,               -- "POST /api/v1/products"
	object_type TEXT NOT NULL,               -- "product"
	-- Declared without a type, so without affinity: an integer id stays
	-- an integer, a sale's client id or a region code stays text (even
	-- "12345678"); NULL when the write names no object.
	object_id,
	remote_addr TEXT NOT NULL
);
-- No index besides the id: every write pays for the log's upkeep, and
-- the admin's reads walk it newest first by id.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
