#include "core/asciicast.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes one line, counted against the budget; past the session's cap a last marker
 * event says the recording stops there (the session itself goes on). */
static void put_line(struct cast *c, const char *line, double t)
{
	size_t n = strlen(line) + 1;
	if (c->full)
		return;
	if (c->budget && c->bytes + n > c->budget->max) {
		char note[200];
		int m = snprintf(note, sizeof note, "[%.6f,\"m\",\"recording stopped: this session passed recording-max (%llu bytes); the session goes on unrecorded\"]\n",
				 t, (unsigned long long)c->budget->max);
		fputs(note, c->f);
		c->full = true;
		n = (size_t)m;
	} else {
		fputs(line, c->f);
		fputc('\n', c->f);
	}
	c->bytes += n;
	if (c->budget && c->budget->total)
		*c->budget->total += n;
}

int cast_open(struct cast *c, int dirfd, const char *name, unsigned cols, unsigned rows, const char *title,
	      const struct cast_budget *budget, struct err *e)
{
	memset(c, 0, sizeof *c);
	c->budget = budget;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(e, "creating the recording %s", name);
	if (!(c->f = fdopen(fd, "w"))) {
		close(fd);
		return err_errno(e, "opening the recording %s", name);
	}
	setvbuf(c->f, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	json_t *h = json_pack("{sisisisIsss{ssss}}", "version", 2, "width", (int)cols, "height", (int)rows, "timestamp",
			      (json_int_t)time(NULL), "title", title, "env", "TERM", "xterm-256color", "SHELL", "/bin/sh");
	char *text = h ? json_dumps(h, JSON_COMPACT) : NULL;
	if (text)
		put_line(c, text, 0);
	free(text);
	json_decref(h);
	return 0;
}

static double elapsed(const struct cast *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->t0.tv_sec) + (double)(now.tv_nsec - c->t0.tv_nsec) / 1e9;
}

static void event(struct cast *c, const char *kind, const char *text, size_t n)
{
	double t = elapsed(c);
	json_t *ev = json_pack("[fss%]", t, kind, text, n);
	char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	if (line)
		put_line(c, line, t);
	free(line);
	json_decref(ev);
}

void cast_data(struct cast *c, char kind, const void *buf, size_t n)
{
	if (!c->f || n == 0 || c->full)
		return;
	char *text = malloc(3 * (n + 4));
	if (!text)
		return;
	size_t len = utf8_clean(kind == 'i' ? &c->in : &c->out, buf, n, false, text);
	if (len)
		event(c, kind == 'i' ? "i" : "o", text, len);
	free(text);
}

void cast_resize(struct cast *c, unsigned cols, unsigned rows)
{
	char size[32];
	if (!c->f)
		return;
	int n = snprintf(size, sizeof size, "%ux%u", cols, rows);
	event(c, "r", size, (size_t)n);
}

void cast_close(struct cast *c)
{
	if (!c->f)
		return;
	char text[32];
	size_t len = utf8_clean(&c->out, "", 0, true, text);
	if (len)
		event(c, "o", text, len);
	fclose(c->f);
	c->f = NULL;
}
