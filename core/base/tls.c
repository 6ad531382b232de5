#include "base/tls.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/opensslv.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/crypto.h"

#define TLS_STR_(x) #x
#define TLS_STR(x) TLS_STR_(x)
#define LIBSSL "libssl.so." TLS_STR(OPENSSL_VERSION_MAJOR)

const char TLS_LIBRARY[] = LIBSSL;

#define TLS_MAX_STORE (4u << 20)   /* a trust store or CA file larger than this is not one */

/* libssl's and libcrypto's functions (dlsym on libssl's handle finds libcrypto's too) */
static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *);
	void (*ctx_free)(SSL_CTX *);
	long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
	void (*ctx_set_verify)(SSL_CTX *, int, SSL_verify_cb);
	X509_STORE *(*ctx_store)(const SSL_CTX *);
	int (*ctx_load_verify)(SSL_CTX *, const char *, const char *);
	int (*ctx_cipher_list)(SSL_CTX *, const char *);
	int (*ctx_ciphersuites)(SSL_CTX *, const char *);
	SSL *(*ssl_new)(SSL_CTX *);
	void (*ssl_free)(SSL *);
	int (*connect)(SSL *);
	int (*read)(SSL *, void *, int);
	int (*write)(SSL *, const void *, int);
	int (*get_error)(const SSL *, int);
	int (*pending)(const SSL *);
	long (*ssl_ctrl)(SSL *, int, long, void *);
	int (*set1_host)(SSL *, const char *);
	void (*set_hostflags)(SSL *, unsigned int);
	X509_VERIFY_PARAM *(*get0_param)(SSL *);
	long (*verify_result)(const SSL *);
	const char *(*std_to_openssl)(const char *);
	int (*param_ip)(X509_VERIFY_PARAM *, const char *);
	const char *(*verify_string)(long);
	unsigned long (*err_get)(void);
	void (*err_string)(unsigned long, char *, size_t);
	void (*err_clear)(void);
	int (*store_add)(X509_STORE *, X509 *);
	X509 *(*d2i_x509)(X509 **, const unsigned char **, long);
	void (*x509_free)(X509 *);
	PKCS12 *(*d2i_pkcs12)(PKCS12 **, const unsigned char **, long);
	void (*pkcs12_free)(PKCS12 *);
	int (*pkcs12_parse)(PKCS12 *, const char *, EVP_PKEY **, X509 **, STACK_OF(X509) **);
	void (*pkey_free)(EVP_PKEY *);
	int (*sk_num)(const OPENSSL_STACK *);
	void *(*sk_value)(const OPENSSL_STACK *, int);
	void (*sk_free)(OPENSSL_STACK *);
	int (*i2d_x509)(const X509 *, unsigned char **);
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
	const EVP_MD *(*sha1)(void);
	void (*crypto_free)(void *, const char *, int);
	BIO *(*bio_new)(const BIO_METHOD *);
	const BIO_METHOD *(*bio_s_mem)(void);
	void (*set_bio)(SSL *, BIO *, BIO *);
	int (*bio_read)(BIO *, void *, int);
	int (*bio_write)(BIO *, const void *, int);
	long (*bio_ctrl)(BIO *, int, long, void *);
	int (*bio_free)(BIO *);
} lib;

static int load(void)
{
	void *h;

	if (lib.state)
		return lib.state > 0 ? 0 : -1;
	lib.state = -1;
	if (!(h = dlopen(LIBSSL, RTLD_NOW | RTLD_LOCAL)))
		return -1;
	/* POSIX: a function pointer may be stored through dlsym's void * */
	struct { void **fn; const char *name; } syms[] = {
		{ (void **)&lib.client_method, "TLS_client_method" }, { (void **)&lib.ctx_new, "SSL_CTX_new" },
		{ (void **)&lib.ctx_free, "SSL_CTX_free" }, { (void **)&lib.ctx_ctrl, "SSL_CTX_ctrl" },
		{ (void **)&lib.ctx_set_verify, "SSL_CTX_set_verify" },
		{ (void **)&lib.ctx_store, "SSL_CTX_get_cert_store" },
		{ (void **)&lib.ctx_load_verify, "SSL_CTX_load_verify_locations" },
		{ (void **)&lib.ctx_cipher_list, "SSL_CTX_set_cipher_list" },
		{ (void **)&lib.ctx_ciphersuites, "SSL_CTX_set_ciphersuites" }, { (void **)&lib.ssl_new, "SSL_new" },
		{ (void **)&lib.ssl_free, "SSL_free" },
		{ (void **)&lib.connect, "SSL_connect" }, { (void **)&lib.read, "SSL_read" },
		{ (void **)&lib.write, "SSL_write" }, { (void **)&lib.get_error, "SSL_get_error" },
		{ (void **)&lib.pending, "SSL_pending" }, { (void **)&lib.ssl_ctrl, "SSL_ctrl" },
		{ (void **)&lib.set1_host, "SSL_set1_host" }, { (void **)&lib.set_hostflags, "SSL_set_hostflags" }, { (void **)&lib.get0_param, "SSL_get0_param" },
		{ (void **)&lib.verify_result, "SSL_get_verify_result" },
		{ (void **)&lib.std_to_openssl, "OPENSSL_cipher_name" },
		{ (void **)&lib.param_ip, "X509_VERIFY_PARAM_set1_ip_asc" },
		{ (void **)&lib.verify_string, "X509_verify_cert_error_string" },
		{ (void **)&lib.err_get, "ERR_get_error" }, { (void **)&lib.err_string, "ERR_error_string_n" },
		{ (void **)&lib.err_clear, "ERR_clear_error" }, { (void **)&lib.store_add, "X509_STORE_add_cert" },
		{ (void **)&lib.d2i_x509, "d2i_X509" }, { (void **)&lib.x509_free, "X509_free" },
		{ (void **)&lib.d2i_pkcs12, "d2i_PKCS12" }, { (void **)&lib.pkcs12_free, "PKCS12_free" },
		{ (void **)&lib.pkcs12_parse, "PKCS12_parse" }, { (void **)&lib.pkey_free, "EVP_PKEY_free" },
		{ (void **)&lib.sk_num, "OPENSSL_sk_num" }, { (void **)&lib.sk_value, "OPENSSL_sk_value" },
		{ (void **)&lib.sk_free, "OPENSSL_sk_free" }, { (void **)&lib.i2d_x509, "i2d_X509" },
		{ (void **)&lib.digest, "EVP_Digest" }, { (void **)&lib.sha1, "EVP_sha1" },
		{ (void **)&lib.crypto_free, "CRYPTO_free" },
		{ (void **)&lib.bio_new, "BIO_new" }, { (void **)&lib.bio_s_mem, "BIO_s_mem" },
		{ (void **)&lib.set_bio, "SSL_set_bio" }, { (void **)&lib.bio_read, "BIO_read" },
		{ (void **)&lib.bio_write, "BIO_write" }, { (void **)&lib.bio_ctrl, "BIO_ctrl" },
		{ (void **)&lib.bio_free, "BIO_free" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].fn = dlsym(h, syms[i].name)))
			return -1;
	lib.state = 1;
	return 0;
}

/* The first queued library error, for a message. */
static const char *last_error(char *buf, size_t n)
{
	unsigned long code = lib.err_get();

	if (!code)
		snprintf(buf, n, "no detail");
	else
		lib.err_string(code, buf, n);
	lib.err_clear();
	return buf;
}

struct tls_ctx {
	SSL_CTX *ctx;
	char source[600];
	char id[2 * CRYPTO_SHA256_LEN + 1];
};

const char *tls_ctx_source(const struct tls_ctx *c)
{
	return c->source;
}

const char *tls_ctx_id(const struct tls_ctx *c)
{
	return c->id;
}

static int read_file(const char *path, const char *what, uint8_t **out, size_t *len, struct sg_err *e)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	size_t n;

	if (!f)
		return sg_err_set(e, ERR_IO, 0, "cannot read %s %s: %s", what, path, strerror(errno));
	if (!(p = malloc(TLS_MAX_STORE + 1))) {
		fclose(f);
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	}
	n = fread(p, 1, TLS_MAX_STORE + 1, f);
	fclose(f);
	if (n > TLS_MAX_STORE || n == 0) {
		free(p);
		return sg_err_set(e, ERR_TOO_LARGE, 0, "%s %s: empty or larger than %u bytes", what, path, TLS_MAX_STORE);
	}
	*out = p;
	*len = n;
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Java's KeyStore "JKS" (sun.security.provider.JavaKeyStore.engineLoad): magic FEEDFEED,
 * version 1 or 2, a count, entries (1: a private key with its chain, 2: a trusted
 * certificate; alias as modified UTF-8, an 8-byte date, version 2 names each certificate's
 * type), then SHA-1(password as UTF-16BE, "Mighty Aphrodite", everything before).  Calls
 * each for every certificate a JDK trust manager would trust: trusted entries and the first
 * certificate of key entries (TrustStoreUtil). */
static int jks_certs(const uint8_t *p, size_t len, const char *password,
		     int (*each)(void *, const uint8_t *, size_t), void *ctx, struct sg_err *e)
{
	size_t at = 12, count;
	uint32_t version;
	int n = 0;

	/* at <= len always: every advance is checked first */
#define NEED(k) do { if ((k) > len - at) return sg_err_set(e, ERR_TRUNCATED, at, "JKS store ends early"); } while (0)
#define SKIP(k) do { size_t k_ = (k); NEED(k_); at += k_; } while (0)
	if (len < 12 + 20 || be32(p) != 0xFEEDFEEDu)
		return sg_err_set(e, ERR_INVALID, 0, "not a JKS store");
	version = be32(p + 4);
	count = be32(p + 8);
	if (version != 1 && version != 2)
		return sg_err_set(e, ERR_UNSUPPORTED, 4, "JKS store version %u", version);
	len -= 20;   /* the digest */
	for (size_t i = 0; i < count; i++) {
		uint32_t tag, ncerts = 1;

		NEED(4);
		tag = be32(p + at);
		at += 4;
		if (tag != 1 && tag != 2)
			return sg_err_set(e, ERR_UNSUPPORTED, at - 4, "JKS entry of kind %u", tag);
		NEED(2);
		SKIP(2 + ((size_t)p[at] << 8 | p[at + 1]));   /* alias */
		SKIP(8);                                        /* date */
		if (tag == 1) {
			NEED(4);
			SKIP(4 + (size_t)be32(p + at));         /* the encrypted key */
			NEED(4);
			ncerts = be32(p + at);
			at += 4;
		}
		for (uint32_t k = 0; k < ncerts; k++) {
			size_t clen;

			if (version == 2) {
				NEED(2);
				SKIP(2 + ((size_t)p[at] << 8 | p[at + 1]));
			}
			NEED(4);
			clen = be32(p + at);
			at += 4;
			NEED(clen);
			if (k == 0) {
				int rc = each(ctx, p + at, clen);

				if (rc)
					return sg_err_set(e, rc, at, "JKS store: certificate %u: %s", (unsigned)i, sg_err_name(rc));
				n++;
			}
			at += clen;
		}
	}
	if (at != len)
		return sg_err_set(e, ERR_INVALID, at, "JKS store: %zu bytes after its entries", len - at);
#undef NEED
#undef SKIP
	if (password) {
		size_t pl = strlen(password), k = 0;
		uint8_t *buf = malloc(2 * pl + 16 + len), md[20];
		unsigned int mdlen = 0;
		int ok;

		if (!buf)
			return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		for (size_t i = 0; i < pl; i++) {   /* ASCII and Latin-1 as Java's chars; others refused */
			if ((uint8_t)password[i] >= 0x80) {
				free(buf);
				return sg_err_set(e, ERR_UNSUPPORTED, 0, "a JKS store password beyond ASCII is not "
						  "supported: convert the store to PKCS12");
			}
			buf[k++] = 0;
			buf[k++] = (uint8_t)password[i];
		}
		memcpy(buf + k, "Mighty Aphrodite", 16);
		memcpy(buf + k + 16, p, len);
		ok = lib.digest(buf, k + 16 + len, md, &mdlen, lib.sha1(), NULL) && mdlen == 20
		     && memcmp(md, p + len, 20) == 0;
		free(buf);
		if (!ok)
			return sg_err_set(e, ERR_INVALID, len, "JKS store's integrity check fails: wrong "
					  "spark.ssl.rpc.trustStorePassword, or the file was altered");
	}
	return n;
}

struct adder {
	X509_STORE *store;
	struct sg_err *e;
};

static int add_der(void *ctx, const uint8_t *der, size_t len)
{
	struct adder *a = ctx;
	const unsigned char *q = der;
	X509 *x = len < 0x7fffffff ? lib.d2i_x509(NULL, &q, (long)len) : NULL;
	int ok;
	char msg[200];

	if (!x)
		return sg_err_set(a->e, ERR_INVALID, 0, "a certificate in the trust store does not parse: %s",
				  last_error(msg, sizeof(msg)));
	ok = lib.store_add(a->store, x);
	lib.x509_free(x);
	lib.err_clear();   /* a certificate already there is fine */
	(void)ok;
	return 0;
}

static int add_x509(struct adder *a, X509 *x)
{
	unsigned char *der = NULL;
	int n = lib.i2d_x509(x, &der), rc;

	if (n <= 0)
		return sg_err_set(a->e, ERR_INVALID, 0, "a certificate in the trust store does not encode");
	rc = add_der(a, der, (size_t)n);
	lib.crypto_free(der, __FILE__, __LINE__);
	return rc;
}

/* PKCS12 (keytool's default store type since JDK 9): its certificates through PKCS12_parse. */
static int pkcs12_certs(struct adder *a, const uint8_t *p, size_t len, const char *password, struct sg_err *e)
{
	const unsigned char *q = p;
	PKCS12 *p12 = lib.d2i_pkcs12(NULL, &q, (long)len);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = 0, n = 0;
	char msg[200];

	if (!p12)
		return sg_err_set(e, ERR_INVALID, 0, "not a PKCS12 or JKS store (%s)", last_error(msg, sizeof(msg)));
	if (!lib.pkcs12_parse(p12, password ? password : "", &key, &cert, &ca)) {
		lib.pkcs12_free(p12);
		return sg_err_set(e, ERR_INVALID, 0, "the PKCS12 store does not open (%s): check "
				  "spark.ssl.rpc.trustStorePassword", last_error(msg, sizeof(msg)));
	}
	if (cert) {
		rc = add_x509(a, cert);
		n++;
	}
	for (int i = 0; !rc && ca && i < lib.sk_num((const OPENSSL_STACK *)ca); i++, n++)
		rc = add_x509(a, lib.sk_value((const OPENSSL_STACK *)ca, i));
	if (key)
		lib.pkey_free(key);
	if (cert)
		lib.x509_free(cert);
	if (ca) {
		for (int i = 0; i < lib.sk_num((const OPENSSL_STACK *)ca); i++)
			lib.x509_free(lib.sk_value((const OPENSSL_STACK *)ca, i));
		lib.sk_free((OPENSSL_STACK *)ca);
	}
	lib.pkcs12_free(p12);
	return rc ? rc : n;
}

/* spark.ssl.rpc.enabledAlgorithms: Java's (IANA) suite names; TLS 1.3's go to
 * SSL_CTX_set_ciphersuites, the others by OpenSSL's names.  Names OpenSSL does not know
 * are left out, and none known leaves OpenSSL's defaults, as SSLFactory.enabledCipherSuites
 * keeps the supported ones and falls back to the JDK's. */
static int set_ciphers(SSL_CTX *ctx, const char *list, struct sg_err *e)
{
	char v12[2048] = "", v13[1024] = "", name[128];
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *o;

		if (n && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			char *s = name + strspn(name, " \t"), *end = s + strlen(s);

			while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (strncmp(s, "TLS_AES_", 8) == 0 || strncmp(s, "TLS_CHACHA20_", 13) == 0) {
				if (strlen(v13) + strlen(s) + 2 < sizeof(v13))
					snprintf(v13 + strlen(v13), sizeof(v13) - strlen(v13), "%s%s", *v13 ? ":" : "", s);
			} else if ((o = lib.std_to_openssl(s)) && strcmp(o, "(NONE)") != 0) {
				if (strlen(v12) + strlen(o) + 2 < sizeof(v12))
					snprintf(v12 + strlen(v12), sizeof(v12) - strlen(v12), "%s%s", *v12 ? ":" : "", o);
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	lib.err_clear();
	if ((*v12 && !lib.ctx_cipher_list(ctx, v12)) || (*v13 && !lib.ctx_ciphersuites(ctx, v13)))
		return sg_err_set(e, ERR_INVALID, 0, "spark.ssl.rpc.enabledAlgorithms: no suite OpenSSL accepts in %s",
				  list);
	return 0;
}

static int set_protocol(SSL_CTX *ctx, const char *protocol, struct sg_err *e)
{
	long lo = TLS1_2_VERSION, hi = 0;

	if (protocol && strcasecmp(protocol, "TLSv1.2") == 0)
		hi = TLS1_2_VERSION;
	else if (protocol && strcasecmp(protocol, "TLSv1.3") == 0)
		lo = hi = TLS1_3_VERSION;
	else if (protocol && *protocol && strcasecmp(protocol, "TLS") != 0)
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "spark.ssl.rpc.protocol %s: sparkgate speaks TLSv1.2 and "
				  "TLSv1.3 (set TLSv1.2, TLSv1.3 or TLS)", protocol);
	if (!lib.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, lo, NULL)
	    || (hi && !lib.ctx_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, hi, NULL)))
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "%s cannot be limited to %s", LIBSSL, protocol);
	return 0;
}

static int load_trust(struct tls_ctx *c, const struct tls_trust *t, struct sha256 *h, struct sg_err *e)
{
	struct adder a = { lib.ctx_store(c->ctx), e };
	const char *path = t->ca_file ? t->ca_file : t->trust_store;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc, n = 0;
	char msg[200];

	if ((rc = read_file(path, t->ca_file ? "the CA file" : "the trust store", &data, &len, e)) != 0)
		return rc;
	sha256_add(h, data, len);
	if (t->ca_file) {
		n = lib.ctx_load_verify(c->ctx, t->ca_file, NULL);
		rc = n == 1 ? 0 : sg_err_set(e, ERR_INVALID, 0, "%s holds no PEM certificate (%s)", c->source,
					      last_error(msg, sizeof(msg)));
	} else if (len >= 4 && be32(data) == 0xFEEDFEEDu) {
		n = jks_certs(data, len, t->trust_store_password, add_der, &a, e);
		rc = n < 0 ? n : 0;
	} else if (len >= 4 && be32(data) == 0xCECECECEu) {
		rc = sg_err_set(e, ERR_UNSUPPORTED, 0, "%s is a JCEKS store, which sparkgate does not read: convert it "
				"to PKCS12 (keytool -importkeystore -deststoretype pkcs12) or give the CA as PEM with "
				"--tls-ca", c->source);
	} else {
		n = pkcs12_certs(&a, data, len, t->trust_store_password, e);
		rc = n < 0 ? n : 0;
	}
	if (!rc && !t->ca_file && n == 0)
		rc = sg_err_set(e, ERR_INVALID, 0, "%s holds no certificate", c->source);
	if (rc && e && !strstr(e->msg, path)) {
		struct sg_err inner = *e;

		e->code = 0;
		rc = sg_err_set(e, rc, inner.offset, "%s: %s", c->source, inner.msg);
	}
	explicit_bzero(data, len);
	free(data);
	return rc;
}

int tls_ctx_new(struct tls_ctx **out, const struct tls_trust *t, struct sg_err *e)
{
	struct tls_ctx *c;
	struct sha256 h;
	uint8_t md[CRYPTO_SHA256_LEN];
	int rc;

	*out = NULL;
	if (!t->ca_file && !t->trust_store)
		return sg_err_set(e, ERR_INVALID, 0, "TLS to the master needs what to trust: --tls-ca FILE (PEM), or "
				  "spark.ssl.rpc.trustStore or spark.ssl.rpc.certChain in --spark-conf; sparkgate "
				  "never connects without verifying the master's certificate");
	if (load())
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "TLS to the master needs %s (OpenSSL 3), which cannot be "
				  "loaded: %s", LIBSSL, dlerror());
	if (!(c = calloc(1, sizeof(*c))))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	snprintf(c->source, sizeof(c->source), "%s %s", t->ca_file ? "the CA file" : "the trust store",
		 t->ca_file ? t->ca_file : t->trust_store);
	if (!(c->ctx = lib.ctx_new(lib.client_method()))) {
		free(c);
		return sg_err_set(e, ERR_NOMEM, 0, "SSL_CTX_new failed");
	}
	lib.ctx_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	lib.ctx_ctrl(c->ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
	if (sha256_begin(&h)) {
		tls_ctx_free(c);
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "SHA-256 unavailable in %s", CRYPTO_LIBRARY);
	}
	rc = load_trust(c, t, &h, e);
	rc = rc ? rc : set_protocol(c->ctx, t->protocol, e);
	rc = rc ? rc : t->ciphers ? set_ciphers(c->ctx, t->ciphers, e) : 0;
	sha256_add(&h, "|", 1);
	if (t->protocol)
		sha256_add(&h, t->protocol, strlen(t->protocol));
	sha256_add(&h, "|", 1);
	if (t->ciphers)
		sha256_add(&h, t->ciphers, strlen(t->ciphers));
	if (sha256_end(&h, md) && !rc)
		rc = sg_err_set(e, ERR_UNSUPPORTED, 0, "SHA-256 failed");
	if (rc) {
		tls_ctx_free(c);
		return rc;
	}
	crypto_hex(md, sizeof(md), c->id);
	*out = c;
	return 0;
}

void tls_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	if (c->ctx)
		lib.ctx_free(c->ctx);
	free(c);
}

/* The connection's TLS runs over two memory BIOs: what the library writes is taken out
 * (tls_conn_output) and goes to the socket through whatever is below TLS (nothing, or
 * Spark's AES cipher, which a 4.x master puts outside TLS); what comes from below is fed in
 * (tls_conn_feed). */
int tls_conn_start(struct tls_conn *t, struct tls_ctx *c, const char *host, struct sg_err *e)
{
	uint8_t addr[16];
	int ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	SSL *s;
	BIO *rb, *wb;

	tls_conn_close(t);
	lib.err_clear();
	if (!(s = lib.ssl_new(c->ctx)))
		return sg_err_set(e, ERR_NOMEM, 0, "SSL_new failed");
	rb = lib.bio_new(lib.bio_s_mem());
	wb = lib.bio_new(lib.bio_s_mem());
	if (!rb || !wb) {
		if (rb)
			lib.bio_free(rb);
		if (wb)
			lib.bio_free(wb);
		lib.ssl_free(s);
		return sg_err_set(e, ERR_NOMEM, 0, "BIO_new failed");
	}
	lib.set_bio(s, rb, wb);   /* s owns both now */
	/* the name is checked in subjectAltName only, as README promises: a certificate without
	 * one does not pass on its subject's CN (OpenSSL's fallback, which RFC 6125 deprecates) */
	lib.set_hostflags(s, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (ip ? !lib.param_ip(lib.get0_param(s), host)
	       : (!lib.set1_host(s, host)
		  || !lib.ssl_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host))) {
		lib.ssl_free(s);
		return sg_err_set(e, ERR_INVALID, 0, "cannot check a certificate for the master host %s", host);
	}
	t->ssl = s;
	t->rbio = rb;
	t->wbio = wb;
	return 0;
}

int tls_client_hello(const char *host, struct buf *out)
{
	SSL_CTX *ctx;
	struct tls_ctx c;
	struct tls_conn t = { 0 };
	int rc;

	if (load() || !(ctx = lib.ctx_new(lib.client_method())))
		return ERR_UNSUPPORTED;
	c.ctx = ctx;
	rc = tls_conn_start(&t, &c, host, NULL);
	if (!rc && tls_conn_handshake(&t, NULL) != TLS_WANT_READ)
		rc = ERR_PROTOCOL;
	rc = rc ? rc : tls_conn_output(&t, out);
	tls_conn_close(&t);
	lib.ctx_free(ctx);
	lib.err_clear();
	return rc;
}

int tls_conn_handshake(struct tls_conn *t, struct sg_err *e)
{
	int r, err;
	long v;
	char msg[200];

	r = lib.connect(t->ssl);
	if (r == 1)
		return 0;
	err = lib.get_error(t->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return TLS_WANT_READ;   /* memory BIOs: it only ever waits for the peer's bytes */
	v = lib.verify_result(t->ssl);
	if (v != X509_V_OK) {
		const char *why = lib.verify_string(v);

		lib.err_clear();
		if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
			return sg_err_set(e, ERR_REMOTE, 0, "the master's TLS certificate does not name the host of the "
					  "master URL (%s): its subjectAltName must list that %s", why,
					  v == X509_V_ERR_IP_ADDRESS_MISMATCH ? "IP address" : "DNS name");
		return sg_err_set(e, ERR_REMOTE, 0, "the master's TLS certificate does not verify (%s)", why);
	}
	return sg_err_set(e, ERR_PROTOCOL, 0, "TLS handshake failed: %s", last_error(msg, sizeof(msg)));
}

int tls_conn_feed(struct tls_conn *t, const void *p, size_t n)
{
	return n <= INT32_MAX && lib.bio_write(t->rbio, p, (int)n) == (int)n ? 0 : ERR_NOMEM;
}

int tls_conn_output(struct tls_conn *t, struct buf *out)
{
	for (;;) {
		size_t pending = (size_t)lib.bio_ctrl(t->wbio, BIO_CTRL_PENDING, 0, NULL), room;
		uint8_t *p;
		int rc, got;

		if (!pending)
			return 0;
		if (!(p = buf_spare(out, pending, &room, &rc)))
			return rc;
		got = lib.bio_read(t->wbio, p, room > INT32_MAX ? INT32_MAX : (int)room);
		if (got <= 0)
			return ERR_PROTOCOL;
		buf_commit(out, (size_t)got);
	}
}

int tls_conn_encrypt(struct tls_conn *t, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n) {
		int w = lib.write(t->ssl, q, n > INT32_MAX ? INT32_MAX : (int)n);

		if (w <= 0) {
			lib.err_clear();
			return ERR_PROTOCOL;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t tls_conn_read(struct tls_conn *t, void *p, size_t n)
{
	int r, err;

	if (n > INT32_MAX)
		n = INT32_MAX;
	r = lib.read(t->ssl, p, (int)n);
	if (r > 0)
		return r;
	err = lib.get_error(t->ssl, r);
	lib.err_clear();
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;   /* the master's close_notify */
	errno = EIO;
	return -1;
}

int tls_conn_pending(const struct tls_conn *t)
{
	return t->ssl && (lib.pending(t->ssl) > 0 || lib.bio_ctrl(t->rbio, BIO_CTRL_PENDING, 0, NULL) > 0);
}

void tls_conn_close(struct tls_conn *t)
{
	/* no close_notify: the socket closes right after, and the master reads EOF either way */
	if (t->ssl)
		lib.ssl_free(t->ssl);   /* and its BIOs */
	t->ssl = t->rbio = t->wbio = NULL;
}

struct collect {
	uint8_t *out;
	size_t max, len;
};

static int collect(void *ctx, const uint8_t *der, size_t len)
{
	struct collect *c = ctx;

	if (len > c->max - c->len || c->max - c->len - len < 4)
		return ERR_TOO_LARGE;
	c->out[c->len] = (uint8_t)(len >> 24);
	c->out[c->len + 1] = (uint8_t)(len >> 16);
	c->out[c->len + 2] = (uint8_t)(len >> 8);
	c->out[c->len + 3] = (uint8_t)len;
	memcpy(c->out + c->len + 4, der, len);
	c->len += 4 + len;
	return 0;
}

int tls_jks_certs(const uint8_t *data, size_t len, const char *password, uint8_t *out, size_t max,
		  size_t *out_len, struct sg_err *e)
{
	struct collect col = { out, max, 0 };
	int n;

	if (load())
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "%s cannot be loaded", LIBSSL);
	n = jks_certs(data, len, password, collect, &col, e);
	*out_len = col.len;
	return n;
}
