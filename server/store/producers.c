#include "store/producers.h"

#include <string.h>

#include "text.h"
#include "store/catalog.h"

const char *const producer_kinds[] = {
    "cooperative", "enterprise", "association", "household", "workshop", NULL};

static bool
one_of(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (strcmp(s, *values) == 0)
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

bool
producer_check(const struct producer_in *p, const char **field, const char **reason)
{
	if (p->name == NULL || utf8_length(p->name) < 1 ||
	    utf8_length(p->name) > PRODUCER_NAME_MAX)
		FAIL("name", "must be 1 to " STR(PRODUCER_NAME_MAX) " characters long");
	if (p->region_code == NULL || p->region_code[0] == '\0')
		FAIL("region_code", "is required");
	if (p->kind == NULL || !one_of(p->kind, producer_kinds))
		FAIL("kind", "must be one of cooperative, enterprise, association, "
		             "household, workshop");
	if (p->households < 0 || p->households > PRODUCER_HOUSEHOLDS_MAX)
		FAIL("households",
		    "must be an integer from 0 to " STR(PRODUCER_HOUSEHOLDS_MAX));
	if (p->poor_households < 0 || p->poor_households > p->households)
		FAIL("poor_households", "must be an integer from 0 to households");
	if (p->contact_phone != NULL &&
	    utf8_length(p->contact_phone) > PRODUCER_PHONE_MAX)
		FAIL("contact_phone",
		    "must be at most " STR(PRODUCER_PHONE_MAX) " characters long");
	return true;
}

#define PRODUCER_COLS                                                                  \
	"id, name, region_code, kind, households, poor_households, "                   \
	"contact_phone"

static json_t *
producer_row(struct db_stmt *st)
{
	const char *phone = db_col_text(st, 6);
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:o}", "id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "region_code",
	    db_col_text(st, 2), "kind", db_col_text(st, 3), "households",
	    (json_int_t)db_col_int64(st, 4), "poor_households",
	    (json_int_t)db_col_int64(st, 5), "contact_phone",
	    phone ? json_string(phone) : json_null());
}

enum db_status
store_producer_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " PRODUCER_COLS " FROM producers WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, producer_row, out);
}

void
producer_from_json(json_t *obj, struct producer_in *p)
{
	p->name = json_string_value(json_object_get(obj, "name"));
	p->region_code = json_string_value(json_object_get(obj, "region_code"));
	p->kind = json_string_value(json_object_get(obj, "kind"));
	p->households = json_integer_value(json_object_get(obj, "households"));
	p->poor_households =
	    json_integer_value(json_object_get(obj, "poor_households"));
	p->contact_phone = json_string_value(json_object_get(obj, "contact_phone"));
}

enum db_status
store_producer_list(
    struct db *db, const char *region, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db, "SELECT " PRODUCER_COLS " FROM producers "
	                                 "WHERE id > ?1 AND (CAST(?2 AS TEXT) IS NULL "
	                                 "OR region_code = ?2) ORDER BY id LIMIT ?3");
	db_bind_int64(st, 1, after_id);
	db_bind_text(st, 2, region);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, producer_row, out);
}

static void
bind_producer(struct db_stmt *st, const struct producer_in *p)
{
	db_bind_text(st, 1, p->name);
	db_bind_text(st, 2, p->region_code);
	db_bind_text(st, 3, p->kind);
	db_bind_int64(st, 4, p->households);
	db_bind_int64(st, 5, p->poor_households);
	db_bind_text(st, 6, p->contact_phone);
}

enum db_status
store_producer_create(struct db *db, const struct producer_in *p, int64_t *id)
{
	enum db_status s = store_region_exists(db, p->region_code);
	if (s != DB_OK)
		return s;
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO producers (name, region_code, kind, "
	                "households, poor_households, contact_phone) VALUES (?1, ?2, "
	                "?3, ?4, ?5, ?6)");
	bind_producer(st, p);
	s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_producer_update(struct db *db, int64_t id, const struct producer_in *p)
{
	enum db_status s = store_region_exists(db, p->region_code);
	if (s != DB_OK)
		return s;
	struct db_stmt *st = db_stmt(db,
	    "UPDATE producers SET name = ?1, region_code = ?2, "
	    "kind = ?3, households = ?4, poor_households = ?5, contact_phone = ?6 "
	    "WHERE id = ?7");
	bind_producer(st, p);
	db_bind_int64(st, 7, id);
	return db_exec_stmt(db, st);
}
