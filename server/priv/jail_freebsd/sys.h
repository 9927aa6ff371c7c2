/* sys.h — every call the FreeBSD backend makes into the kernel or a host tool, as one
 * table. On FreeBSD it is sys_freebsd.c: jail_set(2) through libjail, nmount(2),
 * ioctl(2), rctl(2), fork and exec. In the unit tests on Linux it is a recorder
 * (tests/unit/fb_recorder.c) that writes each call down with its arguments, so golden
 * tests compare what an op asks of the kernel, call by call, running the very code
 * FreeBSD runs. Plain POSIX file work (mkdirat, renameat, openat) is not in the table:
 * it is the same on both kernels and the tests do it for real in a scratch data dir. */
#ifndef JAILD_FB_SYS_H
#define JAILD_FB_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* A jail parameter or an nmount option, by name, as text: what jail(8) and mount(8)
 * take; libjail and nmount give each its kernel type. value NULL: a bare flag. */
struct fb_param {
	const char *name;
	const char *value;
};

struct fb_sys {
	/* jail_set(2) with JAIL_CREATE or JAIL_UPDATE: the jail's id, or -1 (e says why) */
	int (*jail_set)(const struct fb_param *p, unsigned n, int flags, struct err *e);
	/* the id of the live jail called name, or -1 when there is none */
	int (*jail_getid)(const char *name);
	/* jail_remove(2): kills what runs in it; its addresses and mounts are ours to undo */
	int (*jail_remove)(int jid);
	/* nmount(2): fstype, fspath, from and the rest as options */
	int (*nmount)(const struct fb_param *opts, unsigned n, uint64_t flags, struct err *e);
	int (*unmount)(const char *path, uint64_t flags);
	/* path is the root of a mount (statfs(2)'s f_mntonname) */
	bool (*is_mount_point)(const char *path);
	/* ioctl(2) on a datagram socket of family (FB_AF_INET, FB_AF_INET6): interface
	 * addresses (compat.h's requests and structures) */
	int (*if_ioctl)(int family, unsigned long request, void *arg);
	/* rctl(2): a rule to add ("jail:NAME:maxproc:deny=64"), a filter of rules to
	 * remove ("jail:NAME" or "jail:NAME:maxproc"), a subject's usage as
	 * "resource=value,..." */
	int (*rctl_add)(const char *rule);
	int (*rctl_remove)(const char *filter);
	int (*rctl_usage)(const char *filter, char *out, size_t size);
	/* sysctl(3) of an integer */
	int (*sysctl_int)(const char *name, int *value);
	/* A host tool by absolute path, waited for: in_fd (or, when -1, input as text;
	 * NULL: nothing) on its stdin, out_fd (-1: captured into out) on its stdout;
	 * stderr into errout. 0 when it ran and exited 0, else -1 with e saying why. */
	int (*tool)(char *const argv[], int in_fd, const char *input, int out_fd, char *out, size_t out_size,
		    struct err *e);
	/* A process in jail jid, in a session of its own, as jail root, cwd /, stdio on
	 * fds: argv[0] looked up in the jail's PATH. Not waited for: its pid. */
	pid_t (*jail_spawn)(int jid, char *const argv[], const int fds[3], struct err *e);
	/* A terminal in jail jid (allocated there, so the jail's pseudoterminals limit
	 * counts it) with argv on it (NULL: root's login), its master into *master; with
	 * exit_mark, how argv ended is written last (CONSOLE_EXIT_MARK). Its pid. */
	pid_t (*jail_console)(int jid, char *const argv[], unsigned short rows, unsigned short cols, bool exit_mark,
			      int *master, struct err *e);
	/* a child of ours ended within ms: 1 (*status as waitpid's), 0 not yet, -1 error */
	int (*wait_child)(pid_t pid, int ms, int *status);
	/* SIGnal every process of jail jid (a child attached to it does kill(-1)) */
	int (*jail_kill_all)(int jid, int sig);
	int (*kill)(pid_t pid, int sig);
	/* os_proc_starttime: 0 when the process is gone */
	unsigned long long (*proc_start)(pid_t pid);
	/* sleeps ms (a recorder returns at once) */
	void (*pause_ms)(int ms);
};

/* The table the backend calls: the real one on FreeBSD; the tests set their own. */
extern const struct fb_sys *fb_sys;

#endif
