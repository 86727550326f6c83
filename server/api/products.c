#include "api/api.h"

const struct route products_routes[] = {
	{0},
};
