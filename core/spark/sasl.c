#include "spark/sasl.h"

#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* sasl_callback_t holds every callback as int (*)(void); void (*)(void) in between tells
 * the compiler the cast is deliberate. */
#define SG_SASL_CB(f) ((int (*)(void))(void (*)(void))(f))

struct sasl_digest {
	sasl_conn_t *conn;
	sasl_callback_t callbacks[4];
	char user[64];               /* base64("sparkSaslUser") */
	sasl_secret_t *password;     /* base64(secret) */
};

static int base64(const char *in, size_t len, char *out, size_t size)
{
	unsigned n = 0;

	return sasl_encode64(in, (unsigned)len, out, (unsigned)size, &n) == SASL_OK ? (int)n : -1;
}

static int get_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct sasl_digest *s = ctx;

	if (id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = s->user;
	if (len)
		*len = (unsigned)strlen(s->user);
	return SASL_OK;
}

static int get_password(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **secret)
{
	struct sasl_digest *s = ctx;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	*secret = s->password;
	return SASL_OK;
}

static int get_realm(void *ctx, int id, const char **available, const char **result)
{
	(void)ctx;
	(void)available;
	if (id != SASL_CB_GETREALM)
		return SASL_BADPARAM;
	*result = "default";   /* SparkSaslServer.DEFAULT_REALM */
	return SASL_OK;
}

static int library_ready(struct sg_err *e)
{
	static int rc = -1;

	if (rc == -1)
		rc = sasl_client_init(NULL);
	return rc == SASL_OK ? 0 : sg_err_set(e, ERR_UNSUPPORTED, 0, "cannot initialise Cyrus SASL: %s",
					      sasl_errstring(rc, NULL, NULL));
}

void sasl_digest_free(struct sasl_digest *s)
{
	if (!s)
		return;
	if (s->conn)
		sasl_dispose(&s->conn);
	if (s->password) {
		explicit_bzero(s->password->data, s->password->len);
		free(s->password);
	}
	free(s);
}

static int set_token(struct buf *token, const char *out, unsigned len, struct sg_err *e)
{
	buf_reset(token);
	return buf_add(token, out, len) ? sg_err_set(e, ERR_NOMEM, 0, "SASL token too large") : 0;
}

struct sasl_digest *sasl_digest_start(const char *secret, struct buf *token, struct sg_err *e)
{
	struct sasl_digest *s;
	size_t slen = strlen(secret);
	const char *out = NULL, *mech = NULL;
	unsigned outlen = 0;
	int rc;

	if (library_ready(e))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->password = calloc(1, sizeof(sasl_secret_t) + slen * 2 + 8))) {
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		sasl_digest_free(s);
		return NULL;
	}
	int n = base64(SASL_APP_ID, strlen(SASL_APP_ID), s->user, sizeof(s->user));
	int p = base64(secret, slen, (char *)s->password->data, slen * 2 + 8);

	if (n < 0 || p < 0) {
		sg_err_set(e, ERR_INVALID, 0, "cannot encode the secret");
		sasl_digest_free(s);
		return NULL;
	}
	s->password->len = (unsigned long)p;
	s->callbacks[0] = (sasl_callback_t){ SASL_CB_AUTHNAME, SG_SASL_CB(get_user), s };
	s->callbacks[1] = (sasl_callback_t){ SASL_CB_PASS, SG_SASL_CB(get_password), s };
	s->callbacks[2] = (sasl_callback_t){ SASL_CB_GETREALM, SG_SASL_CB(get_realm), s };
	s->callbacks[3] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	/* Java's Sasl.createSaslClient(.., protocol null, serverName "default") */
	rc = sasl_client_new("null", "default", NULL, NULL, s->callbacks, 0, &s->conn);
	if (rc == SASL_OK) {
		sasl_security_properties_t sp = { .min_ssf = 0, .max_ssf = 0, .maxbufsize = 65536 };

		rc = sasl_setprop(s->conn, SASL_SEC_PROPS, &sp);
	}
	if (rc == SASL_OK)
		rc = sasl_client_start(s->conn, "DIGEST-MD5", NULL, &out, &outlen, &mech);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		sg_err_set(e, ERR_UNSUPPORTED, 0, "SASL DIGEST-MD5 unavailable: %s",
			   s->conn ? sasl_errdetail(s->conn) : sasl_errstring(rc, NULL, NULL));
		sasl_digest_free(s);
		return NULL;
	}
	if (set_token(token, out, outlen, e)) {
		sasl_digest_free(s);
		return NULL;
	}
	return s;
}

int sasl_digest_step(struct sasl_digest *s, const void *in, size_t len, struct buf *token, struct sg_err *e)
{
	const char *out = NULL;
	unsigned outlen = 0;
	int rc;

	if (len > 65536)
		return sg_err_set(e, ERR_TOO_LARGE, 0, "SASL challenge of %zu bytes", len);
	rc = sasl_client_step(s->conn, in, (unsigned)len, NULL, &out, &outlen);
	if (rc != SASL_OK && rc != SASL_CONTINUE)
		return sg_err_set(e, ERR_REMOTE, 0, "SASL DIGEST-MD5 failed: %s", sasl_errdetail(s->conn));
	if (set_token(token, out, outlen, e))
		return ERR_NOMEM;
	/* Java's client is complete once it has checked the server's rspauth and sends
	 * nothing more; Cyrus reports that as SASL_OK with no output. */
	return rc == SASL_OK && outlen == 0 ? 1 : 0;
}

int sasl_message(struct buf *out, const void *token, size_t len)
{
	size_t id = strlen(SASL_APP_ID);
	int rc;

	if (len > INT32_MAX)
		return ERR_TOO_LARGE;
	rc = buf_addc(out, SASL_MESSAGE_TAG);
	rc = rc ? rc : buf_be32(out, (uint32_t)id);
	rc = rc ? rc : buf_add(out, SASL_APP_ID, id);
	rc = rc ? rc : buf_be32(out, (uint32_t)len);
	return rc ? rc : buf_add(out, token, len);
}
