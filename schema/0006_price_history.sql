-- The price history: every catalog price a product has had, one row from
-- the instant it took effect, written in the same transaction as the
-- change of products.price_fen (server/store/prices.c). Rows are never
-- changed or removed. A product's newest row (by from_at, then id) holds
-- its current price_fen; `marketctl check` verifies it. A stall sale is
-- priced against the row in effect at its recorded_at: the newest with
-- from_at <= recorded_at, or the product's earliest when recorded_at
-- precedes them all.
CREATE TABLE price_history (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES products (id),
	price_fen  INTEGER NOT NULL CHECK (price_fen >= 1),
	from_at    INTEGER NOT NULL, -- seconds since the epoch
	reason     TEXT NOT NULL CHECK (reason IN ('initial', 'change', 'backfill')),
	user_id    INTEGER REFERENCES users (id)
);
-- One seek finds the price in effect at an instant, and walks a product's
-- history newest first (the rowid, id, ends every key of the index).
CREATE INDEX price_history_product_from ON price_history (product_id, from_at);
CREATE TRIGGER price_history_no_update BEFORE UPDATE ON price_history
BEGIN SELECT RAISE(ABORT, 'the price history is append-only'); END;
CREATE TRIGGER price_history_no_delete BEFORE DELETE ON price_history
BEGIN SELECT RAISE(ABORT, 'the price history is append-only'); END;

-- Each product's current price, from the earliest instant known of the
-- product: its first stock movement (the initial stock, written when it
-- was created) or its updated_at, whichever is earlier (updated_at is
-- earlier only where a tool wrote back-dated rows, as marketctl demo
-- does). Not updated_at alone: every sale and order moves it, so a
-- product listed a year ago would show a price change yesterday that
-- never happened. The earliest entry stands for all time before it
-- anyway.
INSERT INTO price_history (product_id, price_fen, from_at, reason)
SELECT p.id, p.price_fen,
       min(p.updated_at, coalesce((SELECT m.at FROM stock_movements m
           WHERE m.product_id = p.id ORDER BY m.id LIMIT 1), p.updated_at)),
       'backfill'
FROM products p ORDER BY p.id;
