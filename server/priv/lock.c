/* lock.c — the per-jail lock: a flock on the jail's directory, DIR/jails/NAME (which
 * no jail reaches: a jail's root is below it). No file is made for the lock: a lock
 * file per jail was an inode made and freed with each jail, all in one directory, and
 * ext4 without a journal searches the more slowly there the more were freed lately. A
 * create locks the directory it makes (there is nothing to lock before: mkdir decides
 * between two creates); a destroy removes it while it holds it, and whoever opened it
 * meanwhile finds it gone (no links) and locks nothing. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validate.h"

int priv_lock_fd = -1;
int priv_sock_fd = -1;

void priv_close_inherited(void)
{
	if (priv_lock_fd >= 0)
		close(priv_lock_fd);
	if (priv_sock_fd >= 0)
		close(priv_sock_fd);
	priv_lock_fd = priv_sock_fd = -1;
}

static int open_jail(struct priv_ctx *c, const char *name)
{
	return openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int jail_lock(struct priv_ctx *c, const char *name, struct err *e)
{
	if (priv_lock_fd >= 0)
		return 0; /* a create locking the directory it just made, its op already under way */
	int fd = open_jail(c, name);
	if (fd < 0) /* no jail of that name: its create locks the directory once made */
		return errno == ENOENT ? 0 : err_errno(e, "opening jail %s to lock it", name);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return err_set(e, ERR_BUSY, "another operation on jail %s is under way; retry when it is done", name);
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
		close(fd); /* destroyed while we opened it: nothing is left to guard */
		return 0;
	}
	priv_lock_fd = fd;
	return 0;
}

bool jail_lock_held(struct priv_ctx *c, const char *name)
{
	int fd = open_jail(c, name);
	if (fd < 0)
		return false;
	/* a shared lock is refused while the holder's exclusive one stands; taken, it goes
	 * with the descriptor and stops nobody */
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

void jail_unlock(void)
{
	if (priv_lock_fd >= 0)
		close(priv_lock_fd);
	priv_lock_fd = -1;
}
