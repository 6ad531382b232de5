#include "ops/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/shm.h"
#include "ops/statuscache.h"
#include "spark/versions.h"

#define MT_MAGIC 0x53474d31u   /* "SGM1" */
#define MT_VERSION 5u   /* 2: the hosts refusal; 3: Livy's batches and version routes; 4: the download
                         * route, 206 and 416; 5: the proxy_user refusal */

#define NROUTES ROUTE_COUNT
static const int codes[] = { 200, 201, 206, 400, 401, 403, 404, 405, 409, 411, 413, 415, 416, 468, 500, 502, 503, 504, 507 };
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1)   /* + "other" */
/* Why a request was refused (enum refusal: 403, 400 for --hosts, or another user's driver
 * answered as unknown). */
#define NRULES REFUSAL_COUNT
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

void metrics_remove(const char *key)
{
	char name[96];

	shm_table_name("metrics", MT_VERSION, key, name, sizeof(name));
	shm_unlink(name);
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

static size_t code_of(int status)
{
	for (size_t i = 0; i < NCODES - 1; i++)
		if (codes[i] == status)
			return i;
	return NCODES - 1;
}

void metrics_record(struct metrics *m, const struct request *rq, const struct response *rs, int build_index)
{
	if (!m)
		return;
	add(&m->t->requests[rs->route >= 0 && rs->route < ROUTE_COUNT ? rs->route : ROUTE_OTHER][code_of(rs->status)], 1);
	if (rs->refusal >= 0 && rs->refusal < REFUSAL_COUNT)
		add(&m->t->refusals[rs->refusal], 1);
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
			rc = buf_printf(out, "sparkgate_requests_total{route=\"%s\",code=\"%s\"} %llu\n", route_name((enum route)r), code,
					(unsigned long long)n);
		}
	rc = rc ? rc : HEAD(out, "sparkgate_refusals_total", "counter",
			    "Requests refused, by rule family (another user's driver: answered as unknown).");
	for (size_t i = 0; i < NRULES && !rc; i++)
		rc = buf_printf(out, "sparkgate_refusals_total{rule=\"%s\"} %llu\n", refusal_name((enum refusal)i),
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

int metrics_print(const struct metrics *m, struct buf *out, const struct status_cache_stats *cache)
{
	return print_table(out, m->t, cache);
}
