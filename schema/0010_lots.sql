-- Lots and traceability (溯源): a lot is a quantity of one product packed
-- together; each stall-sale line and order line draws its units from the
-- product's lots (server/store/lots.c), and a void or a cancel puts them
-- back. Dates are YYYY-MM-DD (Asia/Shanghai); instants seconds since the
-- epoch. Counts are integers only.

CREATE TABLE lots (
	id           INTEGER PRIMARY KEY,
	product_id   INTEGER NOT NULL REFERENCES products (id),
	code         TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
	quantity     INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity >= 1),
	-- quantity less the units drawn and not put back; the lot's draws
	-- below add up to quantity - remaining (`marketctl check`).
	remaining    INTEGER NOT NULL CHECK (typeof(remaining) = 'integer' AND remaining >= 0 AND remaining <= quantity),
	packed_on    TEXT NOT NULL CHECK (length(packed_on) = 10),
	harvested_on TEXT CHECK (harvested_on IS NULL OR length(harvested_on) = 10),
	best_before  TEXT CHECK (best_before IS NULL OR length(best_before) = 10),
	origin       TEXT,
	created_at   INTEGER NOT NULL CHECK (typeof(created_at) = 'integer'),
	created_by   INTEGER REFERENCES users (id),
	UNIQUE (product_id, code)
);
CREATE INDEX lots_product ON lots (product_id, id);
-- The allocation order of a product's lots with units left: earliest
-- best_before first (lots without one last), then earliest packed_on,
-- then lowest id. One seek gives the next lot to draw from; lots drawn
-- empty leave the index.
CREATE INDEX lots_draw_order ON lots (product_id, best_before IS NULL, best_before, packed_on, id)
	WHERE remaining > 0;

-- The units a line took from a lot: one row per (line, lot). A line of a
-- stall sale (sale_seq) or of an order (order_id), never both. returned_at
-- is set, once, when a void or a cancel put the units back; the row is
-- otherwise never changed and never removed.
CREATE TABLE lot_draws (
	id          INTEGER PRIMARY KEY,
	lot_id      INTEGER NOT NULL REFERENCES lots (id),
	sale_seq    INTEGER REFERENCES sales (seq),
	order_id    INTEGER REFERENCES orders (id),
	line_no     INTEGER NOT NULL CHECK (typeof(line_no) = 'integer' AND line_no >= 0),
	quantity    INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity >= 1),
	drawn_at    INTEGER NOT NULL CHECK (typeof(drawn_at) = 'integer'),
	returned_at INTEGER CHECK (returned_at IS NULL OR typeof(returned_at) = 'integer'),
	CHECK ((sale_seq IS NULL) <> (order_id IS NULL))
);
CREATE INDEX lot_draws_lot ON lot_draws (lot_id, id);
CREATE INDEX lot_draws_sale ON lot_draws (sale_seq, line_no) WHERE sale_seq IS NOT NULL;
CREATE INDEX lot_draws_order ON lot_draws (order_id, line_no) WHERE order_id IS NOT NULL;
CREATE TRIGGER lot_draws_no_delete BEFORE DELETE ON lot_draws
BEGIN SELECT RAISE(ABORT, 'lot draws are never removed'); END;
-- Only returned_at may change, and only from NULL: units go back once.
CREATE TRIGGER lot_draws_return_once BEFORE UPDATE ON lot_draws
WHEN OLD.returned_at IS NOT NULL OR NEW.returned_at IS NULL
  OR NEW.lot_id IS NOT OLD.lot_id OR NEW.sale_seq IS NOT OLD.sale_seq
  OR NEW.order_id IS NOT OLD.order_id OR NEW.line_no IS NOT OLD.line_no
  OR NEW.quantity IS NOT OLD.quantity OR NEW.drawn_at IS NOT OLD.drawn_at
BEGIN SELECT RAISE(ABORT, 'a lot draw is put back once, and otherwise never changed'); END;

-- Receiving a lot raises the product's stock in the ledger: a new reason,
-- 'lot'. SQLite cannot change a CHECK in place, so the ledger is copied
-- into a table with the longer list, with its index and triggers (and
-- the integer-only checks of 0007).
CREATE TABLE stock_movements_v10 (
	id          INTEGER PRIMARY KEY,
	product_id  INTEGER NOT NULL REFERENCES products (id),
	delta       INTEGER NOT NULL CHECK (delta <> 0),
	stock_after INTEGER NOT NULL,
	reason      TEXT NOT NULL CHECK (reason = 'initial' OR reason = 'correction'
	            OR reason = 'sale' OR reason = 'sale_void' OR reason = 'order'
	            OR reason = 'order_cancel' OR reason = 'lot'),
	ref         TEXT,
	user_id     INTEGER REFERENCES users (id),
	at          INTEGER NOT NULL,
	CHECK (typeof(delta) = 'integer'),
	CHECK (typeof(stock_after) = 'integer')
);
INSERT INTO stock_movements_v10 (id, product_id, delta, stock_after, reason, ref, user_id, at)
SELECT id, product_id, delta, stock_after, reason, ref, user_id, at FROM stock_movements ORDER BY id;
DROP TABLE stock_movements;
ALTER TABLE stock_movements_v10 RENAME TO stock_movements;
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
