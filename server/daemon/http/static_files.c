#include "http/web.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int web_root = -1;

/* Third-party files, from the npm packages web/package-lock.json pins. */
static const struct {
	const char *url, *file;
} vendored[] = {
	{ "/vendor/xterm.js", "node_modules/@xterm/xterm/lib/xterm.js" },
	{ "/vendor/xterm.css", "node_modules/@xterm/xterm/css/xterm.css" },
	{ "/vendor/addon-fit.js", "node_modules/@xterm/addon-fit/lib/addon-fit.js" },
	{ "/vendor/uplot.js", "node_modules/uplot/dist/uPlot.iife.min.js" },
	{ "/vendor/uplot.css", "node_modules/uplot/dist/uPlot.min.css" },
};

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
};

void web_init(int root)
{
	web_root = root;
}

/* A top-level file name: letters, digits, '-', '_' and one or more dots, no leading dot. */
static bool plain_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

bool web_serve(const struct request *rq, struct response *rs)
{
	if (web_root < 0 || (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) || strncmp(rq->path, "/api/", 5) == 0)
		return false;
	const char *file = NULL;
	char top[80];
	for (size_t i = 0; i < sizeof vendored / sizeof *vendored; i++)
		if (strcmp(rq->path, vendored[i].url) == 0)
			file = vendored[i].file;
	if (!file) {
		const char *name = strcmp(rq->path, "/") == 0 ? "index.html" : rq->path + 1;
		if (!plain_name(name))
			return false;
		snprintf(top, sizeof top, "%s", name);
		file = top;
	}
	int fd = openat(web_root, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	const char *type = "application/octet-stream", *dot = strrchr(file, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
		if (strcmp(dot, types[i].ext) == 0)
			type = types[i].type;
	snprintf(rs->etag, sizeof rs->etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
	rs->content_type = type;
	rs->static_file = true;
	const char *inm = req_header(rq, "If-None-Match");
	if (inm && strcmp(inm, rs->etag) == 0) {
		close(fd);
		rs->status = 304;
		rs->text = strdup("");
		return true;
	}
	char *body = malloc((size_t)st.st_size + 1);
	ssize_t n = body ? read(fd, body, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(body);
		log_error("web: reading %s: %s", file, strerror(errno));
		return false;
	}
	body[n] = '\0';
	rs->status = 200;
	rs->text = body;
	rs->text_len = (size_t)n;
	return true;
}
