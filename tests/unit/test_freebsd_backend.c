/* The FreeBSD backend (server/priv/jail_freebsd/), compiled for Linux and run against
 * a recorder of its kernel calls (fb_recorder.c): each op's calls are compared, line by
 * line, with a golden file in tests/unit/freebsd/ — jail parameters, nmount options,
 * ioctl structures, rctl rules, pf rules, tool argv, and the order of teardown.
 * The files an op makes (directories, records) are real, in a scratch data dir.
 * JAILD_GOLDEN_UPDATE=1 rewrites the golden files from what the code does now (read
 * the diff before committing it). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend.h"
#include "../runrec.h"
#include "check.h"
#include "fb_recorder.h"
#include "freebsd.h"
#include "validate.h"

extern const struct backend_ops freebsd_backend;
static const struct backend_ops *B = &freebsd_backend;

static const char *golden_dir;
static char golden_ino[32]; /* shown as -INO in golden files */
static char dir[64];
static struct priv_ctx ctx;

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* what was recorded since the last call, against golden_dir/name.txt */
static void golden(const char *name)
{
	char *got = rec_take(), path[512], want[65536] = "";
	for (char *p; golden_ino[0] && (p = strstr(got, golden_ino));) {
		size_t n = strlen(golden_ino);
		memmove(p + 4, p + n, strlen(p + n) + 1); /* "-INO" is never longer */
		memcpy(p, "-INO", 4);
	}
	snprintf(path, sizeof path, "%s/%s.txt", golden_dir, name);
	if (getenv("JAILD_GOLDEN_UPDATE")) {
		put_file(path, got);
		free(got);
		return;
	}
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(want, 1, sizeof want - 1, f) : 0;
	want[n] = '\0';
	if (f)
		fclose(f);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "  %s: the calls differ from %s\n--- got:\n%s--- want:\n%s---\n", name, path, got, want);
	}
	CHECK(strcmp(got, want) == 0);
	free(got);
}

static void fresh(void)
{
	golden_ino[0] = '\0';
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		(void)!system(cmd);
	}
	snprintf(dir, sizeof dir, "/tmp/jaild-fb-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	char p[128];
	snprintf(p, sizeof p, "%s/jails", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/templates", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/templates/base", dir);
	mkdir(p, 0755);
	if (ctx.jails_fd > 0) {
		close(ctx.jails_fd);
		close(ctx.templates_fd);
	}
	memset(&ctx, 0, sizeof ctx);
	snprintf(ctx.data_dir, sizeof ctx.data_dir, "%s", dir);
	snprintf(p, sizeof p, "%s/jails", dir);
	ctx.jails_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "%s/templates", dir);
	ctx.templates_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(ctx.tag, sizeof ctx.tag, "1a2b");
	snprintf(ctx.net.uplink, sizeof ctx.net.uplink, "vtnet0");
	ctx.net.routed6 = 1;
	ctx.net.egress_deny = 1;
	ctx.pty_max = 16;
	ctx.uid_base = 100000;
	ctx.max_slots = 64;
	rec_reset(dir);
	rec_tool_output("anchor \"jaild/*\" all\nnat-anchor \"jaild/*\" all\nrdr-anchor \"jaild/*\" all\n");
	struct err e;
	CHECK(B->init(&ctx, &e) == 0);
	rec_tool_output("");
	free(rec_take());
}

static void pack(struct argv_buf *a, const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	struct err e;
	CHECK(argv_pack(a, argv, n, "argv", &e) == 0);
}

static struct net_rule rule(bool allow, uint8_t proto, const char *cidr, uint16_t lo, uint16_t hi)
{
	struct net_rule r = { .allow = allow, .proto = proto };
	if (cidr) {
		char a[64];
		unsigned prefix = 0;
		sscanf(cidr, "%63[^/]/%u", a, &prefix);
		r.family = strchr(a, ':') ? 6 : 4;
		inet_pton(r.family == 4 ? AF_INET : AF_INET6, a, r.addr);
		r.prefix = (uint8_t)prefix;
	}
	if (lo) {
		r.nports = 1;
		r.ports[0][0] = lo;
		r.ports[0][1] = hi;
	}
	return r;
}

/* web: thin, two IPv4 and one IPv6 address, a read-only mount, every limit, a port,
 * egress and ingress rules, a tenant, bandwidth */
static void web_spec(struct req_spec *r)
{
	memset(r, 0, sizeof *r);
	struct jail_spec *s = &r->spec;
	r->slot = 3;
	snprintf(s->name, sizeof s->name, "web");
	snprintf(s->hostname, sizeof s->hostname, "web.example.net");
	snprintf(s->tmpl, sizeof s->tmpl, "base");
	s->type = JAIL_THIN;
	s->allow = ALLOW_SET_HOSTNAME;
	s->stop_timeout = 10;
	s->nip4 = 2;
	inet_pton(AF_INET, "10.77.0.2", &s->ip4[0]);
	inet_pton(AF_INET, "10.77.0.3", &s->ip4[1]);
	s->nip6 = 1;
	inet_pton(AF_INET6, "2001:db8:77::2", s->ip6[0]);
	pack(&s->command, (const char *const[]){ "/etc/rc", NULL });
	pack(&s->stop_command, (const char *const[]){ "service", "nginx", "stop", NULL });
	s->nmounts = 1;
	snprintf(s->mounts[0].source, JPATH_SIZE, "/srv/www");
	snprintf(s->mounts[0].target, JPATH_SIZE, "/var/www");
	s->mounts[0].readonly = 1;
	s->limits = (struct jail_limits){ .maxproc = 64, .memoryuse = 268435456, .pcpu = 50, .openfiles = 1024, .disk = -1 };
	struct jail_net *n = &s->net;
	n->tenant = 7;
	n->nports = 1;
	n->ports[0] = (struct jail_port){ .proto = NET_TCP, .host_port = 8080, .port = 80 };
	n->negress = 2;
	n->egress[0] = rule(true, NET_TCP, NULL, 80, 80);
	n->egress[0].nports = 2;
	n->egress[0].ports[1][0] = n->egress[0].ports[1][1] = 443;
	n->egress[1] = rule(false, NET_ANY, "10.0.0.0/8", 0, 0);
	n->ningress = 1;
	n->ingress[0] = rule(true, NET_TCP, "192.0.2.0/24", 22, 22);
	n->bandwidth = 10000000;
}

/* small: thick, one IPv4 address, no limits, no rules */
static void small_spec(struct req_spec *r)
{
	memset(r, 0, sizeof *r);
	struct jail_spec *s = &r->spec;
	r->slot = 4;
	snprintf(s->name, sizeof s->name, "small");
	snprintf(s->hostname, sizeof s->hostname, "small");
	snprintf(s->tmpl, sizeof s->tmpl, "base");
	s->type = JAIL_THICK;
	s->stop_timeout = 5;
	s->nip4 = 1;
	inet_pton(AF_INET, "10.77.0.9", &s->ip4[0]);
	pack(&s->command, (const char *const[]){ "/bin/sh", "/etc/rc", NULL });
	s->limits = (struct jail_limits){ -1, -1, -1, -1, -1 };
}

static bool exists(const char *rel)
{
	struct stat st;
	return fstatat(ctx.jails_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void started_web(void)
{
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	free(rec_take());
}

static void test_init(void)
{
	fresh();
	/* fresh() ran init; again, to see its calls */
	free(rec_take());
	rec_tool_output("anchor \"jaild/*\" all\nnat-anchor \"jaild/*\" all\nrdr-anchor \"jaild/*\" all\n");
	struct err e;
	CHECK(B->init(&ctx, &e) == 0);
	CHECK(strcmp(FB(&ctx)->alias4_if, "lo0") == 0);    /* nat pool: aliases on lo0 */
	CHECK(strcmp(FB(&ctx)->alias6_if, "vtnet0") == 0); /* routed: on the uplink */
	CHECK(FB(&ctx)->pf_anchors);
	CHECK(ctx.net_note[0] == '\0');
	golden("init");
}

static void test_init_without_racct_or_anchors(void)
{
	fresh();
	struct err e;
	rec_racct(0);
	CHECK(B->init(&ctx, &e) < 0);
	CHECK(strstr(e.msg, "kern.racct.enable=1") != NULL);
	rec_racct(1);
	rec_tool_output("");
	CHECK(B->init(&ctx, &e) == 0);
	CHECK(!FB(&ctx)->pf_anchors);
	CHECK(strstr(ctx.net_note, "rdr-anchor") != NULL);
	free(rec_take());
	/* a jail that needs packet rules cannot start then, and says why */
	struct req_spec r;
	struct reply out;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(B->start(&ctx, &r, &out, &e) < 0);
	CHECK(strstr(e.msg, "pf.conf") != NULL);
	CHECK(!exists("web/run") && !exists("web/mounts"));
	golden("start_without_anchors");
}

static void test_create(void)
{
	fresh();
	struct req_spec r;
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(exists("web/upper") && exists("web/mnt"));
	CHECK(B->create(&ctx, &r, &e) < 0 && e.code == ERR_CONFLICT);
	small_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	snprintf(r.spec.tmpl, sizeof r.spec.tmpl, "nosuch");
	snprintf(r.spec.name, sizeof r.spec.name, "other");
	CHECK(B->create(&ctx, &r, &e) < 0 && e.code == ERR_INVALID && strcmp(e.field, "template") == 0);
	golden("create");
}

/* limits.disk: the jail's files on an md(4) disk, mounted from create to destroy,
 * grown in place; after a reboot (the disk not mounted) mounted again on first use */
static void test_disk(void)
{
	fresh();
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	r.spec.limits.disk = 1 << 30;
	rec_tool_answer("/sbin/mdconfig -a", "md3\n");
	rec_tool_answer("/sbin/mdconfig -l", "md3\n");
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(exists("web/disk/upper") && exists("web/disk.img"));
	struct stat st;
	CHECK(fstatat(ctx.jails_fd, "web/disk.img", &st, 0) == 0 && st.st_size == 1 << 30);
	golden("disk_create");
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	free(rec_take());
	struct req_limits q = { .limits = r.spec.limits };
	snprintf(q.name, sizeof q.name, "web");
	q.limits.disk = 2LL << 30;
	CHECK(B->set_limits(&ctx, &q, &e) == 0);
	CHECK(fstatat(ctx.jails_fd, "web/disk.img", &st, 0) == 0 && st.st_size == 2LL << 30);
	q.limits.disk = 1 << 20;
	CHECK(B->set_limits(&ctx, &q, &e) < 0 && e.code == ERR_INVALID && strcmp(e.field, "limits.disk") == 0);
	struct req_snap sn;
	memset(&sn, 0, sizeof sn);
	snprintf(sn.name, sizeof sn.name, "web");
	snprintf(sn.snap, sizeof sn.snap, "s1");
	CHECK(B->snap_create(&ctx, &sn, &out, &e) == 0);
	CHECK(exists("web/disk/snapshots/s1"));
	golden("disk_grow_snapshot");
	struct req_stop s = { .timeout = 1 };
	snprintf(s.name, sizeof s.name, "web");
	CHECK(B->stop(&ctx, &s, &e) == 0);
	CHECK(B->destroy(&ctx, "web", &e) == 0);
	golden("disk_stop_destroy");
	/* a jail with no disk cannot get one later */
	small_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	struct req_limits g = { .limits = { -1, -1, -1, -1, 1 << 30 } };
	snprintf(g.name, sizeof g.name, "small");
	CHECK(B->set_limits(&ctx, &g, &e) < 0 && e.code == ERR_UNSUPPORTED);
	/* import onto a disk */
	struct req_import i = { .slot = 5, .thin = 1, .disk = 1 << 30 };
	snprintf(i.name, sizeof i.name, "copy");
	free(rec_take());
	CHECK(B->import_tar(&ctx, &i, 0, &e) == 0);
	CHECK(exists("copy/disk/upper"));
	golden("disk_import");
}

/* DIR/jails a ZFS dataset: jails are datasets, thick ones clones of a template copy,
 * snapshots ZFS snapshots, limits.disk a quota */
static void zfs_fresh(void)
{
	fresh();
	char jails[128], answer[300];
	snprintf(jails, sizeof jails, "%s/jails", dir);
	snprintf(answer, sizeof answer, "tank/jaild/jails\t%s\n", jails);
	rec_zfs_root("tank/jaild/jails", jails);
	rec_tool_answer("/sbin/zfs list -H -o name,mountpoint", answer);
	rec_tool_output("anchor \"jaild/*\" all\nnat-anchor \"jaild/*\" all\nrdr-anchor \"jaild/*\" all\n");
	struct err e;
	CHECK(B->init(&ctx, &e) == 0);
	rec_tool_output("");
	/* the template copy's name holds the template directory's inode: INO in golden files */
	struct stat st;
	CHECK(fstatat(ctx.templates_fd, "base", &st, 0) == 0);
	snprintf(golden_ino, sizeof golden_ino, "-%llu", (unsigned long long)st.st_ino);
	CHECK(FB(&ctx)->store == &fb_store_zfs && strcmp(FB(&ctx)->zfs, "tank/jaild/jails") == 0);
	free(rec_take());
}

static void test_zfs(void)
{
	zfs_fresh();
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	r.spec.limits.disk = 1 << 30;
	CHECK(B->create(&ctx, &r, &e) == 0);
	small_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(exists("small/root") && exists("small/mnt"));
	snprintf(r.spec.name, sizeof r.spec.name, "small2");
	CHECK(B->create(&ctx, &r, &e) == 0); /* the template's copy is made once */
	golden("zfs_create");
	web_spec(&r);
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	free(rec_take());
	struct req_snap q;
	memset(&q, 0, sizeof q);
	snprintf(q.name, sizeof q.name, "web");
	snprintf(q.snap, sizeof q.snap, "s1");
	rec_tool_answer("/sbin/zfs get -Hp -o value used", "12345\n");
	CHECK(B->snap_create(&ctx, &q, &out, &e) == 0 && out.bytes == 12345);
	CHECK(B->snap_create(&ctx, &q, &out, &e) < 0 && e.code == ERR_CONFLICT);
	snprintf(q.snap, sizeof q.snap, "s2");
	CHECK(B->snap_create(&ctx, &q, &out, &e) == 0);
	CHECK(B->snap_restore(&ctx, &q, &e) < 0 && e.code == ERR_WRONG_STATE); /* running */
	golden("zfs_snapshot_create");
	struct req_stop st = { .timeout = 1 };
	snprintf(st.name, sizeof st.name, "web");
	CHECK(B->stop(&ctx, &st, &e) == 0);
	free(rec_take());
	char list[300];
	snprintf(list, sizeof list, "tank/jaild/jails/web/upper@s1\ntank/jaild/jails/web/upper@s2\n");
	rec_tool_answer("/sbin/zfs list -H -t snapshot", list);
	snprintf(q.snap, sizeof q.snap, "s1");
	CHECK(B->snap_restore(&ctx, &q, &e) < 0 && e.code == ERR_WRONG_STATE && strstr(e.msg, "s2") != NULL);
	snprintf(q.snap, sizeof q.snap, "s2");
	CHECK(B->snap_restore(&ctx, &q, &e) == 0);
	CHECK(B->snap_delete(&ctx, &q, &e) == 0);
	CHECK(B->snap_delete(&ctx, &q, &e) < 0 && e.code == ERR_NOT_FOUND);
	struct req_limits g = { .limits = { -1, -1, -1, -1, 2LL << 30 } };
	snprintf(g.name, sizeof g.name, "web");
	rec_tool_answer("/sbin/zfs get -Hp -o value quota", "1073741824\n");
	CHECK(B->set_limits(&ctx, &g, &e) == 0);
	g.limits.disk = 1 << 20;
	CHECK(B->set_limits(&ctx, &g, &e) < 0 && e.code == ERR_INVALID);
	golden("zfs_snapshots_quota");
	/* a thick jail of a template since replaced: its template copy goes with it */
	char tdir[128];
	snprintf(tdir, sizeof tdir, "%s/templates/base", dir);
	CHECK(rename(tdir, "/tmp/jaild-fb-old-base") == 0 || true);
	CHECK(mkdir(tdir, 0755) == 0);
	rmdir("/tmp/jaild-fb-old-base");
	char origin[300];
	struct stat old;
	CHECK(fstatat(ctx.jails_fd, "small/root", &old, 0) == 0);
	snprintf(origin, sizeof origin, "tank/jaild/jails/.t-base-1@jaild\n");
	rec_tool_answer("/sbin/zfs get -H -o value origin", origin);
	CHECK(B->destroy(&ctx, "small", &e) == 0);
	golden("zfs_destroy");
}

/* the host rebooted: the disk is there, not attached or mounted */
static void test_disk_after_reboot(void)
{
	fresh();
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	r.spec.limits.disk = 1 << 30;
	rec_tool_answer("/sbin/mdconfig -a", "md3\n");
	CHECK(B->create(&ctx, &r, &e) == 0);
	rec_reset(dir); /* the kernel forgot every mount and md unit */
	rec_tool_answer("/sbin/mdconfig -l", "");
	rec_tool_answer("/sbin/mdconfig -a", "md0\n");
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	golden("disk_after_reboot");
}

static void test_start_thin(void)
{
	fresh();
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	free(rec_take());
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	CHECK(out.pid > 0);
	CHECK(exists("web/run") && exists("web/net") && exists("web/mounts") && exists("web/mnt/var/www"));
	golden("start_thin");
	/* running: a second start is refused */
	CHECK(B->start(&ctx, &r, &out, &e) < 0 && e.code == ERR_WRONG_STATE);
}

static void test_start_thick(void)
{
	fresh();
	struct req_spec r;
	struct reply out;
	struct err e;
	small_spec(&r);
	ctx.net.egress_deny = 0;
	CHECK(B->create(&ctx, &r, &e) == 0);
	/* the recorder's cp made nothing: the copy stands in for it */
	CHECK(mkdirat(ctx.jails_fd, "small/root", 0755) == 0);
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	golden("start_thick");
}

/* Each step of start that can fail, failing: what came before is undone, in reverse. */
static void test_start_unwinds(void)
{
	static const struct {
		const char *call;
		int n;
		const char *golden;
	} cases[] = {
		{ "nmount", 3, "start_fails_devfs" },
		{ "ioctl", 3, "start_fails_alias6" },
		{ "jail_set", 1, "start_fails_jail_set" },
		{ "rctl_add", 2, "start_fails_rctl" },
		{ "tool", 1, "start_fails_pf" },
		{ "jail_spawn", 1, "start_fails_spawn" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		fresh();
		struct req_spec r;
		struct reply out;
		struct err e;
		web_spec(&r);
		CHECK(B->create(&ctx, &r, &e) == 0);
		free(rec_take());
		rec_fail(cases[i].call, cases[i].n, EPERM);
		CHECK(B->start(&ctx, &r, &out, &e) < 0);
		CHECK(!exists("web/run") && !exists("web/net") && !exists("web/mounts"));
		golden(cases[i].golden);
		struct reply st = { .code = 0 };
		CHECK(B->status(&ctx, "web", &st, &e) == 0 && st.running == 0);
	}
}

/* A symlink the jail left where a mount goes: the mount is refused, nothing of the
 * host is mounted over. */
static void test_mount_target_symlink(void)
{
	fresh();
	struct req_spec r;
	struct reply out;
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	/* as if the jail's root had it (in a thin jail, the union shows upper's) */
	CHECK(mkdirat(ctx.jails_fd, "web/mnt/var", 0755) == 0);
	CHECK(symlinkat("/etc", ctx.jails_fd, "web/mnt/var/www") == 0);
	free(rec_take());
	CHECK(B->start(&ctx, &r, &out, &e) < 0);
	CHECK(e.code == ERR_INVALID && strstr(e.msg, "/var/www") != NULL);
	golden("start_mount_symlink");
	/* and /dev the same */
	fresh();
	small_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	CHECK(mkdirat(ctx.jails_fd, "small/root", 0755) == 0);
	CHECK(symlinkat("/root", ctx.jails_fd, "small/mnt/dev") == 0);
	free(rec_take());
	CHECK(B->start(&ctx, &r, &out, &e) < 0 && e.code == ERR_INVALID);
	golden("start_dev_symlink");
}

static void test_stop(void)
{
	fresh();
	started_web();
	struct req_stop s = { .timeout = 10 };
	struct err e;
	snprintf(s.name, sizeof s.name, "web");
	pack(&s.stop_command, (const char *const[]){ "service", "nginx", "stop", NULL });
	CHECK(B->stop(&ctx, &s, &e) == 0);
	CHECK(!exists("web/run") && !exists("web/net") && !exists("web/mounts"));
	golden("stop");
	CHECK(B->stop(&ctx, &s, &e) < 0 && e.code == ERR_WRONG_STATE);
}

static void test_exec(void)
{
	fresh();
	struct req_exec x = { .timeout = 30 };
	struct reply out;
	struct err e;
	int fds[3] = { 0, 1, 2 };
	snprintf(x.name, sizeof x.name, "web");
	pack(&x.argv, (const char *const[]){ "uname", "-a", NULL });
	CHECK(B->exec(&ctx, &x, fds, &out, &e) < 0 && e.code == ERR_WRONG_STATE);
	started_web();
	rec_wait_status(3 << 8);
	memset(&out, 0, sizeof out);
	CHECK(B->exec(&ctx, &x, fds, &out, &e) == 0);
	CHECK(out.exit_code == 3 && !out.timed_out);
	/* past its timeout: its whole session is killed, 124 */
	rec_wait_status(-1);
	memset(&out, 0, sizeof out);
	CHECK(B->exec(&ctx, &x, fds, &out, &e) == 0);
	CHECK(out.timed_out && out.exit_code == 124);
	golden("exec");
}

static void test_console(void)
{
	fresh();
	started_web();
	struct req_console q = { .rows = 40, .cols = 120 };
	struct reply out;
	struct err e;
	int master = -1;
	snprintf(q.name, sizeof q.name, "web");
	CHECK(B->console(&ctx, &q, &out, &master, &e) == 0 && master >= 0);
	close(master);
	pack(&q.argv, (const char *const[]){ "top", NULL });
	CHECK(B->console(&ctx, &q, &out, &master, &e) == 0 && master >= 0);
	close(master);
	golden("console");
}

static void test_status_and_list(void)
{
	fresh();
	struct reply out = { .code = 0 };
	struct err e;
	CHECK(B->status(&ctx, "web", &out, &e) == 0 && out.running == 0);
	started_web();
	rec_usage("cputime=12,datasize=0,stacksize=0,coredumpsize=0,memoryuse=52428800,memorylocked=0,maxproc=7,openfiles=90");
	memset(&out, 0, sizeof out);
	CHECK(B->status(&ctx, "web", &out, &e) == 0);
	CHECK(out.running == 1 && out.pid > 0);
	CHECK(out.cpu_ns == 12000000000LL && out.memory == 52428800 && out.procs == 7);
	struct list_reply l;
	CHECK(B->list(&ctx, "", &l, &e) == 0 && l.count == 1 && strcmp(l.names[0], "web") == 0);
	/* its first process ended: not running, how it ended is known */
	struct runrec rec;
	CHECK(runrec_read(ctx.jails_fd, "web", &rec));
	rec_proc_died(rec.pid);
	B->reaped(&ctx, rec.pid, 7 << 8);
	memset(&out, 0, sizeof out);
	CHECK(B->status(&ctx, "web", &out, &e) == 0 && out.running == 0 && out.exited && out.exit_code == 7);
	CHECK(B->list(&ctx, "", &l, &e) == 0 && l.count == 0);
	/* the sweep takes down what it left: the kernel jail, rules, aliases, mounts */
	CHECK(B->sweep(&ctx, &e) == 0);
	CHECK(!exists("web/mounts") && !exists("web/net"));
	golden("sweep");
}

static void test_limits(void)
{
	fresh();
	struct req_limits q = { .limits = { .maxproc = 128, .memoryuse = -1, .pcpu = 200, .openfiles = -1, .disk = -1 } };
	struct err e;
	snprintf(q.name, sizeof q.name, "web");
	started_web();
	CHECK(B->set_limits(&ctx, &q, &e) == 0);
	q.limits.disk = 1 << 30;
	CHECK(B->set_limits(&ctx, &q, &e) < 0 && e.code == ERR_UNSUPPORTED);
	golden("set_limits");
}

static void test_net_set(void)
{
	fresh();
	started_web();
	struct req_net q = { .net = { .tenant = 9 } };
	struct err e;
	snprintf(q.name, sizeof q.name, "web");
	q.net.nports = 1;
	q.net.ports[0] = (struct jail_port){ .proto = NET_UDP, .host_port = 5353, .port = 53 };
	q.net.negress = 1;
	q.net.egress[0] = rule(true, NET_ICMP, NULL, 0, 0);
	CHECK(B->net_set(&ctx, &q, &e) == 0);
	struct netrec nr;
	CHECK(netrec_read(ctx.jails_fd, "web", &nr) && nr.net.tenant == 9 && nr.net.bandwidth == 0);
	/* pf refusing the new anchor: the old record stays */
	rec_fail("tool", 1, EINVAL);
	q.net.tenant = 11;
	CHECK(B->net_set(&ctx, &q, &e) < 0);
	CHECK(netrec_read(ctx.jails_fd, "web", &nr) && nr.net.tenant == 9);
	golden("net_set");
}

static void test_snapshots(void)
{
	fresh();
	struct req_spec r;
	struct reply out = { .code = 0 };
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	struct req_snap q;
	memset(&q, 0, sizeof q);
	snprintf(q.name, sizeof q.name, "web");
	snprintf(q.snap, sizeof q.snap, "before");
	CHECK(B->snap_create(&ctx, &q, &out, &e) == 0);
	CHECK(exists("web/snapshots/before"));
	CHECK(B->snap_create(&ctx, &q, &out, &e) < 0 && e.code == ERR_CONFLICT);
	CHECK(B->snap_restore(&ctx, &q, &e) == 0);
	/* the layer was moved aside for the copy (which the recorder did not make; the
	 * removal of the old one was recorded too): as the copy would, it comes back */
	CHECK(exists("web/upper.old") && !exists("web/upper"));
	CHECK(renameat(ctx.jails_fd, "web/upper.old", ctx.jails_fd, "web/upper") == 0);
	golden("snapshots");
	CHECK(B->start(&ctx, &r, &out, &e) == 0);
	free(rec_take());
	CHECK(B->snap_restore(&ctx, &q, &e) < 0 && e.code == ERR_WRONG_STATE);
	struct req_snap none = q;
	snprintf(none.snap, sizeof none.snap, "nosuch");
	CHECK(B->snap_delete(&ctx, &none, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(B->snap_delete(&ctx, &q, &e) == 0);
	golden("snapshots_delete");
}

static void test_export_import(void)
{
	fresh();
	struct req_spec r;
	struct err e;
	web_spec(&r);
	CHECK(B->create(&ctx, &r, &e) == 0);
	struct req_export x;
	memset(&x, 0, sizeof x);
	snprintf(x.name, sizeof x.name, "web");
	snprintf(x.spec, sizeof x.spec, "{\"name\":\"web\"}");
	CHECK(B->export_tar(&ctx, &x, 1, &e) == 0);
	CHECK(exists("web/jail.json"));
	struct req_import i = { .slot = 5, .thin = 0, .disk = -1 };
	snprintf(i.name, sizeof i.name, "copy");
	CHECK(B->import_tar(&ctx, &i, 0, &e) == 0);
	CHECK(exists("copy/root") && exists("copy/mnt"));
	CHECK(B->import_tar(&ctx, &i, 0, &e) < 0 && e.code == ERR_CONFLICT);
	golden("export_import");
}

static void test_templates(void)
{
	fresh();
	struct reply out = { .code = 0 };
	struct err e;
	CHECK(B->template_tar(&ctx, "fbsd14", false, 0, &out, &e) == 0);
	CHECK(exists("../templates/fbsd14"));
	CHECK(B->template_tar(&ctx, "fbsd14", false, 0, &out, &e) < 0 && e.code == ERR_CONFLICT);
	CHECK(B->template_tar(&ctx, "fbsd14", true, 0, &out, &e) == 0);
	/* a source reached through a symlink is refused */
	char link[128];
	snprintf(link, sizeof link, "%s/link", dir);
	CHECK(symlink("/etc", link) == 0);
	CHECK(B->template_dir(&ctx, "copied", false, link, &e) < 0 && e.code == ERR_INVALID);
	char src[128];
	snprintf(src, sizeof src, "%s/src", dir);
	CHECK(mkdir(src, 0755) == 0);
	CHECK(B->template_dir(&ctx, "copied", false, src, &e) == 0);
	CHECK(B->template_delete(&ctx, "copied", &e) == 0);
	CHECK(B->template_delete(&ctx, "nosuch", &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(B->template_minimal(&ctx, &e) == 0);
	char target[64] = "";
	CHECK(readlinkat(ctx.templates_fd, "minimal/bin/sh", target, sizeof target - 1) > 0 && strcmp(target, "/rescue/rescue") == 0);
	CHECK(faccessat(ctx.templates_fd, "minimal/etc/rc", X_OK, 0) == 0);
	golden("templates");
}

static void test_destroy(void)
{
	fresh();
	struct err e;
	started_web();
	CHECK(B->destroy(&ctx, "web", &e) < 0 && e.code == ERR_WRONG_STATE);
	struct req_stop s = { .timeout = 1 };
	snprintf(s.name, sizeof s.name, "web");
	CHECK(B->stop(&ctx, &s, &e) == 0);
	free(rec_take());
	CHECK(B->destroy(&ctx, "web", &e) == 0);
	golden("destroy");
}

static void test_log(void)
{
	fresh();
	int fd = -1;
	struct err e;
	CHECK(B->log_open(&ctx, "web", &fd, &e) < 0 && e.code == ERR_NOT_FOUND);
	started_web();
	CHECK(B->log_open(&ctx, "web", &fd, &e) == 0 && fd >= 0);
	close(fd);
}

int main(int argc, char **argv)
{
	golden_dir = argc > 1 ? argv[1] : "tests/unit/freebsd";
	RUN(test_init);
	RUN(test_init_without_racct_or_anchors);
	RUN(test_create);
	RUN(test_disk);
	RUN(test_disk_after_reboot);
	RUN(test_zfs);
	RUN(test_start_thin);
	RUN(test_start_thick);
	RUN(test_start_unwinds);
	RUN(test_mount_target_symlink);
	RUN(test_stop);
	RUN(test_exec);
	RUN(test_console);
	RUN(test_status_and_list);
	RUN(test_limits);
	RUN(test_net_set);
	RUN(test_snapshots);
	RUN(test_export_import);
	RUN(test_templates);
	RUN(test_destroy);
	RUN(test_log);
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		(void)!system(cmd);
	}
	return check_done();
}
