/* templates.c — templates.h: the helper's TEMPLATE_TAR, TEMPLATE_DIR, TEMPLATE_DELETE
 * and EXPORT, and the store's records of them. */
#include "core/templates.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jails.h"
#include "core/operations.h"
#include "core/priv_client.h"
#include "log.h"
#include "validate.h"

int template_publish(const struct template_source *src, unsigned *skipped, struct template_row *out, struct err *e)
{
	struct req_template r;
	struct reply rep;
	char source[300];
	memset(&r, 0, sizeof r);
	*skipped = 0;
	if (!valid_name(src->name))
		return err_field(e, ERR_INVALID, "name",
				 "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	if (store_template_exists(J.st, src->name) && !src->replace)
		return err_field(e, ERR_CONFLICT, "name", "template %s exists; publish a new version with replace", src->name);
	r.h = priv_hdr(src->tar_fd >= 0 ? MSG_TEMPLATE_TAR : MSG_TEMPLATE_DIR);
	snprintf(r.name, sizeof r.name, "%.63s", src->name);
	r.replace = src->replace;
	if (src->tar_fd < 0) {
		snprintf(r.source, sizeof r.source, "%.255s", src->dir);
		snprintf(source, sizeof source, "dir:%s", r.source);
	} else {
		snprintf(source, sizeof source, "%s", src->origin ? src->origin : "upload");
	}
	if (priv_call(&r, src->tar_fd >= 0 ? &src->tar_fd : NULL, src->tar_fd >= 0 ? 1 : 0, &rep, e) < 0 ||
	    store_template_put(J.st, r.name, source, src->sha256 ? src->sha256 : "", e) < 0)
		return -1;
	*skipped = rep.skipped > 0 ? (unsigned)rep.skipped : 0;
	return store_template_get(J.st, r.name, out, e);
}

int template_remove(const char *name, struct err *e)
{
	struct template_row t;
	if (!valid_name(name) || store_template_get(J.st, name, &t, e) < 0)
		return err_set(e, ERR_NOT_FOUND, "no template named %.63s", name);
	if (t.jails > 0)
		return err_set(e, ERR_CONFLICT, "template %s is used by %lld jails; destroy them first", name, (long long)t.jails);
	struct req_template r;
	struct reply out;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(MSG_TEMPLATE_DELETE);
	snprintf(r.name, sizeof r.name, "%.63s", name);
	if (priv_call(&r, NULL, 0, &out, e) < 0 && e->code != ERR_NOT_FOUND)
		return -1;
	return store_template_delete(J.st, name, e);
}

struct export_job {
	struct req_export req;
	int wfd;
};

/* The helper writes into the pipe until the archive is whole. */
static void *export_thread(void *arg)
{
	struct export_job *j = arg;
	struct reply out;
	struct err e;
	if (priv_call(&j->req, &j->wfd, 1, &out, &e) < 0)
		log_warn("export of %s: %s (the download was cut short)", j->req.name, e.msg);
	close(j->wfd);
	free(j);
	return NULL;
}

int jail_export_start(const char *name, const char *spec, int fd, struct err *e)
{
	struct export_job *j = calloc(1, sizeof *j);
	if (!j || strlen(spec) >= SPEC_TEXT_SIZE) {
		free(j);
		return err_set(e, ERR_INTERNAL, "cannot start the export (out of memory, or a spec too large to send)");
	}
	j->req.h = priv_hdr(MSG_EXPORT);
	snprintf(j->req.name, sizeof j->req.name, "%.63s", name);
	snprintf(j->req.spec, sizeof j->req.spec, "%s", spec);
	j->wfd = fd;
	pthread_t t;
	if (pthread_create(&t, NULL, export_thread, j) != 0) {
		free(j);
		return err_set(e, ERR_INTERNAL, "cannot start the export's thread");
	}
	pthread_detach(t);
	return 0;
}

/* ---- built from a distribution's archive ---- */

#define BUILD_PACKAGES_MAX 64

static struct {
	char debian[256], ubuntu[256], dir[300];
} build_cfg = { "http://deb.debian.org/debian", "http://archive.ubuntu.com/ubuntu", "" };

void template_build_config(const char *debian_mirror, const char *ubuntu_mirror, const char *data_dir)
{
	if (debian_mirror && debian_mirror[0])
		snprintf(build_cfg.debian, sizeof build_cfg.debian, "%s", debian_mirror);
	if (ubuntu_mirror && ubuntu_mirror[0])
		snprintf(build_cfg.ubuntu, sizeof build_cfg.ubuntu, "%s", ubuntu_mirror);
	/* not under the data dir: the build's namespace root (a subordinate uid of jaild's
	 * user) must be able to pass through to its tree, and the data dir is jaild's */
	(void)data_dir;
	snprintf(build_cfg.dir, sizeof build_cfg.dir, "/var/tmp");
}

struct build_job {
	char name[64], distro[16], release[32];
	char packages[BUILD_PACKAGES_MAX][64];
	int npackages;
	bool replace;
};

/* Debian's package names: lowercase letters, digits, + - . (policy 5.6.1). */
static bool valid_package(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static bool valid_release(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 31 || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* mmdebstrap's own steps, as it reports them ("I: ..."), and how far each is. */
static const struct {
	const char *says;
	int percent;
	const char *message;
} build_steps[] = {
	{ "running apt-get update", 5, "reading the archive's package lists" },
	{ "downloading packages", 15, "downloading packages" },
	{ "extracting archives", 40, "unpacking the essential packages" },
	{ "installing essential", 50, "installing the essential packages" },
	{ "installing remaining", 65, "installing the packages asked for" },
	{ "running --customize-hook", 80, "setting up the jail's init" },
	{ "cleaning package lists", 83, "cleaning up" },
	{ "creating tarball", 85, "writing the root filesystem" },
};

/* The jail's init: sysvinit-core's /sbin/init, which runs the services enabled in
 * the jail (/etc/rc2.d, update-rc.d, what a package's postinst enables) the way
 * /etc/rc does on FreeBSD. Small, in Debian since the start and still kept, and it
 * needs nothing of the host: no cgroup tree of its own (systemd would), no terminals
 * once inittab starts no getty. */
static const char init_command[] = "[\"/sbin/init\"]";
static const char init_stop[] = "[\"/etc/init.d/rc\",\"0\"]";

static void rm_tree(const char *dir)
{
	char *const argv[] = { "/bin/rm", "-rf", "--one-file-system", (char *)dir, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static json_t *build_run(struct operation *op, void *arg, struct err *e)
{
	struct build_job *b = arg;
	char dir[400], out[460], include[BUILD_PACKAGES_MAX * 64 + 64], mirror[300];
	/* DIR/jaild-build-ID: the operation's random id makes the name; mkdir refuses one
	 * that exists. Others may pass through (the namespace's root must), not list. */
	snprintf(dir, sizeof dir, "%s/jaild-build-%s", build_cfg.dir, op_id(op));
	snprintf(out, sizeof out, "%s/rootfs.tar", dir);
	if (mkdir(dir, 0711) < 0 || chmod(dir, 0711) < 0)
		return err_errno(e, "creating %s", dir), NULL;
	/* the init, and ps, top and free (procps reads /proc, where lxcfs shows the
	 * jail's own limits) */
	size_t len = (size_t)snprintf(include, sizeof include, "sysvinit-core,procps");
	for (int i = 0; i < b->npackages; i++)
		len += (size_t)snprintf(include + len, sizeof include - len, ",%s", b->packages[i]);
	snprintf(mirror, sizeof mirror, "%s", strcmp(b->distro, "ubuntu") == 0 ? build_cfg.ubuntu : build_cfg.debian);
	char inc_opt[sizeof include + 16];
	snprintf(inc_opt, sizeof inc_opt, "--include=%s", include);
	char *const argv[] = {
		"/usr/bin/mmdebstrap", "--mode=unshare", "--variant=minbase", "--format=tar", inc_opt,
		/* a jail has no terminals: inittab starts no getty */
		"--customize-hook=sed -i 's/^\\([1-6]\\):/#\\1:/' \"$1/etc/inittab\"",
		/* no hostname or resolvers of the build host's: jaild gives a jail both */
		"--customize-hook=rm -f \"$1/etc/hostname\" \"$1/etc/resolv.conf\"",
		b->release, out, mirror, NULL,
	};
	op_progress(op, 1, "starting mmdebstrap for %s %s", b->distro, b->release);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe"), NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return err_errno(e, "fork"), NULL;
	}
	if (pid == 0) {
		/* its own process group: a cancel signals mmdebstrap and what it runs */
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(126);
		char home[420], tmp[420];
		snprintf(home, sizeof home, "HOME=%s", dir);
		snprintf(tmp, sizeof tmp, "TMPDIR=%s", dir);
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", home, tmp, NULL };
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	op_set_child(op, -pid);
	FILE *f = fdopen(p[0], "r");
	char line[1024], last[512] = "";
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] && line[0] != ' ')
			snprintf(last, sizeof last, "%.511s", line);
		for (size_t i = 0; i < sizeof build_steps / sizeof *build_steps; i++)
			if (strstr(line, build_steps[i].says))
				op_progress(op, build_steps[i].percent, "%s", build_steps[i].message);
	}
	if (f)
		fclose(f);
	else
		close(p[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	op_set_child(op, 0);
	json_t *result = NULL;
	if (op_cancelled(op))
		err_set(e, ERR_WRONG_STATE, "cancelled");
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		err_set(e, ERR_INVALID, "mmdebstrap failed (%s %d): %s", WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), last[0] ? last : "no output");
	else {
		op_progress(op, 90, "publishing the template");
		char origin[64];
		snprintf(origin, sizeof origin, "%s:%s", b->distro, b->release);
		struct template_source src = { .name = b->name, .replace = b->replace, .tar_fd = open(out, O_RDONLY | O_CLOEXEC),
					       .origin = origin };
		struct template_row t;
		unsigned skipped = 0;
		if (src.tar_fd < 0)
			err_errno(e, "opening %s", out);
		else if (template_publish(&src, &skipped, &t, e) == 0 &&
			 store_template_set_run(J.st, b->name, init_command, init_stop, e) == 0)
			result = json_pack("{sssIsIs[s]}", "template", t.name, "version", (json_int_t)t.version, "skipped_device_nodes",
					   (json_int_t)skipped, "command", "/sbin/init");
		if (src.tar_fd >= 0)
			close(src.tar_fd);
	}
	/* nothing of the build stays: mmdebstrap removes its own tree (as the uids that
	 * own it) on success, failure and SIGTERM; the tarball and the directory are ours */
	unlink(out);
	rm_tree(dir);
	return result;
}

static void build_job_free(void *arg)
{
	free(arg);
}

int template_build_start(const struct template_build *req, int64_t tenant_id, char id[33], struct err *e)
{
	if (!valid_name(req->name))
		return err_field(e, ERR_INVALID, "name",
				 "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	if (strcmp(req->distro, "debian") != 0 && strcmp(req->distro, "ubuntu") != 0)
		return err_field(e, ERR_INVALID, "distro", "distro must be debian or ubuntu");
	if (!valid_release(req->release))
		return err_field(e, ERR_INVALID, "release", "release must be a suite or codename like bookworm or noble");
	if (req->npackages > BUILD_PACKAGES_MAX)
		return err_field(e, ERR_INVALID, "packages", "at most %d packages", BUILD_PACKAGES_MAX);
	for (int i = 0; i < req->npackages; i++)
		if (!req->packages[i] || !valid_package(req->packages[i])) {
			char f[32];
			snprintf(f, sizeof f, "packages[%d]", i);
			return err_field(e, ERR_INVALID, f, "%s must be a Debian package name (lowercase letters, digits, '+', '-', '.')", f);
		}
	if (store_template_exists(J.st, req->name) && !req->replace)
		return err_field(e, ERR_CONFLICT, "name", "template %s exists; build a new version with \"replace\": true", req->name);
	if (op_running("template.build", req->name))
		return err_field(e, ERR_CONFLICT, "name", "template %s is being built already; see GET /api/operations", req->name);
	if (access("/usr/bin/mmdebstrap", X_OK) < 0)
		return err_set(e, ERR_UNAVAILABLE, "mmdebstrap is not installed on this host (apt-get install mmdebstrap uidmap)");
	struct build_job *b = calloc(1, sizeof *b);
	if (!b)
		return err_set(e, ERR_INTERNAL, "out of memory");
	snprintf(b->name, sizeof b->name, "%s", req->name);
	snprintf(b->distro, sizeof b->distro, "%s", req->distro);
	snprintf(b->release, sizeof b->release, "%s", req->release);
	for (int i = 0; i < req->npackages; i++)
		snprintf(b->packages[i], sizeof b->packages[i], "%s", req->packages[i]);
	b->npackages = req->npackages;
	b->replace = req->replace;
	return op_start("template.build", req->name, tenant_id, build_run, b, build_job_free, id, e);
}
