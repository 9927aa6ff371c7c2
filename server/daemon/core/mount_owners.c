#include "core/mount_owners.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/jails.h"
#include "validate.h"

/* Whether a and b overlap: one is the other or lies beneath it. */
static bool overlap(const char *a, const char *b)
{
	return path_beneath(a, b) || path_beneath(b, a);
}

struct owner_search {
	int64_t tenant;      /* the asking tenant */
	const char *path;
	bool mine, others;   /* the path lies under one of the tenant's / another tenant's paths */
	bool overlaps_other; /* the path overlaps another tenant's path (either way) */
	char other[256];
};

static void look(int64_t id, const char *mounts, void *arg)
{
	struct owner_search *s = arg;
	json_t *a = json_loads(mounts, 0, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *p = json_string_value(v);
		if (!p)
			continue;
		bool under = path_beneath(s->path, p);
		if (id == s->tenant) {
			s->mine |= under;
		} else {
			s->others |= under;
			if (overlap(s->path, p) && !s->overlaps_other) {
				s->overlaps_other = true;
				snprintf(s->other, sizeof s->other, "%s", p);
			}
		}
	}
	json_decref(a);
}

static int search(int64_t tenant, const char *path, struct owner_search *s, struct err *e)
{
	*s = (struct owner_search){ .tenant = tenant, .path = path };
	return store_tenant_mounts_each(J.st, look, s, e);
}

static bool allowed_on_host(const char *path)
{
	for (int i = 0; i < J.rules.nallow_mounts; i++)
		if (path_beneath(path, J.rules.allow_mounts[i]))
			return true;
	return false;
}

int mount_owners_check_tenant(int64_t tenant, json_t *paths, struct err *e)
{
	size_t i;
	json_t *v;
	json_array_foreach(paths, i, v) {
		char f[32];
		snprintf(f, sizeof f, "mounts[%zu]", i);
		const char *p = json_string_value(v);
		if (!p || !valid_abs_path(p) || strcmp(p, "/") == 0)
			return err_field(e, ERR_INVALID, f, "%s must be a clean absolute host path", f);
		if (!allowed_on_host(p))
			return err_field(e, ERR_INVALID, f, "%s is not under a host path this host allows to be mounted (allow-mount)", p);
		struct owner_search s;
		if (search(tenant, p, &s, e))
			return -1;
		if (s.overlaps_other)
			return err_field(e, ERR_CONFLICT, f, "%s overlaps %s, which belongs to another tenant; a path belongs to one tenant", p,
					 s.other);
	}
	return 0;
}

int mount_owners_check_jail(int64_t tenant, json_t *spec, struct err *e)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(spec, "mounts"), i, m) {
		char f[40];
		snprintf(f, sizeof f, "mounts[%zu].source", i);
		const char *p = json_string_value(json_object_get(m, "source"));
		struct owner_search s;
		if (!p || search(tenant, p, &s, e))
			return p ? -1 : err_field(e, ERR_INVALID, f, "%s is missing", f);
		if (s.mine)
			continue;
		if (tenant == J.default_tenant && !s.others)
			continue; /* the admins' own jails: any allowed path no tenant owns */
		return err_field(e, ERR_INVALID, f,
				 "%s is not among the host paths this tenant may mount; the provider gives those out (a tenant's mounts)",
				 p);
	}
	return 0;
}
