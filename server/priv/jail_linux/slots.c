/* slots.c — which jail holds which uid slot. A jail's files belong to its slot's uid
 * range, so two jails on one slot would be one user to the kernel, each root in the
 * other's files: the helper refuses a slot another jail holds, whatever jaild says.
 *
 * It used to find that out by looking at every jail's files at each create, which
 * grew with the host (three lookups per jail: 3,000 for a host of 1,000 jails), and
 * two racing creates could both pass. The index is one file, DIR/jails/.slots: a
 * record of NAME_SIZE bytes per slot, the holder's name (a hole or "" when free),
 * read and written under the file's lock: one read, and one winner. One file, not an
 * entry per slot: a file per claim would be an inode made and freed with each jail,
 * which ext4 without a journal makes slower to allocate the more were freed lately.
 * A claim is believed while its holder's files are on the slot's uid, or while its
 * holder is being made (its jail lock held): one left by a crash is taken over. A
 * record lost in a crash is made again at the next start (slots_init). */
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

#define SLOTS_FILE ".slots"

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

/* The name slot's record holds ("" when free or unreadable). */
static void holder_of(uint32_t slot, char name[NAME_SIZE])
{
	ssize_t n = pread(slots_fd, name, NAME_SIZE, (off_t)slot * NAME_SIZE);
	if (n != NAME_SIZE)
		n = 0;
	name[n ? NAME_SIZE - 1 : 0] = '\0';
}

static int set_holder(uint32_t slot, const char *name)
{
	char rec[NAME_SIZE] = { 0 };
	snprintf(rec, sizeof rec, "%s", name);
	return pwrite(slots_fd, rec, sizeof rec, (off_t)slot * NAME_SIZE) == (ssize_t)sizeof rec ? 0 : -1;
}

/* A claim stands while its holder's files are on the slot, or its create runs. */
static bool claim_stands(struct priv_ctx *c, uint32_t slot, const char *holder)
{
	return valid_name(holder) && (files_uid(c, holder) == (long long)slot_uid(c, slot) || jail_lock_held(c, holder));
}

int slots_init(struct priv_ctx *c, struct err *e)
{
	slots_fd = openat(c->jails_fd, SLOTS_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	if (slots_fd < 0 || fstat(slots_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_errno(e, "opening the slot index %s/jails/" SLOTS_FILE " (it must be a regular file)", c->data_dir);
	DIR *d = dir_stream(c->jails_fd);
	struct dirent *de;
	int added = 0;
	flock(slots_fd, LOCK_EX);
	while (d && (de = readdir(d))) {
		uint32_t slot;
		char holder[NAME_SIZE];
		if (!valid_name(de->d_name) || !slot_of_uid(c, files_uid(c, de->d_name), &slot))
			continue;
		holder_of(slot, holder);
		if (strcmp(holder, de->d_name) != 0 && !claim_stands(c, slot, holder) && set_holder(slot, de->d_name) == 0)
			added++;
	}
	flock(slots_fd, LOCK_UN);
	if (d)
		closedir(d);
	if (added)
		log_info("slot index: recorded the slots of %d jails it did not know", added);
	return 0;
}

int slot_claim(struct priv_ctx *c, uint32_t slot, const char *name, struct err *e)
{
	char holder[NAME_SIZE];
	if (slot >= c->max_slots)
		return err_field(e, ERR_INVALID, "slot", "slot %u is past the host's uid range", slot);
	if (flock(slots_fd, LOCK_EX) < 0)
		return err_errno(e, "locking the slot index");
	int rc = 0;
	holder_of(slot, holder);
	if (strcmp(holder, name) != 0 && claim_stands(c, slot, holder))
		rc = err_field(e, ERR_CONFLICT, "slot", "slot %u already owns another jail's files (%s)", slot, holder);
	else if (set_holder(slot, name) < 0)
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
	char holder[NAME_SIZE];
	flock(slots_fd, LOCK_EX);
	holder_of(slot, holder);
	if (strcmp(holder, name) == 0)
		set_holder(slot, "");
	flock(slots_fd, LOCK_UN);
}
