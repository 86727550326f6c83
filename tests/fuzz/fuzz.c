#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "crypto.h"
#include "db/db.h"
#include "log.h"
#include "store/users.h"
#include "util.h"

static struct db *db;
static struct config cfg;
static char dir[64];
static struct user users[5]; /* by fuzz_role's order */

static const char *const user_specs[][2] = {
    {"fuzz_buyer", "buyer"},
    {"fuzz_operator", "operator"},
    {"fuzz_coordinator", "coordinator"},
    {"fuzz_admin", "admin"},
};

/* A small catalogue, made through the handlers themselves as the admin,
 * so that ids 1 and 2 of most things exist. */
static const struct {
	const char *method, *pattern, *param, *body;
	enum role role; /* 0: the admin */
} seeds[] = {
    {"POST", "/api/v1/regions", NULL,
        "{\"code\":\"zhenfeng\",\"name\":\"贞丰县\","
        "\"name_en\":\"Zhenfeng\",\"province\":\"贵州\",\"partnership\":\"east_west\"}",
        0},
    {"POST", "/api/v1/regions", NULL,
        "{\"code\":\"qingyuan\",\"name\":\"庆元县\","
        "\"name_en\":\"Qingyuan\",\"province\":\"浙江\",\"partnership\":\"east_west\"}",
        0},
    {"POST", "/api/v1/producers", NULL,
        "{\"name\":\"贞丰李子合作社\",\"region_code\":"
        "\"zhenfeng\",\"kind\":\"cooperative\",\"households\":120,\"poor_households\":"
        "30}",
        0},
    {"POST", "/api/v1/producers", NULL,
        "{\"name\":\"庆元香菇合作社\",\"region_code\":"
        "\"qingyuan\",\"kind\":\"cooperative\",\"households\":80,\"poor_households\":"
        "20}",
        0},
    {"POST", "/api/v1/products", NULL,
        "{\"name\":\"贞丰李子\",\"category\":\"fruit\","
        "\"unit\":\"500g bag\",\"price_fen\":1280,\"stock\":1000,\"producer_id\":1}",
        0},
    {"POST", "/api/v1/products", NULL,
        "{\"name\":\"香菇\",\"category\":\"vegetable\","
        "\"unit\":\"250g box\",\"price_fen\":2500,\"stock\":500,\"producer_id\":2}",
        0},
    {"POST", "/api/v1/venues", NULL,
        "{\"name\":\"鼓楼步行街\",\"kind\":\"street_market\","
        "\"subdistrict\":\"鼓楼街道\"}",
        0},
    {"POST", "/api/v1/venues", NULL,
        "{\"name\":\"白云社区\",\"kind\":\"community\","
        "\"subdistrict\":\"白云街道\"}",
        0},
    {"POST", "/api/v1/market-days", NULL,
        "{\"venue_id\":1,\"date\":\"2030-05-01\","
        "\"opens_at\":\"09:00\",\"closes_at\":\"17:00\",\"channel\":\"holiday_"
        "market\"}",
        0},
    {"POST", "/api/v1/market-days", NULL,
        "{\"venue_id\":2,\"date\":\"2030-05-02\","
        "\"opens_at\":\"09:00\",\"closes_at\":\"17:00\",\"channel\":\"holiday_"
        "market\"}",
        0},
    {"POST", "/api/v1/market-days/{id}/stalls", "1",
        "{\"operator_id\":2,"
        "\"producer_id\":1,\"label\":\"A1\"}",
        0},
    {"POST", "/api/v1/market-days/{id}/stalls", "2",
        "{\"operator_id\":2,"
        "\"producer_id\":2,\"label\":\"B1\"}",
        0},
    {"POST", "/api/v1/orders", NULL,
        "{\"lines\":[{\"product_id\":1,\"quantity\":2}],"
        "\"fulfillment\":{\"type\":\"pickup\",\"market_day_id\":1}}",
        ROLE_BUYER},
    {"POST", "/api/v1/orders", NULL,
        "{\"lines\":[{\"product_id\":2,\"quantity\":1}],"
        "\"fulfillment\":{\"type\":\"pickup\",\"market_day_id\":2}}",
        ROLE_BUYER},
};

static void
cleanup(void)
{
	db_close(db);
	db = NULL;
	static const char *const files[] = {
	    "market.db", "market.db-wal", "market.db-shm", "market.db-journal"};
	for (size_t i = 0; i < nitems(files); i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	config_free(&cfg);
}

static enum evhttp_cmd_type
method_of(const char *name)
{
	static const struct {
		const char *name;
		enum evhttp_cmd_type m;
	} m[] = {{"GET", EVHTTP_REQ_GET}, {"POST", EVHTTP_REQ_POST},
	    {"PATCH", EVHTTP_REQ_PATCH}, {"PUT", EVHTTP_REQ_PUT},
	    {"DELETE", EVHTTP_REQ_DELETE}};
	for (size_t i = 0; i < nitems(m); i++)
		if (strcmp(m[i].name, name) == 0)
			return m[i].m;
	abort();
}

void
fuzz_init(void)
{
	if (db != NULL)
		return;
	log_set_quiet(1);
	char *argv[] = {"fuzz", NULL}, *err = NULL;
	if (config_load(&cfg, 1, argv, &err) != 0) {
		fprintf(stderr, "fuzz: config: %s\n", err ? err : "?");
		abort();
	}
	free(cfg.payment_secret);
	cfg.payment_secret = xstrdup(FUZZ_PAYMENT_SECRET);
	/* A webhook url's host is resolved by the SSRF guard: the fuzzer
	 * must not send fuzzed names to the name server. Its URL parsing is
	 * still run; the address classes are unit-tested (test_netguard). */
	cfg.webhook_allow_insecure = true;
	snprintf(dir, sizeof(dir), "%s/market-fuzz-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/market.db", dir);
	db = db_open(path, "normal", &err);
	if (db == NULL) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	atexit(cleanup);

	users[0] = (struct user){.id = 0, .role = ROLE_ANON};
	for (size_t i = 0; i < nitems(user_specs); i++) {
		struct user *u = &users[i + 1];
		if (store_user_create(db, user_specs[i][0], user_specs[i][0],
		        user_specs[i][1], NULL, "scrypt$15$8$1$00$00", now_unix(),
		        &u->id) != DB_OK)
			abort();
		u->role = role_from_name(user_specs[i][1]);
		snprintf(u->username, sizeof(u->username), "%s", user_specs[i][0]);
	}
	for (size_t i = 0; i < nitems(seeds); i++) {
		const struct route *rt =
		    fuzz_route(method_of(seeds[i].method), seeds[i].pattern);
		if (rt == NULL)
			continue;
		struct fuzz_req q = {.route = rt,
		    .role = seeds[i].role ? seeds[i].role : ROLE_ADMIN,
		    .params = {seeds[i].param},
		    .body = (const uint8_t *)seeds[i].body,
		    .body_len = strlen(seeds[i].body)};
		int status = fuzz_run(&q);
		if (status != 201)
			fprintf(stderr, "fuzz: seed %s %s gave %d\n", seeds[i].method,
			    seeds[i].pattern, status);
	}
}

const struct route *const *
fuzz_routes(enum evhttp_cmd_type m, bool body, size_t *n)
{
	/* At most a few tables of routes; made per (m, body) on first use. */
	static struct {
		enum evhttp_cmd_type m;
		bool body;
		const struct route **list;
		size_t n;
	} made[8];
	static size_t nmade;
	for (size_t i = 0; i < nmade; i++)
		if (made[i].m == m && made[i].body == body) {
			*n = made[i].n;
			return made[i].list;
		}
	if (nmade == nitems(made))
		abort();
	size_t count = 0;
	const struct route **list = NULL;
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *rt = *t; rt->path; rt++)
			if ((m == 0 || rt->method == m) && (!body || rt->body)) {
				list = xrealloc(list, (count + 1) * sizeof(*list));
				list[count++] = rt;
			}
	made[nmade].m = m;
	made[nmade].body = body;
	made[nmade].list = list;
	made[nmade].n = count;
	nmade++;
	*n = count;
	return list;
}

const struct route *
fuzz_route(enum evhttp_cmd_type m, const char *pattern)
{
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *rt = *t; rt->path; rt++)
			if (rt->method == m && strcmp(rt->path, pattern) == 0)
				return rt;
	return NULL;
}

const struct route *
fuzz_pick_route(
    const struct route *const *routes, size_t n, const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	if (nl == NULL || n == 0)
		return NULL;
	size_t len = (size_t)(nl - *data);
	const struct route *found = NULL;
	unsigned hash = 0;
	for (size_t i = 0; i < len; i++)
		hash = hash * 31 + (*data)[i];
	for (size_t i = 0; i < n && found == NULL; i++) {
		const char *m = method_name(routes[i]->method);
		size_t ml = strlen(m), pl = strlen(routes[i]->path);
		if (len == ml + 1 + pl && memcmp(*data, m, ml) == 0 &&
		    (*data)[ml] == ' ' &&
		    memcmp(*data + ml + 1, routes[i]->path, pl) == 0)
			found = routes[i];
	}
	*size -= len + 1;
	*data = nl + 1;
	return found ? found : routes[hash % n];
}

enum role
fuzz_role(uint8_t b)
{
	return users[b % nitems(users)].role;
}

const char *
fuzz_param(uint8_t b)
{
	static const char *const params[] = {"1", "2", "1", "2", "3", "999999", "0",
	    "-1", "abc", "9223372036854775808", "zhenfeng", "qingyuan", "nowhere",
	    "1.5", "", "01"};
	return params[b % nitems(params)];
}

static int
count_params(const char *pattern)
{
	int n = 0;
	for (const char *p = pattern; *p; p++)
		n += *p == '{';
	return n;
}

int
fuzz_run(const struct fuzz_req *q)
{
	const struct route *rt = q->route;
	struct request *r = xcalloc(1, sizeof(*r));
	r->ev = evhttp_request_new(NULL, NULL);
	if (r->ev == NULL)
		abort();
	r->db = db;
	r->cfg = &cfg;
	r->route = rt;
	r->method = rt->method;
	r->now = now_unix();
	r->query.tqh_first = NULL;
	r->query.tqh_last = &r->query.tqh_first;
	r->path = xstrdup(rt->path);
	snprintf(r->remote_addr, sizeof(r->remote_addr), "127.0.0.1");
	int np = count_params(rt->path);
	for (int i = 0; i < np && i < REQUEST_MAX_PARAMS; i++)
		r->params[i] = xstrdup(q->params[i] ? q->params[i] : "1");
	for (size_t i = 0; i < nitems(users); i++)
		if (users[i].role == q->role)
			r->user = users[i];

	struct evkeyvalq *in = evhttp_request_get_input_headers(r->ev);
	if (q->signature != NULL)
		evhttp_add_header(in, "X-Signature", q->signature);
	if (q->query != NULL && evhttp_parse_query_str(q->query, &r->query) != 0) {
		/* The router's answer; nothing reaches the handler. */
		reply_error(r, E_BAD_REQUEST, NULL, "the query string is malformed");
		goto done;
	}
	if (rt->body) {
		evhttp_add_header(in, "Content-Type", "application/json");
		evbuffer_add(
		    evhttp_request_get_input_buffer(r->ev), q->body, q->body_len);
		if (!read_body(r))
			goto done;
	}
	if (rt->prepare != NULL) {
		rt->prepare(r);
		db_rollback(db);
		if (replied(r))
			goto done;
	}
	router_run_handler(r);
done:;
	int status = r->status;
	if (status == 500 || status == 0) {
		char *reply =
		    r->reply_body ? json_dumps(r->reply_body, JSON_COMPACT) : NULL;
		fprintf(stderr, "fuzz: %s %s as %s gave %d %s\n",
		    method_name(rt->method), rt->path, role_name(q->role), status,
		    reply ? reply : "");
		free(reply);
		abort();
	}
	evhttp_request_free(r->ev);
	r->ev = NULL;
	router_discard(r);
	return status;
}
