/* checks.h — what every request must mean, checked before any backend sees it, as if
 * jaild were hostile: names, uid slots, addresses in the host's pools, mount sources
 * under the paths the admin allows, templates that exist, bounds. Backends get only
 * requests that passed; what a check needs is in struct priv_ctx, never in the
 * request. Each check fills e (with the request field at fault) and returns -1. */
#ifndef JAILD_PRIV_CHECKS_H
#define JAILD_PRIV_CHECKS_H

#include <stdbool.h>

#include "ctx.h"
#include "err.h"

int check_jail_name(const char *name, struct err *e);
/* Whether path (clean, absolute) is at or under one of the allow-mount paths. */
bool mount_source_allowed(const struct priv_ctx *c, const char *path);

/* One per request type that carries more than a jail's name (the dispatcher's table). */
int check_create(struct priv_ctx *c, const void *req, struct err *e);
int check_start(struct priv_ctx *c, const void *req, struct err *e);
int check_stop(struct priv_ctx *c, const void *req, struct err *e);
int check_exec(struct priv_ctx *c, const void *req, struct err *e);
int check_snap(struct priv_ctx *c, const void *req, struct err *e);
int check_template(struct priv_ctx *c, const void *req, struct err *e);
int check_template_dir(struct priv_ctx *c, const void *req, struct err *e);
int check_import(struct priv_ctx *c, const void *req, struct err *e);
int check_limits(struct priv_ctx *c, const void *req, struct err *e);
int check_net(struct priv_ctx *c, const void *req, struct err *e);
int check_console(struct priv_ctx *c, const void *req, struct err *e);

#endif
