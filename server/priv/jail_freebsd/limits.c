/* limits.c — a jail's limits as rctl(8) rules on its kernel name: maxproc, memoryuse,
 * pcpu and openfiles as jaild sets them, pseudoterminals from the helper's pty-max (on
 * FreeBSD the kernel counts a jail's terminals, so consoles cannot exhaust the host's).
 * limits.disk is its store's: an md(4) disk's size or a ZFS quota. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../runrec.h"
#include "freebsd.h"

static int rule(const char *kname, const char *resource, int64_t value, bool clear, struct err *e)
{
	char filter[160], text[192];
	snprintf(filter, sizeof filter, "jail:%s:%s", kname, resource);
	/* one rule per resource: the old one goes (absent is fine) before the new one */
	if (clear && fb_sys->rctl_remove(filter) < 0 && errno != ESRCH)
		return err_errno(e, "removing the %s rule of %s", resource, kname);
	if (value < 0)
		return 0;
	snprintf(text, sizeof text, "%s:deny=%lld", filter, (long long)value);
	if (fb_sys->rctl_add(text) < 0)
		return err_errno(e, "adding the rctl rule %s", text);
	return 0;
}

int fb_limits_apply(struct priv_ctx *c, const char *kname, const struct jail_limits *l, bool clear, struct err *e)
{
	return rule(kname, "maxproc", l->maxproc, clear, e) || rule(kname, "memoryuse", l->memoryuse, clear, e) ||
			       rule(kname, "pcpu", l->pcpu, clear, e) || rule(kname, "openfiles", l->openfiles, clear, e) ||
			       rule(kname, "pseudoterminals", c->pty_max ? (int64_t)c->pty_max : -1, clear, e)
		       ? -1
		       : 0;
}

int fb_set_limits(struct priv_ctx *c, const struct req_limits *r, struct err *e)
{
	if (r->limits.disk > 0 && FB(c)->store->grow(c, r->name, r->limits.disk, e)) /* now, running or not */
		return -1;
	struct runrec rec;
	struct err ignored;
	if (fb_running(c, r->name, &rec, &ignored) < 0)
		return 0; /* applied at the next start */
	char kname[96];
	fb_kname(c, r->name, kname);
	return fb_limits_apply(c, kname, &r->limits, true, e);
}
