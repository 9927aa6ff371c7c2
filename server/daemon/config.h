/* config.h — jaild's settings, from flags or a key = value file. */
#ifndef JAILD_CONFIG_H
#define JAILD_CONFIG_H

#include "err.h"

#define CFG_MOUNTS_MAX 16

struct config {
	char listen[128];      /* ADDR:PORT or [ADDR6]:PORT */
	char data_dir[256];
	char store[1024];       /* "sqlite" (DATA_DIR/jaild.db) or a PostgreSQL URI */
	char host[64];          /* this host's name among those sharing the store */
	char advertise[256];    /* the URL the other hosts reach this API at ("" : from listen) */
	char host_timeout[16];  /* seconds of silence after which a host is offline */
	char user[64];         /* jaild drops to this user */
	char pool4[64];
	char pool6[64];
	/* the jails' network: uplink interface ("auto": the default route's; "none": host
	 * only), nat or routed per pool, what egress rules fall back to, resolvers */
	char uplink[16];
	char pool4_mode[8];
	char pool6_mode[8];
	char egress_default[8];
	char dns[256];
	/* where templates built from a distribution's archive come from */
	char debian_mirror[256];
	char ubuntu_mirror[256];
	char lxcfs[256];        /* lxcfs's mount point, "none" for none */
	/* usage history: seconds between samples, and how long each bucket length is kept */
	char usage_interval[16];
	char usage_keep_raw[16];
	char usage_keep_5m[16];
	char usage_keep_1h[16];
	char uid_base[16];
	char busybox[256];
	char favordynmods[8];        /* "yes": ask the kernel for cheap cgroup migrations */
	char allow_setuid_mounts[8]; /* "yes": writable mounts from host filesystems without nosuid */
	char conns_per_source[16]; /* open HTTP connections from one address */
	char pty_max[16];          /* terminals one jail may open (its devpts' max=) */
	char exec_per_tenant[16];  /* commands one tenant may run at once */
	char default_maxproc[16];   /* limits a jail's spec leaves out get these ("0": none) */
	char default_memoryuse[16];
	char default_pcpu[16];      /* "auto": every CPU of the host but one */
	char cgroup_parent[192]; /* cgroup v2: the delegated group jails live under ("": jaild's own) */
	char rate_limit[16];   /* requests per second per token (burst: twice that); 0: off */
	char events_keep[16];  /* seconds events stay replayable */
	char tls_cert[256];    /* PEM files; both or neither */
	char tls_key[256];
	/* consoles: seconds a dropped session waits for re-attach; seconds without a byte
	 * either way before it ends; live sessions per tenant; seconds recordings are kept;
	 * whether keystrokes are recorded as well as output ("yes"/"no") */
	char console_grace[16];
	char console_idle[16];
	char console_max[16];
	char recording_keep[16];
	char record_input[8];
	char record_max[16];        /* bytes one console recording may take */
	char record_total_max[16];  /* bytes all recordings may take */
	char web_root[256];    /* the web console's files (index.html, node_modules/ for xterm.js) */
	char allow_mounts[CFG_MOUNTS_MAX][256];
	int nallow_mounts;
	/* addresses (ADDR or ADDR/PREFIX) /metrics answers without a token */
	char metrics_allow[16][64];
	int nmetrics_allow;
};

void config_defaults(struct config *c);
/* One setting, by the same name as its flag (without the dashes). */
int config_set(struct config *c, const char *key, const char *value, struct err *e);
int config_load(struct config *c, const char *path, struct err *e);

#endif
