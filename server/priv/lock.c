/* lock.c — the per-jail lock: a flock on DIR/jails/NAME.lock (outside the jail's own
 * directory, which jail root could otherwise reach through its files). */
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

static char lock_name[NAME_SIZE + 8];
static int lock_dir = -1;

int jail_lock(struct priv_ctx *c, const char *name, struct err *e)
{
	snprintf(lock_name, sizeof lock_name, "%s.lock", name);
	/* the file may be unlinked by the holder as it finishes (jail_unlock): a lock taken
	 * on a file no longer at the path locks nothing, so take it again */
	for (int tries = 0; tries < 10; tries++) {
		int fd = openat(c->jails_fd, lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_errno(e, "opening lock of jail %s", name);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return err_set(e, ERR_BUSY, "another operation on jail %s is under way; retry when it is done", name);
		}
		struct stat held, now;
		if (fstat(fd, &held) == 0 && fstatat(c->jails_fd, lock_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
			priv_lock_fd = fd;
			lock_dir = c->jails_fd;
			return 0;
		}
		close(fd);
	}
	return err_set(e, ERR_BUSY, "jail %s's lock keeps changing; retry", name);
}

bool jail_lock_held(struct priv_ctx *c, const char *name)
{
	char path[NAME_SIZE + 8];
	snprintf(path, sizeof path, "%s.lock", name);
	int fd = openat(c->jails_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
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
	if (priv_lock_fd < 0)
		return;
	struct stat st;
	char dir[NAME_SIZE + 8];
	snprintf(dir, sizeof dir, "%.*s", (int)(strlen(lock_name) - 5), lock_name);
	if (lock_dir >= 0 && fstatat(lock_dir, dir, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		unlinkat(lock_dir, lock_name, 0);
	close(priv_lock_fd);
	priv_lock_fd = -1;
}
