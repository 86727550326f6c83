-- Online orders, their lines, status history, payments and idempotency keys.

CREATE TABLE orders (
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
	CHECK ((fulfillment = 'delivery') = (address IS NOT NULL))
);
CREATE INDEX orders_buyer ON orders (buyer_id, id);
CREATE INDEX orders_market_day ON orders (market_day_id, id) WHERE market_day_id IS NOT NULL;
CREATE INDEX orders_created_date ON orders (created_date);

-- Prices are copied from the catalog when the order is placed.
CREATE TABLE order_lines (
	order_id       INTEGER NOT NULL REFERENCES orders (id),
	line_no        INTEGER NOT NULL,
	product_id     INTEGER NOT NULL REFERENCES products (id),
	quantity       INTEGER NOT NULL CHECK (quantity >= 1),
	unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0),
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	PRIMARY KEY (order_id, line_no),
	UNIQUE (order_id, product_id)
) WITHOUT ROWID;
CREATE INDEX order_lines_product ON order_lines (product_id);

-- Every status change of an order, append-only: the order's history.
CREATE TABLE order_events (
	id          INTEGER PRIMARY KEY,
	order_id    INTEGER NOT NULL REFERENCES orders (id),
	from_status TEXT,              -- NULL when the order was placed
	to_status   TEXT NOT NULL,
	user_id     INTEGER REFERENCES users (id), -- NULL for the payment provider
	at          INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;

-- Payments confirmed by the provider; a transaction id counts once.
CREATE TABLE payments (
	transaction_id TEXT PRIMARY KEY,
	order_id       INTEGER NOT NULL REFERENCES orders (id),
	provider       TEXT NOT NULL,
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	received_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX payments_order ON payments (order_id);

-- Idempotency-Key of a buyer's POST /api/v1/orders: the body's
-- fingerprint and the first response, replayed for a retry.
CREATE TABLE idempotency_keys (
	buyer_id    INTEGER NOT NULL REFERENCES users (id),
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	order_id    INTEGER NOT NULL REFERENCES orders (id),
	response    TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (buyer_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
