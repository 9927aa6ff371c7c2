#include "runrec.h"
#include "os.h"
#include "proto.h"
#include "validate.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	return runrec_read(jails_fd, name, r) && os_proc_starttime(r->pid) == r->starttime;
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

DIR *dir_stream(int jails_fd)
{
	int fd = dup(jails_fd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		return NULL;
	}
	rewinddir(d);
	return d;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int runrec_list(int jails_fd, const char *after, bool (*alive)(void *arg, const char *name), void *arg,
		struct list_reply *out)
{
	DIR *d = dir_stream(jails_fd);
	if (!d)
		return -1;
	/* keep the LIST_PAGE smallest names after `after`; one more tells "more" */
	static char names[LIST_PAGE + 1][NAME_SIZE];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!valid_name(de->d_name) || strcmp(de->d_name, after) <= 0)
			continue;
		if (!alive(arg, de->d_name))
			continue;
		if (n == LIST_PAGE + 1) {
			qsort(names, n, NAME_SIZE, cmp_names);
			if (strcmp(de->d_name, names[LIST_PAGE]) >= 0)
				continue;
			n--;
		}
		snprintf(names[n++], NAME_SIZE, "%.63s", de->d_name);
	}
	closedir(d);
	qsort(names, n, NAME_SIZE, cmp_names);
	out->more = n > LIST_PAGE;
	out->count = (uint32_t)(n > LIST_PAGE ? LIST_PAGE : n);
	memcpy(out->names, names, out->count * NAME_SIZE);
	return 0;
}

void runrec_reaped(int jails_fd, pid_t pid, int status)
{
	DIR *d = dir_stream(jails_fd);
	struct dirent *de;
	struct runrec rec;
	while (d && (de = readdir(d)))
		if (valid_name(de->d_name) && runrec_read(jails_fd, de->d_name, &rec) && rec.pid == pid) {
			runrec_exit_write(jails_fd, de->d_name, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
					  WIFSIGNALED(status) ? WTERMSIG(status) : 0, (long long)time(NULL));
			break;
		}
	if (d)
		closedir(d);
}

void runrec_exit_reply(int jails_fd, const char *name, struct reply *out)
{
	int code, sig;
	long long at;
	out->running = 0;
	if (runrec_exit_read(jails_fd, name, &code, &sig, &at)) {
		out->exited = 1;
		out->exit_code = code;
		out->exit_signal = sig;
		out->exited_at = at;
	}
}

int runrec_log_open(int dir, const char *log, const char *name, int *out, struct err *e)
{
	int fd = openat(dir, log, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "jail %s has no log yet: it has not been started", name)
				       : err_errno(e, "opening the log of jail %s", name);
	*out = fd;
	return 0;
}
