/* jaild-tar — one archive read into, or written from, a directory, for the helper
 * (tar_tool.c runs it; not by hand). It alone links libarchive.
 *
 *   jaild-tar unpack SHIFT -FLAGS PREFIX   the archive on stdin into the empty directory
 *                                         on fd 3; FLAGS: w (whiteouts), e (may be
 *                                         empty), d (devices under dev/ left out and
 *                                         counted); PREFIX "-": every entry
 *   jaild-tar pack SHIFT PREFIX [NAME]     fd 3's tree to stdout; NAME: first a file of
 *                                         that name holding fd 5's text
 *
 * The answer goes to fd 4 as one line: CODE SKIPPED MESSAGE (CODE 0: done). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tarball.h"

/* fd's whole text (jail.json: at most a request's spec), or NULL. */
static char *read_all(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == cap - 1) {
			char *more = realloc(buf, cap *= 2);
			if (!more)
				free(buf);
			buf = more;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	log_init("jaild-tar");
	struct stat dir, ans;
	if (argc < 4 || fstat(3, &dir) < 0 || !S_ISDIR(dir.st_mode) || fstat(4, &ans) < 0) {
		fprintf(stderr, "jaild-tar is run by jaild-priv, not by hand.\n");
		return 64;
	}
	struct err e = { 0 };
	unsigned skipped = 0;
	uid_t shift = (uid_t)strtoul(argv[2], NULL, 10);
	int rc;
	if (strcmp(argv[1], "unpack") == 0 && argc == 5 && argv[3][0] == '-') {
		struct tar_in in = { .prefix = strcmp(argv[4], "-") ? argv[4] : NULL, .shift = shift,
				     .whiteouts = strchr(argv[3], 'w') != NULL, .may_be_empty = strchr(argv[3], 'e') != NULL,
				     .skipped_devices = strchr(argv[3], 'd') ? &skipped : NULL };
		rc = tar_tree_unpack(0, 3, &in, &e);
	} else if (strcmp(argv[1], "pack") == 0 && (argc == 4 || argc == 5)) {
		char *extra = argc == 5 ? read_all(5) : NULL;
		rc = argc == 5 && !extra ? err_set(&e, ERR_INTERNAL, "reading the text of %s", argv[4])
					 : tar_tree_pack(3, 1, shift, argv[3], argc == 5 ? argv[4] : NULL, extra, &e);
		free(extra);
	} else {
		fprintf(stderr, "jaild-tar is run by jaild-priv, not by hand.\n");
		return 64;
	}
	dprintf(4, "%d %u %s", rc ? (e.code ? (int)e.code : ERR_INTERNAL) : ERR_OK, skipped, rc ? e.msg : "");
	return 0;
}
