/* proto.h — the vocabulary between jaild and jaild-priv.
 *
 * A frame is one SOCK_SEQPACKET message: a header and one fixed-size body. Each type
 * has exactly one body size and one number of passed descriptors; anything else is a
 * bad frame, and a bad frame ends the connection (the helper exits, jaild restarts it).
 * There is no "run this" or "mount that": every request names a jail and a verb. */
#ifndef JAILD_PROTO_H
#define JAILD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "spec.h"

#define PROTO_MAGIC 0x6a61696cu /* "jail" */

/* The helper's exit status for "this host cannot be served as configured" (sysexits'
 * EX_CONFIG): the supervisor then stops jaild with the helper's message instead of
 * starting helpers that would fail the same way. */
#define EXIT_HOST_UNFIT 78

enum msg_type {
	MSG_TEMPLATE_MINIMAL = 1, /* make the busybox template if it does not exist */
	MSG_CREATE,               /* lay out a jail's files from its template */
	MSG_START,                /* build namespaces and run the jail's command as PID 1 */
	MSG_STOP,                 /* stop_command, SIGTERM, SIGKILL after stop_timeout */
	MSG_EXEC,                 /* run argv in the jail on three passed descriptors */
	MSG_DESTROY,              /* remove a stopped jail's files */
	MSG_STATUS,               /* is it running, and its usage */
	MSG_SET_LIMITS,           /* change a running jail's cgroup limits */
	MSG_LIST,                 /* names of running jails, paged */
	MSG_SWEEP,                /* remove what stopped jails left behind */
	MSG_CONSOLE,              /* a root shell on a new terminal inside the jail */
	MSG_SNAP_CREATE,          /* copy a jail's own files (a thin jail's private layer) aside */
	MSG_SNAP_RESTORE,         /* put a stopped jail's files back as a snapshot has them */
	MSG_SNAP_DELETE,          /* remove a snapshot */
	MSG_TEMPLATE_TAR,         /* a template from a tar stream (the passed descriptor) */
	MSG_TEMPLATE_DIR,         /* a template copied from an allowed host directory */
	MSG_TEMPLATE_DELETE,      /* remove a template (jaild knows no jail uses it) */
	MSG_EXPORT,               /* a jail's spec and files as a tar stream, to the passed descriptor */
	MSG_IMPORT,               /* a new jail's files from an export (the passed descriptor) */
	MSG_HELLO,                /* which backend serves (jaild asks each new helper) */
	MSG_LOG_OPEN,             /* the jail's log (its first process's output), read-only, passed back */
	MSG_NET_SET,              /* change a running jail's forwards, firewall and bandwidth */
	MSG_CREATE_START,         /* CREATE then START in one call (create?start=1); reply.created: the files were made */
	MSG_REPLY,                /* helper -> jaild: result of a request */
	MSG_LIST_REPLY,           /* helper -> jaild: a page of names */
	MSG_PTY_REPLY,            /* helper -> jaild: a success with a descriptor passed (CONSOLE's terminal master, LOG_OPEN's log) */
	MSG_TYPE_MAX
};

struct msg_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t id;  /* echoed in the reply */
	uint32_t pad;
};

struct req_name {
	struct msg_hdr h;
	char name[NAME_SIZE];
};

/* CREATE and START carry the whole spec and the jail's uid slot. */
struct req_spec {
	struct msg_hdr h;
	uint32_t slot;
	uint32_t pad;
	struct jail_spec spec;
};

struct req_stop {
	struct msg_hdr h;
	char name[NAME_SIZE];
	uint32_t timeout;
	uint32_t pad;
	struct argv_buf stop_command;
};

/* stdin, stdout and stderr travel as SCM_RIGHTS. */
struct req_exec {
	struct msg_hdr h;
	char name[NAME_SIZE];
	uint32_t timeout;
	uint32_t pad;
	struct argv_buf argv;
};

/* The terminal's first size; on it the jail root's login shell, or (argv.argc > 0) a
 * command, as exec -t runs it: how it ended is then written to the terminal last, as
 * CONSOLE_EXIT_MARK "CODE" BEL, for jaild to take out. */
struct req_console {
	struct msg_hdr h;
	char name[NAME_SIZE];
	uint16_t rows;
	uint16_t cols;
	uint32_t pad;
	struct argv_buf argv;
};
#define CONSOLE_EXIT_MARK "\033]7770;jaild-exit="

struct req_snap {
	struct msg_hdr h;
	char name[NAME_SIZE];
	char snap[NAME_SIZE];
};

/* replace: publish over an existing template (thin jails pick it up at their next
 * start; running ones keep the version they started with). */
struct req_template {
	struct msg_hdr h;
	char name[NAME_SIZE];
	uint32_t replace;
	uint32_t pad;
	char source[JPATH_SIZE];   /* TEMPLATE_DIR: under an allowed host path */
};

#define SPEC_TEXT_SIZE 16384
/* EXPORT: spec is the jail's JSON, stored as jail.json beside files/. */
struct req_export {
	struct msg_hdr h;
	char name[NAME_SIZE];
	char spec[SPEC_TEXT_SIZE];
};

/* IMPORT: like CREATE (slot, type, disk), files from the archive's files/. */
struct req_import {
	struct msg_hdr h;
	char name[NAME_SIZE];
	uint32_t slot;
	uint32_t thin;
	int64_t disk;
};

struct req_limits {
	struct msg_hdr h;
	char name[NAME_SIZE];
	struct jail_limits limits;
};

struct req_net {
	struct msg_hdr h;
	char name[NAME_SIZE];
	struct jail_net net;
};

struct req_list {
	struct msg_hdr h;
	char after[NAME_SIZE];
};

struct req_empty {
	struct msg_hdr h;
};

struct reply {
	struct msg_hdr h;
	int32_t code;       /* enum err_code */
	int32_t exit_code;  /* EXEC: the command's status, 128+signal when killed */
	uint8_t running;    /* STATUS */
	uint8_t timed_out;  /* EXEC */
	uint8_t exited;     /* STATUS, not running: how its first process last ended is known */
	uint8_t created;    /* CREATE_START: the files were made (even when the start then failed) */
	uint8_t pad[4];
	int64_t pid;        /* START, STATUS: PID 1 of the jail as the host sees it */
	int64_t memory;     /* STATUS: bytes */
	int64_t procs;
	int64_t cpu_ns;
	int64_t bytes;      /* SNAP_CREATE: disk space the snapshot takes */
	int64_t exited_at;  /* STATUS with exited: unix time; exit_code, or exit_signal when a signal ended it */
	int64_t net_rx;     /* STATUS: bytes the jail received and sent since it started */
	int64_t net_tx;
	int32_t exit_signal;
	int32_t skipped;    /* TEMPLATE_TAR: device nodes under /dev left out */
	char backend[16];   /* HELLO: "linux", "freebsd" */
	char uplink[16];    /* HELLO: the interface jails' traffic uses ("" for none) */
	char field[64];
	char msg[512];      /* an error's message; HELLO: a warning about the jails' network, or "" */
};

#define LIST_PAGE 128
struct list_reply {
	struct msg_hdr h;
	uint32_t count;
	uint32_t more;
	char names[LIST_PAGE][NAME_SIZE];
};

#define PROTO_MAX_FDS 3
#define PROTO_MAX_FRAME (sizeof(struct req_spec) + 64)

const char *msg_type_name(uint32_t type);

/* proto_send writes one frame of exactly the size its type requires. */
int proto_send(int fd, const void *frame, size_t size, const int *fds, int nfds, struct err *e);

/* The transport alone, without proto_send's shape checks: the unit tests send
 * malformed frames with it to see that proto_recv refuses them. */
int proto_send_raw(int fd, const void *frame, size_t size, const int *fds, int nfds);

/* The transport alone, the other way: one message of at most size bytes and up to
 * PROTO_MAX_FDS descriptors (close-on-exec); -1 (EMSGSIZE) when either did not fit. */
ssize_t proto_recv_raw(int sock, void *buf, size_t size, int fds[PROTO_MAX_FDS], int *nfds);

/* proto_recv reads one frame into buf (PROTO_MAX_FRAME bytes) and checks it: magic,
 * known type, exact size, exact descriptor count, every string field terminated.
 * Returns the frame size, 0 on orderly EOF, -1 on a bad frame or error (e says which). */
long proto_recv(int fd, void *buf, int *fds, int *nfds, struct err *e);

/* One descriptor alone, with a one-byte body: the supervisor's helper sockets and
 * the terminal master a shell in a jail sends up to the helper. fd_take returns the
 * descriptor (close-on-exec) or -1 when the peer closed or sent anything else. */
int fd_pass(int sock, int fd);
int fd_take(int sock);

/* The expected body size and descriptor count of a type, for tests and both sides. */
size_t proto_frame_size(uint32_t type);
int proto_frame_fds(uint32_t type);

#endif
