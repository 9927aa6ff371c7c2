/* shaping.h — limits.bandwidth on the host end of a jail's veth, where the jail's root
 * cannot undo it: a token bucket (tbf) on what the host sends into the jail, a policer
 * on what the jail sends out (the host end's ingress). tc(8) does it: bandwidth is
 * rare and changes seldom, and its netlink encoding is tc's business. */
#ifndef JAILD_SHAPING_H
#define JAILD_SHAPING_H

#include <stdint.h>

#include "err.h"

/* bits: per second, each direction; 0 takes the limit away (had: there was one). */
int shaping_set(const char *ifname, uint64_t bits, uint64_t had, struct err *e);

#endif
