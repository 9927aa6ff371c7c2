#include "core/jailconf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* ---- out ---- */

/* A jail.conf string: single quotes (no expansion) unless the value has one, then
 * double quotes with \ " and $ escaped. */
static void put_quoted(struct textbuf *b, const char *v)
{
	if (!strchr(v, '\'')) {
		tb_printf(b, "'%s'", v);
		return;
	}
	tb_printf(b, "\"");
	for (const char *p = v; *p; p++)
		tb_printf(b, "%s%c", strchr("\\\"$", *p) ? "\\" : "", *p);
	tb_printf(b, "\"");
}

/* argv as one command line for exec.start: words that need it single-quoted. */
static void put_command(struct textbuf *b, json_t *argv)
{
	struct textbuf line = { 0 };
	size_t i;
	json_t *a;
	json_array_foreach(argv, i, a) {
		const char *w = json_string_value(a);
		bool plain = *w != '\0';
		for (const char *p = w; *p && plain; p++)
			plain = isalnum((unsigned char)*p) || strchr("/._-+=:,@%", *p);
		if (plain) {
			tb_printf(&line, "%s%s", i ? " " : "", w);
			continue;
		}
		tb_printf(&line, "%s'", i ? " " : "");
		for (const char *p = w; *p; p++)
			tb_printf(&line, *p == '\'' ? "'\\''" : "%c", *p);
		tb_printf(&line, "'");
	}
	put_quoted(b, line.s ? line.s : "");
	free(line.s);
}

static void put_json_var(struct textbuf *b, const char *var, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	tb_printf(b, "\t$jaild_%s = ", var);
	put_quoted(b, text ? text : "null");
	tb_printf(b, ";\n");
	free(text);
}

char *jailconf_render(const char *name, json_t *spec)
{
	struct textbuf b = { 0 };
	size_t i;
	json_t *v;
	tb_printf(&b, "# %s, as jaild keeps it; jail(8) reads the $jaild_* lines as variables only\n%s {\n", name, name);
	tb_printf(&b, "\thost.hostname = ");
	put_quoted(&b, json_string_value(json_object_get(spec, "hostname")) ?: name);
	tb_printf(&b, ";\n");
	for (int fam = 4; fam <= 6; fam += 2) {
		json_t *addrs = json_object_get(spec, fam == 4 ? "ip4" : "ip6");
		if (!json_array_size(addrs))
			continue;
		tb_printf(&b, "\tip%d.addr = ", fam);
		json_array_foreach(addrs, i, v) tb_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
		tb_printf(&b, ";\n");
	}
	tb_printf(&b, "\texec.start = ");
	put_command(&b, json_object_get(spec, "command"));
	tb_printf(&b, ";\n");
	if (json_array_size(json_object_get(spec, "stop_command"))) {
		tb_printf(&b, "\texec.stop = ");
		put_command(&b, json_object_get(spec, "stop_command"));
		tb_printf(&b, ";\n");
	}
	tb_printf(&b, "\tstop.timeout = %lld;\n", (long long)json_integer_value(json_object_get(spec, "stop_timeout")));
	json_t *allow = json_object_get(spec, "allow");
	static const char *const flags[] = { "set_hostname", "raw_sockets", "sysvipc", "chflags" };
	for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
		tb_printf(&b, "\tallow.%s%s;\n", json_is_true(json_object_get(allow, flags[k])) ? "" : "no", flags[k]);
	json_array_foreach(json_object_get(spec, "mounts"), i, v) {
		char line[600];
		snprintf(line, sizeof line, "%s %s nullfs %s 0 0", json_string_value(json_object_get(v, "source")),
			 json_string_value(json_object_get(v, "target")), json_is_true(json_object_get(v, "readonly")) ? "ro" : "rw");
		tb_printf(&b, "\tmount += ");
		put_quoted(&b, line);
		tb_printf(&b, ";\n");
	}
	/* what only jaild has */
	static const char *const own[] = { "template", "type", "limits", "ports", "firewall", "boot", "priority", "restore" };
	for (size_t k = 0; k < sizeof own / sizeof *own; k++)
		if ((v = json_object_get(spec, own[k])))
			put_json_var(&b, own[k], v);
	if (json_is_true(json_object_get(allow, "nesting")))
		put_json_var(&b, "allow_nesting", json_true());
	tb_printf(&b, "}\n");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---- in ---- */

enum tok { T_END, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI, T_EQ, T_PLUSEQ, T_COMMA };

struct lexer {
	const char *p, *end;
	int line;
	char text[4096];
	bool expand; /* a bare word or a double-quoted string: $variables are expanded */
};

static int lex_err(struct lexer *l, struct err *e, const char *what)
{
	char f[32];
	snprintf(f, sizeof f, "line %d", l->line);
	return err_field(e, ERR_INVALID, f, "line %d: %s", l->line, what);
}

/* The next token into l->text; -1 on a lexical error. */
static int lex(struct lexer *l, enum tok *t, struct err *e)
{
	for (;;) {
		while (l->p < l->end && isspace((unsigned char)*l->p))
			l->line += *l->p++ == '\n';
		if (l->p < l->end && (*l->p == '#' || (*l->p == '/' && l->p + 1 < l->end && l->p[1] == '/'))) {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
			continue;
		}
		if (l->p + 1 < l->end && l->p[0] == '/' && l->p[1] == '*') {
			l->p += 2;
			while (l->p + 1 < l->end && !(l->p[0] == '*' && l->p[1] == '/'))
				l->line += *l->p++ == '\n';
			if (l->p + 1 >= l->end)
				return lex_err(l, e, "a comment that is never closed");
			l->p += 2;
			continue;
		}
		break;
	}
	if (l->p >= l->end)
		return *t = T_END, 0;
	char c = *l->p;
	static const char single[] = "{};,";
	if (strchr(single, c)) {
		l->p++;
		*t = c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : c == ';' ? T_SEMI : T_COMMA;
		return 0;
	}
	if (c == '=' || (c == '+' && l->p + 1 < l->end && l->p[1] == '=')) {
		l->p += c == '=' ? 1 : 2;
		*t = c == '=' ? T_EQ : T_PLUSEQ;
		return 0;
	}
	size_t n = 0;
	if (c == '"' || c == '\'') {
		l->p++;
		while (l->p < l->end && *l->p != c) {
			char ch = *l->p++;
			if (ch == '\n')
				l->line++;
			if (c == '"' && ch == '\\' && l->p < l->end)
				ch = *l->p++;
			if (n + 1 >= sizeof l->text)
				return lex_err(l, e, "a value longer than 4 KiB");
			l->text[n++] = ch;
		}
		if (l->p >= l->end)
			return lex_err(l, e, "a quoted value that is never closed");
		l->p++;
		l->text[n] = '\0';
		l->expand = c == '"';
		return *t = T_STRING, 0;
	}
	while (l->p < l->end && !isspace((unsigned char)*l->p) && !strchr("{};,=\"'", *l->p) &&
	       !(*l->p == '+' && l->p + 1 < l->end && l->p[1] == '=')) {
		if (n + 1 >= sizeof l->text)
			return lex_err(l, e, "a word longer than 4 KiB");
		l->text[n++] = *l->p++;
	}
	l->text[n] = '\0';
	l->expand = true;
	return *t = T_WORD, 0;
}

/* One parameter as written: key, its values (raw, expanded later per jail), where. */
struct param {
	char key[128];
	bool append;
	int line;
	json_t *values; /* [[text, expand], ...] */
};

struct block {
	char name[64];
	struct param *p;
	size_t n;
};

static int add_param(struct block *b, const struct param *p)
{
	struct param *np = realloc(b->p, (b->n + 1) * sizeof *np);
	if (!np)
		return -1;
	b->p = np;
	b->p[b->n++] = *p;
	return 0;
}

static void free_blocks(struct block *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].n; k++)
			json_decref(v[i].p[k].values);
		free(v[i].p);
	}
	free(v);
}

/* $name and ${name} in text, from vars (an object); an unknown variable is an error. */
static int expand(const char *in, bool on, json_t *vars, int line, char *out, size_t size, struct err *e)
{
	size_t n = 0;
	for (const char *p = in; *p;) {
		if (on && *p == '$') {
			char var[64];
			size_t k = 0;
			bool brace = p[1] == '{';
			const char *q = p + 1 + brace;
			/* $name, or ${host.hostname}: dots only inside braces */
			while ((isalnum((unsigned char)*q) || *q == '_' || (brace && *q == '.')) && k + 1 < sizeof var)
				var[k++] = *q++;
			var[k] = '\0';
			if (brace && *q++ != '}')
				k = 0;
			const char *val = k ? json_string_value(json_object_get(vars, var)) : NULL;
			if (!val) {
				char f[32];
				snprintf(f, sizeof f, "line %d", line);
				return err_field(e, ERR_INVALID, f, "line %d: $%s is not a variable this jail.conf defines", line, k ? var : "");
			}
			for (; *val && n + 1 < size; val++)
				out[n++] = *val;
			p = q;
			continue;
		}
		if (n + 1 < size)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	return 0;
}

static int parse_blocks(const char *text, size_t len, struct block **out, size_t *nout, struct err *e)
{
	struct lexer l = { .p = text, .end = text + len, .line = 1 };
	struct block *v = calloc(1, sizeof *v); /* v[0]: the global parameters */
	size_t n = 1, cur = 0;
	enum tok t;
	if (!v)
		return err_set(e, ERR_INTERNAL, "out of memory");
	for (;;) {
		if (lex(&l, &t, e) < 0)
			goto fail;
		if (t == T_END) {
			if (cur != 0) {
				lex_err(&l, e, "a block that is never closed with }");
				goto fail;
			}
			break;
		}
		if (t == T_RBRACE && cur != 0) {
			cur = 0;
			continue;
		}
		if (t != T_WORD && t != T_STRING) {
			lex_err(&l, e, "a parameter name or a jail's name was expected here");
			goto fail;
		}
		struct param p = { .line = l.line };
		if (strlen(l.text) >= sizeof p.key) {
			lex_err(&l, e, "a name longer than 127 bytes");
			goto fail;
		}
		memcpy(p.key, l.text, strlen(l.text) + 1);
		if (lex(&l, &t, e) < 0)
			goto fail;
		if (t == T_LBRACE) {
			if (cur != 0) {
				lex_err(&l, e, "a block inside a block");
				goto fail;
			}
			struct block *nv = realloc(v, (n + 1) * sizeof *nv);
			if (!nv) {
				err_set(e, ERR_INTERNAL, "out of memory");
				goto fail;
			}
			v = nv;
			memset(&v[n], 0, sizeof v[n]);
			if (strlen(p.key) >= sizeof v[n].name) {
				lex_err(&l, e, "a jail's name longer than 63 bytes");
				goto fail;
			}
			memcpy(v[n].name, p.key, strlen(p.key) + 1);
			cur = n++;
			continue;
		}
		p.values = json_array();
		if (t == T_EQ || t == T_PLUSEQ) {
			p.append = t == T_PLUSEQ;
			do {
				if (lex(&l, &t, e) < 0)
					goto fail_p;
				if (t != T_WORD && t != T_STRING) {
					lex_err(&l, e, "a value was expected after = or ,");
					goto fail_p;
				}
				json_array_append_new(p.values, json_pack("[sb]", l.text, l.expand));
				if (lex(&l, &t, e) < 0)
					goto fail_p;
			} while (t == T_COMMA);
		}
		if (t != T_SEMI) {
			lex_err(&l, e, "a parameter must end with ;");
			goto fail_p;
		}
		if (add_param(&v[cur], &p) < 0) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto fail_p;
		}
		continue;
	fail_p:
		json_decref(p.values);
		goto fail;
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	free_blocks(v, n);
	return -1;
}

/* ---- what the parameters mean to jaild ---- */

/* Set up by jail(8) on the old host, done by jaild itself here. */
static const char *const host_side[] = {
	"path", "interface", "vnet", "vnet.interface", "mount.devfs", "mount.fdescfs", "mount.procfs", "devfs_ruleset",
	"exec.clean", "exec.consolelog", "exec.jail_user", "exec.system_jail_user", "exec.system_user", "exec.timeout",
	"persist", "nopersist", "securelevel", "enforce_statfs", "children.max", "osrelease", "osreldate", "host.hostuuid",
	"host.domainname", "host.hostid", "ip_hostname", "exec.prestart", "exec.poststart", "exec.prestop", "exec.poststop",
	"exec.created", "exec.release", "exec.prepare", "mount.nodevfs",
};

static const char *const allow_flags[] = { "set_hostname", "raw_sockets", "sysvipc", "chflags" };

struct jail_in {
	json_t *body;
	char path[512];
	json_t *mounts;
};

/* Shell words of a command line; an unquoted shell character makes it sh -c LINE, as
 * jail(8) runs exec.start. */
static json_t *command_of(const char *line)
{
	json_t *argv = json_array();
	char w[4096];
	size_t n = 0;
	bool in_word = false, shell = false;
	for (const char *p = line;; p++) {
		if (*p == '\0' || (isspace((unsigned char)*p))) {
			if (in_word)
				w[n] = '\0', json_array_append_new(argv, json_string(w));
			in_word = false, n = 0;
			if (!*p)
				break;
			continue;
		}
		in_word = true;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (n + 1 < sizeof w)
					w[n++] = *p;
			if (!*p)
				break;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (*p == '$' || *p == '`')
					shell = true;
				if (n + 1 < sizeof w)
					w[n++] = *p;
			}
			if (!*p)
				break;
		} else {
			if (strchr("|&;<>()$`*?[]~!#", *p))
				shell = true;
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 < sizeof w)
				w[n++] = *p;
		}
	}
	if (shell) {
		json_decref(argv);
		return json_pack("[sss]", "/bin/sh", "-c", line);
	}
	return argv;
}

static int line_err(int line, struct err *e, const char *fmt, const char *a)
{
	char f[32], msg[400];
	snprintf(f, sizeof f, "line %d", line);
	snprintf(msg, sizeof msg, fmt, a);
	return err_field(e, ERR_INVALID, f, "line %d: %s", line, msg);
}

static bool truth(const char *v)
{
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "new") == 0 ||
	       strcasecmp(v, "inherit") == 0;
}

/* One parameter onto the jail (values expanded already). */
static int apply(struct jail_in *j, const char *key, bool append, json_t *vals, int line, struct err *e)
{
	json_t *b = j->body;
	const char *v0 = json_array_size(vals) ? json_string_value(json_array_get(vals, 0)) : NULL;
	for (size_t i = 0; i < sizeof host_side / sizeof *host_side; i++)
		if (strcmp(key, host_side[i]) == 0) {
			if (strcmp(key, "path") == 0 && v0)
				snprintf(j->path, sizeof j->path, "%s", v0);
			return 0;
		}
	if (key[0] == '$') {
		/* a variable: $jaild_* are jaild's own settings, the rest only variables */
		if (strncmp(key, "$jaild_", 7) != 0 || !v0)
			return 0;
		const char *field = key + 7;
		static const char *const own[] = { "template", "type", "limits", "ports", "firewall", "boot", "priority", "restore" };
		if (strcmp(field, "allow_nesting") == 0) {
			json_t *allow = json_object_get(b, "allow");
			if (!allow)
				json_object_set_new(b, "allow", allow = json_object());
			json_object_set_new(allow, "nesting", json_boolean(strcmp(v0, "true") == 0));
			return 0;
		}
		for (size_t i = 0; i < sizeof own / sizeof *own; i++)
			if (strcmp(field, own[i]) == 0) {
				json_t *x = json_loads(v0, JSON_DECODE_ANY, NULL);
				if (!x)
					return line_err(line, e, "%s must hold JSON, as jaild writes it", key);
				json_object_set_new(b, own[i], x);
				return 0;
			}
		return line_err(line, e, "%s is not one of jaild's settings", key);
	}
	if (strcmp(key, "host.hostname") == 0 && v0)
		return json_object_set_new(b, "hostname", json_string(v0)), 0;
	if ((strcmp(key, "ip4.addr") == 0 || strcmp(key, "ip6.addr") == 0) && v0) {
		const char *f = key[2] == '4' ? "ip4" : "ip6";
		json_t *list = append && json_object_get(b, f) ? json_incref(json_object_get(b, f)) : json_array();
		size_t i;
		json_t *x;
		json_array_foreach(vals, i, x) {
			/* "em0|192.0.2.10/24": the address alone (jaild gives the interface) */
			char a[128];
			const char *s = json_string_value(x), *bar = strchr(s, '|');
			snprintf(a, sizeof a, "%s", bar ? bar + 1 : s);
			a[strcspn(a, "/ ")] = '\0';
			json_array_append_new(list, json_string(a));
		}
		json_object_set_new(b, f, list);
		return 0;
	}
	if ((strcmp(key, "ip4") == 0 || strcmp(key, "ip6") == 0) && v0) {
		if (strcmp(v0, "disable") == 0)
			json_object_set_new(b, key, json_array());
		return 0;
	}
	if ((strcmp(key, "exec.start") == 0 || strcmp(key, "exec.stop") == 0) && v0)
		return json_object_set_new(b, strcmp(key, "exec.start") == 0 ? "command" : "stop_command", command_of(v0)), 0;
	if (strcmp(key, "stop.timeout") == 0 && v0) {
		char *end;
		long t = strtol(v0, &end, 10);
		if (*end || t < 0)
			return line_err(line, e, "stop.timeout must be seconds, not %s", v0);
		return json_object_set_new(b, "stop_timeout", json_integer(t)), 0;
	}
	if (strncmp(key, "allow.", 6) == 0 || strcmp(key, "sysvmsg") == 0 || strcmp(key, "sysvsem") == 0 || strcmp(key, "sysvshm") == 0) {
		const char *flag = strncmp(key, "allow.", 6) == 0 ? key + 6 : "sysvipc";
		bool on = v0 ? truth(v0) : true;
		if (strncmp(flag, "no", 2) == 0 && strcmp(flag, "nesting") != 0)
			flag += 2, on = !on;
		for (size_t i = 0; i < sizeof allow_flags / sizeof *allow_flags; i++)
			if (strcmp(flag, allow_flags[i]) == 0) {
				json_t *allow = json_object_get(b, "allow");
				if (!allow)
					json_object_set_new(b, "allow", allow = json_object());
				json_object_set_new(allow, flag, json_boolean(on));
				return 0;
			}
		return on ? line_err(line, e, "%s is not something jaild grants a jail; remove the line", key) : 0;
	}
	if (strcmp(key, "mount") == 0) {
		size_t i;
		json_t *x;
		json_array_foreach(vals, i, x) {
			char src[512], dst[512], type[32], opts[128];
			if (sscanf(json_string_value(x), "%511s %511s %31s %127s", src, dst, type, opts) != 4)
				return line_err(line, e, "a mount line is \"SOURCE TARGET nullfs ro|rw 0 0\", not %s", json_string_value(x));
			if (strcmp(type, "nullfs") != 0)
				return line_err(line, e, "only nullfs mounts are jaild's (mounts); %s is not", type);
			json_array_append_new(j->mounts, json_pack("{sssssb}", "source", src, "target", dst, "readonly",
								   strstr(opts, "rw") == NULL));
		}
		return 0;
	}
	if (strcmp(key, "mount.fstab") == 0)
		return line_err(line, e, "%s names a file on the old host; give its lines as mount += \"...\" instead", key);
	return line_err(line, e, "%s is not a jail.conf parameter jaild knows", key);
}

static int jail_from(const struct block *v, size_t n, size_t which, json_t **out, struct err *e)
{
	struct jail_in j = { .body = json_pack("{ss}", "name", v[which].name), .mounts = json_array() };
	json_t *vars = json_pack("{ss}", "name", v[which].name);
	int rc = 0;
	/* the globals, then a * block's, then the jail's own: later ones win */
	for (size_t pass = 0; pass < 3 && rc == 0; pass++)
		for (size_t bi = 0; bi < n && rc == 0; bi++) {
			bool take = pass == 0 ? bi == 0 : pass == 1 ? bi != 0 && strcmp(v[bi].name, "*") == 0 : bi == which;
			for (size_t k = 0; take && k < v[bi].n && rc == 0; k++) {
				const struct param *p = &v[bi].p[k];
				json_t *vals = json_array();
				size_t i;
				json_t *x;
				json_array_foreach(p->values, i, x) {
					char buf[4096];
					if ((rc = expand(json_string_value(json_array_get(x, 0)), json_is_true(json_array_get(x, 1)), vars, p->line, buf,
							  sizeof buf, e)) < 0)
						break;
					json_array_append_new(vals, json_string(buf));
				}
				if (rc == 0 && p->key[0] == '$' && json_array_size(vals))
					json_object_set(vars, p->key + 1, json_array_get(vals, 0));
				if (rc == 0)
					rc = apply(&j, p->key, p->append, vals, p->line, e);
				json_decref(vals);
			}
		}
	/* mounts' targets are host paths under the jail's path on the old host */
	size_t i;
	json_t *m;
	json_array_foreach(j.mounts, i, m) {
		const char *t = json_string_value(json_object_get(m, "target"));
		size_t pl = strlen(j.path);
		if (pl && strncmp(t, j.path, pl) == 0 && t[pl] == '/')
			json_object_set_new(m, "target", json_string(t + pl));
	}
	if (json_array_size(j.mounts))
		json_object_set(j.body, "mounts", j.mounts);
	json_decref(j.mounts);
	json_decref(vars);
	if (rc < 0) {
		json_decref(j.body);
		return -1;
	}
	*out = j.body;
	return 0;
}

json_t *jailconf_parse(const char *text, size_t len, struct err *e)
{
	struct block *v;
	size_t n;
	if (parse_blocks(text, len, &v, &n, e) < 0)
		return NULL;
	json_t *jails = json_array();
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i].name, "*") == 0)
			continue;
		json_t *body;
		if (jail_from(v, n, i, &body, e) < 0) {
			json_decref(jails);
			jails = NULL;
			break;
		}
		json_array_append_new(jails, body);
	}
	if (jails && json_array_size(jails) == 0) {
		json_decref(jails);
		jails = NULL;
		err_set(e, ERR_INVALID, "the jail.conf defines no jail (a block NAME { ... })");
	}
	free_blocks(v, n);
	return jails;
}
