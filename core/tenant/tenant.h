/* sparkgate's multi-user layer: identity, CSRF, owners, idempotency, quotas, listing.
 * Each hook answers the request itself when it refuses (and says so by its result); with
 * no --state-db and no --policy none of them refuses anything, so Spark's rules alone
 * apply. */
#ifndef SG_TENANT_H
#define SG_TENANT_H

#include <stdint.h>

#include "servlets/route.h"
#include "tenant/store.h"

/* The property that carries an idempotency key for clients that cannot set headers
 * (spark-submit --conf; it must start with "spark." to be sent at all). */
#define IDEMPOTENCY_PROPERTY "spark.sparkgate.idempotencyKey"
#define IDEMPOTENCY_KEY_MAX 1000

/* Who is asking: the web server's REMOTE_USER, else (with --jws-secret-file) the subject of
 * a valid bearer token; NULL for nobody (or a refusal already answered: rs->status 403). */
const char *tenant_identify(struct gateway *g, const struct request *rq, struct response *rs);
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
int tenant_forged(const struct gateway *g, const struct request *rq);
/* With an owner store: whether user may see or kill driver id; if not, rs->hidden (the
 * caller answers as for an unknown id) or an error answer. */
int tenant_may_touch(struct gateway *g, const char *id, const char *user, int admin, struct response *rs);
/* Claims a create for owner (key may be NULL): 0 with *mine held by this request (its token
 * goes into the driver's javaOpts), or 1 answered: an earlier create with this key made
 * driver X (200, as if this one had), is being sent right now (409), or its outcome cannot
 * be had from the master yet (503); or a store failure.  A claim whose holder is gone (a
 * dead process of this host, or a lease past on any host) is looked up at the master by
 * its token: its driver is recorded, or, once the leader has no such driver after the
 * lease, this request takes the key over and sends it once. */
int tenant_claim(struct gateway *g, const char *owner, const char *key, int cores, int memory_mb,
		 struct store_claim *mine, struct response *rs);
/* Claims nobody can finish any more (owner's, or everyone's with owner NULL) resolved at the
 * master: their drivers recorded, or released once the leader has none.  At most every
 * TENANT_SWEEP_MS per process unless force. */
#define TENANT_SWEEP_MS 10000
void tenant_sweep(struct gateway *g, const char *owner, int force);
/* The quotas of user and its groups, counted with the create just claimed: 1 refused
 * (answered), 0 within them. */
int tenant_refused_by_quota(struct gateway *g, const char *user, struct response *rs);
/* GET /v1/submissions: the caller's drivers (admins: everyone's). */
void tenant_list(struct gateway *g, const char *user, int admin, struct response *rs);
struct master_ui;
/* The current master's web UI JSON (every driver's state and worker, every worker's UI): 0,
 * or -1 (not configured, "off", or it failed: noted in rs->note, not tried for a minute). */
int tenant_master_ui(struct gateway *g, struct master_ui *ui, struct response *rs);
/* The wall clock in milliseconds (submit times, claims). */
int64_t tenant_wall_ms(void);
/* A wall-clock time in milliseconds as ISO 8601 UTC ("2026-12-01T14:28:05.123Z"). */
#define TENANT_TIME_SIZE 96
void tenant_iso_time(int64_t ms, char out[TENANT_TIME_SIZE]);

#endif
