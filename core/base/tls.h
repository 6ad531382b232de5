/* TLS for the master's RPC port (spark.ssl.rpc.enabled, Spark 4.0+: Netty's SslHandler at
 * the head of the connection's pipeline, frames and authentication inside it; Spark's AES
 * handlers, when spark.network.crypto.enabled, are added before it, so AES runs below TLS),
 * from OpenSSL's libssl loaded on first use as libcrypto is (base/crypto.c), never linked.
 *
 * The master's certificate is always verified: against PEM CA certificates (--tls-ca, or
 * spark.ssl.rpc.certChain, which Spark's own client trusts), or the certificates of a
 * PKCS12 or JKS trust store (spark.ssl.rpc.trustStore); and its name against the master
 * URL's host: a DNS name against the certificate's DNS names (also sent as SNI), an IP
 * address against its IP address entries (subjectAltName iPAddress; a DNS entry or the
 * common name spelling the address does not count).  There is no way to skip either. */
#ifndef SG_TLS_H
#define SG_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"

/* The library's name, for messages. */
extern const char TLS_LIBRARY[];

struct tls_trust {
	const char *ca_file;             /* PEM certificates, or NULL */
	const char *trust_store;         /* PKCS12 or JKS file, or NULL */
	const char *trust_store_password;/* NULL: none (a JKS store's digest is then not checked, as Java) */
	const char *protocol;            /* spark.ssl.rpc.protocol: NULL or "TLS" (1.2 or 1.3), "TLSv1.2", "TLSv1.3" */
	const char *ciphers;             /* spark.ssl.rpc.enabledAlgorithms: Java (IANA) names, commas; NULL default */
};

struct tls_ctx;

/* Loads the trust (at startup: a bad file is found before the first request). */
int tls_ctx_new(struct tls_ctx **out, const struct tls_trust *t, struct sg_err *e);
void tls_ctx_free(struct tls_ctx *c);
/* How the trust was given, for messages ("--tls-ca FILE", "spark.ssl.rpc.trustStore FILE"). */
const char *tls_ctx_source(const struct tls_ctx *c);
/* A fingerprint of the trust and settings (SHA-256 of the certificates and options), hex. */
const char *tls_ctx_id(const struct tls_ctx *c);

/* One connection, over memory: the caller moves the bytes between it and the socket (through
 * whatever runs below TLS: Spark 4.x puts its AES cipher outside TLS). */
struct tls_conn {
	void *ssl;                       /* libssl's SSL, NULL when not in use */
	void *rbio, *wbio;               /* its memory BIOs: bytes from the peer, bytes for it */
};

enum { TLS_WANT_READ = 1 };

/* Starts TLS toward host (what the certificate must name). */
int tls_conn_start(struct tls_conn *t, struct tls_ctx *c, const char *host, struct sg_err *e);
/* One step of the handshake: 0 done, TLS_WANT_READ (send tls_conn_output, feed the peer's
 * bytes, call again), or a negative ERR_*: ERR_REMOTE when the certificate or its name does
 * not verify (e says which), ERR_PROTOCOL when what came is not TLS. */
int tls_conn_handshake(struct tls_conn *t, struct sg_err *e);
/* A TLS ClientHello toward host, alone (nothing verified: it is never continued), appended to
 * out: to ask a port whether it speaks TLS.  ERR_UNSUPPORTED without libssl. */
int tls_client_hello(const char *host, struct buf *out);
/* Bytes from the peer, as they came. */
int tls_conn_feed(struct tls_conn *t, const void *p, size_t n);
/* Appends what is to be sent to the peer (records, alerts) to out. */
int tls_conn_output(struct tls_conn *t, struct buf *out);
/* Encrypts n bytes (then take them with tls_conn_output). */
int tls_conn_encrypt(struct tls_conn *t, const void *p, size_t n);
/* Decrypted bytes: count, 0 at the peer's close_notify, -1 with errno EAGAIN (feed more) or EIO. */
ssize_t tls_conn_read(struct tls_conn *t, void *p, size_t n);
/* Bytes fed or decrypted and not read yet (a poll on the socket does not see them). */
int tls_conn_pending(const struct tls_conn *t);
void tls_conn_close(struct tls_conn *t);

/* For tests: the certificates of a JKS store a trust manager would trust, as DER, each after
 * a 4-byte big-endian length in out (at most max bytes).  Returns the count or a negative
 * ERR_* (a wrong password: ERR_INVALID). */
int tls_jks_certs(const uint8_t *data, size_t len, const char *password, uint8_t *out, size_t max,
		  size_t *out_len, struct sg_err *e);

#endif
