/* seccomp.h — the system calls a jail may not make, as LXC, Docker and systemd-nspawn
 * deny them by default: kernel surfaces that are not namespaced or are a large attack
 * surface for a user namespace's root (io_uring, userfaultfd, bpf, perf, keyrings,
 * module and kexec loading, open_by_handle_at, nested user namespaces). */
#ifndef JAILD_SECCOMP_H
#define JAILD_SECCOMP_H

#include <stdint.h>

#include "err.h"

/* Installs the jail's filter on the calling thread (inherited by what it forks and
 * kept across execve); allow: the spec's ALLOW_* bits (ALLOW_NESTING lets the jail
 * make user namespaces, for containers inside it). Call it while the thread still has
 * CAP_SYS_ADMIN in the jail's user namespace (before the capabilities are cut), so no
 * no_new_privs is needed and setuid programs inside the jail keep working. */
int seccomp_jail(uint8_t allow, struct err *e);

#endif
