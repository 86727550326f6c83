#include "api/api.h"

const struct route stalls_routes[] = {
	{0},
};
