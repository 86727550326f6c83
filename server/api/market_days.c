#include "api/api.h"

const struct route market_days_routes[] = {
	{0},
};
