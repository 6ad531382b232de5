#include "base/crypto.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <sys/random.h>

/* The soname is the one of the headers built against. */
#define CRYPTO_STR_(x) #x
#define CRYPTO_STR(x) CRYPTO_STR_(x)
#define LIBCRYPTO "libcrypto.so." CRYPTO_STR(OPENSSL_VERSION_MAJOR)

static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
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
