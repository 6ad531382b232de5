#include "base/crypto.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* The soname is the one of the headers built against. */
#define CRYPTO_STR_(x) #x
#define CRYPTO_STR(x) CRYPTO_STR_(x)
#define LIBCRYPTO "libcrypto.so." CRYPTO_STR(OPENSSL_VERSION_MAJOR)

static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
	void *handle;
	unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t, unsigned char *,
			       unsigned int *);
	const EVP_MD *(*sha256)(void);
	int (*memcmp)(const void *, const void *, size_t);
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} lib;

const char CRYPTO_LIBRARY[] = LIBCRYPTO;

static int load(void)
{
	void *h;

	if (lib.state)
		return lib.state > 0 ? 0 : -1;
	lib.state = -1;
	if (!(h = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL)))
		return -1;
	lib.handle = h;
	/* POSIX: a function pointer may be stored through dlsym's void * */
	*(void **)&lib.hmac = dlsym(h, "HMAC");
	*(void **)&lib.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&lib.memcmp = dlsym(h, "CRYPTO_memcmp");
	*(void **)&lib.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&lib.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&lib.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&lib.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&lib.final = dlsym(h, "EVP_DigestFinal_ex");
	if (!lib.hmac || !lib.sha256 || !lib.memcmp || !lib.ctx_new || !lib.ctx_free || !lib.init || !lib.update
	    || !lib.final)
		return -1;
	lib.state = 1;
	return 0;
}

int crypto_available(void)
{
	return load();
}

int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
		       uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (load() || keylen > 0x7fffffff
	    || !lib.hmac(lib.sha256(), key, (int)keylen, (const unsigned char *)data, len, out, &n)
	    || n != CRYPTO_SHA256_LEN)
		return -1;
	return 0;
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	if (load()) {
		/* not reached by callers that already used HMAC; fall back to a plain loop */
		const uint8_t *x = a, *y = b;
		uint8_t d = 0;

		for (size_t i = 0; i < n; i++)
			d |= (uint8_t)(x[i] ^ y[i]);
		return d == 0;
	}
	return lib.memcmp(a, b, n) == 0;
}

int sha256_begin(struct sha256 *h)
{
	h->ctx = NULL;
	if (load() || !(h->ctx = lib.ctx_new()))
		return -1;
	if (!lib.init(h->ctx, lib.sha256(), NULL)) {
		sha256_abandon(h);
		return -1;
	}
	return 0;
}

int sha256_add(struct sha256 *h, const void *p, size_t n)
{
	return h->ctx && lib.update(h->ctx, p, n) ? 0 : -1;
}

int sha256_end(struct sha256 *h, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;
	int ok = h->ctx && lib.final(h->ctx, out, &n) && n == CRYPTO_SHA256_LEN;

	sha256_abandon(h);
	return ok ? 0 : -1;
}

void sha256_abandon(struct sha256 *h)
{
	if (h->ctx)
		lib.ctx_free(h->ctx);
	h->ctx = NULL;
}

int crypto_random(void *p, size_t n)
{
	uint8_t *q = p;

	while (n) {
		ssize_t got = getrandom(q, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += got;
		n -= (size_t)got;
	}
	return 0;
}

void crypto_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- Spark's RPC encryption: X25519, HKDF-SHA256, AES-GCM, AES-CTR (loaded on first use
 * of one of them, from the same library handle). ---- */

static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
	EVP_PKEY *(*pkey_new_raw_private)(int, ENGINE *, const unsigned char *, size_t);
	EVP_PKEY *(*pkey_new_raw_public)(int, ENGINE *, const unsigned char *, size_t);
	int (*pkey_get_raw_public)(const EVP_PKEY *, unsigned char *, size_t *);
	void (*pkey_free)(EVP_PKEY *);
	EVP_PKEY_CTX *(*pctx_new)(EVP_PKEY *, ENGINE *);
	void (*pctx_free)(EVP_PKEY_CTX *);
	int (*derive_init)(EVP_PKEY_CTX *);
	int (*derive_set_peer)(EVP_PKEY_CTX *, EVP_PKEY *);
	int (*derive)(EVP_PKEY_CTX *, unsigned char *, size_t *);
	EVP_CIPHER_CTX *(*cctx_new)(void);
	void (*cctx_free)(EVP_CIPHER_CTX *);
	int (*cipher_init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
			   const unsigned char *, int);
	int (*cipher_update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
	int (*cipher_final)(EVP_CIPHER_CTX *, unsigned char *, int *);
	int (*cctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
	const EVP_CIPHER *(*aes_128_gcm)(void);
	const EVP_CIPHER *(*aes_256_gcm)(void);
	const EVP_CIPHER *(*aes_128_ctr)(void);
	const EVP_CIPHER *(*aes_256_ctr)(void);
} ae;

static int load_ae(void)
{
	void *h;

	if (ae.state)
		return ae.state > 0 ? 0 : -1;
	if (load())
		return -1;
	ae.state = -1;
	h = lib.handle;
	*(void **)&ae.pkey_new_raw_private = dlsym(h, "EVP_PKEY_new_raw_private_key");
	*(void **)&ae.pkey_new_raw_public = dlsym(h, "EVP_PKEY_new_raw_public_key");
	*(void **)&ae.pkey_get_raw_public = dlsym(h, "EVP_PKEY_get_raw_public_key");
	*(void **)&ae.pkey_free = dlsym(h, "EVP_PKEY_free");
	*(void **)&ae.pctx_new = dlsym(h, "EVP_PKEY_CTX_new");
	*(void **)&ae.pctx_free = dlsym(h, "EVP_PKEY_CTX_free");
	*(void **)&ae.derive_init = dlsym(h, "EVP_PKEY_derive_init");
	*(void **)&ae.derive_set_peer = dlsym(h, "EVP_PKEY_derive_set_peer");
	*(void **)&ae.derive = dlsym(h, "EVP_PKEY_derive");
	*(void **)&ae.cctx_new = dlsym(h, "EVP_CIPHER_CTX_new");
	*(void **)&ae.cctx_free = dlsym(h, "EVP_CIPHER_CTX_free");
	*(void **)&ae.cipher_init = dlsym(h, "EVP_CipherInit_ex");
	*(void **)&ae.cipher_update = dlsym(h, "EVP_CipherUpdate");
	*(void **)&ae.cipher_final = dlsym(h, "EVP_CipherFinal_ex");
	*(void **)&ae.cctx_ctrl = dlsym(h, "EVP_CIPHER_CTX_ctrl");
	*(void **)&ae.aes_128_gcm = dlsym(h, "EVP_aes_128_gcm");
	*(void **)&ae.aes_256_gcm = dlsym(h, "EVP_aes_256_gcm");
	*(void **)&ae.aes_128_ctr = dlsym(h, "EVP_aes_128_ctr");
	*(void **)&ae.aes_256_ctr = dlsym(h, "EVP_aes_256_ctr");
	if (!ae.pkey_new_raw_private || !ae.pkey_new_raw_public || !ae.pkey_get_raw_public || !ae.pkey_free
	    || !ae.pctx_new || !ae.pctx_free || !ae.derive_init || !ae.derive_set_peer || !ae.derive
	    || !ae.cctx_new || !ae.cctx_free || !ae.cipher_init || !ae.cipher_update || !ae.cipher_final
	    || !ae.cctx_ctrl || !ae.aes_128_gcm || !ae.aes_256_gcm || !ae.aes_128_ctr || !ae.aes_256_ctr)
		return -1;
	ae.state = 1;
	return 0;
}

int crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN], uint8_t pub[CRYPTO_X25519_LEN])
{
	EVP_PKEY *k;
	size_t n = CRYPTO_X25519_LEN;
	int ok;

	if (load_ae() || !(k = ae.pkey_new_raw_private(EVP_PKEY_X25519, NULL, priv, CRYPTO_X25519_LEN)))
		return -1;
	ok = ae.pkey_get_raw_public(k, pub, &n) == 1 && n == CRYPTO_X25519_LEN;
	ae.pkey_free(k);
	return ok ? 0 : -1;
}

int crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN], const uint8_t peer[CRYPTO_X25519_LEN],
		  uint8_t shared[CRYPTO_X25519_LEN])
{
	EVP_PKEY *k = NULL, *p = NULL;
	EVP_PKEY_CTX *c = NULL;
	size_t n = CRYPTO_X25519_LEN;
	int ok = 0;

	if (load_ae())
		return -1;
	k = ae.pkey_new_raw_private(EVP_PKEY_X25519, NULL, priv, CRYPTO_X25519_LEN);
	p = ae.pkey_new_raw_public(EVP_PKEY_X25519, NULL, peer, CRYPTO_X25519_LEN);
	if (k && p && (c = ae.pctx_new(k, NULL)))
		/* OpenSSL refuses an all-zero result (a low-order peer key), as Tink's X25519 does */
		ok = ae.derive_init(c) == 1 && ae.derive_set_peer(c, p) == 1 && ae.derive(c, shared, &n) == 1
		     && n == CRYPTO_X25519_LEN;
	if (c)
		ae.pctx_free(c);
	if (p)
		ae.pkey_free(p);
	if (k)
		ae.pkey_free(k);
	return ok ? 0 : -1;
}

/* RFC 5869 with HMAC-SHA256; out_len at most 255 blocks.  An empty salt is HashLen zero
 * bytes (RFC 5869 2.2; Tink's Hkdf.computeHkdf does the same). */
int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	static const uint8_t zero[CRYPTO_SHA256_LEN];
	uint8_t prk[CRYPTO_SHA256_LEN], t[CRYPTO_SHA256_LEN];
	uint8_t *msg = NULL;
	size_t tlen = 0, done = 0;
	int rc = -1;

	if (out_len > 255 * CRYPTO_SHA256_LEN || info_len > SIZE_MAX - CRYPTO_SHA256_LEN - 1)
		return -1;
	if (crypto_hmac_sha256(salt_len ? salt : zero, salt_len ? salt_len : sizeof(zero), ikm, ikm_len, prk))
		return -1;
	if (!(msg = malloc(CRYPTO_SHA256_LEN + info_len + 1)))
		goto out;
	for (uint8_t i = 1; done < out_len; i++) {
		size_t n = 0, take;

		memcpy(msg, t, tlen);
		n += tlen;
		if (info_len)
			memcpy(msg + n, info, info_len);
		n += info_len;
		msg[n++] = i;
		if (crypto_hmac_sha256(prk, sizeof(prk), msg, n, t))
			goto out;
		tlen = sizeof(t);
		take = out_len - done < tlen ? out_len - done : tlen;
		memcpy(out + done, t, take);
		done += take;
	}
	rc = 0;
out:
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(t, sizeof(t));
	free(msg);
	return rc;
}

static const EVP_CIPHER *aes(int gcm, size_t keylen)
{
	if (keylen == 16)
		return gcm ? ae.aes_128_gcm() : ae.aes_128_ctr();
	if (keylen == 32)
		return gcm ? ae.aes_256_gcm() : ae.aes_256_ctr();
	return NULL;
}

int crypto_aes_gcm(int encrypt, const uint8_t *key, size_t keylen, const uint8_t iv[CRYPTO_GCM_IV_LEN],
		   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		   uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *c;
	const EVP_CIPHER *type;
	int n = 0, ok;

	if (load_ae() || !(type = aes(1, keylen)) || len > INT32_MAX || aad_len > INT32_MAX || !(c = ae.cctx_new()))
		return -1;
	ok = ae.cipher_init(c, type, NULL, key, iv, encrypt ? 1 : 0) == 1
	     && (!aad_len || ae.cipher_update(c, NULL, &n, aad, (int)aad_len) == 1)
	     && (!len || ae.cipher_update(c, out, &n, in, (int)len) == 1)
	     && (encrypt || ae.cctx_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) == 1)
	     && ae.cipher_final(c, out + len, &n) == 1
	     && (!encrypt || ae.cctx_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) == 1);
	ae.cctx_free(c);
	return ok ? 0 : -1;
}

int crypto_ctr_init(struct crypto_ctr *s, const uint8_t *key, size_t keylen, const uint8_t iv[CRYPTO_CTR_IV_LEN])
{
	const EVP_CIPHER *type;

	s->ctx = NULL;
	if (load_ae() || !(type = aes(0, keylen)) || !(s->ctx = ae.cctx_new()))
		return -1;
	if (ae.cipher_init(s->ctx, type, NULL, key, iv, 1) != 1) {
		crypto_ctr_release(s);
		return -1;
	}
	return 0;
}

int crypto_ctr_apply(struct crypto_ctr *s, const uint8_t *in, uint8_t *out, size_t len)
{
	while (len) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len, n = 0;

		if (!s->ctx || ae.cipher_update(s->ctx, out, &n, in, chunk) != 1 || n != chunk)
			return -1;
		in += chunk;
		out += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

void crypto_ctr_release(struct crypto_ctr *s)
{
	if (s->ctx)
		ae.cctx_free(s->ctx);
	s->ctx = NULL;
}
