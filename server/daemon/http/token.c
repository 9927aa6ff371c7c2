#include "http/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void token_make(char secret[64], uint8_t hash[32])
{
	unsigned char raw[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(secret, 64, "jd_%s", b64);
	crypto_hash_sha256(hash, (const unsigned char *)secret, strlen(secret));
	sodium_memzero(raw, sizeof raw);
}

int token_bootstrap(struct store *st, const char *data_dir, int64_t tenant_id, struct err *e)
{
	int64_t n;
	if (store_token_count(st, &n, e))
		return -1;
	if (n > 0)
		return 0;
	char secret[64];
	uint8_t hash[32];
	token_make(secret, hash);
	char path[512];
	snprintf(path, sizeof path, "%s/admin.token", data_dir);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(e, "writing %s", path);
	size_t len = strlen(secret);
	char line[72];
	snprintf(line, sizeof line, "%s\n", secret);
	ssize_t w = write(fd, line, len + 1);
	sodium_memzero(line, sizeof line);
	close(fd);
	if (w != (ssize_t)len + 1)
		return err_errno(e, "writing %s", path);
	if (store_token_add(st, tenant_id, "bootstrap", "admin", hash, e))
		return -1;
	/* printed once: from now on it is only in the 0600 file and in the operator's hands */
	printf("jaild: bootstrap admin token (also in %s):\n%s\n", path, secret);
	fflush(stdout);
	sodium_memzero(secret, sizeof secret);
	log_info("created the bootstrap admin token");
	return 0;
}
