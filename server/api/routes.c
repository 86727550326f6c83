#include "api/api.h"

#include "api/audit.h"
#include "store/catalog.h"
#include "store/users.h"

/* One table collects the resources' tables (tmux's cmd_table). */
const struct route *const route_tables[] = {
    service_routes,
    auth_routes,
    users_routes,
    regions_routes,
    producers_routes,
    products_routes,
    venues_routes,
    market_days_routes,
    stalls_routes,
    sales_routes,
    metrics_routes,
    audit_routes,
    reports_routes,
    orders_routes,
    payments_routes,
    lots_routes,
    institutions_routes,
    payouts_routes,
    picklist_routes,
    webhooks_routes,
    NULL,
};

/* The router's way up: tokens, regions and the audit log. */
const struct router_services router_services = {
    .user_by_token = store_user_by_token,
    .producer_region = store_producer_region,
    .product_region = store_product_region,
    .audit = audit_record,
};

bool
db_ok(struct request *r, enum db_status s)
{
	if (s == DB_OK)
		return true;
	reply_error(r, E_INTERNAL, NULL, NULL);
	return false;
}
