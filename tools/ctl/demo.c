/*
 * marketctl demo: fills an empty database with the demo data of
 * shared/DOMAIN.md, through the same store functions the server uses (so
 * stock movements and sales are recorded exactly as the API records them):
 *
 *   - the partner regions Zhenfeng, Yilong and Qingyuan, and Xinjiang;
 *   - producers of every kind with their household counts;
 *   - Zhenfeng plums and tea, Xinjiang grey jujubes, Guizhou rice and more;
 *   - the Gulou pedestrian street, the caravan's 47 communities in 8
 *     sub-districts (Baiyunzhuang first), counters and institutions;
 *   - 2026's 64 holiday-market days and the caravan round, plus counter
 *     and five-into days, with stalls staffed by the demo operator;
 *   - a few hundred stall sales spread over the year's past market days;
 *   - online orders in every status: a year of collected pickups and
 *     deliveries, and around today orders placed, paid, ready and
 *     cancelled (one of them paid, with its refund), picked up at the
 *     coming market days or delivered;
 *   - institutions of every kind with plans for the year, some ahead of
 *     their reserved share and some behind, whose member buyers (the demo
 *     buyer among them) have ordered, pickups at the coming market days
 *     among them, so the pick lists hold paid and ready orders;
 *   - payouts to several producers, one of them corrected;
 *   - one user of each role (and the institutions' canteen buyers), with
 *     random passwords printed on stdout as "username password role" lines.
 *
 * Everything is written in one transaction: all of it or none.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "crypto.h"
#include "ctl/ctl.h"
#include "date.h"
#include "db/db.h"
#include "store/catalog.h"
#include "store/institutions.h"
#include "store/market_days.h"
#include "store/orders.h"
#include "store/payouts.h"
#include "store/producers.h"
#include "store/products.h"
#include "store/sales.h"
#include "store/users.h"
#include "store/venues.h"
#include "util.h"

#define YEAR 2026

static const struct {
	const char *code, *name, *name_en, *province, *partnership;
} regions[] = {
    {"qingyuan", "庆元县", "Qingyuan County", "浙江省", "mountain_sea"},
    {"xinjiang", "新疆", "Xinjiang", "新疆维吾尔自治区", "other"},
    {"yilong", "义龙新区", "Yilong New District", "贵州省", "east_west"},
    {"zhenfeng", "贞丰县", "Zhenfeng County", "贵州省", "east_west"},
};

static const struct producer_in producers[] = {
    {"贞丰县茶叶专业合作社", "zhenfeng", "cooperative", 420, 96, "0859-6611001"},
    {"贞丰李子种植协会", "zhenfeng", "association", 260, 58, "0859-6611002"},
    {"贞丰古树茶加工作坊", "zhenfeng", "workshop", 18, 7, NULL},
    {"义龙新区稻米专业合作社", "yilong", "cooperative", 310, 72, "0859-3220010"},
    {"义龙绿源农业发展有限公司", "yilong", "enterprise", 180, 41, "0859-3220011"},
    {"义龙新区王家养殖户", "yilong", "household", 1, 1, NULL},
    {"庆元香菇合作社", "qingyuan", "cooperative", 150, 30, "0578-6120001"},
    {"庆元竹编工艺协会", "qingyuan", "association", 64, 15, NULL},
    {"新疆灰枣龙头企业（阿克苏）", "xinjiang", "enterprise", 520, 133, "0997-2100100"},
};

static const struct {
	const char *name, *category, *unit;
	int64_t price_fen, stock;
	int producer; /* index in producers[] */
	bool certified;
	const char *certificate_no, *description;
} products[] = {
    {"贞丰李子", "fruit", "500g bag", 1500, 1200, 1, true, "FP-GZ-2026-0117",
        "贞丰顶坛李子，脆甜多汁"},
    {"贞丰绿茶", "tea", "250g tin", 8800, 300, 0, true, "FP-GZ-2026-0118",
        "贞丰县标准化茶园明前绿茶"},
    {"新疆灰枣", "dried_fruit", "1kg bag", 3600, 900, 8, true, "FP-XJ-2026-0031",
        "阿克苏灰枣"},
    {"贵州大米", "grain", "5kg bag", 5900, 600, 3, true, "FP-GZ-2026-0201", NULL},
    {"贞丰古树红茶", "tea", "100g tin", 12800, 120, 2, false, NULL, "古树茶，手工制作"},
    {"义龙山地土鸡", "meat", "1 bird", 12800, 80, 5, false, NULL, NULL},
    {"义龙糯米粑", "processed", "500g bag", 1800, 400, 4, false, NULL, NULL},
    {"庆元香菇", "vegetable", "250g bag", 3200, 500, 6, true, "FP-ZJ-2026-0009",
        "庆元椴木香菇"},
    {"庆元手工竹编篮", "handicraft", "1 basket", 4500, 60, 7, false, NULL, NULL},
    {"新疆核桃", "dried_fruit", "1kg bag", 4200, 300, 8, false, NULL, NULL},
};

/* The caravan's 47 communities in 8 sub-districts, Baiyunzhuang first. */
static const struct {
	const char *subdistrict;
	const char *communities[7];
} caravan[] = {
    {"白云街道",
        {"白云庄社区", "安丰社区", "华光城社区", "云乐社区", "柳锦社区", "白云社区"}},
    {"鼓楼街道",
        {"孝闻社区", "永寿社区", "中山社区", "县学社区", "郡庙社区", "天封社区"}},
    {"南门街道",
        {"大庆社区", "尹江岸社区", "长春社区", "常青藤社区", "柳汀社区", "紫金社区"}},
    {"江厦街道",
        {"和义社区", "中山东路社区", "灵桥社区", "东渡社区", "大沙泥社区", "江厦社区"}},
    {"西门街道",
        {"新芝社区", "文昌社区", "广仁社区", "万安社区", "西门社区", "翠柏社区"}},
    {"月湖街道",
        {"平桥社区", "青石社区", "马衙社区", "袁宅社区", "天一社区", "月湖社区"}},
    {"段塘街道",
        {"新典社区", "段塘社区", "南苑社区", "锦苑社区", "信谊社区", "南都社区"}},
    {"望春街道", {"望春社区", "新高社区", "启文社区", "联丰社区", "秀丰社区"}},
};

/* 2026's holidays, then weekends, make the fair's 64 days. */
static const char *const holidays[] = {
    "2026-01-01",
    "2026-01-02",
    "2026-01-03",
    "2026-02-15",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-21",
    "2026-02-22",
    "2026-02-23",
    "2026-04-04",
    "2026-04-05",
    "2026-04-06",
    "2026-05-01",
    "2026-05-02",
    "2026-05-03",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-06-20",
    "2026-06-21",
    "2026-09-25",
    "2026-09-26",
    "2026-09-27",
    "2026-10-01",
    "2026-10-02",
    "2026-10-03",
    "2026-10-04",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
    "2026-10-08",
};

/* A market day the demo's orders can be picked up at. */
struct demo_day {
	int64_t id;
	char date[11];
};

struct demo {
	struct db *db;
	int64_t now;
	int64_t operator_id;
	int64_t coord_id;
	int64_t buyer_id;
	struct demo_day past[160];     /* market days before today, by creation */
	struct demo_day upcoming[160]; /* today's and later ones */
	int npast, nupcoming;
	int norders;
	int64_t producer_ids[sizeof(producers) / sizeof(producers[0])];
	int64_t product_ids[sizeof(products) / sizeof(products[0])];
	int nsales;
	unsigned rng;
	int64_t venue_agency, venue_hospital, venue_school;
	int64_t institution_ids[6];
	int64_t member_ids[6]; /* a buyer of each institution, 0 for none */
};

static unsigned
next_rand(struct demo *d)
{
	/* A fixed-seed generator: the demo's sales are the same every time. */
	d->rng = d->rng * 1103515245u + 12345u;
	return (d->rng >> 16) & 0x7fff;
}

static bool
ok(enum db_status s, const char *what)
{
	if (s != DB_OK)
		fprintf(stderr, "marketctl: demo: cannot create %s\n", what);
	return s == DB_OK;
}

static void
random_password(char out[17])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char raw[16];
	RAND_bytes(raw, sizeof(raw));
	for (int i = 0; i < 16; i++)
		out[i] = alphabet[raw[i] % 32];
	out[16] = '\0';
}

static bool
add_user(struct demo *d, const char *username, const char *display, const char *role,
    const char *region, int64_t *id)
{
	char password[17];
	random_password(password);
	char *hash = password_hash(password);
	int64_t uid = 0;
	bool good = hash != NULL && ok(store_user_create(d->db, username, display, role,
	                                   region, hash, d->now, &uid),
	                                "a user");
	free(hash);
	if (good)
		printf("%-16s %s  %s%s%s\n", username, password, role,
		    region ? " of " : "", region ? region : "");
	if (id != NULL)
		*id = uid;
	return good;
}

/* The day number of one of the demo's own dates (always real ones). */
static int64_t
day_of(const char *date)
{
	int64_t days = 0;
	date_to_days(date, &days);
	return days;
}

static bool
uid_for(char out[64])
{
	unsigned char raw[16];
	char hex[33];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	hex_encode(raw, sizeof(raw), hex);
	snprintf(out, 64, "%s@market.haishu", hex);
	return true;
}

/* Records s as the stall's operator's phone would, received at `at`. */
static bool
record_sale(struct demo *d, struct sale *s, int64_t at)
{
	char status[16], channel[32], fp[65];
	size_t bad;
	fen_t price;
	if (!ok(store_stall_info(d->db, s->stall_id, &s->market_day_id, &s->operator_id,
	            status, sizeof(status), channel, sizeof(channel)),
	        "a sale's stall"))
		return false;
	sale_fingerprint(s, fp);
	enum sale_outcome o =
	    sale_record(d->db, s, fp, s->operator_id, at, &bad, &price);
	lot_takes_free(&s->takes);
	if (o != SALE_RECORDED) {
		fprintf(stderr, "marketctl: demo: cannot record sale %s\n", s->id);
		return false;
	}
	return true;
}

/* A few sales at a stall of a past market day, as an operator's phone
 * would send them. */
static bool
add_sales(struct demo *d, int64_t stall_id, const char *date, int producer, int count)
{
	int64_t day = day_of(date);
	for (int i = 0; i < count; i++) {
		/* 10:00 to 17:59 Beijing time is 02:00 to 09:59 UTC. */
		int64_t at =
		    day * 86400 + (2 + next_rand(d) % 8) * 3600 + next_rand(d) % 3600;
		struct sale_line lines[2];
		size_t n = 0;
		for (size_t p = 0; p < nitems(products) && n < 2; p++) {
			if (products[p].producer != producer &&
			    !(n == 0 && next_rand(d) % 3 == 0))
				continue;
			if (next_rand(d) % 2 == 0 && n > 0)
				continue;
			lines[n] = (struct sale_line){
			    .product_id = d->product_ids[p],
			    .quantity = 1 + next_rand(d) % 4,
			};
			/* Now and then a market discount. */
			if (next_rand(d) % 5 == 0) {
				lines[n].price_sent = true;
				lines[n].unit_price_fen =
				    products[p].price_fen * 9 / 10;
			}
			n++;
		}
		if (n == 0)
			continue;
		static const char *const payments[] = {
		    "wechat", "wechat", "alipay", "cash", "card"};
		char id[40];
		snprintf(id, sizeof(id), "demo-%s-%" PRId64 "-%d", date, stall_id, i);
		struct sale s = {
		    .id = id,
		    .stall_id = stall_id,
		    .recorded_at = at,
		    .payment = payments[next_rand(d) % 5],
		    .nlines = n,
		    .lines = lines,
		};
		if (!record_sale(d, &s, at + 30))
			return false;
		d->nsales++;
	}
	return true;
}

/* A market day with one or two stalls of the demo operator, and sales
 * when it is past. */
static bool
add_day(struct demo *d, int64_t venue, const char *date, const char *opens,
    const char *closes, const char *channel, const char *title, int sales)
{
	char uid[64];
	int64_t id, stall;
	if (!uid_for(uid) || !ok(store_market_day_create(d->db, venue, date, opens,
	                             closes, channel, title, uid, &id),
	                         "a market day"))
		return false;
	int producer = (int)(next_rand(d) % nitems(producers));
	if (!ok(store_stall_create(
	            d->db, id, d->operator_id, d->producer_ids[producer], "A1", &stall),
	        "a stall"))
		return false;
	char today[11];
	date_local(d->now, today);
	bool past = strcmp(date, today) < 0;
	struct demo_day *slot = NULL;
	if (past && d->npast < (int)nitems(d->past))
		slot = &d->past[d->npast++];
	else if (!past && d->nupcoming < (int)nitems(d->upcoming))
		slot = &d->upcoming[d->nupcoming++];
	if (slot != NULL) {
		slot->id = id;
		snprintf(slot->date, sizeof(slot->date), "%s", date);
	}
	if (past && sales > 0 && !add_sales(d, stall, date, producer, sales))
		return false;
	if (past &&
	    !ok(store_market_day_update(d->db, id, opens, closes, title, "closed"),
	        "a market day's status"))
		return false;
	return true;
}

/* Where the demo buyer's deliveries go. */
#define DEMO_ADDRESS                                                                    \
	"{\"name\":\"海曙区某机关食堂 王师傅\",\"phone\":\"0574-87650000\"," \
	"\"line1\":\"解放南路 1 号 食堂后门\",\"city\":\"宁波\"}"

/* Products the demo orders draw on: those with stock to spare. */
static const int order_products[] = {0, 1, 2, 3, 6, 7, 9};

/* True when product p (an index in products[]) has quantity in stock. */
static bool
in_stock(struct demo *d, int p, int64_t quantity)
{
	json_t *product = NULL;
	bool enough = store_product_get(d->db, d->product_ids[p], &product) == DB_OK &&
	              json_integer_value(json_object_get(product, "stock")) >= quantity;
	json_decref(product);
	return enough;
}

/*
 * The demo buyer orders quantity of product p (and quantity2 of p2 when
 * p2 >= 0) at `at`, for pickup at market_day_id or, when that is 0,
 * delivery. *id is the order, *total its total; *id is 0 when a product
 * has too little stock left (nothing is placed then).
 */
static bool
demo_order(struct demo *d, int64_t market_day_id, const char *note, int p,
    int64_t quantity, int p2, int64_t quantity2, int64_t at, int64_t *id, fen_t *total)
{
	struct order_line_in lines[2] = {
	    {.product_id = d->product_ids[p], .quantity = quantity},
	    {.product_id = p2 >= 0 ? d->product_ids[p2] : 0, .quantity = quantity2},
	};
	struct order_in o = {
	    .buyer_id = d->buyer_id,
	    .nlines = p2 >= 0 && p2 != p ? 2 : 1,
	    .lines = lines,
	    .market_day_id = market_day_id,
	    .address = market_day_id > 0 ? NULL : DEMO_ADDRESS,
	    .note = note,
	};
	size_t bad;
	int64_t left;
	*id = 0;
	if (!in_stock(d, p, quantity) || (o.nlines == 2 && !in_stock(d, p2, quantity2)))
		return true;
	enum order_outcome placed = order_place(d->db, &o, at, &bad, &left, id);
	lot_takes_free(&o.takes);
	if (placed != ORDER_OK) {
		fprintf(stderr, "marketctl: demo: cannot place an order\n");
		return false;
	}
	*total = o.total_fen;
	d->norders++;
	return true;
}

/* Moves order id from → to as user_id at `at`; a payment is recorded as
 * the provider's, with a transaction id of its own. */
static bool
demo_step(struct demo *d, int64_t id, fen_t total, enum order_status from,
    enum order_status to, int64_t user_id, int64_t at)
{
	if (to == ORDER_PAID) {
		char txn[40];
		snprintf(txn, sizeof(txn), "demo-wx-%" PRId64, id);
		if (!ok(store_payment_add(d->db, txn, id, "wechat", total, at),
		        "a payment"))
			return false;
		user_id = 0;
	}
	return ok(store_order_set_status(d->db, id, from, to, user_id, at),
	    "an order's status");
}

/* Takes placed order id along the life cycle up to `last` (not
 * cancelled), an hour a step after `at`; ready and fulfilled by
 * handler_id. */
static bool
demo_walk(struct demo *d, int64_t id, fen_t total, enum order_status last,
    int64_t handler_id, int64_t at)
{
	enum order_status s = ORDER_PLACED;
	while (s < last) {
		enum order_status next = (enum order_status)(s + 1);
		at += 3600;
		if (!demo_step(d, id, total, s, next, handler_id, at))
			return false;
		s = next;
	}
	return true;
}

/*
 * Orders in every status. A year of collected ones: at every third past
 * market day a pickup (or, now and then, a delivery) placed three days
 * before, paid, made ready on the morning and handed over. Around today:
 * pickups at the coming market days that are placed, paid and ready;
 * deliveries placed, paid and handed over; an order the buyer cancelled,
 * and a paid one the office cancelled, with its refund.
 */
static bool
add_orders(struct demo *d)
{
	static const char *const notes[] = {
	    NULL, "单位食堂采购", NULL, "请开发票", NULL};
	int64_t id;
	fen_t total;
	for (int i = 0; i < d->npast; i += 3) {
		const struct demo_day *day = &d->past[i];
		int64_t morning = day_of(day->date) * 86400; /* 08:00 in Ningbo */
		bool deliver = next_rand(d) % 4 == 0;
		int p = order_products[next_rand(d) % nitems(order_products)];
		int p2 = next_rand(d) % 3 == 0
		             ? order_products[next_rand(d) % nitems(order_products)]
		             : -1;
		if (!demo_order(d, deliver ? 0 : day->id,
		        notes[next_rand(d) % nitems(notes)], p, 1 + next_rand(d) % 5,
		        p2, 1 + next_rand(d) % 3, morning - 3 * 86400 + 2 * 3600, &id,
		        &total))
			return false;
		int64_t handler = deliver ? d->coord_id : d->operator_id;
		if (id != 0 && (!demo_step(d, id, total, ORDER_PLACED, ORDER_PAID, 0,
		                    morning - 3 * 86400 + 2 * 3600 + 600) ||
		                   !demo_step(d, id, total, ORDER_PAID, ORDER_READY,
		                       handler, morning + 3600) ||
		                   !demo_step(d, id, total, ORDER_READY,
		                       ORDER_FULFILLED, handler, morning + 4 * 3600)))
			return false;
	}

	/* Around today. Without a coming market day, pickups become
	 * deliveries. */
	int64_t now = d->now, next = 0, later = 0;
	if (d->nupcoming > 0)
		next = later = d->upcoming[0].id;
	if (d->nupcoming > 1)
		later = d->upcoming[1].id;
	const int64_t hour = 3600;
	struct {
		int64_t day;                    /* 0: a delivery */
		int p, quantity, p2, quantity2; /* indexes in products[]; p2 -1: none */
		int64_t placed_hours_ago;
		enum order_status last;
		const char *note;
	} recent[] = {
	    {next, 0, 4, -1, 0, 2, ORDER_PLACED, "周六下午来取"},
	    {next, 1, 1, 2, 2, 26, ORDER_PAID, NULL},
	    {next, 3, 1, 0, 2, 50, ORDER_READY, "两袋李子分开装"},
	    {later, 7, 3, -1, 0, 5, ORDER_PAID, NULL},
	    {0, 9, 2, -1, 0, 1, ORDER_PLACED, NULL},
	    {0, 6, 5, 7, 3, 20, ORDER_PAID, "单位食堂采购"},
	    {0, 2, 10, -1, 0, 70, ORDER_FULFILLED, "请开发票"},
	};
	for (size_t i = 0; i < nitems(recent); i++) {
		if (!demo_order(d, recent[i].day, recent[i].note, recent[i].p,
		        recent[i].quantity, recent[i].p2, recent[i].quantity2,
		        now - recent[i].placed_hours_ago * hour, &id, &total))
			return false;
		if (id != 0 && !demo_walk(d, id, total, recent[i].last,
		                   recent[i].day > 0 ? d->operator_id : d->coord_id,
		                   now - recent[i].placed_hours_ago * hour))
			return false;
	}

	/* Cancelled: one by the buyer before paying, one paid and then
	 * cancelled by the office, refunded. */
	if (!demo_order(d, later, NULL, 0, 6, -1, 0, now - 72 * hour, &id, &total))
		return false;
	if (id != 0 && !demo_step(d, id, total, ORDER_PLACED, ORDER_CANCELLED,
	                   d->buyer_id, now - 70 * hour))
		return false;
	if (!demo_order(
	        d, 0, "活动取消，整单退款", 1, 4, 3, 2, now - 96 * hour, &id, &total))
		return false;
	if (id != 0 &&
	    (!demo_walk(d, id, total, ORDER_PAID, d->coord_id, now - 96 * hour) ||
	        !demo_step(d, id, total, ORDER_PAID, ORDER_CANCELLED, d->coord_id,
	            now - 90 * hour)))
		return false;
	return true;
}

/* The institutions, one of every kind (and a second agency), and their
 * canteens' buyers. The demo buyer is the district agency's canteen. */
static const struct {
	const char *name, *kind, *subdistrict;
	int venue; /* 0 none, 1 agency, 2 hospital, 3 school */
	const char *member, *member_name;
	int64_t budget_fen; /* the year's canteen food budget */
	int64_t share_bp;
} institutions[] = {
    {"海曙区人民政府机关事务管理局", "agency", "鼓楼街道", 1, NULL, NULL, 0, 1500},
    {"宁波市第二医院", "hospital", "西门街道", 2, "canteen_hospital",
        "宁波市第二医院食堂", 0, 1000},
    {"海曙外国语学校", "school", "白云街道", 3, "canteen_school", "海曙外国语学校食堂",
        0, 1000},
    {"宁波港集团海曙分公司", "enterprise", "江厦街道", 0, "canteen_port",
        "港集团职工食堂", 0, 1200},
    {"白云庄社区居委会", "community", "白云街道", 0, NULL, NULL, 0, 1000},
    {"海曙区教育局", "agency", "月湖街道", 0, NULL, NULL, 12000000, 1000},
};

static bool
add_institutions(struct demo *d)
{
	int64_t venues[] = {0, d->venue_agency, d->venue_hospital, d->venue_school};
	for (size_t i = 0; i < nitems(institutions); i++) {
		struct institution_in in = {.name = institutions[i].name,
		    .kind = institutions[i].kind,
		    .subdistrict = institutions[i].subdistrict,
		    .venue_id = venues[institutions[i].venue]};
		if (!ok(store_institution_create(d->db, &in, &d->institution_ids[i]),
		        "an institution"))
			return false;
		int64_t member = i == 0 ? d->buyer_id : 0;
		if (institutions[i].member != NULL &&
		    !add_user(d, institutions[i].member, institutions[i].member_name,
		        "buyer", NULL, &member))
			return false;
		d->member_ids[i] = member;
		if (member != 0) {
			struct db_stmt *st = db_stmt(d->db,
			    "UPDATE users SET institution_id = ?2 WHERE id = ?1");
			db_bind_int64(st, 1, member);
			db_bind_int64(st, 2, d->institution_ids[i]);
			if (!ok(db_exec_stmt(d->db, st), "a member"))
				return false;
		}
	}
	/* The canteens' own orders this year: deliveries collected, and
	 * pickups at the coming market days, paid or ready (the pick lists). */
	int64_t keep = d->buyer_id, id;
	fen_t total;
	int64_t day = date_local_days(d->now), jan1;
	int y, m, dd;
	date_civil_from_days(day, &y, &m, &dd);
	jan1 = date_days_from_civil(y, 1, 1);
	for (size_t i = 1; i < nitems(institutions); i++) {
		if (d->member_ids[i] == 0)
			continue;
		d->buyer_id = d->member_ids[i];
		int n = i == 1 ? 8 : i == 3 ? 6 : 2;
		for (int k = 0; k < n; k++) {
			int64_t back = (day - jan1) * (k + 1) / (n + 1);
			int64_t at = d->now - back * 86400;
			int p =
			    order_products[(i + (size_t)k) % nitems(order_products)];
			if (!demo_order(d, 0, "单位食堂采购", p,
			        3 + (int64_t)(next_rand(d) % 5), -1, 0, at, &id,
			        &total) ||
			    (id != 0 && !demo_walk(d, id, total, ORDER_FULFILLED,
			                    d->coord_id, at)))
				return false;
		}
		for (int k = 0; k < 2 && k < d->nupcoming; k++) {
			int p = order_products[(i + 3 + (size_t)k) %
			                       nitems(order_products)];
			if (!demo_order(d, d->upcoming[k].id, "食堂周末取货", p, 2, -1,
			        0, d->now - 3600 * (int64_t)(k + 2), &id, &total) ||
			    (id != 0 &&
			        !demo_walk(d, id, total,
			            k == 0 ? ORDER_READY : ORDER_PAID, d->operator_id,
			            d->now - 3600 * (int64_t)(k + 2))))
				return false;
		}
	}
	d->buyer_id = keep;
	return true;
}

/* The plans of the year: budgets set from what each bought so far, so
 * that some are ahead of their share and some behind. */
static bool
add_plans(struct demo *d)
{
	int y, m, dd;
	int64_t today = date_local_days(d->now);
	date_civil_from_days(today, &y, &m, &dd);
	json_t *report = NULL;
	/* With no plans yet the report lists nobody: read the orders' totals
	 * by putting a one-fen plan first. */
	for (size_t i = 0; i < nitems(institutions); i++)
		if (!ok(store_plan_put(
		            d->db, d->institution_ids[i], y, 1, 10000, d->now),
		        "a plan"))
			return false;
	if (!ok(report_procurement(d->db, y, NULL, today, &report), "the procurement"))
		return false;
	/* Reserved share as a multiple of what was bought (in percent):
	 * ahead at 80 %, behind at 250 % or 400 %. */
	static const int64_t factor[] = {80, 250, 80, 400, 0, 0};
	size_t k;
	json_t *row;
	bool good = true;
	for (size_t i = 0; i < nitems(institutions) && good; i++) {
		int64_t purchased = 0;
		json_array_foreach(json_object_get(report, "institutions"), k, row)
		{
			if (json_integer_value(json_object_get(
			        row, "institution_id")) == d->institution_ids[i])
				purchased = json_integer_value(
				    json_object_get(row, "purchased_fen"));
		}
		int64_t budget = institutions[i].budget_fen;
		if (budget == 0 && factor[i] > 0)
			budget = purchased * factor[i] / 100 * 10000 /
			         institutions[i].share_bp;
		if (budget == 0)
			budget = 3600000; /* the community: nothing bought yet */
		budget = (budget / 10000 + 1) * 10000; /* whole hundreds of yuan */
		good = ok(store_plan_put(d->db, d->institution_ids[i], y, budget,
		              institutions[i].share_bp, d->now),
		    "a plan");
		/* Last year's, for the history. */
		good =
		    good && ok(store_plan_put(d->db, d->institution_ids[i], y - 1,
		                   budget * 9 / 10, institutions[i].share_bp, d->now),
		                "a plan");
	}
	json_decref(report);
	return good;
}

/* Payouts to several producers of what they earned, one of them with a
 * correction. */
static bool
add_payouts(struct demo *d)
{
	char first[11], today[11], paid_on[11];
	int64_t now_day = date_local_days(d->now);
	int y, m, dd;
	date_civil_from_days(now_day, &y, &m, &dd);
	date_format(date_days_from_civil(y, 1, 1), first);
	date_format(now_day, today);
	date_format(now_day - 10, paid_on);
	json_t *report = NULL;
	if (!ok(report_payouts(d->db, first, today, NULL, &report),
	        "the payouts report"))
		return false;
	static const int pay[] = {0, 1, 3, 5, 7};
	bool good = true;
	for (size_t i = 0; i < nitems(pay) && good; i++) {
		json_t *row = json_array_get(
		    json_object_get(report, "producers"), (size_t)pay[i]);
		int64_t earned = json_integer_value(json_object_get(row, "earned_fen"));
		int64_t amount = earned * 7 / 10 / 100 * 100; /* 70 %, whole yuan */
		if (row == NULL || amount <= 0)
			continue;
		char ref[32];
		snprintf(ref, sizeof(ref), "ICBC-%d%02d-%04zu", y, m, i + 1);
		struct payout_in p = {.producer_id = json_integer_value(
		                          json_object_get(row, "producer_id")),
		    .amount_fen = amount,
		    .paid_on = paid_on,
		    .reference = ref,
		    .created_by = d->coord_id,
		    .created_at = d->now};
		int64_t id;
		good = ok(store_payout_create(d->db, &p, &id), "a payout");
		if (good && i == 0) {
			/* Paid 100 yuan too much: corrected. */
			struct payout_in c = p;
			c.amount_fen = -10000;
			c.reference = "ICBC-CORR-0001";
			c.note = "更正：上次多付 100 元";
			good = ok(store_payout_create(d->db, &c, &id), "a correction");
		}
	}
	json_decref(report);
	return good;
}

static bool
fill(struct demo *d)
{
	for (size_t i = 0; i < nitems(regions); i++)
		if (!ok(store_region_create(d->db, regions[i].code, regions[i].name,
		            regions[i].name_en, regions[i].province,
		            regions[i].partnership),
		        "a region"))
			return false;

	int64_t admin;
	if (!add_user(d, "admin", "系统管理员", "admin", NULL, &admin) ||
	    !add_user(
	        d, "coord", "消费帮扶办 协调员", "coordinator", NULL, &d->coord_id) ||
	    !add_user(d, "coord_zhenfeng", "贞丰县 协调员", "coordinator", "zhenfeng",
	        NULL) ||
	    !add_user(
	        d, "operator", "摊主 李阿姨", "operator", NULL, &d->operator_id) ||
	    !add_user(d, "buyer", "海曙区某机关食堂", "buyer", NULL, &d->buyer_id))
		return false;

	for (size_t i = 0; i < nitems(producers); i++)
		if (!ok(store_producer_create(
		            d->db, &producers[i], &d->producer_ids[i]),
		        "a producer"))
			return false;
	for (size_t i = 0; i < nitems(products); i++) {
		struct product_in p = {
		    .name = products[i].name,
		    .category = products[i].category,
		    .unit = products[i].unit,
		    .price_fen = products[i].price_fen,
		    .stock = products[i].stock,
		    .producer_id = d->producer_ids[products[i].producer],
		    .certified = products[i].certified,
		    .certificate_no = products[i].certificate_no,
		    .description = products[i].description,
		    .active = true,
		};
		if (!ok(store_product_create(
		            d->db, &p, d->coord_id, d->now, &d->product_ids[i]),
		        "a product"))
			return false;
	}

	/* Venues: the fair, counters, institutions, and the caravan's stops. */
	int64_t gulou, counter, hospital, agency, school;
	if (!ok(store_venue_create(d->db, "鼓楼步行街（鼓楼沿）", "street_market",
	            "鼓楼街道", "中山西路鼓楼步行街", &gulou),
	        "a venue") ||
	    !ok(store_venue_create(d->db, "天一广场消费帮扶专柜", "counter", "江厦街道",
	            "天一广场中庭", &counter),
	        "a venue") ||
	    !ok(store_venue_create(d->db, "宁波市第二医院", "institution", "西门街道",
	            "柳汀街", &hospital),
	        "a venue") ||
	    !ok(store_venue_create(d->db, "海曙区政府机关", "institution", "鼓楼街道",
	            "海曙区行政中心", &agency),
	        "a venue") ||
	    !ok(store_venue_create(
	            d->db, "海曙外国语学校", "institution", "白云街道", NULL, &school),
	        "a venue"))
		return false;

	/* The fair: the holidays, then weekend days from March to December,
	 * evenly spread, to make 64. */
	int fair = 0;
	for (size_t i = 0; i < nitems(holidays); i++, fair++)
		if (!add_day(d, gulou, holidays[i], "10:00", "21:00", "holiday_market",
		        "鼓楼沿扶贫集市", 3))
			return false;
	int64_t first = day_of("2026-03-07"), last = day_of("2026-12-31");
	int64_t weekend[120];
	int nweekend = 0;
	for (int64_t day = first; day <= last && nweekend < 120; day++) {
		char date[11];
		date_format(day, date);
		int wday = (int)((day + 4) % 7); /* 1970-01-01 was a Thursday */
		bool taken = false;
		for (size_t i = 0; i < nitems(holidays); i++)
			taken |= strcmp(holidays[i], date) == 0;
		if ((wday == 0 || wday == 6) && !taken)
			weekend[nweekend++] = day;
	}
	int need = 64 - fair;
	for (int k = 0; k < need; k++) {
		char date[11];
		date_format(weekend[(int64_t)k * nweekend / need], date);
		if (!add_day(d, gulou, date, "10:00", "21:00", "holiday_market",
		        "鼓楼沿扶贫集市", 3))
			return false;
	}

	/* The caravan: 47 stops, two a week from March, Baiyunzhuang first. */
	int64_t stop_day = day_of("2026-03-04");
	for (size_t s = 0; s < nitems(caravan); s++)
		for (int c = 0; c < 7 && caravan[s].communities[c]; c++) {
			int64_t venue;
			char date[11], title[128];
			if (!ok(store_venue_create(d->db, caravan[s].communities[c],
			            "community", caravan[s].subdistrict, NULL, &venue),
			        "a venue"))
				return false;
			date_format(stop_day, date);
			snprintf(title, sizeof(title), "消费帮扶大篷车 · %s",
			    caravan[s].communities[c]);
			if (!add_day(
			        d, venue, date, "09:00", "12:00", "caravan", title, 2))
				return false;
			stop_day += (stop_day % 7 == 0) ? 3 : 4;
		}

	/* Counter days and five-into days, monthly. */
	for (int m = 1; m <= 12; m++) {
		char date[11];
		snprintf(date, sizeof(date), "%d-%02d-15", YEAR, m);
		if (!add_day(d, counter, date, "10:00", "20:00", "counter",
		        "专柜消费帮扶日", 2))
			return false;
		snprintf(date, sizeof(date), "%d-%02d-20", YEAR, m);
		int64_t where = m % 3 == 0 ? hospital : m % 3 == 1 ? agency : school;
		if (!add_day(d, where, date, "11:00", "13:30", "five_into",
		        "消费帮扶进机关、进医院、进学校", 2))
			return false;
	}

	/* A counter day today, so the stall page has a day to sell at
	 * whenever the demo is made (unless today is a counter day already). */
	char today[11];
	date_format((d->now + 8 * 3600) / 86400, today); /* Asia/Shanghai */
	if (strcmp(today + 8, "15") != 0 &&
	    !add_day(
	        d, counter, today, "09:00", "21:00", "counter", "专柜消费帮扶日", 0))
		return false;
	d->venue_agency = agency;
	d->venue_hospital = hospital;
	d->venue_school = school;
	return add_institutions(d) && add_orders(d) && add_plans(d) && add_payouts(d);
}

int
ctl_demo(struct db *db)
{
	if (store_region_exists(db, "zhenfeng") == DB_OK) {
		fprintf(stderr, "marketctl: demo: the database already holds data\n");
		return 1;
	}
	struct demo d = {.db = db, .now = now_unix(), .rng = 20260501};
	if (db_begin_write(db) != DB_OK)
		return 1;
	if (!fill(&d) || db_commit(db) != DB_OK) {
		db_rollback(db);
		fprintf(stderr, "marketctl: demo: nothing was written\n");
		return 1;
	}
	fprintf(stderr,
	    "demo: %zu regions, %zu producers, %zu products, %d sales, %d orders\n",
	    nitems(regions), nitems(producers), nitems(products), d.nsales, d.norders);
	return 0;
}
