/* enter.c — a command (exec) or a terminal (console) in a running jail: a child of the
 * helper attaches to the jail with jail_attach(2), as jexec(8) does, and runs as jail
 * root there; nothing of the host is left in it but the descriptors passed. */
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../runrec.h"
#include "freebsd.h"
#include "validate.h"

int fb_exec(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e)
{
	struct runrec rec;
	int jid = fb_running(c, r->name, &rec, e);
	if (jid < 0)
		return -1;
	char *argv[ARGV_MAX + 1];
	argv_unpack(&r->argv, argv);
	pid_t pid = fb_sys->jail_spawn(jid, argv, fds, e);
	if (pid < 0)
		return -1;
	int status = 0, ended = fb_sys->wait_child(pid, r->timeout ? (int)r->timeout * 1000 : -1, &status);
	if (ended == 0) {
		/* its own session: the whole of it goes */
		fb_sys->kill(-pid, SIGKILL);
		fb_sys->wait_child(pid, -1, &status);
		out->timed_out = 1;
	}
	if (ended < 0)
		return err_errno(e, "waiting for the command in jail %s", r->name);
	/* as on Linux (and timeout(1)): 124 when it ran out of time, 128+N for signal N */
	out->exit_code = out->timed_out ? 124 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

int fb_console(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e)
{
	struct runrec rec;
	int jid = fb_running(c, r->name, &rec, e);
	if (jid < 0)
		return -1;
	char *argv[ARGV_MAX + 1];
	bool command = r->argv.argc > 0;
	if (command)
		argv_unpack(&r->argv, argv);
	if (fb_sys->jail_console(jid, command ? argv : NULL, r->rows, r->cols, command, master, e) < 0)
		return -1;
	out->pid = rec.pid;
	return 0;
}
