/* os.h — what jaild (its server and its root supervisor) needs of the kernel beyond
 * POSIX, one small function each, so that no logic elsewhere carries #ifdefs.
 * linux.c and freebsd.c implement them; meson builds the one for the host. */
#ifndef JAILD_OS_H
#define JAILD_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Orphaned descendants (jails whose helper died) come to this process to be reaped. */
int os_subreaper(void);
/* sig arrives when the parent dies. */
int os_die_with_parent(int sig);
/* A file without a name in directory dir, read-write, gone when closed (uploads). */
int os_anon_file(const char *dir);
/* Asks a pipe to hold at least bytes without a reader (best effort). */
void os_pipe_hold(int fd, size_t bytes);
/* Whether a FUSE filesystem is mounted at path (lxcfs). */
bool os_is_fuse(const char *path);
/* Takes away a FUSE mount at path whose server has died (every access fails with
 * ENOTCONN: an lxcfs killed with the session that started it); true if there was one. */
bool os_fuse_reclaim_dead(const char *path);
/* The host's memory in bytes, and its CPUs online. */
int64_t os_memory_bytes(void);
int os_cpus(void);
/* The calling thread yields the CPU to the process's others (nice 10): bulk work such
 * as relaying a terminal's output. Linux only (a thread has its own nice there); a
 * no-op elsewhere. */
void os_thread_background(void);

/* Readiness of many descriptors, each with a pointer (the console's loop): epoll on
 * Linux, kqueue on FreeBSD. Level-triggered; events are OS_IN and OS_OUT asked, and
 * OS_HUP or OS_ERR told. */
enum { OS_IN = 1, OS_OUT = 2, OS_HUP = 4, OS_ERR = 8 };
struct os_event {
	void *ptr;
	unsigned events;
};
int os_poller(void);
int os_poller_add(int p, int fd, unsigned events, void *ptr);
/* events 0 keeps fd registered and silent */
int os_poller_mod(int p, int fd, unsigned events, void *ptr);
int os_poller_del(int p, int fd);
/* Up to max events, waiting at most ms: how many, or -1 (EINTR: 0). */
int os_poller_wait(int p, struct os_event *out, int max, int ms);

#endif
