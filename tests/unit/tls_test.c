/* TLS trust (base/tls.c): a JKS store made by keytool (tests/golden/tls) gives the
 * certificates a JDK trust manager trusts, its digest checked with the password; every
 * truncated prefix, a flipped byte and a wrong password fail cleanly; the PEM CA file and the
 * refusals of a trust-less or unreadable configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tls.h"
#include "t.h"

static size_t slurp(const char *path, uint8_t *out, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(out, 1, max, f) : 0;

	if (f)
		fclose(f);
	CHECK(n > 0 && n < max, "read %s", path);
	return n;
}

static uint8_t jks[4096], ca[2048], own[2048], out[8192];

static void jks_store(void)
{
	size_t n = slurp("tests/golden/tls/trust.jks", jks, sizeof(jks));
	size_t nca = slurp("tests/golden/tls/ca.der", ca, sizeof(ca));
	size_t nown = slurp("tests/golden/tls/own.der", own, sizeof(own));
	struct sg_err e = { 0 };
	size_t len = 0;
	int count = tls_jks_certs(jks, n, "trust-pw", out, sizeof(out), &len, &e);
	int seen_ca = 0, seen_own = 0;

	CHECK(count == 2, "count %d: %s", count, e.msg);
	for (size_t at = 0; count == 2 && at + 4 <= len;) {
		size_t l = (size_t)out[at] << 24 | (size_t)out[at + 1] << 16 | (size_t)out[at + 2] << 8 | out[at + 3];

		seen_ca |= l == nca && memcmp(out + at + 4, ca, l) == 0;
		seen_own |= l == nown && memcmp(out + at + 4, own, l) == 0;
		at += 4 + l;
	}
	CHECK(seen_ca && seen_own, "the trusted entry %d, the key entry's certificate %d", seen_ca, seen_own);
	/* no password: read without the check, as Java's KeyStore.load(in, null) */
	memset(&e, 0, sizeof(e));
	CHECK(tls_jks_certs(jks, n, NULL, out, sizeof(out), &len, &e) == 2, "%s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_jks_certs(jks, n, "wrong", out, sizeof(out), &len, &e) == ERR_INVALID
	      && strstr(e.msg, "trustStorePassword"), "%s", e.msg);
	/* a flipped byte inside a certificate: the digest no longer matches */
	jks[n / 2] ^= 1;
	memset(&e, 0, sizeof(e));
	CHECK(tls_jks_certs(jks, n, "trust-pw", out, sizeof(out), &len, &e) < 0, "a flipped byte was accepted");
	jks[n / 2] ^= 1;
	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1);   /* exactly k bytes: an over-read shows under ASan */
		int rc;

		memcpy(copy, jks, k);
		memset(&e, 0, sizeof(e));
		rc = tls_jks_certs(copy, k, "trust-pw", out, sizeof(out), &len, &e);
		CHECK(rc < 0 && e.code == rc, "prefix of %zu bytes: %d", k, rc);
		free(copy);
	}
	memset(&e, 0, sizeof(e));
	CHECK(tls_jks_certs(jks, n, "trust-pw", out, 100, &len, &e) == ERR_TOO_LARGE, "a small out");
}

static void contexts(void)
{
	struct tls_trust none = { 0 }, pem = { .ca_file = "tests/golden/tls/ca.pem" },
			 store = { .trust_store = "tests/golden/tls/trust.jks", .trust_store_password = "trust-pw" },
			 bad = { .trust_store = "tests/golden/tls/trust.jks", .trust_store_password = "nope" },
			 missing = { .ca_file = "tests/golden/tls/none.pem" },
			 notpem = { .ca_file = "tests/golden/tls/ca.der" },
			 proto = { .ca_file = "tests/golden/tls/ca.pem", .protocol = "SSLv3" },
			 pinned = { .ca_file = "tests/golden/tls/ca.pem", .protocol = "TLSv1.3",
				    .ciphers = "TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,NO_SUCH" };
	struct tls_ctx *c = NULL, *d = NULL;
	struct sg_err e = { 0 };

	CHECK(tls_ctx_new(&c, &none, &e) == ERR_INVALID && strstr(e.msg, "never connects without verifying"), "%s",
	      e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_ctx_new(&c, &pem, &e) == 0 && strstr(tls_ctx_source(c), "ca.pem"), "%s", e.msg);
	CHECK(tls_ctx_new(&d, &store, &e) == 0 && strcmp(tls_ctx_id(c), tls_ctx_id(d)) != 0, "%s", e.msg);
	tls_ctx_free(c);
	tls_ctx_free(d);
	c = d = NULL;
	CHECK(tls_ctx_new(&c, &bad, &e) == ERR_INVALID && strstr(e.msg, "trust.jks"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_ctx_new(&c, &missing, &e) == ERR_IO && strstr(e.msg, "none.pem"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_ctx_new(&c, &notpem, &e) == ERR_INVALID && strstr(e.msg, "no PEM certificate"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_ctx_new(&c, &proto, &e) == ERR_UNSUPPORTED && strstr(e.msg, "SSLv3"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(tls_ctx_new(&c, &pinned, &e) == 0, "%s", e.msg);
	tls_ctx_free(c);
}

int main(void)
{
	struct tls_trust pem = { .ca_file = "tests/golden/tls/ca.pem" };
	struct tls_ctx *c = NULL;

	if (tls_ctx_new(&c, &pem, NULL) == ERR_UNSUPPORTED) {
		printf("tls: %s not loadable\n", TLS_LIBRARY);
		return t_done("tls");
	}
	tls_ctx_free(c);
	jks_store();
	contexts();
	return t_done("tls");
}
