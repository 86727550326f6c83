#include "roles.h"

#include <string.h>

#include "util.h"

static const struct {
	enum role role;
	const char *name;
} role_names[] = {
    {ROLE_BUYER, "buyer"},
    {ROLE_OPERATOR, "operator"},
    {ROLE_COORDINATOR, "coordinator"},
    {ROLE_ADMIN, "admin"},
};

enum role
role_from_name(const char *name)
{
	for (size_t i = 0; i < nitems(role_names); i++)
		if (strcmp(role_names[i].name, name) == 0)
			return role_names[i].role;
	return 0;
}

const char *
role_name(enum role role)
{
	for (size_t i = 0; i < nitems(role_names); i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return "anonymous";
}
