/* hostile — what a hostile jail root runs in test_attacks.py, one attack per verb.
 * Static, so it runs on the minimal template; it prints what happened, one line.
 *
 *   hostile sti        open the controlling terminal (/dev/tty) and push a command into
 *                      it with TIOCSTI: "tty: ENXIO" when there is none, else "sti: ok"
 *                      or "sti: <error>"
 *   hostile ptys N [hold]  open up to N terminals: "ptys: <opened>"; with hold, keep
 *                      them open until killed
 *   hostile syscalls   the calls a seccomp filter should refuse, one line each:
 *                      "NAME: ok" or "NAME: <errno name>"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sti(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0) {
		printf("tty: %s\n", errno == ENXIO ? "ENXIO" : strerror(errno));
		return 0;
	}
	const char *cmd = "echo JAIL-TYPED-THIS\n";
	for (const char *p = cmd; *p; p++)
		if (ioctl(fd, TIOCSTI, p) < 0) {
			printf("sti: %s\n", errno == EPERM ? "EPERM" : strerror(errno));
			return 0;
		}
	printf("sti: ok\n");
	return 0;
}

static int ptys(int n, bool hold)
{
	int opened = 0;
	for (int i = 0; i < n; i++) {
		if (open("/dev/pts/ptmx", O_RDWR | O_NOCTTY) < 0)
			break;
		opened++;
	}
	printf("ptys: %d\n", opened);
	fflush(stdout);
	while (hold)
		pause();
	return 0;
}

static const char *errname(int e)
{
	return e == EPERM ? "EPERM" : e == ENOSYS ? "ENOSYS" : e == EINVAL ? "EINVAL" : e == EFAULT ? "EFAULT" : strerror(e);
}

static void report(const char *name, long r)
{
	printf("%s: %s\n", name, r >= 0 ? "ok" : errname(errno));
}

static int syscalls(void)
{
	char params[120] = { 0 };
	report("io_uring_setup", syscall(425, 4, params));
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	report("unshare_user", syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "syscalls") == 0)
		return syscalls();
	if (argc >= 2 && strcmp(argv[1], "sti") == 0)
		return sti();
	if (argc >= 3 && strcmp(argv[1], "ptys") == 0)
		return ptys(atoi(argv[2]), argc >= 4 && strcmp(argv[3], "hold") == 0);
	fprintf(stderr, "usage: hostile sti | ptys N [hold] | syscalls\n");
	return 2;
}
