/* Client of the Spark master's RPC endpoint ("Master" on port 7077).
 *
 * One persistent connection, request ids, connect and request deadlines, reconnect on the
 * next ask after the master went away.  Each ask carries one Java-serialized DeployMessage
 * and returns the reply frame.  A request is resent on a fresh connection only when it
 * cannot have reached the master (the connection was found closed before sending, or the
 * frame was never completely written); otherwise an I/O failure is reported with
 * maybe_delivered set, so callers never turn an unknown outcome into a duplicate. */
#ifndef SG_MASTER_H
#define SG_MASTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/rpccipher.h"

#define MASTER_MAX_ADDRS 8

struct master_addr {
	char host[256];
	int port;
};

struct master {
	struct master_addr addrs[MASTER_MAX_ADDRS];
	size_t naddrs;
	size_t current;             /* index of the address fd is connected to */
	int fd;                     /* -1 when not connected */
	int connect_timeout_ms;
	int timeout_ms;             /* one HTTP request's time with the master (master_deadline) */
	uint64_t next_id;
	uint64_t generation;        /* counts connections made; a new one may be another master */
	uint64_t asks;              /* requests sent (each costs the master's JVM a round trip) */
	struct buf in;              /* received bytes not yet parsed */
	struct buf out;             /* frame being sent */
	char *secret;               /* spark.authenticate.secret, or NULL */
	struct master_crypto {      /* spark.network.crypto.* (used with a secret) */
		int enabled;        /* AuthEngine handshake instead of SASL */
		int version;        /* authEngineVersion: 1 or 2 */
		int cipher;         /* RPC_AES_CTR or RPC_AES_GCM */
		int sasl_fallback;  /* saslFallback: SASL when the master refuses the handshake */
	} crypto;
	struct rpc_cipher wire;     /* the transport below the frames (plain until a handshake) */
	struct tls_ctx *tls;        /* spark.ssl.rpc.enabled: what the master's certificate must verify
				     * against (owned); NULL: no TLS */
	uint64_t frames;            /* frames received on this connection */
	int answered;               /* a frame ever came back (the master is no TLS mismatch) */
	/* per address, AES-GCM: 1 the master reads a second message on a connection, -1 it
	 * drops it (3.4.4, SPARK-56227: one ask per connection), 0 not known yet */
	signed char gcm_reuse[MASTER_MAX_ADDRS];
	int parked;                 /* closed by sparkgate after an AES-GCM ask: the next connection
				     * to the same address continues this one's generation */
	/* told about every ask: how long from sending until its reply (or failure), and whether
	 * one came; micros -1: not sent, no master could be reached */
	void (*on_ask)(void *ctx, int64_t micros, int replied);
	void *on_ask_ctx;
};

struct master_answer {
	int failed;                 /* 1: RpcFailure frame (text in body); 0: RpcResponse */
	int maybe_delivered;        /* on error: the request may have reached the master */
	struct buf body;
};

/* Parses "spark://h1:7077[,h2:7077]" (the scheme is optional). */
int master_init(struct master *m, const char *url, struct sg_err *e);
void master_release(struct master *m);
void master_close(struct master *m);

/* The deadline of an HTTP request that starts now: every ask it makes (detection, the ask
 * itself, a resend, the status asks of a listing or of quota accounting) shares it, so the
 * request is answered within --timeout however many asks it takes.  On master_now_ms(). */
int64_t master_deadline(const struct master *m);

/* Sends stream (a Java serialization stream of at most LIMIT_REQUEST_STREAM bytes) to
 * endpoint "Master" and waits for the reply until deadline.  Nothing is sent once the
 * deadline has passed (ERR_TIMEOUT, maybe_delivered 0). */
int master_ask(struct master *m, const void *stream, size_t len, int64_t deadline, struct master_answer *a,
	       struct sg_err *e);

void master_answer_init(struct master_answer *a);
void master_answer_release(struct master_answer *a);

/* The same to another endpoint of the master's RpcEnv. */
int master_ask_endpoint(struct master *m, const char *endpoint, const void *stream, size_t len,
			int64_t deadline, struct master_answer *a, struct sg_err *e);

/* Authenticate every new connection with SASL DIGEST-MD5 (spark.authenticate=true) using
 * this secret; NULL turns it off.  The copy is wiped on release. */
int master_set_secret(struct master *m, const char *secret);

/* spark.network.crypto.*: every new connection runs Spark's AuthEngine handshake with the
 * secret and then encrypts (AES-CTR: one stream per direction; AES-GCM: an envelope per
 * frame; a master whose receiver drops a connection's later messages, as 3.4.4's does, gets
 * one ask per connection, found out once per address with a harmless second message). */
void master_set_crypto(struct master *m, const struct master_crypto *c);

/* spark.ssl.rpc.enabled: every new connection starts with a TLS handshake verified against
 * tls (taken over; NULL turns TLS off), then authenticates as configured inside it. */
void master_set_tls(struct master *m, struct tls_ctx *tls);

/* Drops the connection; the next ask starts with the next address (HA: this one is not
 * the leader). */
void master_next(struct master *m);

/* The monotonic clock every deadline here is measured on, in milliseconds. */
int64_t master_now_ms(void);

/* "spark://h1:7077,h2:7077" form of the address list. */
int master_url(const struct master *m, struct buf *out);

#endif
