#include "http/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static FILE *create_new(const char *path, mode_t mode, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			err_set(e, ERR_CONFLICT, "%s already exists; remove it first to make a new one", path);
		else
			err_errno(e, "creating %s", path);
		return NULL;
	}
	return fdopen(fd, "w");
}

int tls_gen_cert(const char *dir, struct err *e)
{
	char host[256] = "localhost", crt[512], key[512], san[600];
	gethostname(host, sizeof host - 1);
	snprintf(crt, sizeof crt, "%s/jaild.crt", dir);
	snprintf(key, sizeof key, "%s/jaild.key", dir);
	snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", host);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_errno(e, "creating %s", dir);
	int rc = -1;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	FILE *kf = NULL, *cf = NULL;
	if (!pkey || !cert) {
		err_set(e, ERR_INTERNAL, "OpenSSL could not make a key");
		goto out;
	}
	unsigned char serial[16];
	FILE *ur = fopen("/dev/urandom", "re");
	if (!ur || fread(serial, 1, sizeof serial, ur) != sizeof serial) {
		if (ur)
			fclose(ur);
		err_errno(e, "reading /dev/urandom");
		goto out;
	}
	fclose(ur);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_set_version(cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 825L * 86400);
	X509_set_pubkey(cert, pkey);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"jaild", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (add_ext(cert, NID_subject_alt_name, san) || add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") || !X509_sign(cert, pkey, EVP_sha256())) {
		err_set(e, ERR_INTERNAL, "OpenSSL could not sign the certificate");
		goto out;
	}
	/* the key first and 0600 from its creation: it never exists readable by others */
	if (!(kf = create_new(key, 0600, e)) || !(cf = create_new(crt, 0644, e)))
		goto out;
	if (!PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(cf, cert)) {
		err_set(e, ERR_INTERNAL, "writing the key or certificate failed");
		goto out;
	}
	rc = 0;
out:
	if (kf && fclose(kf) != 0 && rc == 0)
		rc = err_errno(e, "writing %s", key);
	if (cf && fclose(cf) != 0 && rc == 0)
		rc = err_errno(e, "writing %s", crt);
	if (rc) {
		if (kf)
			unlink(key);
		if (cf)
			unlink(crt);
	}
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return rc;
}

char *tls_read_pem(const char *path, struct err *e)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		err_errno(e, "reading %s", path);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	if (!m || fclose(m) != 0 || len == 0) {
		free(buf);
		err_set(e, ERR_INVALID, "%s is empty or unreadable", path);
		return NULL;
	}
	return buf;
}
