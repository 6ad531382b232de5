/* sparkgate: Spark's REST submission API as a FastCGI (or CGI) application.
 * Startup (options.c), the accept loop, signals and shutdown; all logic lives in core/,
 * reached through core/gateway.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>
#include <fcgiapp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "adapter.h"
#include "log.h"
#include "options.h"

static volatile sig_atomic_t stop_requested, reload_requested;

/* SIGTERM/SIGINT: the request in flight is finished (the master client retries
 * interrupted system calls), then the accept loop ends. */
static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
	FCGX_ShutdownPending();
}

/* SIGHUP: acted on before the next request (see reload()). */
static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

struct fcgi_ctx {
	FCGX_Request *req;
};

static ssize_t fcgi_read(void *ctx, void *p, size_t n)
{
	int want = n > 65536 ? 65536 : (int)n;

	return FCGX_GetStr(p, want, ((struct fcgi_ctx *)ctx)->req->in);
}

static int fcgi_write(void *ctx, const void *p, size_t n)
{
	return FCGX_PutStr(p, (int)n, ((struct fcgi_ctx *)ctx)->req->out) == (int)n ? 0 : -1;
}

static int cgi_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* The body of a streamed answer (a stored upload), after its headers went out; one that
 * stops short is logged (the web server sees fewer bytes than Content-Length and drops the
 * connection, so no client takes it for the whole file). */
static void stream_body(struct adapted *ad, const struct response *rs, write_fn put, void *ctx, unsigned long seq)
{
	uint64_t sent = 0;

	if (adapter_stream(ad, rs, put, ctx, &sent))
		log_printf(LOG_LEVEL_ERROR, "req=%lu answer cut short after %llu of %llu bytes", seq,
			   (unsigned long long)sent, (unsigned long long)rs->stream_len);
}

static ssize_t cgi_read(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return read(STDIN_FILENO, p, n);
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void serve_one(struct gateway *g, struct adapted *ad, struct response *rs, struct buf *out,
		      const char *const *env, read_fn rd, void *ctx, unsigned long seq)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	response_reset(rs);
	buf_reset(out);
	if (adapt_request(ad, env, rd, ctx)) {
		static const struct request fallback = { .method = "GET", .path = "/" };

		gateway_fail(g, rs, 500, "sparkgate could not read the request.");
		adapter_format_response(&fallback, rs, out);
		log_printf(LOG_LEVEL_ERROR, "req=%lu cannot read request", seq);
		return;
	}
	gateway_handle(g, &ad->rq, rs);
	if (rs->note[0])
		log_printf(rs->note_error ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "req=%lu %s", seq, rs->note);
	if (adapter_format_response(&ad->rq, rs, out))
		log_printf(LOG_LEVEL_ERROR, "req=%lu response too large", seq);
	/* A status answered from the cache touched nothing: logged at debug (a poller makes
	 * thousands a second; the web server's access log has them). */
	log_printf(rs->status >= 500 || rs->store_failed ? LOG_LEVEL_ERROR
		   : rs->cache && strcmp(rs->cache, "hit") == 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
		   "req=%lu %s %s -> %d %.1fms asks=%u user=%s addr=%s%s%s%s%s%s%s",
		   seq, ad->rq.method, ad->rq.path, rs->status, elapsed_ms(&t0), rs->master_asks,
		   rs->user[0] ? rs->user : "-", *ad->rq.remote_addr ? ad->rq.remote_addr : "-",
		   rs->submission_id[0] ? " id=" : "", rs->submission_id, rs->cache ? " cache=" : "",
		   rs->cache ? rs->cache : "",
		   rs->hidden ? " (another user's: answered as unknown)" : rs->replayed ? " (idempotent replay)" : "",
		   rs->store_failed ? " (OWNER NOT RECORDED: state database failed)" : "");
}

/* SIGHUP, acted on between requests: the log file reopened, then the gateway (audit log,
 * policy, secret, a fresh master connection that detects the build again).  Each part is
 * independent: one that fails is logged and the others still happen. */
static void reload(struct gateway *g, const struct options *o)
{
	struct buf report = BUF_INIT(8192);
	char secret[4096];
	int have_secret = 0;

	reload_requested = 0;
	if (log_open())
		log_printf(LOG_LEVEL_ERROR, "SIGHUP: cannot reopen --log-file %s: %s (still writing the old one)",
			   o->log_file, strerror(errno));
	if (o->secret_file
	    && !(have_secret = options_read_secret(o->secret_file, "--secret-file", secret, sizeof(secret)) == 0))
		log_printf(LOG_LEVEL_ERROR, "SIGHUP: keeping the previous secret");
	gateway_reload(g, &o->gw, have_secret ? secret : NULL, &report);
	explicit_bzero(secret, sizeof(secret));
	log_lines("SIGHUP:", &report);
	buf_release(&report);
	log_printf(LOG_LEVEL_INFO, "SIGHUP: %smaster connection reset%s%s", o->log_file ? "log reopened, " : "",
		   o->secret_file ? ", secret re-read" : "", o->gw.policy_file ? ", policy re-read" : "");
}

/* What the gateway does once an answer is out, with its findings logged as errors. */
static void after_answer(struct gateway *g, unsigned long seq)
{
	struct buf warnings = BUF_INIT(4096);
	char prefix[32];

	gateway_after_answer(g, &warnings);
	if (warnings.len == 0)
		return;   /* (nothing allocated) */
	snprintf(prefix, sizeof(prefix), "req=%lu", seq);
	log_lines(prefix, &warnings);
	buf_release(&warnings);
}

/* --listen HOST:PORT or :PORT (libfcgi's TCP form) rather than a unix socket path. */
static int tcp_listen(const char *addr)
{
	return strchr(addr, ':') != NULL && addr[0] != '/' && addr[0] != '.';
}

static int loopback_listen(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "localhost:", 10) == 0 || strncmp(addr, "[::1]:", 6) == 0;
}

/* Whether the peer of fd is one of the comma-separated numeric addresses in list (its
 * address text in peer, for the log). */
static int peer_allowed(int fd, const char *list, char *peer, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	const char *p = list;

	snprintf(peer, size, "?");
	if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	if (sa.ss_family == AF_UNIX)
		return 1;
	if (getnameinfo((struct sockaddr *)&sa, len, peer, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
		return 0;
	if (strncmp(peer, "::ffff:", 7) == 0)   /* an IPv4 peer on an IPv6 socket */
		memmove(peer, peer + 7, strlen(peer + 7) + 1);
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == strlen(peer) && strncmp(p, peer, n) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* systemd socket activation (sd_listen_fds(3)): one listening socket as fd 3. */
static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static void handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;   /* no SA_RESTART: accept() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;  /* acted on between requests; nothing needs interrupting */
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The FastCGI connections one process holds.  A web server may keep a connection for its
 * next request (FCGI_KEEP_CONN: nginx's fastcgi_keep_conn, Apache mod_proxy_fcgi's
 * enablereuse); while it sits idle in the web server's pool, a process that only waited on
 * it would leave every other connection in the listen queue.  So a process polls the
 * listening socket and every connection it holds, and serves whichever has a request: any
 * number of kept connections fits any number of processes.  Past CONN_MAX (more than Apache's
 * default MaxRequestWorkers, 150), the connection idle longest is closed (the web server opens
 * another when it needs one). */
enum { CONN_MAX = 256 };

struct conns {
	FCGX_Request req[CONN_MAX];     /* ipcFd < 0: a free slot */
	unsigned long last[CONN_MAX];   /* the seq of its last request (the idlest is the lowest) */
};

/* A free slot, or the idlest connection's, closed. */
static int conns_slot(struct conns *c)
{
	int i, idlest = 0;

	for (i = 0; i < CONN_MAX; i++) {
		if (c->req[i].ipcFd < 0)
			return i;
		if (c->last[i] < c->last[idlest])
			idlest = i;
	}
	FCGX_Free(&c->req[idlest], 1);
	return idlest;
}

/* The request's end: what is left of its stdin is read first (the empty FCGI_STDIN record
 * that ends it may still be on its way: mod_proxy_fcgi sends it apart).  libfcgi's finish
 * does not: left in a kept connection, it is what the next accept reads instead of a
 * FCGI_BEGIN_REQUEST, a protocol error that closes the connection (the web server, which
 * kept it, then answers 502) after waiting up to 2 s for the peer.  Then libfcgi closes the
 * connection unless the web server keeps it. */
static void finish_kept(FCGX_Request *req)
{
	char drain[4096];

	while (FCGX_GetStr(drain, sizeof(drain), req->in) > 0)
		;
	FCGX_Finish_r(req);
}

/* One request on connection i (known readable): 0, or -1 when the connection ended (the web
 * server closed it, or the request was unreadable: libfcgi closed it). */
static int serve_conn(struct gateway *g, const struct options *o, struct conns *c, int i, struct adapted *ad,
		      struct response *rs, struct buf *out, unsigned long *seq)
{
	FCGX_Request *req = &c->req[i];
	struct fcgi_ctx ctx = { req };

	/* the connection is open: libfcgi reads its next request (its listen_sock is -1, so a
	 * connection found closed is given up rather than replaced by a blocking accept) */
	if (FCGX_Accept_r(req) < 0) {
		req->ipcFd = -1;
		return -1;
	}
	if (reload_requested)
		reload(g, o);
	serve_one(g, ad, rs, out, (const char *const *)req->envp, fcgi_read, &ctx, ++*seq);
	FCGX_PutStr((const char *)out->data, (int)out->len, req->out);
	stream_body(ad, rs, fcgi_write, &ctx, *seq);
	finish_kept(req);
	c->last[i] = *seq;
	after_answer(g, *seq);
	return req->ipcFd < 0 ? -1 : 0;
}

/* A new connection from the listening socket (non-blocking: another process may have taken
 * it) into a slot: its index, or -1. */
static int accept_conn(const struct options *o, struct conns *c, int sock)
{
	char peer[INET6_ADDRSTRLEN];
	int fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return -1;
	if (fd >= FD_SETSIZE) {   /* libfcgi's close select()s on it */
		log_printf(LOG_LEVEL_ERROR, "refused a FastCGI connection: descriptor %d above FD_SETSIZE", fd);
		close(fd);
		return -1;
	}
	if (o->web_servers && !peer_allowed(fd, o->web_servers, peer, sizeof(peer))) {
		log_printf(LOG_LEVEL_ERROR, "refused a FastCGI connection from %s (not in --web-servers)", peer);
		close(fd);
		return -1;
	}
	i = conns_slot(c);
	c->req[i].ipcFd = fd;
	c->req[i].keepConnection = 1;   /* until its first FCGI_BEGIN_REQUEST says otherwise */
	return i;
}

static void serve_connections(struct gateway *g, const struct options *o, int sock, struct adapted *ad,
			      struct response *rs, struct buf *out, unsigned long *seq)
{
	static struct conns c;
	struct pollfd pfd[CONN_MAX + 1];
	int slot[CONN_MAX + 1], i, n, k;
	int flags = fcntl(sock, F_GETFL);

	/* several processes may share the socket: accept only what poll saw, never block on it */
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
		log_printf(LOG_LEVEL_ERROR, "cannot make the listening socket non-blocking: %s", strerror(errno));
	for (i = 0; i < CONN_MAX; i++)
		FCGX_InitRequest(&c.req[i], -1, 0);
	while (!stop_requested) {
		/* most often (a web server that closes each connection) the next connection is
		 * already waiting: take it without a poll */
		for (n = 0, i = 0; i < CONN_MAX; i++)
			n += c.req[i].ipcFd >= 0;
		if (n == 0 && (i = accept_conn(o, &c, sock)) >= 0) {
			serve_conn(g, o, &c, i, ad, rs, out, seq);
			continue;
		}
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (n = 1, i = 0; i < CONN_MAX; i++)
			if (c.req[i].ipcFd >= 0) {
				pfd[n] = (struct pollfd){ .fd = c.req[i].ipcFd, .events = POLLIN };
				slot[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_printf(LOG_LEVEL_ERROR, "poll: %s", strerror(errno));
			break;
		}
		for (k = 1; k < n && !stop_requested; k++)
			if (pfd[k].revents)
				serve_conn(g, o, &c, slot[k], ad, rs, out, seq);
		if ((pfd[0].revents & POLLIN) && !stop_requested && (i = accept_conn(o, &c, sock)) >= 0)
			serve_conn(g, o, &c, i, ad, rs, out, seq);
	}
	for (i = 0; i < CONN_MAX; i++)
		if (c.req[i].ipcFd >= 0)
			FCGX_Free(&c.req[i], 1);
}

int main(int argc, char **argv)
{
	struct options o;
	struct gateway *g;
	struct adapted ad;
	struct response rs;
	struct buf out;
	unsigned long seq = 0;
	int sock = 0, from_systemd = 0, status;

	options_init(&o);
	if (options_parse(&o, argc, argv, &status))
		return status;
	log_setup(o.log_level, o.log_file);
	if (log_open()) {
		fprintf(stderr, "sparkgate: cannot open --log-file %s: %s\n", o.log_file, strerror(errno));
		return 2;
	}
	if ((status = options_start(&o, &g)) != 0)
		return status;
	if (gateway_warning(g)[0])
		log_printf(LOG_LEVEL_ERROR, "%s", gateway_warning(g));
	handle_signals();

	if (FCGX_Init() != 0) {
		fprintf(stderr, "sparkgate: FCGX_Init failed\n");
		return 1;
	}
	if (o.listen && tcp_listen(o.listen) && !o.web_servers && !loopback_listen(o.listen)) {
		/* whoever connects names the user (REMOTE_USER): only the web servers may */
		fprintf(stderr, "sparkgate: --listen %s accepts FastCGI from other machines, which could name any user; "
			"give the web servers' addresses with --web-servers ADDR[,ADDR...] (or listen on a unix socket "
			"or a loopback address)\n", o.listen);
		return 2;
	}
	if (o.listen) {
		sock = FCGX_OpenSocket(o.listen, (int)o.backlog);
		if (sock < 0) {
			fprintf(stderr, "sparkgate: cannot listen on %s: %s\n", o.listen, strerror(errno));
			return 1;
		}
	} else if ((sock = systemd_socket()) >= 0) {
		from_systemd = 1;
	} else {
		sock = 0;
	}

	buf_init(&out, gateway_response_limit);
	adapted_init(&ad, o.gw.max_body);
	response_init(&rs);

	if (!o.listen && !from_systemd && FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment and stdin, answer on stdout. */
		serve_one(g, &ad, &rs, &out, (const char *const *)environ, cgi_read, NULL, ++seq);
		fwrite(out.data, 1, out.len, stdout);
		stream_body(&ad, &rs, cgi_write, NULL, seq);
		fclose(stdout);   /* the answer is complete for the web server */
		after_answer(g, seq);
	} else {
		log_printf(LOG_LEVEL_INFO, "serving for %s (Spark build: %s)%s%s%s%s", gateway_master_url(g),
			   o.gw.spark_version ? o.gw.spark_version : "detected", o.listen ? " on " : "",
			   o.listen ? o.listen : "", from_systemd ? " on systemd's socket" : "",
			   o.gw.allow_anonymous ? "; anonymous requests allowed" : "");
		serve_connections(g, &o, sock, &ad, &rs, &out, &seq);
		log_printf(LOG_LEVEL_INFO, "stopping after %lu requests", seq);
	}
	buf_release(&out);
	response_release(&rs);
	adapted_release(&ad);
	gateway_free(g);
	return 0;
}
