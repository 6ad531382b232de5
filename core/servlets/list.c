/* GET /v1/submissions (beyond Spark, with an owner store): the caller's drivers, newest
 * first (admins: everyone's), each with its state at the master now, from the master's web
 * UI JSON when it can be had (one request for all), else asked one by one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "ops/reply.h"
#include "servlets/logs.h"
#include "servlets/servlets.h"
#include "spark/masterui.h"
#include "spark/rest.h"

static void record_of(const struct master_ui_driver *d, struct status_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->http_status = 200;
	rec->known = 1;
	rec->state = d->state;
	memcpy(rec->worker_id, d->worker_id, sizeof(rec->worker_id));
	memcpy(rec->worker_host_port, d->worker_host_port, sizeof(rec->worker_host_port));
}


#define LIST_MAX 100
#define LIST_PAGE_MAX 1000    /* size= */

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX and '+' decoded: 0, or -1 (bad escape, too long, or a NUL). */
static int url_decode(const char *v, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)v[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hex(v[i + 1]) : -1, lo = i + 2 < n ? hex(v[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (UTC, as submitTime prints) in ms. */
static int parse_since(const char *v, int64_t *ms)
{
	struct tm tm = { 0 };
	int msec = 0, used = 0;
	size_t len = strlen(v);

	if (sscanf(v, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &used) != 3)
		return -1;
	if ((size_t)used != len) {
		int used2 = 0;

		if (sscanf(v + used, "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used2) != 3)
			return -1;
		used += used2;
		if (v[used] == '.') {
			int used3 = 0;

			if (sscanf(v + used, ".%3d%n", &msec, &used3) != 1)
				return -1;
			used += used3;
		}
		if (strcmp(v + used, "Z") != 0)
			return -1;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59
	    || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + msec;
	return 0;
}

int list_parse_query(const char *query, const char *const *states, size_t nstates, struct list_query *q, char *why,
		     size_t why_size)
{
	memset(q, 0, sizeof(*q));
	q->size = LIST_MAX;
	q->state = -1;
	for (const char *p = query ? query : ""; *p;) {
		size_t n = strcspn(p, "&"), k = strcspn(p, "=");
		char v[256];

		if (k > n)
			k = n;
		if (!n) {
			p++;
			continue;
		}
		q->given = 1;
		if (url_decode(p + k + (k < n), k < n ? n - k - 1 : 0, v, sizeof(v)))
			return snprintf(why, why_size, "The value of %.*s is not usable.", (int)(k > 40 ? 40 : k), p), -1;
		if (k == 4 && strncmp(p, "from", 4) == 0) {
			char *end;
			long long x = strtoll(v, &end, 10);

			if (!*v || *end || x < 0 || x > 1000000000)
				return snprintf(why, why_size, "from must be a number (0 or more)."), -1;
			q->from = (size_t)x;
		} else if (k == 4 && strncmp(p, "size", 4) == 0) {
			char *end;
			long long x = strtoll(v, &end, 10);

			if (!*v || *end || x < 1 || x > LIST_PAGE_MAX)
				return snprintf(why, why_size, "size must be 1 to %d.", LIST_PAGE_MAX), -1;
			q->size = (size_t)x;
		} else if (k == 5 && strncmp(p, "state", 5) == 0) {
			for (size_t st = 0; st < nstates; st++)
				if (strcmp(v, states[st]) == 0)
					q->state = (int)st;
			if (q->state < 0) {
				struct buf list = BUF_INIT(400);

				for (size_t st = 0; st < nstates; st++)
					buf_printf(&list, "%s%s", st ? ", " : "", states[st]);
				snprintf(why, why_size, "state must be one of %s.", buf_str(&list));
				buf_release(&list);
				return -1;
			}
		} else if (k == 4 && strncmp(p, "name", 4) == 0) {
			if (!*v)
				return snprintf(why, why_size, "name must not be empty."), -1;
			snprintf(q->name, sizeof(q->name), "%s", v);
		} else if (k == 5 && strncmp(p, "since", 5) == 0) {
			if (parse_since(v, &q->since_ms))
				return snprintf(why, why_size, "since must be a UTC time as YYYY-MM-DD or "
						"YYYY-MM-DDTHH:MM:SS[.mmm]Z."), -1;
		} else {
			return snprintf(why, why_size, "Unknown parameter %.*s: use from, size, state, name and since.",
					(int)(k > 40 ? 40 : k), p), -1;
		}
		p += n + (p[n] == '&');
	}
	return 0;
}

static int print_entry(struct buf *out, const struct store_entry *x, const struct status_record *r,
		       const struct app_links *l)
{
	char when[TENANT_TIME_SIZE], running[TENANT_TIME_SIZE], ended[TENANT_TIME_SIZE];
	const struct { const char *name, *value; } f[] = {
		/* the application behind the driver (logs.h, app_links_get) */
		{ "appId", l->app_id[0] ? l->app_id : NULL },
		{ "appName", x->app_name[0] ? x->app_name : NULL },
		{ "driverLogUrl", l->log_url[0] ? l->log_url : NULL },
		{ "driverState", r ? driver_state_name(r->state) : NULL },
		{ "mainClass", x->main_class[0] ? x->main_class : NULL },
		/* a create that may or may not have reached the master: say so, so nobody
		 * resubmits blindly */
		{ "outcome", x->unknown ? "unknown: the master may have accepted it; check its drivers "
					  "before submitting again" : NULL },
		{ "owner", x->owner },
		/* when a listing first saw it running and ended: the portal's timeline */
		{ "seenEnded", x->ended_ms ? ended : NULL },
		{ "seenRunning", x->running_ms ? running : NULL },
		{ "sparkUiUrl", l->ui_url[0] ? l->ui_url : NULL },
		{ "submissionId", x->id[0] ? x->id : NULL },
		{ "submitTime", when },
		{ "workerHostPort", r && r->worker_host_port[0] ? r->worker_host_port : NULL },
		{ "workerId", r && r->worker_id[0] ? r->worker_id : NULL },
	};
	int rc = buf_addstr(out, "{"), first = 1;

	tenant_iso_time(x->created_ms, when);
	if (x->running_ms)
		tenant_iso_time(x->running_ms, running);
	if (x->ended_ms)
		tenant_iso_time(x->ended_ms, ended);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && !rc; i++) {
		if (!f[i].value)
			continue;
		rc = buf_printf(out, "%s\n    \"%s\" : ", first ? "" : ",", f[i].name);
		rc = rc ? rc : rest_json_string(out, f[i].value, strlen(f[i].value));
		first = 0;
	}
	return rc ? rc : buf_addstr(out, "\n  }");
}

/* GET /v1/submissions (beyond Spark, with an owner store): the caller's drivers, newest
 * first (admins: everyone's), with their state at the master now. */
void list_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	const char *user = c->user;
	int admin = c->admin;
	struct list_query q;
	struct store_entry *rows;

	struct buf items = BUF_INIT(LIMIT_RESPONSE_BODY);
	struct sg_err e = { 0 };
	char problem[600] = "", why[300], from_text[32], total_text[32];
	size_t n = 0, total = 0, kept = 0, cap;
	int rc = 0, have_ui;
	struct master_ui ui = { 0 };   /* released whether it was read or not */

	const char *states[DRIVER_NSTATES];

	for (int st = 0; st < DRIVER_NSTATES; st++)
		states[st] = driver_state_name(st);
	if (list_parse_query(c->rq->query, states, DRIVER_NSTATES, &q, why, sizeof(why))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
		return;
	}
	/* a state is the master's, not the store's: a state filter looks through the newest
	 * LIST_SCAN_MAX and pages what it keeps */
	cap = q.state >= 0 ? LIST_SCAN_MAX : q.given ? q.size : LIST_MAX;
	if (!(rows = calloc(cap, sizeof(*rows)))) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		return;
	}
	/* creates whose outcome nobody knows yet: the master says, so the list shows their ids */
	tenant_sweep(sv->tenant, admin ? NULL : user, 1);
	if (q.given) {
		const struct store_filter f = { admin ? NULL : user, q.name[0] ? q.name : NULL, q.since_ms, 0 };

		rc = store_search(sv->tenant->store, &f, q.state >= 0 ? 0 : q.from, cap, rows, &n, &total, &e);
	} else {
		rc = store_list(sv->tenant->store, admin ? NULL : user, LIST_MAX, rows, &n, &e);
	}
	if (rc) {
		reply_err(sv->spark, rs, &e);
		free(rows);
		return;
	}
	rc = buf_addstr(&items, "[ ");
	have_ui = n && tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note)) == 0;
	if (q.state >= 0 && n && !have_ui) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_GATEWAY, "Filtering by state needs the master's web UI "
			      "(--master-ui), which is not usable now; see sparkgate's log.");
		buf_release(&items);
		free(rows);
		return;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct response scratch;
		struct status_record rec;
		const struct master_ui_driver *d = NULL;
		struct app_links links;
		int known = 0, first_end = 0;

		response_init(&scratch);
		if (have_ui) {   /* one request for all: the master's own view */
			if (rows[i].id[0] && (d = master_ui_find(&ui, rows[i].id)) != NULL) {
				known = 1;
				record_of(d, &rec);
			}
		} else if (!problem[0] && rows[i].id[0]) {   /* once the master fails, the rest are listed without state */
			int status = ask_status(sv->spark, rows[i].id, &scratch, &rec);

			known = status == 0 && rec.known;
			if (status == 500)   /* sparkgate's own failure, not the master's */
				rc = ERR_NOMEM;
			else if (status)
				snprintf(problem, sizeof(problem), "Driver states are missing: the Spark master did not "
					 "answer (HTTP %d for %s).", status, rows[i].id);
		}
		if (known && (rec.state == DRIVER_RUNNING ? !rows[i].running_ms
			      : tenant_state_final(rec.state) && !rows[i].ended_ms)) {
			struct sg_err oe = { 0 };
			int ended = rec.state != DRIVER_RUNNING;
			int64_t now = tenant_wall_ms();

			first_end = ended;
			/* a write only when the state is new to the record; if it fails, the time is
			 * shown now and seen again by the next listing */
			store_observe(sv->tenant->store, rows[i].id, ended, now, &oe);
			*(ended ? &rows[i].ended_ms : &rows[i].running_ms) = now;
		}
		response_release(&scratch);
		if (q.state >= 0) {   /* kept if in the state; printed if on the page */
			if (!known || rec.state != q.state || kept++ < q.from || kept > q.from + q.size)
				continue;
		}
		/* the application's id and UI address are looked for in the driver's log while it
		 * runs and once when a listing first sees it ended, until found (then kept in the
		 * store): a read from the worker per such driver on the page */
		app_links_get(sv, &ui, d, &rows[i], known && (rec.state == DRIVER_RUNNING || first_end), &links);
		if (!rc && items.len > 2)
			rc = buf_addstr(&items, ", ");
		rc = rc ? rc : print_entry(&items, &rows[i], known ? &rec : NULL, &links);
	}
	master_ui_release(&ui);
	if (q.state >= 0)
		total = kept;
	rc = rc ? rc : buf_addstr(&items, items.len > 2 ? " ]" : "]");
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "%s",
			      rc == ERR_TOO_LARGE ? "The list is too large to print." : "out of memory");
	} else {
		snprintf(from_text, sizeof(from_text), "%zu", q.from);
		snprintf(total_text, sizeof(total_text), "%zu", total);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionListResponse", 0, NULL },
			{ "admin", RF_BOOL, NULL, admin, NULL },
			/* with a parameter: where the page starts and how many there are */
			{ "from", RF_RAW, q.given ? from_text : NULL, 0, NULL },
			{ "message", RF_STRING, problem[0] ? problem : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "submissions", RF_RAW, buf_str(&items), 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "total", RF_RAW, q.given ? total_text : NULL, 0, NULL },
			{ "user", RF_STRING, user, 0, NULL },   /* who is asking, for the portal */
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&items);
	free(rows);
}

