/* GET /v1/submissions (beyond Spark, with an owner store): the caller's drivers, newest
 * first (admins: everyone's), each with its state at the master now, from the master's web
 * UI JSON when it can be had (one request for all), else asked one by one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "ops/reply.h"
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

static int print_entry(struct buf *out, const struct store_entry *x, const struct status_record *r)
{
	char when[TENANT_TIME_SIZE], running[TENANT_TIME_SIZE], ended[TENANT_TIME_SIZE];
	const struct { const char *name, *value; } f[] = {
		{ "appName", x->app_name[0] ? x->app_name : NULL },
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
	struct store_entry *rows = calloc(LIST_MAX, sizeof(*rows));
	struct buf items = BUF_INIT(LIMIT_RESPONSE_BODY);
	struct sg_err e = { 0 };
	char problem[600] = "";
	size_t n = 0;
	int rc = 0, have_ui;
	struct master_ui ui = { 0 };   /* released whether it was read or not */

	if (!rows) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		return;
	}
	/* creates whose outcome nobody knows yet: the master says, so the list shows their ids */
	tenant_sweep(sv->tenant, admin ? NULL : user, 1);
	if (store_list(sv->tenant->store, admin ? NULL : user, LIST_MAX, rows, &n, &e)) {
		reply_err(sv->spark, rs, &e);
		free(rows);
		return;
	}
	rc = buf_addstr(&items, "[ ");
	have_ui = n && tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note)) == 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct response scratch;
		struct status_record rec;
		const struct master_ui_driver *d;
		int known = 0;

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

			/* a write only when the state is new to the record; if it fails, the time is
			 * shown now and seen again by the next listing */
			store_observe(sv->tenant->store, rows[i].id, ended, now, &oe);
			*(ended ? &rows[i].ended_ms : &rows[i].running_ms) = now;
		}
		if (!rc && i)
			rc = buf_addstr(&items, ", ");
		rc = rc ? rc : print_entry(&items, &rows[i], known ? &rec : NULL);
		response_release(&scratch);
	}
	master_ui_release(&ui);
	rc = rc ? rc : buf_addstr(&items, n ? " ]" : "]");
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "%s",
			      rc == ERR_TOO_LARGE ? "The list is too large to print." : "out of memory");
	} else {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionListResponse", 0, NULL },
			{ "admin", RF_BOOL, NULL, admin, NULL },
			{ "message", RF_STRING, problem[0] ? problem : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "submissions", RF_RAW, buf_str(&items), 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "user", RF_STRING, user, 0, NULL },   /* who is asking, for the portal */
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&items);
	free(rows);
}

