-- Rollups for the impact report: what the counted stall sales and online
-- orders add up to, kept in the same transaction as each sale, void and
-- order status change (server/store/rollup.c), so a year's report reads
-- a few hundred rows per region instead of millions of lines.
--
-- What counts: stall sales that are not voided, by recorded_date; orders
-- whose status is paid, ready or fulfilled, by created_date. A line
-- counts for the region of its product's producer AS THE CATALOG STANDS
-- NOW: the product rollups are keyed by product (the producer and region
-- are joined in when the report is read), and the one table keyed by
-- region, report_region_day, is moved by the triggers below when a
-- product changes producer or a producer changes region.
--
-- A row whose figures are all zero means the same as no row.
-- `marketctl check` recomputes every table from the raw rows and fails on
-- any difference; `marketctl check --repair-rollups` rebuilds them.

-- Per product and Asia/Shanghai day: units and money by channel.
CREATE TABLE report_product_day (
	product_id         INTEGER NOT NULL,
	date               TEXT NOT NULL,   -- YYYY-MM-DD
	units              INTEGER NOT NULL,
	holiday_market_fen INTEGER NOT NULL,
	caravan_fen        INTEGER NOT NULL,
	counter_fen        INTEGER NOT NULL,
	five_into_fen      INTEGER NOT NULL,
	online_fen         INTEGER NOT NULL,
	PRIMARY KEY (product_id, date)
) WITHOUT ROWID;

-- The same per calendar month, so a year is twelve rows a product; a
-- report reads days only for the partial months at its range's edges.
CREATE TABLE report_product_month (
	product_id         INTEGER NOT NULL,
	month              TEXT NOT NULL,   -- YYYY-MM
	units              INTEGER NOT NULL,
	holiday_market_fen INTEGER NOT NULL,
	caravan_fen        INTEGER NOT NULL,
	counter_fen        INTEGER NOT NULL,
	five_into_fen      INTEGER NOT NULL,
	online_fen         INTEGER NOT NULL,
	PRIMARY KEY (product_id, month)
) WITHOUT ROWID;

-- Per region and day: the counted sales and orders with at least one
-- line in the region (a sale has one day, so days add up).
CREATE TABLE report_region_day (
	region_code TEXT NOT NULL,
	date        TEXT NOT NULL,
	stall_sales INTEGER NOT NULL,
	orders      INTEGER NOT NULL,
	PRIMARY KEY (region_code, date)
) WITHOUT ROWID;

-- Per day: the counted sales and orders overall (one with lines in two
-- regions counts once here).
CREATE TABLE report_day (
	date        TEXT PRIMARY KEY,
	stall_sales INTEGER NOT NULL,
	orders      INTEGER NOT NULL
) WITHOUT ROWID;

-- A product that moves to a producer of another region takes its
-- counted sales and orders along: each one that has no other line in the
-- old region leaves it, each one that had no other line in the new
-- region enters it. Only the sales and orders holding the product are
-- read.
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

-- A producer that moves to another region takes its products' counted
-- sales and orders along, by the same rule.
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
