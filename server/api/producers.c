#include "api/api.h"

const struct route producers_routes[] = {
	{0},
};
