/*
 * The payment provider's callback: POST /api/v1/payments/callback.
 *
 * The provider signs the raw body with HMAC-SHA256 under the configured
 * payment secret (its bytes as configured) and sends the hex in
 * X-Signature. The signature is checked, in constant time, before
 * anything reads what the body says; without a configured secret every
 * callback is refused. A valid callback for a placed order records the
 * payment and makes the order paid, in one write transaction; the same
 * transaction id again changes nothing.
 */
#include "api/api.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "store/orders.h"

#define SIGNATURE_LEN 64 /* hex of 32 bytes */

/* Whether sig (hex, either case) is the HMAC-SHA256 of body under the
 * configured secret; never with no secret. Constant time. */
static bool
signature_matches(
    const struct config *cfg, const char *sig, const void *body, size_t len)
{
	const char *secret = cfg->payment_secret;
	char want[SIGNATURE_LEN + 1], got[SIGNATURE_LEN + 1];
	if (secret == NULL || sig == NULL || strlen(sig) != SIGNATURE_LEN)
		return false;
	for (size_t i = 0; i < SIGNATURE_LEN; i++)
		got[i] = (char)tolower((unsigned char)sig[i]);
	got[SIGNATURE_LEN] = '\0';
	hmac_sha256_hex(secret, strlen(secret), body, len, want);
	return ct_equal(want, got, SIGNATURE_LEN);
}

/*
 * Applies a payment whose signature was checked: f is the callback's
 * body {order_id, amount_fen, provider, transaction_id}. Replies.
 */
static void
apply_payment(struct request *r, struct fields f)
{
	struct order_state state;
	struct order_scope all = {0};
	json_t *order = NULL;
	int64_t order_id, amount, paid_order;
	const char *provider, *transaction_id;
	enum db_status st;

	if (!f_int(f, "order_id", F_REQUIRED, 1, INT64_MAX, &order_id, NULL) ||
	    !f_int(f, "amount_fen", F_REQUIRED, 0, INT64_MAX, &amount, NULL) ||
	    !f_string(f, "provider", F_REQUIRED, 1, 64, &provider, NULL) ||
	    !f_string(f, "transaction_id", F_REQUIRED, 1, 128, &transaction_id, NULL))
		goto out;
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	/* An order id in a body that names nothing is a validation error
	 * of that field (API.md, Conventions). */
	st = store_order_state(r->db, order_id, &all, &state);
	if (st == DB_NOT_FOUND) {
		reply_error(r, E_VALIDATION, "order_id", "no order %" PRId64, order_id);
		goto out;
	}
	if (!db_ok(r, st))
		goto out;
	if (amount != state.total_fen) {
		reply_error(r, E_VALIDATION, "amount_fen",
		    "order %" PRId64 " is %" PRId64 " fen, not %" PRId64, order_id,
		    state.total_fen, amount);
		goto out;
	}
	st = store_payment_order(r->db, transaction_id, &paid_order);
	if (st == DB_OK && paid_order != order_id) {
		reply_error(r, E_IDEMPOTENCY_MISMATCH, "transaction_id",
		    "transaction %s paid another order", transaction_id);
		goto out;
	}
	if (st == DB_OK) {
		/* Told twice: the order as it is, nothing changes. */
		if (db_ok(r, store_order_get(r->db, order_id, false, &order)))
			reply_json(r, 200, order);
		order = NULL;
		goto out;
	}
	if (!db_ok(r, st == DB_NOT_FOUND ? DB_OK : st))
		goto out;
	if (state.status != ORDER_PLACED) {
		reply_error(r, E_INVALID_STATE, NULL,
		    "order %" PRId64 " is %s: it "
		    "cannot be paid",
		    order_id, order_status_name(state.status));
		goto out;
	}
	if (!db_ok(r, store_payment_add(
	                  r->db, transaction_id, order_id, provider, amount, r->now)) ||
	    !db_ok(r, store_order_set_status(
	                  r->db, order_id, ORDER_PLACED, ORDER_PAID, 0, r->now)) ||
	    !db_ok(r, store_order_get(r->db, order_id, false, &order)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, order);
	order = NULL;
out:
	db_rollback(r->db); /* a no-op once committed */
	json_decref(order);
}

static void
payment_callback(struct request *r)
{
	if (!signature_matches(
	        r->cfg, req_header(r, "X-Signature"), r->raw_body, r->raw_len)) {
		reply_error(r, E_UNAUTHORIZED, NULL,
		    "X-Signature is missing or does not match the body");
		return;
	}
	apply_payment(r, fields_of(r));
}

/*
 * The demo payment step, POST /api/v1/demo/payments/{order_id}, routed
 * only with --demo (the router does not match it otherwise, so it is a 404
 * like any unknown path). It stands in for the provider: for the caller's
 * own order it writes the callback the provider would send, {order_id,
 * amount_fen: the order's total, provider: "demo", transaction_id:
 * "demo-<id>"}, signs it with the configured (demo) secret, checks that
 * signature as the callback route does, and applies it. Paying twice is
 * the same transaction again: 200, nothing changes.
 */
static void
demo_payment(struct request *r)
{
	struct order_scope mine = {.buyer_id = r->user.id};
	struct order_state state;
	int64_t id = req_param_id(r, 0);
	char sig[SIGNATURE_LEN + 1], tx[32];
	json_t *body = NULL;
	char *text = NULL;
	enum db_status st = DB_NOT_FOUND;

	if (id > 0)
		st = store_order_state(r->db, id, &mine, &state);
	if (st == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no order %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, st))
		goto out;
	if (r->cfg->payment_secret == NULL) {
		reply_error(r, E_INVALID_STATE, NULL,
		    "this demo has no payment secret to sign the payment with");
		goto out;
	}
	snprintf(tx, sizeof(tx), "demo-%" PRId64, id);
	body = json_pack("{sI sI ss ss}", "order_id", (json_int_t)id, "amount_fen",
	    (json_int_t)state.total_fen, "provider", "demo", "transaction_id", tx);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (text == NULL) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	const char *secret = r->cfg->payment_secret;
	hmac_sha256_hex(secret, strlen(secret), text, strlen(text), sig);
	if (!signature_matches(r->cfg, sig, text, strlen(text))) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	apply_payment(r, (struct fields){.r = r, .obj = body, .prefix = ""});
out:
	free(text);
	json_decref(body);
}

const struct route payments_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/payments/callback",
        .handler = payment_callback,
        .roles = ROLES_ANYONE,
        .body = true},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/demo/payments/{id}",
        .handler = demo_payment,
        .roles = ROLE_BUYER,
        .demo = true},
    {0},
};
