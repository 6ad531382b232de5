/* Spark's DeployMessages as Java serialization streams: the requests sparkgate sends
 * (RequestSubmitDriver, RequestKillDriver, RequestDriverStatus) and the replies it reads.
 * Shapes: core/src/main/scala/org/apache/spark/deploy/DeployMessage.scala; the reply to an
 * ask that threw is org.apache.spark.rpc.netty.RpcFailure (NettyRpcCallContext.scala). */
#ifndef SG_DEPLOY_H
#define SG_DEPLOY_H

#include <stddef.h>

#include "base/buf.h"
#include "spark/driver.h"
#include "base/err.h"
#include "spark/versions.h"

/* org.apache.spark.deploy.master.DriverState, in declaration order (= Enumeration ids). */
enum driver_state {
	DRIVER_SUBMITTED, DRIVER_RUNNING, DRIVER_FINISHED, DRIVER_RELAUNCHING,
	DRIVER_UNKNOWN, DRIVER_KILLED, DRIVER_FAILED, DRIVER_ERROR, DRIVER_NSTATES
};
const char *driver_state_name(int state);

/* Each writes one complete stream (AC ED 00 05 + the message) for build b. */
int deploy_write_submit(struct buf *out, const struct spark_build *b, const struct driver_desc *d);
int deploy_write_kill(struct buf *out, const struct spark_build *b, const char *driver_id);
int deploy_write_status(struct buf *out, const struct spark_build *b, const char *driver_id);
/* Spark 4's case-object messages: CLS_REQUEST_KILL_ALL_DRIVERS, _CLEAR, _READYZ. */
int deploy_write_object_message(struct buf *out, const struct spark_build *b, enum spark_class c);
/* RequestMasterState (a case object, every build): the master's whole state, every driver it
 * keeps with its DriverDescription. */
int deploy_write_master_state(struct buf *out, const struct spark_build *b);
/* Build detection's probe: an Object[] holding, as java.lang.Class values, every class the
 * build writes.  Sent to an endpoint that does not exist, it is deserialized by the master
 * (which checks each class and serialVersionUID) and then refused without side effects. */
int deploy_write_probe(struct buf *out, const struct spark_build *b);

enum deploy_reply_kind {
	REPLY_SUBMIT,    /* SubmitDriverResponse */
	REPLY_KILL,      /* KillDriverResponse */
	REPLY_STATUS,    /* DriverStatusResponse */
	REPLY_KILL_ALL,  /* KillAllDriversResponse (Spark 4) */
	REPLY_BOOLEAN,   /* java.lang.Boolean */
	REPLY_FAILURE,   /* org.apache.spark.rpc.netty.RpcFailure: the endpoint threw */
	REPLY_MASTER_STATE, /* MasterStateResponse: success = the master is ALIVE; marks */
};

/* sparkgate's submission token in a driver's JVM options: the last option of the
 * DriverDescription's javaOpts a create carries (written after the policy judged the rest),
 * so a create whose answer was lost can be found among the master's drivers. */
#define DEPLOY_TOKEN_OPTION "-Dspark.sparkgate.submission="
#define DEPLOY_TOKEN_PROPERTY "spark.sparkgate.submission"

/* A driver the master keeps (active or completed) whose javaOpts carry a token. */
struct deploy_mark {
	char *driver_id;
	char *token;
};

/* A decoded reply.  Strings are NULL when absent (None / null); all are owned. */
struct deploy_reply {
	enum deploy_reply_kind kind;
	int success;            /* success / found / the Boolean's value */
	char *driver_id;
	char *message;
	int state;              /* DriverState, or -1 when None */
	char *worker_id;
	char *worker_host_port;
	char *exception;        /* Throwable.toString + "\n" + "\t"-prefixed frames, as Spark's
	                         * RestServlet.formatException prints it; for REPLY_FAILURE the
	                         * failure */
	struct deploy_mark *marks;  /* REPLY_MASTER_STATE: drivers with a token */
	size_t nmarks;
};

/* Decodes the Java stream of an RpcResponse body.  Unknown top-level classes are
 * ERR_PROTOCOL with the class name in e. */
int deploy_read_reply(const void *p, size_t len, struct deploy_reply *r, struct sg_err *e);
void deploy_reply_release(struct deploy_reply *r);
/* REPLY_MASTER_STATE: the id of the driver carrying token, or NULL. */
const char *deploy_reply_find_token(const struct deploy_reply *r, const char *token);

#endif
