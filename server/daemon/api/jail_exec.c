/* jail_exec.c — POST /api/jails/{name}/exec: a command in a running jail, its output
 * collected or (?stream=1) streamed. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/jails.h"
#include "json_spec.h"
#include "utf8.h"

/* JSON strings must be UTF-8; a command's output need not be. */
static json_t *utf8_string(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *out = malloc(n * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		json_t *probe = len && i + len <= n ? json_stringn(s + i, len) : NULL;
		if (probe && c != 0) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			json_decref(probe);
		} else {
			if (probe)
				json_decref(probe);
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	j = json_stringn(out, o);
	free(out);
	return j;
}

/* ---- exec, streamed: POST .../exec?stream=1 answers application/x-ndjson, one line
 * per chunk as the command writes it ({"stream":"stdout","data":"..."}), then
 * {"exit_code":N,"timed_out":false} or {"error":{...}}. The command runs on a thread
 * of its own that writes the lines into a pipe; the response reads the pipe. ---- */

/* The body as a command; out points into body, which must outlive it. */
static int exec_request_parse(json_t *body, struct exec_request *out, struct err *e)
{
	json_t *cmd;
	int64_t timeout;
	memset(out, 0, sizeof *out);
	const struct jfield spec[] = {
		JF_JSON("command", JT_ARRAY, true, NULL, &cmd),
		JF_STRING("stdin", false, NULL, &out->stdin_data, NULL),
		JF_INT("timeout", false, NULL, &timeout, 30),
		JF_END,
	};
	if (json_parse_fields(body, spec, "", NULL, e))
		return -1;
	out->timeout = timeout;
	out->stdin_len = out->stdin_data ? json_string_length(json_object_get(body, "stdin")) : 0;
	if (json_array_size(cmd) > ARGV_MAX)
		return err_field(e, ERR_INVALID, "command", "command has more than %d arguments", ARGV_MAX);
	size_t i;
	json_t *a;
	json_array_foreach(cmd, i, a) {
		if (!json_is_string(a))
			return err_field(e, ERR_INVALID, "command", "command must be an array of strings");
		out->argv[i] = json_string_value(a);
	}
	out->argc = json_array_size(cmd);
	return 0;
}

struct exec_job {
	char name[NAME_SIZE];
	json_t *body;
	struct exec_request rq; /* points into body */
	int wfd;                 /* lines go here; closed at the end */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;               /* 0 setting up, 1 running, 2 refused (e holds why) */
	struct err e;
	struct utf8_carry carry[2];
};

static void job_write(struct exec_job *j, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		return;
	size_t n = strlen(text);
	text[n++] = '\n';
	/* a blocking write: a slow reader slows the command (its pipe fills), as a
	 * terminal would; a gone reader makes this fail (EPIPE), and output is dropped */
	for (size_t off = 0; off < n;) {
		ssize_t w = write(j->wfd, text + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(text);
}

static void job_output(void *arg, int fd, const char *buf, size_t n)
{
	struct exec_job *j = arg;
	char *text = malloc(3 * (n + 4));
	if (!text)
		return;
	size_t len = utf8_clean(&j->carry[fd - 1], buf, n, false, text);
	if (len)
		job_write(j, json_pack("{s:s, s:s%}", "stream", fd == 1 ? "stdout" : "stderr", "data", text, len));
	free(text);
}

static void job_set(struct exec_job *j, int state)
{
	pthread_mutex_lock(&j->mu);
	j->state = state;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static void job_started(void *arg)
{
	job_set(arg, 1);
}

static void job_free(struct exec_job *j)
{
	json_decref(j->body);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

static void *job_thread(void *arg)
{
	struct exec_job *j = arg;
	struct exec_stream stream = { .started = job_started, .output = job_output, .arg = j };
	struct exec_result r;
	struct err e = { 0 };
	int rc = jail_exec(j->name, &j->rq, &r, &stream, &e);
	free(r.out);
	free(r.err);
	pthread_mutex_lock(&j->mu);
	bool running = j->state == 1;
	pthread_mutex_unlock(&j->mu);
	if (!running) { /* refused before it ran: the handler answers, and joins us */
		j->e = e;
		job_set(j, 2);
		return NULL;
	}
	char tail[8];
	for (int k = 0; k < 2; k++) { /* a character cut off at the very end */
		size_t n = utf8_clean(&j->carry[k], "", 0, true, tail);
		if (n)
			job_write(j, json_pack("{s:s, s:s%}", "stream", k == 0 ? "stdout" : "stderr", "data", tail, n));
	}
	if (rc == 0)
		job_write(j, json_pack("{sisb}", "exit_code", r.exit_code, "timed_out", r.timed_out));
	else
		job_write(j, json_pack("{s{sssss*}}", "error", "code", err_code_name(e.code), "message", e.msg, "field",
				       e.field[0] ? e.field : NULL));
	close(j->wfd);
	job_free(j);
	return NULL;
}

static void exec_streamed(struct request *rq, struct response *rs, json_t *body, const struct exec_request *xr)
{
	struct exec_job *j = calloc(1, sizeof *j);
	int p[2];
	if (!j || pipe2(p, O_CLOEXEC) < 0) {
		free(j), json_decref(body);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot start the command's stream (out of memory or descriptors)");
	}
	snprintf(j->name, sizeof j->name, "%.63s", rq->params[0]);
	j->body = body;
	j->rq = *xr;
	j->wfd = p[1];
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, job_thread, j) != 0) {
		close(p[0]), close(p[1]), job_free(j);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot start the command's thread");
	}
	pthread_mutex_lock(&j->mu);
	while (j->state == 0)
		pthread_cond_wait(&j->cv, &j->mu);
	int state = j->state;
	pthread_mutex_unlock(&j->mu);
	if (state == 2) {
		pthread_join(t, NULL);
		resp_error(rs, &j->e);
		close(p[0]), close(p[1]), job_free(j);
		return;
	}
	pthread_detach(t);
	resp_fd(rs, 200, p[0], "application/x-ndjson");
}

void h_jail_exec(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	if (target_jail(rq, rs, false, NULL) < 0)
		return;
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	const char *stream = req_query(rq, "stream");
	if (stream && strcmp(stream, "1") != 0 && strcmp(stream, "0") != 0) {
		json_decref(body);
		return resp_errorf(rs, ERR_INVALID, "stream", "stream must be 1 (output as it comes, one JSON line per chunk) or 0");
	}
	struct exec_request xr;
	if (exec_request_parse(body, &xr, &e) < 0) {
		json_decref(body);
		return resp_error(rs, &e);
	}
	if (stream && strcmp(stream, "1") == 0)
		return exec_streamed(rq, rs, body, &xr);
	struct exec_result r;
	int rc = jail_exec(rq->params[0], &xr, &r, NULL, &e);
	json_decref(body);
	if (rc == 0)
		resp_json(rs, 200, json_pack("{sisososbsbsb}", "exit_code", r.exit_code, "stdout", utf8_string(r.out, r.out_len),
					      "stderr", utf8_string(r.err, r.err_len), "timed_out", r.timed_out,
					      "stdout_truncated", r.out_truncated, "stderr_truncated", r.err_truncated));
	else
		resp_error(rs, &e);
	free(r.out);
	free(r.err);
}

