/* jail_log.c — GET /api/jails/{name}/log[?tail=N][&follow=1]: what the jail's first
 * process wrote to stdout and stderr, as text. The helper hands over a read-only
 * descriptor of the log; its oldest part may have been given back (a hole), which is
 * skipped, as is the line the trim cut in two. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/jails.h"

#define LOG_READ_MAX ((size_t)8 << 20) /* what one answer holds at most */
#define FOLLOW_IDLE 300                /* seconds a follow waits for output before it ends */

/* Where the kept part of the log starts: past any hole, at a line's start. */
static off_t log_start(int fd)
{
	off_t at = lseek(fd, 0, SEEK_DATA);
	if (at <= 0)
		return at < 0 && errno == ENXIO ? lseek(fd, 0, SEEK_END) : 0;
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof buf, at);
	char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
	return nl ? at + (nl - buf) + 1 : at;
}

/* The last `tail` lines (all when tail < 0) from start to end, malloc'd; *len set. */
static char *log_tail(int fd, off_t start, off_t end, long tail, size_t *len)
{
	if (end - start > (off_t)LOG_READ_MAX)
		start = end - (off_t)LOG_READ_MAX;
	size_t n = (size_t)(end - start);
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	ssize_t got = n ? pread(fd, buf, n, start) : 0;
	n = got > 0 ? (size_t)got : 0;
	buf[n] = '\0';
	size_t from = 0;
	if (tail == 0) {
		from = n;
	} else if (tail > 0) {
		/* back from the end (its own line end aside) to the tail-th line end */
		size_t i = n > 0 && buf[n - 1] == '\n' ? n - 1 : n;
		long lines = 0;
		while (i > 0 && !(buf[i - 1] == '\n' && ++lines == tail))
			i--;
		from = i;
	}
	memmove(buf, buf + from, n - from + 1);
	*len = n - from;
	return buf;
}

struct follow {
	int fd;
	off_t at;
	time_t quiet_since; /* the last time it had something */
	char name[NAME_SIZE];
	char *head; /* the tail, sent first */
	size_t head_len, head_off;
};

/* Pulled by the HTTP server: the tail, then what is written after it, looking again
 * every quarter second (parked in between: a file is always "readable"); it ends when
 * the jail stops or stays silent a while. */
static ssize_t follow_read(void *cls, uint64_t pos, char *out, size_t max, struct http_wait *w)
{
	struct follow *f = cls;
	(void)pos;
	if (f->head_off < f->head_len) {
		size_t n = f->head_len - f->head_off < max ? f->head_len - f->head_off : max;
		memcpy(out, f->head + f->head_off, n);
		f->head_off += n;
		return (ssize_t)n;
	}
	ssize_t n = pread(f->fd, out, max, f->at);
	if (n > 0) {
		f->at += n;
		f->quiet_since = time(NULL);
		return n;
	}
	if (n < 0 || time(NULL) - f->quiet_since > FOLLOW_IDLE || !jail_is_running(f->name))
		return HTTP_STREAM_END;
	w->ms = 250;
	return HTTP_STREAM_WAIT;
}

static void follow_free(void *cls)
{
	struct follow *f = cls;
	close(f->fd);
	free(f->head);
	free(f);
}

void h_jail_log(struct request *rq, struct response *rs)
{
	struct err e;
	const char *ts = req_query(rq, "tail"), *fo = req_query(rq, "follow");
	long tail = -1;
	if (ts) {
		char *end;
		tail = strtol(ts, &end, 10);
		if (*end || end == ts || tail < 0 || tail > 100000)
			return resp_errorf(rs, ERR_INVALID, "tail", "tail must be a number of lines from 0 to 100000");
	}
	if (fo && strcmp(fo, "1") != 0 && strcmp(fo, "0") != 0)
		return resp_errorf(rs, ERR_INVALID, "follow", "follow must be 1 (keep sending what the jail writes) or 0");
	if (target_jail(rq, rs, false, NULL) < 0)
		return;
	int fd;
	if (jail_log_open(rq->params[0], &fd, &e) < 0)
		return resp_error(rs, &e);
	off_t end = lseek(fd, 0, SEEK_END);
	size_t len = 0;
	char *text = end < 0 ? NULL : log_tail(fd, log_start(fd), end, tail, &len);
	if (!text) {
		close(fd);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot read the jail's log (out of memory?)");
	}
	if (!fo || strcmp(fo, "1") != 0) {
		close(fd);
		rs->status = 200;
		rs->content_type = "text/plain; charset=utf-8";
		rs->text = text;
		rs->text_len = len;
		return;
	}
	struct follow *f = calloc(1, sizeof *f);
	if (!f) {
		close(fd);
		free(text);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
	}
	*f = (struct follow){ .fd = fd, .at = end, .head = text, .head_len = len, .quiet_since = time(NULL) };
	snprintf(f->name, sizeof f->name, "%.63s", rq->params[0]);
	rs->status = 200;
	rs->content_type = "text/plain; charset=utf-8";
	rs->stream = follow_read;
	rs->stream_free = follow_free;
	rs->stream_cls = f;
}
