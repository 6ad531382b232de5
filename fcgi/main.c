/* sparkgate: Spark's REST submission API as a FastCGI (or CGI) application.
 * Startup (options.c), signals, serving one request (its FastCGI records are link.c's, the
 * connections conns.c's) and shutdown; all logic lives in core/, reached through
 * core/gateway.h.  libfcgi opens --listen's socket and tells CGI from FastCGI; its request
 * reader is not used (link.c reads a request in one read and answers in one writev). */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "adapter.h"
#include "conns.h"
#include "log.h"
#include "options.h"

static volatile sig_atomic_t stop_requested, reload_requested;

/* SIGTERM/SIGINT: the request in flight is finished (the master client retries
 * interrupted system calls), then the accept loop ends. */
static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGHUP: acted on before the next request (see reload()). */
static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static int cgi_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* The body of a streamed answer (a stored upload), after its headers went out; one that
 * stops short is logged (the web server sees fewer bytes than Content-Length and drops the
 * connection, so no client takes it for the whole file). */
static int stream_body(struct adapted *ad, const struct response *rs, write_fn put, void *ctx, unsigned long seq)
{
	uint64_t sent = 0;

	if (adapter_stream(ad, rs, put, ctx, &sent) == 0)
		return 0;
	log_printf(LOG_LEVEL_ERROR, "req=%lu answer cut short after %llu of %llu bytes", seq,
		   (unsigned long long)sent, (unsigned long long)rs->stream_len);
	return -1;
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

/* The answer to the request in ad (adapted from the parameters since t0), or, if unreadable
 * is an HTTP status, to a request that could not be read (unreadable says why). */
static void serve_one(struct gateway *g, struct adapted *ad, struct response *rs, struct buf *out,
		      int unreadable, const struct timespec *t0, unsigned long seq)
{
	enum log_level level;

	response_reset(rs);
	buf_reset(out);
	if (unreadable) {
		static const struct request fallback = { .method = "GET", .path = "/" };

		gateway_fail(g, rs, unreadable, unreadable == 431
			     ? "sparkgate takes at most 64 KiB of request headers and parameters."
			     : unreadable == 400 ? "sparkgate could not read the request's parameters."
			     : "sparkgate could not read the request.");
		adapter_format_response(&fallback, rs, out);
		log_printf(LOG_LEVEL_ERROR, "req=%lu cannot read request (answered %d)", seq, unreadable);
		return;
	}
	gateway_handle(g, &ad->rq, rs);
	if (rs->note[0])
		log_printf(rs->note_error ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "req=%lu %s", seq, rs->note);
	if (adapter_format_response(&ad->rq, rs, out))
		log_printf(LOG_LEVEL_ERROR, "req=%lu response too large", seq);
	/* A status answered from the cache touched nothing: logged at debug (a poller makes
	 * thousands a second; the web server's access log has them). */
	level = rs->status >= 500 || rs->store_failed ? LOG_LEVEL_ERROR
		: rs->cache && strcmp(rs->cache, "hit") == 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	if (log_enabled(level))
		log_printf(level, "req=%lu %s %s -> %d %.1fms asks=%u user=%s addr=%s%s%s%s%s%s%s",
			   seq, ad->rq.method, ad->rq.path, rs->status, elapsed_ms(t0), rs->master_asks,
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

/* What a FastCGI request needs of main: the gateway and the buffers it answers with. */
struct server {
	struct gateway *g;
	const struct options *o;
	struct adapted *ad;
	struct response *rs;
	struct buf *out;
	unsigned long seq;
};

static void collect(void *ctx, const struct record_pair *pair)
{
	adapter_param(ctx, (const char *)pair->name, pair->name_len, (const char *)pair->value);
}

static int link_put(void *ctx, const void *p, size_t n)
{
	return link_write(ctx, p, n);
}

/* One request a FastCGI connection has read: adapted where its parameters lie in the
 * connection's buffer, answered with link_end (what it returns: whether the connection
 * stays). */
static int serve_fcgi(void *arg, struct link *l)
{
	struct server *sv = arg;
	struct adapter_params p;
	struct timespec t0;
	int unreadable = 0, rc;

	if (reload_requested)
		reload(sv->g, sv->o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	adapter_params_clear(&p);
	if (link_params_too_large(l))
		unreadable = 431;
	else if (link_params(l, collect, &p))
		unreadable = 400;
	else if (adapt_params(sv->ad, &p, link_read_body, l))
		unreadable = 500;
	serve_one(sv->g, sv->ad, sv->rs, sv->out, unreadable, &t0, ++sv->seq);
	if (unreadable || !sv->rs->stream)
		return link_end(l, sv->out->data, sv->out->len);
	/* a streamed answer: its head, its pieces as they come, the end (and a connection that
	 * carried a short one is not kept) */
	rc = link_write(l, sv->out->data, sv->out->len) == 0 && stream_body(sv->ad, sv->rs, link_put, l, sv->seq) == 0;
	return link_end(l, NULL, 0) == 0 && rc ? 0 : LINK_CLOSED;
}

static void after_fcgi(void *arg)
{
	struct server *sv = arg;

	after_answer(sv->g, sv->seq);
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
	if (o.listen && conns_tcp_address(o.listen) && !o.web_servers && !conns_loopback_address(o.listen)) {
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
	} else if ((sock = conns_systemd_socket()) >= 0) {
		from_systemd = 1;
	} else {
		sock = 0;
	}

	buf_init(&out, gateway_response_limit);
	adapted_init(&ad, o.gw.max_body);
	response_init(&rs);

	if (!o.listen && !from_systemd && FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment and stdin, answer on stdout. */
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		serve_one(g, &ad, &rs, &out, adapt_request(&ad, (const char *const *)environ, cgi_read, NULL) ? 500 : 0,
			  &t0, ++seq);
		fwrite(out.data, 1, out.len, stdout);
		stream_body(&ad, &rs, cgi_write, NULL, seq);
		fclose(stdout);   /* the answer is complete for the web server */
		after_answer(g, seq);
	} else {
		log_printf(LOG_LEVEL_INFO, "serving for %s (Spark build: %s)%s%s%s%s", gateway_master_url(g),
			   o.gw.spark_version ? o.gw.spark_version : "detected", o.listen ? " on " : "",
			   o.listen ? o.listen : "", from_systemd ? " on systemd's socket" : "",
			   o.gw.allow_anonymous ? "; anonymous requests allowed" : "");
		struct server sv = { g, &o, &ad, &rs, &out, seq };
		const struct conn_handler h = { serve_fcgi, after_fcgi, &sv };

		conns_serve(sock, o.web_servers, &stop_requested, &h);
		log_printf(LOG_LEVEL_INFO, "stopping after %lu requests", sv.seq);
	}
	buf_release(&out);
	response_release(&rs);
	adapted_release(&ad);
	gateway_free(g);
	return 0;
}
