/* sparkgate's multi-user layer: identity, CSRF, owners, idempotency claims, quotas.  Each
 * function decides and returns its decision (into a caller-owned struct where there is more
 * than yes or no); the servlets answer.  With no --state-db and no --policy none of them
 * refuses anything, so Spark's rules alone apply. */
#ifndef SG_TENANT_H
#define SG_TENANT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/http.h"
#include "ops/ask.h"
#include "tenant/jws.h"
#include "tenant/policy.h"
#include "tenant/store.h"

/* The property that carries an idempotency key for clients that cannot set headers
 * (spark-submit --conf; it must start with "spark." to be sent at all). */
#define IDEMPOTENCY_PROPERTY "spark.sparkgate.idempotencyKey"
#define IDEMPOTENCY_KEY_MAX 1000

struct tenant {
	struct spark_ctx *spark;   /* the master its decisions ask (claims, quotas) */
	struct store *store;       /* owners of submissions, or NULL: no ownership (Spark's rules) */
	struct policy policy;      /* groups, admins, quotas, what a create may run */
	enum csrf_mode csrf;
	char *hosts;               /* --hosts: the Host names served (tenant_host_served), or NULL: any */
	uint8_t jws_key[JWS_MAX_KEY];   /* --jws-secret-file: HS256 key for bearer tokens */
	int jws_keylen;            /* 0: bearer tokens are not accepted */
	char master_ui[1024];      /* --master-ui: web UI base URLs, in --master order; "" derives
				      http://HOST:8080 from the current master */
	int64_t master_ui_retry_ms;   /* after a failed read, asked per driver until then */
	int64_t claims_swept_ms;   /* this process last looked for claims nobody can finish */
};

/* Who is asking, as tenant_identify found it. */
struct identity {
	char user[256];            /* REMOTE_USER or a token's subject; "" for nobody */
	int admin;                 /* a member of the policy's admin group */
	enum refusal refused;      /* REFUSAL_NONE, or why the request may not go on ... */
	char why[300];             /* ... in words for the answer */
};

/* Who is asking: the web server's REMOTE_USER, else (with --jws-secret-file) the subject of
 * a valid bearer token; "" for nobody.  0, or 1 refused (who->refused, who->why): a user
 * name sparkgate cannot take, or a bearer token that does not verify. */
int tenant_identify(const struct tenant *t, const struct request *rq, struct identity *who);
/* --hosts: whether a comma-separated list of host names the gateway serves is well formed
 * (each NAME, NAME:PORT, [IPv6] or [IPv6]:PORT; no spaces, paths or user parts). */
int tenant_hosts_valid(const char *list);
/* Whether host (a Host header, or an Origin's "host[:port]" part) is one of list: a NAME
 * entry matches that name with any port or none, a NAME:PORT entry only that port; names
 * compare without regard to case.  A NULL or empty host is never served.  What stops a page
 * whose name rebinds to this machine's address (DNS rebinding): the browser sends the page's
 * own name in Host. */
int tenant_host_served(const char *list, const char *host);
/* Whether a POST is a cross-site request the CSRF guard refuses. */
int tenant_forged(const struct tenant *t, const struct request *rq);
/* With an owner store: whether user may see or kill driver id: 1 yes, 0 no (another
 * user's: the caller answers as for an unknown id), TENANT_NOBODYS (no owner on record: a
 * typo, a driver made outside sparkgate; answered as unknown too, but nobody was refused),
 * or <0 with e (the store failed). */
#define TENANT_NOBODYS 2
int tenant_may_touch(struct tenant *t, const char *id, const char *user, int admin, struct sg_err *e);
/* Claims a create for owner (key may be NULL): 0 with *mine held by this request (its token
 * goes into the driver's javaOpts); 1 with the earlier create of this key in *earlier:
 * CLAIM_DONE (it made driver earlier->id: answer as if this one had), CLAIM_IN_FLIGHT (it
 * is being sent right now) or CLAIM_UNKNOWN (its outcome cannot be had from the master
 * yet); or <0 with e.  A claim whose holder is gone (a dead process of this host, or a
 * lease past on any host) is looked up at the master by its token: its driver is recorded,
 * or, once the leader has no such driver after the lease, this request takes the key over
 * and sends it once. */
int tenant_claim(struct tenant *t, const char *owner, const char *key, int cores, int memory_mb,
		 struct store_claim *mine, struct store_claim *earlier, struct sg_err *e);
/* Claims nobody can finish any more (owner's, or everyone's with owner NULL) resolved at the
 * master: their drivers recorded, or released once the leader has none.  At most every
 * TENANT_SWEEP_MS per process unless force. */
#define TENANT_SWEEP_MS 10000
void tenant_sweep(struct tenant *t, const char *owner, int force);
/* The quotas of user and its groups, counted with the create just claimed: 0 within them,
 * 1 refused with the quota line's words in rule, or <0 with e.  Why drivers were asked one
 * by one (the master's web UI failed) goes to note. */
int tenant_quota(struct tenant *t, const char *user, char *rule, size_t rule_size, char *note, size_t note_size,
		 struct sg_err *e);
struct master_ui;
/* The current master's web UI JSON (every driver's state and worker, every worker's UI): 0,
 * or -1 (not configured, "off", or it failed: said in note, not tried for a minute). */
int tenant_master_ui(struct tenant *t, struct master_ui *ui, char *note, size_t note_size);
/* The wall clock in milliseconds (submit times, claims). */
int64_t tenant_wall_ms(void);
/* A wall-clock time in milliseconds as ISO 8601 UTC ("2026-12-01T14:28:05.123Z"). */
#define TENANT_TIME_SIZE 96
void tenant_iso_time(int64_t ms, char out[TENANT_TIME_SIZE]);
/* Whether a driver state is one it never leaves (FINISHED, KILLED, FAILED, ERROR). */
int tenant_state_final(int state);

#endif
