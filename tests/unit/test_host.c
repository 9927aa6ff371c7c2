/* The preflight: wildcard listeners read from /proc/net-style files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/host.h"

int main(void)
{
	char dir[] = "/tmp/jaild-procnet-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char p[256];
	snprintf(p, sizeof p, "%s/tcp", dir);
	FILE *f = fopen(p, "w");
	fputs("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	      "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
	      "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
	      "   2: 00000000:0050 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/udp6", dir);
	f = fopen(p, "w");
	fputs("  sl  local_address                         remote_address                        st\n"
	      "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 0\n", f);
	fclose(f);
	json_t *w = host_wildcard_listeners(dir);
	CHECK(json_array_size(w) == 2);
	CHECK(json_integer_value(json_object_get(json_array_get(w, 0), "port")) == 22);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(w, 1), "proto")), "udp6") == 0);
	CHECK(json_integer_value(json_object_get(json_array_get(w, 1), "port")) == 53);
	json_decref(w);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return check_done();
}
