/* jaild — the API server. Started as root it splits in two: a root supervisor that
 * only keeps the privileged helper running, and this server, which drops to an
 * unprivileged user before it reads a single request. */
#include <errno.h>
#include <curl/curl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "config.h"
#include "core/console.h"
#include "core/events.h"
#include "http/http.h"
#include "core/jails.h"
#include "log.h"
#include "validate.h"
#include "core/priv_client.h"
#include "core/reconcile.h"
#include "core/restore.h"
#include "core/cluster.h"
#include "core/exec_gate.h"
#include "core/host.h"
#include "os/os.h"
#include "core/operations.h"
#include "core/templates.h"
#include "core/usage.h"
#include "size.h"
#include "supervisor/supervisor.h"
#include "http/tls.h"
#include "http/token.h"
#include "http/web.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jaild [--listen ADDR:PORT] [--data-dir DIR] [--config FILE] [--user USER]\n"
		"             [--store sqlite|postgresql://USER@HOST/DATABASE]\n"
		"             [--pool4 CIDR] [--pool6 CIDR] [--allow-mount PATH]... [--busybox PATH]\n"
		"             [--uplink IF|auto|none] [--pool4-mode nat|routed] [--pool6-mode nat|routed]\n"
		"             [--egress-default allow|deny] [--dns ADDR[,ADDR...]]\n"
		"             [--uid-base N] [--cgroup-favordynmods yes|no] [--cgroup-parent CGROUP] [--rate-limit PER_SECOND]\n"
		"             [--events-keep SECONDS] [--tls-cert FILE --tls-key FILE]\n"
		"             [--console-grace SECONDS] [--console-idle SECONDS] [--console-max-per-tenant N]\n"
		"             [--recording-keep SECONDS] [--console-record-input yes|no] [--web-root DIR]\n"
		"       jaild --gen-cert DIR   (a self-signed certificate and key for first set-up)\n"
		"defaults: --listen 127.0.0.1:8080 --data-dir /var/lib/jaild --user jaild --store sqlite\n");
}

static void die(const char *what, const struct err *e)
{
	log_error("%s: %s", what, e->msg);
	exit(1);
}

/* setgroups, setgid, setuid, and then proof that root cannot be had back. */
static void drop_privileges(const struct passwd *pw)
{
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_error("dropping privileges to %s: %s", pw->pw_name, strerror(errno));
		exit(1);
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || r != pw->pw_uid || e != pw->pw_uid ||
	    s != pw->pw_uid || rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid || setuid(0) == 0 ||
	    getgroups(0, NULL) != 0) {
		log_error("privileges were not fully dropped; refusing to serve");
		exit(1);
	}
}

/* DIR: root-owned, group jaild, sticky, so the server can create its database and
 * token there but cannot rename or remove the helper's jails/ and templates/. */
static void prepare_data_dir(const char *dir, gid_t gid)
{
	if (mkdir(dir, 0770) < 0 && errno != EEXIST) {
		log_error("creating %s: %s", dir, strerror(errno));
		exit(1);
	}
	if (chown(dir, 0, gid) < 0 || chmod(dir, 01770) < 0) {
		log_error("setting owner and mode of %s: %s", dir, strerror(errno));
		exit(1);
	}
}

/* One jaild per data dir: two would hand out the same slots and addresses and fight
 * over the same jails. The supervisor holds the lock for its life (root-owned file in
 * the root-owned data dir, so the unprivileged server cannot take it away). */
static int lock_data_dir(const char *dir)
{
	char path[300], pid[32];
	snprintf(path, sizeof path, "%s/jaild.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("opening %s: %s", path, strerror(errno));
		exit(1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_error("another jaild (pid %s) is running on the data dir %s; stop it first, or give this one its own --data-dir",
			  pid[0] ? pid : "?", dir);
		exit(1);
	}
	int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("writing %s: %s", path, strerror(errno));
	return fd;
}

static char *tls_cert_pem, *tls_key_pem;

/* "auto": a jail without a pcpu limit may use every CPU but one, so that no single jail
 * can take every core from jaild, the helper and the other jails (on a one-CPU host it
 * gets all of it, and the jails' low CPU weight is what protects the rest). */
static int64_t default_pcpu(const char *v)
{
	if (strcmp(v, "auto") != 0)
		return atoll(v) ?: -1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 1 ? (int64_t)(n - 1) * 100 : -1;
}

static int serve(const struct config *cfg, int ctl, int web_fd)
{
	struct err e = { 0 };
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: forwards to other hosts */
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	snprintf(J.data_dir, sizeof J.data_dir, "%s", cfg->data_dir);
	snprintf(J.listen, sizeof J.listen, "%s", cfg->listen);
	if (pool4_parse(cfg->pool4, &J.rules.pool4, &e) || pool6_parse(cfg->pool6, &J.rules.pool6, &e))
		die("config", &e);
	for (int i = 0; i < cfg->nallow_mounts; i++)
		snprintf(J.rules.allow_mounts[i], sizeof J.rules.allow_mounts[i], "%s", cfg->allow_mounts[i]);
	J.rules.nallow_mounts = cfg->nallow_mounts;
	snprintf(J.net.pool4_mode, sizeof J.net.pool4_mode, "%s", cfg->pool4_mode);
	snprintf(J.net.pool6_mode, sizeof J.net.pool6_mode, "%s", cfg->pool6_mode);
	snprintf(J.net.egress_default, sizeof J.net.egress_default, "%s", cfg->egress_default);
	snprintf(J.net.dns, sizeof J.net.dns, "%s", cfg->dns);
	snprintf(J.lxcfs, sizeof J.lxcfs, "%s", cfg->lxcfs);
	exec_gate_init(atoi(cfg->exec_per_tenant));
	int64_t mem = 0;
	size_parse(cfg->default_memoryuse, &mem);
	J.rules.defaults = (struct jail_limits){ .maxproc = atoll(cfg->default_maxproc) ?: -1, .memoryuse = mem ?: -1,
						 .pcpu = default_pcpu(cfg->default_pcpu), .openfiles = -1, .disk = -1 };

	char dbpath[512];
	snprintf(dbpath, sizeof dbpath, "%s/jaild.db", cfg->data_dir);
	if (!(J.st = store_open(strcmp(cfg->store, "sqlite") == 0 ? dbpath : cfg->store, &J.rules.pool4, &J.rules.pool6, &e)))
		die("store", &e);
	log_info("store: %s", strcmp(cfg->store, "sqlite") == 0 ? dbpath : "PostgreSQL");
	/* where the other hosts reach this API: as configured, else as it listens */
	char advertise[300];
	if (cfg->advertise[0])
		snprintf(advertise, sizeof advertise, "%s", cfg->advertise);
	else if (strncmp(cfg->listen, "0.0.0.0:", 8) == 0 || strncmp(cfg->listen, "[::]:", 5) == 0)
		snprintf(advertise, sizeof advertise, "%s://%s:%s", tls_cert_pem ? "https" : "http", cfg->host, strrchr(cfg->listen, ':') + 1);
	else
		snprintf(advertise, sizeof advertise, "%s://%s", tls_cert_pem ? "https" : "http", cfg->listen);
	struct cluster_settings cl = { cfg->host, advertise, cfg->pool4, cfg->pool6, atoll(cfg->uid_base), atoi(cfg->host_timeout) };
	if (cluster_join(&cl, &e))
		die("host", &e);
	store_set_addr4_filter(J.st, host_routes_addr4);
	/* the helper's own count (jaild-priv: the slots below UID_TOP from uid-base) */
	store_set_max_slots(J.st, (uint32_t)((UID_TOP + 1 - atoll(cfg->uid_base)) / UID_RANGE));
	if (store_tenant_ensure(J.st, "default", &J.default_tenant, &e) ||
	    token_bootstrap(J.st, cfg->data_dir, J.default_tenant, &e))
		die("bootstrap", &e);
	events_init(atoll(cfg->events_keep));
	if (operations_init(&e))
		die("operations", &e);
	template_build_config(cfg->debian_mirror, cfg->ubuntu_mirror, cfg->data_dir);
	if (300 % atoi(cfg->usage_interval) != 0)
		log_warn("usage-interval %s does not divide 300: 5-minute buckets get uneven samples", cfg->usage_interval);
	J.tls = tls_cert_pem != NULL;
	if (login_init() < 0) {
		log_error("libsodium could not hash a password (out of memory?)");
		return 1;
	}
	struct console_settings cs = { .grace = atoi(cfg->console_grace), .idle = atoi(cfg->console_idle),
				       .max_per_tenant = atoi(cfg->console_max), .keep = atoll(cfg->recording_keep),
				       .record_input = strcmp(cfg->record_input, "yes") == 0 };
	int64_t rmax = 0, rtotal = 0;
	size_parse(cfg->record_max, &rmax);
	size_parse(cfg->record_total_max, &rtotal);
	cs.record_max = rmax;
	cs.record_total_max = rtotal;
	web_init(web_fd);
	if (console_init(J.st, cfg->data_dir, &cs, &e))
		die("console", &e);
	if (priv_client_start(ctl, reconcile_on_connect, &e))
		die("helper", &e);
	/* listen once the store agrees with the host and the minimal template exists, so
	 * the first request can create a jail */
	if (ctl >= 0 && !reconcile_wait_first(60))
		log_warn("the privileged helper has not finished starting; listening anyway (jail operations answer 503 until it does)");
	struct http_limits lim = { .rate = atoi(cfg->rate_limit), .per_source = (unsigned)atoi(cfg->conns_per_source),
				   .host_timeout = atoi(cfg->host_timeout) };
	for (int i = 0; i < cfg->nmetrics_allow && i < OPEN_TO_MAX; i++)
		snprintf(lim.open_to[lim.nopen_to++], sizeof lim.open_to[0], "%s", cfg->metrics_allow[i]);
	struct http_server *h = http_start(cfg->listen, cfg->data_dir, api_routes, J.st, &lim, tls_cert_pem, tls_key_pem, &e);
	if (!h)
		die("http", &e);
	reconcile_start_monitor();
	struct usage_settings us = { atoll(cfg->usage_interval), atoll(cfg->usage_keep_raw), atoll(cfg->usage_keep_5m),
				     atoll(cfg->usage_keep_1h) };
	usage_start(&us);
	restore_start_scheduler();
	log_info("listening on %s://%s (data dir %s)%s", tls_cert_pem ? "https" : "http", cfg->listen, cfg->data_dir,
		 ctl < 0 ? "; not root, so no privileged helper: jail operations answer 503" : "");
	int sig;
	sigwait(&set, &sig);
	log_info("signal %d: shutting down (running jails keep running)", sig);
	http_stop(h);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "data-dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' }, { "user", required_argument, NULL, 'u' },
		{ "pool4", required_argument, NULL, '4' },  { "pool6", required_argument, NULL, '6' },
		{ "allow-mount", required_argument, NULL, 'm' }, { "busybox", required_argument, NULL, 'b' },
		{ "uid-base", required_argument, NULL, 'U' }, { "cgroup-favordynmods", required_argument, NULL, 'F' },
		{ "rate-limit", required_argument, NULL, 'R' }, { "events-keep", required_argument, NULL, 'E' },
		{ "tls-cert", required_argument, NULL, 'T' }, { "tls-key", required_argument, NULL, 'K' },
		{ "console-grace", required_argument, NULL, 'x' }, { "console-idle", required_argument, NULL, 'x' },
		{ "console-max-per-tenant", required_argument, NULL, 'x' }, { "recording-keep", required_argument, NULL, 'x' },
		{ "console-record-input", required_argument, NULL, 'x' }, { "web-root", required_argument, NULL, 'x' },
		{ "cgroup-parent", required_argument, NULL, 'x' }, { "jail-pty-max", required_argument, NULL, 'x' },
		{ "exec-max-per-tenant", required_argument, NULL, 'x' },
		{ "default-maxproc", required_argument, NULL, 'x' }, { "default-pcpu", required_argument, NULL, 'x' },
		{ "recording-max", required_argument, NULL, 'x' }, { "allow-mount-setuid", required_argument, NULL, 'x' }, { "recordings-max-total", required_argument, NULL, 'x' }, { "default-memoryuse", required_argument, NULL, 'x' },
		{ "max-conns-per-source", required_argument, NULL, 'x' }, { "gen-cert", required_argument, NULL, 'G' },
		{ "metrics-allow", required_argument, NULL, 'x' }, { "uplink", required_argument, NULL, 'x' },
		{ "pool4-mode", required_argument, NULL, 'x' }, { "pool6-mode", required_argument, NULL, 'x' },
		{ "egress-default", required_argument, NULL, 'x' }, { "dns", required_argument, NULL, 'x' },
		{ "debian-mirror", required_argument, NULL, 'x' }, { "ubuntu-mirror", required_argument, NULL, 'x' },
		{ "lxcfs", required_argument, NULL, 'x' }, { "usage-interval", required_argument, NULL, 'x' },
		{ "usage-keep-raw", required_argument, NULL, 'x' }, { "usage-keep-5m", required_argument, NULL, 'x' },
		{ "usage-keep-1h", required_argument, NULL, 'x' }, { "store", required_argument, NULL, 'x' },
		{ "host", required_argument, NULL, 'x' }, { "advertise", required_argument, NULL, 'x' },
		{ "host-timeout", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	struct config cfg;
	struct err e = { 0 };
	log_init("jaild");
	config_defaults(&cfg);
	/* --config first, so flags given beside it win */
	for (int i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "--config") == 0 && config_load(&cfg, argv[i + 1], &e))
			die("config", &e);
	int c, idx;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("jaild %s\n", JAILD_VERSION);
			return 0;
		}
		if (c == '?') {
			usage(stderr);
			return 64;
		}
		if (c == 'c')
			continue;
		if (c == 'G') {
			if (tls_gen_cert(optarg, &e) < 0)
				die("gen-cert", &e);
			printf("wrote %s/jaild.crt and %s/jaild.key; start jaild with --tls-cert %s/jaild.crt --tls-key %s/jaild.key\n",
			       optarg, optarg, optarg, optarg);
			return 0;
		}
		if (config_set(&cfg, opts[idx].name, optarg, &e))
			die("option", &e);
	}
	if (optind < argc) {
		usage(stderr);
		return 64;
	}
	/* read while still root: the key is usually readable by root alone */
	if (!cfg.tls_cert[0] != !cfg.tls_key[0]) {
		log_error("--tls-cert and --tls-key go together");
		return 64;
	}
	if (cfg.tls_cert[0] && (!(tls_cert_pem = tls_read_pem(cfg.tls_cert, &e)) || !(tls_key_pem = tls_read_pem(cfg.tls_key, &e))))
		die("tls", &e);
	if (geteuid() != 0)
		return serve(&cfg, -1, open(cfg.web_root, O_PATH | O_DIRECTORY | O_CLOEXEC));

	struct passwd *pw = getpwnam(cfg.user);
	if (!pw) {
		log_error("user %s does not exist: create it (useradd --system --no-create-home %s) or pass --user", cfg.user, cfg.user);
		return 1;
	}
	if (pw->pw_uid == 0) {
		log_error("--user %s is root; jaild must drop to an unprivileged user", cfg.user);
		return 1;
	}
	struct passwd pwcopy = *pw;
	char pwname[64];
	snprintf(pwname, sizeof pwname, "%s", pw->pw_name);
	pwcopy.pw_name = pwname;
	prepare_data_dir(cfg.data_dir, pw->pw_gid);
	int lock = lock_data_dir(cfg.data_dir);
	int ctl[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		log_error("socketpair: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	supervisor_detach_terminal();
	/* opened as root: the web console's files may sit where jaild's user cannot look
	 * (a clone in /root); the server reads them through this descriptor alone */
	int web_fd = open(cfg.web_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (web_fd < 0)
		log_warn("the web console's files at %s: %s; the web console is off", cfg.web_root, strerror(errno));
	pid_t server = fork();
	if (server < 0) {
		log_error("fork: %s", strerror(errno));
		return 1;
	}
	if (server == 0) {
		close(ctl[0]);
		close(lock); /* the supervisor's alone: it is released when the supervisor goes */
		drop_privileges(&pwcopy);
		/* set after the uid change, which clears it: we go when the supervisor does */
		os_die_with_parent(SIGTERM);
		if (getppid() == 1)
			return 1;
		return serve(&cfg, ctl[1], web_fd);
	}
	close(ctl[1]);
	if (web_fd >= 0)
		close(web_fd);
	if (tls_key_pem) /* the supervisor has no use for the key */
		sodium_memzero(tls_key_pem, strlen(tls_key_pem));
	log_init("jaild-supervisor");
	return supervisor_run(&cfg, server, ctl[0]);
}
