#include "api/api.h"

const struct route auth_routes[] = {
	{0},
};
