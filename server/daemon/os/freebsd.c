/* freebsd.c — os.h on FreeBSD: procctl, an unlinked mkstemp file, statfs's type
 * name, sysctl, kqueue. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/procctl.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <unistd.h>

int os_subreaper(void)
{
	return procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL);
}

int os_die_with_parent(int sig)
{
	return procctl(P_PID, 0, PROC_PDEATHSIG_CTL, &sig);
}

int os_anon_file(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/.upload.XXXXXX", dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

void os_pipe_hold(int fd, size_t bytes)
{
	/* FreeBSD pipes grow on their own up to kern.ipc.maxpipekva */
	(void)fd, (void)bytes;
}

bool os_is_fuse(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && strncmp(sf.f_fstypename, "fusefs", 6) == 0;
}

bool os_fuse_reclaim_dead(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) < 0 && errno == ENOTCONN && unmount(path, MNT_FORCE) == 0;
}

int64_t os_memory_bytes(void)
{
	unsigned long mem = 0;
	size_t len = sizeof mem;
	return sysctlbyname("hw.physmem", &mem, &len, NULL, 0) == 0 ? (int64_t)mem : -1;
}

void os_thread_background(void)
{
	/* FreeBSD's nice is the whole process's: the console thread keeps jaild's */
}

int os_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

int os_poller(void)
{
	return kqueuex(KQUEUE_CLOEXEC);
}

/* Each filter on or off (EV_ADD puts it there the first time). */
static int set(int p, int fd, unsigned events, void *ptr, bool adding)
{
	struct kevent ch[2];
	EV_SET(&ch[0], fd, EVFILT_READ, EV_ADD | (events & OS_IN ? EV_ENABLE : EV_DISABLE), 0, 0, ptr);
	EV_SET(&ch[1], fd, EVFILT_WRITE, EV_ADD | (events & OS_OUT ? EV_ENABLE : EV_DISABLE), 0, 0, ptr);
	(void)adding;
	return kevent(p, ch, 2, NULL, 0, NULL);
}

int os_poller_add(int p, int fd, unsigned events, void *ptr)
{
	return set(p, fd, events, ptr, true);
}

int os_poller_mod(int p, int fd, unsigned events, void *ptr)
{
	return set(p, fd, events, ptr, false);
}

int os_poller_del(int p, int fd)
{
	struct kevent ch[2];
	EV_SET(&ch[0], fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	EV_SET(&ch[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	kevent(p, &ch[0], 1, NULL, 0, NULL);
	kevent(p, &ch[1], 1, NULL, 0, NULL);
	return 0;
}

int os_poller_wait(int p, struct os_event *out, int max, int ms)
{
	struct kevent evs[64];
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	int n = kevent(p, NULL, 0, evs, max < 64 ? max : 64, ms < 0 ? NULL : &ts);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++)
		out[i] = (struct os_event){ .ptr = evs[i].udata,
					    .events = (evs[i].filter == EVFILT_READ ? OS_IN : 0) | (evs[i].filter == EVFILT_WRITE ? OS_OUT : 0) |
						      (evs[i].flags & EV_EOF ? OS_HUP : 0) | (evs[i].flags & EV_ERROR ? OS_ERR : 0) };
	return n;
}
