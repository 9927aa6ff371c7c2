/* caps.h — the capabilities jail root keeps inside its user namespace. */
#ifndef JAILD_CAPS_H
#define JAILD_CAPS_H

#include <stdint.h>

#include "err.h"

/* The set a jail's processes keep, from its allow flags (enum jail_allow). */
uint64_t caps_for_jail(uint8_t allow);
/* Drops every capability not in keep from the bounding, ambient, permitted, effective
 * and inheritable sets of the calling process. */
int caps_restrict(uint64_t keep, struct err *e);
/* The bounding set of a running process, read from /proc/PID/status. */
int caps_bounding_of(int pid, uint64_t *out, struct err *e);

/* Reads what caps_restrict needs of the kernel once, at the helper's start. */
void caps_init(void);

#endif
