-- The foundation: accounts, the partner-region catalog, venues, and the
-- stock ledger. Times are seconds since the epoch (UTC); money is integer
-- fen; text is UTF-8.

CREATE TABLE regions (
	code        TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 64),
	name        TEXT NOT NULL,
	name_en     TEXT NOT NULL,
	province    TEXT NOT NULL,
	partnership TEXT NOT NULL CHECK (partnership IN ('east_west', 'mountain_sea', 'other'))
) WITHOUT ROWID;

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('buyer', 'operator', 'coordinator', 'admin')),
	region_code   TEXT REFERENCES regions (code),
	active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	CHECK (region_code IS NULL OR role = 'coordinator')
);

-- Only the SHA-256 of a token is kept.
CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_failures (
	id       INTEGER PRIMARY KEY,
	username TEXT NOT NULL,
	at       INTEGER NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

CREATE TABLE producers (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL,
	region_code     TEXT NOT NULL REFERENCES regions (code),
	kind            TEXT NOT NULL CHECK (kind IN ('cooperative', 'enterprise', 'association', 'household', 'workshop')),
	households      INTEGER NOT NULL CHECK (households >= 0),
	poor_households INTEGER NOT NULL CHECK (poor_households >= 0 AND poor_households <= households),
	contact_phone   TEXT
);
CREATE INDEX producers_region ON producers (region_code);

CREATE TABLE products (
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
	updated_at     INTEGER NOT NULL
);
CREATE INDEX products_producer ON products (producer_id);

-- The stock ledger: every change of products.stock is one row here,
-- written in the same transaction. Rows are never changed or removed.
CREATE TABLE stock_movements (
	id          INTEGER PRIMARY KEY,
	product_id  INTEGER NOT NULL REFERENCES products (id),
	delta       INTEGER NOT NULL CHECK (delta <> 0),
	stock_after INTEGER NOT NULL,
	reason      TEXT NOT NULL CHECK (reason IN ('initial', 'correction', 'sale', 'sale_void', 'order', 'order_cancel')),
	ref         TEXT,
	user_id     INTEGER REFERENCES users (id),
	at          INTEGER NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;

CREATE TABLE venues (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('street_market', 'community', 'counter', 'institution')),
	subdistrict TEXT NOT NULL,
	address     TEXT
);
