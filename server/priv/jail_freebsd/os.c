/* os.c — ../os.h on FreeBSD: procctl(2) and the process table by sysctl(3). */
#include "../os.h"

#include <sys/types.h>
#include <sys/procctl.h>
#include <sys/resource.h>
#include <sys/sysctl.h>
#include <sys/user.h>
#include <unistd.h>

void os_background(void)
{
	(void)setpriority(PRIO_PROCESS, 0, 10); /* only a priority: the work runs either way */
}

int os_become_reaper(void)
{
	return procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL);
}

int os_die_with_parent(int sig)
{
	return procctl(P_PID, 0, PROC_PDEATHSIG_CTL, &sig);
}

/* ki_start in microseconds since the epoch; a zombie counts as gone */
unsigned long long os_proc_starttime(pid_t pid)
{
	int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid };
	struct kinfo_proc kp;
	size_t len = sizeof kp;
	if (sysctl(mib, 4, &kp, &len, NULL, 0) < 0 || len != sizeof kp || kp.ki_stat == SZOMB)
		return 0;
	return (unsigned long long)kp.ki_start.tv_sec * 1000000ull + (unsigned long long)kp.ki_start.tv_usec;
}
