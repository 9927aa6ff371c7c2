/* ctx.h — what the helper knows, fixed when it starts (from its command line, which
 * the root supervisor wrote): where jails live, which uids and addresses they may
 * have, which host paths may be mounted into them. Requests cannot change any of it.
 * Nothing here belongs to one kernel: a backend keeps its own state behind impl. */
#ifndef JAILD_PRIV_CTX_H
#define JAILD_PRIV_CTX_H

#include "err.h"
#include <stdint.h>

#include "resolv.h"
#include "validate.h"

#define ALLOWED_MOUNTS_MAX 16

#define IFNAME_SIZE 16

/* The jails' network as the admin set it (jaild's uplink, pool4-mode, pool6-mode,
 * egress-default and dns settings). */
struct net_conf {
	char uplink[IFNAME_SIZE]; /* where jails' traffic leaves and arrives; "" for none (host only) */
	uint8_t routed4, routed6; /* the pool's addresses are the world's (else nat) */
	uint8_t egress_deny;      /* what a jail may open outward when its rules say nothing */
	int ndns;
	char dns[RESOLVERS_MAX][RESOLVER_SIZE];    /* resolvers written into each jail's /etc/resolv.conf */
};

struct priv_ctx {
	char data_dir[256];
	int jails_fd;      /* DIR/jails, 0700 root: one directory per jail */
	int templates_fd;  /* DIR/templates, 0755 root: read-only userlands */
	uint32_t uid_base; /* jail slot s owns host uids uid_base + s*65536 ... +65535 */
	uint32_t max_slots;
	struct pool4 pool4;
	struct pool6 pool6;
	struct net_conf net;
	char net_note[512]; /* what would break the jails' network, found at start ("" for nothing) */
	char lxcfs[256];    /* lxcfs's mount point ("" for none): jails' /proc shows their own limits */
	char allowed_mounts[ALLOWED_MOUNTS_MAX][JPATH_SIZE];
	int nallowed;
	char busybox[256];
	/* four hex digits from the data dir: names this instance's cgroups (jaild-TAG) and
	 * interfaces (jdTAG-SLOT), so two jailds on one host never touch each other's */
	char tag[8];
	int allow_setuid_mounts; /* writable mount sources on host filesystems without nosuid */
	uint32_t pty_max; /* terminals one jail may open (on Linux: its devpts' max=; the host's pty.max is shared) */
	/* options only some backends read: Linux's cgroup-parent (v2: the delegated group
	 * for jails; "" for our own) and favordynmods */
	char cgroup_parent[192];
	int favordynmods;
	void *impl; /* the backend's own state, set by its init */
};

static inline uint32_t slot_uid(const struct priv_ctx *c, uint32_t slot)
{
	return c->uid_base + slot * UID_RANGE;
}

#endif
