/* login.c — browser sessions for tenant users: POST /api/login and /api/logout.
 * Passwords are argon2id (libsodium crypto_pwhash_str). Failed logins are throttled
 * per user and per source address; every attempt is in the audit log. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/jails.h"
#include "json_spec.h"
#include "log.h"

#define SESSION_SECONDS (12 * 3600)
#define FAIL_MAX 5             /* failures allowed ... */
#define FAIL_WINDOW 900        /* ... per 15 minutes, per user and per source */
#define THROTTLE_SLOTS 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char key[160];
	int fails;
	time_t since;
} slots[THROTTLE_SLOTS];
static char dummy_hash[crypto_pwhash_STRBYTES];

static unsigned slot_of(const char *key)
{
	unsigned h = 5381;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % THROTTLE_SLOTS;
}

/* Seconds to wait before another try for key, 0 when it may go on. */
static long throttled(const char *key, time_t now)
{
	unsigned i = slot_of(key);
	long wait = 0;
	pthread_mutex_lock(&mu);
	if (strcmp(slots[i].key, key) == 0 && now - slots[i].since < FAIL_WINDOW && slots[i].fails >= FAIL_MAX)
		wait = FAIL_WINDOW - (now - slots[i].since);
	pthread_mutex_unlock(&mu);
	return wait;
}

static void record(const char *key, time_t now, bool failed)
{
	unsigned i = slot_of(key);
	pthread_mutex_lock(&mu);
	if (strcmp(slots[i].key, key) != 0 || now - slots[i].since >= FAIL_WINDOW) {
		snprintf(slots[i].key, sizeof slots[i].key, "%s", key);
		slots[i].fails = 0;
		slots[i].since = now;
	}
	slots[i].fails = failed ? slots[i].fails + 1 : 0;
	pthread_mutex_unlock(&mu);
}

int login_init(void)
{
	/* unknown users are checked against this, so they take as long as known ones */
	char pw[32];
	randombytes_buf(pw, sizeof pw);
	return crypto_pwhash_str(dummy_hash, pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int login_hash_password(const char *password, char out[crypto_pwhash_STRBYTES])
{
	return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

void h_login(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	const char *in_tenant, *in_user, *password;
	const struct jfield spec[] = {
		JF_STRING("tenant", true, NULL, &in_tenant, NULL),
		JF_STRING("user", true, NULL, &in_user, NULL),
		JF_STRING("password", true, NULL, &password, NULL),
		JF_END,
	};
	if (json_parse_fields(body, spec, "", NULL, &e)) {
		json_decref(body);
		return resp_error(rs, &e);
	}
	/* copies: the body goes before the answer is made */
	char tenant[64], user[64];
	snprintf(tenant, sizeof tenant, "%s", in_tenant);
	snprintf(user, sizeof user, "%s", in_user);
	bool fits = strlen(in_tenant) < sizeof tenant && strlen(in_user) < sizeof user;
	char ukey[160], skey[160];
	snprintf(ukey, sizeof ukey, "u:%.63s/%.63s", tenant, user);
	snprintf(skey, sizeof skey, "s:%s", rq->remote ? rq->remote : "");
	time_t now = time(NULL);
	long wait = throttled(ukey, now);
	long wait2 = throttled(skey, now);
	if (wait2 > wait)
		wait = wait2;
	if (wait > 0) {
		json_decref(body);
		snprintf(rs->retry_after, sizeof rs->retry_after, "%ld", wait);
		return resp_errorf(rs, ERR_RATE, NULL, "too many failed logins; try again in %ld s", wait);
	}
	int64_t user_id = 0;
	char hash[crypto_pwhash_STRBYTES] = "";
	bool known = fits && valid_name(tenant) && strlen(password) <= 1024 &&
		     store_user_get(J.st, tenant, user, &user_id, hash, sizeof hash, &e) == 0;
	bool ok = crypto_pwhash_str_verify(known ? hash : dummy_hash, password, strlen(password)) == 0 && known;
	json_decref(body);
	record(ukey, now, !ok);
	record(skey, now, !ok);
	if (!ok) {
		log_warn("failed login for %s from %s", ukey + 2, rq->remote ? rq->remote : "?");
		return resp_json(rs, 401, json_pack("{s{ssss}}", "error", "code", "unauthorized", "message",
						      "the tenant, user or password is wrong"));
	}
	uint8_t raw[32], sh[32], cr[18];
	char secret[64], csrf[40], expires[32];
	randombytes_buf(raw, sizeof raw);
	randombytes_buf(cr, sizeof cr);
	sodium_bin2base64(secret, sizeof secret, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2hex(csrf, sizeof csrf, cr, sizeof cr);
	crypto_hash_sha256(sh, (const unsigned char *)secret, strlen(secret));
	time_t until = now + SESSION_SECONDS;
	struct tm tm;
	gmtime_r(&until, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (store_session_add(J.st, sh, user_id, csrf, expires, &e) < 0)
		return resp_error(rs, &e);
	snprintf(rs->set_cookie, sizeof rs->set_cookie, SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", secret,
		 SESSION_SECONDS, J.tls ? "; Secure" : "");
	sodium_memzero(secret, sizeof secret);
	resp_json(rs, 200, json_pack("{ssssssssss}", "tenant", tenant, "user", user, "role", "tenant", "csrf_token", csrf,
				     "expires_at", expires));
}

void h_logout(struct request *rq, struct response *rs)
{
	/* a session ends with its cookie; the CSRF check already ran in authenticate */
	const char *cookie = req_cookie(rq, SESSION_COOKIE);
	if (!rq->who.user_id || !cookie)
		return resp_errorf(rs, ERR_INVALID, NULL, "logout ends a browser session; this request has none");
	uint8_t sh[32];
	crypto_hash_sha256(sh, (const unsigned char *)cookie, strlen(cookie));
	store_session_delete(J.st, sh);
	snprintf(rs->set_cookie, sizeof rs->set_cookie, SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		 J.tls ? "; Secure" : "");
	rs->status = 204;
	rs->text = strdup("");
}
