/* sti — run inside a jail by test_attacks.py, as a hostile customer would: open the
 * controlling terminal (/dev/tty) and push a command into it with TIOCSTI, the way a
 * process that shares an admin's terminal session types into the admin's shell.
 * Prints what happened: "tty: <errno name>" when there is no terminal to open, else
 * "sti: ok" or "sti: <errno name>". Static, so it runs on the minimal template. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
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
