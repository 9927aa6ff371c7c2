/* The cgroup manager against fake v1 and v2 trees: the right files get the right
 * values, and usage is read back. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"

static char root[100];

static void put(const char *rel, const char *v)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(v, f);
		fclose(f);
	}
}

static int has(const char *rel, const char *v)
{
	char p[512], buf[128] = "";
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (strcmp(buf, v) != 0)
		fprintf(stderr, "  %s holds '%s', wanted '%s'\n", rel, buf, v);
	return strcmp(buf, v) == 0;
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	mkdir(p, 0755);
}

/* A fresh fake cgroup tree for m, and its removal. */
static void fresh_tree(struct cgroup_mgr *m)
{
	snprintf(root, sizeof root, "/tmp/jaild-cg-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	snprintf(m->root, sizeof m->root, "%s", root);
}

static void remove_tree(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

static void v1(void)
{
	struct cgroup_mgr m = { .ops = &cgroup_v1_ops, .parent = "jaild" };
	struct err e;
	fresh_tree(&m);
	const char *ctl[] = { "pids", "memory", "cpu", "cpuacct" };
	for (int i = 0; i < 4; i++)
		mk(ctl[i]);
	CHECK(m.ops->setup(&m, &e) == 0);
	CHECK(m.ops->create(&m, "web1", &e) == 0);
	/* cgroupfs makes these files itself; the fake tree needs them made */
	const char *files[] = { "pids/jaild/web1/pids.max", "memory/jaild/web1/memory.limit_in_bytes",
				"cpu/jaild/web1/cpu.cfs_period_us", "cpu/jaild/web1/cpu.cfs_quota_us",
				"pids/jaild/web1/cgroup.procs", "memory/jaild/web1/cgroup.procs",
				"cpu/jaild/web1/cgroup.procs", "cpuacct/jaild/web1/cgroup.procs" };
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		put(files[i], "");
	struct jail_limits l = { .maxproc = 64, .memoryuse = 256 << 20, .pcpu = 50, .openfiles = -1, .disk = -1 };
	CHECK(m.ops->set_limits(&m, "web1", &l, &e) == 0);
	CHECK(has("pids/jaild/web1/pids.max", "64"));
	CHECK(has("memory/jaild/web1/memory.limit_in_bytes", "268435456"));
	CHECK(has("cpu/jaild/web1/cpu.cfs_quota_us", "5000"));
	CHECK(has("cpu/jaild/web1/cpu.cfs_period_us", "10000"));
	struct jail_limits none = { -1, -1, -1, -1, -1 };
	CHECK(m.ops->set_limits(&m, "web1", &none, &e) == 0);
	CHECK(has("pids/jaild/web1/pids.max", "max"));
	CHECK(has("memory/jaild/web1/memory.limit_in_bytes", "-1"));
	CHECK(has("cpu/jaild/web1/cpu.cfs_quota_us", "-1"));
	CHECK(m.ops->attach(&m, "web1", 1234, &e) == 0);
	CHECK(has("pids/jaild/web1/cgroup.procs", "1234"));
	CHECK(has("cpuacct/jaild/web1/cgroup.procs", "1234"));
	put("memory/jaild/web1/memory.usage_in_bytes", "4096\n");
	put("pids/jaild/web1/pids.current", "3\n");
	put("cpuacct/jaild/web1/cpuacct.usage", "2000000000\n");
	struct jail_usage u;
	CHECK(m.ops->usage(&m, "web1", &u, &e) == 0 && u.memory == 4096 && u.procs == 3 && u.cpu_ns == 2000000000LL);
	pid_t pids[4];
	CHECK(m.ops->procs(&m, "web1", pids, 4) == 1 && pids[0] == 1234);
	CHECK(m.ops->procs(&m, "nope", pids, 4) == 0);
	/* a missing controller file is an error with the path in it */
	CHECK(m.ops->set_limits(&m, "ghost", &l, &e) < 0 && strstr(e.msg, "ghost/pids.max"));
	remove_tree();
}

static void v2(void)
{
	struct cgroup_mgr m = { .ops = &cgroup_v2_ops, .parent = "jaild" };
	struct err e;
	fresh_tree(&m);
	put("cgroup.subtree_control", "");
	mk("jaild");
	put("jaild/cgroup.subtree_control", "");
	CHECK(m.ops->setup(&m, &e) == 0);
	CHECK(has("cgroup.subtree_control", "+pids +memory +cpu"));
	CHECK(has("jaild/cgroup.subtree_control", "+pids +memory +cpu"));
	CHECK(m.ops->create(&m, "web1", &e) == 0);
	const char *files[] = { "jaild/web1/pids.max", "jaild/web1/memory.max", "jaild/web1/cpu.max", "jaild/web1/cgroup.procs" };
	for (size_t i = 0; i < 4; i++)
		put(files[i], "");
	struct jail_limits l = { .maxproc = 10, .memoryuse = 64 << 20, .pcpu = 150, .openfiles = -1, .disk = -1 };
	CHECK(m.ops->set_limits(&m, "web1", &l, &e) == 0);
	CHECK(has("jaild/web1/pids.max", "10"));
	CHECK(has("jaild/web1/memory.max", "67108864"));
	CHECK(has("jaild/web1/cpu.max", "15000 10000"));
	struct jail_limits none = { -1, -1, -1, -1, -1 };
	CHECK(m.ops->set_limits(&m, "web1", &none, &e) == 0);
	CHECK(has("jaild/web1/memory.max", "max"));
	CHECK(has("jaild/web1/cpu.max", "max 10000"));
	CHECK(m.ops->attach(&m, "web1", 77, &e) == 0 && has("jaild/web1/cgroup.procs", "77"));
	put("jaild/web1/memory.current", "8192\n");
	put("jaild/web1/pids.current", "2\n");
	put("jaild/web1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	struct jail_usage u;
	CHECK(m.ops->usage(&m, "web1", &u, &e) == 0 && u.memory == 8192 && u.procs == 2 && u.cpu_ns == 1500000);
	remove_tree();
}

/* Delegated (under systemd): controllers are enabled in jaild's own group, never in
 * the root's, and jails live below it. */
static void v2_delegated(void)
{
	struct cgroup_mgr m = { .ops = &cgroup_v2_ops, .parent = "jaild-ab12", .base = "system.slice/jaild-jails.service" };
	struct err e;
	fresh_tree(&m);
	put("cgroup.subtree_control", "untouched");
	mk("system.slice");
	mk("system.slice/jaild-jails.service");
	put("system.slice/jaild-jails.service/cgroup.procs", "");
	put("system.slice/jaild-jails.service/cgroup.subtree_control", "");
	mk("system.slice/jaild-jails.service/jaild-ab12");
	put("system.slice/jaild-jails.service/jaild-ab12/cgroup.subtree_control", "");
	CHECK(m.ops->setup(&m, &e) == 0);
	CHECK(has("cgroup.subtree_control", "untouched"));
	CHECK(has("system.slice/jaild-jails.service/cgroup.subtree_control", "+pids +memory +cpu"));
	CHECK(has("system.slice/jaild-jails.service/jaild-ab12/cgroup.subtree_control", "+pids +memory +cpu"));
	struct stat st;
	char leaf[300];
	snprintf(leaf, sizeof leaf, "%s/system.slice/jaild-jails.service/daemon", root);
	CHECK(stat(leaf, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(m.ops->create(&m, "web1", &e) == 0);
	snprintf(leaf, sizeof leaf, "%s/system.slice/jaild-jails.service/jaild-ab12/web1", root);
	CHECK(stat(leaf, &st) == 0 && S_ISDIR(st.st_mode));
	int fd = m.ops->open_dir(&m, "web1", &e);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(m.ops->destroy(&m, "web1", &e) == 0 && stat(leaf, &st) < 0);
	snprintf(leaf, sizeof leaf, "%s/system.slice/jaild-jails.service/jaild-ab12/cgroup.subtree_control", root);
	unlink(leaf); /* cgroupfs removes a group with its files; a plain directory needs this */
	m.ops->teardown(&m);
	snprintf(leaf, sizeof leaf, "%s/system.slice/jaild-jails.service/jaild-ab12", root);
	CHECK(stat(leaf, &st) < 0);
	remove_tree();
}

/* Which group is jaild's: its own (less the daemon leaf), or cgroup-parent; under
 * systemd never the root. */
static void v2_base_rules(void)
{
	char b[192];
	struct err e;
	CHECK(cgroup_v2_base("0::/system.slice/x.scope\n", "", true, b, sizeof b, &e) == 0 && strcmp(b, "system.slice/x.scope") == 0);
	CHECK(cgroup_v2_base("0::/system.slice/x.scope/daemon\n", "", true, b, sizeof b, &e) == 0 &&
	      strcmp(b, "system.slice/x.scope") == 0);
	CHECK(cgroup_v2_base("0::/\n", "", false, b, sizeof b, &e) == 0 && strcmp(b, "") == 0);
	CHECK(cgroup_v2_base("0::/daemon\n", "", false, b, sizeof b, &e) == 0 && strcmp(b, "") == 0);
	CHECK(cgroup_v2_base("0::/\n", "", true, b, sizeof b, &e) < 0 && strstr(e.msg, "Delegate=yes"));
	CHECK(cgroup_v2_base("0::/system.slice/jaild.service/daemon\n", "/system.slice/jaild-jails.service", true, b, sizeof b, &e) == 0 &&
	      strcmp(b, "system.slice/jaild-jails.service") == 0);
	CHECK(cgroup_v2_base("garbage", "", false, b, sizeof b, &e) < 0);
}

int main(void)
{
	v1();
	v2();
	v2_delegated();
	v2_base_rules();
	return check_done();
}
