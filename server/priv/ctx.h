/* ctx.h — what the helper knows, fixed when it starts (from its command line, which
 * the root supervisor wrote): where jails live, which uids and addresses they may
 * have, which host paths may be mounted into them. Requests cannot change any of it. */
#ifndef JAILD_PRIV_CTX_H
#define JAILD_PRIV_CTX_H

#include "err.h"
#include <stdint.h>

#include "jail_linux/cgroup.h"
#include "validate.h"

#define ALLOWED_MOUNTS_MAX 16
#define UID_RANGE 65536u

struct priv_ctx {
	char data_dir[256];
	int jails_fd;      /* DIR/jails, 0700 root: one directory per jail */
	int templates_fd;  /* DIR/templates, 0755 root: read-only userlands */
	uint32_t uid_base; /* jail slot s owns host uids uid_base + s*65536 ... +65535 */
	uint32_t max_slots;
	struct pool4 pool4;
	struct pool6 pool6;
	char allowed_mounts[ALLOWED_MOUNTS_MAX][JPATH_SIZE];
	int nallowed;
	char busybox[256];
	/* four hex digits from the data dir: names this instance's cgroups (jaild-TAG) and
	 * interfaces (jdTAG-SLOT), so two jailds on one host never touch each other's */
	char tag[8];
	int favordynmods;
	int allow_setuid_mounts; /* writable mount sources on host filesystems without nosuid */
	uint32_t pty_max; /* terminals one jail may open: its devpts' max= (the host's pty.max is shared) */
	char cgroup_parent[192]; /* v2: the delegated group for jails; "" for our own */
	struct cgroup_mgr cg;
};

static inline uint32_t slot_uid(const struct priv_ctx *c, uint32_t slot)
{
	return c->uid_base + slot * UID_RANGE;
}

/* A host path under one of the allowed (allow-mount) paths, opened without following
 * any symlink; field names it in errors. jail_linux/jail.c. */
int open_allowed(struct priv_ctx *c, const char *src, int flags, const char *field, struct err *e);

#endif
