/* template.h — the embedded default userland: a static busybox, made on first start. */
#ifndef JAILD_TEMPLATE_H
#define JAILD_TEMPLATE_H

#include "../ctx.h"
#include "err.h"

#define MINIMAL_TEMPLATE "minimal"

int template_minimal(struct priv_ctx *c, struct err *e);

#endif
