/* host.h — GET /api/host: backend, capacity, the address pool, and preflight
 * warnings about host services that listen on every address. */
#ifndef JAILD_HOST_H
#define JAILD_HOST_H

#include <jansson.h>

#include "err.h"

json_t *host_info(struct err *e);
/* Wildcard listeners from /proc/net files under `procnet` (a directory), for tests. */
json_t *host_wildcard_listeners(const char *procnet);

#endif
