-- Webhooks (API.md 1.1, "Webhooks"): the endpoints admins subscribe, the
-- outbox of events, one delivery a (event, endpoint) and every attempt of
-- it. server/store/webhooks.c writes an event and its deliveries in the
-- same transaction as the change it reports, so an event exists exactly
-- when its change was committed; the delivery worker
-- (server/webhook_worker.c) records each attempt and the next due time in
-- one transaction, so a restart carries on where it stopped.

CREATE TABLE webhook_endpoints (
	id          INTEGER PRIMARY KEY,
	url         TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
	-- "whsec_" and the base64 of 32 random bytes; shown once, at creation.
	secret      TEXT NOT NULL CHECK (length(secret) = 50 AND substr(secret, 1, 6) = 'whsec_'),
	-- The subscribed event types, a JSON array in the contract's order,
	-- and the same set as bits (store/webhooks.h, enum webhook_type).
	events      TEXT NOT NULL,
	event_mask  INTEGER NOT NULL CHECK (typeof(event_mask) = 'integer' AND event_mask > 0),
	description TEXT,
	active      INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
	created_at  INTEGER NOT NULL CHECK (typeof(created_at) = 'integer'),
	created_by  INTEGER REFERENCES users (id)
);

-- The outbox. The id is the event's webhook-id: AUTOINCREMENT, so an id
-- is never given twice, not even after the newest event is deleted.
CREATE TABLE webhook_events (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	type TEXT NOT NULL CHECK (type = 'order.placed' OR type = 'order.paid' OR
	    type = 'order.ready' OR type = 'order.fulfilled' OR
	    type = 'order.cancelled' OR type = 'sale.recorded' OR
	    type = 'sale.voided' OR type = 'market_day.updated' OR
	    type = 'product.updated' OR type = 'lot.received'),
	at   INTEGER NOT NULL CHECK (typeof(at) = 'integer'), -- seconds since the epoch
	body TEXT NOT NULL -- the delivery's body, {"type", "timestamp", "data"}
);

-- What is left to do: one row per event and subscribed endpoint.
CREATE TABLE webhook_deliveries (
	id          INTEGER PRIMARY KEY,
	event_id    INTEGER NOT NULL REFERENCES webhook_events (id),
	endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	state       TEXT NOT NULL DEFAULT 'pending'
	    CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
	attempts    INTEGER NOT NULL DEFAULT 0
	    CHECK (typeof(attempts) = 'integer' AND attempts >= 0),
	due_ms      INTEGER NOT NULL CHECK (typeof(due_ms) = 'integer'), -- ms since the epoch
	UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_ms) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);

-- Every attempt, as GET /api/v1/webhooks/{id}/deliveries lists them.
CREATE TABLE webhook_attempts (
	id              INTEGER PRIMARY KEY,
	delivery_id     INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id        INTEGER NOT NULL REFERENCES webhook_events (id),
	attempt         INTEGER NOT NULL CHECK (typeof(attempt) = 'integer' AND attempt >= 1),
	status_code     INTEGER CHECK (status_code IS NULL OR
	    (typeof(status_code) = 'integer' AND status_code BETWEEN 100 AND 999)),
	error           TEXT,
	duration_ms     INTEGER NOT NULL CHECK (typeof(duration_ms) = 'integer' AND duration_ms >= 0),
	at              INTEGER NOT NULL CHECK (typeof(at) = 'integer'),
	next_attempt_at INTEGER CHECK (next_attempt_at IS NULL OR typeof(next_attempt_at) = 'integer')
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
