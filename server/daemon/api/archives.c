/* archives.c — GET /api/jails/{name}/export and POST /api/jails/import: a jail as
 * one tarball (jail.json and files/), a backup and a way to another host. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "log.h"
#include "core/templates.h"

void h_jail_export(struct request *rq, struct response *rs)
{
	struct jail_row row = { 0 };
	if (visible_jail(rq, rs, rq->params[0], &row) < 0)
		return;
	char *spec = row.spec; /* the stored canonical text: ours now */
	row.spec = NULL;
	jail_row_clear(&row);
	int p[2] = { -1, -1 };
	struct err e;
	if (!spec || pipe2(p, O_CLOEXEC) < 0) {
		free(spec);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot start the export");
	}
	int rc = jail_export_start(rq->params[0], spec, p[1], &e);
	free(spec);
	if (rc < 0) {
		close(p[0]), close(p[1]);
		return resp_error(rs, &e);
	}
	resp_fd(rs, 200, p[0], "application/x-tar");
}

/* jail.json of an export, read here (unprivileged) before the helper sees the files. */
static json_t *read_spec(int fd, struct err *e)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	json_t *spec = NULL;
	lseek(fd, 0, SEEK_SET);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		err_set(e, ERR_INVALID, "the body is not a tar archive: %s", archive_error_string(a));
		goto out;
	}
	struct archive_entry *en;
	while (archive_read_next_header(a, &en) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(en);
		if (strcmp(p, "jail.json") != 0 && strcmp(p, "./jail.json") != 0)
			continue;
		la_int64_t size = archive_entry_size(en);
		if (size <= 0 || size > 1 << 20) {
			err_set(e, ERR_INVALID, "jail.json in the archive is empty or larger than 1 MiB");
			goto out;
		}
		char *text = malloc((size_t)size + 1);
		la_ssize_t n = text ? archive_read_data(a, text, (size_t)size) : -1;
		if (n == size) {
			json_error_t je;
			text[n] = '\0';
			if (!(spec = json_loads(text, 0, &je)) || !json_is_object(spec)) {
				json_decref(spec);
				spec = NULL;
				err_set(e, ERR_INVALID, "jail.json in the archive is not a JSON object: %s", je.text);
			}
		} else {
			err_set(e, ERR_INVALID, "reading jail.json from the archive failed");
		}
		free(text);
		goto out;
	}
	err_set(e, ERR_INVALID, "the archive has no jail.json: is it an export of jaild's (GET /api/jails/NAME/export)?");
out:
	archive_read_free(a);
	return spec;
}

/* POST /api/jails/import[?name=NEW][&start=1] with an export as the body. The jail gets
 * a new uid range and, if it had addresses, new ones from this host's pools. */
void h_jail_import(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	json_t *spec = read_spec(rq->upload_fd, &e);
	if (!spec)
		return resp_error(rs, &e);
	const char *name = req_query(rq, "name"), *start = req_query(rq, "start");
	if (name) {
		/* a copy under a new name: a hostname that was the old name follows it */
		json_t *old = json_object_get(spec, "name"), *host = json_object_get(spec, "hostname");
		if (json_is_string(old) && json_is_string(host) && json_equal(old, host))
			json_object_set_new(spec, "hostname", json_string(name));
		json_object_set_new(spec, "name", json_string(name));
	}
	for (const char *const *k = (const char *const[]){ "ip4", "ip6", NULL }; *k; k++)
		if (json_array_size(json_object_get(spec, *k)) > 0)
			json_object_set_new(spec, *k, json_pack("[s]", "auto"));
	struct jail_row row = { 0 };
	int rc = jail_create_from(&rq->who, spec, start && strcmp(start, "1") == 0, rq->upload_fd, &row, &e);
	json_decref(spec);
	if (rc < 0)
		return resp_error(rs, &e);
	snprintf(rs->location, sizeof rs->location, "/api/jails/%s", row.name);
	resp_json(rs, 201, jail_to_json(&row, NULL));
	snprintf(rs->etag, sizeof rs->etag, "\"%lld\"", (long long)row.version);
	jail_row_clear(&row);
}
