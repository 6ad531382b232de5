#include "ops/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "spark/deploy.h"
#include "gateway.h"
#include "spark/masterui.h"
#include "servlets/servlet.h"
#include "base/shm.h"
#include "tenant/tenant.h"
#include "spark/versions.h"

#define MT_MAGIC 0x53474d31u   /* "SGM1" */
#define MT_VERSION 1u

static const char *const routes[] = {
	"create", "kill", "status", "list", "logs", "files", "killall", "clear", "spark_readyz", "healthz", "readyz",
	"metrics", "other",
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
static const int codes[] = { 200, 201, 400, 401, 403, 404, 405, 409, 411, 413, 415, 468, 500, 502, 503, 504, 507 };
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1)   /* + "other" */
/* Why a request was refused (403, or another user's driver answered as unknown). */
static const char *const rules[] = { "policy", "quota", "csrf", "admins_only", "no_user", "bad_token", "other_users" };
#define NRULES (sizeof(rules) / sizeof(rules[0]))
/* Seconds; the ask of a cached status is ~0.1 ms, a create a few ms. */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]) + 1)   /* + "+Inf" */

struct mt_table {
	uint32_t magic, version, nroutes, ncodes, nrules, nbuckets;
	uint64_t requests[NROUTES][NCODES];
	uint64_t refusals[NRULES];
	uint64_t ask_bucket[NBUCKETS];   /* not cumulative: the exposition adds them up */
	uint64_t ask_us, asks, ask_failures;
	uint64_t store_errors, upload_bytes;
	int64_t master_up;               /* 1, 0, or -1 not known yet */
	uint64_t build;                  /* index into spark_builds + 1, 0 none detected */
};

struct metrics {
	struct mt_table *t;
};

static int valid(const void *table)
{
	const struct mt_table *t = table;

	return t->magic == MT_MAGIC && t->version == MT_VERSION && t->nroutes == NROUTES && t->ncodes == NCODES
	       && t->nrules == NRULES && t->nbuckets == NBUCKETS;
}

static int init(void *table)
{
	struct mt_table *t = table;

	memset(t, 0, sizeof(*t));
	t->version = MT_VERSION;
	t->nroutes = NROUTES;
	t->ncodes = NCODES;
	t->nrules = NRULES;
	t->nbuckets = NBUCKETS;
	t->master_up = -1;
	__atomic_store_n(&t->magic, MT_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

struct metrics *metrics_open(const char *key, struct sg_err *e)
{
	char name[96];
	struct metrics *m;
	struct mt_table *t;

	shm_table_name("metrics", MT_VERSION, key, name, sizeof(name));
	if (!(t = shm_table_open(name, sizeof(*t), valid, init, "metrics table", e)))
		return NULL;
	if (!(m = calloc(1, sizeof(*m)))) {
		munmap(t, sizeof(*t));
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	m->t = t;
	return m;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	munmap(m->t, sizeof(*m->t));
	free(m);
}

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static size_t route_of(const struct request *rq)
{
	static const struct { const char *prefix; size_t route; } prefixes[] = {
		{ "/v1/submissions/create", 0 }, { "/v1/submissions/killall", 6 }, { "/v1/submissions/kill", 1 },
		{ "/v1/submissions/status", 2 }, { "/v1/submissions/logs", 4 }, { "/v1/submissions/clear", 7 },
		{ "/v1/submissions/readyz", 8 }, { "/v1/files", 5 },
	};
	const char *p = rq->path, *info;

	if (strcmp(p, "/v1/submissions") == 0 || strcmp(p, "/v1/submissions/") == 0)
		return 3;
	if (strcmp(p, "/healthz") == 0)
		return 9;
	if (strcmp(p, "/readyz") == 0)
		return 10;
	if (strcmp(p, "/metrics") == 0)
		return 11;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (servlet_path_match(p, prefixes[i].prefix, &info))
			return prefixes[i].route;
	return NROUTES - 1;
}

static size_t code_of(int status)
{
	for (size_t i = 0; i < NCODES - 1; i++)
		if (codes[i] == status)
			return i;
	return NCODES - 1;
}

/* The refusal's family, from the rule text the request path left (route.c, tenant.c). */
static int rule_of(const struct response *rs)
{
	if (rs->hidden)
		return 6;
	if (rs->status != 403)
		return -1;
	if (strncmp(rs->rule, "quota", 5) == 0)
		return 1;
	if (strncmp(rs->rule, "csrf", 4) == 0)
		return 2;
	if (strcmp(rs->rule, "admins only") == 0)
		return 3;
	if (rs->rule[0])
		return 0;
	return rs->user[0] ? 5 : 4;
}

void metrics_record(struct metrics *m, const struct request *rq, const struct response *rs, int build_index)
{
	int rule;

	if (!m)
		return;
	add(&m->t->requests[route_of(rq)][code_of(rs->status)], 1);
	if ((rule = rule_of(rs)) >= 0)
		add(&m->t->refusals[rule], 1);
	if (rs->status == 201)   /* a new file (the same one again is stored once) */
		add(&m->t->upload_bytes, rq->body_declared);
	if (build_index >= 0)
		__atomic_store_n(&m->t->build, (uint64_t)build_index + 1, __ATOMIC_RELAXED);
}

void metrics_ask(void *ctx, int64_t micros, int replied)
{
	struct metrics *m = ctx;
	size_t b = 0;

	if (!m)
		return;
	if (micros < 0) {   /* not sent: no latency to count */
		add(&m->t->ask_failures, 1);
		__atomic_store_n(&m->t->master_up, 0, __ATOMIC_RELAXED);
		return;
	}
	while (b < NBUCKETS - 1 && (double)micros / 1e6 > buckets[b])
		b++;
	add(&m->t->ask_bucket[b], 1);
	add(&m->t->ask_us, micros > 0 ? (uint64_t)micros : 0);
	add(&m->t->asks, 1);
	if (!replied)
		add(&m->t->ask_failures, 1);
	__atomic_store_n(&m->t->master_up, replied ? 1 : 0, __ATOMIC_RELAXED);
}

void metrics_set_master_up(struct metrics *m, int up)
{
	if (m)
		__atomic_store_n(&m->t->master_up, up ? 1 : 0, __ATOMIC_RELAXED);
}

void metrics_store_errors(struct metrics *m, uint64_t n)
{
	if (m && n)
		add(&m->t->store_errors, n);
}

static uint64_t get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#define HEAD(out, name, type, help) buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type)

static int print_table(struct buf *out, const struct mt_table *t, const struct status_cache_stats *cache)
{
	uint64_t cumulative = 0;
	int64_t up = __atomic_load_n(&t->master_up, __ATOMIC_RELAXED);
	uint64_t build = __atomic_load_n(&t->build, __ATOMIC_RELAXED);
	int rc = HEAD(out, "sparkgate_requests_total", "counter", "HTTP requests answered, by route and status code.");

	for (size_t r = 0; r < NROUTES && !rc; r++)
		for (size_t c = 0; c < NCODES && !rc; c++) {
			uint64_t n = get(&t->requests[r][c]);
			char code[16];

			if (!n)
				continue;
			snprintf(code, sizeof(code), c < NCODES - 1 ? "%d" : "other", c < NCODES - 1 ? codes[c] : 0);
			rc = buf_printf(out, "sparkgate_requests_total{route=\"%s\",code=\"%s\"} %llu\n", routes[r], code,
					(unsigned long long)n);
		}
	rc = rc ? rc : HEAD(out, "sparkgate_refusals_total", "counter",
			    "Requests refused, by rule family (another user's driver: answered as unknown).");
	for (size_t i = 0; i < NRULES && !rc; i++)
		rc = buf_printf(out, "sparkgate_refusals_total{rule=\"%s\"} %llu\n", rules[i],
				(unsigned long long)get(&t->refusals[i]));
	rc = rc ? rc : HEAD(out, "sparkgate_master_ask_duration_seconds", "histogram",
			    "Time from sending a request to the Spark master until its reply (or the failure).");
	for (size_t b = 0; b < NBUCKETS && !rc; b++) {
		cumulative += get(&t->ask_bucket[b]);
		if (b < NBUCKETS - 1)
			rc = buf_printf(out, "sparkgate_master_ask_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
					(unsigned long long)cumulative);
		else
			rc = buf_printf(out, "sparkgate_master_ask_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
					(unsigned long long)cumulative);
	}
	rc = rc ? rc : buf_printf(out, "sparkgate_master_ask_duration_seconds_sum %.6f\n"
				  "sparkgate_master_ask_duration_seconds_count %llu\n", (double)get(&t->ask_us) / 1e6,
				  (unsigned long long)cumulative);
	rc = rc ? rc : HEAD(out, "sparkgate_master_ask_failures_total", "counter",
			    "Requests to the Spark master that got no reply (unreachable, timed out, connection lost).");
	rc = rc ? rc : buf_printf(out, "sparkgate_master_ask_failures_total %llu\n", (unsigned long long)get(&t->ask_failures));
	rc = rc ? rc : HEAD(out, "sparkgate_master_up", "gauge",
			    "1 if the last request to the Spark master (or /readyz) got an answer, 0 if not, -1 none yet.");
	rc = rc ? rc : buf_printf(out, "sparkgate_master_up %lld\n", (long long)up);
	if (build && build <= spark_nbuilds) {
		const struct spark_build *b = &spark_builds[build - 1];

		rc = rc ? rc : HEAD(out, "sparkgate_master_build_info", "gauge",
				    "The Spark build sparkgate last detected on the master (its tables).");
		rc = rc ? rc : buf_printf(out, "sparkgate_master_build_info{minor=\"%s\",scala=\"%s\",release=\"%s\"} 1\n",
					  b->minor, b->scala_version, b->spark_version);
	}
	rc = rc ? rc : HEAD(out, "sparkgate_status_cache_hits_total", "counter",
			    "Status requests answered from the host's status cache.");
	rc = rc ? rc : buf_printf(out, "sparkgate_status_cache_hits_total %llu\n", (unsigned long long)cache->hits);
	rc = rc ? rc : HEAD(out, "sparkgate_status_cache_asks_total", "counter",
			    "Status requests the status cache had to ask the master for.");
	rc = rc ? rc : buf_printf(out, "sparkgate_status_cache_asks_total %llu\n", (unsigned long long)cache->asks);
	rc = rc ? rc : HEAD(out, "sparkgate_store_errors_total", "counter",
			    "State store operations that failed (each answered with JSON 503, or logged).");
	rc = rc ? rc : buf_printf(out, "sparkgate_store_errors_total %llu\n", (unsigned long long)get(&t->store_errors));
	rc = rc ? rc : HEAD(out, "sparkgate_upload_bytes_total", "counter", "Bytes of uploads stored.");
	rc = rc ? rc : buf_printf(out, "sparkgate_upload_bytes_total %llu\n", (unsigned long long)get(&t->upload_bytes));
	return rc;
}

/* Every driver the master knows, by state, from its web UI JSON (one request). */
static int print_drivers(struct gateway *g, struct buf *out, struct response *rs)
{
	struct master_ui ui = { 0 };
	uint64_t by_state[DRIVER_NSTATES] = { 0 };
	int rc = 0;

	if (tenant_master_ui(g, &ui, rs) == 0) {
		for (size_t i = 0; i < ui.n; i++)
			if (ui.drivers[i].state >= 0 && ui.drivers[i].state < DRIVER_NSTATES)
				by_state[ui.drivers[i].state]++;
		rc = HEAD(out, "sparkgate_master_drivers", "gauge",
			  "Drivers the Spark master knows, by state (its web UI JSON, read at the scrape).");
		for (int s = 0; s < DRIVER_NSTATES && !rc; s++)
			rc = buf_printf(out, "sparkgate_master_drivers{state=\"%s\"} %llu\n", driver_state_name(s),
					(unsigned long long)by_state[s]);
	}
	master_ui_release(&ui);
	return rc;
}

void metrics_answer(struct gateway *g, struct response *rs)
{
	struct status_cache_stats cache = { 0 };
	int rc;

	if (!g->metrics) {
		gateway_fail(g, rs, 503, "sparkgate has no metrics table (shared memory); see its log.");
		return;
	}
	status_cache_stats(g->status_cache, &cache);
	buf_reset(&rs->body);
	rc = print_table(&rs->body, g->metrics->t, &cache);
	rc = rc ? rc : print_drivers(g, &rs->body, rs);
	if (rc) {
		gateway_fail(g, rs, 500, "sparkgate could not print its metrics.");
		return;
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
