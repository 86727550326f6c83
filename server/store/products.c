#include "store/products.h"

#include <string.h>

#include "text.h"
#include "store/prices.h"
#include "store/stock.h"
#include "store/webhooks.h"
#include "util.h"

const char *const product_categories[] = {"tea", "fruit", "dried_fruit", "grain",
    "vegetable", "meat", "processed", "handicraft", "other", NULL};

bool
product_category_valid(const char *s)
{
	for (const char *const *c = product_categories; *c; c++)
		if (strcmp(s, *c) == 0)
			return true;
	return false;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define FAIL(f, why)                                                                   \
	do {                                                                           \
		*field = (f);                                                          \
		*reason = (why);                                                       \
		return false;                                                          \
	} while (0)

static bool
length_in(const char *s, size_t min, size_t max)
{
	size_t n = utf8_length(s);
	return n >= min && n <= max;
}

bool
product_check(const struct product_in *p, bool check_stock, const char **field,
    const char **reason)
{
	if (p->name == NULL || !length_in(p->name, 1, PRODUCT_NAME_MAX))
		FAIL("name", "must be 1 to " STR(PRODUCT_NAME_MAX) " characters long");
	if (p->category == NULL || !product_category_valid(p->category))
		FAIL("category", "must be one of tea, fruit, dried_fruit, grain, "
		                 "vegetable, meat, processed, handicraft, other");
	if (p->unit == NULL || !length_in(p->unit, 1, PRODUCT_UNIT_MAX))
		FAIL("unit", "must be 1 to " STR(PRODUCT_UNIT_MAX) " characters long");
	if (p->price_fen < 1 || p->price_fen > PRODUCT_PRICE_MAX)
		FAIL("price_fen",
		    "must be an integer from 1 to " STR(PRODUCT_PRICE_MAX));
	if (check_stock && (p->stock < 0 || p->stock > PRODUCT_STOCK_MAX))
		FAIL("stock", "must be an integer from 0 to " STR(PRODUCT_STOCK_MAX));
	if (p->producer_id < 1)
		FAIL("producer_id", "must be the id of a producer");
	if (p->certificate_no != NULL &&
	    !length_in(p->certificate_no, 0, PRODUCT_CERTIFICATE_MAX))
		FAIL("certificate_no",
		    "must be at most " STR(PRODUCT_CERTIFICATE_MAX) " characters long");
	if (p->description != NULL &&
	    !length_in(p->description, 0, PRODUCT_DESCRIPTION_MAX))
		FAIL("description",
		    "must be at most " STR(PRODUCT_DESCRIPTION_MAX) " characters long");
	return true;
}

#define PRODUCT_SELECT                                                                 \
	"SELECT x.id, x.name, x.category, x.unit, x.price_fen, x.stock, "              \
	"x.producer_id, p.name, p.region_code, x.certified, x.certificate_no, "        \
	"x.description, x.active, x.updated_at "                                       \
	"FROM products x JOIN producers p ON p.id = x.producer_id "

static json_t *
nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
product_row(struct db_stmt *st)
{
	char updated[21];
	format_rfc3339(db_col_int64(st, 13), updated);
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:b, s:o, "
	                 "s:o, s:b, s:s}",
	    "id", (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1),
	    "category", db_col_text(st, 2), "unit", db_col_text(st, 3), "price_fen",
	    (json_int_t)db_col_int64(st, 4), "stock", (json_int_t)db_col_int64(st, 5),
	    "producer_id", (json_int_t)db_col_int64(st, 6), "producer_name",
	    db_col_text(st, 7), "region_code", db_col_text(st, 8), "certified",
	    db_col_int(st, 9), "certificate_no", nullable(db_col_text(st, 10)),
	    "description", nullable(db_col_text(st, 11)), "active", db_col_int(st, 12),
	    "updated_at", updated);
}

enum db_status
store_product_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st = db_stmt(db, PRODUCT_SELECT "WHERE x.id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, product_row, out);
}

void
product_from_json(json_t *obj, struct product_in *p)
{
	p->name = json_string_value(json_object_get(obj, "name"));
	p->category = json_string_value(json_object_get(obj, "category"));
	p->unit = json_string_value(json_object_get(obj, "unit"));
	p->price_fen = json_integer_value(json_object_get(obj, "price_fen"));
	p->stock = json_integer_value(json_object_get(obj, "stock"));
	p->producer_id = json_integer_value(json_object_get(obj, "producer_id"));
	p->certified = json_is_true(json_object_get(obj, "certified"));
	p->certificate_no = json_string_value(json_object_get(obj, "certificate_no"));
	p->description = json_string_value(json_object_get(obj, "description"));
	p->active = json_is_true(json_object_get(obj, "active"));
}

enum db_status
store_product_list(struct db *db, const struct product_filter *f, int64_t after_id,
    int limit, json_t **out)
{
	/* q is a substring of the name, case and bytes as they are: % and _
	 * are taken literally (no LIKE, which SQLite folds ASCII case in).
	 * replace() removes q where it occurs: the name changes exactly when
	 * it holds q (instr() is SQLite's alone, strpos() PostgreSQL's). An
	 * empty q is in every name: no filter. */
	struct db_stmt *st = db_stmt(db, PRODUCT_SELECT
	    "WHERE x.id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR p.region_code = ?2) "
	    "AND (CAST(?3 AS TEXT) IS NULL OR x.category = ?3) AND (CAST(?4 AS BIGINT) "
	    "= 0 OR x.producer_id = ?4) "
	    "AND (CAST(?5 AS TEXT) IS NULL OR replace(x.name, ?5, '') <> x.name) "
	    "AND (CAST(?6 AS BIGINT) < 0 OR x.active = ?6) ORDER BY x.id LIMIT ?7");
	db_bind_int64(st, 1, after_id);
	db_bind_text(st, 2, f->region);
	db_bind_text(st, 3, f->category);
	db_bind_int64(st, 4, f->producer_id);
	db_bind_text(st, 5, f->q != NULL && f->q[0] != '\0' ? f->q : NULL);
	db_bind_int64(st, 6, f->active);
	db_bind_int64(st, 7, limit + 1);
	return db_rows(db, st, product_row, out);
}

static enum db_status
producer_exists(struct db *db, int64_t id)
{
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM producers WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_exists(db, st);
}

/* Binds ?1 to ?8, the fields that creating and updating both set. */
static void
bind_product(struct db_stmt *st, const struct product_in *p)
{
	db_bind_text(st, 1, p->name);
	db_bind_text(st, 2, p->category);
	db_bind_text(st, 3, p->unit);
	db_bind_int64(st, 4, p->price_fen);
	db_bind_int64(st, 5, p->producer_id);
	db_bind_int64(st, 6, p->certified);
	db_bind_text(st, 7, p->certificate_no);
	db_bind_text(st, 8, p->description);
}

enum db_status
store_product_create(struct db *db, const struct product_in *p, int64_t user_id,
    int64_t now, int64_t *id)
{
	enum db_status s = producer_exists(db, p->producer_id);
	if (s != DB_OK)
		return s;
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO products (name, category, unit, "
	    "price_fen, stock, producer_id, certified, certificate_no, description, "
	    "active, updated_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, 1, ?9)");
	bind_product(st, p);
	db_bind_int64(st, 9, now);
	if ((s = db_exec_stmt(db, st)) != DB_OK)
		return s;
	*id = db_last_insert_id(db);
	if ((s = price_set(db, *id, p->price_fen, PRICE_INITIAL, user_id, now)) !=
	    DB_OK)
		return s;
	return stock_move(
	    db, *id, p->stock, STOCK_INITIAL, NULL, user_id, now, false, NULL);
}

/* A product's webhook data (arg: its id). */
static enum db_status
product_data(struct db *db, const void *arg, json_t **out)
{
	return store_product_get(db, *(const int64_t *)arg, out);
}

enum db_status
store_product_update(struct db *db, int64_t id, const struct product_in *p,
    bool set_stock, int64_t user_id, int64_t now)
{
	enum db_status s = producer_exists(db, p->producer_id);
	if (s != DB_OK)
		return s;
	struct db_stmt *st = db_stmt(db,
	    "UPDATE products SET name = ?1, category = ?2, "
	    "unit = ?3, price_fen = ?4, producer_id = ?5, certified = ?6, "
	    "certificate_no = ?7, description = ?8, active = ?9, updated_at = ?10 "
	    "WHERE id = ?11 RETURNING stock");
	bind_product(st, p);
	db_bind_int64(st, 9, p->active);
	db_bind_int64(st, 10, now);
	db_bind_int64(st, 11, id);
	s = db_step_one(db, st);
	int64_t stock = s == DB_OK ? db_col_int64(st, 0) : 0;
	/* Finish the statement so its change is complete before the next. */
	if (s == DB_OK && db_step(st) != DB_DONE)
		s = DB_ERROR;
	db_reset(st);
	if (s == DB_OK)
		s = price_set(db, id, p->price_fen, PRICE_CHANGE, user_id, now);
	if (s != DB_OK)
		return s;
	if (!set_stock)
		return webhook_emit(
		    db, WEBHOOK_PRODUCT_UPDATED, now, product_data, &id);
	int64_t delta;
	if (__builtin_sub_overflow(p->stock, stock, &delta))
		return DB_CONSTRAINT;
	s = stock_move(
	    db, id, delta, STOCK_CORRECTION, NULL, user_id, now, false, NULL);
	if (s == DB_OK)
		s = webhook_emit(db, WEBHOOK_PRODUCT_UPDATED, now, product_data, &id);
	return s;
}
