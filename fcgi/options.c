/* The option table and what reads it (see options.h).  An option is one entry here: its
 * names, its --help text, what it sets and how its value is checked. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SPARKGATE_VERSION "0.1.0"

#define FIELD(member) offsetof(struct options, member), sizeof(((struct options *)0)->member)
#define TEXT(member) OPT_TEXT, FIELD(member)

static const struct opt_choice anonymous_modes[] = { { "refuse", 0 }, { "allow", 1 }, { NULL, 0 } };
static const struct opt_choice csrf_modes[] = {
	{ "origin", CSRF_ORIGIN }, { "header", CSRF_HEADER }, { "off", CSRF_OFF }, { NULL, 0 },
};
static const struct opt_choice log_levels[] = {
	{ "error", LOG_LEVEL_ERROR }, { "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG }, { NULL, 0 },
};

const struct opt options_table[] = {
	{ "master", 'm', "URL", TEXT(gw.master), .help = "master(s) to submit to (required)" },
	{ "listen", 'l', "ADDR", TEXT(listen), .help =
	  "own FastCGI socket: HOST:PORT, :PORT or a unix socket path;\n"
	  "default: a socket from systemd (LISTEN_FDS), else the socket\n"
	  "the web server passes on stdin, else one plain CGI request" },
	{ "spark-version", 's', "V", TEXT(gw.spark_version), .help =
	  "pin the master's Spark release instead of detecting its minor on\n"
	  "each connection: X.Y.Z or X.Y.Z_SCALA of a supported minor, reported\n"
	  "as serverSparkVersion (tables: {builds})" },
	{ "secret-file", 0, "PATH", TEXT(secret_file), .help =
	  "the master's spark.authenticate.secret, alone in a file:\n"
	  "authenticate with SASL DIGEST-MD5 (spark.authenticate=true);\n"
	  "wins over --spark-conf's secret" },
	{ "spark-conf", 0, "FILE", TEXT(gw.spark_conf), .help =
	  "the cluster's spark-defaults.conf, read at start: spark.authenticate,\n"
	  "its secret (or secret file), spark.network.crypto.* (AES-CTR or\n"
	  "AES-GCM after Spark's AuthEngine handshake), spark.ssl.rpc.* (TLS,\n"
	  "Spark 4.0+: the trustStore or certChain the master's certificate\n"
	  "must verify against)" },
	{ "tls-ca", 0, "FILE", TEXT(gw.tls_ca), .help =
	  "TLS to the master (spark.ssl.rpc.enabled=true), trusting the PEM\n"
	  "CA certificates in FILE; wins over --spark-conf's trust store; the\n"
	  "certificate must name the --master host (an IP address: in its\n"
	  "subjectAltName iPAddress)" },
	{ "timeout", 't', "SECONDS", OPT_COUNT, FIELD(gw.timeout_s), 1, 3600, .help =
	  "limit for one request to the master, connect included (8)" },
	{ "connect-timeout", 0, "S", OPT_COUNT, FIELD(gw.connect_timeout_s), 1, 3600, .help =
	  "limit for connecting to the master (3)" },
	{ "max-body", 'b', "BYTES", OPT_COUNT, FIELD(gw.max_body), 0, 0, &gateway_max_body_limit, .help =
	  "largest request body accepted; larger gets 413 (1048576)" },
	{ "backlog", 0, "N", OPT_COUNT, FIELD(backlog), 0, 65535, .help = "listen backlog with --listen (128)" },
	{ "anonymous", 0, "MODE", OPT_CHOICE, FIELD(gw.allow_anonymous), .choices = anonymous_modes, .help =
	  "refuse (default) or allow requests the web server did not\n"
	  "authenticate (no REMOTE_USER); refused ones get 403" },
	{ "hosts", 0, "NAME[,NAME]", TEXT(gw.hosts), .help =
	  "the host names (NAME or NAME:PORT) sparkgate serves: a request\n"
	  "whose Host header names another gets 400 before anything else\n"
	  "(DNS rebinding); default: any Host" },
	{ "env-placeholders", 0, "L", OPT_PLACEHOLDERS, FIELD(gw.placeholder_names), .help =
	  "Spark 4 masters: which of sparkgate's environment variables a\n"
	  "property or environment value \"{{NAME}}\" may name: none\n"
	  "(default: sparkgate's environment is the web server's, not the\n"
	  "master's as for Spark's own server), all, or NAME,NAME,..." },
	{ "state-db", 0, "PATH", TEXT(gw.state_db), .help =
	  "record who submitted what in this SQLite file (shared by every\n"
	  "sparkgate process), or a PostgreSQL URI or connection string\n"
	  "without a password: users then see and kill only their own\n"
	  "drivers, GET /v1/submissions lists them, and an\n"
	  "Idempotency-Key makes a retried create return the first id" },
	{ "state-db-file", 0, "FILE", TEXT(state_db_file), .help =
	  "the same, read from FILE (mode 0600 or stricter): where a\n"
	  "PostgreSQL password may stand (or use ~/.pgpass, PGPASSFILE,\n"
	  "a service file)" },
	{ "policy", 0, "PATH", TEXT(gw.policy_file), .help =
	  "groups, admins and what a create may ask for (sparkgate(8),\n"
	  "deploy/policy.conf); re-read on SIGHUP" },
	{ "audit-log", 0, "PATH", TEXT(gw.audit_log), .help =
	  "one JSON line per create, kill, killall, clear and refusal;\n"
	  "reopened on SIGHUP" },
	{ "jws-secret-file", 0, "PATH", TEXT(jws_secret_file), .help =
	  "accept \"Authorization: Bearer <JWT>\" (HS256, as Spark 4's\n"
	  "JWSFilter; the file holds its base64url secretKey) when the web\n"
	  "server passes no user; the token's \"sub\" is the user" },
	{ "web-servers", 0, "LIST", TEXT(web_servers), .help =
	  "with --listen HOST:PORT on a non-loopback address: the only\n"
	  "peers (numeric addresses, comma-separated) that may connect" },
	{ "master-rest-port", 0, "N", OPT_COUNT, FIELD(gw.master_rest_port), 1, 65535, .help =
	  "besides 6066, the port to check for the master's own REST\n"
	  "server (an unauthenticated door); found open, it is logged" },
	{ "status-max-age", 0, "T", OPT_MS, FIELD(gw.status_max_age_ms), .help =
	  "answer a driver's status from what the master said at most T\n"
	  "ago (ms, or with a unit: 500ms, 2s; default 1000), shared by\n"
	  "the host's sparkgate processes; 0: ask the master every time" },
	{ "master-ui", 0, "URL[,URL]", TEXT(gw.master_ui), .help =
	  "the masters' web UIs (in --master order), read for every\n"
	  "driver's state in one request (listing, quotas); default\n"
	  "http://MASTER-HOST:8080; off: ask the master per driver" },
	{ "files-dir", 0, "DIR", TEXT(gw.files_dir), .help =
	  "accept uploads (PUT /v1/files/NAME): stored under DIR/pub,\n"
	  "which the web server serves without login at --files-url;\n"
	  "needs --state-db (owners and totals are recorded there)" },
	{ "files-url", 0, "URL", TEXT(gw.files_url), .help =
	  "where workers fetch DIR/pub (e.g. https://gw.example/files)" },
	{ "max-upload", 0, "SIZE", OPT_BYTES, FIELD(gw.max_upload), .help =
	  "largest upload (bytes, or 200k, 256m, 1g; default 256m)" },
	{ "files-quota", 0, "SIZE", OPT_BYTES, FIELD(gw.files_quota), .help =
	  "what one user's uploads may hold together (default 1g; none)" },
	{ "csrf", 0, "MODE", OPT_CHOICE, FIELD(gw.csrf), .choices = csrf_modes, .help =
	  "origin (default): a browser POST from another site needs an\n"
	  "X-Requested-By header; header: every POST needs it; off" },
	{ "log-level", 0, "LEVEL", OPT_CHOICE, FIELD(log_level), .choices = log_levels, .help =
	  "error, info (default) or debug" },
	{ "log-file", 0, "PATH", TEXT(log_file), .help =
	  "append logs to PATH instead of stderr (which web servers put\n"
	  "in their error log); reopened on SIGHUP" },
	{ "help", 'h', NULL, OPT_HELP, .help = "this text" },
	{ "version", 'V', NULL, OPT_VERSION, .help = "print the version" },
	{ .name = NULL },
};

#define NOPTS (sizeof(options_table) / sizeof(options_table[0]) - 1)

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	gateway_config_defaults(&o->gw);
	o->backlog = 128;
	o->log_level = LOG_LEVEL_INFO;
}

/* The help column: options left, text from column 28 (two spaces after a longer left). */
enum { HELP_COLUMN = 28 };

static void print_help_text(FILE *f, const char *help)
{
	const char *builds = strstr(help, "{builds}");

	for (const char *l = help; *l;) {
		size_t n = strcspn(l, "\n");

		if (l != help)
			fprintf(f, "%*s", HELP_COLUMN, "");
		if (builds && builds >= l && builds < l + n) {
			struct buf list = BUF_INIT(4096);

			gateway_builds(&list);
			fprintf(f, "%.*s%s%.*s\n", (int)(builds - l), l, buf_str(&list),
				(int)(l + n - builds - 8), builds + 8);
			buf_release(&list);
		} else {
			fprintf(f, "%.*s\n", (int)n, l);
		}
		l += n + (l[n] == '\n');
	}
}

void options_usage(FILE *f)
{
	fprintf(f,
"Usage: sparkgate --master spark://HOST:PORT[,HOST:PORT...] [options]\n"
"\n"
"Serves Spark's REST submission API (/v1/submissions/create, kill/ID, status/ID) as a\n"
"FastCGI application and submits to the master over Spark's own RPC (port 7077).\n"
"\n");
	for (const struct opt *d = options_table; d->name; d++) {
		char left[64], dash[8] = "    ";
		int n;

		if (d->short_name)
			snprintf(dash, sizeof(dash), "-%c, ", d->short_name);
		n = snprintf(left, sizeof(left), "  %s--%s%s%s", dash, d->name, d->metavar ? " " : "",
			     d->metavar ? d->metavar : "");

		fprintf(f, "%-*s", n < HELP_COLUMN ? HELP_COLUMN : n + 2, left);
		print_help_text(f, d->help);
	}
	fprintf(f,
"\n"
"Signals: SIGTERM finishes the request in flight, then exits.  SIGHUP, before the next\n"
"request, reopens --log-file and --audit-log, re-reads --secret-file and --policy and\n"
"reconnects to the master.\n");
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

_Static_assert(sizeof(size_t) == sizeof(int64_t), "a count member is an int or 64 bits wide");

/* v into the member of o that d names (an int, an enum, a size_t or an int64_t). */
static void store_number(struct options *o, const struct opt *d, long long v)
{
	char *field = (char *)o + d->offset;

	if (d->size == sizeof(int)) {
		int i = (int)v;

		memcpy(field, &i, sizeof(i));
	} else {
		int64_t l = v;

		memcpy(field, &l, sizeof(l));
	}
}

/* One option's value into o: 0, or -1 when it is not one the option takes. */
static int set_option(struct options *o, const struct opt *d, const char *arg)
{
	const char **text = (const char **)(void *)((char *)o + d->offset);
	size_t n;
	long long bytes;

	switch (d->kind) {
	case OPT_TEXT:
		*text = arg;
		return 0;
	case OPT_COUNT:
		if (parse_size(arg, &n) || n < d->min || n > (d->max_from ? *d->max_from : d->max))
			return -1;
		store_number(o, d, (long long)n);
		return 0;
	case OPT_BYTES:
		if (parse_bytes(arg, &bytes))
			return -1;
		store_number(o, d, bytes);
		return 0;
	case OPT_MS:
		if (parse_ms(arg, &n))
			return -1;
		store_number(o, d, (long long)n);
		return 0;
	case OPT_CHOICE:
		for (const struct opt_choice *c = d->choices; c->text; c++)
			if (strcmp(arg, c->text) == 0) {
				store_number(o, d, c->value);
				return 0;
			}
		return -1;
	case OPT_PLACEHOLDERS:
		if (strcmp(arg, "all") == 0)
			*text = "*";
		else if (strcmp(arg, "none") == 0)
			*text = NULL;
		else if (*arg && !strpbrk(arg, "{}*= "))
			*text = arg;
		else
			return -1;
		return 0;
	case OPT_HELP:
	case OPT_VERSION:
		break;
	}
	return -1;
}

int options_parse(struct options *o, int argc, char **argv, int *status)
{
	struct option longs[NOPTS + 1];
	char shorts[2 * NOPTS + 1], *s = shorts;
	int c;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *d = &options_table[i];

		longs[i] = (struct option){ d->name, d->metavar ? required_argument : no_argument, NULL,
					    d->short_name ? d->short_name : 256 + (int)i };
		if (d->short_name) {
			*s++ = d->short_name;
			if (d->metavar)
				*s++ = ':';
		}
	}
	longs[NOPTS] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct opt *d = NULL;

		for (size_t i = 0; i < NOPTS && !d; i++)
			if (longs[i].val == c)
				d = &options_table[i];
		if (!d) {   /* getopt_long said what is wrong */
			options_usage(stderr);
			*status = 2;
			return 1;
		}
		if (d->kind == OPT_HELP) {
			options_usage(stdout);
			*status = 0;
			return 1;
		}
		if (d->kind == OPT_VERSION) {
			printf("sparkgate %s\n", SPARKGATE_VERSION);
			*status = 0;
			return 1;
		}
		if (set_option(o, d, optarg)) {
			fprintf(stderr, "sparkgate: bad value for --%s: %s\n", d->name, optarg);
			options_usage(stderr);
			*status = 2;
			return 1;
		}
	}
	if (optind != argc || !o->gw.master) {
		fprintf(stderr, "sparkgate: %s\n", o->gw.master ? "unexpected argument" : "--master is required");
		options_usage(stderr);
		*status = 2;
		return 1;
	}
	return 0;
}

/* --secret-file: the value of the master's spark.authenticate.secret, alone in a file
 * (one trailing newline ignored).  Kept out of the command line, where ps would show it. */
int options_read_secret(const char *path, const char *option, char *out, size_t size)
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
	return options_read_secret(path, option, out, size);
}

int options_start(struct options *o, struct gateway **g)
{
	char secret[4096], jws[4096], db[4096];
	struct buf why = BUF_INIT(4096);
	int rc = 0;

	*g = NULL;
	if (o->gw.state_db && o->state_db_file) {
		fprintf(stderr, "sparkgate: give --state-db or --state-db-file, not both\n");
		return 2;
	}
	if (o->gw.state_db && gateway_state_db_has_password(o->gw.state_db)) {
		/* every local user reads a command line (ps, /proc/PID/cmdline) */
		fprintf(stderr, "sparkgate: --state-db carries a password, which ps shows to every local user; "
			"refusing to start.  Leave it out of the URI and let libpq find it in ~/.pgpass or the "
			"file PGPASSFILE names, or use a service file (PGSERVICEFILE, --state-db service=NAME), "
			"or put the whole URI in a file only sparkgate's user can read and give --state-db-file FILE\n");
		return 2;
	}
	if ((o->secret_file && options_read_secret(o->secret_file, "--secret-file", secret, sizeof(secret)))
	    || (o->jws_secret_file && options_read_secret(o->jws_secret_file, "--jws-secret-file", jws, sizeof(jws)))
	    || (o->state_db_file && read_private(o->state_db_file, "--state-db-file", db, sizeof(db))))
		rc = 2;
	o->gw.secret = o->secret_file ? secret : NULL;
	o->gw.jws_secret = o->jws_secret_file ? jws : NULL;
	if (o->state_db_file)
		o->gw.state_db = db;
	if (!rc && !(*g = gateway_new(&o->gw, &why))) {
		fprintf(stderr, "sparkgate: %s\n", buf_str(&why));
		rc = 2;
	}
	buf_release(&why);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(jws, sizeof(jws));
	explicit_bzero(db, sizeof(db));
	o->gw.secret = o->gw.jws_secret = NULL;   /* only gateway_new reads them */
	if (o->state_db_file)
		o->gw.state_db = NULL;
	return rc;
}
