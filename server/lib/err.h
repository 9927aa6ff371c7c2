/* err.h — an error value: a code that says what kind of failure, and a message
 * that says what went wrong and what to do. Functions return 0 or -1 and fill one. */
#ifndef JAILD_ERR_H
#define JAILD_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_INVALID,      /* a value is wrong: 422 */
	ERR_MALFORMED,    /* the request is not even parseable: 400 */
	ERR_NOT_FOUND,    /* 404 */
	ERR_CONFLICT,     /* name taken: 409 */
	ERR_WRONG_STATE,        /* wrong state for this operation: 409 */
	ERR_BUSY,         /* another operation on the same object is under way: 409 */
	ERR_UNAVAILABLE,  /* the privileged helper is down: 503 */
	ERR_UNSUPPORTED,  /* valid, but not something this backend can do: 422 */
	ERR_PRECONDITION, /* If-Match mismatch: 412 */
	ERR_FORBIDDEN,    /* the caller's role may not do this: 403 */
	ERR_QUOTA,        /* past the tenant's quota: 403 */
	ERR_RATE,         /* too many requests for this token: 429 */
	ERR_INTERNAL,     /* 500 */
};

struct err {
	enum err_code code;
	char field[64];    /* which field is at fault, "" when none */
	char msg[512];
};

/* err_set fills e (if non-NULL) and returns -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int err_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* err_errno appends strerror(errno) to the message. */
int err_errno(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
const char *err_code_name(enum err_code c);
/* The HTTP status an error code answers with. */
int err_http_status(enum err_code c);

#endif
