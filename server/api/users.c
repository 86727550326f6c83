#include "api/api.h"

const struct route users_routes[] = {
	{0},
};
