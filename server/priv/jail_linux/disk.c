#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "tool.h"

int64_t disk_size(int jd)
{
	struct stat st;
	return fstatat(jd, "disk.img", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
}

static bool mounted(int jd)
{
	struct stat a, b;
	return fstatat(jd, "disk", &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(jd, &b) == 0 && a.st_dev != b.st_dev;
}

/* A free loop device backed by img, cleared when its last user (the mount) goes. */
static int loop_attach(int img, char dev[32], struct err *e)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return err_errno(e, "opening /dev/loop-control (limits.disk needs loop devices: modprobe loop)");
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(dev, 32, "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			continue;
		struct loop_config cfg = { .fd = (uint32_t)img, .info = { .lo_flags = LO_FLAGS_AUTOCLEAR } };
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return lfd;
		}
		close(lfd);
		if (errno != EBUSY)
			break;
	}
	close(ctl);
	return err_errno(e, "attaching a loop device for the jail's disk");
}

static int disk_mount(int jd, struct err *e)
{
	int img = openat(jd, "disk.img", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (img < 0)
		return err_errno(e, "opening the jail's disk image");
	char dev[32], fdb[32];
	int lfd = loop_attach(img, dev, e);
	close(img);
	if (lfd < 0)
		return -1;
	int target = openat(jd, "disk", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = 0;
	/* nosuid, nodev: what the jail writes there is data, never a way up */
	if (target < 0 || mount(dev, fd_path(target, fdb), "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "errors=remount-ro") < 0)
		r = err_errno(e, "mounting the jail's disk");
	if (target >= 0)
		close(target);
	close(lfd); /* the mount holds the loop device now; autoclear frees it at unmount */
	return r;
}

int disk_create(int jd, int64_t bytes, uid_t base, struct err *e)
{
	char buf[64], owner[64];
	const char *mkfs = tool_find("mkfs.ext4", buf);
	if (!mkfs)
		return err_set(e, ERR_UNSUPPORTED, "limits.disk needs mkfs.ext4: install e2fsprogs");
	int img = openat(jd, "disk.img", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (img < 0)
		return err_errno(e, "creating the jail's disk image");
	int r = 0;
	if (ftruncate(img, bytes) < 0 || fchown(img, base, base) < 0 || mkdirat(jd, "disk", 0700) < 0)
		r = err_errno(e, "sizing the jail's disk image");
	snprintf(owner, sizeof owner, "root_owner=%u:%u,nodiscard", (unsigned)base, (unsigned)base);
	/* the tool gets no descriptors of ours: it opens the image through ours in /proc */
	char path[48];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), img);
	char *const argv[] = { (char *)mkfs, "-q", "-F", "-m", "0", "-E", owner, "-L", "jaild", path, NULL };
	if (r == 0) {
		int st = tool_run(argv, -1, e);
		if (st != 0)
			r = st < 0 ? -1 : err_set(e, ERR_INTERNAL, "mkfs.ext4 failed (exit %d) on the jail's disk image", st);
	}
	close(img);
	if (r == 0)
		r = disk_mount(jd, e);
	if (r == 0) {
		struct err ignored;
		rm_tree(jd, "disk/lost+found", &ignored); /* the jail's own tree starts empty */
	}
	return r;
}

int disk_files(int jd, struct err *e)
{
	if (!disk_size(jd)) {
		int fd = dup(jd);
		return fd < 0 ? err_errno(e, "dup") : fd;
	}
	if (!mounted(jd) && disk_mount(jd, e) < 0)
		return -1;
	int fd = openat(jd, "disk", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? err_errno(e, "opening the jail's disk") : fd;
}

/* The loop device under jails/NAME/disk, from the mount table. */
static int loop_of(int jd, char dev[64])
{
	struct stat st;
	if (fstatat(jd, "disk", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	char sys[96];
	snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/uevent", major(st.st_dev), minor(st.st_dev));
	FILE *f = fopen(sys, "re");
	char line[128];
	int r = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "DEVNAME=loop", 12) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(dev, 64, "/dev/%.40s", line + 8);
			r = 0;
		}
	if (f)
		fclose(f);
	return r;
}

static int run_e2(const char *tool, const char *arg1, const char *target, struct err *e)
{
	char buf[64];
	const char *path = tool_find(tool, buf);
	if (!path)
		return err_set(e, ERR_UNSUPPORTED, "growing limits.disk needs %s: install e2fsprogs", tool);
	char *const argv[] = { (char *)path, (char *)arg1, (char *)target, NULL };
	char *const argv1[] = { (char *)path, (char *)target, NULL };
	int st = tool_run(arg1 ? argv : argv1, -1, e);
	/* e2fsck: 1 means it fixed something, which is fine */
	if (st < 0 || (st != 0 && !(st == 1 && strcmp(tool, "e2fsck") == 0)))
		return st < 0 ? -1 : err_set(e, ERR_INTERNAL, "%s failed (exit %d) growing the jail's disk", tool, st);
	return 0;
}

int disk_grow(int jd, int64_t bytes, bool running, struct err *e)
{
	int64_t now = disk_size(jd);
	if (!now)
		return err_field(e, ERR_INVALID, "limits.disk", "limits.disk can only be given when the jail is created (its files are not on a disk of their own)");
	if (bytes < now)
		return err_field(e, ERR_INVALID, "limits.disk", "limits.disk can only grow (it is %lld bytes); shrinking could lose the jail's files", (long long)now);
	if (bytes == now)
		return 0;
	if (!running)
		disk_unmount(jd); /* offline: nothing uses it, and an unmounted filesystem always grows */
	int img = openat(jd, "disk.img", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (img < 0 || ftruncate(img, bytes) < 0) {
		if (img >= 0)
			close(img);
		return err_errno(e, "growing the jail's disk image");
	}
	char path[48], dev[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), img);
	int r;
	if (!mounted(jd)) {
		r = run_e2("e2fsck", "-fp", path, e) || run_e2("resize2fs", NULL, path, e) ? -1 : 0;
	} else {
		/* online: the loop device learns the new size, then the mounted ext4 grows */
		int lfd = loop_of(jd, dev) == 0 ? open(dev, O_RDWR | O_CLOEXEC) : -1;
		r = lfd < 0 || ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0 ? err_errno(e, "telling the loop device the disk grew") : 0;
		if (lfd >= 0)
			close(lfd);
		if (r == 0 && run_e2("resize2fs", NULL, dev, e) < 0)
			r = err_field(e, ERR_WRONG_STATE, "limits.disk",
				      "this host does not let a mounted disk grow (resize2fs needs CAP_SYS_RESOURCE); "
				      "the disk grows when the jail next starts");
	}
	if (r < 0 && ftruncate(img, now) < 0) /* the filesystem did not grow: nor does its file */
		r = err_errno(e, "restoring the disk image's size");
	close(img);
	return r;
}

void disk_unmount(int jd)
{
	char fdb[32];
	if (!mounted(jd))
		return;
	int target = openat(jd, "disk", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (target >= 0) {
		umount2(fd_path(target, fdb), MNT_DETACH);
		close(target);
	}
}
