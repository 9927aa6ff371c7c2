/* fb_recorder.c — fb_recorder.h. */
#include "fb_recorder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "sys.h"
#include "textbuf.h"

#define JAILS_MAX 16
#define PROCS_MAX 64

static struct {
	char dir[256];
	struct textbuf log;
	char fail_call[32];
	int fail_n, fail_errno, counts_for_fail;
	char tool_out[8192];
	struct answer {
		char prefix[128];
		char text[256];
	} answers[8];
	int nanswers;
	char zfs_root[256], zfs_dir[256]; /* a dataset and where it is mounted */
	int wait_status;
	char usage[512];
	int racct;
	struct {
		char name[96];
		int jid;
	} jails[JAILS_MAX];
	int next_jid;
	struct proc {
		pid_t pid;
		int jid;
		bool alive;
	} procs[PROCS_MAX];
	int nprocs;
	char mounts[32][512]; /* mount points, as nmount made them (a stack per path) */
	int nmounts;
} R;

void rec_reset(const char *data_dir)
{
	free(R.log.s);
	memset(&R, 0, sizeof R);
	snprintf(R.dir, sizeof R.dir, "%s", data_dir);
	R.next_jid = 1;
	R.racct = 1;
}

void rec_fail(const char *call, int n, int err)
{
	snprintf(R.fail_call, sizeof R.fail_call, "%s", call);
	R.fail_n = n;
	R.fail_errno = err;
	R.counts_for_fail = 0;
}

void rec_tool_output(const char *text)
{
	snprintf(R.tool_out, sizeof R.tool_out, "%s", text);
}

void rec_tool_answer(const char *prefix, const char *text)
{
	if (R.nanswers < 8) {
		snprintf(R.answers[R.nanswers].prefix, sizeof R.answers[0].prefix, "%s", prefix);
		snprintf(R.answers[R.nanswers++].text, sizeof R.answers[0].text, "%s", text);
	}
}

void rec_zfs_root(const char *dataset, const char *dir)
{
	snprintf(R.zfs_root, sizeof R.zfs_root, "%s", dataset);
	snprintf(R.zfs_dir, sizeof R.zfs_dir, "%s", dir);
}

/* mkdir -p */
static void mkdirs(const char *path)
{
	char p[1024];
	snprintf(p, sizeof p, "%s", path);
	for (char *q = p + 1; *q; q++)
		if (*q == '/') {
			*q = '\0';
			mkdir(p, 0755);
			*q = '/';
		}
	mkdir(p, 0755);
}

/* What zfs(8) does to the file tree: a dataset created or cloned appears as a
 * directory at its mount point, a snapshot under .zfs/snapshot, and goes when
 * destroyed (the rest of what it does is the kernel's, and recorded). */
static void zfs_effects(char *const argv[])
{
	size_t n = strlen(R.zfs_root);
	int argc = 0;
	while (argv[argc])
		argc++;
	const char *ds = argc > 2 ? argv[argc - 1] : "";
	if (!n || strcmp(argv[0], "/sbin/zfs") != 0 || strncmp(ds, R.zfs_root, n) != 0 || ds[n] != '/')
		return;
	char path[1024], leaf[512];
	snprintf(leaf, sizeof leaf, "%s", ds + n + 1);
	char *at = strchr(leaf, '@');
	if (at) {
		*at = '\0';
		snprintf(path, sizeof path, "%s/%s/.zfs/snapshot/%s", R.zfs_dir, leaf, at + 1);
	} else {
		snprintf(path, sizeof path, "%s/%s", R.zfs_dir, leaf);
	}
	if (strcmp(argv[1], "create") == 0 || strcmp(argv[1], "clone") == 0 || strcmp(argv[1], "snapshot") == 0)
		mkdirs(path);
	else if (strcmp(argv[1], "destroy") == 0 && at)
		rmdir(path);
}

void rec_wait_status(int status)
{
	R.wait_status = status;
}

void rec_usage(const char *text)
{
	snprintf(R.usage, sizeof R.usage, "%s", text);
}

void rec_racct(int value)
{
	R.racct = value;
}

char *rec_take(void)
{
	char *s = R.log.s ? R.log.s : strdup("");
	R.log = (struct textbuf){ 0 };
	return s;
}

/* s with the data dir as DIR */
static const char *D(const char *s, char *buf, size_t size)
{
	size_t n = strlen(R.dir);
	if (s && n && strncmp(s, R.dir, n) == 0)
		snprintf(buf, size, "DIR%s", s + n);
	else
		snprintf(buf, size, "%s", s ? s : "(null)");
	return buf;
}

/* true when this call is the one to fail (errno set) */
static bool failing(const char *call)
{
	if (strcmp(call, R.fail_call) != 0)
		return false;
	if (++R.counts_for_fail != R.fail_n)
		return false;
	tb_printf(&R.log, "  -> fails: %s\n", strerror(R.fail_errno));
	errno = R.fail_errno;
	return true;
}

static int jail_find(const char *name)
{
	for (int i = 0; i < JAILS_MAX; i++)
		if (R.jails[i].jid && strcmp(R.jails[i].name, name) == 0)
			return i;
	return -1;
}

static pid_t proc_new(int jid)
{
	pid_t pid = 1000 + R.nprocs;
	if (R.nprocs < PROCS_MAX)
		R.procs[R.nprocs++] = (struct proc){ pid, jid, true };
	return pid;
}

static int jail_new(const char *kname)
{
	for (int i = 0; i < JAILS_MAX; i++)
		if (!R.jails[i].jid) {
			snprintf(R.jails[i].name, sizeof R.jails[i].name, "%s", kname);
			R.jails[i].jid = R.next_jid++;
			return R.jails[i].jid;
		}
	return -1;
}

void rec_proc_died(pid_t pid)
{
	for (int i = 0; i < R.nprocs; i++)
		if (R.procs[i].pid == pid)
			R.procs[i].alive = false;
}

static void put_params(const struct fb_param *p, unsigned n)
{
	char buf[600];
	for (unsigned i = 0; i < n; i++) {
		if (p[i].value)
			tb_printf(&R.log, "  %s=%s\n", p[i].name, D(p[i].value, buf, sizeof buf));
		else
			tb_printf(&R.log, "  %s\n", p[i].name);
	}
}

static int r_jail_set(const struct fb_param *p, unsigned n, int flags, struct err *e)
{
	tb_printf(&R.log, "jail_set %s%s\n", flags & FB_JAIL_CREATE ? "CREATE" : "", flags & FB_JAIL_UPDATE ? "UPDATE" : "");
	put_params(p, n);
	if (failing("jail_set"))
		return err_errno(e, "jail_set");
	const char *name = n && strcmp(p[0].name, "name") == 0 ? p[0].value : "?";
	return jail_new(name); /* its first process comes with jail_spawn */
}

static int r_jail_getid(const char *name)
{
	int i = jail_find(name);
	return i < 0 ? -1 : R.jails[i].jid;
}

static int r_jail_remove(int jid)
{
	tb_printf(&R.log, "jail_remove jid=%d\n", jid);
	if (failing("jail_remove"))
		return -1;
	for (int i = 0; i < JAILS_MAX; i++)
		if (R.jails[i].jid == jid)
			R.jails[i].jid = 0;
	for (int i = 0; i < R.nprocs; i++)
		if (R.procs[i].jid == jid)
			R.procs[i].alive = false;
	return 0;
}

static const char *mnt_flags(uint64_t f, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", f ? "" : "0", f & FB_MNT_RDONLY ? "RDONLY " : "", f & FB_MNT_NOEXEC ? "NOEXEC " : "",
		 f & FB_MNT_NOSUID ? "NOSUID " : "", f & FB_MNT_FORCE ? "FORCE " : "");
	size_t n = strlen(buf);
	if (n && buf[n - 1] == ' ')
		buf[n - 1] = '\0';
	return buf;
}

static int r_nmount(const struct fb_param *opts, unsigned n, uint64_t flags, struct err *e)
{
	char f[64];
	tb_printf(&R.log, "nmount flags=%s\n", mnt_flags(flags, f, sizeof f));
	put_params(opts, n);
	if (failing("nmount"))
		return err_errno(e, "nmount");
	for (unsigned i = 0; i < n && R.nmounts < 32; i++)
		if (strcmp(opts[i].name, "fspath") == 0)
			snprintf(R.mounts[R.nmounts++], sizeof R.mounts[0], "%s", opts[i].value);
	return 0;
}

static int r_unmount(const char *path, uint64_t flags)
{
	char f[64], buf[600];
	tb_printf(&R.log, "unmount %s flags=%s\n", D(path, buf, sizeof buf), mnt_flags(flags, f, sizeof f));
	if (failing("unmount"))
		return -1;
	for (int i = R.nmounts - 1; i >= 0; i--)
		if (strcmp(R.mounts[i], path) == 0) {
			memmove(R.mounts[i], R.mounts[i + 1], (size_t)(R.nmounts - i - 1) * sizeof R.mounts[0]);
			R.nmounts--;
			return 0;
		}
	errno = EINVAL; /* not a mount point */
	return -1;
}

static bool r_is_mount_point(const char *path)
{
	for (int i = 0; i < R.nmounts; i++)
		if (strcmp(R.mounts[i], path) == 0)
			return true;
	return false;
}

static const char *sa4(const struct fb_sockaddr *sa, char *buf, size_t size)
{
	const struct fb_sockaddr_in *s = (const struct fb_sockaddr_in *)sa;
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
	snprintf(buf, size, "{len=%u family=%u addr=%s}", s->sin_len, s->sin_family, a);
	return buf;
}

static const char *sa6(const struct fb_sockaddr_in6 *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, s->sin6_addr, a, sizeof a);
	snprintf(buf, size, "{len=%u family=%u addr=%s}", s->sin6_len, s->sin6_family, a);
	return buf;
}

static int r_if_ioctl(int family, unsigned long request, void *arg)
{
	char a[128], b[128], c[128];
	if (request == FB_SIOCAIFADDR) {
		struct fb_ifaliasreq *q = arg;
		tb_printf(&R.log, "ioctl(AF_INET) SIOCAIFADDR name=%s addr=%s broadaddr=%s mask=%s vhid=%d\n", q->ifra_name,
			  sa4(&q->ifra_addr, a, sizeof a), q->ifra_broadaddr.sa_len ? sa4(&q->ifra_broadaddr, b, sizeof b) : "{}",
			  sa4(&q->ifra_mask, c, sizeof c), q->ifra_vhid);
	} else if (request == FB_SIOCDIFADDR) {
		struct fb_ifreq *q = arg;
		tb_printf(&R.log, "ioctl(AF_INET) SIOCDIFADDR name=%s addr=%s\n", q->ifr_name, sa4(&q->ifr_ifru.ifru_addr, a, sizeof a));
	} else if (request == FB_SIOCAIFADDR_IN6) {
		struct fb_in6_aliasreq *q = arg;
		tb_printf(&R.log,
			  "ioctl(AF_INET6) SIOCAIFADDR_IN6 name=%s addr=%s dstaddr=%s prefixmask=%s flags=0x%x vltime=0x%x pltime=0x%x vhid=%d\n",
			  q->ifra_name, sa6(&q->ifra_addr, a, sizeof a), q->ifra_dstaddr.sin6_len ? sa6(&q->ifra_dstaddr, b, sizeof b) : "{}",
			  sa6(&q->ifra_prefixmask, c, sizeof c), (unsigned)q->ifra_flags, q->ifra_lifetime.ia6t_vltime,
			  q->ifra_lifetime.ia6t_pltime, q->ifra_vhid);
	} else if (request == FB_SIOCDIFADDR_IN6) {
		struct fb_in6_ifreq *q = arg;
		tb_printf(&R.log, "ioctl(AF_INET6) SIOCDIFADDR_IN6 name=%s addr=%s\n", q->ifr_name, sa6(&q->ifr_ifru.ifru_addr, a, sizeof a));
	} else {
		tb_printf(&R.log, "ioctl(%d) unknown request 0x%lx\n", family, request);
	}
	return failing("ioctl") ? -1 : 0;
}

static int r_rctl_add(const char *rule)
{
	tb_printf(&R.log, "rctl_add_rule %s\n", rule);
	return failing("rctl_add") ? -1 : 0;
}

static int r_rctl_remove(const char *filter)
{
	tb_printf(&R.log, "rctl_remove_rule %s\n", filter);
	if (failing("rctl_remove"))
		return -1;
	return 0;
}

static int r_rctl_usage(const char *filter, char *out, size_t size)
{
	(void)filter;
	snprintf(out, size, "%s", R.usage);
	return R.usage[0] ? 0 : -1;
}

static int r_sysctl_int(const char *name, int *value)
{
	tb_printf(&R.log, "sysctl %s\n", name);
	*value = R.racct;
	return 0;
}

static int r_tool(char *const argv[], int in_fd, const char *input, int out_fd, char *out, size_t out_size, struct err *e)
{
	char buf[600];
	char line[1024] = "";
	tb_printf(&R.log, "tool");
	for (int i = 0; argv[i]; i++) {
		tb_printf(&R.log, " %s", D(argv[i], buf, sizeof buf));
		snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? " " : "", argv[i]);
	}
	tb_printf(&R.log, "%s%s\n", in_fd >= 0 ? " <fd" : "", out_fd >= 0 ? " >fd" : "");
	for (const char *p = input; p && *p;) {
		size_t n = strcspn(p, "\n");
		tb_printf(&R.log, "  | %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	if (failing("tool"))
		return err_set(e, ERR_INTERNAL, "%s failed (status 1): recorded failure", argv[0]);
	zfs_effects(argv);
	const char *answer = R.tool_out;
	for (int i = 0; i < R.nanswers; i++)
		if (strncmp(line, R.answers[i].prefix, strlen(R.answers[i].prefix)) == 0) {
			answer = R.answers[i].text;
			break;
		}
	if (out && out_size)
		snprintf(out, out_size, "%s", answer);
	return 0;
}

static const char *fd_name(int fd)
{
	return fd < 0 ? "null" : "fd";
}

static pid_t r_jail_spawn(int jid, char *const argv[], const int fds[3], struct err *e)
{
	tb_printf(&R.log, "jail_spawn jid=%d argv=[", jid);
	for (int i = 0; argv[i]; i++)
		tb_printf(&R.log, "%s%s", i ? ", " : "", argv[i]);
	tb_printf(&R.log, "] stdin=%s stdout=%s stderr=%s\n", fd_name(fds[0]), fd_name(fds[1]), fd_name(fds[2]));
	if (failing("jail_spawn"))
		return err_errno(e, "entering jail %d", jid);
	return proc_new(jid);
}

static pid_t r_jail_console(int jid, char *const argv[], unsigned short rows, unsigned short cols, bool exit_mark, int *master,
			    struct err *e)
{
	tb_printf(&R.log, "jail_console jid=%d rows=%u cols=%u exit_mark=%d argv=", jid, rows, cols, exit_mark);
	if (!argv)
		tb_printf(&R.log, "login");
	for (int i = 0; argv && argv[i]; i++)
		tb_printf(&R.log, "%s%s", i ? " " : "", argv[i]);
	tb_printf(&R.log, "\n");
	if (failing("jail_console"))
		return err_errno(e, "console");
	*master = open("/dev/null", O_RDWR | O_CLOEXEC);
	return proc_new(jid);
}

static int r_wait_child(pid_t pid, int ms, int *status)
{
	tb_printf(&R.log, "wait_child pid=%d ms=%d\n", (int)pid, ms);
	if (R.wait_status < 0 && ms >= 0)
		return 0;
	*status = R.wait_status < 0 ? SIGKILL : R.wait_status;
	return 1;
}

static int r_jail_kill_all(int jid, int sig)
{
	tb_printf(&R.log, "jail_kill_all jid=%d sig=%d\n", jid, sig);
	for (int i = 0; i < R.nprocs; i++)
		if (R.procs[i].jid == jid)
			R.procs[i].alive = false;
	return 0;
}

static int r_kill(pid_t pid, int sig)
{
	tb_printf(&R.log, "kill pid=%d sig=%d\n", (int)pid, sig);
	return 0;
}

static unsigned long long r_proc_start(pid_t pid)
{
	for (int i = 0; i < R.nprocs; i++)
		if (R.procs[i].pid == pid)
			return R.procs[i].alive ? 4242 : 0;
	return 0;
}

static void r_pause_ms(int ms)
{
	(void)ms;
}

static const struct fb_sys recorder = {
	.jail_set = r_jail_set,
	.jail_getid = r_jail_getid,
	.jail_remove = r_jail_remove,
	.nmount = r_nmount,
	.unmount = r_unmount,
	.is_mount_point = r_is_mount_point,
	.if_ioctl = r_if_ioctl,
	.rctl_add = r_rctl_add,
	.rctl_remove = r_rctl_remove,
	.rctl_usage = r_rctl_usage,
	.sysctl_int = r_sysctl_int,
	.tool = r_tool,
	.jail_spawn = r_jail_spawn,
	.jail_console = r_jail_console,
	.wait_child = r_wait_child,
	.jail_kill_all = r_jail_kill_all,
	.kill = r_kill,
	.proc_start = r_proc_start,
	.pause_ms = r_pause_ms,
};

const struct fb_sys *fb_sys = &recorder;
