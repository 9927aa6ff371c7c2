/* shaping.h — limits.bandwidth into a jail: a token bucket (tbf) on the host end of its
 * veth, where the jail's root cannot undo it. (Out of the jail, the jail's chain in the
 * packet rules polices: netfilter.c. tc's policer needs act_police, which not every
 * kernel has; nftables' limit is part of nf_tables.) tc(8) does it: bandwidth is rare
 * and changes seldom, and its netlink encoding is tc's business. */
#ifndef JAILD_SHAPING_H
#define JAILD_SHAPING_H

#include <stdint.h>

#include "err.h"

/* bits: per second; 0 takes the limit away (had: there was one). */
int shaping_set(const char *ifname, uint64_t bits, uint64_t had, struct err *e);

#endif
