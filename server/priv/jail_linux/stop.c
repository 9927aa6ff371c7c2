/* stop.c — stopping a jail: its stop_command, then signals to its own cgroup only. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../backend.h"
#include "linux.h"
#include "caps.h"
#include "disk.h"
#include "tarball.h"
#include "netfilter.h"
#include "fsutil.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "../os.h"
#include "../runrec.h"
#include "seccomp.h"
#include "template.h"

/* ---- stop ---- */

/* Whether pid (pinned by a pidfd the caller holds, so it cannot be reused meanwhile)
 * is in the jail's cgroup: its /proc/PID/cgroup names .../PARENT/NAME. */
static bool in_jail_cgroup(const struct priv_ctx *c, const char *name, pid_t pid)
{
	char path[64], line[512], want[NAME_SIZE + 40];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	int n = snprintf(want, sizeof want, "/%s/%s", CG(c)->parent, name);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		found = len >= (size_t)n && strncmp(line + len - (size_t)n, want, (size_t)n) == 0;
	}
	if (f)
		fclose(f);
	return found;
}

/* Signals every process in the jail's cgroup. A pid read from cgroup.procs may belong
 * to somebody else by the time it is signalled (the jail's process exited and the pid
 * was reused): each is pinned with a pidfd and checked to be in the jail's cgroup
 * before the signal goes through that pidfd. */
static void signal_all(struct priv_ctx *c, const char *name, int sig)
{
	pid_t pids[4096];
	long n = CG(c)->ops->procs(CG(c), name, pids, 4096);
	for (long i = 0; i < n; i++) {
		int pfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (pfd < 0)
			continue;
		if (in_jail_cgroup(c, name, pids[i]))
			syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		close(pfd);
	}
}

/* Whether pid has a handler for sig (/proc/PID/status SigCgt). A pid namespace's
 * init drops a signal it does not catch: it will never act on it. */
static bool catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = ~0ULL;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	if (f)
		fclose(f);
	return (mask >> (sig - 1)) & 1;
}

/* After SIGTERM: 1 once PID 1 has exited, 0 at the timeout. The jail's other
 * processes get the whole time to finish; once PID 1 is the last and does not catch
 * SIGTERM (sysvinit's init, a shell before its trap), waiting longer would change
 * nothing: it is done. caught: whether PID 1 caught SIGTERM just before it was sent. */
static int wait_pid1(struct priv_ctx *c, const char *name, pid_t pid1, int pfd, int ms, bool caught)
{
	for (int waited = 0; waited < ms; waited += 20) {
		/* a PID 1 that did not catch SIGTERM when it was sent (a shell just before its
		 * trap) dropped it: once it catches it, it gets it again */
		if (!caught && catches(pid1, SIGTERM)) {
			syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0);
			caught = true;
		}
		if (wait_pidfd(pfd, waited < ms - 20 ? 20 : ms - waited) == 1)
			return 1;
		pid_t pids[4];
		if (CG(c)->ops->procs(CG(c), name, pids, 4) == 1 && pids[0] == pid1 && !catches(pid1, SIGTERM)) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			return wait_pidfd(pfd, 10000);
		}
	}
	return 0;
}

/* Up to a second for the host end of the jail's veth (if it had one) to go. */
static void wait_veth_gone(struct priv_ctx *c, uint32_t slot)
{
	char ifn[IFNAMSIZ];
	host_ifname(c, slot, ifn);
	for (int i = 0; i < 1000 && if_nametoindex(ifn) != 0; i++) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

int linux_stop(struct priv_ctx *c, const struct req_stop *r, struct err *e)
{
	struct runrec rec = { 0 };
	if (!runrec_alive(c->jails_fd, r->name, &rec)) {
		/* already down: still take away anything it left */
		cleanup_runtime(c, r->name, rec.slot, rec.slot < c->max_slots && rec.pid > 0);
		return 0;
	}
	int pfd = (int)syscall(SYS_pidfd_open, rec.pid, 0);
	if (pfd < 0 && errno == ESRCH) {
		/* its first process ended (and was reaped) since the look above: down */
		cleanup_runtime(c, r->name, rec.slot, true);
		return 0;
	}
	if (pfd < 0)
		return err_errno(e, "pidfd_open of jail %s", r->name);
	if (os_proc_starttime(rec.pid) != rec.starttime) {
		close(pfd);
		cleanup_runtime(c, r->name, rec.slot, true);
		return 0;
	}
	if (r->stop_command.argc > 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int fds[3] = { null, null, null };
		int status;
		bool to;
		struct err ignored = { 0 };
		struct jail_entry en = { .argv = &r->stop_command, .stdio = fds, .pty = -1, .allow = rec.allow };
		if (null >= 0) {
			if (run_in_jail(c, r->name, rec.pid, rec.starttime, &en, r->timeout ? r->timeout : 1,
					&status, &to, &ignored))
				log_warn("jail %s: stop_command: %s", r->name, ignored.msg);
			close(null);
		}
	}
	bool caught = catches(rec.pid, SIGTERM);
	signal_all(c, r->name, SIGTERM);
	if (wait_pid1(c, r->name, rec.pid, pfd, (int)r->timeout * 1000, caught) == 0) {
		log_info("jail %s: still running %us after SIGTERM; sending SIGKILL", r->name, r->timeout);
		/* SIGKILL to a pid namespace's init ends every process in it */
		syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		wait_pidfd(pfd, 10000);
	}
	close(pfd);
	for (int i = 0; i < 500; i++) {
		pid_t pids[4];
		if (CG(c)->ops->procs(CG(c), r->name, pids, 4) <= 0)
			break;
		/* whatever is left: the cgroup's own kill on v2 (every process, atomically),
		 * pinned and checked signals on v1 */
		if (i == 100 && CG(c)->ops->kill(CG(c), r->name) < 0)
			signal_all(c, r->name, SIGKILL);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	/* its PID 1 is gone, so its network namespace is too, and with it both ends of its
	 * veth, as the kernel tears the namespace down on its own: deleting the host end
	 * here would wait as long in netlink for that. The stop answers once it is gone:
	 * a teardown left running overlaps the next start, which then waits for the same
	 * kernel lock at each of its network steps (a start right after a stop measured
	 * 9 -> 29 ms, the whole cycle 44 -> 49 ms). A start finds a late one gone (or
	 * deletes it), and a sweep takes any left. */
	cleanup_runtime(c, r->name, rec.slot, false);
	wait_veth_gone(c, rec.slot);
	return 0;
}

