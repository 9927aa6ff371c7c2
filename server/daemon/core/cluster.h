/* cluster.h — this host among the hosts that share the store: its claim, its
 * heartbeat, and where a new jail goes. With SQLite the store has this host alone. */
#ifndef JAILD_CLUSTER_H
#define JAILD_CLUSTER_H

#include <stdbool.h>

#include "err.h"
#include "store/store.h"

struct cluster_settings {
	const char *host, *advertise, *pool4, *pool6;
	int64_t uid_base;
	int timeout; /* seconds of silence after which a host is offline */
};
/* Claims this host (ERR_CONFLICT: another running jaild holds it, or pools overlap)
 * and starts saying it is alive. */
int cluster_join(const struct cluster_settings *c, struct err *e);
const char *cluster_host(void);
int cluster_timeout(void);
/* Whether the host a jail lives on answers (this one always does), as the last
 * heartbeat saw the others. */
bool cluster_reachable(int64_t host_id);
/* The same, the hosts read from the store now. */
bool cluster_reachable_now(int64_t host_id);
/* The other hosts that are online (at most max). */
int cluster_others(struct host_row *out, int max);
/* A host that has said it is alive within the timeout. */
bool cluster_online(const struct host_row *h);
/* Where a new jail goes: want (a host's name, or NULL for any), online and not
 * draining, with an address left when it asks for addresses (auto4 of them); the least
 * committed first. ERR_UNAVAILABLE when no host can take it. */
int cluster_place(const char *want, int auto4, struct host_row *out, struct err *e);

#endif
