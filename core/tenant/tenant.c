/* sparkgate's own rules for many users on one cluster (see tenant.h): who is asking,
 * cross-site requests, owners and what they may see, idempotency claims, quotas.  The
 * servlets ask these for decisions and answer; with no store and no policy none of them
 * refuses anything. */
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
#include "spark/masterui.h"

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

/* What the master's state says of claim c: CLAIM_DONE (its driver recorded, c->id),
 * CLAIM_NEW (the leader has no such driver and c's lease is past: released), or c->state
 * unchanged. */
static enum claim_result judge(struct tenant *t, const struct deploy_reply *ms, struct store_claim *c, int64_t now,
			       struct sg_err *e)
{
	const char *id = deploy_reply_find_token(ms, c->token);

	if (id) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		return store_resolve(t->store, c, id, e) ? c->state : CLAIM_DONE;
	}
	return ms->success && now > c->lease_ms ? CLAIM_NEW : c->state;
}

/* Whether an unfinished claim needs the master's word: its holder is gone, its lease is
 * past, or its outcome is unknown. */
static int orphaned(const struct store_claim *c, int64_t now)
{
	return c->state == CLAIM_UNKNOWN || now > c->lease_ms || holder_gone(c->holder);
}

int tenant_claim(struct tenant *t, const char *owner, const char *key, int cores, int memory_mb,
		 struct store_claim *mine, struct store_claim *earlier, struct sg_err *e)
{
	struct store_claim *old = earlier;
	struct cluster_answer a;
	uint8_t r[16];
	int64_t now = tenant_wall_ms();
	enum claim_result verdict;
	int taken = 0, asked, rc;

	memset(mine, 0, sizeof(*mine));
	if (crypto_random(r, sizeof(r)))
		return sg_err_set(e, ERR_NOMEM, 0, "sparkgate could not read random bytes for the submission token.");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(mine->token + 2 * i, 3, "%02x", r[i]);
	holder_of_self(mine->holder);
	mine->created_ms = now;
	/* the create is sent before the request's deadline; twice that, the master has it */
	mine->lease_ms = now + 2 * (int64_t)t->spark->cluster.master.timeout_ms;
	if ((rc = store_claim(t->store, owner, key, mine, cores, memory_mb, old, e)) != 0)
		return rc;
	if (old->state == CLAIM_NEW) {
		mine->row = old->row;
		return 0;
	}
	if (old->state == CLAIM_DONE || !old->token[0] || !orphaned(old, now))
		return 1;
	/* nobody will finish it: the master says what became of it */
	{
		struct sg_err ae = { 0 };

		cluster_answer_init(&a);
		asked = ask_master_state(t->spark, &a, &ae) == 0 && a.reply.success;   /* the leader's word only */
		verdict = asked ? judge(t, &a.reply, old, now, &ae) : old->state;
		cluster_answer_release(&a);
		if (verdict == CLAIM_NEW && store_take_over(t->store, old, mine, &taken, &ae) == 0 && taken) {
			mine->row = old->row;
			return 0;
		}
	}
	/* done; or taken over by another request, or the leader has no driver yet but the
	 * lease is not past (ask again in a moment); or the master could not be asked */
	old->state = verdict == CLAIM_DONE ? CLAIM_DONE : asked ? CLAIM_IN_FLIGHT : CLAIM_UNKNOWN;
	return 1;
}

#define SWEEP_MAX 200

void tenant_sweep(struct tenant *t, const char *owner, int force)
{
	struct store_claim *rows;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	int64_t now = tenant_wall_ms();
	size_t n = 0, todo = 0;

	if (!t->store || (!force && now - t->claims_swept_ms < TENANT_SWEEP_MS))
		return;
	t->claims_swept_ms = now;
	if (!(rows = calloc(SWEEP_MAX, sizeof(*rows))))
		return;
	if (store_unresolved(t->store, owner, SWEEP_MAX, rows, &n, &e) == 0)
		for (size_t i = 0; i < n; i++)
			todo += orphaned(&rows[i], now);
	cluster_answer_init(&a);
	if (todo && ask_master_state(t->spark, &a, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (orphaned(&rows[i], now) && judge(t, &a.reply, &rows[i], now, &e) == CLAIM_NEW)
				store_resolve(t->store, &rows[i], NULL, &e);   /* released: the master has none */
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
int tenant_master_ui(struct tenant *t, struct master_ui *ui, char *note, size_t note_size)
{
	const struct master *m = &t->spark->cluster.master;
	const struct master_addr *a;
	char base[1100], master_url[400];
	struct sg_err e = { 0 };
	const char *list = t->master_ui;

	memset(ui, 0, sizeof(*ui));
	if (strcmp(list, "off") == 0 || master_now_ms() < t->master_ui_retry_ms)
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
	if (master_ui_read(base, master_url, t->spark->deadline, ui, &e) == 0)
		return 0;
	if (e.code != ERR_REMOTE)   /* a standby's UI: the next read may find the leader's */
		t->master_ui_retry_ms = master_now_ms() + MASTER_UI_RETRY_MS;
	snprintf(note, note_size, "the master's web UI JSON (%.300s/json/) is not usable, so drivers are "
		 "asked one by one for a minute: %.200s", base, e.msg);
	return -1;
}

static int driver_state_now(struct tenant *t, const char *id)
{
	struct response scratch;
	struct status_record rec;
	int state = -1;

	response_init(&scratch);
	if (ask_status(t->spark, id, &scratch, &rec) == 0)
		state = rec.known ? rec.state : DRIVER_GONE;
	response_release(&scratch);
	return state;
}

int tenant_state_final(int state)
{
	const char *name = driver_state_name(state);

	return name && (strcmp(name, "FINISHED") == 0 || strcmp(name, "KILLED") == 0 || strcmp(name, "FAILED") == 0
			|| strcmp(name, "ERROR") == 0);
}

static int is_final(int state)
{
	return state == DRIVER_GONE || tenant_state_final(state);
}

#define QUOTA_MAX_DRIVERS 1000

/* The master's view of every driver, read at most once per quota check. */
struct view {
	int state;   /* 0 not read yet, 1 read (ui), -1 not usable: ask per driver */
	struct master_ui ui;
	char *note;            /* why it is not usable, for the log */
	size_t note_size;
};

/* What owner's running drivers hold (drivers, cores, MiB) added to *usage; drivers the
 * master reports finished are marked so and no longer asked about. */
static int add_usage(struct tenant *t, const char *owner, struct view *v, long usage[3], struct sg_err *e)
{
	struct store_usage *rows = calloc(QUOTA_MAX_DRIVERS, sizeof(*rows));
	size_t n = 0;
	int rc;

	if (!rows)
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	rc = store_active(t->store, owner, tenant_wall_ms(), 2 * (int64_t)t->spark->cluster.master.timeout_ms, QUOTA_MAX_DRIVERS,
			  rows, &n, e);
	if (!rc && n && !v->state)
		v->state = tenant_master_ui(t, &v->ui, v->note, v->note_size) == 0 ? 1 : -1;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct master_ui_driver *d;
		int state = DRIVER_GONE;

		if (rows[i].id[0])
			state = v->state < 0 ? driver_state_now(t, rows[i].id)
				: (d = master_ui_find(&v->ui, rows[i].id)) != NULL ? d->state : DRIVER_GONE;
		/* an unreachable master counts the driver as running: quotas fail closed */
		if (rows[i].id[0] && is_final(state)) {
			rc = store_mark_finished(t->store, rows[i].id, e);
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
int tenant_quota(struct tenant *t, const char *user, char *rule, size_t rule_size, char *note, size_t note_size,
		 struct sg_err *e)
{
	const struct policy *p = &t->policy;
	const struct policy_quota *mine = policy_user_quota(p, user);
	struct view v = { .note = note, .note_size = note_size };
	int refused = 0;

	if (!t->store)
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
					rc = add_usage(t, p->groups[k].members.items[m], &v, usage, e);
		} else {
			rc = add_usage(t, user, &v, usage, e);
		}
		if (rc)
			refused = rc;
		for (int k = 0; k < 3 && !refused; k++) {
			if (limit[k] >= 0 && usage[k] > limit[k]) {
				snprintf(rule, rule_size, "quota %s %s: at most %ld %s at once (%ld with this driver)",
					 q->group ? "group" : "user", q->name, limit[k], what[k], usage[k]);
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
int tenant_may_touch(struct tenant *t, const char *id, const char *user, int admin, struct sg_err *e)
{
	char owner[256];
	int rc;

	if (!t->store || admin)
		return 1;
	rc = store_owner(t->store, id, owner, sizeof(owner), e);
	if (rc < 0)
		return rc;
	return rc ? TENANT_NOBODYS : strcmp(owner, user) == 0;
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
int tenant_forged(const struct tenant *t, const struct request *rq)
{
	if (t->csrf == CSRF_OFF || (rq->requested_by && *rq->requested_by))
		return 0;
	if (t->csrf == CSRF_HEADER)
		return 1;
	if (rq->fetch_site && (strcmp(rq->fetch_site, "cross-site") == 0 || strcmp(rq->fetch_site, "same-site") == 0))
		return 1;
	if (rq->origin && *rq->origin && strcmp(rq->origin, "null") != 0) {
		const char *o = strstr(rq->origin, "://");

		/* with --hosts, a same-origin page must also be one of them (never a name that
		 * rebinds to this machine) */
		return !rq->host || !o || strcmp(o + 3, rq->host) != 0 || (t->hosts && !tenant_host_served(t->hosts, o + 3));
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

static int refuse(struct identity *who, enum refusal r, const char *why)
{
	who->refused = r;
	snprintf(who->why, sizeof(who->why), "%s", why);
	return 1;
}

/* Who is asking: the web server's REMOTE_USER, else (with --jws-secret-file) the subject
 * of a valid bearer token; "" for nobody.  A token that does not verify is refused in the
 * words of Spark's JWSFilter. */
int tenant_identify(const struct tenant *t, const struct request *rq, struct identity *who)
{
	const char *auth = rq->authorization;
	char why[200];

	who->user[0] = '\0';
	who->admin = 0;
	who->refused = REFUSAL_NONE;
	who->why[0] = '\0';
	if (rq->remote_user && strlen(rq->remote_user) >= sizeof(who->user))
		/* never cut short: two long names must not become one owner */
		return refuse(who, REFUSAL_NO_USER, "The user name is too long for sparkgate (at most 255 bytes).");
	else if (rq->remote_user && !user_name_ok(rq->remote_user))
		return refuse(who, REFUSAL_NO_USER, "The user name is reserved or holds control characters (\"-\" is the "
			      "owner of anonymous requests).");
	else if (rq->remote_user)
		snprintf(who->user, sizeof(who->user), "%s", rq->remote_user);
	else if (!t->jws_keylen || !auth)
		return 0;
	else if (strncmp(auth, "Bearer ", 7) != 0)
		return 0;   /* Basic credentials the web server did not check: no user */
	else if (jws_verify(auth + 7, t->jws_key, (size_t)t->jws_keylen, tenant_wall_ms() / 1000, who->user,
			    sizeof(who->user), why, sizeof(why))) {
		who->user[0] = '\0';
		return refuse(who, REFUSAL_BAD_TOKEN, why);
	}
	if (!user_name_ok(who->user)) {
		who->user[0] = '\0';
		return refuse(who, REFUSAL_BAD_TOKEN, "The token's subject is a reserved user name or holds control "
			      "characters.");
	}
	who->admin = policy_is_admin(&t->policy, who->user);
	return 0;
}
