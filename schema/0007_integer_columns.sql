-- Money and counts are integers, and only integers (issue 16).
--
-- SQLite turns an integer sum that overflows 64 bits into a REAL: an
-- `UPDATE products SET stock = stock + ?` or a rollup upsert past
-- 9223372036854775807 would silently store an approximate float, out of
-- reach of the C overflow checks. Every money (_fen) and count column of
-- the tables below gets CHECK (typeof(x) = 'integer'), so such a write
-- fails with SQLITE_CONSTRAINT and its transaction is undone (the handler
-- answers 500), instead of going REAL.
--
-- SQLite cannot add a CHECK to an existing table, so each table is
-- rebuilt following SQLite's documented procedure for other kinds of
-- table schema changes (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): foreign keys are off
-- while migrations run (db.c) and checked before the commit; the
-- triggers are dropped first (a trigger of one table may name another)
-- and made again at the end exactly as they were; for each table a new
-- one is created with the same columns, in the same order, plus the
-- CHECKs; the rows are copied; the old table is dropped; the new one is
-- renamed; its indexes are made again as they were. Every row is kept,
-- with its rowid. Nothing else changes.

-- The triggers, made again at the end.
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TRIGGER order_events_no_delete;
DROP TRIGGER order_events_no_update;
DROP TRIGGER price_history_no_delete;
DROP TRIGGER price_history_no_update;
DROP TRIGGER report_producer_moves;
DROP TRIGGER report_product_moves;
DROP TRIGGER stock_movements_no_delete;
DROP TRIGGER stock_movements_no_update;

-- producers: households, poor_households
CREATE TABLE producers_new (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL,
	region_code     TEXT NOT NULL REFERENCES regions (code),
	kind            TEXT NOT NULL CHECK (kind IN ('cooperative', 'enterprise', 'association', 'household', 'workshop')),
	households      INTEGER NOT NULL CHECK (households >= 0),
	poor_households INTEGER NOT NULL CHECK (poor_households >= 0 AND poor_households <= households),
	contact_phone   TEXT,
	CHECK (typeof(households) = 'integer'),
	CHECK (typeof(poor_households) = 'integer')
);
INSERT INTO producers_new SELECT * FROM producers;
DROP TABLE producers;
ALTER TABLE producers_new RENAME TO producers;
CREATE INDEX producers_region ON producers (region_code);

-- products: price_fen, stock
CREATE TABLE products_new (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL,
	category       TEXT NOT NULL CHECK (category IN ('tea', 'fruit', 'dried_fruit', 'grain', 'vegetable', 'meat', 'processed', 'handicraft', 'other')),
	unit           TEXT NOT NULL,
	price_fen      INTEGER NOT NULL CHECK (price_fen >= 1),
	stock          INTEGER NOT NULL,
	producer_id    INTEGER NOT NULL REFERENCES producers (id),
	certified      INTEGER NOT NULL DEFAULT 0 CHECK (certified IN (0, 1)),
	certificate_no TEXT,
	description    TEXT,
	active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	updated_at     INTEGER NOT NULL,
	CHECK (typeof(price_fen) = 'integer'),
	CHECK (typeof(stock) = 'integer')
);
INSERT INTO products_new SELECT * FROM products;
DROP TABLE products;
ALTER TABLE products_new RENAME TO products;
CREATE INDEX products_producer ON products (producer_id);

-- stock_movements: delta, stock_after
CREATE TABLE stock_movements_new (
	id          INTEGER PRIMARY KEY,
	product_id  INTEGER NOT NULL REFERENCES products (id),
	delta       INTEGER NOT NULL CHECK (delta <> 0),
	stock_after INTEGER NOT NULL,
	reason      TEXT NOT NULL CHECK (reason IN ('initial', 'correction', 'sale', 'sale_void', 'order', 'order_cancel')),
	ref         TEXT,
	user_id     INTEGER REFERENCES users (id),
	at          INTEGER NOT NULL,
	CHECK (typeof(delta) = 'integer'),
	CHECK (typeof(stock_after) = 'integer')
);
INSERT INTO stock_movements_new SELECT * FROM stock_movements;
DROP TABLE stock_movements;
ALTER TABLE stock_movements_new RENAME TO stock_movements;
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

-- price_history: price_fen
CREATE TABLE price_history_new (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES products (id),
	price_fen  INTEGER NOT NULL CHECK (price_fen >= 1),
	from_at    INTEGER NOT NULL, -- seconds since the epoch
	reason     TEXT NOT NULL CHECK (reason IN ('initial', 'change', 'backfill')),
	user_id    INTEGER REFERENCES users (id),
	CHECK (typeof(price_fen) = 'integer')
);
INSERT INTO price_history_new SELECT * FROM price_history;
DROP TABLE price_history;
ALTER TABLE price_history_new RENAME TO price_history;
CREATE INDEX price_history_product_from ON price_history (product_id, from_at);

-- sales: total_fen
CREATE TABLE sales_new (
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	stall_id      INTEGER NOT NULL REFERENCES stalls (id),
	market_day_id INTEGER NOT NULL REFERENCES market_days (id),
	operator_id   INTEGER NOT NULL REFERENCES users (id),
	recorded_at   INTEGER NOT NULL,
	recorded_date TEXT NOT NULL,   -- Asia/Shanghai day of recorded_at, for reports
	received_at   INTEGER NOT NULL,
	payment       TEXT NOT NULL CHECK (payment IN ('cash', 'wechat', 'alipay', 'card', 'other')),
	total_fen     INTEGER NOT NULL CHECK (total_fen >= 0),
	fingerprint   TEXT NOT NULL,
	voided        INTEGER NOT NULL DEFAULT 0 CHECK (voided IN (0, 1)),
	void_reason   TEXT,
	voided_at     INTEGER,
	voided_by     INTEGER REFERENCES users (id),
	CHECK (typeof(total_fen) = 'integer')
);
INSERT INTO sales_new SELECT * FROM sales;
DROP TABLE sales;
ALTER TABLE sales_new RENAME TO sales;
CREATE INDEX sales_market_day ON sales (market_day_id, seq);
CREATE INDEX sales_recorded_date ON sales (recorded_date);
CREATE INDEX sales_stall ON sales (stall_id, seq);

-- sale_lines: quantity, unit_price_fen, amount_fen
CREATE TABLE sale_lines_new (
	sale_seq       INTEGER NOT NULL REFERENCES sales (seq),
	line_no        INTEGER NOT NULL,
	product_id     INTEGER NOT NULL REFERENCES products (id),
	quantity       INTEGER NOT NULL CHECK (quantity >= 1),
	unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0),
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	PRIMARY KEY (sale_seq, line_no),
	CHECK (typeof(quantity) = 'integer'),
	CHECK (typeof(unit_price_fen) = 'integer'),
	CHECK (typeof(amount_fen) = 'integer')
) WITHOUT ROWID;
INSERT INTO sale_lines_new SELECT * FROM sale_lines;
DROP TABLE sale_lines;
ALTER TABLE sale_lines_new RENAME TO sale_lines;
CREATE INDEX sale_lines_product ON sale_lines (product_id);

-- orders: total_fen, refund_fen
CREATE TABLE orders_new (
	id            INTEGER PRIMARY KEY,
	buyer_id      INTEGER NOT NULL REFERENCES users (id),
	status        TEXT NOT NULL DEFAULT 'placed'
	              CHECK (status IN ('placed', 'paid', 'ready', 'fulfilled', 'cancelled')),
	total_fen     INTEGER NOT NULL CHECK (total_fen >= 0),
	refund_fen    INTEGER NOT NULL DEFAULT 0 CHECK (refund_fen >= 0 AND refund_fen <= total_fen),
	fulfillment   TEXT NOT NULL CHECK (fulfillment IN ('pickup', 'delivery')),
	market_day_id INTEGER REFERENCES market_days (id),
	address       TEXT,            -- delivery: JSON {name, phone, line1, city}
	note          TEXT,
	created_at    INTEGER NOT NULL,
	created_date  TEXT NOT NULL,   -- Asia/Shanghai day of created_at, for reports
	updated_at    INTEGER NOT NULL,
	CHECK ((fulfillment = 'pickup') = (market_day_id IS NOT NULL)),
	CHECK ((fulfillment = 'delivery') = (address IS NOT NULL)),
	CHECK (typeof(total_fen) = 'integer'),
	CHECK (typeof(refund_fen) = 'integer')
);
INSERT INTO orders_new SELECT * FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_buyer ON orders (buyer_id, id);
CREATE INDEX orders_created_date ON orders (created_date);
CREATE INDEX orders_market_day ON orders (market_day_id, id) WHERE market_day_id IS NOT NULL;

-- order_lines: quantity, unit_price_fen, amount_fen
CREATE TABLE order_lines_new (
	order_id       INTEGER NOT NULL REFERENCES orders (id),
	line_no        INTEGER NOT NULL,
	product_id     INTEGER NOT NULL REFERENCES products (id),
	quantity       INTEGER NOT NULL CHECK (quantity >= 1),
	unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0),
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	PRIMARY KEY (order_id, line_no),
	UNIQUE (order_id, product_id),
	CHECK (typeof(quantity) = 'integer'),
	CHECK (typeof(unit_price_fen) = 'integer'),
	CHECK (typeof(amount_fen) = 'integer')
) WITHOUT ROWID;
INSERT INTO order_lines_new SELECT * FROM order_lines;
DROP TABLE order_lines;
ALTER TABLE order_lines_new RENAME TO order_lines;
CREATE INDEX order_lines_product ON order_lines (product_id);

-- payments: amount_fen
CREATE TABLE payments_new (
	transaction_id TEXT PRIMARY KEY,
	order_id       INTEGER NOT NULL REFERENCES orders (id),
	provider       TEXT NOT NULL,
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	received_at    INTEGER NOT NULL,
	CHECK (typeof(amount_fen) = 'integer')
) WITHOUT ROWID;
INSERT INTO payments_new SELECT * FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_order ON payments (order_id);

-- report_day: stall_sales, orders
CREATE TABLE report_day_new (
	date        TEXT PRIMARY KEY,
	stall_sales INTEGER NOT NULL,
	orders      INTEGER NOT NULL,
	CHECK (typeof(stall_sales) = 'integer'),
	CHECK (typeof(orders) = 'integer')
) WITHOUT ROWID;
INSERT INTO report_day_new SELECT * FROM report_day;
DROP TABLE report_day;
ALTER TABLE report_day_new RENAME TO report_day;

-- report_product_day: units, holiday_market_fen, caravan_fen, counter_fen, five_into_fen, online_fen
CREATE TABLE report_product_day_new (
	product_id         INTEGER NOT NULL,
	date               TEXT NOT NULL,   -- YYYY-MM-DD
	units              INTEGER NOT NULL,
	holiday_market_fen INTEGER NOT NULL,
	caravan_fen        INTEGER NOT NULL,
	counter_fen        INTEGER NOT NULL,
	five_into_fen      INTEGER NOT NULL,
	online_fen         INTEGER NOT NULL,
	PRIMARY KEY (product_id, date),
	CHECK (typeof(units) = 'integer'),
	CHECK (typeof(holiday_market_fen) = 'integer'),
	CHECK (typeof(caravan_fen) = 'integer'),
	CHECK (typeof(counter_fen) = 'integer'),
	CHECK (typeof(five_into_fen) = 'integer'),
	CHECK (typeof(online_fen) = 'integer')
) WITHOUT ROWID;
INSERT INTO report_product_day_new SELECT * FROM report_product_day;
DROP TABLE report_product_day;
ALTER TABLE report_product_day_new RENAME TO report_product_day;

-- report_product_month: units, holiday_market_fen, caravan_fen, counter_fen, five_into_fen, online_fen
CREATE TABLE report_product_month_new (
	product_id         INTEGER NOT NULL,
	month              TEXT NOT NULL,   -- YYYY-MM
	units              INTEGER NOT NULL,
	holiday_market_fen INTEGER NOT NULL,
	caravan_fen        INTEGER NOT NULL,
	counter_fen        INTEGER NOT NULL,
	five_into_fen      INTEGER NOT NULL,
	online_fen         INTEGER NOT NULL,
	PRIMARY KEY (product_id, month),
	CHECK (typeof(units) = 'integer'),
	CHECK (typeof(holiday_market_fen) = 'integer'),
	CHECK (typeof(caravan_fen) = 'integer'),
	CHECK (typeof(counter_fen) = 'integer'),
	CHECK (typeof(five_into_fen) = 'integer'),
	CHECK (typeof(online_fen) = 'integer')
) WITHOUT ROWID;
INSERT INTO report_product_month_new SELECT * FROM report_product_month;
DROP TABLE report_product_month;
ALTER TABLE report_product_month_new RENAME TO report_product_month;

-- report_region_day: stall_sales, orders
CREATE TABLE report_region_day_new (
	region_code TEXT NOT NULL,
	date        TEXT NOT NULL,
	stall_sales INTEGER NOT NULL,
	orders      INTEGER NOT NULL,
	PRIMARY KEY (region_code, date),
	CHECK (typeof(stall_sales) = 'integer'),
	CHECK (typeof(orders) = 'integer')
) WITHOUT ROWID;
INSERT INTO report_region_day_new SELECT * FROM report_region_day;
DROP TABLE report_region_day;
ALTER TABLE report_region_day_new RENAME TO report_region_day;

-- The triggers, as they were.
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;
CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;
CREATE TRIGGER price_history_no_delete BEFORE DELETE ON price_history
BEGIN SELECT RAISE(ABORT, 'the price history is append-only'); END;
CREATE TRIGGER price_history_no_update BEFORE UPDATE ON price_history
BEGIN SELECT RAISE(ABORT, 'the price history is append-only'); END;
CREATE TRIGGER report_producer_moves AFTER UPDATE OF region_code ON producers
WHEN OLD.region_code IS NOT NEW.region_code
BEGIN
	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT OLD.region_code, s.recorded_date, -count(*), 0
	FROM sales s
	WHERE s.voided = 0
	  AND s.seq IN (SELECT l.sale_seq FROM sale_lines l
	      JOIN products x ON x.id = l.product_id WHERE x.producer_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM sale_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.sale_seq = s.seq AND p.region_code = OLD.region_code)
	GROUP BY s.recorded_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET stall_sales = stall_sales + excluded.stall_sales;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT NEW.region_code, s.recorded_date, count(*), 0
	FROM sales s
	WHERE s.voided = 0
	  AND s.seq IN (SELECT l.sale_seq FROM sale_lines l
	      JOIN products x ON x.id = l.product_id WHERE x.producer_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM sale_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.sale_seq = s.seq AND x.producer_id <> NEW.id
	        AND p.region_code = NEW.region_code)
	GROUP BY s.recorded_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET stall_sales = stall_sales + excluded.stall_sales;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT OLD.region_code, o.created_date, 0, -count(*)
	FROM orders o
	WHERE o.status IN ('paid', 'ready', 'fulfilled')
	  AND o.id IN (SELECT l.order_id FROM order_lines l
	      JOIN products x ON x.id = l.product_id WHERE x.producer_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM order_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.order_id = o.id AND p.region_code = OLD.region_code)
	GROUP BY o.created_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET orders = orders + excluded.orders;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT NEW.region_code, o.created_date, 0, count(*)
	FROM orders o
	WHERE o.status IN ('paid', 'ready', 'fulfilled')
	  AND o.id IN (SELECT l.order_id FROM order_lines l
	      JOIN products x ON x.id = l.product_id WHERE x.producer_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM order_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.order_id = o.id AND x.producer_id <> NEW.id
	        AND p.region_code = NEW.region_code)
	GROUP BY o.created_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET orders = orders + excluded.orders;
END;
CREATE TRIGGER report_product_moves AFTER UPDATE OF producer_id ON products
WHEN (SELECT region_code FROM producers WHERE id = OLD.producer_id) IS NOT
     (SELECT region_code FROM producers WHERE id = NEW.producer_id)
BEGIN
	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT (SELECT region_code FROM producers WHERE id = OLD.producer_id),
	       s.recorded_date, -count(*), 0
	FROM sales s
	WHERE s.voided = 0
	  AND s.seq IN (SELECT sale_seq FROM sale_lines WHERE product_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM sale_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.sale_seq = s.seq AND p.region_code =
	          (SELECT region_code FROM producers WHERE id = OLD.producer_id))
	GROUP BY s.recorded_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET stall_sales = stall_sales + excluded.stall_sales;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT (SELECT region_code FROM producers WHERE id = NEW.producer_id),
	       s.recorded_date, count(*), 0
	FROM sales s
	WHERE s.voided = 0
	  AND s.seq IN (SELECT sale_seq FROM sale_lines WHERE product_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM sale_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.sale_seq = s.seq AND l.product_id <> NEW.id AND p.region_code =
	          (SELECT region_code FROM producers WHERE id = NEW.producer_id))
	GROUP BY s.recorded_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET stall_sales = stall_sales + excluded.stall_sales;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT (SELECT region_code FROM producers WHERE id = OLD.producer_id),
	       o.created_date, 0, -count(*)
	FROM orders o
	WHERE o.status IN ('paid', 'ready', 'fulfilled')
	  AND o.id IN (SELECT order_id FROM order_lines WHERE product_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM order_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.order_id = o.id AND p.region_code =
	          (SELECT region_code FROM producers WHERE id = OLD.producer_id))
	GROUP BY o.created_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET orders = orders + excluded.orders;

	INSERT INTO report_region_day (region_code, date, stall_sales, orders)
	SELECT (SELECT region_code FROM producers WHERE id = NEW.producer_id),
	       o.created_date, 0, count(*)
	FROM orders o
	WHERE o.status IN ('paid', 'ready', 'fulfilled')
	  AND o.id IN (SELECT order_id FROM order_lines WHERE product_id = NEW.id)
	  AND NOT EXISTS (SELECT 1 FROM order_lines l
	      JOIN products x ON x.id = l.product_id
	      JOIN producers p ON p.id = x.producer_id
	      WHERE l.order_id = o.id AND l.product_id <> NEW.id AND p.region_code =
	          (SELECT region_code FROM producers WHERE id = NEW.producer_id))
	GROUP BY o.created_date
	ON CONFLICT (region_code, date) DO UPDATE
	SET orders = orders + excluded.orders;
END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
