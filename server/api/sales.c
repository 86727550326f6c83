#include "api/api.h"

const struct route sales_routes[] = {
	{0},
};
