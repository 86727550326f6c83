-- Market days, their stalls, and the sales recorded at them.

CREATE TABLE market_days (
	id        INTEGER PRIMARY KEY,
	venue_id  INTEGER NOT NULL REFERENCES venues (id),
	date      TEXT NOT NULL,   -- YYYY-MM-DD, Asia/Shanghai
	opens_at  TEXT NOT NULL,   -- HH:MM
	closes_at TEXT NOT NULL,   -- HH:MM
	channel   TEXT NOT NULL CHECK (channel IN ('holiday_market', 'caravan', 'counter', 'five_into')),
	title     TEXT,
	status    TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'open', 'closed', 'cancelled')),
	uid       TEXT NOT NULL UNIQUE, -- stable iCalendar UID
	CHECK (opens_at < closes_at),
	UNIQUE (venue_id, date)
);
CREATE INDEX market_days_date ON market_days (date, opens_at, id);

CREATE TABLE stalls (
	id            INTEGER PRIMARY KEY,
	market_day_id INTEGER NOT NULL REFERENCES market_days (id),
	operator_id   INTEGER NOT NULL REFERENCES users (id),
	producer_id   INTEGER NOT NULL REFERENCES producers (id),
	label         TEXT NOT NULL,
	UNIQUE (market_day_id, label)
);
CREATE INDEX stalls_operator ON stalls (operator_id);

-- A sale's id is chosen by the client; seq orders them as they arrived.
-- fingerprint is a hash of the sale as sent, to tell a re-send from a clash.
CREATE TABLE sales (
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
	voided_by     INTEGER REFERENCES users (id)
);
CREATE INDEX sales_stall ON sales (stall_id, seq);
CREATE INDEX sales_market_day ON sales (market_day_id, seq);
CREATE INDEX sales_recorded_date ON sales (recorded_date);

CREATE TABLE sale_lines (
	sale_seq       INTEGER NOT NULL REFERENCES sales (seq),
	line_no        INTEGER NOT NULL,
	product_id     INTEGER NOT NULL REFERENCES products (id),
	quantity       INTEGER NOT NULL CHECK (quantity >= 1),
	unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0),
	amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
	PRIMARY KEY (sale_seq, line_no)
) WITHOUT ROWID;
CREATE INDEX sale_lines_product ON sale_lines (product_id);
