/* os.c — os.h on Linux. */
#include "../os.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void os_background(void)
{
	/* SCHED_IDLE, not a nice level: any other task that wakes takes the CPU from it at
	 * once, and the scheduler places a waking task on a CPU that runs only such work as
	 * if it were idle. At nice 10 a bulk worker kept its CPU for its slice (2-3 ms)
	 * while the helper's loop or jaild's threads, woken for another tenant's call,
	 * waited behind it. It still runs whenever a CPU has nothing else to do.
	 * ioprio_set(IOPRIO_WHO_PROCESS, self, best-effort class 2, level 7) */
	struct sched_param sp = { .sched_priority = 0 };
	if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0 || syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 7) < 0)
		return; /* only a priority: the work runs either way */
}

int os_become_reaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int os_die_with_parent(int sig)
{
	return prctl(PR_SET_PDEATHSIG, sig);
}

/* field 22 of /proc/PID/stat (clock ticks since boot) */
unsigned long long os_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: fields start after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	char state;
	unsigned long long start;
	/* state is field 3, starttime field 22 */
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &state, &start) != 2)
		return 0;
	if (state == 'Z' || state == 'X')
		return 0;
	return start;
}

