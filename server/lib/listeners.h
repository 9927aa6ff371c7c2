/* listeners.h — whether a service of the host listens on a port, as the kernel lists
 * sockets in /proc/net (of the reader's network namespace). jaild asks before it
 * stores a forward; the helper asks again before it makes one. On a system without
 * /proc/net (FreeBSD) the answer is false and the backend's own check stands. */
#ifndef JAILD_LISTENERS_H
#define JAILD_LISTENERS_H

#include <stdbool.h>

/* TCP listening (tcp) or UDP bound, on port, at an address a forward would cover:
 * any but loopback. */
bool host_serves_port(bool tcp, unsigned port);

#endif
