/* jaild-priv driven by a hostile "jaild": this test spawns the helper on its own
 * socketpair, as the supervisor does, and sends what a compromised server might.
 * Needs root (the helper refuses to run otherwise); exit 77 (skip) when not root. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "../unit/check.h"
#include "proto.h"
#include "validate.h"

static char dir[] = "/var/tmp/jaild-helper-XXXXXX";
static _Alignas(8) char frame[PROTO_MAX_FRAME];

static pid_t spawn(const char *helper, int *sock)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sp[1], 3);
		execl(helper, helper, "--data-dir", dir, "--pool4", "10.99.0.0/24", "--allow-mount", "/var/tmp/allowed", (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	*sock = sp[0];
	return pid;
}

/* One request, one reply; returns the reply's code or -1 when the helper hung up. */
static int ask(int sock, void *req, int nfds, const int *fds, struct reply *out)
{
	static uint32_t id = 1;
	struct msg_hdr *h = req;
	struct err e;
	h->magic = PROTO_MAGIC;
	h->id = id++;
	if (proto_send(sock, req, proto_frame_size(h->type), fds, nfds, &e) < 0)
		return -1;
	int got[PROTO_MAX_FDS], n;
	long r = proto_recv(sock, frame, got, &n, &e);
	if (r <= 0)
		return -1;
	memcpy(out, frame, sizeof *out);
	return out->code;
}

static int status_of_name(int sock, const char *name)
{
	struct req_name r = { .h.type = MSG_STATUS };
	struct reply out;
	snprintf(r.name, sizeof r.name, "%s", name);
	return ask(sock, &r, 0, NULL, &out);
}

static int exited_with(pid_t pid, int code)
{
	int st;
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == code;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 0;
}

static void spec_base(struct req_spec *r, const char *name)
{
	struct err e;
	memset(r, 0, sizeof *r);
	snprintf(r->spec.name, sizeof r->spec.name, "%s", name);
	snprintf(r->spec.hostname, sizeof r->spec.hostname, "%s", name);
	snprintf(r->spec.tmpl, sizeof r->spec.tmpl, "minimal");
	const char *argv[] = { "/bin/sh", "/etc/rc" };
	argv_pack(&r->spec.command, argv, 2, "command", &e);
	r->spec.limits = (struct jail_limits){ -1, -1, -1, -1, -1 };
	r->spec.stop_timeout = 1;
}

/* CREATE of a plain thin jail name on slot: the reply's code (out filled). */
static int create_on(int sock, const char *name, uint32_t slot, struct reply *out)
{
	static struct req_spec r;
	spec_base(&r, name);
	r.h.type = MSG_CREATE;
	r.slot = slot;
	return ask(sock, &r, 0, NULL, out);
}

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		const char *ci = getenv("CI");
		bool in_ci = ci && strcmp(ci, "true") == 0; /* in CI a suite that cannot run has not passed */
		printf("needs root; %s\n", in_ci ? "CI=true, so that is a failure" : "skipped");
		return in_ci ? 1 : 77;
	}
	const char *helper = argc > 1 ? argv[1] : "build/server/jaild-priv";
	CHECK(mkdtemp(dir) != NULL);
	mkdir("/var/tmp/allowed", 0755);
	int sock;
	struct reply out;
	char cmd[600];

	/* 1. a well-formed request of the wrong meaning is answered, not obeyed */
	pid_t pid = spawn(helper, &sock);
	CHECK(pid > 0);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	CHECK(status_of_name(sock, "../etc") == ERR_INVALID);
	CHECK(status_of_name(sock, "UPPER") == ERR_INVALID);
	struct req_empty t = { .h.type = MSG_TEMPLATE_MINIMAL };
	CHECK(ask(sock, &t, 0, NULL, &out) == ERR_OK);

	static struct req_spec r;
	spec_base(&r, "victim");
	r.h.type = MSG_CREATE;
	r.slot = 3;
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_OK);
	/* another jail claiming the same uid range */
	spec_base(&r, "thief");
	r.h.type = MSG_CREATE;
	r.slot = 3;
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_CONFLICT);
	/* the same through CREATE_START (one call for create?start=1): CREATE's checks,
	 * and nothing made or started when they refuse */
	spec_base(&r, "thief2");
	r.h.type = MSG_CREATE_START;
	r.slot = 3;
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_CONFLICT && out.created == 0);
	spec_base(&r, "outside");
	r.h.type = MSG_CREATE_START;
	r.slot = 5;
	r.spec.nip4 = 1;
	r.spec.ip4[0] = htonl(0x08080808);
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "ip4") == 0 && out.created == 0);
	struct stat gone;
	char path[300];
	snprintf(path, sizeof path, "%s/jails/outside", dir);
	CHECK(stat(path, &gone) < 0 && errno == ENOENT);
	/* made, and started, in one call; a start that fails after the files are made
	 * says they were */
	spec_base(&r, "both");
	r.h.type = MSG_CREATE_START;
	r.slot = 6;
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_OK && out.created == 1 && out.pid > 0);
	snprintf(path, sizeof path, "%s/jails/both", dir);
	CHECK(stat(path, &gone) == 0); /* where "outside" would have been */
	spec_base(&r, "halfway");
	r.h.type = MSG_CREATE_START;
	r.slot = 7;
	{
		struct err pe;
		const char *bad[] = { "/no/such/program" };
		argv_pack(&r.spec.command, bad, 1, "command", &pe);
	}
	CHECK(ask(sock, &r, 0, NULL, &out) != ERR_OK && out.created == 1 && strstr(out.msg, "/no/such/program"));
	struct req_stop bs = { .h.type = MSG_STOP, .timeout = 1 };
	strcpy(bs.name, "both");
	CHECK(ask(sock, &bs, 0, NULL, &out) == ERR_OK);
	struct req_name bd = { .h.type = MSG_DESTROY };
	strcpy(bd.name, "both");
	CHECK(ask(sock, &bd, 0, NULL, &out) == ERR_OK);
	strcpy(bd.name, "halfway");
	CHECK(ask(sock, &bd, 0, NULL, &out) == ERR_OK);
	/* the slot index: a slot a destroy gave back serves again */
	CHECK(create_on(sock, "reuse", 6, &out) == ERR_OK);
	strcpy(bd.name, "reuse");
	CHECK(ask(sock, &bd, 0, NULL, &out) == ERR_OK);
	/* a claim whose holder owns no files on the slot (a crash between claim and
	 * files) is taken over */
	snprintf(path, sizeof path, "%s/jails/.slots", dir);
	{
		int idx = open(path, O_WRONLY);
		char rec[NAME_SIZE] = "ghost";
		CHECK(idx >= 0 && pwrite(idx, rec, sizeof rec, 8 * NAME_SIZE) == (ssize_t)sizeof rec);
		close(idx);
	}
	CHECK(create_on(sock, "heir", 8, &out) == ERR_OK);
	/* a claim whose holder is still being made (its directory locked, no files yet on
	 * the slot) stands; once nothing holds it, it is taken over */
	{
		int idx = open(path, O_WRONLY);
		char rec[NAME_SIZE] = "inprog";
		CHECK(idx >= 0 && pwrite(idx, rec, sizeof rec, 11 * NAME_SIZE) == (ssize_t)sizeof rec);
		close(idx);
		char held[300];
		snprintf(held, sizeof held, "%s/jails/inprog", dir);
		CHECK(mkdir(held, 0700) == 0);
		int h = open(held, O_RDONLY | O_DIRECTORY);
		CHECK(h >= 0 && flock(h, LOCK_EX) == 0);
		CHECK(create_on(sock, "thief4", 11, &out) == ERR_CONFLICT && strcmp(out.field, "slot") == 0);
		close(h);
		CHECK(rmdir(held) == 0);
		CHECK(create_on(sock, "thief4", 11, &out) == ERR_OK);
		strcpy(bd.name, "thief4");
		CHECK(ask(sock, &bd, 0, NULL, &out) == ERR_OK);
	}
	/* two creates racing for one slot: one gets it, also while the first is still
	 * copying its files (a thick jail: its root is not yet its slot's) */
	{
		static struct req_spec race[2];
		struct err pe;
		int ok = 0, taken = 0;
		for (int i = 0; i < 2; i++) {
			spec_base(&race[i], i ? "racer1" : "racer0");
			race[i].spec.type = i ? JAIL_THIN : JAIL_THICK;
			race[i].h = (struct msg_hdr){ PROTO_MAGIC, MSG_CREATE, 900 + (uint32_t)i, 0 };
			race[i].slot = 9;
			CHECK(proto_send(sock, &race[i], sizeof race[i], NULL, 0, &pe) == 0);
		}
		for (int i = 0; i < 2; i++) {
			int got[PROTO_MAX_FDS], n;
			CHECK(proto_recv(sock, frame, got, &n, &pe) > 0);
			memcpy(&out, frame, sizeof out);
			ok += out.code == ERR_OK;
			taken += out.code == ERR_CONFLICT && strcmp(out.field, "slot") == 0;
		}
		CHECK(ok == 1 && taken == 1);
	}
	/* starting a jail with a slot that does not own its files */
	spec_base(&r, "victim");
	r.h.type = MSG_START;
	r.slot = 4;
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "slot") == 0);
	/* an address outside the pool, a mount source outside the allowed paths, one
	 * through a symlink, a mount target inside /proc */
	spec_base(&r, "victim");
	r.h.type = MSG_START;
	r.slot = 3;
	r.spec.nip4 = 1;
	r.spec.ip4[0] = htonl(0x08080808);
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "ip4") == 0);
	spec_base(&r, "victim");
	r.h.type = MSG_START;
	r.slot = 3;
	r.spec.nmounts = 1;
	strcpy(r.spec.mounts[0].source, "/etc");
	strcpy(r.spec.mounts[0].target, "/mnt/etc");
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "mounts[0].source") == 0);
	unlink("/var/tmp/allowed/link");
	CHECK(symlink("/etc", "/var/tmp/allowed/link") == 0);
	strcpy(r.spec.mounts[0].source, "/var/tmp/allowed/link");
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strstr(out.msg, "symlink") && strcmp(out.field, "mounts[0].source") == 0);
	strcpy(r.spec.mounts[0].source, "/var/tmp/allowed");
	strcpy(r.spec.mounts[0].target, "/proc/sys");
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "mounts[0].target") == 0);
	/* a template that is a path */
	spec_base(&r, "victim");
	r.h.type = MSG_START;
	r.slot = 3;
	strcpy(r.spec.tmpl, "../jails");
	CHECK(ask(sock, &r, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "template") == 0);
	/* a console on a jail that is not running, or on a name that is a path */
	struct req_console con = { .h.type = MSG_CONSOLE, .rows = 24, .cols = 80 };
	strcpy(con.name, "victim");
	CHECK(ask(sock, &con, 0, NULL, &out) == ERR_WRONG_STATE);
	strcpy(con.name, "../victim");
	CHECK(ask(sock, &con, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "name") == 0);
	/* destroy of a name with a slash: refused before any file is touched */
	struct req_name d = { .h.type = MSG_DESTROY };
	strcpy(d.name, "victim/..");
	CHECK(ask(sock, &d, 0, NULL, &out) == ERR_INVALID && strcmp(out.field, "name") == 0);
	struct stat st;
	CHECK(stat("/var/tmp", &st) == 0);
	strcpy(d.name, "victim");
	CHECK(ask(sock, &d, 0, NULL, &out) == ERR_OK);
	/* a reply type sent as a request: not something the helper serves; it leaves */
	static struct reply fake;
	memset(&fake, 0, sizeof fake);
	fake.h = (struct msg_hdr){ PROTO_MAGIC, MSG_REPLY, 99, 0 };
	CHECK(proto_send_raw(sock, &fake, sizeof fake, NULL, 0) == 0);
	CHECK(exited_with(pid, 2));
	close(sock);

	/* 2. a malformed frame ends the helper */
	pid = spawn(helper, &sock);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	struct req_name bad = { .h = { PROTO_MAGIC, MSG_STATUS, 1, 0 } };
	memset(bad.name, 'a', sizeof bad.name); /* unterminated */
	CHECK(proto_send_raw(sock, &bad, sizeof bad, NULL, 0) == 0);
	CHECK(exited_with(pid, 2));
	close(sock);
	pid = spawn(helper, &sock);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	char shortframe[7] = { 0 };
	CHECK(proto_send_raw(sock, shortframe, sizeof shortframe, NULL, 0) == 0);
	CHECK(exited_with(pid, 2));
	close(sock);

	pid = spawn(helper, &sock);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	struct req_console zero = { .h = { PROTO_MAGIC, MSG_CONSOLE, 1, 0 }, .name = "fine", .rows = 0, .cols = 80 };
	CHECK(proto_send_raw(sock, &zero, sizeof zero, NULL, 0) == 0); /* a terminal of no size */
	CHECK(exited_with(pid, 2));
	close(sock);
	pid = spawn(helper, &sock);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	static struct reply pty;
	memset(&pty, 0, sizeof pty);
	pty.h = (struct msg_hdr){ PROTO_MAGIC, MSG_PTY_REPLY, 7, 0 };
	int nul = open("/dev/null", O_RDONLY);
	CHECK(proto_send_raw(sock, &pty, sizeof pty, &nul, 1) == 0); /* a reply, with a descriptor, as a request */
	CHECK(exited_with(pid, 2));
	close(nul);
	close(sock);

	/* 3. a data dir without the slot index (an older jaild's): the helper claims the
	 * slots of the jails it finds at start, so they stay refused to others */
	snprintf(cmd, sizeof cmd, "rm -rf %s/jails/.slots", dir);
	CHECK(system(cmd) == 0);
	pid = spawn(helper, &sock);
	CHECK(create_on(sock, "thief3", 8, &out) == ERR_CONFLICT && strcmp(out.field, "slot") == 0);
	for (const char *const *n = (const char *const[]){ "heir", "racer0", "racer1", NULL }; *n; n++) {
		strcpy(d.name, *n);
		ask(sock, &d, 0, NULL, &out); /* the racer that lost has nothing to destroy */
	}
	CHECK(create_on(sock, "thief3", 8, &out) == ERR_OK);
	strcpy(d.name, "thief3");
	CHECK(ask(sock, &d, 0, NULL, &out) == ERR_OK);
	close(sock);
	CHECK(exited_with(pid, 0));

	/* 4. a jaild-tar anyone may write is never run: archives fail, saying why */
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/lonely && cp %s %s/lonely/jaild-priv && printf '#!/bin/sh\\ntouch %s/ran\\n' > %s/lonely/jaild-tar && "
		 "chmod 0777 %s/lonely/jaild-tar",
		 dir, helper, dir, dir, dir, dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof path, "%s/lonely/jaild-priv", dir);
	pid = spawn(path, &sock);
	CHECK(create_on(sock, "boxed", 10, &out) == ERR_OK);
	{
		static struct req_export x = { .h.type = MSG_EXPORT, .name = "boxed" };
		int p[2];
		CHECK(pipe(p) == 0);
		CHECK(ask(sock, &x, 1, &p[1], &out) == ERR_INTERNAL && strstr(out.msg, "jaild-tar") != NULL);
		close(p[0]), close(p[1]);
		snprintf(path, sizeof path, "%s/ran", dir);
		CHECK(access(path, F_OK) < 0);
	}
	strcpy(d.name, "boxed");
	CHECK(ask(sock, &d, 0, NULL, &out) == ERR_OK);
	close(sock);
	CHECK(exited_with(pid, 0));

	/* 5. jaild going away ends it quietly */
	pid = spawn(helper, &sock);
	CHECK(status_of_name(sock, "fine") == ERR_OK);
	close(sock);
	CHECK(exited_with(pid, 0));

	/* this helper's (empty) parent cgroups, named as the helper names them */
	char real[PATH_MAX];
	if (realpath(dir, real)) {
		uint32_t h = 2166136261u;
		for (const char *p = real; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(cmd, sizeof cmd, "rmdir /sys/fs/cgroup/*/jaild-%04x /sys/fs/cgroup/jaild-%04x 2>/dev/null",
			 (h ^ (h >> 16)) & 0xffff, (h ^ (h >> 16)) & 0xffff);
		CHECK(system(cmd) >= 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s /var/tmp/allowed", dir);
	CHECK(system(cmd) == 0);
	return check_done();
}
