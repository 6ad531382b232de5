#include "servlets/health.h"

#include <stdio.h>
#include <string.h>

#include "ops/metrics.h"
#include "ops/reply.h"
#include "servlets/servlets.h"
#include "spark/masterui.h"
#include "spark/rest.h"

/* Whether the asker may see what readiness is made of: a login (REMOTE_USER), or this
 * machine (REMOTE_ADDR as the web server says it).  Others learn ready or not ready only;
 * the master's address, its build, the database host and libpq's words are not theirs. */
static int readyz_details_allowed(const struct request *rq)
{
	const char *a = rq->remote_addr;

	if (rq->remote_user && *rq->remote_user)
		return 1;
	return a && (strcmp(a, "127.0.0.1") == 0 || strcmp(a, "::1") == 0 || strcmp(a, "::ffff:127.0.0.1") == 0);
}

/* What readiness is made of, as the detailed answer (at most HEALTH_READYZ_BODY bytes, so it
 * fits a slot of the shared table): a master ask, a probe of Spark's own REST port, a store
 * ping.  1 ready, else 0; whether the master is up in *master_up; the details also in
 * rs->note when not ready. */
static int readyz_check(struct servlets *sv, struct buf *body, int *master_up, struct response *rs)
{
	char master[400], store[300] = "no state store configured", door[300] = "closed", url[300];
	struct sg_err e = { 0 };
	int master_status = ask_master_ready(sv->spark, master, sizeof(master));
	int store_ok = !sv->tenant->store || store_ping(sv->tenant->store, &e) == 0;
	int door_open = master_status == 0 && ask_open_door(sv->spark, url, sizeof(url));
	int ready = master_status == 0 && store_ok && !door_open;

	*master_up = master_status == 0;
	if (sv->tenant->store)
		snprintf(store, sizeof(store), "%.290s", store_ok ? "answers" : e.msg);
	if (door_open)
		snprintf(door, sizeof(door), "OPEN: Spark's own REST server answers without authentication at %.120s "
			 "(set spark.master.rest.enabled=false on the master)", url);
	{
		const struct rest_field f[] = {
			{ "action", RF_STRING, "ReadyzResponse", 0, NULL },
			{ "master", RF_STRING, master, 0, NULL },
			{ "masterRestDoor", RF_STRING, door, 0, NULL },
			{ "message", RF_STRING, ready ? "sparkgate is ready" : "sparkgate is not ready", 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "store", RF_STRING, store, 0, NULL },
			{ "success", RF_BOOL, NULL, ready, NULL },
		};

		buf_reset(body);
		if (rest_print(body, f, sizeof(f) / sizeof(f[0]))) {   /* too long once escaped: the verdict alone */
			buf_reset(body);
			if (rest_print(body, (const struct rest_field[]){ f[0], f[3], f[6] }, 3))
				buf_reset(body);
		}
	}
	if (!ready) {
		snprintf(rs->note, sizeof(rs->note), "readyz: not ready: master: %.160s; store: %.160s; master's REST door: %.160s",
			 master, store, door);
		rs->note_error = 1;
	}
	return ready;
}

/* The readiness answer: the host's last result if it is at most HEALTH_READYZ_MAX_AGE_MS old
 * (the status cache's table, under an id no driver can have), else a fresh check shared with
 * every process that asks meanwhile (they wait for it instead of asking the master too). */
static void readyz(struct servlets *sv, const struct request *rq, struct response *rs)
{
	struct status_record rec = { 0 };
	struct buf body = BUF_INIT(HEALTH_READYZ_BODY);
	int ready, master_up = 0;

	switch (status_cache_get(sv->readyz_cache, HEALTH_READYZ_ID, sv->spark->deadline, &rec, &body)) {
	case STATUS_HIT:
		ready = rec.known;
		master_up = rec.state;
		rs->cache = "hit";
		break;
	case STATUS_ASK:
		ready = readyz_check(sv, &body, &master_up, rs);
		rec.known = ready;
		rec.http_status = ready ? 200 : 503;
		rec.state = master_up;   /* (this slot holds no driver) */
		if (body.len)
			status_cache_put(sv->readyz_cache, HEALTH_READYZ_ID, &rec, (const char *)body.data, body.len);
		else
			status_cache_abandon(sv->readyz_cache, HEALTH_READYZ_ID);
		rs->cache = "ask";
		break;
	default:
		ready = readyz_check(sv, &body, &master_up, rs);
		break;
	}
	metrics_set_master_up(sv->metrics, master_up);
	if (readyz_details_allowed(rq) && body.len) {
		buf_reset(&rs->body);
		if (buf_add(&rs->body, body.data, body.len))
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate ran out of memory writing the answer.");
		else
			rs->status = 200;
	} else {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "ReadyzResponse", 0, NULL },
			{ "message", RF_STRING, ready ? "sparkgate is ready" : "sparkgate is not ready", 0, NULL },
			{ "success", RF_BOOL, NULL, ready, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&body);
	if (rs->status == 200 && !ready)
		rs->status = 503;
}

/* Every driver the master knows, by state, from its web UI JSON (one request). */
static int print_drivers(struct servlets *sv, struct buf *out, struct response *rs)
{
	struct master_ui ui = { 0 };
	uint64_t by_state[DRIVER_NSTATES] = { 0 };
	int rc = 0;

	if (tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note)) == 0) {
		for (size_t i = 0; i < ui.n; i++)
			if (ui.drivers[i].state >= 0 && ui.drivers[i].state < DRIVER_NSTATES)
				by_state[ui.drivers[i].state]++;
		rc = buf_printf(out, "# HELP sparkgate_master_drivers Drivers the Spark master knows, by state (its web UI "
				"JSON, read at the scrape).\n# TYPE sparkgate_master_drivers gauge\n");
		for (int s = 0; s < DRIVER_NSTATES && !rc; s++)
			rc = buf_printf(out, "sparkgate_master_drivers{state=\"%s\"} %llu\n", driver_state_name(s),
					(unsigned long long)by_state[s]);
	}
	master_ui_release(&ui);
	return rc;
}

/* GET /metrics: the host's counters and the master's drivers by state. */
static void metrics(struct servlets *sv, struct response *rs)
{
	struct status_cache_stats cache = { 0 };
	int rc;

	if (!sv->metrics) {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "sparkgate has no metrics table (shared memory); see its log.");
		return;
	}
	status_cache_stats(sv->spark->status_cache, &cache);
	buf_reset(&rs->body);
	rc = metrics_print(sv->metrics, &rs->body, &cache);
	rc = rc ? rc : print_drivers(sv, &rs->body, rs);
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not print its metrics.");
		return;
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* GET /healthz, /readyz, /metrics (see health.h). */
void health_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	const struct request *rq = c->rq;

	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		reply_problem(sv->spark, rs, PROBLEM_WRONG_METHOD, "Use GET.");
		rs->allow = "GET, HEAD";
	} else if (strcmp(rq->path, "/healthz") == 0) {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "HealthzResponse", 0, NULL },
			{ "message", RF_STRING, "sparkgate answers", 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	} else if (strcmp(rq->path, "/readyz") == 0) {
		readyz(sv, rq, rs);
	} else {
		metrics(sv, rs);
	}
}
