-- 0013: the takings of each market day, per market day and recorded_date
-- (see schema/0013_market_day_rollup.sql).
CREATE TABLE report_market_day (
	market_day_id bigint NOT NULL,
	date          text COLLATE "C" NOT NULL,
	sales         bigint NOT NULL,
	total_fen     bigint NOT NULL,
	PRIMARY KEY (market_day_id, date)
);

INSERT INTO report_market_day (market_day_id, date, sales, total_fen)
SELECT market_day_id, recorded_date, count(*), sum(total_fen)
FROM sales
WHERE voided = 0
GROUP BY market_day_id, recorded_date;
