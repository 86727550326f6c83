#include "store/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "date.h"
#include "log.h"
#include "util.h"

/* ---- Dates ---------------------------------------------------------- */

const char *
report_range_check(const char *from, const char *to, const char **why)
{
	int fy, fm, fd, ty, tm, td;
	if (!date_parse(from, &fy, &fm, &fd)) {
		*why = "must be a date, YYYY-MM-DD";
		return "from";
	}
	if (!date_parse(to, &ty, &tm, &td)) {
		*why = "must be a date, YYYY-MM-DD";
		return "to";
	}
	int64_t f = date_days_from_civil(fy, fm, fd),
	        t = date_days_from_civil(ty, tm, td);
	if (f > t) {
		*why = "must not be after to";
		return "from";
	}
	if (t >= date_days_from_civil(fy + REPORT_YEARS_MAX, fm, fd)) {
		*why = "the range may cover at most 3 years";
		return "to";
	}
	return NULL;
}

/* The month number (years * 12 + month - 1) of text that starts
 * YYYY-MM. */
static int64_t
month_number(const char *s)
{
	return (int64_t)atoi(s) * 12 + (s[5] - '0') * 10 + (s[6] - '0') - 1;
}

/* ---- One snapshot ---------------------------------------------------- */

/*
 * A report reads with several statements; in one read transaction they
 * all see the same committed state, so a sale recorded meanwhile is in
 * every figure or in none. *began says whether this call began it (a
 * caller already in a transaction keeps its own).
 */
enum db_status
snapshot_begin(struct db *db, bool *began)
{
	return db_snapshot_begin(db, began);
}

void
snapshot_end(struct db *db, bool began)
{
	db_snapshot_end(db, began);
}

/* ---- Figures -------------------------------------------------------- */

static const char *const channels[] = {
    "holiday_market", "caravan", "counter", "five_into", "online"};
#define NCHANNELS 5
#define ONLINE 4

/* What a region (or a month of it, or all of them) adds up to. */
struct figures {
	fen_t fen[NCHANNELS];
	int64_t units, orders, stall_sales;
	int64_t producers, households, poor;
};

/* Adds b to a; false on overflow. */
static bool
figures_add(struct figures *a, const struct figures *b)
{
	for (int i = 0; i < NCHANNELS; i++)
		if (!fen_add(a->fen[i], b->fen[i], &a->fen[i]))
			return false;
	a->units += b->units;
	a->orders += b->orders;
	a->stall_sales += b->stall_sales;
	a->producers += b->producers;
	a->households += b->households;
	a->poor += b->poor;
	return true;
}

/* The figures as fields of obj, in the contract's order; false when a
 * sum is beyond 64 bits. */
static bool
figures_json(json_t *obj, const struct figures *f)
{
	fen_t stall = 0, all = 0;
	for (int i = 0; i < NCHANNELS; i++)
		if (i != ONLINE && !fen_add(stall, f->fen[i], &stall))
			return false;
	if (!fen_add(stall, f->fen[ONLINE], &all))
		return false;
	json_t *by = json_object();
	for (int i = 0; i < NCHANNELS; i++)
		json_object_set_new(by, channels[i], json_integer(f->fen[i]));
	json_object_set_new(obj, "sales_fen", json_integer(all));
	json_object_set_new(obj, "stall_sales_fen", json_integer(stall));
	json_object_set_new(obj, "online_sales_fen", json_integer(f->fen[ONLINE]));
	json_object_set_new(obj, "by_channel", by);
	json_object_set_new(obj, "orders", json_integer(f->orders));
	json_object_set_new(obj, "stall_sales", json_integer(f->stall_sales));
	json_object_set_new(obj, "units", json_integer(f->units));
	json_object_set_new(obj, "producers_with_sales", json_integer(f->producers));
	json_object_set_new(obj, "households", json_integer(f->households));
	json_object_set_new(obj, "poor_households", json_integer(f->poor));
	json_object_set_new(obj, "sales_per_poor_household_fen",
	    json_integer(f->poor > 0 ? all / f->poor : 0));
	return true;
}

/* ---- An id → index map (open addressing) ----------------------------- */

struct idmap {
	int64_t *keys;
	size_t *slots; /* index + 1; 0 is empty */
	size_t cap;    /* a power of two, or 0 */
	size_t n;
};

static void
idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->slots);
}

static size_t
idmap_hash(int64_t key, size_t cap)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 17) & (cap - 1);
}

/* The index of key; when new, it gets index m->n (so the caller appends
 * to its array) and *fresh is set. */
static size_t
idmap_get(struct idmap *m, int64_t key, bool *fresh)
{
	if (2 * (m->n + 1) > m->cap) {
		struct idmap big = {.cap = m->cap ? 2 * m->cap : 64, .n = m->n};
		big.keys = xcalloc(big.cap, sizeof(*big.keys));
		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slots[i] == 0)
				continue;
			size_t j = idmap_hash(m->keys[i], big.cap);
			while (big.slots[j] != 0)
				j = (j + 1) & (big.cap - 1);
			big.keys[j] = m->keys[i];
			big.slots[j] = m->slots[i];
		}
		idmap_free(m);
		*m = big;
	}
	size_t j = idmap_hash(key, m->cap);
	while (m->slots[j] != 0) {
		if (m->keys[j] == key) {
			*fresh = false;
			return m->slots[j] - 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = key;
	m->slots[j] = ++m->n;
	*fresh = true;
	return m->n - 1;
}

/* ---- The impact report ----------------------------------------------- */

#define TOP_MAX 5
/* At most REPORT_YEARS_MAX years, partial months at both ends. */
#define MONTHS_MAX (REPORT_YEARS_MAX * 12 + 1)

struct product_acc {
	int64_t id;
	size_t region;
	size_t producer; /* index into producers */
	int64_t units;
	fen_t fen;
	int64_t edge[2]; /* units in the first and last month, when taken as
	                    the month less the days outside the range */
};

struct producer_acc {
	size_t region;
	int64_t households, poor;
	uint64_t months; /* bit k: a counted line in month k of the range */
};

struct region_acc {
	char *code, *name;
	struct figures month[MONTHS_MAX];
	/* Producers with a counted line in the range, and their households. */
	int64_t producers, households, poor;
	size_t top[TOP_MAX]; /* indexes into products */
	size_t ntop;
};

struct impact {
	const struct impact_query *q;
	int64_t first_month; /* month_number of from */
	size_t nmonths;
	struct region_acc *regions;
	size_t nregions;
	struct idmap product_ids, producer_ids;
	struct product_acc *products;
	struct producer_acc *producers;
	size_t products_cap, producers_cap;
	/* The first (0) and last (1) month of the range, when partial, may
	 * be read as the month's row less the day rows outside the range. */
	bool subtracted[2];
	bool overflow;
};

static void
impact_free(struct impact *im)
{
	for (size_t i = 0; i < im->nregions; i++) {
		free(im->regions[i].code);
		free(im->regions[i].name);
	}
	free(im->regions);
	idmap_free(&im->product_ids);
	idmap_free(&im->producer_ids);
	free(im->products);
	free(im->producers);
}

/* The index of region code, or nregions when it is not in the report. */
static size_t
region_index(const struct impact *im, const char *code)
{
	size_t lo = 0, hi = im->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(code, im->regions[mid].code);
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return im->nregions;
}

static enum db_status
load_regions(struct db *db, struct impact *im)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT code, name FROM regions "
	                "WHERE CAST(?1 AS TEXT) IS NULL OR code = ?1 ORDER BY code");
	db_bind_text(st, 1, im->q->region);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (im->nregions == cap) {
			cap = cap ? 2 * cap : 8;
			im->regions = xrealloc(im->regions, cap * sizeof(*im->regions));
		}
		struct region_acc *r = &im->regions[im->nregions++];
		memset(r, 0, sizeof(*r));
		r->code = xstrdup(db_col_text(st, 0));
		r->name = xstrdup(db_col_text(st, 1));
	}
	db_reset(st);
	if (rc != DB_DONE)
		return DB_ERROR;
	return im->nregions == 0 && im->q->region != NULL ? DB_NOT_FOUND : DB_OK;
}

/* The slot of month k in product_acc.edge, or -1 when month k is read
 * by adding rows only. */
static int
edge_slot(const struct impact *im, int64_t k)
{
	if (k == 0 && im->subtracted[0])
		return 0;
	if ((size_t)k == im->nmonths - 1 && im->subtracted[1])
		return 1;
	return -1;
}

/*
 * Adds the product rollup rows of st, times sign: (region_code,
 * producer_id, households, poor_households, product_id, period, units,
 * five money columns), period a date or a month.
 */
static enum db_status
add_product_rows(struct impact *im, struct db_stmt *st, int sign)
{
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t units = db_col_int64(st, 6);
		if (units == 0)
			continue; /* a row emptied by voids and cancels */
		size_t r = region_index(im, db_col_text(st, 0));
		int64_t k = month_number(db_col_text(st, 5)) - im->first_month;
		if (r == im->nregions || k < 0 || (size_t)k >= im->nmonths)
			continue; /* not asked for */
		struct figures f = {.units = sign * units};
		fen_t fen = 0;
		for (int i = 0; i < NCHANNELS; i++) {
			f.fen[i] = sign * db_col_int64(st, 7 + i);
			if (!fen_add(fen, f.fen[i], &fen))
				im->overflow = true;
		}
		if (!figures_add(&im->regions[r].month[k], &f))
			im->overflow = true;

		bool fresh;
		size_t q = idmap_get(&im->producer_ids, db_col_int64(st, 1), &fresh);
		if (fresh) {
			if (q == im->producers_cap) {
				im->producers_cap =
				    im->producers_cap ? 2 * im->producers_cap : 64;
				im->producers = xrealloc(im->producers,
				    im->producers_cap * sizeof(*im->producers));
			}
			im->producers[q] = (struct producer_acc){.region = r,
			    .households = db_col_int64(st, 2),
			    .poor = db_col_int64(st, 3)};
		}
		size_t p = idmap_get(&im->product_ids, db_col_int64(st, 4), &fresh);
		if (fresh) {
			if (p == im->products_cap) {
				im->products_cap =
				    im->products_cap ? 2 * im->products_cap : 64;
				im->products = xrealloc(im->products,
				    im->products_cap * sizeof(*im->products));
			}
			im->products[p] = (struct product_acc){
			    .id = db_col_int64(st, 4), .region = r, .producer = q};
		}
		im->products[p].units += f.units;
		if (!fen_add(im->products[p].fen, fen, &im->products[p].fen))
			im->overflow = true;
		/* A producer has a counted line in month k when one of its
		 * products has units there; in a month read as a difference,
		 * that is known once all its rows are in (add_edges). */
		int slot = edge_slot(im, k);
		if (slot >= 0)
			im->products[p].edge[slot] += f.units;
		else
			im->producers[q].months |= (uint64_t)1 << k;
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* The producers with a counted line in a month read as a difference. */
static void
add_edges(struct impact *im)
{
	for (size_t i = 0; i < im->product_ids.n; i++)
		for (int slot = 0; slot < 2; slot++)
			if (im->products[i].edge[slot] > 0)
				im->producers[im->products[i].producer].months |=
				    (uint64_t)1 << (slot == 0 ? 0 : im->nmonths - 1);
}

#define PRODUCT_FIGURES                                                                \
	"t.units, t.holiday_market_fen, t.caravan_fen, t.counter_fen, "                \
	"t.five_into_fen, t.online_fen "

/* The product rows of days from..to (inclusive). CROSS JOIN fixes the
 * loop order: the region's producers, their products, then each
 * product's rows by primary key. */
static enum db_status
add_days(struct db *db, struct impact *im, int64_t from, int64_t to, int sign)
{
	char a[11], b[11];
	if (from > to)
		return DB_OK;
	date_format(from, a);
	date_format(to, b);
	struct db_stmt *st;
	if (im->q->region != NULL) {
		st = db_stmt(db, "SELECT p.region_code, p.id, p.households, "
		                 "p.poor_households, x.id, t.date, " PRODUCT_FIGURES
		                 "FROM producers p CROSS JOIN products x CROSS JOIN "
		                 "report_product_day t WHERE p.region_code = ?3 "
		                 "AND x.producer_id = p.id AND t.product_id = x.id "
		                 "AND t.date BETWEEN ?1 AND ?2");
		db_bind_text(st, 3, im->q->region);
	} else {
		st = db_stmt(db,
		    "SELECT p.region_code, p.id, p.households, "
		    "p.poor_households, x.id, t.date, " PRODUCT_FIGURES
		    "FROM products x CROSS JOIN report_product_day t "
		    "JOIN producers p ON p.id = x.producer_id "
		    "WHERE t.product_id = x.id AND t.date BETWEEN ?1 AND ?2");
	}
	db_bind_text(st, 1, a);
	db_bind_text(st, 2, b);
	return add_product_rows(im, st, sign);
}

/* The product rows of months from..to (YYYY-MM, inclusive). */
static enum db_status
add_months(struct db *db, struct impact *im, const char *from, const char *to)
{
	struct db_stmt *st;
	if (im->q->region != NULL) {
		st = db_stmt(db, "SELECT p.region_code, p.id, p.households, "
		                 "p.poor_households, x.id, t.month, " PRODUCT_FIGURES
		                 "FROM producers p CROSS JOIN products x CROSS JOIN "
		                 "report_product_month t WHERE p.region_code = ?3 "
		                 "AND x.producer_id = p.id AND t.product_id = x.id "
		                 "AND t.month BETWEEN ?1 AND ?2");
		db_bind_text(st, 3, im->q->region);
	} else {
		st = db_stmt(db,
		    "SELECT p.region_code, p.id, p.households, "
		    "p.poor_households, x.id, t.month, " PRODUCT_FIGURES
		    "FROM products x CROSS JOIN report_product_month t "
		    "JOIN producers p ON p.id = x.producer_id "
		    "WHERE t.product_id = x.id AND t.month BETWEEN ?1 AND ?2");
	}
	db_bind_text(st, 1, from);
	db_bind_text(st, 2, to);
	return add_product_rows(im, st, +1);
}

/*
 * How to read a partial month whose days from..to (inclusive) are in
 * the range, of the month first..last: true to take the month's row less
 * the day rows outside the range, when there are fewer of those than
 * inside (a range that ends today, say: the rest of the month has none).
 */
static bool
by_difference(int64_t from, int64_t to, int64_t first, int64_t last)
{
	int64_t in = to - from + 1, out = (last - first + 1) - in;
	return out + 1 < in;
}

/*
 * The product rows of the range: whole months from the month rollup.
 * A partial month at either edge is read either as its days in the range
 * from the day rollup, or as its month row less its days outside the
 * range, whichever reads fewer rows.
 */
static enum db_status
add_range(struct db *db, struct impact *im)
{
	int fy, fm, fd, ty, tm, td;
	date_parse(im->q->from, &fy, &fm, &fd);
	date_parse(im->q->to, &ty, &tm, &td);
	int64_t from = date_days_from_civil(fy, fm, fd),
	        to = date_days_from_civil(ty, tm, td);
	/* The first and last month's first and last days. */
	int64_t f1 = date_days_from_civil(fy, fm, 1),
	        f2 = date_days_from_civil(fy, fm + 1, 1) - 1;
	int64_t t1 = date_days_from_civil(ty, tm, 1),
	        t2 = date_days_from_civil(ty, tm + 1, 1) - 1;
	/* Month rows for months m1..m2 (numbers relative to the first), and
	 * day rows: adding in1..in2 and in3..in4, taking away out1..out2 and
	 * out3..out4 (empty when the first is after the second). */
	int64_t m1 = 0, m2 = (int64_t)im->nmonths - 1;
	int64_t in1 = 1, in2 = 0, in3 = 1, in4 = 0, out1 = 1, out2 = 0, out3 = 1,
	        out4 = 0;
	enum db_status s;

	if (im->nmonths == 1) {
		if (from == f1 && to == f2)
			; /* the whole month */
		else if (by_difference(from, to, f1, f2)) {
			im->subtracted[0] = true;
			out1 = f1, out2 = from - 1, out3 = to + 1, out4 = f2;
		} else {
			m2 = -1;
			in1 = from, in2 = to;
		}
	} else {
		if (from != f1) {
			if (by_difference(from, f2, f1, f2)) {
				im->subtracted[0] = true;
				out1 = f1, out2 = from - 1;
			} else {
				m1 = 1;
				in1 = from, in2 = f2;
			}
		}
		if (to != t2) {
			if (by_difference(t1, to, t1, t2)) {
				im->subtracted[1] = true;
				out3 = to + 1, out4 = t2;
			} else {
				m2--;
				in3 = t1, in4 = to;
			}
		}
	}
	if (m1 <= m2) {
		char a[16], b[16];
		int64_t n1 = im->first_month + m1, n2 = im->first_month + m2;
		snprintf(a, sizeof(a), "%04d-%02d", (int)(n1 / 12 % 10000),
		    (int)(n1 % 12 + 1));
		snprintf(b, sizeof(b), "%04d-%02d", (int)(n2 / 12 % 10000),
		    (int)(n2 % 12 + 1));
		if ((s = add_months(db, im, a, b)) != DB_OK)
			return s;
	}
	if ((s = add_days(db, im, in1, in2, +1)) != DB_OK ||
	    (s = add_days(db, im, in3, in4, +1)) != DB_OK ||
	    (s = add_days(db, im, out1, out2, -1)) != DB_OK ||
	    (s = add_days(db, im, out3, out4, -1)) != DB_OK)
		return s;
	add_edges(im);
	return DB_OK;
}

/* The counted sales and orders per region and day. */
static enum db_status
add_counts(struct db *db, struct impact *im)
{
	struct db_stmt *st;
	if (im->q->region != NULL) {
		st = db_stmt(db, "SELECT region_code, date, stall_sales, orders "
		                 "FROM report_region_day WHERE region_code = ?3 "
		                 "AND date BETWEEN ?1 AND ?2");
		db_bind_text(st, 3, im->q->region);
	} else {
		st = db_stmt(db, "SELECT region_code, date, stall_sales, orders "
		                 "FROM report_region_day WHERE date BETWEEN ?1 AND ?2");
	}
	db_bind_text(st, 1, im->q->from);
	db_bind_text(st, 2, im->q->to);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		size_t r = region_index(im, db_col_text(st, 0));
		int64_t k = month_number(db_col_text(st, 1)) - im->first_month;
		if (r == im->nregions || k < 0 || (size_t)k >= im->nmonths)
			continue;
		im->regions[r].month[k].stall_sales += db_col_int64(st, 2);
		im->regions[r].month[k].orders += db_col_int64(st, 3);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* Households reached: each producer once a month and once a region. */
static void
add_producers(struct impact *im)
{
	for (size_t i = 0; i < im->producer_ids.n; i++) {
		const struct producer_acc *p = &im->producers[i];
		struct region_acc *r = &im->regions[p->region];
		if (p->months == 0)
			continue; /* its rows in the range cancel out */
		r->producers++;
		r->households += p->households;
		r->poor += p->poor;
		for (size_t k = 0; k < im->nmonths; k++)
			if (p->months & ((uint64_t)1 << k)) {
				r->month[k].producers++;
				r->month[k].households += p->households;
				r->month[k].poor += p->poor;
			}
	}
}

/* Does product a come before b in top_products? */
static bool
ranks_before(const struct product_acc *a, const struct product_acc *b)
{
	return a->fen != b->fen ? a->fen > b->fen : a->id < b->id;
}

static void
rank_products(struct impact *im)
{
	for (size_t i = 0; i < im->product_ids.n; i++) {
		if (im->products[i].units == 0)
			continue; /* its rows in the range cancel out */
		struct region_acc *r = &im->regions[im->products[i].region];
		size_t j = r->ntop;
		while (j > 0 &&
		       ranks_before(&im->products[i], &im->products[r->top[j - 1]]))
			j--;
		if (j >= TOP_MAX)
			continue;
		size_t end = r->ntop < TOP_MAX ? r->ntop : TOP_MAX - 1;
		memmove(&r->top[j + 1], &r->top[j], (end - j) * sizeof(r->top[0]));
		r->top[j] = i;
		if (r->ntop < TOP_MAX)
			r->ntop++;
	}
}

static enum db_status
top_products_json(
    struct db *db, const struct impact *im, const struct region_acc *r, json_t **out)
{
	*out = json_array();
	for (size_t i = 0; i < r->ntop; i++) {
		const struct product_acc *p = &im->products[r->top[i]];
		struct db_stmt *st =
		    db_stmt(db, "SELECT name FROM products WHERE id = ?1");
		db_bind_int64(st, 1, p->id);
		enum db_status s = db_step_one(db, st);
		if (s != DB_OK) {
			db_reset(st);
			json_decref(*out);
			*out = NULL;
			return s == DB_NOT_FOUND ? DB_ERROR : s;
		}
		json_array_append_new(
		    *out, json_pack("{s:I, s:s, s:I, s:I}", "product_id",
		              (json_int_t)p->id, "name", db_col_text(st, 0), "units",
		              (json_int_t)p->units, "sales_fen", (json_int_t)p->fen));
		db_reset(st);
	}
	return DB_OK;
}

/* The counted sales and orders of the range overall (every region). */
static enum db_status
day_totals(struct db *db, const struct impact *im, struct figures *t)
{
	struct db_stmt *st = db_stmt(db, "SELECT coalesce(sum(stall_sales), 0), "
	                                 "coalesce(sum(orders), 0) FROM report_day "
	                                 "WHERE date BETWEEN ?1 AND ?2");
	db_bind_text(st, 1, im->q->from);
	db_bind_text(st, 2, im->q->to);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		t->stall_sales = db_col_int64(st, 0);
		t->orders = db_col_int64(st, 1);
	}
	db_reset(st);
	return s;
}

static enum db_status
impact_json(struct db *db, struct impact *im, json_t **out)
{
	struct figures totals = {0};
	json_t *regions = json_array();
	enum db_status s = DB_OK;
	for (size_t i = 0; i < im->nregions && s == DB_OK; i++) {
		struct region_acc *r = &im->regions[i];
		struct figures all = {0};
		for (size_t k = 0; k < im->nmonths; k++)
			if (!figures_add(&all, &r->month[k]))
				im->overflow = true;
		/* A producer counts once over the range, not once a month. */
		all.producers = r->producers;
		all.households = r->households;
		all.poor = r->poor;
		if (!figures_add(&totals, &all))
			im->overflow = true;
		json_t *obj = json_pack(
		    "{s:s, s:s}", "region_code", r->code, "region_name", r->name);
		if (!figures_json(obj, &all))
			im->overflow = true;
		json_t *top;
		s = top_products_json(db, im, r, &top);
		if (s == DB_OK)
			json_object_set_new(obj, "top_products", top);
		if (im->q->by_month) {
			json_t *months = json_array();
			for (size_t k = 0; k < im->nmonths; k++) {
				int64_t n = im->first_month + (int64_t)k;
				char month[16];
				snprintf(month, sizeof(month), "%04d-%02d",
				    (int)(n / 12 % 10000), (int)(n % 12 + 1));
				json_t *m = json_pack("{s:s}", "month", month);
				if (!figures_json(m, &r->month[k]))
					im->overflow = true;
				json_array_append_new(months, m);
			}
			json_object_set_new(obj, "months", months);
		}
		json_array_append_new(regions, obj);
	}
	if (s == DB_OK && im->q->region == NULL)
		s = day_totals(db, im, &totals); /* distinct overall */
	json_t *t = json_object();
	if (!figures_json(t, &totals))
		im->overflow = true;
	if (s == DB_OK && im->overflow) {
		log_warn("impact report %s..%s: a sum is beyond 64 bits", im->q->from,
		    im->q->to);
		s = DB_ERROR;
	}
	if (s != DB_OK) {
		json_decref(regions);
		json_decref(t);
		return s;
	}
	*out = json_pack("{s:s, s:s, s:o, s:o}", "from", im->q->from, "to", im->q->to,
	    "regions", regions, "totals", t);
	return DB_OK;
}

enum db_status
report_impact(struct db *db, const struct impact_query *q, json_t **out)
{
	struct impact im = {.q = q};
	*out = NULL;
	im.first_month = month_number(q->from);
	im.nmonths = (size_t)(month_number(q->to) - im.first_month + 1);
	if (im.nmonths > MONTHS_MAX)
		return DB_ERROR; /* report_range_check() was not called */
	bool began;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	s = load_regions(db, &im);
	if (s == DB_OK)
		s = add_range(db, &im);
	if (s == DB_OK)
		s = add_counts(db, &im);
	if (s == DB_OK) {
		add_producers(&im);
		rank_products(&im);
		s = impact_json(db, &im, out);
	}
	snapshot_end(db, began);
	impact_free(&im);
	return s;
}

/* ---- CSV ------------------------------------------------------------- */

static const char *const scalar_cols[] = {"sales_fen", "stall_sales_fen",
    "online_sales_fen", "by_channel", "orders", "stall_sales", "units",
    "producers_with_sales", "households", "poor_households",
    "sales_per_poor_household_fen"};

static void
csv_figures(struct csv_out *c, json_t *obj)
{
	for (size_t i = 0; i < nitems(scalar_cols); i++) {
		json_t *v = json_object_get(obj, scalar_cols[i]);
		if (strcmp(scalar_cols[i], "by_channel") == 0) {
			for (int ch = 0; ch < NCHANNELS; ch++)
				csv_out_int(c, json_integer_value(
				                   json_object_get(v, channels[ch])));
			continue;
		}
		csv_out_int(c, json_integer_value(v));
	}
	csv_out_row(c);
}

char *
report_impact_csv(json_t *report, bool by_month, size_t *len)
{
	struct csv_out c;
	csv_out_open(&c);
	csv_out_field(&c, "region_code");
	csv_out_field(&c, "region_name");
	if (by_month)
		csv_out_field(&c, "month");
	for (size_t i = 0; i < nitems(scalar_cols); i++) {
		if (strcmp(scalar_cols[i], "by_channel") != 0) {
			csv_out_field(&c, scalar_cols[i]);
			continue;
		}
		for (int ch = 0; ch < NCHANNELS; ch++) {
			char name[32];
			snprintf(name, sizeof(name), "by_channel.%s", channels[ch]);
			csv_out_field(&c, name);
		}
	}
	csv_out_row(&c);
	size_t i, k;
	json_t *region, *month;
	json_array_foreach(json_object_get(report, "regions"), i, region)
	{
		const char *code =
		    json_string_value(json_object_get(region, "region_code"));
		const char *name =
		    json_string_value(json_object_get(region, "region_name"));
		if (!by_month) {
			csv_out_field(&c, code);
			csv_out_field(&c, name);
			csv_figures(&c, region);
			continue;
		}
		json_array_foreach(json_object_get(region, "months"), k, month)
		{
			csv_out_field(&c, code);
			csv_out_field(&c, name);
			csv_out_field(
			    &c, json_string_value(json_object_get(month, "month")));
			csv_figures(&c, month);
		}
	}
	return csv_out_close(&c, len);
}
