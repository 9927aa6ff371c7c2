/* skeleton.h — the minimal template's tree but its programs, the same on every
 * kernel: the directories of a small Unix, passwd and group, hosts, and /etc/rc, the
 * default first process (it stays up until SIGTERM). Each backend adds the programs:
 * busybox's applets on Linux, /rescue on FreeBSD. */
#ifndef JAILD_SKELETON_H
#define JAILD_SKELETON_H

#include "err.h"

/* Makes the tree in the empty directory root. */
int skeleton_make(int root, struct err *e);

#endif
