/* What one request may ask of the Spark master, below every rule of sparkgate's: the
 * masters (their connection and build), the request's deadline that every ask shares, and
 * the host's status cache.  The asks answer in Spark's shapes; the tenant layer and the
 * servlets above build on them. */
#ifndef SG_ASK_H
#define SG_ASK_H

#include <stddef.h>
#include <stdint.h>

#include "base/http.h"
#include "spark/cluster.h"
#include "spark/deploy.h"
#include "ops/statuscache.h"

struct spark_ctx {
	struct cluster cluster;
	char master_url[1024];     /* spark://h1:p1,h2:p2: what drivers get as spark.master */
	int64_t deadline;          /* of the request being handled: every ask it makes shares it */
	struct status_cache *status_cache;   /* the host's shared status answers, or NULL */
	int tokens;                /* creates carry a submission token (an owner store settles
	                            * their outcome): what a lost create's answer advises */
	int master_rest_port;      /* --master-rest-port: another port to check for Spark's REST door */
};

/* Asks the master with the request write builds (for the detected build): 0 with the reply
 * in a (of kind k), CLUSTER_WRITE_FAILED unanswered (the writer has its own error), or -1
 * after writing the error answer into rs.  A create (is_create) that may have reached the
 * master is never answered as failed: its outcome is unknown. */
int ask_master(struct spark_ctx *sc, cluster_write_fn write, void *arg, int idempotent, int is_create,
	       enum deploy_reply_kind k, struct cluster_answer *a, struct response *rs);
/* The master's answer could not be had or used (e): said in Spark's shape, with a status a
 * client will not mistake for "the master refused".  A create that may have reached the
 * master is never reported as failed: its outcome is unknown, whatever went wrong after. */
void ask_failed(const struct spark_ctx *sc, struct response *rs, const struct sg_err *e, int maybe_delivered,
		int is_create);
/* Spark's status answer for driver id into rs, through the host's status cache (at most
 * --status-max-age old, one master ask for all who ask at once): 0 with what the master
 * said in *rec, or the HTTP status of the error answer in rs. */
int ask_status(struct spark_ctx *sc, const char *id, struct response *rs, struct status_record *rec);
/* Whether the current master answers and is ALIVE (asked for the status of a driver that
 * cannot exist, uncached): 0 with a line saying so in why, or the HTTP status of the
 * failure (503 standby or unreachable, 504 too slow) with the reason. */
int ask_master_ready(struct spark_ctx *sc, char *why, size_t size);
/* The leader's drivers with their submission tokens (one RequestMasterState): 0 with
 * a->reply a REPLY_MASTER_STATE (success: the leader answered), or <0 with e. */
int ask_master_state(struct spark_ctx *sc, struct cluster_answer *a, struct sg_err *e);
/* Whether Spark's own REST server answers on the current master's host (6066 and
 * --master-rest-port): 1 with its URL, else 0.  Bounded by a short timeout per port. */
int ask_open_door(const struct spark_ctx *sc, char *url, size_t size);

#endif
