/* template.h — the embedded default userland: a static busybox, made on first start. */
#ifndef JAILD_TEMPLATE_H
#define JAILD_TEMPLATE_H

#include "linux.h"
#include "proto.h"
#include "err.h"

#include <stdbool.h>

#define MINIMAL_TEMPLATE "minimal"

int template_minimal(struct priv_ctx *c, struct err *e);

/* Publishes a template from a tar stream, or from a copy of an allowed host directory:
 * made aside and renamed into place, so a failure leaves nothing. With replace, the
 * version before stays on disk for jails running on it, until the template is deleted. */
int template_from_tar(struct priv_ctx *c, const char *name, bool replace, int fd, struct reply *out, struct err *e);
int template_from_dir(struct priv_ctx *c, const char *name, bool replace, const char *source, struct err *e);
int template_delete(struct priv_ctx *c, const char *name, struct err *e);

#endif
