#include "servlets/logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spark/deploy.h"
#include "spark/httpget.h"
#include "spark/masterui.h"
#include "ops/reply.h"
#include "servlets/servlets.h"

/* A decimal number of at most 18 digits (no sign, no spaces). */
static int number(const char *s, size_t n, long long *out)
{
	long long v = 0;

	if (!n || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int logs_parse_query(const char *query, int *stderr_stream, long long *offset, long long *length, char *why,
		     size_t why_size)
{
	*stderr_stream = 0;
	*offset = -1;
	*length = LOGS_DEFAULT_LENGTH;
	for (const char *p = query ? query : ""; *p;) {
		size_t n = strcspn(p, "&"), k = strcspn(p, "=");
		const char *v = p + k + 1;
		size_t vn = k < n ? n - k - 1 : 0;

		if (k >= n) {
			k = n;
			v = p + n;
		}
		if (k == 6 && strncmp(p, "stream", 6) == 0) {
			if (vn == 6 && strncmp(v, "stdout", 6) == 0)
				*stderr_stream = 0;
			else if (vn == 6 && strncmp(v, "stderr", 6) == 0)
				*stderr_stream = 1;
			else
				return snprintf(why, why_size, "stream must be stdout or stderr."), -1;
		} else if (k == 6 && strncmp(p, "offset", 6) == 0) {
			if (number(v, vn, offset))
				return snprintf(why, why_size, "offset must be a byte offset (0 or more)."), -1;
		} else if (k == 6 && strncmp(p, "length", 6) == 0) {
			if (number(v, vn, length) || *length < 1 || *length > LOGS_MAX_LENGTH)
				return snprintf(why, why_size, "length must be 1 to %u bytes.", LOGS_MAX_LENGTH), -1;
		} else if (n) {
			return snprintf(why, why_size, "Unknown parameter %.*s: use stream, offset and length.",
					(int)(k > 40 ? 40 : k), p), -1;
		}
		p += n + (p[n] == '&');
	}
	return 0;
}

/* Spark's log page starts its text with "==== Bytes START-END of TOTAL of DIR ====\n" (and
 * answers errors as text too: "Error: ..."). */
static int split_header(const char *text, size_t len, long long range[3], size_t *body_at)
{
	const char *nl = memchr(text, '\n', len);

	if (!nl || sscanf(text, "==== Bytes %lld-%lld of %lld of ", &range[0], &range[1], &range[2]) != 3)
		return -1;
	*body_at = (size_t)(nl + 1 - text);
	return 0;
}

int logs_read(struct servlets *sv, const struct master_ui *ui, const struct master_ui_driver *d, int err_stream,
	      long long offset, long long length, struct buf *text, size_t *body_at, long long range[3],
	      enum problem *p, char *why, size_t why_size)
{
	const char *id = d->id;
	char url[700], web[300];
	struct sg_err e = { 0 };
	long status = 0;
	int rc;

	if (!d->worker_id[0]) {
		snprintf(why, why_size, "The driver has not started on a worker yet (it is %s): no logs.",
			 driver_state_name(d->state));
		*p = PROBLEM_CONFLICT;
		return -1;
	}
	if ((rc = master_ui_worker_base(ui, d->worker_id, web, sizeof(web), &e)) != 0) {
		/* a worker that advertises another host, a path or a user is not read at all */
		snprintf(why, why_size, rc > 0 ? "The driver's worker %.100s is gone from the master: its logs cannot "
			 "be read." : "The driver's worker %.100s cannot be read: %.160s.", d->worker_id, e.msg);
		*p = PROBLEM_BAD_GATEWAY;
		return -1;
	}
	/* Built from parts: the checked base, "/log/", the id the master listed for a driver
	 * this user may see (driver-yyyyMMddHHmmss-NNNN: nothing to escape) and numbers.
	 * "/log/": Jetty redirects "/log" (the servlet's context path) there, and redirects
	 * are not followed (httpget.h). */
	int n = offset < 0 ? snprintf(url, sizeof(url), "%s/log/?driverId=%s&logType=%s&byteLength=%lld", web, id,
				      err_stream ? "stderr" : "stdout", length)
			   : snprintf(url, sizeof(url), "%s/log/?driverId=%s&logType=%s&offset=%lld&byteLength=%lld",
				      web, id, err_stream ? "stderr" : "stdout", offset, length);

	/* The error texts never hold what the worker answered (a rogue worker's address could
	 * be anybody's page): a status, or libcurl's reason. */
	if (n < 0 || (size_t)n >= sizeof(url) || http_get(url, sv->spark->deadline, text, &status, &e) || status != 200) {
		char what[160];

		snprintf(what, sizeof(what), status ? "HTTP %ld from %.100s" : "URL too long", status, web);
		snprintf(why, why_size, "The driver's worker %.100s did not give its log: %.200s", d->worker_id,
			 e.msg[0] ? e.msg : what);
		*p = e.code == ERR_TIMEOUT ? PROBLEM_TIMEOUT : PROBLEM_BAD_GATEWAY;
		return -1;
	}
	if (split_header((const char *)text->data, text->len, range, body_at)) {
		/* Spark's log page answers "Error: ..." as text for a log it does not have */
		snprintf(why, why_size, "The worker %.100s has no %s for this driver.", d->worker_id,
			 err_stream ? "stderr" : "stdout");
		*p = PROBLEM_NOT_FOUND;
		return -1;
	}
	return 0;
}

/* What a line of a driver's stderr tells of its application (the first of each wins):
 * StandaloneSchedulerBackend's "Connected to Spark cluster with app ID app-...", SparkUI's
 * "Bound SparkUI to ..., and started at URL" (Spark 3.x and 4.x), or Spark 3.5's
 * JettyUtils.startJettyServer "Start Jetty HOST:PORT for SparkUI". */
static void scan_line(const char *p, size_t n, struct app_links *l)
{
	static const char app[] = "Connected to Spark cluster with app ID ", ui[] = ", and started at ",
			  jetty[] = "Start Jetty ";
	const char *at;
	char line[600];

	snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
	if (!l->app_id[0] && (at = strstr(line, app)) != NULL)
		sscanf(at + sizeof(app) - 1, "%127[A-Za-z0-9_-]", l->app_id);
	if (!l->ui_url[0] && strstr(line, "SparkUI") && (at = strstr(line, ui)) != NULL
	    && (strncmp(at + sizeof(ui) - 1, "http://", 7) == 0 || strncmp(at + sizeof(ui) - 1, "https://", 8) == 0))
		sscanf(at + sizeof(ui) - 1, "%299[A-Za-z0-9:/._%-]", l->ui_url);
	if (!l->ui_url[0] && (at = strstr(line, jetty)) != NULL) {
		char hp[260];
		const char *end = strstr(at, " for SparkUI");

		if (end && end > at + sizeof(jetty) - 1 && (size_t)(end - at) < sizeof(hp)
		    && sscanf(at + sizeof(jetty) - 1, "%255[A-Za-z0-9:._-]", hp) == 1
		    && strlen(hp) == (size_t)(end - at) - (sizeof(jetty) - 1))
			snprintf(l->ui_url, sizeof(l->ui_url), "http://%s", hp);
	}
}

void app_links_get(struct servlets *sv, const struct master_ui *ui, const struct master_ui_driver *d,
		   const struct store_entry *x, int scan, struct app_links *l)
{
	char web[300];
	struct sg_err e = { 0 };

	memset(l, 0, sizeof(*l));
	if (x) {
		snprintf(l->app_id, sizeof(l->app_id), "%s", x->app_id);
		snprintf(l->ui_url, sizeof(l->ui_url), "%s", x->ui_url);
	}
	if (!d || !d->worker_id[0] || master_ui_worker_base(ui, d->worker_id, web, sizeof(web), &e) != 0)
		return;   /* not on a worker (yet), or its worker is gone: no log, nothing to read */
	/* the worker's own page for the driver's stderr (Spark's LogPage) */
	snprintf(l->log_url, sizeof(l->log_url), "%s/logPage/?driverId=%s&logType=stderr", web, d->id);
	if (scan && !l->app_id[0]) {
		/* SparkContext writes these lines as it starts: in the first LOGS_DEFAULT_LENGTH
		 * bytes unless something printed that much before it */
		struct buf text = BUF_INIT(LOGS_DEFAULT_LENGTH + 4096);
		long long range[3];
		size_t at;
		enum problem p;
		char why[400];

		if (logs_read(sv, ui, d, 1, 0, LOGS_DEFAULT_LENGTH, &text, &at, range, &p, why, sizeof(why)) == 0) {
			const char *t = (const char *)text.data + at, *end = (const char *)text.data + text.len;

			while (t < end) {
				const char *nl = memchr(t, '\n', (size_t)(end - t));
				size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);

				scan_line(t, n, l);
				t += n + 1;
			}
		}
		buf_release(&text);
		/* the UI's address as the application registered it with the master, which its
		 * page of the application links while it runs (Spark 3.5 logs only the address
		 * Jetty is bound to, which may be 0.0.0.0); else what the driver logged */
		if (l->app_id[0]) {
			char registered[sizeof(l->ui_url)];

			if (master_ui_app_url(ui, l->app_id, sv->spark->deadline, registered, sizeof(registered), &e) == 0)
				snprintf(l->ui_url, sizeof(l->ui_url), "%s", registered);
		}
		if (strncmp(l->ui_url, "http://0.0.0.0:", 15) == 0)
			l->ui_url[0] = '\0';   /* every address of the driver's host: none to link */
		if (l->app_id[0] && x && x->id[0] && sv->tenant->store)
			store_links(sv->tenant->store, x->id, l->app_id, l->ui_url, &e);   /* else found again next time */
	}
}

/* GET /v1/submissions/logs/ID (see logs.h). */
void logs_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	const struct request *rq = c->rq;
	const char *id = c->id;
	struct master_ui ui;
	const struct master_ui_driver *d;
	char why[400];
	struct buf text = BUF_INIT(LOGS_MAX_LENGTH + 4096);
	long long offset, length, range[3];
	size_t body_at;
	enum problem p;
	int err_stream, rc;

	if (logs_parse_query(rq->query, &err_stream, &offset, &length, why, sizeof(why))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
		return;
	}
	if ((rc = servlet_may_touch(sv, c, rs)) != 1) {
		if (rc == 0)
			reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No driver with this submission ID is known to the master.");
		return;
	}
	if (tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_GATEWAY, "Driver logs come from the worker's web UI, whose address "
			      "is in the master's "
			      "web UI (--master-ui), which is not usable now; see sparkgate's log.");
		return;
	}
	if (!(d = master_ui_find(&ui, id))) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No driver with this submission ID is known to the master.");
	} else if (logs_read(sv, &ui, d, err_stream, offset, length, &text, &body_at, range, &p, why, sizeof(why))) {
		reply_problem(sv->spark, rs, p, "%s", why);
	} else {
		buf_reset(&rs->body);
		if (buf_add(&rs->body, text.data + body_at, text.len - body_at)) {
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		} else {
			rs->status = 200;
			rs->content_type = "text/plain;charset=utf-8";
			snprintf(rs->header, sizeof(rs->header), "X-Log-Range: bytes %lld-%lld/%lld", range[0],
				 range[1], range[2]);
		}
	}
	master_ui_release(&ui);
	buf_release(&text);
}
