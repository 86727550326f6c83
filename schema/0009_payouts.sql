-- Payouts to producers: what the office paid each producer of what its
-- products earned. Append-only: a mistake is put right by a correction
-- (a negative amount, which must say why in its note).

CREATE TABLE payouts (
	id          INTEGER PRIMARY KEY,
	producer_id INTEGER NOT NULL REFERENCES producers (id),
	amount_fen  INTEGER NOT NULL CHECK (typeof(amount_fen) = 'integer' AND amount_fen <> 0),
	paid_on     TEXT NOT NULL CHECK (length(paid_on) = 10), -- YYYY-MM-DD
	reference   TEXT NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
	note        TEXT,
	created_at  INTEGER NOT NULL CHECK (typeof(created_at) = 'integer'),
	created_by  INTEGER NOT NULL REFERENCES users (id),
	CHECK (amount_fen > 0 OR (note IS NOT NULL AND length(note) > 0))
);
CREATE INDEX payouts_producer ON payouts (producer_id, paid_on, id);
CREATE INDEX payouts_paid_on ON payouts (paid_on);
CREATE TRIGGER payouts_no_update BEFORE UPDATE ON payouts
BEGIN SELECT RAISE(ABORT, 'payouts are append-only'); END;
CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts
BEGIN SELECT RAISE(ABORT, 'payouts are append-only'); END;
