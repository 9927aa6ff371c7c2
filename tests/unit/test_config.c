/* jaild's settings: defaults, each checked value, and the key = value file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

int main(void)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	CHECK(strcmp(c.listen, "127.0.0.1:8080") == 0 && strcmp(c.data_dir, "/var/lib/jaild") == 0);
	CHECK(strcmp(c.rate_limit, "100") == 0 && strcmp(c.events_keep, "86400") == 0);
	CHECK(config_set(&c, "rate-limit", "0", &e) == 0 && strcmp(c.rate_limit, "0") == 0);
	CHECK(config_set(&c, "rate-limit", "-1", &e) < 0);
	CHECK(config_set(&c, "rate-limit", "10x", &e) < 0);
	CHECK(config_set(&c, "rate-limit", "", &e) < 0);
	CHECK(config_set(&c, "events-keep", "59", &e) < 0);
	CHECK(config_set(&c, "events-keep", "3600", &e) == 0);
	CHECK(config_set(&c, "uid-base", "1000", &e) < 0);
	CHECK(config_set(&c, "uid-base", "99999999999", &e) < 0);
	CHECK(config_set(&c, "uid-base", "1000000", &e) == 0);
	/* jails' uids stay below 2^31 (Debian 12's kernel refuses devpts gid= above it) */
	CHECK(config_set(&c, "uid-base", "2147483648", &e) < 0 && strstr(e.msg, "2^31"));
	CHECK(config_set(&c, "uid-base", "2147418112", &e) == 0);
	CHECK(config_set(&c, "uid-base", "2147418113", &e) < 0);
	config_defaults(&c);
	CHECK(strtoll(c.uid_base, NULL, 10) + 65536LL * 32000 <= 2147483648LL);
	CHECK(config_set(&c, "pool4", "10.99.0.0/16", &e) == 0);
	CHECK(config_set(&c, "pool4", "10.99.0.0", &e) < 0);
	CHECK(config_set(&c, "allow-mount", "/srv/../etc", &e) < 0);
	CHECK(config_set(&c, "allow-mount", "/", &e) < 0);
	CHECK(config_set(&c, "allow-mount", "/srv/shared", &e) == 0 && c.nallow_mounts == 1);
	CHECK(config_set(&c, "cgroup-favordynmods", "maybe", &e) < 0);
	CHECK(strcmp(c.console_grace, "300") == 0 && strcmp(c.record_input, "no") == 0);
	CHECK(config_set(&c, "console-grace", "0", &e) == 0 && strcmp(c.console_grace, "0") == 0);
	CHECK(config_set(&c, "console-grace", "86401", &e) < 0 && strstr(e.msg, "console-grace"));
	CHECK(config_set(&c, "console-idle", "5", &e) < 0);
	CHECK(config_set(&c, "console-max-per-tenant", "0", &e) < 0);
	CHECK(config_set(&c, "console-max-per-tenant", "200", &e) == 0 && strcmp(c.console_max, "200") == 0);
	CHECK(config_set(&c, "recording-keep", "3600", &e) == 0);
	CHECK(config_set(&c, "console-record-input", "yes", &e) == 0 && strcmp(c.record_input, "yes") == 0);
	CHECK(config_set(&c, "console-record-input", "1", &e) < 0);
	CHECK(config_set(&c, "frobnicate", "1", &e) < 0 && strstr(e.msg, "unknown setting"));
	/* the store: SQLite in the data directory, or a PostgreSQL URI */
	CHECK(strcmp(c.store, "sqlite") == 0);
	CHECK(config_set(&c, "store", "postgresql://jaild@db1,db2/jaild?target_session_attrs=read-write", &e) == 0 &&
	      strncmp(c.store, "postgresql://", 13) == 0);
	CHECK(config_set(&c, "store", "postgres://db/jaild", &e) == 0);
	CHECK(config_set(&c, "store", "mysql://db/jaild", &e) < 0 && strstr(e.msg, "PostgreSQL URI"));
	CHECK(config_set(&c, "store", "/var/lib/jaild/other.db", &e) < 0);
	CHECK(config_set(&c, "store", "sqlite", &e) == 0 && strcmp(c.store, "sqlite") == 0);

	char path[] = "/tmp/jaild-conf-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\nlisten = 0.0.0.0:9090\n  data-dir=/srv/jaild  \n", f);
	fclose(f);
	config_defaults(&c);
	CHECK(config_load(&c, path, &e) == 0 && strcmp(c.listen, "0.0.0.0:9090") == 0 && strcmp(c.data_dir, "/srv/jaild") == 0);
	f = fopen(path, "w");
	fputs("listen = 0.0.0.0:9090\nno equals sign here\n", f);
	fclose(f);
	CHECK(config_load(&c, path, &e) < 0 && strstr(e.msg, ":2:"));
	unlink(path);
	CHECK(config_load(&c, path, &e) < 0);
	return check_done();
}
