/*
 * marketctl gen: a large, realistic dataset for benchmarks and for trying
 * reports at scale, into an empty database:
 *
 *   marketctl --db FILE gen --products N --buyers N --sale-lines N
 *       --orders N [--days 365] [--institutions N] [--institution-orders N]
 *       [--seed S] [--tokens FILE]
 *
 * It makes the demo's partner regions, producers of every kind in each,
 * N products spread over them, venues for the four channels, market days
 * on every channel over the last --days days (closed, a few cancelled;
 * today's open; the next fortnight's scheduled), stalls staffed by
 * operators, stall sales of 1..5 lines (some voided) adding up to exactly
 * --sale-lines lines, and orders in every status (placed, paid, ready,
 * fulfilled, cancelled before and after payment) with their status
 * events, payments and refunds. Every change of stock has its movement,
 * written in the order the events happened, so `marketctl check` holds.
 *
 * --institutions N makes N institutions of every kind (a few at the
 * five-into venues), each with one member buyer (inst00001..) and a plan
 * for every year the dataset touches; --institution-orders N adds N
 * orders placed by those members over the same days, which count as
 * their institutions' procurement. A plan's budget is set from what its
 * institution buys that year, so some are ahead of their reserved share
 * and some behind. Every producer is paid, on the 10th, what it earned
 * the month before (the statement's rule, from the planned lines); the
 * first payout, and now and then another, is too high and put right the
 * next day by a negative correction with a note.
 *
 * Users: admin, an unscoped coordinator "coord", one coordinator per
 * region, operators op001.. and buyers buyer0001..; all share one
 * password, printed on standard error (hashing is slow by design, so it
 * is hashed once). Each buyer gets a login token, valid for 30 days and
 * made as a login makes it; --tokens FILE receives them, one a line, so
 * load tests need no logins.
 *
 * The small tables go through the store functions the API uses. Sales,
 * orders and the ledger are written here as raw rows, the same rows the
 * store code writes, with prepared statements in one transaction (the
 * big tables' secondary indexes built once at the end): a million sale
 * lines take seconds. The report rollups are then rebuilt from those
 * rows (rollup_rebuild). The same --seed gives the same data relative to
 * the day it runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "ctl/ctl.h"
#include "date.h"
#include "db/db.h"
#include "store/catalog.h"
#include "store/institutions.h"
#include "store/market_days.h"
#include "store/payouts.h"
#include "store/producers.h"
#include "store/products.h"
#include "store/rollup.h"
#include "store/sales.h"
#include "store/users.h"
#include "store/venues.h"
#include "util.h"

#define DAY 86400
#define LOCAL_OFFSET DATE_LOCAL_OFFSET /* Asia/Shanghai */
#define FUTURE_DAYS 14                 /* scheduled market days after today */
#define TOKEN_LIFE (30 * DAY)
#define OPERATORS 60
#define PASSWORD "market-gen-password"

static const struct {
	const char *code, *name, *name_en, *province, *partnership, *prefix;
	int weight; /* share of the producers */
} regions[] = {
    {"qingyuan", "庆元县", "Qingyuan County", "浙江省", "mountain_sea", "庆元", 2},
    {"xinjiang", "新疆", "Xinjiang", "新疆维吾尔自治区", "other", "阿克苏", 2},
    {"yilong", "义龙新区", "Yilong New District", "贵州省", "east_west", "义龙", 3},
    {"zhenfeng", "贞丰县", "Zhenfeng County", "贵州省", "east_west", "贞丰", 3},
};

static const char *const towns[] = {"者相镇", "北盘江镇", "龙场镇", "白层镇", "鲁容乡",
    "沙坪镇", "挽澜镇", "长田镇", "小屯乡", "永丰街道", "珉谷街道", "连环乡"};
static const struct {
	const char *kind, *suffix;
} kinds[] = {
    {"cooperative", "专业合作社"},
    {"enterprise", "农业发展有限公司"},
    {"association", "种植协会"},
    {"household", "家庭农场"},
    {"workshop", "加工作坊"},
};

static const struct {
	const char *category, *unit;
	const char *names[4];
	int64_t price_lo, price_hi; /* fen */
} goods[] = {
    {"tea", "250g tin", {"绿茶", "古树红茶", "白茶", "毛尖"}, 3000, 30000},
    {"fruit", "500g bag", {"李子", "百香果", "猕猴桃", "脐橙"}, 800, 4000},
    {"dried_fruit", "1kg bag", {"灰枣", "核桃", "葡萄干", "杏干"}, 2000, 9000},
    {"grain", "5kg bag", {"大米", "糯米", "小米", "荞麦"}, 3000, 9000},
    {"vegetable", "250g bag", {"香菇", "木耳", "竹笋", "蕨菜"}, 1000, 6000},
    {"meat", "1kg", {"土鸡", "腊肉", "香肠", "牛肉干"}, 5000, 20000},
    {"processed", "500g bag", {"糯米粑", "辣椒酱", "米粉", "红糖"}, 800, 5000},
    {"handicraft", "1 piece", {"竹编篮", "蜡染布", "刺绣包", "木雕"}, 3000, 30000},
    {"other", "1 box", {"蜂蜜", "菜籽油", "茶油", "礼盒"}, 3000, 15000},
};
static const char *const grades[] = {"特级", "一级", "精选", "家庭装", "礼品装"};

enum channel { CH_HOLIDAY, CH_CARAVAN, CH_COUNTER, CH_FIVE_INTO, CHANNELS };
static const struct {
	const char *name, *opens, *closes, *title;
	int stalls; /* per market day */
	int volume; /* relative sales of one stall in a day */
} channels[] = {
    [CH_HOLIDAY] = {"holiday_market", "10:00", "21:00", "鼓楼沿扶贫集市", 24, 40},
    [CH_CARAVAN] = {"caravan", "09:00", "12:00", "消费帮扶大篷车", 6, 25},
    [CH_COUNTER] = {"counter", "10:00", "20:00", "专柜消费帮扶日", 2, 12},
    [CH_FIVE_INTO] = {"five_into", "11:00", "13:30", "消费帮扶进机关", 5, 20},
};

static const char *const subdistricts[] = {"白云街道", "鼓楼街道", "南门街道",
    "江厦街道", "西门街道", "月湖街道", "段塘街道", "望春街道"};
static const char *const payments[] = {
    "wechat", "wechat", "wechat", "alipay", "alipay", "cash", "card", "other"};

struct g_product {
	int64_t id, price, stock;
	int producer;
	bool active;
};
struct g_producer {
	int64_t id;
	int region, first, count; /* its products: first .. first + count - 1 */
};
struct g_day {
	int64_t id, day; /* day: local days since the epoch */
	int channel, first_stall, nstalls;
	int opens, closes; /* minutes after local midnight */
	bool cancelled;
};
struct g_stall {
	int64_t id, operator_id;
	int producer;
};
struct g_line {
	int product;
	int64_t quantity, price;
	bool price_sent;
};
struct g_sale {
	int64_t recorded, received, voided_at; /* voided_at 0: not voided */
	int stall, day, payment;
	unsigned first, nlines;
};
struct g_order {
	int64_t buyer, created, paid, ready, fulfilled, cancelled, cancel_by;
	int day; /* pickup market day index, -1 for a delivery */
	unsigned first, nlines;
	int64_t id, total;
	int64_t institution; /* 0: a buyer of no institution */
	int inst_k;          /* its index in g->institutions */
	int status;
};

enum { ST_PLACED, ST_PAID, ST_READY, ST_FULFILLED, ST_CANCELLED };
static const char *const status_names[] = {
    "placed", "paid", "ready", "fulfilled", "cancelled"};

enum ev_kind { EV_SALE, EV_VOID, EV_ORDER, EV_PAID, EV_READY, EV_FULFIL, EV_CANCEL };
struct event {
	int64_t at;
	uint32_t index;
	uint8_t kind;
};

struct gen {
	struct db *db;
	uint64_t rng;
	int64_t now, today, first_day, seed;
	long nproducts, nbuyers, nlines, norders, ndays, ninst, ninst_orders;
	const char *tokens_path;

	int64_t admin_id, coord_id;
	int64_t region_coord[sizeof(regions) / sizeof(regions[0])];
	int64_t operators[OPERATORS];
	int64_t *buyers;
	int64_t *institutions, *members; /* ninst of each */
	long plans, payouts, corrections;
	char *hash; /* of PASSWORD, hashed once */
	struct g_producer *producers;
	int nproducers;
	struct g_product *products;
	int *active; /* indexes of active products */
	int nactive;
	int64_t venue_holiday, venue_counter[2], venue_inst[3], venue_caravan[48];
	struct g_day *days;
	int ndays_made;
	struct g_stall *stalls;
	int nstalls;
	struct g_line *sale_lines, *order_lines;
	struct g_sale *sales;
	size_t nsales, nsale_lines, norder_lines;
	struct g_order *orders;
	size_t norders_made;
	struct event *events;
	size_t nevents, cap_events;
	long voided, written_movements;
};

/* xorshift64*: fast, and the same sequence for the same seed. */
static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ULL;
}

/* Uniform in lo..hi inclusive. */
static int64_t
between(struct gen *g, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo + 1));
}

/* True with probability per_mille / 1000. */
static bool
chance(struct gen *g, int per_mille)
{
	return (int)(rnd(g) % 1000) < per_mille;
}

/* The instant of minute m of local day `day`. */
static int64_t
local_instant(int64_t day, int minute)
{
	return day * DAY - LOCAL_OFFSET + (int64_t)minute * 60;
}

static int
minutes(const char *hhmm)
{
	return atoi(hhmm) * 60 + atoi(hhmm + 3);
}

static bool
ok(enum db_status s, const char *what)
{
	if (s != DB_OK)
		fprintf(stderr, "marketctl: gen: cannot create %s\n", what);
	return s == DB_OK;
}

static void
push_event(struct gen *g, int64_t at, enum ev_kind kind, size_t index)
{
	if (g->nevents == g->cap_events) {
		g->cap_events = g->cap_events ? g->cap_events * 2 : 1024;
		g->events = realloc(g->events, g->cap_events * sizeof(*g->events));
		if (g->events == NULL) {
			fprintf(stderr, "marketctl: gen: out of memory\n");
			exit(1);
		}
	}
	g->events[g->nevents++] = (struct event){at, (uint32_t)index, (uint8_t)kind};
}

/* ---- users, catalog, venues, market days, stalls ------------------- */

static bool
make_users(struct gen *g)
{
	char *hash = g->hash = password_hash(PASSWORD);
	char name[40], display[64];
	bool good = hash != NULL;
	good = good && ok(store_user_create(g->db, "admin", "系统管理员", "admin", NULL,
	                      hash, g->now, &g->admin_id),
	                   "a user");
	good = good && ok(store_user_create(g->db, "coord", "消费帮扶办 协调员",
	                      "coordinator", NULL, hash, g->now, &g->coord_id),
	                   "a user");
	for (size_t r = 0; good && r < nitems(regions); r++) {
		snprintf(name, sizeof(name), "coord_%s", regions[r].code);
		snprintf(display, sizeof(display), "%s 协调员", regions[r].name);
		good = ok(store_user_create(g->db, name, display, "coordinator",
		              regions[r].code, hash, g->now, &g->region_coord[r]),
		    "a user");
	}
	for (int i = 0; good && i < OPERATORS; i++) {
		snprintf(name, sizeof(name), "op%03d", i + 1);
		snprintf(display, sizeof(display), "摊主 %03d", i + 1);
		good = ok(store_user_create(g->db, name, display, "operator", NULL,
		              hash, g->now, &g->operators[i]),
		    "a user");
	}
	FILE *out = NULL;
	if (good && g->tokens_path != NULL &&
	    (out = fopen(g->tokens_path, "w")) == NULL) {
		fprintf(stderr, "marketctl: gen: cannot write %s\n", g->tokens_path);
		good = false;
	}
	for (long i = 0; good && i < g->nbuyers; i++) {
		snprintf(name, sizeof(name), "buyer%04ld", i + 1);
		snprintf(display, sizeof(display), "%s 第%ld食堂",
		    i % 3 ? "居民" : "机关", i + 1);
		char token[TOKEN_TEXT_LEN + 1];
		unsigned char th[TOKEN_HASH_LEN];
		good = ok(store_user_create(g->db, name, display, "buyer", NULL, hash,
		              g->now, &g->buyers[i]),
		           "a user") &&
		       token_new(token);
		if (good) {
			token_hash(token, th);
			good = ok(store_token_create(g->db, th, g->buyers[i], g->now,
			              g->now + TOKEN_LIFE),
			    "a token");
		}
		if (good && out != NULL)
			fprintf(out, "%s\n", token);
	}
	if (out != NULL && fclose(out) != 0 && good) {
		fprintf(stderr, "marketctl: gen: cannot write %s\n", g->tokens_path);
		good = false;
	}
	return good;
}

static bool
make_regions(struct gen *g)
{
	for (size_t r = 0; r < nitems(regions); r++)
		if (!ok(store_region_create(g->db, regions[r].code, regions[r].name,
		            regions[r].name_en, regions[r].province,
		            regions[r].partnership),
		        "a region"))
			return false;
	return true;
}

static bool
make_catalog(struct gen *g)
{
	int weights = 0;
	for (size_t r = 0; r < nitems(regions); r++)
		weights += regions[r].weight;

	/* About 20 products a producer, at least 5 each (a sale has up to 5
	 * lines of its stall's producer), and at least one per region. */
	g->nproducers = (int)(g->nproducts / 20);
	if (g->nproducers < (int)nitems(regions))
		g->nproducers = (int)nitems(regions);
	g->producers = xmalloc((size_t)g->nproducers * sizeof(*g->producers));
	int first = 0;
	for (int i = 0; i < g->nproducers; i++) {
		struct g_producer *p = &g->producers[i];
		/* The first producers cover every region; then by weight. */
		if (i < (int)nitems(regions)) {
			p->region = i;
		} else {
			int w = (int)between(g, 0, weights - 1);
			for (p->region = 0; w >= regions[p->region].weight; p->region++)
				w -= regions[p->region].weight;
		}
		int kind = (int)between(g, 0, (int64_t)nitems(kinds) - 1);
		char name[160], phone[20];
		snprintf(name, sizeof(name), "%s%s%s %d", regions[p->region].prefix,
		    towns[between(g, 0, (int64_t)nitems(towns) - 1)],
		    kinds[kind].suffix, i + 1);
		snprintf(phone, sizeof(phone), "0859-%07" PRId64,
		    between(g, 1000000, 9999999));
		int64_t households =
		    strcmp(kinds[kind].kind, "household") == 0 ? 1 : between(g, 5, 600);
		/* Up to about a third of them registered poor households. */
		int64_t poor = between(g, 0, households == 1 ? 1 : households * 3 / 10);
		struct producer_in in = {
		    .name = name,
		    .region_code = regions[p->region].code,
		    .kind = kinds[kind].kind,
		    .households = households,
		    .poor_households = poor,
		    .contact_phone = chance(g, 700) ? phone : NULL,
		};
		if (!ok(store_producer_create(g->db, &in, &p->id), "a producer"))
			return false;
		/* Products shared out evenly, the remainder to the first ones. */
		p->first = first;
		p->count = (int)(g->nproducts / g->nproducers) +
		           (i < (int)(g->nproducts % g->nproducers) ? 1 : 0);
		first += p->count;
	}

	g->products = xmalloc((size_t)g->nproducts * sizeof(*g->products));
	g->active = xmalloc((size_t)g->nproducts * sizeof(*g->active));
	int64_t start = local_instant(g->first_day, 0);
	for (int pr = 0; pr < g->nproducers; pr++) {
		/* A producer sells goods of one or two categories. */
		int c1 = (int)between(g, 0, (int64_t)nitems(goods) - 1);
		int c2 = (int)between(g, 0, (int64_t)nitems(goods) - 1);
		const struct g_producer *p = &g->producers[pr];
		for (int k = 0; k < p->count; k++) {
			int i = p->first + k;
			int c = k % 3 == 2 ? c2 : c1;
			char name[160], cert[32];
			snprintf(name, sizeof(name), "%s%s %s %d",
			    regions[p->region].prefix, goods[c].names[between(g, 0, 3)],
			    grades[between(g, 0, (int64_t)nitems(grades) - 1)], i + 1);
			snprintf(cert, sizeof(cert), "FP-GEN-%06d", i + 1);
			bool certified = chance(g, 600);
			struct g_product *gp = &g->products[i];
			gp->price =
			    between(g, goods[c].price_lo / 10, goods[c].price_hi / 10) *
			    10;
			/* More than a year of orders takes at the default
			 * sizes; sales may take a product below zero, and an
			 * order that finds too little is preceded by a
			 * restock (write_order). */
			gp->stock = between(g, 2000, 20000);
			gp->producer = pr;
			gp->active = !chance(g, 20);
			struct product_in in = {
			    .name = name,
			    .category = goods[c].category,
			    .unit = goods[c].unit,
			    .price_fen = gp->price,
			    .stock = gp->stock,
			    .producer_id = p->id,
			    .certified = certified,
			    .certificate_no = certified ? cert : NULL,
			    .description =
			        chance(g, 500) ? "消费帮扶产品，产地直供" : NULL,
			    .active = gp->active,
			};
			if (!ok(store_product_create(
			            g->db, &in, g->coord_id, start, &gp->id),
			        "a product"))
				return false;
			g->written_movements++;
			if (gp->active)
				g->active[g->nactive++] = i;
		}
	}
	if (g->nactive == 0) {
		g->products[0].active = true;
		g->active[g->nactive++] = 0;
	}
	return true;
}

static bool
make_venues(struct gen *g)
{
	if (!ok(store_venue_create(g->db, "鼓楼步行街（鼓楼沿）", "street_market",
	            "鼓楼街道", "中山西路鼓楼步行街", &g->venue_holiday),
	        "a venue") ||
	    !ok(store_venue_create(g->db, "天一广场消费帮扶专柜", "counter", "江厦街道",
	            "天一广场中庭", &g->venue_counter[0]),
	        "a venue") ||
	    !ok(store_venue_create(g->db, "鼓楼消费帮扶专柜", "counter", "鼓楼街道",
	            NULL, &g->venue_counter[1]),
	        "a venue") ||
	    !ok(store_venue_create(g->db, "海曙区政府机关", "institution", "鼓楼街道",
	            "海曙区行政中心", &g->venue_inst[0]),
	        "a venue") ||
	    !ok(store_venue_create(g->db, "宁波市第二医院", "institution", "西门街道",
	            "柳汀街", &g->venue_inst[1]),
	        "a venue") ||
	    !ok(store_venue_create(g->db, "海曙外国语学校", "institution", "白云街道",
	            NULL, &g->venue_inst[2]),
	        "a venue"))
		return false;
	for (size_t i = 0; i < nitems(g->venue_caravan); i++) {
		char name[96];
		const char *sd = subdistricts[i % nitems(subdistricts)];
		snprintf(name, sizeof(name), "%.*s第%zu社区", (int)(strlen(sd) - 6), sd,
		    i / nitems(subdistricts) + 1);
		if (!ok(store_venue_create(
		            g->db, name, "community", sd, NULL, &g->venue_caravan[i]),
		        "a venue"))
			return false;
	}
	return true;
}

static bool
add_day(struct gen *g, int64_t venue, int64_t day, int channel, const char *title)
{
	char date[11], uid[64];
	unsigned char raw[16];
	char hex[33];
	date_format(day, date);
	for (int i = 0; i < 16; i++)
		raw[i] = (unsigned char)rnd(g);
	hex_encode(raw, sizeof(raw), hex);
	snprintf(uid, sizeof(uid), "%s@market.haishu", hex);
	struct g_day *d = &g->days[g->ndays_made];
	*d = (struct g_day){
	    .day = day,
	    .channel = channel,
	    .opens = minutes(channels[channel].opens),
	    .closes = minutes(channels[channel].closes),
	    .first_stall = g->nstalls,
	    /* Now and then a day is called off (rain, an epidemic). */
	    .cancelled = day != g->today && chance(g, 15),
	};
	const char *status = d->cancelled      ? "cancelled"
	                     : day < g->today  ? "closed"
	                     : day == g->today ? "open"
	                                       : "scheduled";
	if (!ok(store_market_day_create(g->db, venue, date, channels[channel].opens,
	            channels[channel].closes, channels[channel].name, title, uid,
	            &d->id),
	        "a market day") ||
	    !ok(store_market_day_update(g->db, d->id, channels[channel].opens,
	            channels[channel].closes, title, status),
	        "a market day"))
		return false;
	for (int s = 0; s < channels[channel].stalls; s++) {
		struct g_stall *st = &g->stalls[g->nstalls];
		char label[16];
		snprintf(label, sizeof(label), "%c%d", 'A' + s / 10, s % 10 + 1);
		st->producer = (int)between(g, 0, g->nproducers - 1);
		st->operator_id = g->operators[between(g, 0, OPERATORS - 1)];
		if (!ok(store_stall_create(g->db, d->id, st->operator_id,
		            g->producers[st->producer].id, label, &st->id),
		        "a stall"))
			return false;
		g->nstalls++;
	}
	d->nstalls = channels[channel].stalls;
	g->ndays_made++;
	return true;
}

/* Institutions, each with one member buyer. Their plans come later,
 * from the orders planned for them (make_plans). */
static bool
make_institutions(struct gen *g)
{
	static const char *const kinds_[] = {
	    "agency", "enterprise", "school", "hospital", "community"};
	static const char *const titles[] = {
	    "机关食堂", "有限公司食堂", "学校食堂", "医院食堂", "社区食堂"};
	g->institutions = xmalloc((size_t)(g->ninst ? g->ninst : 1) * sizeof(int64_t));
	g->members = xmalloc((size_t)(g->ninst ? g->ninst : 1) * sizeof(int64_t));
	for (long i = 0; i < g->ninst; i++) {
		int k = (int)(i % (long)nitems(kinds_));
		const char *sd =
		    subdistricts[between(g, 0, (int64_t)nitems(subdistricts) - 1)];
		char name[160], user[40], display[200];
		snprintf(name, sizeof(name), "%.*s第%ld%s", (int)(strlen(sd) - 6), sd,
		    i + 1, titles[k]);
		/* The first three hold the five-into market days. */
		struct institution_in in = {
		    .name = name,
		    .kind = kinds_[k],
		    .subdistrict = sd,
		    .venue_id = i < (long)nitems(g->venue_inst) ? g->venue_inst[i] : 0,
		};
		if (!ok(store_institution_create(g->db, &in, &g->institutions[i]),
		        "an institution"))
			return false;
		snprintf(user, sizeof(user), "inst%05ld", i + 1);
		snprintf(display, sizeof(display), "%s 采购员", name);
		if (!ok(store_user_create(g->db, user, display, "buyer", NULL, g->hash,
		            g->now, &g->members[i]),
		        "a user"))
			return false;
		struct db_stmt *st = db_stmt(
		    g->db, "UPDATE users SET institution_id = ?2 WHERE id = ?1");
		db_bind_int64(st, 1, g->members[i]);
		db_bind_int64(st, 2, g->institutions[i]);
		if (!ok(db_exec_stmt(g->db, st), "a member"))
			return false;
	}
	return true;
}

/* The market days of every channel, by date. */
static bool
make_days(struct gen *g)
{
	int64_t last = g->today + FUTURE_DAYS;
	size_t cap = (size_t)(last - g->first_day + 1) * 5;
	g->days = xmalloc(cap * sizeof(*g->days));
	int max_stalls = 0;
	for (int c = 0; c < CHANNELS; c++)
		max_stalls =
		    channels[c].stalls > max_stalls ? channels[c].stalls : max_stalls;
	g->stalls = xmalloc(cap * (size_t)max_stalls * sizeof(*g->stalls));
	int caravan_stop = 0;
	for (int64_t day = g->first_day; day <= last; day++) {
		char date[11];
		date_format(day, date);
		int wday = (int)((day + 4) % 7); /* 1970-01-01 was a Thursday */
		int md = atoi(date + 5) * 100 + atoi(date + 8);
		/* The fair: weekends, and the May Day and National Day weeks. */
		bool fair = wday == 0 || wday == 6 || (md >= 501 && md <= 505) ||
		            (md >= 1001 && md <= 1007) || md == 101;
		if (fair && !add_day(g, g->venue_holiday, day, CH_HOLIDAY,
		                channels[CH_HOLIDAY].title))
			return false;
		/* The caravan: Wednesdays and Saturdays, stop after stop. */
		if (wday == 3 || wday == 6) {
			char title[128];
			size_t v = (size_t)caravan_stop++ % nitems(g->venue_caravan);
			snprintf(title, sizeof(title), "%s · 第%zu站",
			    channels[CH_CARAVAN].title, v + 1);
			if (!add_day(g, g->venue_caravan[v], day, CH_CARAVAN, title))
				return false;
		}
		/* The counters: every day but Monday. */
		for (int k = 0; k < 2; k++)
			if (wday != 1 && !add_day(g, g->venue_counter[k], day,
			                     CH_COUNTER, channels[CH_COUNTER].title))
				return false;
		/* Five-into: an institution on Tuesdays, Thursdays and Fridays. */
		if (wday == 2 || wday == 4 || wday == 5)
			if (!add_day(g,
			        g->venue_inst[wday == 2   ? 0
			                      : wday == 4 ? 1
			                                  : 2],
			        day, CH_FIVE_INTO, channels[CH_FIVE_INTO].title))
				return false;
	}
	return true;
}

/* ---- sales and orders, planned in memory ---------------------------- */

/* Sale lines shared out over the stalls of past market days by each
 * channel's volume, exactly g->nlines in all. */
static void
plan_sales(struct gen *g)
{
	double total = 0;
	for (int i = 0; i < g->ndays_made; i++) {
		const struct g_day *d = &g->days[i];
		if (d->day < g->today && !d->cancelled)
			total += (double)d->nstalls * channels[d->channel].volume;
	}
	g->sale_lines =
	    xmalloc((size_t)(g->nlines > 0 ? g->nlines : 1) * sizeof(*g->sale_lines));
	g->sales = xmalloc((size_t)(g->nlines > 0 ? g->nlines : 1) * sizeof(*g->sales));
	if (total == 0)
		return;
	double share = 0;
	size_t given = 0;
	for (int i = 0; i < g->ndays_made; i++) {
		const struct g_day *d = &g->days[i];
		if (d->day >= g->today || d->cancelled)
			continue;
		for (int s = d->first_stall; s < d->first_stall + d->nstalls; s++) {
			share += (double)channels[d->channel].volume / total *
			         (double)g->nlines;
			size_t want = (size_t)(share + 0.5);
			if (want > (size_t)g->nlines)
				want = (size_t)g->nlines;
			const struct g_producer *p =
			    &g->producers[g->stalls[s].producer];
			while (given < want) {
				struct g_sale *sale = &g->sales[g->nsales++];
				size_t n = (size_t)between(g, 1, 5);
				if (n > want - given)
					n = want - given;
				if (n > (size_t)p->count)
					n = (size_t)p->count;
				int64_t span = d->closes - d->opens;
				*sale = (struct g_sale){
				    .recorded = local_instant(d->day, d->opens) +
				                between(g, 0, span * 60 - 1),
				    .stall = s,
				    .day = i,
				    .payment = (int)between(
				        g, 0, (int64_t)nitems(payments) - 1),
				    .first = (unsigned)given,
				    .nlines = (unsigned)n,
				};
				/* Most phones sync at once; some hours later. */
				sale->received =
				    sale->recorded +
				    (chance(g, 30) ? between(g, 3600, 30 * 3600)
				                   : between(g, 1, 120));
				if (sale->received >= g->now)
					sale->received = g->now - 1;
				if (chance(g, 15) && sale->received + 3600 < g->now) {
					sale->voided_at =
					    sale->received + between(g, 60, 3600);
					g->voided++;
				}
				/* Distinct products of the stall's producer. */
				int off = (int)between(g, 0, p->count - 1);
				for (size_t l = 0; l < n; l++) {
					int prod = p->first + (off + (int)l) % p->count;
					struct g_line *gl = &g->sale_lines[given + l];
					gl->product = prod;
					gl->quantity = chance(g, 900)
					                   ? between(g, 1, 4)
					                   : between(g, 5, 20);
					gl->price = g->products[prod].price;
					gl->price_sent = chance(g, 100);
					if (gl->price_sent)
						gl->price = gl->price * 9 / 10;
				}
				given += n;
				push_event(g, sale->received, EV_SALE, g->nsales - 1);
				if (sale->voided_at)
					push_event(
					    g, sale->voided_at, EV_VOID, g->nsales - 1);
			}
		}
	}
}

/* The first market day (index) whose date is day or later. */
static int
first_day_from(const struct gen *g, int64_t day)
{
	int lo = 0, hi = g->ndays_made;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (g->days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* An order's life, each step later than the one before; steps that
 * would lie in the future have not happened yet. */
static void
plan_order(struct gen *g, struct g_order *o)
{
	o->cancel_by = o->buyer;
	if (chance(g, 60)) {
		o->cancelled =
		    o->created + between(g, 300, 7200); /* changed their mind */
	} else if (!chance(g, 40)) {                    /* 4% are never paid */
		o->paid = o->created + between(g, 30, 900);
		if (chance(g, 40)) {
			o->cancelled = o->paid + between(g, 600, DAY); /* refunded */
		} else if (o->day >= 0) {
			const struct g_day *d = &g->days[o->day];
			o->ready = local_instant(d->day, d->opens) - 3600;
			if (o->ready <= o->paid)
				o->ready = o->paid + 60;
			o->fulfilled = o->ready + 3600 +
			               between(g, 0, (d->closes - d->opens) * 60);
		} else {
			o->ready = o->paid + between(g, 2 * 3600, DAY);
			o->fulfilled = o->ready + between(g, DAY, 3 * DAY);
		}
		if (o->ready && chance(g, 20)) { /* never collected */
			o->cancelled = o->ready + between(g, 600, 4 * 3600);
			o->cancel_by = g->coord_id;
			o->fulfilled = 0;
		}
	}
	int64_t *steps[] = {&o->paid, &o->ready, &o->fulfilled, &o->cancelled};
	for (size_t i = 0; i < nitems(steps); i++)
		if (*steps[i] >= g->now)
			*steps[i] = 0;
	o->status = o->cancelled   ? ST_CANCELLED
	            : o->fulfilled ? ST_FULFILLED
	            : o->ready     ? ST_READY
	            : o->paid      ? ST_PAID
	                           : ST_PLACED;
}

static void
plan_orders(struct gen *g)
{
	/* The buyers' orders, then the institutions' (canteens: more lines,
	 * larger quantities, delivered). */
	long total = g->norders + (g->ninst > 0 ? g->ninst_orders : 0);
	g->orders = xmalloc((size_t)(total > 0 ? total : 1) * sizeof(*g->orders));
	g->order_lines =
	    xmalloc((size_t)(total > 0 ? total : 1) * 6 * sizeof(*g->order_lines));
	int64_t start = local_instant(g->first_day, 0);
	for (long i = 0; i < total; i++) {
		struct g_order *o = &g->orders[g->norders_made++];
		bool inst = i >= g->norders;
		*o = (struct g_order){
		    .buyer = g->buyers[between(g, 0, g->nbuyers - 1)], .day = -1};
		if (inst) {
			long k = (long)between(g, 0, g->ninst - 1);
			o->buyer = g->members[k];
			o->institution = g->institutions[k];
			o->inst_k = (int)k;
		}
		/* Mostly by day, from 07:00 to 23:00 local time. */
		do {
			int64_t day = between(g, g->first_day, g->today);
			o->created =
			    local_instant(day, (int)between(g, 7 * 60, 23 * 60 - 1)) +
			    between(g, 0, 59);
		} while (o->created >= g->now || o->created < start);
		/* Pickups at a market day in the coming fortnight. */
		if (!inst && chance(g, 600)) {
			int64_t today = (o->created + LOCAL_OFFSET) / DAY;
			int from = first_day_from(g, today),
			    to = first_day_from(g, today + 15);
			for (int tries = 0; to > from && tries < 8; tries++) {
				int k = from + (int)between(g, 0, to - from - 1);
				if (!g->days[k].cancelled &&
				    local_instant(g->days[k].day, g->days[k].closes) >
				        o->created) {
					o->day = k;
					break;
				}
			}
		}
		o->first = (unsigned)g->norder_lines;
		o->nlines =
		    inst ? (unsigned)between(g, 3, 6) : (unsigned)between(g, 1, 4);
		if (o->nlines > (unsigned)g->nactive)
			o->nlines = (unsigned)g->nactive;
		for (unsigned l = 0; l < o->nlines; l++) {
			struct g_line *gl = &g->order_lines[o->first + l];
			bool dup;
			do {
				gl->product = g->active[between(g, 0, g->nactive - 1)];
				dup = false;
				for (unsigned k = 0; k < l; k++)
					dup |= g->order_lines[o->first + k].product ==
					       gl->product;
			} while (dup);
			gl->quantity = inst             ? between(g, 1, 10)
			               : chance(g, 900) ? between(g, 1, 3)
			                                : between(g, 4, 30);
			gl->price = g->products[gl->product].price;
			o->total += gl->price * gl->quantity;
		}
		g->norder_lines += o->nlines;
		plan_order(g, o);
		push_event(g, o->created, EV_ORDER, (size_t)i);
		if (o->paid)
			push_event(g, o->paid, EV_PAID, (size_t)i);
		if (o->ready)
			push_event(g, o->ready, EV_READY, (size_t)i);
		if (o->fulfilled)
			push_event(g, o->fulfilled, EV_FULFIL, (size_t)i);
		if (o->cancelled)
			push_event(g, o->cancelled, EV_CANCEL, (size_t)i);
	}
}

static bool
counts(int status)
{
	return status == ST_PAID || status == ST_READY || status == ST_FULFILLED;
}

/* Each institution's plan for every year the dataset touches: a budget
 * whose reserved share is 0.7 to 1.5 times what it buys that year (so
 * some are ahead and some behind), a tenth of them reserving 15 %. */
static bool
make_plans(struct gen *g)
{
	int y0, y1, m, d;
	date_civil_from_days(g->first_day, &y0, &m, &d);
	date_civil_from_days(g->today, &y1, &m, &d);
	int years = y1 - y0 + 1;
	int64_t *bought =
	    xcalloc((size_t)(g->ninst ? g->ninst : 1) * (size_t)years, sizeof(*bought));
	for (size_t i = 0; i < g->norders_made; i++) {
		const struct g_order *o = &g->orders[i];
		if (o->institution == 0 || !counts(o->status))
			continue;
		int y;
		date_civil_from_days(date_local_days(o->created), &y, &m, &d);
		bought[(size_t)o->inst_k * (size_t)years + (size_t)(y - y0)] +=
		    o->total;
	}
	bool good = true;
	for (long i = 0; good && i < g->ninst; i++)
		for (int y = 0; good && y < years; y++) {
			int64_t bp = chance(g, 100) ? 1500 : 1000;
			int64_t b = bought[(size_t)i * (size_t)years + (size_t)y];
			/* Whole hundreds of yuan; an institution that buys
			 * nothing still has a budget. */
			int64_t budget =
			    b > 0 ? b * 10000 / bp * between(g, 70, 150) / 100
			          : between(g, 100, 2000) * 10000;
			budget = (budget / 10000 + 1) * 10000;
			good = ok(store_plan_put(g->db, g->institutions[i], y0 + y,
			              budget, bp, g->now),
			    "a plan");
			g->plans++;
		}
	free(bought);
	return good;
}

/* Payouts: on the 10th of each month, every producer is paid what it
 * earned the month before (stall lines not voided, order lines of paid,
 * ready or fulfilled orders, each on its own local day). The first
 * payout, and one in 40 after it, is too high by up to 50 yuan and
 * corrected the next day: however the dates fall, a dataset with payouts
 * has a correction. */
static bool
make_payouts(struct gen *g)
{
	int y0, m0, d;
	date_civil_from_days(g->first_day, &y0, &m0, &d);
	int y, m;
	date_civil_from_days(g->today, &y, &m, &d);
	int months = (y - y0) * 12 + (m - m0) + 1;
	int64_t *earned =
	    xcalloc((size_t)g->nproducers * (size_t)months, sizeof(*earned));
#define EARN(prod, t, amount)                                                          \
	do {                                                                           \
		int yy, mm, dd;                                                        \
		date_civil_from_days(date_local_days(t), &yy, &mm, &dd);               \
		earned[(size_t)g->products[prod].producer * (size_t)months +           \
		       (size_t)((yy - y0) * 12 + (mm - m0))] += (amount);              \
	} while (0)
	for (size_t i = 0; i < g->nsales; i++) {
		const struct g_sale *s = &g->sales[i];
		if (s->voided_at != 0)
			continue;
		for (unsigned l = 0; l < s->nlines; l++) {
			const struct g_line *gl = &g->sale_lines[s->first + l];
			EARN(gl->product, s->recorded, gl->price * gl->quantity);
		}
	}
	for (size_t i = 0; i < g->norders_made; i++) {
		const struct g_order *o = &g->orders[i];
		if (!counts(o->status))
			continue;
		for (unsigned l = 0; l < o->nlines; l++) {
			const struct g_line *gl = &g->order_lines[o->first + l];
			EARN(gl->product, o->created, gl->price * gl->quantity);
		}
	}
#undef EARN
	bool good = true;
	for (int k = 0; good && k + 1 < months; k++) {
		int64_t pay_day = date_days_from_civil(
		    y0 + (m0 - 1 + k + 1) / 12, (m0 - 1 + k + 1) % 12 + 1, 10);
		if (pay_day + 1 >= g->today)
			break;
		char paid_on[11], next[11], ref[64], note[96];
		date_format(pay_day, paid_on);
		date_format(pay_day + 1, next);
		for (int p = 0; good && p < g->nproducers; p++) {
			int64_t amount = earned[(size_t)p * (size_t)months + (size_t)k];
			if (amount <= 0)
				continue;
			int64_t over =
			    chance(g, 25) || g->payouts == 0 ? between(g, 1, 5000) : 0;
			snprintf(ref, sizeof(ref), "GEN%" PRId64 "-%s-%d", g->seed,
			    paid_on, p + 1);
			struct payout_in in = {
			    .producer_id = g->producers[p].id,
			    .amount_fen = amount + over,
			    .paid_on = paid_on,
			    .reference = ref,
			    .created_by = g->coord_id,
			    .created_at = local_instant(pay_day, 10 * 60),
			};
			int64_t id;
			good = ok(store_payout_create(g->db, &in, &id), "a payout");
			g->payouts++;
			if (good && over) {
				snprintf(ref, sizeof(ref), "GEN%" PRId64 "-%s-%d-C",
				    g->seed, next, p + 1);
				snprintf(note, sizeof(note),
				    "更正：%s 多付 %" PRId64 " 分", paid_on, over);
				in.amount_fen = -over;
				in.paid_on = next;
				in.reference = ref;
				in.note = note;
				in.created_at = local_instant(pay_day + 1, 10 * 60);
				good = ok(
				    store_payout_create(g->db, &in, &id), "a payout");
				g->payouts++;
				g->corrections++;
			}
		}
	}
	free(earned);
	return good;
}

static int
event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- writing the events in the order they happened ------------------ */

static bool
move(struct gen *g, int product, int64_t delta, const char *reason, const char *ref,
    int64_t user_id, int64_t at)
{
	struct g_product *p = &g->products[product];
	p->stock += delta;
	struct db_stmt *st = db_stmt(g->db,
	    "INSERT INTO stock_movements (product_id, delta, stock_after, reason, "
	    "ref, user_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	db_bind_int64(st, 1, p->id);
	db_bind_int64(st, 2, delta);
	db_bind_int64(st, 3, p->stock);
	db_bind_text(st, 4, reason);
	db_bind_text(st, 5, ref);
	if (user_id > 0)
		db_bind_int64(st, 6, user_id);
	db_bind_int64(st, 7, at);
	g->written_movements++;
	return ok(db_exec_stmt(g->db, st), "a stock movement");
}

static void
sale_id(const struct gen *g, size_t i, char out[40])
{
	snprintf(out, 40, "gen%" PRId64 "-%08zu", g->seed, i + 1);
}

static bool
write_sale(struct gen *g, size_t i)
{
	const struct g_sale *s = &g->sales[i];
	const struct g_stall *stall = &g->stalls[s->stall];
	char id[40], date[11], fp[65];
	sale_id(g, i, id);
	struct sale_line lines[5];
	fen_t total = 0;
	for (unsigned l = 0; l < s->nlines; l++) {
		const struct g_line *gl = &g->sale_lines[s->first + l];
		lines[l] = (struct sale_line){
		    .product_id = g->products[gl->product].id,
		    .quantity = gl->quantity,
		    .unit_price_fen = gl->price,
		    .price_sent = gl->price_sent,
		    .amount_fen = gl->price * gl->quantity,
		};
		total += lines[l].amount_fen;
	}
	struct sale in = {
	    .id = id,
	    .stall_id = stall->id,
	    .recorded_at = s->recorded,
	    .payment = payments[s->payment],
	    .nlines = s->nlines,
	    .lines = lines,
	};
	sale_fingerprint(&in, fp);
	date_local(s->recorded, date);
	struct db_stmt *st = db_stmt(g->db,
	    "INSERT INTO sales (id, stall_id, market_day_id, operator_id, recorded_at, "
	    "recorded_date, received_at, payment, total_fen, fingerprint, voided, "
	    "void_reason, voided_at, voided_by) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
	db_bind_text(st, 1, id);
	db_bind_int64(st, 2, stall->id);
	db_bind_int64(st, 3, g->days[s->day].id);
	db_bind_int64(st, 4, stall->operator_id);
	db_bind_int64(st, 5, s->recorded);
	db_bind_text(st, 6, date);
	db_bind_int64(st, 7, s->received);
	db_bind_text(st, 8, in.payment);
	db_bind_int64(st, 9, total);
	db_bind_text(st, 10, fp);
	db_bind_int64(st, 11, s->voided_at != 0);
	if (s->voided_at != 0) {
		db_bind_text(st, 12, "录入错误");
		db_bind_int64(st, 13, s->voided_at);
		db_bind_int64(st, 14, stall->operator_id);
	}
	if (!ok(db_exec_stmt(g->db, st), "a sale"))
		return false;
	int64_t seq = db_last_insert_id(g->db);
	for (unsigned l = 0; l < s->nlines; l++) {
		st = db_stmt(g->db,
		    "INSERT INTO sale_lines (sale_seq, line_no, product_id, "
		    "quantity, unit_price_fen, amount_fen) VALUES (?1, ?2, ?3, ?4, ?5, "
		    "?6)");
		db_bind_int64(st, 1, seq);
		db_bind_int64(st, 2, l);
		db_bind_int64(st, 3, lines[l].product_id);
		db_bind_int64(st, 4, lines[l].quantity);
		db_bind_int64(st, 5, lines[l].unit_price_fen);
		db_bind_int64(st, 6, lines[l].amount_fen);
		if (!ok(db_exec_stmt(g->db, st), "a sale line") ||
		    !move(g, g->sale_lines[s->first + l].product, -lines[l].quantity,
		        "sale", id, stall->operator_id, s->received))
			return false;
	}
	return true;
}

static bool
write_void(struct gen *g, size_t i)
{
	const struct g_sale *s = &g->sales[i];
	char id[40];
	sale_id(g, i, id);
	for (unsigned l = 0; l < s->nlines; l++) {
		const struct g_line *gl = &g->sale_lines[s->first + l];
		if (!move(g, gl->product, gl->quantity, "sale_void", id,
		        g->stalls[s->stall].operator_id, s->voided_at))
			return false;
	}
	return true;
}

static bool
order_event(
    struct gen *g, const struct g_order *o, int from, int to, int64_t user, int64_t at)
{
	struct db_stmt *st = db_stmt(g->db,
	    "INSERT INTO order_events (order_id, "
	    "from_status, to_status, user_id, at) VALUES (?1, ?2, ?3, ?4, ?5)");
	db_bind_int64(st, 1, o->id);
	db_bind_text(st, 2, from >= 0 ? status_names[from] : NULL);
	db_bind_text(st, 3, status_names[to]);
	if (user > 0)
		db_bind_int64(st, 4, user);
	db_bind_int64(st, 5, at);
	return ok(db_exec_stmt(g->db, st), "an order event");
}

static int64_t
day_operator(const struct gen *g, const struct g_order *o)
{
	return o->day >= 0 ? g->stalls[g->days[o->day].first_stall].operator_id
	                   : g->coord_id;
}

static bool
write_order(struct gen *g, struct g_order *o)
{
	char date[11], address[256], note[64];
	date_local(o->created, date);
	int64_t updated = o->created;
	if (o->paid > updated)
		updated = o->paid;
	if (o->ready > updated)
		updated = o->ready;
	if (o->fulfilled > updated)
		updated = o->fulfilled;
	if (o->cancelled > updated)
		updated = o->cancelled;
	snprintf(address, sizeof(address),
	    "{\"name\":\"王女士\",\"phone\":\"138%08" PRId64 "\","
	    "\"line1\":\"海曙区中山西路%d号\",\"city\":\"宁波\"}",
	    o->buyer * 7919 % 100000000, (int)(o->buyer % 300) + 1);
	snprintf(note, sizeof(note), "请在%s前送达", o->day >= 0 ? "中午" : "晚上");
	struct db_stmt *st = db_stmt(g->db,
	    "INSERT INTO orders (buyer_id, status, total_fen, refund_fen, fulfillment, "
	    "market_day_id, address, note, created_at, created_date, updated_at, "
	    "institution_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	db_bind_int64(st, 1, o->buyer);
	db_bind_text(st, 2, status_names[o->status]);
	db_bind_int64(st, 3, o->total);
	db_bind_int64(st, 4, o->cancelled && o->paid ? o->total : 0);
	db_bind_text(st, 5, o->day >= 0 ? "pickup" : "delivery");
	if (o->day >= 0)
		db_bind_int64(st, 6, g->days[o->day].id);
	db_bind_text(st, 7, o->day >= 0 ? NULL : address);
	db_bind_text(st, 8, o->buyer % 5 == 0 ? note : NULL);
	db_bind_int64(st, 9, o->created);
	db_bind_text(st, 10, date);
	db_bind_int64(st, 11, updated);
	if (o->institution > 0)
		db_bind_int64(st, 12, o->institution);
	if (!ok(db_exec_stmt(g->db, st), "an order"))
		return false;
	o->id = db_last_insert_id(g->db);
	char ref[24];
	snprintf(ref, sizeof(ref), "%" PRId64, o->id);
	for (unsigned l = 0; l < o->nlines; l++) {
		const struct g_line *gl = &g->order_lines[o->first + l];
		st = db_stmt(g->db,
		    "INSERT INTO order_lines (order_id, line_no, product_id, "
		    "quantity, unit_price_fen, amount_fen) VALUES (?1, ?2, ?3, ?4, ?5, "
		    "?6)");
		db_bind_int64(st, 1, o->id);
		db_bind_int64(st, 2, l);
		db_bind_int64(st, 3, g->products[gl->product].id);
		db_bind_int64(st, 4, gl->quantity);
		db_bind_int64(st, 5, gl->price);
		db_bind_int64(st, 6, gl->price * gl->quantity);
		if (!ok(db_exec_stmt(g->db, st), "an order line"))
			return false;
		/* Stall sales may have taken the product below what the
		 * order asks for (they may take it below zero): the
		 * coordinator counted new goods in just before it. */
		int64_t short_by = gl->quantity - g->products[gl->product].stock;
		if (short_by > 0 &&
		    !move(g, gl->product, short_by + between(g, 500, 2000),
		        "correction", "restock", g->coord_id, o->created))
			return false;
		if (!move(g, gl->product, -gl->quantity, "order", ref, o->buyer,
		        o->created))
			return false;
	}
	return order_event(g, o, -1, ST_PLACED, o->buyer, o->created);
}

static bool
write_order_step(struct gen *g, const struct event *e)
{
	struct g_order *o = &g->orders[e->index];
	switch (e->kind) {
	case EV_PAID: {
		char tx[48];
		snprintf(
		    tx, sizeof(tx), "gen%" PRId64 "-tx-%08u", g->seed, e->index + 1);
		struct db_stmt *st =
		    db_stmt(g->db, "INSERT INTO payments (transaction_id, "
		                   "order_id, provider, amount_fen, received_at) "
		                   "VALUES (?1, ?2, ?3, ?4, ?5)");
		db_bind_text(st, 1, tx);
		db_bind_int64(st, 2, o->id);
		db_bind_text(st, 3, o->buyer % 2 ? "wechat" : "alipay");
		db_bind_int64(st, 4, o->total);
		db_bind_int64(st, 5, o->paid);
		return ok(db_exec_stmt(g->db, st), "a payment") &&
		       order_event(g, o, ST_PLACED, ST_PAID, 0, o->paid);
	}
	case EV_READY:
		return order_event(
		    g, o, ST_PAID, ST_READY, day_operator(g, o), o->ready);
	case EV_FULFIL:
		return order_event(
		    g, o, ST_READY, ST_FULFILLED, day_operator(g, o), o->fulfilled);
	case EV_CANCEL: {
		int from = o->ready ? ST_READY : o->paid ? ST_PAID : ST_PLACED;
		char ref[24];
		snprintf(ref, sizeof(ref), "%" PRId64, o->id);
		if (!order_event(g, o, from, ST_CANCELLED, o->cancel_by, o->cancelled))
			return false;
		for (unsigned l = 0; l < o->nlines; l++) {
			const struct g_line *gl = &g->order_lines[o->first + l];
			if (!move(g, gl->product, gl->quantity, "order_cancel", ref,
			        o->cancel_by, o->cancelled))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

/*
 * The secondary indexes of the tables that take millions of rows: their
 * definitions into a JSON array, and dropped. Building an index once
 * from the loaded rows is several times faster than keeping it up to
 * date row by row.
 */
static bool
drop_indexes(struct gen *g, json_t **saved)
{
	static const char *const tables[] = {"sales", "sale_lines", "stock_movements",
	    "orders", "order_lines", "order_events", "payments"};
	*saved = json_array();
	return ok(db_indexes_drop(g->db, tables, nitems(tables), *saved),
	    "the bulk load's indexes");
}

static bool
create_indexes(struct gen *g, json_t *saved)
{
	size_t i;
	json_t *sql;
	json_array_foreach(saved, i, sql)
	{
		if (db_exec(g->db, json_string_value(sql)) != DB_OK)
			return ok(DB_ERROR, "an index");
	}
	return true;
}

static bool
write_events(struct gen *g)
{
	if (g->nevents > 1) /* qsort() of NULL is undefined */
		qsort(g->events, g->nevents, sizeof(*g->events), event_cmp);
	json_t *indexes;
	if (!drop_indexes(g, &indexes)) {
		json_decref(indexes);
		return false;
	}
	for (size_t i = 0; i < g->nevents; i++) {
		const struct event *e = &g->events[i];
		bool good;
		switch (e->kind) {
		case EV_SALE:
			good = write_sale(g, e->index);
			break;
		case EV_VOID:
			good = write_void(g, e->index);
			break;
		case EV_ORDER:
			good = write_order(g, &g->orders[e->index]);
			break;
		default:
			good = write_order_step(g, e);
			break;
		}
		if (!good) {
			json_decref(indexes);
			return false;
		}
	}
	bool built = create_indexes(g, indexes);
	json_decref(indexes);
	if (!built)
		return false;
	/* Each product's stock is where its movements left it. */
	for (long i = 0; i < g->nproducts; i++) {
		struct db_stmt *st =
		    db_stmt(g->db, "UPDATE products SET stock = ?2 WHERE id = ?1");
		db_bind_int64(st, 1, g->products[i].id);
		db_bind_int64(st, 2, g->products[i].stock);
		if (!ok(db_exec_stmt(g->db, st), "a product's stock"))
			return false;
	}
	return true;
}

/* ---- the command ---------------------------------------------------- */

static bool
count_opt(const char *name, const char *v, long lo, long hi, long *out)
{
	int64_t n;
	if (!parse_int64(v, &n) || n < lo || n > hi) {
		fprintf(stderr, "marketctl: gen: %s must be a number from %ld to %ld\n",
		    name, lo, hi);
		return false;
	}
	*out = (long)n;
	return true;
}

static int
gen_usage(void)
{
	fprintf(stderr, "usage: marketctl --db FILE gen --products N --buyers N "
	                "--sale-lines N --orders N [--days 365] [--institutions N] "
	                "[--institution-orders N] [--seed S] [--tokens FILE]\n");
	return 2;
}

static bool
parse(struct gen *g, int argc, char **argv)
{
	long seed = 1;
	bool have[4] = {false};
	g->ndays = 365;
	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool good;
		if (v == NULL)
			good = false;
		else if (strcmp(k, "--products") == 0)
			good = have[0] = count_opt(k, v, 20, 10000000, &g->nproducts);
		else if (strcmp(k, "--buyers") == 0)
			good = have[1] = count_opt(k, v, 1, 1000000, &g->nbuyers);
		else if (strcmp(k, "--sale-lines") == 0)
			good = have[2] = count_opt(k, v, 0, 100000000, &g->nlines);
		else if (strcmp(k, "--orders") == 0)
			good = have[3] = count_opt(k, v, 0, 100000000, &g->norders);
		else if (strcmp(k, "--days") == 0)
			good = count_opt(k, v, 2, 3650, &g->ndays);
		else if (strcmp(k, "--institutions") == 0)
			good = count_opt(k, v, 0, 1000000, &g->ninst);
		else if (strcmp(k, "--institution-orders") == 0)
			good = count_opt(k, v, 0, 100000000, &g->ninst_orders);
		else if (strcmp(k, "--seed") == 0)
			good = count_opt(k, v, 0, 2147483647, &seed);
		else if (strcmp(k, "--tokens") == 0)
			good = (g->tokens_path = v) != NULL;
		else {
			fprintf(stderr, "marketctl: gen: unknown option %s\n", k);
			return false;
		}
		if (!good)
			return false;
	}
	if (!have[0] || !have[1] || !have[2] || !have[3])
		return false;
	g->seed = seed;
	g->rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)seed * 0xbf58476d1ce4e5b9ULL);
	if (g->rng == 0)
		g->rng = 1;
	return true;
}

static bool
fill(struct gen *g)
{
	if (!make_regions(g) || !make_users(g) || !make_catalog(g) || !make_venues(g) ||
	    !make_institutions(g) || !make_days(g))
		return false;
	plan_sales(g);
	plan_orders(g);
	return make_plans(g) && make_payouts(g) && write_events(g);
}

static void
gen_free(struct gen *g)
{
	free(g->buyers);
	free(g->institutions);
	free(g->members);
	free(g->hash);
	free(g->producers);
	free(g->products);
	free(g->active);
	free(g->days);
	free(g->stalls);
	free(g->sale_lines);
	free(g->order_lines);
	free(g->sales);
	free(g->orders);
	free(g->events);
}

int
ctl_gen(struct db *db, int argc, char **argv)
{
	struct gen g = {.db = db};
	if (!parse(&g, argc, argv)) {
		gen_usage();
		return 2;
	}
	if (store_region_exists(db, "zhenfeng") == DB_OK) {
		fprintf(stderr, "marketctl: gen: the database already holds data\n");
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g.now = now_unix();
	g.today = (g.now + LOCAL_OFFSET) / DAY;
	g.first_day = g.today - g.ndays;
	g.buyers = xmalloc((size_t)g.nbuyers * sizeof(*g.buyers));
	int rc = 0;
	/* The whole dataset is one transaction: a page cache that holds it
	 * keeps SQLite from spilling pages into the WAL midway. */
	if (db_load_settings(db, true) != DB_OK || db_begin_write(db) != DB_OK)
		rc = 1;
	else if (!fill(&g) || db_commit(db) != DB_OK) {
		db_rollback(db);
		fprintf(stderr, "marketctl: gen: nothing was written\n");
		rc = 1;
	}
	/* Durable from here on, and the WAL folded into the database, so a
	 * server starts on it as on any other. */
	if (db_load_settings(db, false) != DB_OK && rc == 0)
		rc = 1;
	/* The report rollups, from the rows just written. */
	if (rc == 0 && rollup_rebuild(db) != DB_OK) {
		fprintf(stderr, "marketctl: gen: cannot build the report rollups\n");
		rc = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == 0) {
		char from[11], to[11];
		date_format(g.first_day, from);
		date_format(g.today - 1, to);
		fprintf(stderr,
		    "gen: %zu regions, %d producers, %ld products, %ld buyers, %d "
		    "market days, "
		    "%d stalls, %zu sales (%ld voided) with %ld lines, %zu orders, "
		    "%ld stock movements, %ld institutions with %ld plans, %ld "
		    "payouts (%ld corrections); sales from %s to %s; %.1f s\n"
		    "gen: every user's password is %s\n",
		    nitems(regions), g.nproducers, g.nproducts, g.nbuyers, g.ndays_made,
		    g.nstalls, g.nsales, g.voided, g.nlines, g.norders_made,
		    g.written_movements, g.ninst, g.plans, g.payouts, g.corrections,
		    from, to,
		    (double)(t1.tv_sec - t0.tv_sec) +
		        (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		    PASSWORD);
	}
	gen_free(&g);
	return rc;
}
