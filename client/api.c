#include "api.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	d[b->len] = '\0';
	return add;
}

/* A request to jaild, set up but not performed: URL, token, JSON body (text may be
 * NULL), method. The caller sets the write callback and frees *h. */
static CURL *request(const struct settings *s, const char *method, const char *path, const char *text, struct curl_slist **h,
		     char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "libcurl could not start");
		return NULL;
	}
	char url[1024], auth[300];
	snprintf(url, sizeof url, "%s%s", s->url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
	*h = curl_slist_append(NULL, "Content-Type: application/json");
	if (s->token[0])
		*h = curl_slist_append(*h, auth);
	if (s->csv)
		*h = curl_slist_append(*h, "Accept: text/csv");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (text)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	return c;
}

int api_call(const struct settings *s, const char *method, const char *path, json_t *body, json_t **out, char *err, size_t errlen)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct curl_slist *h = NULL;
	CURL *c = NULL;
	struct buf b = { 0 };
	CURLcode rc = CURLE_OK;
	long status = -1;
	/* 429: the server says when to come back (Retry-After); a few short waits are
	 * taken, a long one is the caller's to decide */
	for (int attempt = 0; attempt < 4; attempt++) {
		if (c) {
			curl_slist_free_all(h);
			curl_easy_cleanup(c);
			free(b.data);
			b = (struct buf){ 0 };
		}
		if (!(c = request(s, method, path, text, &h, err, errlen))) {
			free(text);
			return -1;
		}
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 3700L);
		rc = curl_easy_perform(c);
		status = -1;
		if (rc != CURLE_OK)
			break;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_off_t wait = 0;
		if (status != 429 || curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &wait) != CURLE_OK || wait > 10)
			break;
		sleep(wait > 0 ? (unsigned)wait : 1);
	}
	if (rc != CURLE_OK)
		snprintf(err, errlen, "cannot reach jaild at %s: %s", s->url, curl_easy_strerror(rc));
	*out = NULL;
	if (rc == CURLE_OK && b.len) {
		json_error_t je;
		*out = json_loads(b.data, 0, &je);
		if (!*out)
			snprintf(err, errlen, "jaild answered something that is not JSON (%s)", je.text);
	}
	free(b.data);
	free(text);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return (int)status;
}

struct line_state {
	CURL *c;
	struct buf b;
	void (*on_line)(void *arg, json_t *line);
	void *arg;
	bool streaming;
};

static size_t take_lines(char *p, size_t size, size_t n, void *arg)
{
	struct line_state *ls = arg;
	long status = 0;
	curl_easy_getinfo(ls->c, CURLINFO_RESPONSE_CODE, &status);
	size_t add = collect(p, size, n, &ls->b);
	if (status != 200 || add == 0)
		return add; /* an error's body: parsed whole at the end */
	ls->streaming = true;
	char *start = ls->b.data, *nl;
	while ((nl = memchr(start, '\n', ls->b.len - (size_t)(start - ls->b.data)))) {
		*nl = '\0';
		json_t *line = json_loads(start, 0, NULL);
		if (line)
			ls->on_line(ls->arg, line);
		json_decref(line);
		start = nl + 1;
	}
	ls->b.len -= (size_t)(start - ls->b.data);
	memmove(ls->b.data, start, ls->b.len);
	return add;
}

int api_stream(const struct settings *s, const char *path, json_t *body, void (*on_line)(void *arg, json_t *line), void *arg,
	       json_t **error, char *err, size_t errlen)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct curl_slist *h = NULL;
	CURL *c = request(s, "POST", path, text, &h, err, errlen);
	if (!c) {
		free(text);
		return -1;
	}
	struct line_state ls = { .c = c, .on_line = on_line, .arg = arg };
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take_lines);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ls);
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, errlen, "the connection to jaild at %s failed: %s", s->url, curl_easy_strerror(rc));
	*error = NULL;
	if (rc == CURLE_OK && status != 200 && ls.b.len)
		*error = json_loadb(ls.b.data, ls.b.len, 0, NULL);
	free(ls.b.data);
	free(text);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return (int)status;
}

int api_fail(int status, json_t *answer, const char *what)
{
	json_t *e = json_object_get(answer, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *field = json_string_value(json_object_get(e, "field"));
	fprintf(stderr, "jailctl: %s: %s%s%s%s\n", what, msg ? msg : "failed", field ? " (" : "", field ? field : "", field ? ")" : "");
	if (status == 401)
		return EXIT_AUTH;
	if (status == 404)
		return EXIT_NOTFOUND;
	if (status == 409)
		return EXIT_CONFLICT;
	if (status < 0 || status >= 500)
		return EXIT_SERVER;
	return EXIT_FAIL;
}

/* api_raw: the answer goes to out while it is a 2xx (checked on the first bytes), else
 * it is collected for the error message. */
struct raw_out {
	CURL *c;
	FILE *out;
	struct buf err;
	int decided; /* 0: not yet, 1: to out, 2: collected */
};

static size_t raw_write(char *p, size_t size, size_t n, void *arg)
{
	struct raw_out *r = arg;
	if (!r->decided) {
		long status = 0;
		curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
		r->decided = status >= 200 && status < 300 && r->out ? 1 : 2;
	}
	if (r->decided == 2)
		return collect(p, size, n, &r->err);
	return fwrite(p, size, n, r->out) == n ? size * n : 0;
}

static size_t raw_read(char *p, size_t size, size_t n, void *arg)
{
	return fread(p, size, n, (FILE *)arg) * size;
}

int api_raw(const struct settings *s, const char *method, const char *path, FILE *in, FILE *out, json_t **json, char *err,
	    size_t errlen)
{
	struct curl_slist *h = NULL;
	CURL *c = request(s, method, path, NULL, &h, err, errlen);
	*json = NULL;
	if (!c)
		return -1;
	struct raw_out r = { .c = c, .out = out };
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	if (in) {
		/* the body streams from in: its size when it is a file, chunked from a pipe */
		struct stat st;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, raw_read);
		curl_easy_setopt(c, CURLOPT_READDATA, in);
		if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	}
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, errlen, "cannot reach jaild at %s: %s", s->url, curl_easy_strerror(rc));
	if (r.err.len)
		*json = json_loads(r.err.data, 0, NULL);
	free(r.err.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return (int)status;
}
