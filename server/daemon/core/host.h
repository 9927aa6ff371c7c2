/* host.h — GET /api/host: backend, capacity, the address pool, and preflight
 * warnings about host services that listen on every address. */
#ifndef JAILD_HOST_H
#define JAILD_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

json_t *host_info(struct err *e);
/* Whether the host routes addr (host order) as a /32 somewhere: another jaild's jail. */
bool host_routes_addr4(uint32_t addr);
/* Wildcard listeners from /proc/net files under `procnet` (a directory), for tests. */
json_t *host_wildcard_listeners(const char *procnet);


#endif
