/* hostile — what a hostile jail root runs in test_attacks.py, one attack per verb.
 * Static, so it runs on the minimal template; it prints what happened, one line.
 *
 *   hostile sti        open the controlling terminal (/dev/tty) and push a command into
 *                      it with TIOCSTI: "tty: ENXIO" when there is none, else "sti: ok"
 *                      or "sti: <error>"
 *   hostile ptys N [hold]  open up to N terminals: "ptys: <opened>"; with hold, keep
 *                      them open until killed
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sti") == 0)
		return sti();
	if (argc >= 3 && strcmp(argv[1], "ptys") == 0)
		return ptys(atoi(argv[2]), argc >= 4 && strcmp(argv[3], "hold") == 0);
	fprintf(stderr, "usage: hostile sti | ptys N [hold]\n");
	return 2;
}
