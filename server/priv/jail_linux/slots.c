/* slots.c — which jail holds which uid slot. A jail's files belong to its slot's uid
 * range, so two jails on one slot would be one user to the kernel, each root in the
 * other's files: the helper refuses a slot another jail holds, whatever jaild says.
 *
 * It used to find that out by looking at every jail's files at each create, which
 * grew with the host (three lookups per jail: 3,000 for a host of 1,000 jails), and
 * two racing creates could both pass. The index is DIR/jails/.slots/SLOT, a symlink
 * to the holder's name, made with symlinkat (which fails when it exists): one lookup,
 * and one winner. A claim is believed while its holder's files are owned by the
 * slot's uid, or while its holder is being made (its jail lock held): one left by a
 * crash between claim and files is taken over. */
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux.h"
#include "lock.h"
#include "log.h"
#include "validate.h"
#include "../runrec.h"

#define SLOTS_DIR ".slots"

static int slots_fd = -1;

/* The uid owning jail name's files (its layer, its whole root, or its disk), or -1. */
static long long files_uid(struct priv_ctx *c, const char *name)
{
	static const char *const parts[] = { "upper", "root", "disk.img" };
	char p[NAME_SIZE + 16];
	struct stat st;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		snprintf(p, sizeof p, "%s/%s", name, parts[i]);
		if (fstatat(c->jails_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return st.st_uid;
	}
	return -1;
}

static bool slot_of_uid(const struct priv_ctx *c, long long uid, uint32_t *slot)
{
	if (uid < (long long)c->uid_base || (uid - c->uid_base) % UID_RANGE)
		return false;
	*slot = (uint32_t)((uid - c->uid_base) / UID_RANGE);
	return *slot < c->max_slots;
}

/* The name the claim on slot names ("" when none or unreadable). */
static void holder_of(uint32_t slot, char name[NAME_SIZE])
{
	char key[16];
	snprintf(key, sizeof key, "%u", slot);
	ssize_t n = readlinkat(slots_fd, key, name, NAME_SIZE - 1);
	name[n > 0 ? n : 0] = '\0';
}

int slots_init(struct priv_ctx *c, struct err *e)
{
	if (mkdirat(c->jails_fd, SLOTS_DIR, 0700) < 0 && errno != EEXIST)
		return err_errno(e, "creating the slot index %s/jails/" SLOTS_DIR, c->data_dir);
	slots_fd = openat(c->jails_fd, SLOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (slots_fd < 0)
		return err_errno(e, "opening the slot index %s/jails/" SLOTS_DIR " (it must be a directory)", c->data_dir);
	DIR *d = dir_stream(c->jails_fd);
	struct dirent *de;
	int added = 0;
	while (d && (de = readdir(d))) {
		uint32_t slot;
		char key[16];
		if (!valid_name(de->d_name) || !slot_of_uid(c, files_uid(c, de->d_name), &slot))
			continue;
		snprintf(key, sizeof key, "%u", slot);
		if (symlinkat(de->d_name, slots_fd, key) == 0)
			added++;
	}
	if (d)
		closedir(d);
	if (added)
		log_info("slot index: claimed the slots of %d jails made before it", added);
	return 0;
}

int slot_claim(struct priv_ctx *c, uint32_t slot, const char *name, struct err *e)
{
	char key[16], holder[NAME_SIZE];
	snprintf(key, sizeof key, "%u", slot);
	if (symlinkat(name, slots_fd, key) == 0)
		return 0;
	if (errno != EEXIST)
		return err_errno(e, "claiming slot %u", slot);
	/* taken over under the index's lock, so that of two creates finding the same
	 * stale claim one wins */
	if (flock(slots_fd, LOCK_EX) < 0)
		return err_errno(e, "locking the slot index");
	int rc = 0;
	holder_of(slot, holder);
	if (valid_name(holder) && strcmp(holder, name) != 0 &&
	    (files_uid(c, holder) == (long long)slot_uid(c, slot) || jail_lock_held(c, holder)))
		rc = err_field(e, ERR_CONFLICT, "slot", "slot %u already owns another jail's files (%s)", slot, holder);
	else if ((unlinkat(slots_fd, key, 0) < 0 && errno != ENOENT) || symlinkat(name, slots_fd, key) < 0)
		rc = err_errno(e, "claiming slot %u", slot);
	flock(slots_fd, LOCK_UN);
	return rc;
}

bool slot_of_files(struct priv_ctx *c, const char *name, uint32_t *slot)
{
	return slot_of_uid(c, files_uid(c, name), slot);
}

void slot_release(uint32_t slot, const char *name)
{
	char holder[NAME_SIZE], key[16];
	holder_of(slot, holder);
	snprintf(key, sizeof key, "%u", slot);
	if (strcmp(holder, name) == 0)
		unlinkat(slots_fd, key, 0);
}
