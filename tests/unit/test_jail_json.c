/* Request bodies to canonical specs and to the helper's wire form. */
#include <string.h>

#include "check.h"
#include "core/jail_spec.h"

static struct host_rules rules;

static json_t *parse(const char *text, struct err *e)
{
	json_t *body = json_loads(text, 0, NULL);
	json_t *c = jail_spec_from_request(body, &rules, e);
	json_decref(body);
	return c;
}

static int fails(const char *text, const char *field, enum err_code code)
{
	struct err e = { 0 };
	json_t *c = parse(text, &e);
	if (c) {
		json_decref(c);
		return 0;
	}
	if (strcmp(e.field, field) != 0 || e.code != code)
		fprintf(stderr, "  %s -> field '%s' code %d: %s\n", text, e.field, e.code, e.msg);
	return strcmp(e.field, field) == 0 && e.code == code;
}

int main(void)
{
	struct err e;
	pool4_parse("10.77.0.0/16", &rules.pool4, &e);
	pool6_parse("fd77::/64", &rules.pool6, &e);
	strcpy(rules.allow_mounts[0], "/srv");
	rules.nallow_mounts = 1;
	/* the host's defaults fill what a spec leaves out */
	rules.defaults = (struct jail_limits){ .maxproc = 1024, .memoryuse = 1 << 30, .pcpu = -1, .openfiles = -1, .disk = -1 };

	json_t *c = parse("{\"name\":\"web1\"}", &e);
	CHECK(c != NULL);
	CHECK(strcmp(json_string_value(json_object_get(c, "hostname")), "web1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(c, "template")), "minimal") == 0);
	CHECK(strcmp(json_string_value(json_object_get(c, "type")), "thin") == 0);
	CHECK(json_integer_value(json_object_get(c, "stop_timeout")) == 10);
	CHECK(json_array_size(json_object_get(c, "command")) == 2);
	CHECK(json_is_false(json_object_get(json_object_get(c, "allow"), "raw_sockets")));
	struct jail_spec w;
	CHECK(jail_spec_to_wire(c, "web1", &rules, &w, &e) == 0 && w.command.argc == 2 && w.nip4 == 0 && w.limits.maxproc == 1024 &&
	      w.limits.memoryuse == 1 << 30 && w.limits.pcpu == -1);
	json_decref(c);

	c = parse("{\"name\":\"db\",\"ip4\":[\"10.77.0.9\"],\"limits\":{\"memoryuse\":\"256M\",\"maxproc\":64},"
		  "\"mounts\":[{\"source\":\"/srv/data\",\"target\":\"/data\"}]}", &e);
	CHECK(c != NULL);
	CHECK(c && jail_spec_to_wire(c, "db", &rules, &w, &e) == 0);
	CHECK(w.nip4 == 1 && w.limits.memoryuse == 256 << 20 && w.limits.maxproc == 64);
	CHECK(w.nmounts == 1 && w.mounts[0].readonly == 1 && strcmp(w.mounts[0].target, "/data") == 0);
	json_decref(c);

	CHECK(fails("{\"name\":\"Bad\"}", "name", ERR_INVALID));
	CHECK(fails("{}", "name", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"bogus\":1}", "bogus", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"state\":\"running\"}", "state", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"hostname\":\"-x\"}", "hostname", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"type\":\"thicc\"}", "type", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"ip4\":[\"10.77.0.2\",\"300.1.1.1\"]}", "ip4[1]", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"ip4\":[\"192.168.1.1\"]}", "ip4[0]", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"ip4\":[\"auto\",\"10.77.0.3\"]}", "ip4[0]", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"ip4\":\"auto\"}", "ip4", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"ip6\":[\"fd00::1\"]}", "ip6[0]", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"command\":[\"sh\"]}", "command", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"command\":[]}", "command", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"stop_timeout\":-1}", "stop_timeout", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"limits\":{\"memoryuse\":\"lots\"}}", "limits.memoryuse", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"limits\":{\"maxproc\":0}}", "limits.maxproc", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"limits\":{\"cpu\":5}}", "limits.cpu", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"limits\":{\"disk\":\"1K\"}}", "limits.disk", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"allow\":{\"chflags\":true}}", "allow.chflags", ERR_UNSUPPORTED));
	CHECK(fails("{\"name\":\"a\",\"allow\":{\"everything\":true}}", "allow.everything", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"mounts\":[{\"source\":\"/etc\",\"target\":\"/x\"}]}", "mounts[0].source", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"mounts\":[{\"source\":\"/srv/../etc\",\"target\":\"/x\"}]}", "mounts[0].source", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"mounts\":[{\"source\":\"/srv/x\",\"target\":\"/proc/x\"}]}", "mounts[0].target", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"mounts\":[{\"source\":\"/srv/x\"}]}", "mounts[0].target", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1h\"}}", "restore.snapshot", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"soon\",\"snapshot\":\"clean\"}}", "restore.every", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1s\",\"snapshot\":\"clean\"}}", "restore.every", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1m\",\"warn\":\"1m\",\"snapshot\":\"clean\"}}", "restore.warn", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1h\",\"snapshot\":\"../x\"}}", "restore.snapshot", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1h\",\"snapshot\":\"c\",\"message\":\"a\\u001bb\"}}", "restore.message", ERR_INVALID));
	CHECK(fails("{\"name\":\"a\",\"restore\":{\"every\":\"1h\",\"snapshot\":\"c\",\"when\":1}}", "restore.when", ERR_INVALID));
	c = parse("{\"name\":\"a\",\"restore\":{\"every\":\"3s\",\"warn\":\"1s\",\"snapshot\":\"clean\",\"message\":\"back soon\\nbye\"}}", &e);
	CHECK(c != NULL);
	json_decref(c);

	/* PATCH: fixed fields refused, limits change, addresses flagged */
	c = parse("{\"name\":\"web1\",\"ip4\":[\"10.77.0.2\"]}", &e);
	bool addr = false;
	json_t *p = json_loads("{\"template\":\"other\"}", 0, NULL);
	CHECK(jail_spec_patch(c, p, &rules, &addr, &e) == NULL && strcmp(e.field, "template") == 0);
	json_decref(p);
	p = json_loads("{\"limits\":{\"maxproc\":10}}", 0, NULL);
	json_t *n = jail_spec_patch(c, p, &rules, &addr, &e);
	CHECK(n && !addr && json_integer_value(json_object_get(json_object_get(n, "limits"), "maxproc")) == 10);
	json_decref(n);
	json_decref(p);
	p = json_loads("{\"ip4\":[\"10.77.0.3\"]}", 0, NULL);
	n = jail_spec_patch(c, p, &rules, &addr, &e);
	CHECK(n && addr);
	json_decref(n);
	json_decref(p);
	json_decref(c);

	/* PATCH is a merge patch (RFC 7396): one limit changes, the others stay; null
	 * takes one back to its default */
	c = parse("{\"name\":\"web1\",\"limits\":{\"maxproc\":64,\"memoryuse\":\"256M\"}}", &e);
	p = json_loads("{\"limits\":{\"maxproc\":32}}", 0, NULL);
	n = jail_spec_patch(c, p, &rules, &addr, &e);
	json_t *l = json_object_get(n, "limits");
	CHECK(n && json_integer_value(json_object_get(l, "maxproc")) == 32 &&
	      strcmp(json_string_value(json_object_get(l, "memoryuse")) ?: "", "256M") == 0);
	json_decref(p);
	p = json_loads("{\"limits\":{\"memoryuse\":null},\"hostname\":null}", 0, NULL);
	json_t *n2 = jail_spec_patch(n, p, &rules, &addr, &e);
	l = json_object_get(n2, "limits");
	CHECK(n2 && json_object_get(l, "memoryuse") == NULL && json_integer_value(json_object_get(l, "maxproc")) == 32);
	CHECK(n2 && strcmp(json_string_value(json_object_get(n2, "hostname")), "web1") == 0); /* back to its default */
	json_decref(n2);
	json_decref(n);
	json_decref(p);
	json_decref(c);
	return check_done();
}
