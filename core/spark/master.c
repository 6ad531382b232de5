#include "spark/master.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire/frame.h"
#include "spark/sasl.h"
#include "wire/authengine.h"

int64_t master_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t l = deadline - master_now_ms();

	return l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int)l;
}

int master_init(struct master *m, const char *url, struct sg_err *e)
{
	const char *p = url;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->connect_timeout_ms = 3000;
	m->timeout_ms = 8000;
	m->next_id = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	buf_init(&m->in, LIMIT_FRAME);
	buf_init(&m->out, LIMIT_FRAME);
	rpc_cipher_init(&m->wire, LIMIT_FRAME);
	m->crypto = (struct master_crypto){ .version = 1, .cipher = RPC_AES_CTR, .sasl_fallback = 1 };
	if (strncmp(p, "spark://", 8) == 0)
		p += 8;
	while (*p) {
		const char *end = strchr(p, ','), *colon;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct master_addr *a;
		char *stop;
		long port;

		if (m->naddrs == MASTER_MAX_ADDRS)
			return sg_err_set(e, ERR_INVALID, 0, "more than %d masters in %s", MASTER_MAX_ADDRS, url);
		a = &m->addrs[m->naddrs];
		colon = memrchr(p, ':', n);
		if (!colon || colon == p || (size_t)(colon - p) >= sizeof(a->host))
			return sg_err_set(e, ERR_INVALID, 0, "master address '%.*s' is not host:port", (int)n, p);
		memcpy(a->host, p, (size_t)(colon - p));
		a->host[colon - p] = '\0';
		if (a->host[0] == '[') {   /* [::1]:7077 */
			size_t hl = strlen(a->host);

			if (a->host[hl - 1] != ']')
				return sg_err_set(e, ERR_INVALID, 0, "bad IPv6 address in '%.*s'", (int)n, p);
			memmove(a->host, a->host + 1, hl - 2);
			a->host[hl - 2] = '\0';
		}
		errno = 0;
		port = strtol(colon + 1, &stop, 10);
		if (errno || stop != p + n || port <= 0 || port > 65535)
			return sg_err_set(e, ERR_INVALID, 0, "bad port in master address '%.*s'", (int)n, p);
		a->port = (int)port;
		m->naddrs++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!m->naddrs)
		return sg_err_set(e, ERR_INVALID, 0, "no master address in '%s'", url);
	return 0;
}

void master_close(struct master *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->parked = 0;
	m->frames = 0;
	buf_reset(&m->in);
	rpc_cipher_close(&m->wire);
}

void master_set_crypto(struct master *m, const struct master_crypto *c)
{
	master_close(m);
	m->crypto = *c;
}

void master_set_tls(struct master *m, struct tls_ctx *tls)
{
	master_close(m);
	tls_ctx_free(m->tls);
	m->tls = tls;
}

void master_release(struct master *m)
{
	master_close(m);
	master_set_tls(m, NULL);
	master_set_secret(m, NULL);
	buf_release(&m->in);
	buf_release(&m->out);
	rpc_cipher_release(&m->wire);
}

int master_set_secret(struct master *m, const char *secret)
{
	if (m->secret) {
		explicit_bzero(m->secret, strlen(m->secret));
		free(m->secret);
		m->secret = NULL;
	}
	if (secret && !(m->secret = strdup(secret)))
		return ERR_NOMEM;
	return 0;
}

int master_url(const struct master *m, struct buf *out)
{
	int rc = buf_addstr(out, "spark://");

	for (size_t i = 0; i < m->naddrs && !rc; i++) {
		int v6 = strchr(m->addrs[i].host, ':') != NULL;

		rc = buf_printf(out, "%s%s%s%s:%d", i ? "," : "", v6 ? "[" : "", m->addrs[i].host,
				v6 ? "]" : "", m->addrs[i].port);
	}
	return rc;
}

void master_answer_init(struct master_answer *a)
{
	a->failed = 0;
	a->maybe_delivered = 0;
	buf_init(&a->body, LIMIT_FRAME);
}

void master_answer_release(struct master_answer *a)
{
	buf_release(&a->body);
}

static int send_all(struct master *m, const uint8_t *p, size_t len, int64_t deadline, size_t *sent);

/* spark.ssl.rpc.enabled: the TLS handshake, first thing on the connection (Netty's SslHandler
 * is the first handler of the master's pipeline), within the request's deadline. */
static int handshake(struct master *m, const struct master_addr *a, int64_t deadline, struct sg_err *e)
{
	struct sg_err te = { 0 };
	struct buf out = BUF_INIT(1u << 16);
	int rc = tls_conn_start(&m->wire.tls, m->tls, a->host, &te);

	while (rc == 0) {
		uint8_t in[16384];
		struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
		int step = tls_conn_handshake(&m->wire.tls, &te), orc;
		size_t sent;
		ssize_t n;

		if (step < 0) {
			rc = step;
			break;
		}
		buf_reset(&out);
		orc = tls_conn_output(&m->wire.tls, &out);
		if (!orc && out.len)
			orc = send_all(m, out.data, out.len, deadline, &sent);
		if (orc) {
			rc = sg_err_set(&te, orc, 0, "sending the TLS handshake failed: %s", sg_err_name(orc));
			break;
		}
		if (step == 0)
			break;
		if (poll(&pfd, 1, left_ms(deadline)) == 0) {
			rc = sg_err_set(&te, ERR_TIMEOUT, 0, "no TLS handshake within --timeout");
			break;
		}
		n = recv(m->fd, in, sizeof(in), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			int err = n < 0 ? errno : 0;

			rc = sg_err_set(&te, ERR_PROTOCOL, 0, "the master closed the connection during the TLS handshake%s%s",
					err ? ": " : "", err ? strerror(err) : "");
		} else if (n > 0 && tls_conn_feed(&m->wire.tls, in, (size_t)n)) {
			rc = sg_err_set(&te, ERR_NOMEM, 0, "out of memory");
		}
	}
	buf_release(&out);
	if (!rc)
		return 0;
	master_close(m);
	if (rc == ERR_REMOTE)
		return sg_err_set(e, ERR_PROTOCOL, 0, "TLS to master %s:%d: %s; sparkgate trusts %s", a->host, a->port,
				  te.msg, tls_ctx_source(m->tls));
	return sg_err_set(e, rc, 0, "TLS to master %s:%d: %s%s", a->host, a->port, te.msg,
			  rc == ERR_PROTOCOL ? ": check that the master sets spark.ssl.rpc.enabled=true (Spark 4.0+), "
			  "or give sparkgate no TLS setting" : "");
}

static int connect_one(struct master *m, const struct master_addr *a, int64_t deadline, int64_t tls_deadline,
		       struct sg_err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char port[16];
	int rc, fd = -1, last_errno = 0;

	snprintf(port, sizeof(port), "%d", a->port);
	rc = getaddrinfo(a->host, port, &hints, &res);
	if (rc)
		return sg_err_set(e, ERR_IO, 0, "cannot resolve master host %s: %s", a->host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int one = 1, soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, left_ms(deadline));
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			last_errno = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
		} else {
			last_errno = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return sg_err_set(e, last_errno == ETIMEDOUT ? ERR_TIMEOUT : ERR_IO, 0,
				  "cannot connect to master %s:%d: %s", a->host, a->port, strerror(last_errno));
	m->fd = fd;
	buf_reset(&m->in);
	return m->tls ? handshake(m, a, tls_deadline, e) : 0;
}

/* Connects to master i of the list. */
static int connect_at(struct master *m, size_t i, int64_t deadline, struct sg_err *e)
{
	int64_t d = master_now_ms() + m->connect_timeout_ms;
	int rc = connect_one(m, &m->addrs[i], d < deadline ? d : deadline, deadline, e);

	if (rc == 0) {
		/* a connection sparkgate closed itself (AES-GCM) continues with the same master */
		if (!(m->parked && i == m->current))
			m->generation++;
		m->current = i;
	}
	return rc;
}

/* A pooled connection the master closed (restart, idle reaper) shows up as readable with
 * EOF; find that out before sending so the request goes out on a fresh connection. */
static int connection_alive(struct master *m)
{
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&pfd, 1, 0) == 0)
		return 1;
	if (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
		return 0;
	return recv(m->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static int send_all(struct master *m, const uint8_t *p, size_t len, int64_t deadline, size_t *sent)
{
	*sent = 0;
	while (*sent < len) {
		ssize_t n = rpc_cipher_send(m->fd, p + *sent, len - *sent);

		if (n > 0) {
			*sent += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = m->fd, .events = POLLOUT };
			int rc = poll(&pfd, 1, left_ms(deadline));

			if (rc == 0)
				return ERR_TIMEOUT;
			if (rc < 0 && errno != EINTR)
				return ERR_IO;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return ERR_IO;
	}
	return 0;
}

/* A frame of the handshakes as it goes on the wire (through TLS when on). */
static int send_frame(struct master *m, const uint8_t *frame, size_t len, int64_t deadline, size_t *sent)
{
	const uint8_t *wire;
	size_t wire_len;
	int rc = rpc_cipher_seal(&m->wire, frame, len, &wire, &wire_len, NULL);

	*sent = 0;
	return rc ? rc : send_all(m, wire, wire_len, deadline, sent);
}

/* What an encrypted connection that fails before its first frame back means: the master
 * could not read sparkgate's first encrypted frame (nothing is negotiated). */
#define MISMATCH " at the first encrypted message: check that spark.network.crypto.authEngineVersion and " \
	"spark.network.crypto.cipher match the master's"

#define NOT_TLS " at sparkgate's first message: if the master sets spark.ssl.rpc.enabled=true (Spark 4.0+), " \
	"give sparkgate the cluster's spark-defaults.conf with --spark-conf, or --tls-ca"

/* Whether the current master's port answers a TLS ClientHello with a TLS record (content
 * type 22, version 3.x), on a connection of its own, within a second of the request's time;
 * nothing of any request is sent on it. */
static int speaks_tls(struct master *m, int64_t deadline)
{
	struct buf hello = BUF_INIT(1u << 14);
	int64_t until = master_now_ms() + 1000;
	uint8_t head[5];
	size_t sent, got = 0;
	int yes = 0;

	if (until > deadline)
		until = deadline;
	if (!tls_client_hello(m->addrs[m->current].host, &hello)
	    && !connect_one(m, &m->addrs[m->current], until, until, NULL)
	    && !send_all(m, hello.data, hello.len, until, &sent)) {
		while (got < 2) {
			struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
			ssize_t n;

			if (poll(&pfd, 1, left_ms(until)) != 1)
				break;
			n = recv(m->fd, head + got, sizeof(head) - got, MSG_DONTWAIT);
			if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
				break;
			got += n > 0 ? (size_t)n : 0;
		}
		yes = got >= 2 && head[0] == 0x16 && head[1] == 0x03;
	}
	master_close(m);
	buf_release(&hello);
	return yes;
}

/* Reads frames until the one answering id arrives. */
static int await_reply(struct master *m, uint64_t id, int64_t deadline, struct master_answer *a,
		       struct sg_err *e)
{
	/* Just sent: the reply cannot be there yet, so wait for it before the first read (a
	 * read that finds nothing would cost a system call); later reads come first. */
	int wait_first = !rpc_cipher_buffered(&m->wire);

	for (;;) {
		struct frame f;
		struct sg_err fe = { 0 };
		ssize_t used = frame_parse(m->in.data, m->in.len, LIMIT_FRAME, &f, &fe);
		uint8_t *room;
		size_t nroom;
		int rc;

		if (used < 0) {
			int mismatch = m->wire.kind != RPC_PLAIN && m->frames == 0;

			master_close(m);
			return sg_err_set(e, (int)used, 0, "bad frame from master: %s%s", fe.msg, mismatch ? MISMATCH : "");
		}
		if (used > 0) {
			int mine = (f.type == FRAME_RPC_RESPONSE || f.type == FRAME_RPC_FAILURE) && f.request_id == id;

			rc = 0;
			if (mine) {
				a->failed = f.type == FRAME_RPC_FAILURE;
				rc = buf_add(&a->body, f.body, f.body_len);
			}
			/* Anything else (a late reply to a request that timed out, a message the
			 * master pushes) is dropped. */
			buf_consume(&m->in, (size_t)used);
			m->frames++;
			m->answered = 1;
			if (mine)
				return rc ? sg_err_set(e, rc, 0, "reply from master: %s", sg_err_name(rc)) : 0;
			continue;
		}
		/* frame_parse checked the announced length against LIMIT_FRAME, and m->in's max is
		 * LIMIT_FRAME: an incomplete frame always fits. */
		room = buf_spare(&m->in, m->in.len < m->in.max ? 1 : 0, &nroom, &rc);
		if (!room || !nroom) {
			master_close(m);
			return sg_err_set(e, rc ? rc : ERR_PROTOCOL, 0, "reply from master: %s",
					  rc ? sg_err_name(rc) : "no frame in LIMIT_FRAME bytes");
		}
		if (nroom > 65536)
			nroom = 65536;
		/* Then read first: the rest of a reply is often there already, and poll would cost
		 * a system call. */
		ssize_t n = wait_first ? -1 : rpc_cipher_recv(&m->wire, m->fd, &m->in, room, nroom);

		if (wait_first)
			errno = EAGAIN;
		wait_first = 0;
		if (n > 0)
			continue;
		if (n < 0 && errno == EBADMSG) {
			master_close(m);
			return sg_err_set(e, ERR_PROTOCOL, 0, "encrypted reply from master %s:%d does not decrypt (%s): "
					  "check that spark.network.crypto.authEngineVersion and spark.network.crypto.cipher "
					  "match the master's", m->addrs[m->current].host, m->addrs[m->current].port,
					  m->wire.err.msg);
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			struct pollfd pfd = { .fd = m->fd, .events = POLLIN };

			rc = poll(&pfd, 1, left_ms(deadline));
			if (rc == 0)
				return sg_err_set(e, ERR_TIMEOUT, 0, "master %s:%d did not answer within --timeout (%d s)",
						  m->addrs[m->current].host, m->addrs[m->current].port, m->timeout_ms / 1000);
			if (rc < 0 && errno != EINTR) {
				master_close(m);
				return sg_err_set(e, ERR_IO, 0, "poll: %s", strerror(errno));
			}
			continue;
		}
		int err = n == 0 ? 0 : errno;
		/* an encrypted connection closed before anything came back: the master could not
		 * read the first frame (another engine version or cipher); a plain one, before this
		 * master ever answered: maybe spark.ssl.rpc.enabled, which closes a connection whose
		 * first bytes are not TLS (asked once, on a connection of its own) */
		int mismatch = m->wire.kind != RPC_PLAIN && m->frames == 0;
		int not_tls = m->wire.kind == RPC_PLAIN && !m->tls && m->frames == 0 && !m->answered;

		master_close(m);
		not_tls = not_tls && speaks_tls(m, deadline);
		return sg_err_set(e, mismatch || not_tls ? ERR_PROTOCOL : ERR_IO, 0, "master %s:%d closed the connection%s%s%s",
				  m->addrs[m->current].host, m->addrs[m->current].port,
				  err ? ": " : "", err ? strerror(err) : "", mismatch ? MISMATCH : not_tls ? NOT_TLS : "");
	}
}

void master_next(struct master *m)
{
	master_close(m);
	m->current = (m->current + 1) % m->naddrs;
}

int master_ask(struct master *m, const void *stream, size_t len, int64_t deadline, struct master_answer *a,
	       struct sg_err *e)
{
	return master_ask_endpoint(m, "Master", stream, len, deadline, a, e);
}

int64_t master_deadline(const struct master *m)
{
	return master_now_ms() + m->timeout_ms;
}

/* spark.authenticate: the SASL exchange, first thing on a new connection; the master
 * refuses every other message until it is complete (AbstractAuthRpcHandler). */
static int authenticate_sasl(struct master *m, int64_t deadline, struct sg_err *e)
{
	struct buf token = BUF_INIT(1u << 17), body = BUF_INIT(1u << 18), frame = BUF_INIT(1u << 18);
	struct master_answer a;
	struct sasl_digest *s = sasl_digest_start(m->secret, &token, e);
	int rc = s ? 0 : e && e->code ? e->code : ERR_UNSUPPORTED, done = 0;

	master_answer_init(&a);
	for (int round = 0; !rc && !done; round++) {
		uint64_t id = (m->next_id++) & INT64_MAX;
		size_t sent;

		buf_reset(&body);
		buf_reset(&frame);
		buf_reset(&a.body);
		if (round == 8) {
			rc = sg_err_set(e, ERR_PROTOCOL, 0, "SASL exchange with the master did not finish");
			break;
		}
		rc = sasl_message(&body, token.data, token.len);
		rc = rc ? rc : frame_write_rpc_request(&frame, id, body.data, body.len);
		if (rc) {
			sg_err_set(e, rc, 0, "cannot build SASL message: %s", sg_err_name(rc));
			break;
		}
		rc = send_frame(m, frame.data, frame.len, deadline, &sent);
		if (rc) {
			rc = sg_err_set(e, rc, 0, "authenticating to master %s:%d failed: %s",
					m->addrs[m->current].host, m->addrs[m->current].port, sg_err_name(rc));
			break;
		}
		rc = await_reply(m, id, deadline, &a, e);
		if (rc)
			break;
		if (a.failed) {
			const char *t = buf_str(&a.body), *nl = strchr(t, '\n');

			/* AuthRpcHandler without saslFallback answers SASL so */
			int aes = strstr(t, "Unknown challenge message") != NULL;

			rc = sg_err_set(e, ERR_REMOTE, 0, "the Spark master at %s:%d refused sparkgate's "
					"authentication (spark.authenticate; check --secret-file%s): %.*s",
					m->addrs[m->current].host, m->addrs[m->current].port,
					aes ? "; the master wants spark.network.crypto.enabled=true: give sparkgate the "
					"cluster's spark-defaults.conf with --spark-conf" : "",
					(int)(nl ? nl - t : (long)strlen(t)), t);
			break;
		}
		rc = sasl_digest_step(s, a.body.data, a.body.len, &token, e);
		if (rc == 1) {
			done = 1;
			rc = 0;
		}
	}
	sasl_digest_free(s);
	master_answer_release(&a);
	buf_release(&token);
	buf_release(&body);
	buf_release(&frame);
	if (rc)
		master_close(m);
	return rc;
}

/* Whether the master reads a second message on this AES-GCM connection: an RpcRequest
 * with an empty body, which NettyRpcHandler cannot deserialize and answers with an
 * RpcFailure at once (no endpoint sees it); a receiver that drops it (3.4.4) leaves it
 * unanswered.  Waits at most a second of the request's time. */
static int second_message_read(struct master *m, int64_t deadline)
{
	struct buf frame = BUF_INIT(64);
	struct master_answer a;
	uint64_t id = (m->next_id++) & INT64_MAX;
	int64_t until = master_now_ms() + 1000;
	const uint8_t *wire;
	size_t wire_len, sent;
	int rc;

	master_answer_init(&a);
	rc = frame_write_rpc_request(&frame, id, NULL, 0);
	rc = rc ? rc : rpc_cipher_seal(&m->wire, frame.data, frame.len, &wire, &wire_len, NULL);
	rc = rc ? rc : send_all(m, wire, wire_len, deadline < until ? deadline : until, &sent);
	if (!rc)
		m->asks++;
	rc = rc ? rc : await_reply(m, id, deadline < until ? deadline : until, &a, NULL);
	master_answer_release(&a);
	buf_release(&frame);
	return rc == 0;
}

/* AuthClientBootstrap.doSparkAuth: one RpcRequest with the AuthEngine challenge, the
 * master's AuthMessage back in plain, then the session cipher below the frames. */
static int authenticate_aes(struct master *m, int64_t deadline, struct sg_err *e)
{
	const struct master_addr *addr = &m->addrs[m->current];
	struct buf body = BUF_INIT(AUTH_MESSAGE_MAX), frame = BUF_INIT(2 * AUTH_MESSAGE_MAX);
	struct master_answer a;
	struct authengine ae;
	uint64_t id = (m->next_id++) & INT64_MAX;
	size_t sent;
	int rc;

	authengine_init(&ae, m->secret, m->crypto.version);
	master_answer_init(&a);
	rc = authengine_challenge(&ae, &body, e);
	rc = rc ? rc : frame_write_rpc_request(&frame, id, body.data, body.len);
	if (!rc && (rc = send_frame(m, frame.data, frame.len, deadline, &sent)) != 0)
		sg_err_set(e, rc, 0, "authenticating to master %s:%d failed: %s", addr->host, addr->port, sg_err_name(rc));
	rc = rc ? rc : await_reply(m, id, deadline, &a, e);
	if (!rc && a.failed) {
		const char *t = buf_str(&a.body), *nl = strchr(t, '\n');

		rc = sg_err_set(e, ERR_REMOTE, 0, "the Spark master at %s:%d refused sparkgate's authentication "
				"(spark.network.crypto.enabled; check --secret-file and that the master sets "
				"spark.network.crypto.enabled=true): %.*s", addr->host, addr->port,
				(int)(nl ? nl - t : (long)strlen(t)), t);
	}
	rc = rc ? rc : authengine_derive(&ae, a.body.data, a.body.len, e);
	rc = rc ? rc : rpc_cipher_start(&m->wire, m->crypto.cipher, &ae, e);
	m->frames = 0;   /* counts encrypted frames from here */
	authengine_release(&ae);
	master_answer_release(&a);
	buf_release(&body);
	buf_release(&frame);
	if (rc)
		master_close(m);
	return rc;
}

/* AuthClientBootstrap.doBootstrap: the AuthEngine when spark.network.crypto.enabled, SASL
 * after a refusal when saslFallback allows it (on a new connection: the master closes the
 * one it refused), SASL alone otherwise. */
static int authenticate(struct master *m, int64_t deadline, struct sg_err *e)
{
	struct sg_err first = { 0 };
	int rc;

	if (!m->crypto.enabled)
		return authenticate_sasl(m, deadline, e);
	rc = authenticate_aes(m, deadline, &first);
	if (rc != ERR_REMOTE || !m->crypto.sasl_fallback)
		return rc ? sg_err_set(e, rc, 0, "%s", first.msg) : 0;
	master_close(m);
	rc = connect_at(m, m->current, deadline, e);
	return rc ? rc : authenticate_sasl(m, deadline, e);
}

/* A connection to the first master of the list that takes it and accepts sparkgate's
 * authentication, starting with the last one that worked: an entry that refuses the secret
 * (a standby of another cluster, a host that is not a master any more) must not hide the
 * leader behind it, as it would if only the connection were tried.  The first failure is
 * the one reported. */
static int open_session(struct master *m, int64_t deadline, struct sg_err *e)
{
	struct sg_err first = { 0 }, this = { 0 };
	size_t start = m->current;
	int rc = ERR_IO, first_rc = 0;

	for (size_t k = 0; k < m->naddrs; k++) {
		sg_err_clear(&this);   /* sg_err_set keeps the first error it is given */
		rc = connect_at(m, (start + k) % m->naddrs, deadline, &this);
		if (!rc && m->secret)
			rc = authenticate(m, deadline, &this);
		if (!rc)
			return 0;
		master_close(m);
		if (!first_rc) {
			first_rc = rc;
			first = this;
		}
		if (rc == ERR_TIMEOUT && left_ms(deadline) == 0)
			break;
	}
	return sg_err_set(e, first_rc ? first_rc : rc, 0, "%s", first.msg);
}

int master_ask_endpoint(struct master *m, const char *endpoint, const void *stream, size_t len,
			int64_t deadline, struct master_answer *a, struct sg_err *e)
{
	uint64_t id;
	size_t sent, at;
	int rc;

	a->failed = 0;
	a->maybe_delivered = 0;
	buf_reset(&a->body);
	for (int attempt = 0;; attempt++) {
		/* Nothing is sent once the request's time is up: an ask made after the deadline
		 * (the next driver of a listing, the create after quota accounting) fails
		 * without reaching the master. */
		if (left_ms(deadline) == 0)
			return sg_err_set(e, ERR_TIMEOUT, 0, "no time left for the master within --timeout (%d s)",
					  m->timeout_ms / 1000);
		if (m->fd >= 0 && !connection_alive(m))
			master_close(m);
		if (m->fd < 0) {
			rc = open_session(m, deadline, e);
			if (rc) {
				if (m->on_ask)
					m->on_ask(m->on_ask_ctx, -1, 0);   /* not sent: the master is not reachable */
				return rc;
			}
		}
		/* Request ids are positive, like Spark's (Math.abs of a random long). */
		id = (m->next_id++) & INT64_MAX;
		buf_reset(&m->out);
		const struct master_addr *addr = &m->addrs[m->current];
		rc = buf_grow(&m->out, LIMIT_RPC_HEADER + LIMIT_ENVELOPE + len);
		rc = rc ? rc : frame_begin_rpc_request(&m->out, id, &at);
		rc = rc ? rc : frame_write_envelope(&m->out, addr->host, addr->port, endpoint);
		rc = rc ? rc : buf_add(&m->out, stream, len);
		rc = rc ? rc : frame_end_rpc_request(&m->out, at);
		if (rc)
			return sg_err_set(e, rc, 0, "cannot build the request for the master: %s", sg_err_name(rc));
		const uint8_t *wire;
		size_t wire_len;

		if ((rc = rpc_cipher_seal(&m->wire, m->out.data, m->out.len, &wire, &wire_len, e)) != 0) {
			master_close(m);
			return rc;
		}
		rc = send_all(m, wire, wire_len, deadline, &sent);
		if (rc == 0)
			break;
		master_close(m);
		if (rc == ERR_TIMEOUT || sent == wire_len) {
			a->maybe_delivered = sent == wire_len;
			return sg_err_set(e, rc, 0, "sending to master failed: %s", sg_err_name(rc));
		}
		/* An incomplete frame is discarded by the master: safe to send again once. */
		if (attempt == 1)
			return sg_err_set(e, ERR_IO, 0, "sending to master failed twice");
	}
	a->maybe_delivered = 1;
	m->asks++;
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = await_reply(m, id, deadline, a, e);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (m->on_ask)
			m->on_ask(m->on_ask_ctx,
				  (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000, rc == 0);
	}
	/* AES-GCM: one ask per connection where the master drops every message after the
	 * first (3.4.4, SPARK-56227); the next connection counts as the same master */
	if (m->fd >= 0 && m->wire.kind == RPC_AES_GCM) {
		if (rc == 0 && !m->gcm_reuse[m->current])
			m->gcm_reuse[m->current] = (signed char)(second_message_read(m, deadline) ? 1 : -1);
		/* also after a timeout (the connection may drop whatever comes next) */
		if (m->gcm_reuse[m->current] < 0 || (rc && !m->gcm_reuse[m->current])) {
			master_close(m);
			m->parked = rc == 0;
		}
	}
	return rc;
}
