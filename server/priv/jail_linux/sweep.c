/* sweep.c — what stopped jails of this instance left behind: cgroups, interfaces,
 * run records. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../backend.h"
#include "linux.h"
#include "caps.h"
#include "disk.h"
#include "tarball.h"
#include "netfilter.h"
#include "fsutil.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "../runrec.h"
#include "seccomp.h"
#include "template.h"

int linux_sweep(struct priv_ctx *c, struct err *e)
{
	char dir[512];
	/* the slots of running jails, one bit each: every slot the uid range has */
	uint8_t *live = calloc(c->max_slots / 8 + 1, 1);
	int removed = 0;
	struct runrec rec;
	DIR *d = live ? dir_stream(c->jails_fd) : NULL;
	if (!d) {
		free(live);
		return err_errno(e, "listing jails");
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (valid_name(de->d_name) && runrec_alive(c->jails_fd, de->d_name, &rec) && rec.slot < c->max_slots)
			live[rec.slot / 8] |= (uint8_t)(1u << (rec.slot % 8));
	closedir(d);
	CG(c)->ops->parent_dir(CG(c), dir, sizeof dir);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (!valid_name(de->d_name) || runrec_alive(c->jails_fd, de->d_name, &rec))
			continue;
		pid_t pids[1];
		if (CG(c)->ops->procs(CG(c), de->d_name, pids, 1) > 0)
			continue; /* not ours to judge: processes still in it */
		struct err ig;
		if (CG(c)->ops->destroy(CG(c), de->d_name, &ig) == 0) {
			log_info("sweep: removed the cgroup of stopped jail %s", de->d_name);
			removed++;
		}
	}
	if (d)
		closedir(d);
	struct if_nameindex *ifs = if_nameindex();
	int nl = nl_open(e);
	for (struct if_nameindex *i = ifs; ifs && nl >= 0 && i->if_index; i++) {
		unsigned slot;
		char tag[8], tail;
		if (sscanf(i->if_name, JAIL_IF_PREFIX "%4[0-9a-f]-%u%c", tag, &slot, &tail) != 2 || strcmp(tag, c->tag) != 0)
			continue; /* not one of this instance's */
		bool used = slot >= c->max_slots || (live[slot / 8] & (1u << (slot % 8)));
		if (!used && nl_link_del(nl, i->if_name, NULL) == 0) {
			log_info("sweep: removed interface %s of a stopped jail", i->if_name);
			removed++;
		}
	}
	if (nl >= 0)
		close(nl);
	if (ifs)
		if_freenameindex(ifs);
	free(live);
	(void)removed;
	return 0;
}

/* Whether this kernel takes the highest gid a jail's devpts would be given (older
 * kernels parse gid= as a signed int): tried once at start in a throwaway mount
 * namespace, so a range the kernel refuses is said plainly, not as a failed start. */
