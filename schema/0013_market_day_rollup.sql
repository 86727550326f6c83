-- The takings of each market day (API.md 1.1, "five_into_sales_fen" in
-- the procurement report): per market day and recorded_date, the stall
-- sales that are not voided and what they add up to. The procurement
-- report summed a year of sales at five-into market days row by row,
-- which grew with the sales (in sqlite3, warm: 15 ms on tools/bench's
-- 1 M sale lines, 90 ms on 10 M); it reads this instead, a row a market
-- day and date. It moves with the other rollups, in the same
-- transaction, where a sale is recorded or voided (server/store/sales.c,
-- server/store/rollup.c); `marketctl check` recomputes it from the sales,
-- and `check --repair-rollups` rebuilds it. A row whose figures are zero means the
-- same as no row.
CREATE TABLE report_market_day (
	market_day_id INTEGER NOT NULL,
	date          TEXT NOT NULL,
	sales         INTEGER NOT NULL CHECK (typeof(sales) = 'integer'),
	total_fen     INTEGER NOT NULL CHECK (typeof(total_fen) = 'integer'),
	PRIMARY KEY (market_day_id, date)
) WITHOUT ROWID;

INSERT INTO report_market_day (market_day_id, date, sales, total_fen)
SELECT market_day_id, recorded_date, count(*), sum(total_fen)
FROM sales
WHERE voided = 0
GROUP BY market_day_id, recorded_date;
