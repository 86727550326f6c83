-- Institutions (agencies, enterprises, schools, hospitals, communities)
-- buying partner-region products for their canteens, and their yearly
-- plans: the canteen food budget and the share of it reserved for such
-- products (预留份额). Money and counts are integer-only: a REAL or text
-- can never be stored in them.

CREATE TABLE institutions (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind = 'agency' OR kind = 'enterprise' OR
	                kind = 'school' OR kind = 'hospital' OR kind = 'community'),
	subdistrict TEXT NOT NULL,
	venue_id    INTEGER REFERENCES venues (id)
);
CREATE INDEX institutions_kind ON institutions (kind, id);
CREATE INDEX institutions_venue ON institutions (venue_id) WHERE venue_id IS NOT NULL;

CREATE TABLE institution_plans (
	institution_id    INTEGER NOT NULL REFERENCES institutions (id),
	year              INTEGER NOT NULL CHECK (typeof(year) = 'integer' AND
	                      year BETWEEN 2000 AND 2100),
	food_budget_fen   INTEGER NOT NULL CHECK (typeof(food_budget_fen) = 'integer' AND
	                      food_budget_fen >= 0),
	reserved_share_bp INTEGER NOT NULL CHECK (typeof(reserved_share_bp) = 'integer' AND
	                      reserved_share_bp BETWEEN 1 AND 10000),
	updated_at        INTEGER NOT NULL CHECK (typeof(updated_at) = 'integer'),
	PRIMARY KEY (institution_id, year)
) WITHOUT ROWID;
CREATE INDEX institution_plans_year ON institution_plans (year, institution_id);

-- A buyer may be a member of one institution; only a buyer.
ALTER TABLE users ADD COLUMN institution_id INTEGER REFERENCES institutions (id)
	CHECK (institution_id IS NULL OR role = 'buyer');

-- An order placed by a member counts as its institution's procurement:
-- the institution is copied onto the order when it is placed. The index
-- covers what the procurement report reads, so a year of orders is read
-- from it alone, institution by institution.
ALTER TABLE orders ADD COLUMN institution_id INTEGER REFERENCES institutions (id);
CREATE INDEX orders_institution ON orders (institution_id, created_date, status, total_fen)
	WHERE institution_id IS NOT NULL;
