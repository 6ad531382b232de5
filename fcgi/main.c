/* sparkgate: Spark's REST submission API as a FastCGI (or CGI) application.
 * Accept loop, options, and the FastCGI side of the adapter; all logic lives in core/. */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "servlets/files.h"
#include "gateway.h"
#include "adapter.h"

#define SPARKGATE_VERSION "0.1.0"

static volatile sig_atomic_t stop_requested, reload_requested;
static int log_level = 1;   /* 0 error, 1 info, 2 debug */
static const char *log_file;
static int log_pid;         /* getpid() once, not per log line */

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

/* One line per event; everything in it (paths, user names, the master's texts) is
 * escaped, so no request can break a line or forge one. */
static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "info", "debug" };
	char when[32], text[4096];
	struct buf line = BUF_INIT(3 * sizeof(text) + 128);
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (buf_printf(&line, "%s sparkgate[%d] %s: ", when, log_pid, names[level])
	    || gateway_escape_text(&line, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1)
	    || buf_addc(&line, '\n')) {
		buf_release(&line);
		return;
	}
	fwrite(line.data, 1, line.len, stderr);   /* line-buffered: one write */
	buf_release(&line);
}

/* --log-file: stderr itself (fd 2) is pointed at the file, so anything written there lands
 * in it.  The file is opened first and put in place only then, so a reopen that fails
 * (SIGHUP after the directory went away) leaves the old stderr writing. */
static int open_log(void)
{
	int fd;

	if (!log_file)
		return 0;
	fflush(stderr);
	fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fd != STDERR_FILENO) {
		int rc = dup2(fd, STDERR_FILENO);
		int saved = errno;

		close(fd);
		if (rc < 0) {
			errno = saved;
			return -1;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sparkgate --master spark://HOST:PORT[,HOST:PORT...] [options]\n"
"\n"
"Serves Spark's REST submission API (/v1/submissions/create, kill/ID, status/ID) as a\n"
"FastCGI application and submits to the master over Spark's own RPC (port 7077).\n"
"\n"
"  -m, --master URL          master(s) to submit to (required)\n"
"  -l, --listen ADDR         own FastCGI socket: HOST:PORT, :PORT or a unix socket path;\n"
"                            default: a socket from systemd (LISTEN_FDS), else the socket\n"
"                            the web server passes on stdin, else one plain CGI request\n"
"  -s, --spark-version V     pin the master's Spark release instead of detecting its minor on\n"
"                            each connection: X.Y.Z or X.Y.Z_SCALA of a supported minor, reported\n"
"                            as serverSparkVersion (tables:");
	{
		struct buf builds = BUF_INIT(4096);

		gateway_builds(&builds);
		fprintf(f, " %s", buf_str(&builds));
		buf_release(&builds);
	}
	fprintf(f, ")\n"
"      --secret-file PATH    the master's spark.authenticate.secret, alone in a file:\n"
"                            authenticate with SASL DIGEST-MD5 (spark.authenticate=true)\n"
"      --spark-conf FILE     the cluster's spark-defaults.conf: spark.authenticate, its\n"
"                            secret (--secret-file wins), spark.network.crypto.* (AES-CTR\n"
"                            or AES-GCM after Spark's AuthEngine handshake)\n"
"  -t, --timeout SECONDS     limit for one request to the master, connect included (8)\n"
"      --connect-timeout S   limit for connecting to the master (3)\n"
"  -b, --max-body BYTES      largest request body accepted; larger gets 413 (1048576)\n"
"      --backlog N           listen backlog with --listen (128)\n"
"      --anonymous MODE      refuse (default) or allow requests the web server did not\n"
"                            authenticate (no REMOTE_USER); refused ones get 403\n"
"      --hosts NAME[,NAME]   the host names (NAME or NAME:PORT) sparkgate serves: a request\n"
"                            whose Host header names another gets 400 before anything else\n"
"                            (DNS rebinding); default: any Host\n"
"      --env-placeholders L  Spark 4 masters: which of sparkgate's environment variables a\n"
"                            property or environment value \"{{NAME}}\" may name: none\n"
"                            (default: sparkgate's environment is the web server's, not the\n"
"                            master's as for Spark's own server), all, or NAME,NAME,...\n"
"      --state-db PATH       record who submitted what in this SQLite file (shared by every\n"
"                            sparkgate process), or a PostgreSQL URI or connection string\n"
"                            without a password: users then see and kill only their own\n"
"                            drivers, GET /v1/submissions lists them, and an\n"
"                            Idempotency-Key makes a retried create return the first id\n"
"      --state-db-file FILE  the same, read from FILE (mode 0600 or stricter): where a\n"
"                            PostgreSQL password may stand (or use ~/.pgpass, PGPASSFILE,\n"
"                            a service file)\n"
	);
	fprintf(f,
"      --policy PATH         groups, admins and what a create may ask for (sparkgate(8),\n"
"                            deploy/policy.conf); re-read on SIGHUP\n"
"      --audit-log PATH      one JSON line per create, kill, killall, clear and refusal;\n"
"                            reopened on SIGHUP\n"
"      --jws-secret-file PATH  accept \"Authorization: Bearer <JWT>\" (HS256, as Spark 4's\n"
"                            JWSFilter; the file holds its base64url secretKey) when the web\n"
"                            server passes no user; the token's \"sub\" is the user\n"
"      --web-servers LIST    with --listen HOST:PORT on a non-loopback address: the only\n"
"                            peers (numeric addresses, comma-separated) that may connect\n"
"      --master-rest-port N  besides 6066, the port to check for the master's own REST\n"
"                            server (an unauthenticated door); found open, it is logged\n"
"      --status-max-age T    answer a driver's status from what the master said at most T\n"
"                            ago (ms, or with a unit: 500ms, 2s; default 1000), shared by\n"
"                            the host's sparkgate processes; 0: ask the master every time\n"
"      --master-ui URL[,URL] the masters' web UIs (in --master order), read for every\n"
"                            driver's state in one request (listing, quotas); default\n"
"                            http://MASTER-HOST:8080; off: ask the master per driver\n"
"      --files-dir DIR       accept uploads (PUT /v1/files/NAME): stored under DIR/pub,\n"
"                            which the web server serves without login at --files-url;\n"
"                            needs --state-db (owners and totals are recorded there)\n"
"      --files-url URL       where workers fetch DIR/pub (e.g. https://gw.example/files)\n"
"      --max-upload SIZE     largest upload (bytes, or 200k, 256m, 1g; default 256m)\n"
"      --files-quota SIZE    what one user's uploads may hold together (default 1g; none)\n"
"      --csrf MODE           origin (default): a browser POST from another site needs an\n"
"                            X-Requested-By header; header: every POST needs it; off\n"
"      --log-level LEVEL     error, info (default) or debug\n"
"      --log-file PATH       append logs to PATH instead of stderr (which web servers put\n"
"                            in their error log); reopened on SIGHUP\n"
"  -h, --help                this text\n"
"  -V, --version             print the version\n"
"\n"
"Signals: SIGTERM finishes the request in flight, then exits.  SIGHUP, before the next\n"
"request, reopens --log-file and --audit-log, re-reads --secret-file and --policy and\n"
"reconnects to the master.\n");
}

struct fcgi_ctx {
	FCGX_Request *req;
};

static ssize_t fcgi_read(void *ctx, void *p, size_t n)
{
	int want = n > 65536 ? 65536 : (int)n;

	return FCGX_GetStr(p, want, ((struct fcgi_ctx *)ctx)->req->in);
}

static ssize_t cgi_read(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return read(STDIN_FILENO, p, n);
}

/* Status line and headers for the web server, then the body (none for HEAD). */
static int format_response(const struct request *rq, const struct response *rs, struct buf *out)
{
	int rc = buf_printf(out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n",
			    rs->status, http_reason(rs->status),
			    rs->content_type ? rs->content_type : "application/json;charset=utf-8", rs->body.len);

	if (!rc && rs->allow)
		rc = buf_printf(out, "Allow: %s\r\n", rs->allow);
	if (!rc && rs->header[0])
		rc = buf_printf(out, "%s\r\n", rs->header);
	rc = rc ? rc : buf_addstr(out, "\r\n");
	if (!rc && strcmp(rq->method, "HEAD") != 0)
		rc = buf_add(out, rs->body.data, rs->body.len);
	return rc;
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
		format_response(&fallback, rs, out);
		logf_(0, "req=%lu cannot read request", seq);
		return;
	}
	gateway_handle(g, &ad->rq, rs);
	if (rs->note[0])
		logf_(rs->note_error ? 0 : 1, "req=%lu %s", seq, rs->note);
	if (format_response(&ad->rq, rs, out))
		logf_(0, "req=%lu response too large", seq);
	/* A status answered from the cache touched nothing: logged at debug (a poller makes
	 * thousands a second; the web server's access log has them). */
	logf_(rs->status >= 500 || rs->store_failed ? 0 : rs->cache && strcmp(rs->cache, "hit") == 0 ? 2 : 1,
	      "req=%lu %s %s -> %d %.1fms asks=%u user=%s addr=%s%s%s%s%s%s%s",
	      seq, ad->rq.method, ad->rq.path, rs->status, elapsed_ms(&t0), rs->master_asks,
	      rs->user[0] ? rs->user : "-", *ad->rq.remote_addr ? ad->rq.remote_addr : "-",
	      rs->submission_id[0] ? " id=" : "", rs->submission_id, rs->cache ? " cache=" : "", rs->cache ? rs->cache : "",
	      rs->hidden ? " (another user's: answered as unknown)" : rs->replayed ? " (idempotent replay)" : "",
	      rs->store_failed ? " (OWNER NOT RECORDED: state database failed)" : "");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A byte count: "1048576", "200k", "256m", "1g" (binary units), or "none" (-1). */
static int parse_bytes(const char *s, long long *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (strcmp(s, "none") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end && !end[1])
		shift = *end == 'k' ? 10 : *end == 'm' ? 20 : *end == 'g' ? 30 : -1;
	else if (*end)
		shift = -1;
	if (errno || end == s || s[0] == '-' || shift < 0 || v > (1ull << 50) >> shift)
		return -1;
	*out = (long long)(v << shift);
	return 0;
}

/* A duration in milliseconds: "750", "750ms" or "2s" (at most an hour). */
static int parse_ms(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (strcmp(end, "s") == 0)
		v *= 1000;
	else if (*end && strcmp(end, "ms") != 0)
		return -1;
	if (v > 3600 * 1000)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* --secret-file: the value of the master's spark.authenticate.secret, alone in a file
 * (one trailing newline ignored).  Kept out of the command line, where ps would show it. */
static int read_secret(const char *path, const char *option, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "sparkgate: cannot read %s %s: %s\n", option, path, strerror(errno));
		return -1;
	}
	n = fread(out, 1, size - 1, f);
	int more = fgetc(f) != EOF;
	fclose(f);
	out[n] = '\0';
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	if (more || !n || strlen(out) != n) {
		fprintf(stderr, "sparkgate: %s %s must hold one line (1 to %zu bytes, no NUL)\n", option, path,
			size - 2);
		return -1;
	}
	return 0;
}

/* --state-db-file: like --secret-file, for a file that may hold a password: refused when
 * anyone but its owner may read or write it (its owner is who can read it here). */
static int read_private(const char *path, const char *option, char *out, size_t size)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		fprintf(stderr, "sparkgate: %s %s may be read or written by others (mode %03o); it may hold a password: "
			"chmod 600 it\n", option, path, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return read_secret(path, option, out, size);
}

/* Each line of lines (the gateway's reports) as an error line of the log, after prefix. */
static void log_errors(const char *prefix, const struct buf *lines)
{
	for (const char *l = buf_str(lines); *l;) {
		size_t n = strcspn(l, "\n");

		logf_(0, "%s %.*s", prefix, (int)n, l);
		l += n + (l[n] == '\n');
	}
}

/* SIGHUP, acted on between requests: the log file reopened, then the gateway (audit log,
 * policy, secret, a fresh master connection that detects the build again).  Each part is
 * independent: one that fails is logged and the others still happen. */
static void reload(struct gateway *g, const struct gateway_config *c, const char *secret_file)
{
	struct buf report = BUF_INIT(8192);
	char secret[4096];
	int have_secret = 0;

	reload_requested = 0;
	if (open_log())
		logf_(0, "SIGHUP: cannot reopen --log-file %s: %s (still writing the old one)", log_file,
		      strerror(errno));
	if (secret_file && !(have_secret = read_secret(secret_file, "--secret-file", secret, sizeof(secret)) == 0))
		logf_(0, "SIGHUP: keeping the previous secret");
	gateway_reload(g, c, have_secret ? secret : NULL, &report);
	explicit_bzero(secret, sizeof(secret));
	log_errors("SIGHUP:", &report);
	buf_release(&report);
	logf_(1, "SIGHUP: %smaster connection reset%s%s", log_file ? "log reopened, " : "",
	      secret_file ? ", secret re-read" : "", c->policy_file ? ", policy re-read" : "");
}

/* What the gateway does once an answer is out, with its findings logged as errors. */
static void after_answer(struct gateway *g, unsigned long seq)
{
	struct buf warnings = BUF_INIT(4096);
	char prefix[32];

	gateway_after_answer(g, &warnings);
	snprintf(prefix, sizeof(prefix), "req=%lu", seq);
	log_errors(prefix, &warnings);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "master", required_argument, NULL, 'm' }, { "listen", required_argument, NULL, 'l' },
		{ "spark-version", required_argument, NULL, 's' }, { "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' }, { "max-body", required_argument, NULL, 'b' },
		{ "backlog", required_argument, NULL, 'B' }, { "log-level", required_argument, NULL, 'L' },
		{ "secret-file", required_argument, NULL, 'S' }, { "anonymous", required_argument, NULL, 'A' },
		{ "env-placeholders", required_argument, NULL, 'E' }, { "log-file", required_argument, NULL, 'F' },
		{ "state-db", required_argument, NULL, 'D' }, { "policy", required_argument, NULL, 'P' },
		{ "audit-log", required_argument, NULL, 'U' }, { "csrf", required_argument, NULL, 'C' },
		{ "jws-secret-file", required_argument, NULL, 'J' }, { "web-servers", required_argument, NULL, 'W' },
		{ "master-rest-port", required_argument, NULL, 'R' }, { "status-max-age", required_argument, NULL, 'Z' },
		{ "master-ui", required_argument, NULL, 'M' }, { "files-dir", required_argument, NULL, 'O' },
		{ "files-url", required_argument, NULL, 'X' }, { "max-upload", required_argument, NULL, 'Y' },
		{ "files-quota", required_argument, NULL, 'Q' }, { "hosts", required_argument, NULL, 'H' },
		{ "state-db-file", required_argument, NULL, 'G' }, { "spark-conf", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	const char *master_arg = NULL, *listen_addr = NULL, *version = NULL, *secret_file = NULL;
	const char *placeholders = NULL, *state_db = NULL, *state_db_file = NULL, *hosts = NULL, *policy_file = NULL;
	const char *jws_file = NULL, *web_servers = NULL, *spark_conf = NULL;
	const char *audit_path = NULL, *master_ui = NULL, *files_dir = NULL, *files_url = NULL;
	long long max_upload = FILES_DEFAULT_MAX_UPLOAD, files_quota = FILES_DEFAULT_QUOTA;
	struct gateway_config cfg;
	size_t timeout_s = 8, connect_s = 3, backlog = 128, max_body = LIMIT_BODY_DEFAULT, rest_port = 0;
	size_t status_max_age = STATUS_CACHE_DEFAULT_MAX_AGE_MS;
	struct gateway g;
	struct sg_err e = { 0 };
	struct sigaction sa;
	int opt, sock = 0, allow_anonymous = 0, from_systemd = 0;
	enum csrf_mode csrf = CSRF_ORIGIN;

	while ((opt = getopt_long(argc, argv, "m:l:s:t:b:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': master_arg = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 's': version = optarg; break;
		case 'S': secret_file = optarg; break;
		case 'K': spark_conf = optarg; break;
		case 'F': log_file = optarg; break;
		case 'D': state_db = optarg; break;
		case 'G': state_db_file = optarg; break;
		case 'H': hosts = optarg; break;
		case 'P': policy_file = optarg; break;
		case 'U': audit_path = optarg; break;
		case 'J': jws_file = optarg; break;
		case 'W': web_servers = optarg; break;
		case 'R':
			if (parse_size(optarg, &rest_port) || !rest_port || rest_port > 65535)
				goto bad;
			break;
		case 'M': master_ui = optarg; break;
		case 'O': files_dir = optarg; break;
		case 'X': files_url = optarg; break;
		case 'Y':
			if (parse_bytes(optarg, &max_upload))
				goto bad;
			break;
		case 'Q':
			if (parse_bytes(optarg, &files_quota))
				goto bad;
			break;
		case 'Z':
			if (parse_ms(optarg, &status_max_age))
				goto bad;
			break;
		case 'C':
			if (strcmp(optarg, "origin") == 0) csrf = CSRF_ORIGIN;
			else if (strcmp(optarg, "header") == 0) csrf = CSRF_HEADER;
			else if (strcmp(optarg, "off") == 0) csrf = CSRF_OFF;
			else goto bad;
			break;
		case 't':
			if (parse_size(optarg, &timeout_s) || !timeout_s || timeout_s > 3600)
				goto bad;
			break;
		case 'c':
			if (parse_size(optarg, &connect_s) || !connect_s || connect_s > 3600)
				goto bad;
			break;
		case 'b':
			if (parse_size(optarg, &max_body) || max_body > LIMIT_BODY_MAX)
				goto bad;
			break;
		case 'B':
			if (parse_size(optarg, &backlog) || backlog > 65535)
				goto bad;
			break;
		case 'L':
			if (strcmp(optarg, "error") == 0) log_level = 0;
			else if (strcmp(optarg, "info") == 0) log_level = 1;
			else if (strcmp(optarg, "debug") == 0) log_level = 2;
			else goto bad;
			break;
		case 'A':
			if (strcmp(optarg, "refuse") == 0) allow_anonymous = 0;
			else if (strcmp(optarg, "allow") == 0) allow_anonymous = 1;
			else goto bad;
			break;
		case 'E':
			if (strcmp(optarg, "all") == 0) placeholders = "*";
			else if (strcmp(optarg, "none") == 0) placeholders = NULL;
			else if (*optarg && !strpbrk(optarg, "{}*= ")) placeholders = optarg;
			else goto bad;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sparkgate %s\n", SPARKGATE_VERSION); return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !master_arg) {
		fprintf(stderr, "sparkgate: %s\n", master_arg ? "unexpected argument" : "--master is required");
		usage(stderr);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);   /* one write per log line */
	log_pid = (int)getpid();
	if (open_log()) {
		fprintf(stderr, "sparkgate: cannot open --log-file %s: %s\n", log_file, strerror(errno));
		return 2;
	}
	if (state_db && state_db_file) {
		fprintf(stderr, "sparkgate: give --state-db or --state-db-file, not both\n");
		return 2;
	}
	if (state_db && gateway_state_db_has_password(state_db)) {
		/* every local user reads a command line (ps, /proc/PID/cmdline) */
		fprintf(stderr, "sparkgate: --state-db carries a password, which ps shows to every local user; "
			"refusing to start.  Leave it out of the URI and let libpq find it in ~/.pgpass or the "
			"file PGPASSFILE names, or use a service file (PGSERVICEFILE, --state-db service=NAME), "
			"or put the whole URI in a file only sparkgate's user can read and give --state-db-file FILE\n");
		return 2;
	}
	{
		char secret[4096], jws[4096], db[4096];
		int rc = 0;

		if ((secret_file && read_secret(secret_file, "--secret-file", secret, sizeof(secret)))
		    || (jws_file && read_secret(jws_file, "--jws-secret-file", jws, sizeof(jws)))
		    || (state_db_file && read_private(state_db_file, "--state-db-file", db, sizeof(db))))
			rc = 2;
		if (state_db_file)
			state_db = db;
		cfg = (struct gateway_config){
			.master = master_arg, .spark_version = version, .secret = secret_file ? secret : NULL,
			.spark_conf = spark_conf,
			.jws_secret = jws_file ? jws : NULL, .timeout_s = (int)timeout_s, .connect_timeout_s = (int)connect_s,
			.max_body = max_body, .allow_anonymous = allow_anonymous, .csrf = csrf,
			.placeholder_names = placeholders, .hosts = hosts, .state_db = state_db, .policy_file = policy_file,
			.audit_log = audit_path, .master_rest_port = (int)rest_port,
			.status_max_age_ms = (int)status_max_age, .master_ui = master_ui,
			.files_dir = files_dir, .files_url = files_url, .max_upload = max_upload, .files_quota = files_quota,
		};
		if (!rc && gateway_init(&g, &cfg, &e)) {
			fprintf(stderr, "sparkgate: %s\n", e.msg);
			gateway_release(&g);   /* only a gateway that gateway_init began */
			rc = 2;
		}
		explicit_bzero(secret, sizeof(secret));
		explicit_bzero(jws, sizeof(jws));
		explicit_bzero(db, sizeof(db));
		cfg.secret = cfg.jws_secret = NULL;   /* only gateway_init reads them */
		if (state_db_file)
			cfg.state_db = NULL;
		if (rc)
			return rc;
	}
	if (g.warning[0])
		logf_(0, "%s", g.warning);

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

	if (FCGX_Init() != 0) {
		fprintf(stderr, "sparkgate: FCGX_Init failed\n");
		return 1;
	}
	if (listen_addr && tcp_listen(listen_addr) && !web_servers && !loopback_listen(listen_addr)) {
		/* whoever connects names the user (REMOTE_USER): only the web servers may */
		fprintf(stderr, "sparkgate: --listen %s accepts FastCGI from other machines, which could name any user; "
			"give the web servers' addresses with --web-servers ADDR[,ADDR...] (or listen on a unix socket "
			"or a loopback address)\n", listen_addr);
		return 2;
	}
	if (listen_addr) {
		sock = FCGX_OpenSocket(listen_addr, (int)backlog);
		if (sock < 0) {
			fprintf(stderr, "sparkgate: cannot listen on %s: %s\n", listen_addr, strerror(errno));
			return 1;
		}
	} else if ((sock = systemd_socket()) >= 0) {
		from_systemd = 1;
	} else {
		sock = 0;
	}

	struct adapted ad;
	struct response rs;
	struct buf out = BUF_INIT(LIMIT_RESPONSE);
	unsigned long seq = 0;

	adapted_init(&ad, max_body);
	response_init(&rs);

	if (!listen_addr && !from_systemd && FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment and stdin, answer on stdout. */
		serve_one(&g, &ad, &rs, &out, (const char *const *)environ, cgi_read, NULL, ++seq);
		fwrite(out.data, 1, out.len, stdout);
		fclose(stdout);   /* the answer is complete for the web server */
		after_answer(&g, seq);
	} else {
		FCGX_Request req;

		FCGX_InitRequest(&req, sock, 0);
		logf_(1, "serving for %s (Spark build: %s)%s%s%s%s", g.spark.master_url, version ? version : "detected",
		      listen_addr ? " on " : "", listen_addr ? listen_addr : "", from_systemd ? " on systemd's socket" : "",
		      allow_anonymous ? "; anonymous requests allowed" : "");
		while (!stop_requested && FCGX_Accept_r(&req) >= 0) {
			struct fcgi_ctx ctx = { &req };
			char peer[INET6_ADDRSTRLEN];

			if (web_servers && !peer_allowed(req.ipcFd, web_servers, peer, sizeof(peer))) {
				logf_(0, "refused a FastCGI connection from %s (not in --web-servers)", peer);
				FCGX_Finish_r(&req);
				continue;
			}
			if (reload_requested)
				reload(&g, &cfg, secret_file);
			serve_one(&g, &ad, &rs, &out, (const char *const *)req.envp, fcgi_read, &ctx, ++seq);
			FCGX_PutStr((const char *)out.data, (int)out.len, req.out);
			FCGX_Finish_r(&req);
			after_answer(&g, seq);
		}
		logf_(1, "stopping after %lu requests", seq);
	}
	buf_release(&out);
	response_release(&rs);
	adapted_release(&ad);
	gateway_release(&g);
	return 0;
bad:
	for (const struct option *o = opts; o->name; o++)
		if (o->val == opt)
			fprintf(stderr, "sparkgate: bad value for --%s: %s\n", o->name, optarg);
	usage(stderr);
	return 2;
}
