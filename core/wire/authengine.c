#include "wire/authengine.h"

#include <string.h>

#include "base/crypto.h"
#include "wire/reader.h"

#define GCM_CT_LEN (CRYPTO_GCM_IV_LEN + CRYPTO_X25519_LEN + CRYPTO_GCM_TAG_LEN)

void authengine_init(struct authengine *a, const char *secret, int version)
{
	memset(a, 0, sizeof(*a));
	a->secret = secret;
	a->app_id = AUTH_APP_ID;
	a->version = version;
	buf_init(&a->challenge, AUTH_MESSAGE_MAX);
}

void authengine_release(struct authengine *a)
{
	buf_release(&a->challenge);
	explicit_bzero(a->priv, sizeof(a->priv));
	explicit_bzero(a->key, sizeof(a->key));
	explicit_bzero(a->input_iv, sizeof(a->input_iv));
	explicit_bzero(a->output_iv, sizeof(a->output_iv));
}

int authengine_message(struct buf *out, const char *app_id, const uint8_t *salt, size_t salt_len,
		       const uint8_t *ct, size_t ct_len)
{
	size_t id = strlen(app_id);
	int rc;

	if (id > AUTH_MESSAGE_MAX || salt_len > AUTH_MESSAGE_MAX || ct_len > AUTH_MESSAGE_MAX)
		return ERR_TOO_LARGE;
	rc = buf_addc(out, AUTH_MESSAGE_TAG);
	rc = rc ? rc : buf_be32(out, (uint32_t)id);
	rc = rc ? rc : buf_add(out, app_id, id);
	rc = rc ? rc : buf_be32(out, (uint32_t)salt_len);
	rc = rc ? rc : buf_add(out, salt, salt_len);
	rc = rc ? rc : buf_be32(out, (uint32_t)ct_len);
	return rc ? rc : buf_add(out, ct, ct_len);
}

/* AuthEngine's AAD state and key-encrypting key: aad = appId || salt || transcript. */
static int kek(const struct authengine *a, const uint8_t *salt, size_t salt_len, const uint8_t *transcript,
	       size_t tlen, struct buf *aad, uint8_t key[AUTH_SALT_LEN])
{
	int rc = buf_addstr(aad, a->app_id);

	rc = rc ? rc : buf_add(aad, salt, salt_len);
	rc = rc ? rc : buf_add(aad, transcript, tlen);
	if (rc)
		return rc;
	return crypto_hkdf_sha256((const uint8_t *)a->secret, strlen(a->secret), salt, salt_len, aad->data, aad->len,
				  key, AUTH_SALT_LEN) ? ERR_UNSUPPORTED : 0;
}

int authengine_challenge(struct authengine *a, struct buf *out, struct sg_err *e)
{
	uint8_t pub[CRYPTO_X25519_LEN], salt[AUTH_SALT_LEN], key[AUTH_SALT_LEN], ct[GCM_CT_LEN];
	struct buf aad = BUF_INIT(AUTH_MESSAGE_MAX);
	int rc;

	if (crypto_available())
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "spark.network.crypto needs %s, which cannot be loaded",
				  CRYPTO_LIBRARY);
	/* Tink's X25519.generatePrivateKey: 32 random bytes, clamped */
	if (crypto_random(a->priv, sizeof(a->priv)) || crypto_random(salt, sizeof(salt))
	    || crypto_random(ct, CRYPTO_GCM_IV_LEN))
		return sg_err_set(e, ERR_IO, 0, "no random bytes from the kernel");
	a->priv[0] &= 248;
	a->priv[31] &= 127;
	a->priv[31] |= 64;
	rc = crypto_x25519_public(a->priv, pub) ? ERR_UNSUPPORTED : 0;
	rc = rc ? rc : kek(a, salt, sizeof(salt), NULL, 0, &aad, key);
	if (!rc && crypto_aes_gcm(1, key, sizeof(key), ct, aad.data, aad.len, pub, sizeof(pub),
				  ct + CRYPTO_GCM_IV_LEN, ct + CRYPTO_GCM_IV_LEN + CRYPTO_X25519_LEN))
		rc = ERR_UNSUPPORTED;
	buf_reset(&a->challenge);
	rc = rc ? rc : authengine_message(&a->challenge, a->app_id, salt, sizeof(salt), ct, sizeof(ct));
	rc = rc ? rc : buf_add(out, a->challenge.data, a->challenge.len);
	explicit_bzero(key, sizeof(key));
	buf_release(&aad);
	return rc ? sg_err_set(e, rc, 0, "cannot build the AuthEngine challenge: %s", sg_err_name(rc)) : 0;
}

int authengine_adopt(struct authengine *a, const uint8_t priv[32], const uint8_t *challenge, size_t len)
{
	memcpy(a->priv, priv, sizeof(a->priv));
	buf_reset(&a->challenge);
	return buf_add(&a->challenge, challenge, len);
}

/* AuthMessage.decodeMessage over a bounded reader: the lengths are checked before use. */
static int decode(const uint8_t *p, size_t len, const uint8_t **app, uint32_t *app_len, const uint8_t **salt,
		  uint32_t *salt_len, const uint8_t **ct, uint32_t *ct_len)
{
	struct reader r;

	reader_init(&r, p, len);
	if (reader_u8(&r) != AUTH_MESSAGE_TAG)
		return ERR_PROTOCOL;
	*app_len = reader_be32(&r);
	*app = reader_bytes(&r, *app_len);
	*salt_len = reader_be32(&r);
	*salt = reader_bytes(&r, *salt_len);
	*ct_len = reader_be32(&r);
	*ct = reader_bytes(&r, *ct_len);
	return r.err ? ERR_PROTOCOL : 0;
}

static int transcript_key(const uint8_t *shared, const uint8_t *t, size_t tlen, const char *info, uint8_t *out,
			  size_t n)
{
	return crypto_hkdf_sha256(shared, CRYPTO_X25519_LEN, t, tlen, (const uint8_t *)info, strlen(info), out, n);
}

int authengine_derive(struct authengine *a, const uint8_t *reply, size_t len, struct sg_err *e)
{
	const uint8_t *app, *salt, *ct;
	uint32_t app_len, salt_len, ct_len;
	uint8_t key[AUTH_SALT_LEN], pub[CRYPTO_X25519_LEN], shared[CRYPTO_X25519_LEN], tag[CRYPTO_GCM_TAG_LEN];
	struct buf aad = BUF_INIT(2 * AUTH_MESSAGE_MAX), transcript = BUF_INIT(2 * AUTH_MESSAGE_MAX);
	int rc;

	if (len > AUTH_MESSAGE_MAX || decode(reply, len, &app, &app_len, &salt, &salt_len, &ct, &ct_len))
		return sg_err_set(e, ERR_PROTOCOL, 0, "the master's answer to the AuthEngine challenge is not an "
				  "AuthMessage (%zu bytes)", len);
	if (app_len != strlen(a->app_id) || memcmp(app, a->app_id, app_len))
		return sg_err_set(e, ERR_PROTOCOL, 0, "the master's AuthMessage names another application");
	if (ct_len != GCM_CT_LEN)
		return sg_err_set(e, ERR_PROTOCOL, 0, "the master's AuthMessage holds %u bytes of key, not %d",
				  ct_len, GCM_CT_LEN);
	memcpy(tag, ct + CRYPTO_GCM_IV_LEN + CRYPTO_X25519_LEN, sizeof(tag));
	rc = kek(a, salt, salt_len, a->challenge.data, a->challenge.len, &aad, key);
	if (!rc && crypto_aes_gcm(0, key, sizeof(key), ct, aad.data, aad.len, ct + CRYPTO_GCM_IV_LEN,
				  CRYPTO_X25519_LEN, pub, tag)) {
		/* not a refusal: nothing falls back to SASL on it (AuthClientBootstrap rethrows a
		 * GeneralSecurityException), or whoever answers could downgrade the connection */
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "the master's AuthMessage does not decrypt with sparkgate's secret");
		goto out;
	}
	if (!rc && crypto_x25519(a->priv, pub, shared)) {
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "the master's X25519 key is not usable");
		goto out;
	}
	/* getTranscript(client, server): both messages as AuthMessage.encode writes them */
	rc = rc ? rc : buf_add(&transcript, a->challenge.data, a->challenge.len);
	rc = rc ? rc : authengine_message(&transcript, a->app_id, salt, salt_len, ct, ct_len);
	if (rc)
		goto out;
	if (a->version == 1) {
		memcpy(a->key, shared, sizeof(shared));
		a->key_len = sizeof(shared);
	} else {
		a->key_len = 16;
		rc = transcript_key(shared, transcript.data, transcript.len, "derivedKey", a->key, a->key_len)
			     ? ERR_UNSUPPORTED : 0;
	}
	if (!rc && (transcript_key(shared, transcript.data, transcript.len, "inputIv", a->input_iv, AUTH_IV_LEN)
		    || transcript_key(shared, transcript.data, transcript.len, "outputIv", a->output_iv, AUTH_IV_LEN)))
		rc = ERR_UNSUPPORTED;
out:
	if (rc && !(e && e->code))
		sg_err_set(e, rc, 0, "AuthEngine key derivation failed: %s", sg_err_name(rc));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(shared, sizeof(shared));
	buf_release(&aad);
	buf_release(&transcript);
	return rc;
}
