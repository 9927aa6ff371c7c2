/* uplink.h — the host side of jails' traffic: which interface is the uplink, the
 * forwarding jaild turns on for jails (and puts back when it leaves), and proxy
 * ARP/NDP answering for jails' addresses on the uplink when a pool is routed. */
#ifndef JAILD_UPLINK_H
#define JAILD_UPLINK_H

#include <stdbool.h>

#include "../ctx.h"
#include "err.h"
#include "runrec.h"

/* Resolves the uplink ("auto": the interface of the default route, IPv4 first; none:
 * ""), and turns on what jails need of the host: IPv4 forwarding on the uplink
 * (forwarding on each jail's interface is set when it is made), IPv6 forwarding, and
 * proxy NDP on the uplink for a routed IPv6 pool. What it changes is written to
 * DIR/net.saved first, once, so that the host's own values come back. */
int uplink_setup(struct priv_ctx *c, struct err *e);
/* Whether jaild itself turned IPv4 forwarding on the uplink, or IPv6 forwarding, on:
 * then the table forwards nothing but jails' traffic. */
void uplink_guards(const struct priv_ctx *c, bool *guard4, bool *guard6);
/* Puts back what uplink_setup changed (no jail runs any more). */
void uplink_restore(struct priv_ctx *c);
/* Routed pools: the host answers ARP/NDP on the uplink for exactly the jail's
 * addresses (add), or stops (remove). */
int uplink_proxies(struct priv_ctx *c, const struct netrec *r, bool add, struct err *e);
/* Turns on forwarding on a jail's host-side interface and strict source checks. */
void uplink_jail_if(const char *ifname);

#endif
