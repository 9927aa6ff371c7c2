#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spec.h"

/* One denied call: its number on x86-64 and on i386 (compat: 32-bit programs), and
 * the errno it fails with: ENOSYS where programs fall back to something else when
 * the call does not exist (io_uring to epoll, clone3 to clone), EPERM elsewhere. */
struct denied {
	int nr64, nr32, err;
};

static const struct denied denied[] = {
	{ 425, 425, ENOSYS }, /* io_uring_setup: a large, fast-moving kernel surface */
	{ 426, 426, ENOSYS }, /* io_uring_enter */
	{ 427, 427, ENOSYS }, /* io_uring_register */
	{ 323, 374, EPERM },  /* userfaultfd: stalls the kernel at will, a staple of exploits */
	{ 321, 357, EPERM },  /* bpf */
	{ 298, 336, EPERM },  /* perf_event_open */
	{ 250, 288, EPERM },  /* keyctl: keyrings are not namespaced */
	{ 248, 286, EPERM },  /* add_key */
	{ 249, 287, EPERM },  /* request_key */
	{ 246, 283, EPERM },  /* kexec_load */
	{ 320, -1, EPERM },   /* kexec_file_load */
	{ 175, 128, EPERM },  /* init_module */
	{ 313, 350, EPERM },  /* finit_module */
	{ 176, 129, EPERM },  /* delete_module */
	{ 304, 342, EPERM },  /* open_by_handle_at: opens files by handle, past any mount */
	{ 163, 51, EPERM },   /* acct */
	{ 167, 87, EPERM },   /* swapon */
	{ 168, 115, EPERM },  /* swapoff */
	{ 212, 253, EPERM },  /* lookup_dcookie */
	{ 310, 347, EPERM },  /* process_vm_readv: not between a jail's own processes either */
	{ 311, 348, EPERM },  /* process_vm_writev */
};

/* The new user namespace calls, for ALLOW_NESTING: clone/unshare with CLONE_NEWUSER,
 * and clone3 (its flags are in memory, out of a filter's reach: ENOSYS, and glibc
 * falls back to clone). */
#define NR64_CLONE 56
#define NR64_UNSHARE 272
#define NR64_CLONE3 435
#define NR32_CLONE 120
#define NR32_UNSHARE 310
#define NR32_CLONE3 435

#define X32_BIT 0x40000000u
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e)&SECCOMP_RET_DATA))

/* Appends one arch's checks: the nr is loaded; denied calls return their errno. */
static size_t arch_block(struct sock_filter *f, size_t n, bool i386, bool nesting)
{
	for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
		int nr = i386 ? denied[i].nr32 : denied[i].nr64;
		if (nr < 0)
			continue;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
		f[n++] = (struct sock_filter)RET(ERRNO(denied[i].err));
	}
	if (!nesting) {
		unsigned clone = i386 ? NR32_CLONE : NR64_CLONE, unshare = i386 ? NR32_UNSHARE : NR64_UNSHARE;
		unsigned clone3 = i386 ? NR32_CLONE3 : NR64_CLONE3;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, clone3, 0, 1);
		f[n++] = (struct sock_filter)RET(ERRNO(ENOSYS));
		/* clone or unshare: look at the flags (the low word of arg 0) */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, clone, 1, 0);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, unshare, 0, 3);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1);
		f[n++] = (struct sock_filter)RET(ERRNO(EPERM));
	}
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	return n;
}

int seccomp_jail(uint8_t allow, struct err *e)
{
#if defined(__x86_64__)
	struct sock_filter f[256];
	size_t n = 0;
	bool nesting = allow & ALLOW_NESTING;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	size_t to_i386 = n;
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 0); /* jt set below */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)RET(ERRNO(ENOSYS)); /* any other ABI */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
	f[n++] = (struct sock_filter)RET(ERRNO(ENOSYS)); /* x32 */
	n = arch_block(f, n, false, nesting);
	f[to_i386].jt = (uint8_t)(n - to_i386 - 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	n = arch_block(f, n, true, nesting);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	/* called with every capability in the jail's user namespace: no no_new_privs
	 * needed, so setuid programs inside the jail keep working */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return err_errno(e, "installing the jail's seccomp filter");
	return 0;
#else
	(void)allow;
	return err_set(e, ERR_INTERNAL, "no seccomp filter for this architecture yet: jails are not started without one");
#endif
}
