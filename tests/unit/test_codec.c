/* The helper protocol's codec, over a real SOCK_SEQPACKET pair: every frame of the
 * wrong shape is refused, every right one arrives whole. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "proto.h"
#include "validate.h"

static int sp[2];
static _Alignas(8) char buf[PROTO_MAX_FRAME];

static long roundtrip_raw(const void *frame, size_t size, int nfds, int *got_fds)
{
	int fds[PROTO_MAX_FDS] = { -1, -1, -1 };
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	int sent = proto_send_raw(sp[0], frame, size, fds, nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (sent < 0)
		return -99;
	int n;
	struct err e;
	long r = proto_recv(sp[1], buf, got_fds, &n, &e);
	if (r > 0)
		for (int i = 0; i < n; i++)
			close(got_fds[i]);
	return r;
}

/* The receiving side refuses the frame (the send itself went through), saying why: a
 * send failure or a refusal for another reason does not pass. */
static bool refused(const void *frame, size_t size, int nfds, const char *why)
{
	int fds[PROTO_MAX_FDS] = { -1, -1, -1 }, got[PROTO_MAX_FDS], n;
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	int sent = proto_send_raw(sp[0], frame, size, fds, nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (sent < 0) {
		fprintf(stderr, "  the frame was not even sent\n");
		return false;
	}
	struct err e = { 0 };
	long r = proto_recv(sp[1], buf, got, &n, &e);
	if (r >= 0 || !strstr(e.msg, why)) {
		fprintf(stderr, "  wanted a refusal for '%s', got %ld: %s\n", why, r, e.msg);
		return false;
	}
	return true;
}

int main(void)
{
	int fds[3];
	struct err e;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);

	/* a good STATUS */
	struct req_name st = { .h = { PROTO_MAGIC, MSG_STATUS, 7, 0 } };
	strcpy(st.name, "web1");
	CHECK(roundtrip_raw(&st, sizeof st, 0, fds) == (long)sizeof st);
	CHECK(((struct req_name *)buf)->h.id == 7 && strcmp(((struct req_name *)buf)->name, "web1") == 0);

	/* size off by one either way */
	CHECK(refused(&st, sizeof st - 1, 0, "wrong size for its type"));
	char bigger[sizeof st + 1];
	memcpy(bigger, &st, sizeof st);
	CHECK(refused(bigger, sizeof bigger, 0, "wrong size for its type"));
	/* shorter than a header, bad magic, unknown type */
	CHECK(refused(&st, 3, 0, "shorter than a header"));
	struct req_name bad = st;
	bad.h.magic = 0;
	CHECK(refused(&bad, sizeof bad, 0, "bad magic"));
	bad = st;
	bad.h.type = 999;
	CHECK(refused(&bad, sizeof bad, 0, "unknown type"));
	bad.h.type = 0;
	CHECK(refused(&bad, sizeof bad, 0, "unknown type"));
	/* unterminated name */
	bad = st;
	memset(bad.name, 'a', sizeof bad.name);
	CHECK(refused(&bad, sizeof bad, 0, "unterminated string"));
	/* descriptors where none belong, and too few where three do */
	CHECK(refused(&st, sizeof st, 1, "wrong number of descriptors"));
	static struct req_exec ex;
	memset(&ex, 0, sizeof ex);
	ex.h = (struct msg_hdr){ PROTO_MAGIC, MSG_EXEC, 9, 0 };
	strcpy(ex.name, "web1");
	const char *argv[] = { "/bin/true" };
	CHECK(argv_pack(&ex.argv, argv, 1, "command", &e) == 0);
	CHECK(roundtrip_raw(&ex, sizeof ex, 3, fds) == (long)sizeof ex);
	CHECK(refused(&ex, sizeof ex, 2, "wrong number of descriptors"));
	CHECK(refused(&ex, sizeof ex, 0, "wrong number of descriptors"));
	/* a forged argv in an EXEC */
	ex.argv.argc = 5;
	CHECK(refused(&ex, sizeof ex, 3, "argument list"));

	/* proto_send refuses to write a frame of the wrong size or descriptor count */
	CHECK(proto_send(sp[0], &st, sizeof st - 1, NULL, 0, &e) < 0 && strstr(e.msg, "malformed"));
	CHECK(proto_send(sp[0], &st, sizeof st, fds, 1, &e) < 0 && strstr(e.msg, "malformed"));
	CHECK(proto_send(sp[0], &st, sizeof st, NULL, 0, &e) == 0);
	int nf;
	CHECK(proto_recv(sp[1], buf, fds, &nf, &e) == (long)sizeof st && nf == 0);

	/* a reply with an unterminated message is refused on jaild's side too */
	static struct reply rp;
	memset(&rp, 'x', sizeof rp);
	rp.h = (struct msg_hdr){ PROTO_MAGIC, MSG_REPLY, 1, 0 };
	CHECK(refused(&rp, sizeof rp, 0, "unterminated string"));
	/* a list reply claiming more names than fit */
	static struct list_reply lr;
	memset(&lr, 0, sizeof lr);
	lr.h = (struct msg_hdr){ PROTO_MAGIC, MSG_LIST_REPLY, 1, 0 };
	lr.count = LIST_PAGE + 1;
	CHECK(refused(&lr, sizeof lr, 0, "count out of range"));

	/* the size table: every type has one size and requests fit in a frame */
	for (uint32_t t = 1; t < MSG_TYPE_MAX; t++)
		CHECK(proto_frame_size(t) >= sizeof(struct msg_hdr) && proto_frame_size(t) <= PROTO_MAX_FRAME);
	CHECK(proto_frame_fds(MSG_EXEC) == 3 && proto_frame_fds(MSG_START) == 0);

	/* orderly EOF */
	close(sp[0]);
	CHECK(proto_recv(sp[1], buf, fds, &nf, &e) == 0);
	return check_done();
}
