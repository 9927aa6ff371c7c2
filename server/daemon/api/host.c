/* host.c — GET /api/host: what this host has and how much of it jails use. */
#include "api/api.h"
#include "core/host.h"

void h_host(struct request *rq, struct response *rs)
{
	(void)rq;
	struct err e;
	json_t *j = host_info(&e);
	if (!j)
		resp_error(rs, &e);
	else
		resp_json(rs, 200, j);
}

