/* tarball.h — trees in and out of tar streams (libarchive): template uploads, jail
 * export and import. An archive from outside is hostile: it is unpacked by a child
 * chrooted into the new directory, with libarchive's secure flags, owners limited to
 * the 65536 ids a jail maps, no device nodes (an overlay whiteout, 0/0, when asked;
 * those under dev/ are left out),
 * and only the overlay's and user extended attributes.
 *
 * The helper calls tar_unpack and tar_pack (tar_tool.c), which run jaild-tar for the
 * work (tar_main.c, tar_tree.c): libarchive is never mapped in the helper. */
#ifndef JAILD_TARBALL_H
#define JAILD_TARBALL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct tar_in {
	const char *prefix;  /* only entries under this ("files/") are unpacked, without it; NULL: all */
	uid_t shift;         /* added to every owner */
	bool whiteouts;      /* 0/0 character devices allowed (a thin jail's private layer) */
	bool may_be_empty;   /* nothing under prefix is fine (an unchanged thin jail's export) */
	/* out (if set): device nodes under dev/ left out. A stock rootfs (mmdebstrap,
	 * docker export) carries /dev/console and friends; a jail's /dev is jaild's own
	 * anyway, so they are skipped, not refused. Devices anywhere else are refused. */
	unsigned *skipped_devices;
};

/* Unpacks the tar stream (plain or compressed) read from fd into the empty dirfd. */
int tar_unpack(int fd, int dirfd, const struct tar_in *in, struct err *e);

/* Writes dirfd's tree to fd as a pax tar: owners minus shift, names under prefix, and
 * first (if extra_name) one file of the given text. */
int tar_pack(int dirfd, int fd, uid_t shift, const char *prefix, const char *extra_name, const char *extra, struct err *e);

/* The helper's start: finds jaild-tar beside jaild-priv (or in the libexec dir). A
 * helper without it serves everything but archives, which fail saying so. */
int tar_tool_init(struct err *e);

/* jaild-tar's own: the same work, in its process. */
int tar_tree_unpack(int fd, int dirfd, const struct tar_in *in, struct err *e);
int tar_tree_pack(int dirfd, int fd, uid_t shift, const char *prefix, const char *extra_name, const char *extra, struct err *e);

#endif
