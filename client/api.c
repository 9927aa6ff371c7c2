#include "api.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int api_call(const struct settings *s, const char *method, const char *path, json_t *body, json_t **out, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "libcurl could not start");
		return -1;
	}
	char url[1024], auth[300];
	snprintf(url, sizeof url, "%s%s", s->url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (s->token[0])
		h = curl_slist_append(h, auth);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct buf b = { 0 };
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 3700L);
	if (text)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
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
