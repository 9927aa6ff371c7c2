/* netlink.h — the few rtnetlink requests a jail's network needs. Plain netlink, so
 * starting a jail costs no fork/exec of ip(8). */
#ifndef JAILD_NETLINK_H
#define JAILD_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

int nl_open(struct err *e);
/* A veth pair: host_if stays here, peer_if is created inside the netns of peer_pid. */
int nl_veth_create(int nl, const char *host_if, const char *peer_if, pid_t peer_pid, struct err *e);
int nl_link_up(int nl, int ifindex, struct err *e);
/* Deleting a link that does not exist is success. */
int nl_link_del(int nl, const char *ifname, struct err *e);
/* family AF_INET or AF_INET6; addr in network byte order. nodad for IPv6. */
int nl_addr_add(int nl, int ifindex, int family, const void *addr, int prefix, struct err *e);
/* A route to dst/prefix on ifindex, through gw when non-NULL; dst NULL means default.
 * Fails with EEXIST-as-conflict when the destination is already routed. */
int nl_route_add(int nl, int family, const void *dst, int prefix, const void *gw, int ifindex, struct err *e);

/* A proxy ARP (AF_INET) or NDP (AF_INET6) entry: the host answers for addr on ifindex
 * (as ip neigh add proxy does). Removing one that is not there is success. */
int nl_neigh_proxy(int nl, int ifindex, int family, const void *addr, bool add, struct err *e);
/* The bytes an interface received and sent; -1 when it is not there. */
int nl_link_bytes(int nl, const char *ifname, int64_t *rx, int64_t *tx);

#endif
