/* mount_owners.h — whose host paths a jail may mount. allow-mount says which host
 * paths may be mounted at all; within them the admin gives paths to tenants (a
 * tenant's "mounts"), each path to one tenant only. A tenant's jails mount only from
 * its own paths; the admins' own jails (the default tenant's) from any allowed path
 * no tenant owns. So tenant B cannot mount what the provider set aside for tenant A. */
#ifndef JAILD_MOUNT_OWNERS_H
#define JAILD_MOUNT_OWNERS_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"

/* A tenant's new "mounts" (an array of paths, or null): each clean, absolute, under
 * allow-mount, and no path another tenant owns, above or below it (409). */
int mount_owners_check_tenant(int64_t tenant, json_t *paths, struct err *e);
/* A jail's canonical spec: every mounts[].source may be mounted by tenant's jails. */
int mount_owners_check_jail(int64_t tenant, json_t *spec, struct err *e);

#endif
