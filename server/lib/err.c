#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vset(struct err *e, enum err_code code, const char *field, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->code = code;
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -1;
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, code, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int err_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, code, field, fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	vset(e, ERR_INTERNAL, NULL, fmt, ap);
	va_end(ap);
	size_t n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

void err_clear(struct err *e)
{
	if (e)
		memset(e, 0, sizeof *e);
}

const char *err_code_name(enum err_code c)
{
	switch (c) {
	case ERR_OK: return "ok";
	case ERR_INVALID: return "invalid_value";
	case ERR_MALFORMED: return "malformed_request";
	case ERR_NOT_FOUND: return "not_found";
	case ERR_CONFLICT: return "conflict";
	case ERR_WRONG_STATE: return "wrong_state";
	case ERR_BUSY: return "busy";
	case ERR_UNAVAILABLE: return "helper_unavailable";
	case ERR_UNSUPPORTED: return "unsupported";
	case ERR_PRECONDITION: return "precondition_failed";
	case ERR_FORBIDDEN: return "forbidden";
	case ERR_QUOTA: return "quota_exceeded";
	case ERR_RATE: return "rate_limited";
	case ERR_INTERNAL: return "internal_error";
	}
	return "internal_error";
}

/* The HTTP status an error answers with (API.md's envelope); audit rows keep it too. */
int err_http_status(enum err_code c)
{
	switch (c) {
	case ERR_OK: return 200;
	case ERR_INVALID: return 422;
	case ERR_UNSUPPORTED: return 422;
	case ERR_MALFORMED: return 400;
	case ERR_NOT_FOUND: return 404;
	case ERR_CONFLICT: return 409;
	case ERR_WRONG_STATE: return 409;
	case ERR_BUSY: return 409;
	case ERR_UNAVAILABLE: return 503;
	case ERR_PRECONDITION: return 412;
	case ERR_FORBIDDEN: return 403;
	case ERR_QUOTA: return 403;
	case ERR_RATE: return 429;
	case ERR_INTERNAL: return 500;
	}
	return 500;
}
