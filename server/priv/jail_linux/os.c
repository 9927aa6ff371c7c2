/* os.c — os.h on Linux. */
#include "../os.h"

#include <sys/prctl.h>

int os_become_reaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int os_die_with_parent(int sig)
{
	return prctl(PR_SET_PDEATHSIG, sig);
}
