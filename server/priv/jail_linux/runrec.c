#include "runrec.h"
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned long long proc_starttime(pid_t pid)
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

static void path_of(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/run", name);
}

int runrec_write(int jails_fd, const char *name, const struct runrec *r)
{
	char path[128], tmp[128], line[128];
	path_of(name, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s/run.tmp", name);
	int fd = openat(jails_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int len = snprintf(line, sizeof line, "%d %llu %u %u\n", (int)r->pid, r->starttime, r->slot, (unsigned)r->allow);
	ssize_t w = write(fd, line, (size_t)len);
	close(fd);
	if (w != len)
		return -1;
	return renameat(jails_fd, tmp, jails_fd, path);
}

/* A small record file's text into buf (NUL-terminated); false when there is none. */
static bool read_record(int jails_fd, const char *path, char *buf, size_t size)
{
	int fd = openat(jails_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

bool runrec_read(int jails_fd, const char *name, struct runrec *r)
{
	char path[128], buf[128];
	path_of(name, path, sizeof path);
	if (!read_record(jails_fd, path, buf, sizeof buf))
		return false;
	int pid;
	unsigned allow = 0; /* absent in records of older helpers: nothing allowed */
	if (sscanf(buf, "%d %llu %u %u", &pid, &r->starttime, &r->slot, &allow) < 3 || pid <= 1)
		return false;
	r->pid = pid;
	r->allow = (uint8_t)allow;
	return true;
}

bool runrec_alive(int jails_fd, const char *name, struct runrec *r)
{
	return runrec_read(jails_fd, name, r) && proc_starttime(r->pid) == r->starttime;
}

/* DIR/jails/NAME/exit: "CODE SIGNAL UNIXTIME", how the first process last ended. */
int runrec_exit_write(int jails_fd, const char *name, int code, int sig, long long at)
{
	char path[128], tmp[128], line[64];
	snprintf(path, sizeof path, "%s/exit", name);
	snprintf(tmp, sizeof tmp, "%s/exit.tmp", name);
	int fd = openat(jails_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int len = snprintf(line, sizeof line, "%d %d %lld\n", code, sig, at);
	int rc = write(fd, line, (size_t)len) == len ? 0 : -1;
	close(fd);
	return rc == 0 ? renameat(jails_fd, tmp, jails_fd, path) : -1;
}

bool runrec_exit_read(int jails_fd, const char *name, int *code, int *sig, long long *at)
{
	char path[128], buf[64];
	snprintf(path, sizeof path, "%s/exit", name);
	return read_record(jails_fd, path, buf, sizeof buf) && sscanf(buf, "%d %d %lld", code, sig, at) == 3;
}

void runrec_remove(int jails_fd, const char *name)
{
	char path[128];
	path_of(name, path, sizeof path);
	unlinkat(jails_fd, path, 0);
}

int netrec_write(int jails_fd, const char *name, const struct netrec *r)
{
	char path[128], tmp[128];
	snprintf(path, sizeof path, "%s/net", name);
	snprintf(tmp, sizeof tmp, "%s/net.tmp", name);
	int fd = openat(jails_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, r, sizeof *r);
	close(fd);
	if (w != (ssize_t)sizeof *r)
		return -1;
	return renameat(jails_fd, tmp, jails_fd, path);
}

bool netrec_read(int jails_fd, const char *name, struct netrec *r)
{
	char path[128];
	snprintf(path, sizeof path, "%s/net", name);
	int fd = openat(jails_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, r, sizeof *r);
	close(fd);
	/* written only by us, but checked as if it were not: a short or foreign file is none */
	return n == (ssize_t)sizeof *r && r->magic == NETREC_MAGIC && r->nip4 <= IP4_MAX && r->nip6 <= IP6_MAX &&
	       net_check(&r->net, &(struct err){ 0 }) == 0;
}

void netrec_remove(int jails_fd, const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/net", name);
	unlinkat(jails_fd, path, 0);
}
