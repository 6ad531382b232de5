/* The masters sparkgate fronts: which Spark build the connected master runs (detected on
 * each new connection, or pinned), and which master of an HA list is the leader.
 *
 * Build detection sends a probe (deploy_write_probe) to an endpoint that does not exist.
 * The master deserializes it before looking the endpoint up, so its answer says either
 * "Could not find <endpoint>" (every class and serialVersionUID matched) or names the first
 * class it rejected (InvalidClassException with its own UID, or ClassNotFoundException) —
 * without any side effect.  That narrows the candidate builds until one matches.
 *
 * Leader finding: a master that is not ALIVE (STANDBY, RECOVERING...) answers every request
 * with "Current state is not alive"; the ask moves on to the next address and, with several
 * masters, keeps trying until one is ALIVE or the request's time is up. */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stddef.h>

#include "base/buf.h"
#include "spark/deploy.h"
#include "base/err.h"
#include "spark/master.h"
#include "spark/versions.h"

#define CLUSTER_PROBE_ENDPOINT "sparkgate-build-probe"
#define CLUSTER_MAX_BUILDS 32   /* tables detection can choose between (cluster_test checks) */

struct cluster {
	struct master master;
	const struct spark_build *pinned;   /* --spark-version, or NULL to detect */
	char pinned_version[16];            /* its release as given ("3.4.1"), reported as Spark's */
	const struct spark_build *build;    /* of the master on connection build_generation */
	uint64_t build_generation;
	const struct spark_build *last;     /* last build seen, for answers without a master */
	int standby_wait_ms;                /* between rounds when no master is ALIVE */
};

/* Builds the request stream for build b into out (whose max is LIMIT_REQUEST_STREAM); nonzero
 * stops the ask (the caller keeps its own error details) and is returned as
 * CLUSTER_WRITE_FAILED. */
typedef int (*cluster_write_fn)(void *arg, const struct spark_build *b, struct buf *out);

#define CLUSTER_WRITE_FAILED 1

struct cluster_answer {
	const struct spark_build *build;   /* the build the request was written for */
	int failed;                        /* the master refused it: text in failure */
	int maybe_delivered;               /* on ERR_IO/ERR_TIMEOUT */
	struct buf failure;                /* RpcFailure text (Java stack trace) */
	struct deploy_reply reply;         /* when !failed */
};

/* pin: a release ("3.4.1", "3.5.9_2.13") whose minor's table is used without detection, and
 * which answers report as serverSparkVersion; NULL detects.  An unknown one is ERR_INVALID. */
int cluster_init(struct cluster *c, const char *master_url, const char *pin, struct sg_err *e);
void cluster_release(struct cluster *c);

/* One step of detection: the master refused the probe of spark_builds[candidate[0]] with
 * failure (its first InvalidClassException or ClassNotFoundException); keeps in candidate
 * the other builds that would have failed the same way and returns their count; seen: what
 * the failure says about the master, for the error if none is left. */
size_t cluster_narrow(int *candidate, size_t ncand, const char *failure, char *seen, size_t seen_size);

/* The build of the master sparkgate is (or will be) connected to, detecting it if needed.
 * ERR_IO/ERR_TIMEOUT: no master reachable; ERR_UNSUPPORTED: a build sparkgate has no
 * table for (e names what the master reported). */
int cluster_build(struct cluster *c, int64_t deadline, const struct spark_build **b, struct sg_err *e);

/* The build to name in answers (serverSparkVersion) when no master may be reachable. */
const struct spark_build *cluster_known_build(const struct cluster *c);
/* serverSparkVersion for an answer written for build b: the pinned release, or the release
 * b's table was made from (the newest patch of the detected minor); cluster_version: for an
 * answer without a master's. */
const char *cluster_version_of(const struct cluster *c, const struct spark_build *b);
const char *cluster_version(const struct cluster *c);

/* Writes the request for the current master's build and asks it, following the leader,
 * all before deadline (master_deadline: one per HTTP request, shared by every ask it makes).
 * idempotent: the request may be resent after a connection loss (status, readyz).
 * Returns 0 (a reply or a refusal in a), CLUSTER_WRITE_FAILED, or an error code. */
int cluster_ask(struct cluster *c, int64_t deadline, cluster_write_fn write, void *arg, int idempotent,
		struct cluster_answer *a, struct sg_err *e);

void cluster_answer_init(struct cluster_answer *a);
void cluster_answer_release(struct cluster_answer *a);

/* Parses the first line of a master's failure text.  Returns 1 and fills cls/uid for
 * "java.io.InvalidClassException: C; local class incompatible: ... local class
 * serialVersionUID = U", 2 and cls for "java.lang.ClassNotFoundException: C", else 0. */
int cluster_parse_class_failure(const char *text, char *cls, size_t cls_size, int64_t *uid);

#endif
