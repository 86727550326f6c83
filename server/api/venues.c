#include "api/api.h"

const struct route venues_routes[] = {
	{0},
};
