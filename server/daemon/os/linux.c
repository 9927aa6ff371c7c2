/* linux.c — os.h on Linux: prctl, O_TMPFILE, F_SETPIPE_SZ, statfs's f_type, sysinfo,
 * epoll. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

int os_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int os_die_with_parent(int sig)
{
	return prctl(PR_SET_PDEATHSIG, sig);
}

int os_anon_file(const char *dir)
{
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

void os_pipe_hold(int fd, size_t bytes)
{
	fcntl(fd, F_SETPIPE_SZ, (int)(bytes < 4096 ? 4096 : bytes));
}

bool os_is_fuse(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == 0x65735546; /* FUSE_SUPER_MAGIC */
}

bool os_fuse_reclaim_dead(const char *path)
{
	struct statfs sf;
	/* detached, not unmounted: a dead server cannot answer the unmount's questions */
	return statfs(path, &sf) < 0 && errno == ENOTCONN && umount2(path, MNT_DETACH) == 0;
}

int64_t os_memory_bytes(void)
{
	struct sysinfo si;
	return sysinfo(&si) == 0 ? (int64_t)si.totalram * si.mem_unit : -1;
}

int os_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

void os_thread_background(void)
{
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) < 0)
		return; /* only a priority */
}

static uint32_t to_epoll(unsigned events)
{
	return (events & OS_IN ? EPOLLIN | EPOLLRDHUP : 0) | (events & OS_OUT ? EPOLLOUT : 0);
}

int os_poller(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

int os_poller_add(int p, int fd, unsigned events, void *ptr)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = ptr };
	return epoll_ctl(p, EPOLL_CTL_ADD, fd, &ev);
}

int os_poller_mod(int p, int fd, unsigned events, void *ptr)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = ptr };
	return epoll_ctl(p, EPOLL_CTL_MOD, fd, &ev);
}

int os_poller_del(int p, int fd)
{
	return epoll_ctl(p, EPOLL_CTL_DEL, fd, NULL);
}

int os_poller_wait(int p, struct os_event *out, int max, int ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(p, evs, max < 64 ? max : 64, ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++)
		out[i] = (struct os_event){ .ptr = evs[i].data.ptr,
					    .events = (evs[i].events & EPOLLIN ? OS_IN : 0) | (evs[i].events & EPOLLOUT ? OS_OUT : 0) |
						      (evs[i].events & (EPOLLHUP | EPOLLRDHUP) ? OS_HUP : 0) |
						      (evs[i].events & EPOLLERR ? OS_ERR : 0) };
	return n;
}
