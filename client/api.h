/* api.h — jailctl's HTTP client: one request, one JSON answer, over libcurl. */
#ifndef JAILCTL_API_H
#define JAILCTL_API_H

#include <jansson.h>
#include <stdio.h>

struct settings {
	char url[512];    /* http://127.0.0.1:8080 */
	char token[256];
	int json;         /* -o json */
	int csv;          /* -o csv: Accept: text/csv where a route has it (usage) */
};

/* Exit codes, distinct per kind of failure (documented in jailctl.1). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* the server refused (422, 409 wrong state, 403 ...) */
	EXIT_USAGE = 2,
	EXIT_NOTFOUND = 3,
	EXIT_CONFLICT = 4,  /* 409: name taken, busy */
	EXIT_AUTH = 5,      /* 401 */
	EXIT_SERVER = 6,    /* 5xx, or jaild cannot be reached */
};

/* Performs method path with body (NULL for none); *out gets the parsed answer (may be
 * NULL for 204). Returns the HTTP status, or -1 when jaild could not be reached. */
int api_call(const struct settings *s, const char *method, const char *path, json_t *body, json_t **out, char *err, size_t errlen);
/* POST path with body, answered with one JSON document per line (application/x-ndjson),
 * each given to on_line as it arrives. Returns the status (-1: unreachable, err says
 * why); a refusal's JSON body goes to *error. */
int api_stream(const struct settings *s, const char *path, json_t *body, void (*on_line)(void *arg, json_t *line), void *arg,
	       json_t **error, char *err, size_t errlen);
/* A request whose body (in, may be NULL) or answer (out, may be NULL) is not JSON but a
 * stream of bytes (a tar archive): the body is read from in, a 2xx answer is written to
 * out; any other answer, or a JSON one with no out, is parsed into *json. */
int api_raw(const struct settings *s, const char *method, const char *path, FILE *in, FILE *out, json_t **json, char *err,
	    size_t errlen);
/* Maps a status to an exit code and prints the server's error message. */
int api_fail(int status, json_t *answer, const char *what);

#endif
