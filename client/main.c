/* jailctl — jaild from a terminal or a CI pipeline. Settings from flags, JAILD_URL and
 * JAILD_TOKEN, or a config file (url = ..., token = ...). Errors print the server's
 * message and exit with a code per kind of failure (see api.h and jailctl.1). */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "console.h"

static struct settings S;

static int usage(void)
{
	fprintf(stderr,
		"usage: jailctl [--url URL] [--token TOKEN] [-o json] VERB ...\n"
		"  list [--state STATE] [--tenant TENANT]\n"
		"  show NAME\n"
		"  create NAME [--template T] [--type thin|thick] [--hostname H] [--ip4 ADDR|auto]... [--ip6 ADDR|auto]...\n"
		"              [--limit KEY=VALUE]... [--mount SRC:DST[:ro|:rw]]... [--allow FLAG]... [--tenant T] [--start]\n"
		"              [--port HOST_PORT[:PORT][/udp]]...\n"
		"  start|stop|restart|destroy NAME\n"
		"  exec NAME [--timeout SECONDS] [-t] -- COMMAND [ARG]...   (-t: on a terminal, as top or vi want)\n"
		"  logs NAME [-f] [--tail N]      (what the jail's first process wrote; -f follows)\n"
		"  top [--interval SECONDS] [-n FRAMES]   (running jails by CPU and memory)\n"
		"  console NAME [--session ID]     (~. at the start of a line detaches)\n"
		"  apply -f SPEC.json [--start]\n"
		"  wait NAME --state STATE [--timeout SECONDS]\n"
		"  tenant list | tenant create NAME | tenant show NAME | tenant delete NAME [--force]\n"
		"  token list TENANT | token create TENANT NAME [--role tenant|admin] [--expires TIME] | token revoke TENANT ID\n"
		"  user list TENANT | user create TENANT NAME (password on stdin) | user delete TENANT NAME\n"
		"  snapshot list NAME | snapshot create|restore|delete NAME SNAP\n"
		"  export NAME [FILE] | import FILE|- [--name NEW] [--start]\n"
		"  template upload NAME FILE [--replace] | template delete NAME\n"
		"  template build NAME --distro debian|ubuntu --release R [--package P]... [--replace] [--no-wait]\n"
		"  operations | operation show|wait|cancel ID   (long work: template builds)\n"
		"  usage TENANT [--from TIME] [--to TIME] [--step SECONDS]   (-o csv for billing)\n"
		"  host | templates | audit [--limit N] [--tenant T] | consoles [--jail NAME] | events [--since ID]\n"
		"settings: --url/--token, else JAILD_URL/JAILD_TOKEN, else ~/.config/jailctl.conf (url = ..., token = ...)\n");
	return EXIT_USAGE;
}

static void load_config(void)
{
	snprintf(S.url, sizeof S.url, "http://127.0.0.1:8080");
	char path[512];
	const char *cfg = getenv("JAILCTL_CONFIG");
	if (cfg)
		snprintf(path, sizeof path, "%s", cfg);
	else
		snprintf(path, sizeof path, "%s/.config/jailctl.conf", getenv("HOME") ? getenv("HOME") : "/root");
	FILE *f = fopen(path, "re");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		char k[64], v[250];
		if (sscanf(line, " %63[a-z] = %249s", k, v) != 2)
			continue;
		if (strcmp(k, "url") == 0)
			snprintf(S.url, sizeof S.url, "%s", v);
		else if (strcmp(k, "token") == 0)
			snprintf(S.token, sizeof S.token, "%s", v);
	}
	if (f)
		fclose(f);
	if (getenv("JAILD_URL"))
		snprintf(S.url, sizeof S.url, "%s", getenv("JAILD_URL"));
	if (getenv("JAILD_TOKEN"))
		snprintf(S.token, sizeof S.token, "%s", getenv("JAILD_TOKEN"));
}

/* Progress for a person at a terminal: a request still going after a second shows a
 * spinner and the seconds so far on stderr, erased when the answer comes. Never with
 * -o json or when stderr is not a terminal (CI logs stay clean). */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	char what[160];
} P = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *spinner(void *arg)
{
	static const char *frames = "|/-\\";
	struct timespec t0, until;
	(void)arg;
	clock_gettime(CLOCK_REALTIME, &t0);
	until = t0;
	until.tv_sec += 1;
	bool shown = false;
	pthread_mutex_lock(&P.mu);
	for (int i = 0; !P.done; i++) {
		if (pthread_cond_timedwait(&P.cv, &P.mu, &until) == 0 && P.done)
			break;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		double s = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		fprintf(stderr, "\r%c %s (%.1f s)\033[K", frames[i % 4], P.what, s);
		shown = true;
		until = now;
		until.tv_nsec += 100000000;
		if (until.tv_nsec >= 1000000000)
			until.tv_sec++, until.tv_nsec -= 1000000000;
	}
	if (shown)
		fprintf(stderr, "\r\033[K");
	pthread_mutex_unlock(&P.mu);
	return NULL;
}

static int api_call_progress(const char *method, const char *path, json_t *body, json_t **out, char *err, size_t errlen,
			     const char *what)
{
	pthread_t t;
	bool spin = !S.json && strcmp(method, "GET") != 0 && isatty(STDERR_FILENO);
	if (spin) {
		P.done = false;
		snprintf(P.what, sizeof P.what, "%s %s", method, path);
		(void)what;
		spin = pthread_create(&t, NULL, spinner, NULL) == 0;
	}
	int st = api_call(&S, method, path, body, out, err, errlen);
	if (spin) {
		pthread_mutex_lock(&P.mu);
		P.done = true;
		pthread_cond_signal(&P.cv);
		pthread_mutex_unlock(&P.mu);
		pthread_join(t, NULL);
	}
	return st;
}

/* One call; on failure the message is printed and the exit code returned via *code. */
static json_t *call(const char *method, const char *path, json_t *body, int ok1, int ok2, int *code, const char *what)
{
	char err[512] = "";
	json_t *out = NULL;
	int st = api_call_progress(method, path, body, &out, err, sizeof err, what);
	if (st < 0) {
		fprintf(stderr, "jailctl: %s\n", err);
		*code = EXIT_SERVER;
		return NULL;
	}
	if (st != ok1 && st != ok2) {
		*code = api_fail(st, out, what);
		json_decref(out);
		return NULL;
	}
	*code = EXIT_OK;
	return out ? out : json_object();
}

static void print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(t ? t : "null");
	free(t);
}

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "-";
}

static int cmd_list(int argc, char **argv)
{
	char q[256] = "";
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			snprintf(q + strlen(q), sizeof q - strlen(q), "&state=%s", argv[++i]);
		else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			snprintf(q + strlen(q), sizeof q - strlen(q), "&tenant=%s", argv[++i]);
		else
			return usage();
	}
	json_t *all = json_array();
	char after[128] = "";
	int code;
	for (;;) {
		char path[512];
		snprintf(path, sizeof path, "/api/jails?limit=1000%s%s%s", q, after[0] ? "&after=" : "", after);
		json_t *page = call("GET", path, NULL, 200, 200, &code, "list");
		if (!page) {
			json_decref(all);
			return code;
		}
		json_array_extend(all, json_object_get(page, "items"));
		json_t *next = json_object_get(page, "next");
		bool more = json_is_string(next);
		if (more)
			snprintf(after, sizeof after, "%s", json_string_value(next));
		json_decref(page);
		if (!more)
			break;
	}
	if (S.json) {
		print_json(all);
	} else {
		printf("%-24s %-9s %5s %-16s %-24s %s\n", "NAME", "STATE", "JID", "IP", "HOSTNAME", "TEMPLATE");
		size_t i;
		json_t *j;
		json_array_foreach(all, i, j) {
			json_t *jid = json_object_get(j, "jid");
			char jids[16] = "-";
			if (json_is_integer(jid))
				snprintf(jids, sizeof jids, "%lld", (long long)json_integer_value(jid));
			const char *ip = json_string_value(json_array_get(json_object_get(j, "ip4"), 0));
			printf("%-24s %-9s %5s %-16s %-24s %s\n", str(j, "name"), str(j, "state"), jids, ip ? ip : "-",
			       str(j, "hostname"), str(j, "template"));
		}
	}
	json_decref(all);
	return EXIT_OK;
}

/* top [--interval S] [-n FRAMES]: running jails by CPU, then memory, refreshed like
 * docker stats / incus top; CPU% from the change in CPU seconds between two frames
 * (100% is one CPU). On a terminal the screen is redrawn; otherwise frames follow one
 * another, a blank line apart. */
static int cmd_top(int argc, char **argv)
{
	double interval = 2;
	long frames = -1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
			interval = atof(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			frames = atol(argv[++i]);
		else
			return usage();
	}
	if (interval < 0.2 || interval > 3600 || frames == 0)
		return usage();
	struct prev {
		char name[64];
		double cpu;
	} *prev = NULL;
	size_t nprev = 0;
	bool tty = isatty(STDOUT_FILENO);
	for (long f = 0; frames < 0 || f < frames; f++) {
		int code;
		json_t *page = call("GET", "/api/jails?limit=1000&state=running", NULL, 200, 200, &code, "top");
		if (!page) {
			free(prev);
			return code;
		}
		json_t *items = json_object_get(page, "items"), *j;
		size_t n = json_array_size(items), i;
		struct row {
			const char *name, *tenant;
			double cpu_pct, cpu;
			long long mem, procs;
		} *rows = calloc(n ? n : 1, sizeof *rows);
		json_array_foreach(items, i, j) {
			json_t *u = json_object_get(j, "usage");
			rows[i] = (struct row){ str(j, "name"), str(j, "tenant"), -1, json_real_value(json_object_get(u, "cpu_seconds")),
						json_integer_value(json_object_get(u, "memory")), json_integer_value(json_object_get(u, "procs")) };
			for (size_t k = 0; k < nprev; k++)
				if (strcmp(prev[k].name, rows[i].name) == 0 && rows[i].cpu >= prev[k].cpu)
					rows[i].cpu_pct = (rows[i].cpu - prev[k].cpu) / interval * 100;
		}
		/* by CPU, then memory */
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b > 0 && (rows[b].cpu_pct > rows[b - 1].cpu_pct ||
						     (rows[b].cpu_pct == rows[b - 1].cpu_pct && rows[b].mem > rows[b - 1].mem)); b--) {
				struct row t = rows[b];
				rows[b] = rows[b - 1];
				rows[b - 1] = t;
			}
		if (tty)
			printf("\033[H\033[2J");
		else if (f > 0)
			printf("\n");
		printf("%-24s %-16s %7s %10s %6s\n", "NAME", "TENANT", "CPU%", "MEMORY", "PROCS");
		for (i = 0; i < n; i++) {
			char cpu[16] = "-";
			if (rows[i].cpu_pct >= 0)
				snprintf(cpu, sizeof cpu, "%.1f", rows[i].cpu_pct);
			printf("%-24s %-16s %7s %9.1fM %6lld\n", rows[i].name, rows[i].tenant, cpu, (double)rows[i].mem / 1048576.0, rows[i].procs);
		}
		fflush(stdout);
		struct prev *np = malloc((n ? n : 1) * sizeof *np);
		for (i = 0; np && i < n; i++) {
			snprintf(np[i].name, sizeof np[i].name, "%s", rows[i].name);
			np[i].cpu = rows[i].cpu;
		}
		free(prev);
		prev = np;
		nprev = np ? n : 0;
		free(rows);
		json_decref(page);
		if (frames < 0 || f + 1 < frames) {
			struct timespec ts = { (time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	free(prev);
	return EXIT_OK;
}

static int show_jail(json_t *j)
{
	if (S.json) {
		print_json(j);
	} else {
		const char *keys[] = { "name", "state", "tenant", "hostname", "template", "type", "jid", "pid", "created_at", "started_at", "error", "exit" };
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
			json_t *v = json_object_get(j, keys[i]);
			if (!v || json_is_null(v))
				continue;
			char *t = json_dumps(v, JSON_ENCODE_ANY);
			printf("%-11s %s\n", keys[i], json_is_string(v) ? json_string_value(v) : t);
			free(t);
		}
		char *ip = json_dumps(json_object_get(j, "ip4"), JSON_COMPACT), *lim = json_dumps(json_object_get(j, "limits"), JSON_COMPACT);
		printf("%-11s %s\n%-11s %s\n", "ip4", ip, "limits", lim);
		free(ip);
		free(lim);
	}
	return EXIT_OK;
}

static int cmd_show(const char *name)
{
	char path[256];
	int code;
	snprintf(path, sizeof path, "/api/jails/%s", name);
	json_t *j = call("GET", path, NULL, 200, 200, &code, name);
	if (!j)
		return code;
	show_jail(j);
	json_decref(j);
	return EXIT_OK;
}

static int lifecycle(const char *verb, const char *name)
{
	char path[256];
	int code;
	if (strcmp(verb, "destroy") == 0) {
		snprintf(path, sizeof path, "/api/jails/%s", name);
		json_t *r = call("DELETE", path, NULL, 204, 204, &code, name);
		if (!r)
			return code;
		json_decref(r);
		if (!S.json)
			printf("%s destroyed\n", name);
		return EXIT_OK;
	}
	snprintf(path, sizeof path, "/api/jails/%s/%s", name, verb);
	if (isatty(STDERR_FILENO) && !S.json)
		fprintf(stderr, "%s: %s...\n", name, verb);
	json_t *j = call("POST", path, NULL, 200, 200, &code, name);
	if (!j)
		return code;
	if (S.json)
		print_json(j);
	else
		printf("%s %s\n", name, str(j, "state"));
	json_decref(j);
	return EXIT_OK;
}

/* --limit maxproc=64 / memoryuse=256M: numbers stay numbers */
static int add_limit(json_t *limits, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -1;
	char key[64];
	snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
	char *end;
	long long v = strtoll(eq + 1, &end, 10);
	json_object_set_new(limits, key, *end || end == eq + 1 ? json_string(eq + 1) : json_integer(v));
	return 0;
}

static int add_mount(json_t *mounts, const char *spec)
{
	char buf[600];
	snprintf(buf, sizeof buf, "%s", spec);
	char *src = buf, *dst = strchr(buf, ':');
	if (!dst)
		return -1;
	*dst++ = '\0';
	char *mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return -1;
	json_array_append_new(mounts, json_pack("{sssssb}", "source", src, "target", dst, "readonly", !mode || strcmp(mode, "ro") == 0));
	return 0;
}

/* --port 8080:80, --port 53/udp: a forward from the host's port to the jail's */
static int add_port(json_t *ports, const char *spec)
{
	unsigned host, port;
	char proto[8] = "tcp", extra;
	int n = sscanf(spec, "%u:%u/%7[a-z]%c", &host, &port, proto, &extra);
	if (n < 2) {
		n = sscanf(spec, "%u/%7[a-z]%c", &host, proto, &extra);
		port = host;
		n = n == 1 || n == 2 ? 2 + (n == 2) : 0;
	}
	if (n < 2 || n > 3)
		return -1;
	json_array_append_new(ports, json_pack("{sssisi}", "proto", proto, "host_port", (int)host, "port", (int)port));
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	if (argc < 1 || argv[0][0] == '-')
		return usage();
	json_t *b = json_pack("{ss}", "name", argv[0]);
	json_t *limits = json_object(), *mounts = json_array(), *allow = json_object(), *ip4 = json_array(), *ip6 = json_array(),
	       *ports = json_array();
	bool start = false;
	int rc = EXIT_OK;
	for (int i = 1; i < argc && rc == EXIT_OK; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--start") == 0)
			start = true;
		else if (!v)
			rc = usage();
		else if (strcmp(a, "--template") == 0 || strcmp(a, "--type") == 0 || strcmp(a, "--hostname") == 0 || strcmp(a, "--tenant") == 0)
			json_object_set_new(b, a + 2, json_string(v)), i++;
		else if (strcmp(a, "--ip4") == 0)
			json_array_append_new(ip4, json_string(v)), i++;
		else if (strcmp(a, "--ip6") == 0)
			json_array_append_new(ip6, json_string(v)), i++;
		else if (strcmp(a, "--limit") == 0)
			rc = add_limit(limits, v) < 0 ? usage() : EXIT_OK, i++;
		else if (strcmp(a, "--mount") == 0)
			rc = add_mount(mounts, v) < 0 ? usage() : EXIT_OK, i++;
		else if (strcmp(a, "--allow") == 0)
			json_object_set_new(allow, v, json_true()), i++;
		else if (strcmp(a, "--port") == 0)
			rc = add_port(ports, v) < 0 ? usage() : EXIT_OK, i++;
		else
			rc = usage();
	}
	if (json_array_size(ports))
		json_object_set(b, "ports", ports);
	json_decref(ports);
	if (json_object_size(limits))
		json_object_set(b, "limits", limits);
	if (json_array_size(mounts))
		json_object_set(b, "mounts", mounts);
	if (json_object_size(allow))
		json_object_set(b, "allow", allow);
	if (json_array_size(ip4))
		json_object_set(b, "ip4", ip4);
	if (json_array_size(ip6))
		json_object_set(b, "ip6", ip6);
	json_decref(limits), json_decref(mounts), json_decref(allow), json_decref(ip4), json_decref(ip6);
	if (rc == EXIT_OK) {
		json_t *j = call("POST", start ? "/api/jails?start=1" : "/api/jails", b, 201, 201, &rc, argv[0]);
		if (j) {
			if (S.json)
				print_json(j);
			else
				printf("%s created (%s)\n", str(j, "name"), str(j, "state"));
			if (strcmp(str(j, "state"), "error") == 0) {
				fprintf(stderr, "jailctl: %s did not start: %s\n", argv[0], str(j, "error"));
				rc = EXIT_FAIL;
			}
			json_decref(j);
		}
	}
	json_decref(b);
	return rc;
}

struct exec_out {
	int code;
	bool done;
	int timeout;
	const char *name;
};

/* One line of a streamed exec: output as it comes, then the exit code or an error. */
static void exec_line(void *arg, json_t *line)
{
	struct exec_out *x = arg;
	const char *stream = json_string_value(json_object_get(line, "stream"));
	json_t *data = json_object_get(line, "data"), *error = json_object_get(line, "error");
	if (stream && json_is_string(data)) {
		FILE *f = strcmp(stream, "stderr") == 0 ? stderr : stdout;
		fwrite(json_string_value(data), 1, json_string_length(data), f);
		fflush(f);
	} else if (json_is_integer(json_object_get(line, "exit_code"))) {
		x->done = true;
		x->code = (int)json_integer_value(json_object_get(line, "exit_code"));
		if (json_is_true(json_object_get(line, "timed_out")))
			fprintf(stderr, "jailctl: %s: the command timed out after %d s\n", x->name, x->timeout);
	} else if (error) {
		const char *code = json_string_value(json_object_get(error, "code"));
		x->done = true;
		fprintf(stderr, "jailctl: %s: %s\n", x->name, json_string_value(json_object_get(error, "message")) ?: "failed");
		x->code = code && (strcmp(code, "unavailable") == 0 || strcmp(code, "internal") == 0) ? EXIT_SERVER : EXIT_FAIL;
	}
}

static int cmd_exec(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *name = NULL;
	int timeout = 30, i = 0;
	bool tty = false;
	/* flags before or after the name (jailctl exec -t web1 -- top, as docker exec -t) */
	for (; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--tty") == 0)
			tty = true;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return usage();
	if (!name)
		return usage();
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
		return usage();
	json_t *cmd = json_array();
	/* a bare name (exec web1 -- sh) is looked up on the jail's PATH by jaild */
	for (i++; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	if (tty) {
		/* on a terminal in the jail (top, vi): the console's protocol, the command's
		 * exit code as jailctl's */
		char *text = json_dumps(cmd, JSON_COMPACT);
		json_decref(cmd);
		int rc = text ? console_run(&S, name, NULL, text) : EXIT_FAIL;
		free(text);
		return rc;
	}
	json_t *b = json_pack("{sosi}", "command", cmd, "timeout", timeout);
	/* piped input goes to the command (up to the server's 1 MiB) */
	if (!isatty(STDIN_FILENO)) {
		size_t cap = 1 << 20, len = 0;
		char *in = malloc(cap + 1);
		size_t n;
		while (in && len < cap && (n = fread(in + len, 1, cap - len, stdin)) > 0)
			len += n;
		if (in && len > 0)
			json_object_set_new(b, "stdin", json_stringn(in, len));
		free(in);
	}
	char path[256];
	int code;
	if (S.json) { /* the server's one JSON answer, with the whole output */
		snprintf(path, sizeof path, "/api/jails/%s/exec", name);
		json_t *r = call("POST", path, b, 200, 200, &code, name);
		json_decref(b);
		if (!r)
			return code;
		print_json(r);
		code = (int)json_integer_value(json_object_get(r, "exit_code"));
		json_decref(r);
		return code;
	}
	/* output as the command writes it; like jexec, the command's exit code is ours */
	snprintf(path, sizeof path, "/api/jails/%s/exec?stream=1", name);
	struct exec_out x = { .timeout = timeout, .name = name };
	char err[512] = "";
	json_t *refusal = NULL;
	int st = api_stream(&S, path, b, exec_line, &x, &refusal, err, sizeof err);
	json_decref(b);
	if (st != 200) {
		if (st < 0) {
			fprintf(stderr, "jailctl: %s\n", err);
			return EXIT_SERVER;
		}
		code = api_fail(st, refusal, name);
		json_decref(refusal);
		return code;
	}
	if (!x.done) {
		fprintf(stderr, "jailctl: %s: %s\n", name, err[0] ? err : "the stream ended before the command's exit code");
		return EXIT_SERVER;
	}
	return x.code;
}

/* Does the current jail already hold every value the spec file gives? Objects compare
 * key by key (a file may give some allow flags only); ["auto"] matches any one address. */
static bool subset(json_t *want, json_t *have, const char *key)
{
	if (key && (strcmp(key, "ip4") == 0 || strcmp(key, "ip6") == 0) && json_array_size(want) == 1 &&
	    strcmp(json_string_value(json_array_get(want, 0)) ? json_string_value(json_array_get(want, 0)) : "", "auto") == 0)
		return json_array_size(have) == 1;
	if (json_is_object(want) && json_is_object(have)) {
		const char *k;
		json_t *v;
		json_object_foreach(want, k, v) {
			if (!subset(v, json_object_get(have, k), NULL))
				return false;
		}
		return true;
	}
	return json_equal(want, have);
}

static int cmd_apply(int argc, char **argv)
{
	const char *file = NULL;
	bool start = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--start") == 0)
			start = true;
		else
			return usage();
	}
	if (!file)
		return usage();
	json_error_t je;
	json_t *spec = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(file, 0, &je);
	if (!json_is_object(spec) || !json_is_string(json_object_get(spec, "name"))) {
		fprintf(stderr, "jailctl: %s: %s\n", file, spec ? "the spec must be an object with a name" : je.text);
		json_decref(spec);
		return EXIT_USAGE;
	}
	char name[128];
	snprintf(name, sizeof name, "%s", json_string_value(json_object_get(spec, "name")));
	char path[256];
	int code;
	snprintf(path, sizeof path, "/api/jails/%s", name);
	char err[512];
	json_t *cur = NULL;
	int st = api_call(&S, "GET", path, NULL, &cur, err, sizeof err);
	if (st == 404) {
		json_decref(cur);
		json_t *j = call("POST", start ? "/api/jails?start=1" : "/api/jails", spec, 201, 201, &code, name);
		json_decref(spec);
		if (!j)
			return code;
		if (S.json)
			print_json(j);
		else
			printf("%s created (%s)\n", name, str(j, "state"));
		json_decref(j);
		return EXIT_OK;
	}
	if (st != 200) {
		code = st < 0 ? (fprintf(stderr, "jailctl: %s\n", err), EXIT_SERVER) : api_fail(st, cur, name);
		json_decref(cur), json_decref(spec);
		return code;
	}
	json_t *patch = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(spec, k, v) {
		if (strcmp(k, "name") == 0 || subset(v, json_object_get(cur, k), k))
			continue;
		/* PATCH merges objects key by key: what the spec file no longer names (a
		 * limit taken out) is sent as null, so the jail converges on the file */
		json_t *now = json_object_get(cur, k), *pv = json_deep_copy(v);
		const char *sk;
		json_t *sv;
		if (json_is_object(v) && json_is_object(now))
			json_object_foreach(now, sk, sv)
				if (!json_object_get(v, sk))
					json_object_set_new(pv, sk, json_null());
		json_object_set_new(patch, k, pv);
	}
	code = EXIT_OK;
	if (json_object_size(patch) == 0) {
		if (S.json)
			print_json(cur);
		else
			printf("%s unchanged\n", name);
	} else {
		json_t *j = call("PATCH", path, patch, 200, 200, &code, name);
		if (j) {
			if (S.json)
				print_json(j);
			else
				printf("%s changed (%zu fields)\n", name, json_object_size(patch));
			json_decref(j);
		}
	}
	if (code == EXIT_OK && start && strcmp(str(cur, "state"), "running") != 0)
		code = lifecycle("start", name);
	json_decref(patch), json_decref(cur), json_decref(spec);
	return code;
}

static int cmd_wait(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--state") != 0)
		return usage();
	const char *name = argv[0], *want = argv[2];
	double timeout = 30;
	if (argc >= 5 && strcmp(argv[3], "--timeout") == 0)
		timeout = atof(argv[4]);
	char path[256];
	snprintf(path, sizeof path, "/api/jails/%s", name);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int code;
		json_t *j = call("GET", path, NULL, 200, 200, &code, name);
		if (!j)
			return code;
		bool done = strcmp(str(j, "state"), want) == 0;
		json_decref(j);
		if (done)
			return EXIT_OK;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= timeout) {
			fprintf(stderr, "jailctl: %s did not reach %s within %g s\n", name, want, timeout);
			return EXIT_FAIL;
		}
		usleep(200000);
	}
}

static int simple(const char *method, const char *path, json_t *body, int ok, const char *what)
{
	int code;
	json_t *j = call(method, path, body, ok, ok, &code, what);
	json_decref(body);
	if (!j)
		return code;
	if (ok != 204)
		print_json(j);
	json_decref(j);
	return EXIT_OK;
}

static int cmd_tenant(int argc, char **argv)
{
	char path[256];
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return simple("GET", "/api/tenants?limit=1000", NULL, 200, "tenants");
	if (argc < 2)
		return usage();
	if (strcmp(argv[0], "create") == 0)
		return simple("POST", "/api/tenants", json_pack("{ss}", "name", argv[1]), 201, argv[1]);
	snprintf(path, sizeof path, "/api/tenants/%s%s", argv[1], argc > 2 && strcmp(argv[2], "--force") == 0 ? "?force=1" : "");
	if (strcmp(argv[0], "show") == 0)
		return simple("GET", path, NULL, 200, argv[1]);
	if (strcmp(argv[0], "delete") == 0)
		return simple("DELETE", path, NULL, 204, argv[1]);
	return usage();
}

static int cmd_token(int argc, char **argv)
{
	char path[256];
	if (argc < 2)
		return usage();
	snprintf(path, sizeof path, "/api/tenants/%s/tokens", argv[1]);
	if (strcmp(argv[0], "list") == 0)
		return simple("GET", path, NULL, 200, argv[1]);
	if (strcmp(argv[0], "create") == 0 && argc >= 3) {
		json_t *b = json_pack("{ss}", "name", argv[2]);
		for (int i = 3; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--role") == 0)
				json_object_set_new(b, "role", json_string(argv[i + 1]));
			else if (strcmp(argv[i], "--expires") == 0)
				json_object_set_new(b, "expires_at", json_string(argv[i + 1]));
			else
				return json_decref(b), usage();
		}
		return simple("POST", path, b, 201, argv[2]);
	}
	if (strcmp(argv[0], "revoke") == 0 && argc >= 3) {
		snprintf(path, sizeof path, "/api/tenants/%s/tokens/%s", argv[1], argv[2]);
		return simple("DELETE", path, NULL, 204, argv[2]);
	}
	return usage();
}

/* snapshot list NAME | snapshot create|restore|delete NAME SNAP */
static int cmd_snapshot(int argc, char **argv)
{
	char path[300];
	if (argc == 2 && strcmp(argv[0], "list") == 0) {
		snprintf(path, sizeof path, "/api/jails/%s/snapshots", argv[1]);
		return simple("GET", path, NULL, 200, argv[1]);
	}
	if (argc != 3)
		return usage();
	if (strcmp(argv[0], "create") == 0) {
		snprintf(path, sizeof path, "/api/jails/%s/snapshots", argv[1]);
		return simple("POST", path, json_pack("{ss}", "name", argv[2]), 201, argv[1]);
	}
	snprintf(path, sizeof path, "/api/jails/%s/snapshots/%s%s", argv[1], argv[2], strcmp(argv[0], "restore") == 0 ? "/restore" : "");
	if (strcmp(argv[0], "restore") == 0)
		return simple("POST", path, NULL, 200, argv[1]);
	if (strcmp(argv[0], "delete") == 0)
		return simple("DELETE", path, NULL, 204, argv[1]);
	return usage();
}

/* user list TENANT | user create TENANT NAME (password on stdin) | user delete TENANT NAME */
static int cmd_user(int argc, char **argv)
{
	char path[300];
	if (argc < 2)
		return usage();
	snprintf(path, sizeof path, "/api/tenants/%s/users", argv[1]);
	if (argc == 2 && strcmp(argv[0], "list") == 0)
		return simple("GET", path, NULL, 200, argv[1]);
	if (argc == 3 && strcmp(argv[0], "create") == 0) {
		char pw[512];
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "password for %s: ", argv[2]);
		if (!fgets(pw, sizeof pw, stdin)) {
			fprintf(stderr, "jailctl: no password on standard input\n");
			return EXIT_USAGE;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
		return simple("POST", path, json_pack("{ssss}", "name", argv[2], "password", pw), 201, argv[2]);
	}
	if (argc == 3 && strcmp(argv[0], "delete") == 0) {
		snprintf(path, sizeof path, "/api/tenants/%s/users/%s", argv[1], argv[2]);
		return simple("DELETE", path, NULL, 204, argv[2]);
	}
	return usage();
}

/* A GET whose answer is printed as it is: host, audit, consoles, templates. */
static int cmd_get(const char *path, int argc, char **argv, const char *const *flags)
{
	char full[512];
	snprintf(full, sizeof full, "%s", path);
	/* the words come in pairs: --flag value */
	for (int i = 0; i < argc; i += 2) {
		bool known = false;
		for (const char *const *f = flags; f && *f; f++)
			if (strcmp(argv[i], *f) == 0 && i + 1 < argc) {
				snprintf(full + strlen(full), sizeof full - strlen(full), "%s%s=%s", strchr(full, '?') ? "&" : "?", *f + 2,
					 argv[i + 1]);
				known = true;
			}
		if (!known)
			return usage();
	}
	return simple("GET", full, NULL, 200, path);
}

/* The exit code for a raw-stream call that did not succeed: jaild unreachable, or its
 * refusal (answer, freed here) printed. */
static int raw_fail(int st, json_t *answer, const char *err, const char *what)
{
	int code = st < 0 ? (fprintf(stderr, "jailctl: %s\n", err), EXIT_SERVER) : api_fail(st, answer, what);
	json_decref(answer);
	return code;
}

/* export NAME [FILE]: the jail as a tar stream (to stdout without FILE);
 * import FILE [--name NEW] [--start]: a jail from such a stream ("-": stdin) */
static int cmd_export(int argc, char **argv)
{
	if (argc < 1 || argc > 2)
		return usage();
	char path[300], err[512] = "";
	snprintf(path, sizeof path, "/api/jails/%s/export", argv[0]);
	FILE *out = argc == 2 ? fopen(argv[1], "we") : stdout;
	if (!out) {
		fprintf(stderr, "jailctl: %s: %s\n", argv[1], strerror(errno));
		return EXIT_FAIL;
	}
	json_t *refusal = NULL;
	int st = api_raw(&S, "GET", path, NULL, out, &refusal, err, sizeof err);
	if (out != stdout && fclose(out) != 0 && st == 200)
		st = -1, snprintf(err, sizeof err, "writing %s: %s", argv[1], strerror(errno));
	if (st == 200)
		return EXIT_OK;
	if (argc == 2)
		unlink(argv[1]); /* an error is not left behind as a tarball */
	return raw_fail(st, refusal, err, argv[0]);
}

static int cmd_import(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	char path[300] = "/api/jails/import", err[512] = "";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			snprintf(path + strlen(path), sizeof path - strlen(path), "%sname=%s", strchr(path, '?') ? "&" : "?", argv[++i]);
		else if (strcmp(argv[i], "--start") == 0)
			snprintf(path + strlen(path), sizeof path - strlen(path), "%sstart=1", strchr(path, '?') ? "&" : "?");
		else
			return usage();
	}
	FILE *in = strcmp(argv[0], "-") == 0 ? stdin : fopen(argv[0], "re");
	if (!in) {
		fprintf(stderr, "jailctl: %s: %s\n", argv[0], strerror(errno));
		return EXIT_FAIL;
	}
	json_t *answer = NULL;
	int st = api_raw(&S, "POST", path, in, NULL, &answer, err, sizeof err);
	if (in != stdin)
		fclose(in);
	if (st == 201) {
		if (S.json)
			print_json(answer);
		else
			printf("%s imported (%s)\n", str(answer, "name"), str(answer, "state"));
		json_decref(answer);
		return EXIT_OK;
	}
	return raw_fail(st, answer, err, argv[0]);
}

/* events [--since ID]: the event stream, one JSON event a line, until interrupted. The
 * server sends server-sent events; their data lines are what is printed. */
struct sse_lines {
	char buf[65536];
	size_t len;
};

static ssize_t sse_write(void *cookie, const char *p, size_t n)
{
	struct sse_lines *l = cookie;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (l->len < sizeof l->buf - 1)
				l->buf[l->len++] = p[i];
			continue;
		}
		l->buf[l->len] = '\0';
		if (strncmp(l->buf, "data: ", 6) == 0) {
			puts(l->buf + 6);
			fflush(stdout);
		}
		l->len = 0;
	}
	return (ssize_t)n;
}

static int cmd_events(int argc, char **argv)
{
	char path[128] = "/api/events", err[512] = "";
	if (argc == 2 && strcmp(argv[0], "--since") == 0)
		snprintf(path, sizeof path, "/api/events?since=%s", argv[1]);
	else if (argc != 0)
		return usage();
	static struct sse_lines lines;
	FILE *out = fopencookie(&lines, "w", (cookie_io_functions_t){ .write = sse_write });
	if (!out)
		return EXIT_FAIL;
	setvbuf(out, NULL, _IONBF, 0);
	json_t *refusal = NULL;
	int st = api_raw(&S, "GET", path, NULL, out, &refusal, err, sizeof err);
	fclose(out);
	if (st == 200)
		return EXIT_OK;
	return raw_fail(st, refusal, err, "events");
}

/* logs NAME [-f] [--tail N]: the jail's log as it is, or (-f) followed as it grows */
static int cmd_logs(int argc, char **argv)
{
	char path[320], err[512] = "";
	bool follow = false;
	const char *tail = NULL, *name = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0)
			follow = true;
		else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
			tail = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return usage();
	}
	if (!name)
		return usage();
	int n = snprintf(path, sizeof path, "/api/jails/%s/log?follow=%d", name, follow);
	if (tail)
		snprintf(path + n, sizeof path - (size_t)n, "&tail=%s", tail);
	setvbuf(stdout, NULL, _IONBF, 0);
	json_t *refusal = NULL;
	int st = api_raw(&S, "GET", path, NULL, stdout, &refusal, err, sizeof err);
	if (st == 200)
		return EXIT_OK;
	return raw_fail(st, refusal, err, name);
}

/* Follows an operation until it ends, printing its progress as it changes: the exit
 * code says how it ended (0 done, 1 failed or cancelled). */
static int follow_operation(const char *id)
{
	char path[128], last[300] = "";
	snprintf(path, sizeof path, "/api/operations/%s", id);
	for (;;) {
		int code;
		json_t *o = call("GET", path, NULL, 200, 200, &code, id);
		if (!o)
			return code;
		json_t *p = json_object_get(o, "progress");
		char now[300];
		snprintf(now, sizeof now, "%3d%% %s", (int)json_integer_value(json_object_get(p, "percent")), str(p, "message"));
		const char *state = str(o, "state");
		if (strcmp(now, last) != 0 && !S.json) {
			fprintf(stderr, "%s\n", now);
			snprintf(last, sizeof last, "%s", now);
		}
		if (strcmp(state, "running") != 0) {
			int rc = strcmp(state, "done") == 0 ? EXIT_OK : EXIT_FAIL;
			if (S.json)
				print_json(o);
			else if (rc == EXIT_OK)
				printf("%s: done\n", str(o, "target"));
			else
				fprintf(stderr, "jailctl: %s %s: %s\n", str(o, "target"), state, str(json_object_get(o, "error"), "message"));
			json_decref(o);
			return rc;
		}
		json_decref(o);
		struct timespec ts = { 0, 500 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* template build NAME --distro D --release R [--package P]... [--replace] [--no-wait] */
static int template_build(int argc, char **argv)
{
	json_t *b = json_pack("{ss}", "name", argv[0]), *pkgs = json_array();
	bool wait = true;
	int rc = EXIT_OK;
	for (int i = 1; i < argc && rc == EXIT_OK; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--replace") == 0)
			json_object_set_new(b, "replace", json_true());
		else if (strcmp(a, "--no-wait") == 0)
			wait = false;
		else if (v && (strcmp(a, "--distro") == 0 || strcmp(a, "--release") == 0))
			json_object_set_new(b, a + 2, json_string(v)), i++;
		else if (v && strcmp(a, "--package") == 0)
			json_array_append_new(pkgs, json_string(v)), i++;
		else
			rc = usage();
	}
	if (json_array_size(pkgs))
		json_object_set(b, "packages", pkgs);
	json_decref(pkgs);
	json_t *op = rc == EXIT_OK ? call("POST", "/api/templates", b, 202, 202, &rc, argv[0]) : NULL;
	json_decref(b);
	if (!op)
		return rc;
	char id[64];
	snprintf(id, sizeof id, "%s", str(op, "id"));
	if (!wait) {
		if (S.json)
			print_json(op);
		else
			printf("%s\n", id);
	}
	json_decref(op);
	/* Ctrl-C stops following, not the build: cancel it with jailctl operation cancel ID */
	return wait ? follow_operation(id) : EXIT_OK;
}

/* operations | operation show ID | operation wait ID | operation cancel ID */
static int cmd_operation(int argc, char **argv)
{
	char path[128];
	if (argc != 2)
		return usage();
	snprintf(path, sizeof path, "/api/operations/%s", argv[1]);
	if (strcmp(argv[0], "show") == 0)
		return simple("GET", path, NULL, 200, argv[1]);
	if (strcmp(argv[0], "cancel") == 0)
		return simple("DELETE", path, NULL, 202, argv[1]);
	if (strcmp(argv[0], "wait") == 0)
		return follow_operation(argv[1]);
	return usage();
}

/* usage TENANT [--from T] [--to T] [--step S]: what a tenant's jails used, per jail and
 * in total (-o csv: per period and jail, for billing) */
static int cmd_usage(int argc, char **argv)
{
	char path[512], err[512] = "";
	if (argc < 1 || argv[0][0] == '-')
		return usage();
	int n = snprintf(path, sizeof path, "/api/tenants/%s/usage?", argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		if (i + 1 >= argc || (strcmp(k, "--from") != 0 && strcmp(k, "--to") != 0 && strcmp(k, "--step") != 0))
			return usage();
		char *v = curl_easy_escape(NULL, argv[++i], 0);
		n += snprintf(path + n, sizeof path - (size_t)n, "%s=%s&", k + 2, v ? v : "");
		curl_free(v);
	}
	if (S.csv) {
		json_t *refusal = NULL;
		int st = api_raw(&S, "GET", path, NULL, stdout, &refusal, err, sizeof err);
		return st == 200 ? EXIT_OK : raw_fail(st, refusal, err, argv[0]);
	}
	int code;
	json_t *b = call("GET", path, NULL, 200, 200, &code, argv[0]);
	if (!b)
		return code;
	if (S.json) {
		print_json(b);
	} else {
		printf("%-24s %10s %12s %12s %12s %14s %14s\n", "JAIL", "HOURS", "CPU_S", "MEM_GIB_H", "DISK_GIB_H", "NET_RX", "NET_TX");
		size_t i;
		json_t *j;
		json_t *rows = json_object_get(b, "jails");
		for (i = 0; i <= json_array_size(rows); i++) {
			j = i < json_array_size(rows) ? json_array_get(rows, i) : json_object_get(b, "total");
			printf("%-24s %10.2f %12.1f %12.3f %12.3f %14lld %14lld\n", i < json_array_size(rows) ? str(j, "jail") : "(total)",
			       json_real_value(json_object_get(j, "jail_hours")), json_real_value(json_object_get(j, "cpu_seconds")),
			       json_real_value(json_object_get(j, "memory_gib_hours")), json_real_value(json_object_get(j, "disk_gib_hours")),
			       (long long)json_integer_value(json_object_get(j, "net_rx_bytes")),
			       (long long)json_integer_value(json_object_get(j, "net_tx_bytes")));
		}
	}
	json_decref(b);
	return EXIT_OK;
}

/* template upload NAME FILE [--replace]: the tarball with its SHA-256 (jaild checks it,
 * so a damaged upload publishes nothing) | template build NAME ... | template delete NAME */
static int cmd_template(int argc, char **argv)
{
	char path[512], err[512] = "";
	if (argc >= 2 && strcmp(argv[0], "build") == 0)
		return template_build(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[0], "delete") == 0) {
		snprintf(path, sizeof path, "/api/templates/%s", argv[1]);
		return simple("DELETE", path, NULL, 204, argv[1]);
	}
	if (argc < 3 || argc > 4 || strcmp(argv[0], "upload") != 0 || (argc == 4 && strcmp(argv[3], "--replace") != 0))
		return usage();
	FILE *in = fopen(argv[2], "re");
	if (!in) {
		fprintf(stderr, "jailctl: %s: %s\n", argv[2], strerror(errno));
		return EXIT_FAIL;
	}
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int mdlen = 0;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		EVP_DigestUpdate(sha, buf, n);
	EVP_DigestFinal_ex(sha, md, &mdlen);
	EVP_MD_CTX_free(sha);
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rewind(in);
	snprintf(path, sizeof path, "/api/templates?name=%s&sha256=%s%s", argv[1], hex, argc == 4 ? "&replace=1" : "");
	json_t *answer = NULL;
	int st = api_raw(&S, "POST", path, in, NULL, &answer, err, sizeof err);
	fclose(in);
	if (st != 201 && st != 200)
		return raw_fail(st, answer, err, argv[1]);
	if (S.json)
		print_json(answer);
	else
		printf("template %s published\n", argv[1]);
	json_decref(answer);
	return EXIT_OK;
}

static bool known_verb(const char *v)
{
	static const char *const verbs[] = { "list", "show", "create", "start", "stop", "restart", "destroy", "exec",
					     "console", "apply", "wait", "tenant", "token", "snapshot", "user", "host",
					     "audit", "consoles", "templates", "export", "import", "events", "template", "logs", "top",
					     "operations", "operation", "usage" };
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		if (strcmp(v, verbs[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	load_config();
	/* the settings flags may stand anywhere before a "--" (jailctl list -o json):
	 * taken out here, the verbs see only their own words */
	char **words = calloc((size_t)argc + 1, sizeof *words);
	int nw = 0;
	bool past = false;
	for (int i = 1; i < argc; i++) {
		if (!past && strcmp(argv[i], "--") == 0)
			past = true;
		if (past)
			words[nw++] = argv[i];
		else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
			snprintf(S.url, sizeof S.url, "%s", argv[++i]);
		else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			snprintf(S.token, sizeof S.token, "%s", argv[++i]);
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && strcmp(argv[i + 1], "json") == 0)
			S.json = 1, i++;
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && strcmp(argv[i + 1], "csv") == 0)
			S.csv = 1, i++;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("jailctl %s\n", JAILD_VERSION);
			free(words);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			free(words);
			usage();
			return EXIT_OK;
		} else
			words[nw++] = argv[i];
	}
	if (nw == 0 || words[0][0] == '-') {
		if (nw > 0)
			fprintf(stderr, "jailctl: unknown option '%s'\n", words[0]);
		free(words);
		return usage();
	}
	const char *verb = words[0];
	int n = nw - 1;
	char **rest = words + 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc;
	if (strcmp(verb, "list") == 0)
		rc = cmd_list(n, rest);
	else if (strcmp(verb, "show") == 0 && n == 1)
		rc = cmd_show(rest[0]);
	else if (strcmp(verb, "create") == 0)
		rc = cmd_create(n, rest);
	else if ((strcmp(verb, "start") == 0 || strcmp(verb, "stop") == 0 || strcmp(verb, "restart") == 0 || strcmp(verb, "destroy") == 0) && n == 1)
		rc = lifecycle(verb, rest[0]);
	else if (strcmp(verb, "exec") == 0)
		rc = cmd_exec(n, rest);
	else if (strcmp(verb, "console") == 0 && (n == 1 || (n == 3 && strcmp(rest[1], "--session") == 0)))
		rc = console_run(&S, rest[0], n == 3 ? rest[2] : NULL, NULL);
	else if (strcmp(verb, "apply") == 0)
		rc = cmd_apply(n, rest);
	else if (strcmp(verb, "wait") == 0)
		rc = cmd_wait(n, rest);
	else if (strcmp(verb, "tenant") == 0)
		rc = cmd_tenant(n, rest);
	else if (strcmp(verb, "token") == 0)
		rc = cmd_token(n, rest);
	else if (strcmp(verb, "snapshot") == 0)
		rc = cmd_snapshot(n, rest);
	else if (strcmp(verb, "user") == 0)
		rc = cmd_user(n, rest);
	else if (strcmp(verb, "host") == 0 && n == 0)
		rc = simple("GET", "/api/host", NULL, 200, "host");
	else if (strcmp(verb, "templates") == 0 && n == 0)
		rc = simple("GET", "/api/templates", NULL, 200, "templates");
	else if (strcmp(verb, "audit") == 0)
		rc = cmd_get("/api/audit", n, rest, (const char *const[]){ "--limit", "--tenant", "--action", "--status", NULL });
	else if (strcmp(verb, "consoles") == 0)
		rc = cmd_get("/api/consoles", n, rest, (const char *const[]){ "--jail", "--limit", NULL });
	else if (strcmp(verb, "export") == 0)
		rc = cmd_export(n, rest);
	else if (strcmp(verb, "import") == 0)
		rc = cmd_import(n, rest);
	else if (strcmp(verb, "events") == 0)
		rc = cmd_events(n, rest);
	else if (strcmp(verb, "usage") == 0)
		rc = cmd_usage(n, rest);
	else if (strcmp(verb, "operations") == 0 && n == 0)
		rc = simple("GET", "/api/operations", NULL, 200, "operations");
	else if (strcmp(verb, "operation") == 0)
		rc = cmd_operation(n, rest);
	else if (strcmp(verb, "template") == 0)
		rc = cmd_template(n, rest);
	else if (strcmp(verb, "logs") == 0)
		rc = cmd_logs(n, rest);
	else if (strcmp(verb, "top") == 0)
		rc = cmd_top(n, rest);
	else if (!known_verb(verb)) {
		fprintf(stderr, "jailctl: unknown verb '%s' (jailctl --help lists them)\n", verb);
		rc = EXIT_USAGE;
	} else {
		fprintf(stderr, "jailctl: %s: wrong arguments\n", verb);
		rc = usage();
	}
	curl_global_cleanup();
	free(words);
	return rc;
}
