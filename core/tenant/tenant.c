/* sparkgate's own rules for many users on one cluster (see tenant.h): who is asking,
 * cross-site requests, owners and what they may see, idempotency replays, quotas, the
 * listing.  Spark's servlets (route.c) call these hooks; with no store and no policy none
 * of them changes an answer. */
#include "tenant/tenant.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/crypto.h"
#include "tenant/jws.h"
#include "base/limits.h"
#include "spark/masterui.h"
#include "spark/rest.h"
#include "servlets/servlet.h"

int64_t tenant_wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void tenant_iso_time(int64_t ms, char out[TENANT_TIME_SIZE])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, TENANT_TIME_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* An earlier create with the same key: its outcome, without sending it again. */
static void replay(struct gateway *g, struct response *rs, enum claim_result claim, const char *id)
{
	const char *version = cluster_version(&g->cluster);
	char msg[300];

	if (claim == CLAIM_DONE) {
		snprintf(msg, sizeof(msg), "Driver successfully submitted as %s", id);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, msg, 0, NULL },
			{ "serverSparkVersion", RF_STRING, version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
		};

		snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
		rs->replayed = 1;
		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
		return;
	}
	if (claim == CLAIM_IN_FLIGHT) {
		servlet_error(g, rs, 409, "A create with this idempotency key is being submitted right now; "
			      "ask again in a moment.");
		return;
	}
	servlet_error(g, rs, 503, "The outcome of an earlier create with this idempotency key is unknown until the "
		      "Spark master answers: sparkgate will not submit it again before the master says it has no such "
		      "driver. Ask again later with the same key.");
}

/* ---- claims: holders, leases, and what the master says of them ----------------------- */

/* This process's start time (/proc/self/stat field 22, clock ticks since boot): with the
 * pid, it names the process even after the pid is reused.  0 if unknown. */
static unsigned long long process_start(long pid)
{
	char path[64], line[1024];
	unsigned long long start = 0;
	FILE *f;
	size_t n;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	if (!(p = strrchr(line, ')')))   /* the command name may hold spaces and ')' */
		return 0;
	/* p is at the end of field 2 (")"); each space starts the next; starttime is field 22 */
	for (int field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (sscanf(p, "%llu", &start) != 1)
		return 0;
	return start;
}

/* "HOST PID START": who holds a claim. */
static void holder_of_self(char out[STORE_HOLDER_SIZE])
{
	char host[256] = "";
	long pid = (long)getpid();

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(out, STORE_HOLDER_SIZE, "%s %ld %llu", host, pid, process_start(pid));
}

/* Whether a claim's holder is certainly gone: a process of this host that is no longer
 * there (or whose pid now names another process).  A holder on another host is gone only
 * when its lease is past. */
static int holder_gone(const char *holder)
{
	char self[STORE_HOLDER_SIZE], host[256];
	long pid;
	unsigned long long start;

	holder_of_self(self);
	if (sscanf(holder, "%255s %ld %llu", host, &pid, &start) != 3 || strncmp(self, host, strlen(host)) != 0
	    || self[strlen(host)] != ' ' || pid <= 0 || !start)
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH ? 1 : process_start(pid) != start;
}

static int write_master_state(void *arg, const struct spark_build *b, struct buf *out)
{
	(void)arg;
	return deploy_write_master_state(out, b);
}

/* The leader's drivers by token (one RequestMasterState): 0 with a->reply a
 * REPLY_MASTER_STATE (success: the leader answered), or <0. */
static int master_marks(struct gateway *g, struct cluster_answer *a, struct sg_err *e)
{
	int rc = cluster_ask(&g->cluster, g->deadline, write_master_state, NULL, 1, a, e);

	if (!rc && (a->failed || a->reply.kind != REPLY_MASTER_STATE))
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "the Spark master did not answer RequestMasterState: %.300s",
				a->failed ? buf_str(&a->failure) : "another reply");
	return rc;
}

/* What the master's state says of claim c: CLAIM_DONE (its driver recorded, c->id),
 * CLAIM_NEW (the leader has no such driver and c's lease is past: released), or c->state
 * unchanged. */
static enum claim_result judge(struct gateway *g, const struct deploy_reply *ms, struct store_claim *c, int64_t now,
			       struct sg_err *e)
{
	const char *id = deploy_reply_find_token(ms, c->token);

	if (id) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		return store_resolve(g->store, c, id, e) ? c->state : CLAIM_DONE;
	}
	return ms->success && now > c->lease_ms ? CLAIM_NEW : c->state;
}

/* Whether an unfinished claim needs the master's word: its holder is gone, its lease is
 * past, or its outcome is unknown. */
static int orphaned(const struct store_claim *c, int64_t now)
{
	return c->state == CLAIM_UNKNOWN || now > c->lease_ms || holder_gone(c->holder);
}

int tenant_claim(struct gateway *g, const char *owner, const char *key, int cores, int memory_mb,
		 struct store_claim *mine, struct response *rs)
{
	struct store_claim old;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	uint8_t r[16];
	int64_t now = tenant_wall_ms();
	enum claim_result verdict;
	int taken = 0, asked;

	memset(mine, 0, sizeof(*mine));
	if (crypto_random(r, sizeof(r))) {
		servlet_error(g, rs, 500, "sparkgate could not read random bytes for the submission token.");
		return 1;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(mine->token + 2 * i, 3, "%02x", r[i]);
	holder_of_self(mine->holder);
	mine->created_ms = now;
	/* the create is sent before the request's deadline; twice that, the master has it */
	mine->lease_ms = now + 2 * (int64_t)g->cluster.master.timeout_ms;
	if (store_claim(g->store, owner, key, mine, cores, memory_mb, &old, &e)) {
		servlet_error(g, rs, servlet_error_status(e.code), e.msg);
		return 1;
	}
	if (old.state == CLAIM_NEW) {
		mine->row = old.row;
		return 0;
	}
	if (old.state == CLAIM_DONE || !old.token[0] || !orphaned(&old, now)) {
		replay(g, rs, old.state, old.id);
		return 1;
	}
	/* nobody will finish it: the master says what became of it */
	cluster_answer_init(&a);
	asked = master_marks(g, &a, &e) == 0 && a.reply.success;   /* the leader's word only */
	verdict = asked ? judge(g, &a.reply, &old, now, &e) : old.state;
	cluster_answer_release(&a);
	if (verdict == CLAIM_NEW && store_take_over(g->store, &old, mine, &taken, &e) == 0 && taken) {
		mine->row = old.row;
		return 0;
	}
	/* done; or taken over by another request, or the leader has no driver yet but the
	 * lease is not past (ask again in a moment); or the master could not be asked */
	replay(g, rs, verdict == CLAIM_DONE ? CLAIM_DONE : asked ? CLAIM_IN_FLIGHT : CLAIM_UNKNOWN, old.id);
	return 1;
}

#define SWEEP_MAX 200

void tenant_sweep(struct gateway *g, const char *owner, int force)
{
	struct store_claim *rows;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	int64_t now = tenant_wall_ms();
	size_t n = 0, todo = 0;

	if (!g->store || (!force && now - g->claims_swept_ms < TENANT_SWEEP_MS))
		return;
	g->claims_swept_ms = now;
	if (!(rows = calloc(SWEEP_MAX, sizeof(*rows))))
		return;
	if (store_unresolved(g->store, owner, SWEEP_MAX, rows, &n, &e) == 0)
		for (size_t i = 0; i < n; i++)
			todo += orphaned(&rows[i], now);
	cluster_answer_init(&a);
	if (todo && master_marks(g, &a, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (orphaned(&rows[i], now) && judge(g, &a.reply, &rows[i], now, &e) == CLAIM_NEW)
				store_resolve(g->store, &rows[i], NULL, &e);   /* released: the master has none */
		}
	}
	cluster_answer_release(&a);
	free(rows);
}

/* A driver's state at the master now: a DriverState, DRIVER_GONE when the master does not
 * know it (finished and forgotten), or -1 when the master could not be asked. */
#define DRIVER_GONE (-2)

#define MASTER_UI_DEFAULT_PORT 8080
#define MASTER_UI_RETRY_MS 60000

/* The current master's web UI JSON (see masterui.h): 0 with every driver in *ui, or -1
 * (none configured, "off", or it failed: then, for a minute, drivers are asked one by one;
 * the failure is noted for the log). */
int tenant_master_ui(struct gateway *g, struct master_ui *ui, struct response *rs)
{
	const struct master *m = &g->cluster.master;
	const struct master_addr *a;
	char base[1100], master_url[400];
	struct sg_err e = { 0 };
	const char *list = g->master_ui;

	memset(ui, 0, sizeof(*ui));
	if (strcmp(list, "off") == 0 || master_now_ms() < g->master_ui_retry_ms)
		return -1;
	a = &m->addrs[m->current];   /* the leader, as far as sparkgate knows */
	snprintf(master_url, sizeof(master_url), "spark://%s:%d", a->host, a->port);
	if (!*list) {
		snprintf(base, sizeof(base), "http://%s:%d", a->host, MASTER_UI_DEFAULT_PORT);
	} else {   /* the current master's entry, or the only one */
		const char *p = list;

		for (size_t i = 0; i < m->current && strchr(p, ','); i++)
			p = strchr(p, ',') + 1;
		snprintf(base, sizeof(base), "%.*s", (int)strcspn(p, ","), p);
	}
	if (master_ui_read(base, master_url, g->deadline, ui, &e) == 0)
		return 0;
	if (e.code != ERR_REMOTE)   /* a standby's UI: the next read may find the leader's */
		g->master_ui_retry_ms = master_now_ms() + MASTER_UI_RETRY_MS;
	snprintf(rs->note, sizeof(rs->note), "the master's web UI JSON (%.300s/json/) is not usable, so drivers are "
		 "asked one by one for a minute: %.200s", base, e.msg);
	return -1;
}

static void record_of(const struct master_ui_driver *d, struct status_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->http_status = 200;
	rec->known = 1;
	rec->state = d->state;
	memcpy(rec->worker_id, d->worker_id, sizeof(rec->worker_id));
	memcpy(rec->worker_host_port, d->worker_host_port, sizeof(rec->worker_host_port));
}

static int driver_state_now(struct gateway *g, const char *id)
{
	struct response scratch;
	struct status_record rec;
	int state = -1;

	response_init(&scratch);
	if (servlet_status(g, id, &scratch, &rec) == 0)
		state = rec.known ? rec.state : DRIVER_GONE;
	response_release(&scratch);
	return state;
}

static int is_final(int state)
{
	const char *name = driver_state_name(state);

	return state == DRIVER_GONE || (name && (strcmp(name, "FINISHED") == 0 || strcmp(name, "KILLED") == 0
						 || strcmp(name, "FAILED") == 0 || strcmp(name, "ERROR") == 0));
}

#define QUOTA_MAX_DRIVERS 1000

/* The master's view of every driver, read at most once per quota check. */
struct view {
	int state;   /* 0 not read yet, 1 read (ui), -1 not usable: ask per driver */
	struct master_ui ui;
	struct response *rs;   /* for the note when it is not usable */
};

/* What owner's running drivers hold (drivers, cores, MiB) added to *usage; drivers the
 * master reports finished are marked so and no longer asked about. */
static int add_usage(struct gateway *g, const char *owner, struct view *v, long usage[3], struct sg_err *e)
{
	struct store_usage *rows = calloc(QUOTA_MAX_DRIVERS, sizeof(*rows));
	size_t n = 0;
	int rc;

	if (!rows)
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	rc = store_active(g->store, owner, tenant_wall_ms(), 2 * (int64_t)g->cluster.master.timeout_ms, QUOTA_MAX_DRIVERS,
			  rows, &n, e);
	if (!rc && n && !v->state)
		v->state = tenant_master_ui(g, &v->ui, v->rs) == 0 ? 1 : -1;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct master_ui_driver *d;
		int state = DRIVER_GONE;

		if (rows[i].id[0])
			state = v->state < 0 ? driver_state_now(g, rows[i].id)
				: (d = master_ui_find(&v->ui, rows[i].id)) != NULL ? d->state : DRIVER_GONE;
		/* an unreachable master counts the driver as running: quotas fail closed */
		if (rows[i].id[0] && is_final(state)) {
			rc = store_mark_finished(g->store, rows[i].id, e);
			continue;
		}
		usage[0]++;
		usage[1] += rows[i].cores;
		usage[2] += rows[i].memory_mb;
	}
	free(rows);
	return rc;
}

/* Quotas of user (its own line or "quota user *") and of every group it is in, counted
 * after the new create claimed its row, so it is in the usage (and so are creates other
 * processes are sending right now). */
int tenant_refused_by_quota(struct gateway *g, const char *user, struct response *rs)
{
	const struct policy *p = &g->policy;
	const struct policy_quota *mine = policy_user_quota(p, user);
	struct sg_err e = { 0 };
	struct view v = { .rs = rs };
	int refused = 0;

	if (!g->store)
		return 0;
	for (size_t i = 0; i <= p->nquotas && !refused; i++) {
		const struct policy_quota *q = i < p->nquotas ? &p->quotas[i] : mine;
		long usage[3] = { 0, 0, 0 };
		const long limit[3] = { q ? q->drivers : -1, q ? q->cores : -1, q ? q->memory_mb : -1 };
		static const char *const what[3] = { "drivers", "cores", "MiB of memory" };
		int rc = 0;

		if (!q || (i < p->nquotas && (!q->group || !policy_in_group(p, user, q->name))))
			continue;
		if (q->group) {
			for (size_t k = 0; k < p->ngroups && !rc; k++)
				for (size_t m = 0; strcmp(p->groups[k].name, q->name) == 0 && m < p->groups[k].members.len
						   && !rc; m++)
					rc = add_usage(g, p->groups[k].members.items[m], &v, usage, &e);
		} else {
			rc = add_usage(g, user, &v, usage, &e);
		}
		if (rc) {
			servlet_error(g, rs, servlet_error_status(e.code), e.msg);
			refused = 1;
		}
		for (int k = 0; k < 3 && !refused; k++) {
			if (limit[k] >= 0 && usage[k] > limit[k]) {
				snprintf(rs->rule, sizeof(rs->rule), "quota %s %s: at most %ld %s at once (%ld with this "
					 "driver)", q->group ? "group" : "user", q->name, limit[k], what[k], usage[k]);
				servlet_error(g, rs, 403, rs->rule);
				refused = 1;
			}
		}
	}
	if (v.state > 0)
		master_ui_release(&v.ui);
	return refused;
}

/* With an owner store, only the owner and admins may see or kill a driver; anyone else
 * gets the answer an unknown id gets, so other users' ids are not confirmed to exist. */
int tenant_may_touch(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	char owner[256];
	struct sg_err e = { 0 };
	int rc;

	if (!g->store || admin)
		return 1;
	rc = store_owner(g->store, id, owner, sizeof(owner), &e);
	if (rc < 0) {
		servlet_error(g, rs, servlet_error_status(e.code), e.msg);
		return 0;
	}
	if (rc == 0 && strcmp(owner, user) == 0)
		return 1;
	rs->hidden = 1;
	return 0;
}

/* GET /v1/submissions (beyond Spark, with an owner store): the caller's drivers, newest
 * first (admins: everyone's), with their state at the master now. */
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

void tenant_list(struct gateway *g, const char *user, int admin, struct response *rs)
{
	struct store_entry *rows = calloc(LIST_MAX, sizeof(*rows));
	struct buf items = BUF_INIT(LIMIT_RESPONSE_BODY);
	struct sg_err e = { 0 };
	char problem[600] = "";
	size_t n = 0;
	int rc = 0, have_ui;
	struct master_ui ui = { 0 };   /* released whether it was read or not */

	if (!rows) {
		servlet_error(g, rs, 500, "out of memory");
		return;
	}
	/* creates whose outcome nobody knows yet: the master says, so the list shows their ids */
	tenant_sweep(g, admin ? NULL : user, 1);
	if (store_list(g->store, admin ? NULL : user, LIST_MAX, rows, &n, &e)) {
		servlet_error(g, rs, servlet_error_status(e.code), e.msg);
		free(rows);
		return;
	}
	rc = buf_addstr(&items, "[ ");
	have_ui = n && tenant_master_ui(g, &ui, rs) == 0;
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
			int status = servlet_status(g, rows[i].id, &scratch, &rec);

			known = status == 0 && rec.known;
			if (status == 500)   /* sparkgate's own failure, not the master's */
				rc = ERR_NOMEM;
			else if (status)
				snprintf(problem, sizeof(problem), "Driver states are missing: the Spark master did not "
					 "answer (HTTP %d for %s).", status, rows[i].id);
		}
		if (known && (rec.state == DRIVER_RUNNING ? !rows[i].running_ms : is_final(rec.state) && !rows[i].ended_ms)) {
			struct sg_err oe = { 0 };
			int ended = rec.state != DRIVER_RUNNING;
			int64_t now = tenant_wall_ms();

			/* a write only when the state is new to the record; if it fails, the time is
			 * shown now and seen again by the next listing */
			store_observe(g->store, rows[i].id, ended, now, &oe);
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
		servlet_error(g, rs, 500, rc == ERR_TOO_LARGE ? "The list is too large to print." : "out of memory");
	} else {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionListResponse", 0, NULL },
			{ "admin", RF_BOOL, NULL, admin, NULL },
			{ "message", RF_STRING, problem[0] ? problem : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&g->cluster), 0, NULL },
			{ "submissions", RF_RAW, buf_str(&items), 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "user", RF_STRING, user, 0, NULL },   /* who is asking, for the portal */
		};

		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&items);
	free(rows);
}

/* The name part of a "name[:port]" or "[v6][:port]" text of len bytes: its length, and in
 * *port the port part after the colon (NULL without one).  -1 if it is not of that form. */
static int host_split(const char *h, size_t len, const char **port)
{
	const char *colon;
	size_t n;

	*port = NULL;
	if (len && h[0] == '[') {
		const char *close = memchr(h, ']', len);

		if (!close)
			return -1;
		n = (size_t)(close - h) + 1;
		if (n < len && h[n] != ':')
			return -1;
	} else {
		colon = memchr(h, ':', len);
		n = colon ? (size_t)(colon - h) : len;
		if (colon && memchr(colon + 1, ':', len - n - 1))
			return -1;
	}
	if (n < len) {
		*port = h + n + 1;
		if (n + 1 == len || len - n - 1 > 5 || strspn(*port, "0123456789") < len - n - 1)
			return -1;
	}
	return n ? (int)n : -1;
}

int tenant_hosts_valid(const char *list)
{
	const char *p = list;

	if (!list || !*list)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *port;

		if (!n || n > 255 || host_split(p, n, &port) < 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7F || strchr("/@?#%\\", p[i]))
				return 0;
		p += n + (p[n] == ',');
		if (p[-1] == ',' && !*p)
			return 0;
	}
	return 1;
}

int tenant_host_served(const char *list, const char *host)
{
	size_t hlen = host ? strlen(host) : 0;
	const char *hport, *p = list;
	int hname;

	if (!hlen || (hname = host_split(host, hlen, &hport)) < 0)
		return 0;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		const char *port;
		int name = host_split(p, n, &port);

		if (name == hname && strncasecmp(p, host, (size_t)name) == 0
		    && (!port || (hport && n - (size_t)name == hlen - (size_t)hname
				  && strncmp(port, hport, n - (size_t)name - 1) == 0)))
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Whether a POST may change something.  A browser page on another site can make the
 * browser POST here with the user's cached Basic credentials; it cannot add a custom
 * header without a CORS preflight, which sparkgate never grants. */
int tenant_forged(const struct gateway *g, const struct request *rq)
{
	if (g->csrf == CSRF_OFF || (rq->requested_by && *rq->requested_by))
		return 0;
	if (g->csrf == CSRF_HEADER)
		return 1;
	if (rq->fetch_site && (strcmp(rq->fetch_site, "cross-site") == 0 || strcmp(rq->fetch_site, "same-site") == 0))
		return 1;
	if (rq->origin && *rq->origin && strcmp(rq->origin, "null") != 0) {
		const char *o = strstr(rq->origin, "://");

		/* with --hosts, a same-origin page must also be one of them (never a name that
		 * rebinds to this machine) */
		return !rq->host || !o || strcmp(o + 3, rq->host) != 0 || (g->hosts && !tenant_host_served(g->hosts, o + 3));
	}
	return rq->origin && strcmp(rq->origin, "null") == 0;
}

/* "-" owns anonymous requests (--anonymous allow) and stands for "nobody" in logs; a name
 * with control bytes could not be logged as itself. */
static int user_name_ok(const char *u)
{
	if (strcmp(u, "-") == 0)
		return 0;
	for (const unsigned char *c = (const unsigned char *)u; *c; c++)
		if (*c < 0x20 || *c == 0x7F)
			return 0;
	return 1;
}

/* Who is asking: the web server's REMOTE_USER, else (with --jws-secret-file) the subject
 * of a valid bearer token; NULL for nobody.  A token that does not verify is answered
 * with 403 here, in the words of Spark's JWSFilter. */
const char *tenant_identify(struct gateway *g, const struct request *rq, struct response *rs)
{
	const char *auth = rq->authorization;
	char why[200];

	if (rq->remote_user && strlen(rq->remote_user) >= sizeof(rs->user)) {
		/* never cut short: two long names must not become one owner */
		servlet_error(g, rs, 403, "The user name is too long for sparkgate (at most 255 bytes).");
		return NULL;
	} else if (rq->remote_user && !user_name_ok(rq->remote_user)) {
		servlet_error(g, rs, 403, "The user name is reserved or holds control characters (\"-\" is the owner of "
			      "anonymous requests).");
		return NULL;
	} else if (rq->remote_user)
		snprintf(rs->user, sizeof(rs->user), "%s", rq->remote_user);
	else if (!g->jws_keylen || !auth)
		return NULL;
	else if (strncmp(auth, "Bearer ", 7) != 0)
		return NULL;   /* Basic credentials the web server did not check: no user */
	else if (jws_verify(auth + 7, g->jws_key, (size_t)g->jws_keylen, tenant_wall_ms() / 1000, rs->user,
			    sizeof(rs->user), why, sizeof(why))) {
		snprintf(rs->rule, sizeof(rs->rule), "bearer token");
		servlet_error(g, rs, 403, why);
		return NULL;
	}
	if (!user_name_ok(rs->user)) {
		snprintf(rs->rule, sizeof(rs->rule), "bearer token");
		servlet_error(g, rs, 403, "The token's subject is a reserved user name or holds control characters.");
		return NULL;
	}
	return rs->user;
}

