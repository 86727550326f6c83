-- The procurement report's rollup (API.md 1.1, "Institutions and reserved
-- procurement shares"): per institution and calendar year of created_date,
-- the counted orders (paid, ready or fulfilled) its members placed and
-- what they add up to. Summing a year of orders row by row took over
-- 100 ms for 10,000 institutions (tools/bench); this is read instead, one
-- row an institution. It moves with the product and region rollups, in
-- the same transaction, where an order enters or leaves a counted status
-- (server/store/rollup.c); `marketctl check` recomputes it from the
-- orders, and `check --repair-rollups` rebuilds it. A row whose figures
-- are zero means the same as no row.
CREATE TABLE report_institution_year (
	institution_id INTEGER NOT NULL,
	year           INTEGER NOT NULL CHECK (typeof(year) = 'integer'),
	orders         INTEGER NOT NULL CHECK (typeof(orders) = 'integer'),
	purchased_fen  INTEGER NOT NULL CHECK (typeof(purchased_fen) = 'integer'),
	PRIMARY KEY (year, institution_id)
) WITHOUT ROWID;

INSERT INTO report_institution_year (institution_id, year, orders, purchased_fen)
SELECT institution_id, CAST(substr(created_date, 1, 4) AS INTEGER), count(*),
       sum(total_fen)
FROM orders
WHERE institution_id IS NOT NULL AND status IN ('paid', 'ready', 'fulfilled')
GROUP BY institution_id, substr(created_date, 1, 4);
