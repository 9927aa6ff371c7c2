#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "spec.h"

#define BIT(c) ((uint64_t)1 << (c))

/* Never kept, whatever the allow flags: changing the jail's addresses (the host
 * pins them), kernel modules, raw I/O, clocks, reboot, immutable flags (needs the
 * host's namespace anyway), MAC policy, the kernel log, BPF and perf. */
static const uint64_t never = BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_RAWIO) | BIT(CAP_SYS_PACCT) |
			      BIT(CAP_SYS_TIME) | BIT(CAP_SYS_BOOT) | BIT(CAP_LINUX_IMMUTABLE) | BIT(CAP_MAC_ADMIN) |
			      BIT(CAP_MAC_OVERRIDE) | BIT(CAP_SYSLOG) | BIT(CAP_WAKE_ALARM) | BIT(CAP_BLOCK_SUSPEND) |
			      BIT(CAP_AUDIT_CONTROL) | BIT(CAP_AUDIT_READ) | BIT(CAP_BPF) | BIT(CAP_PERFMON) |
			      BIT(CAP_CHECKPOINT_RESTORE) | BIT(CAP_MKNOD);

uint64_t caps_for_jail(uint8_t allow)
{
	uint64_t keep = (BIT(CAP_LAST_CAP + 1) - 1) & ~never;
	/* CAP_SYS_ADMIN in the jail's namespaces is what sethostname needs; without
	 * allow.set_hostname it goes, and with it the jail's other admin powers */
	if (!(allow & ALLOW_SET_HOSTNAME))
		keep &= ~BIT(CAP_SYS_ADMIN);
	if (!(allow & ALLOW_RAW_SOCKETS))
		keep &= ~BIT(CAP_NET_RAW);
	return keep;
}

/* The kernel's last capability: read once (the helper reads it at start, and each
 * worker and jail process has it from there), it never changes while the kernel runs. */
static int last_cap(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

void caps_init(void)
{
	last_cap();
}

int caps_restrict(uint64_t keep, struct err *e)
{
	int last = last_cap();
	for (int c = 0; c <= last; c++) {
		if (c < 64 && (keep & BIT(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return err_errno(e, "dropping capability %d from the bounding set", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_errno(e, "clearing ambient capabilities");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return err_errno(e, "capget");
	uint32_t lo = (uint32_t)keep, hi = (uint32_t)(keep >> 32);
	d[0].effective &= lo; d[0].permitted &= lo; d[0].inheritable &= lo;
	d[1].effective &= hi; d[1].permitted &= hi; d[1].inheritable &= hi;
	if (syscall(SYS_capset, &h, d) < 0)
		return err_errno(e, "capset");
	return 0;
}

int caps_bounding_of(int pid, uint64_t *out, struct err *e)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return err_errno(e, "reading %s", path);
	int found = 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapBnd: %lx", (unsigned long *)out) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	return found ? 0 : err_set(e, ERR_INTERNAL, "no CapBnd in %s", path);
}
