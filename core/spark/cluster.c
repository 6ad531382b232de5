#include "spark/cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/frame.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int cluster_init(struct cluster *c, const char *master_url, const char *pin, struct sg_err *e)
{
	memset(c, 0, sizeof(*c));
	c->standby_wait_ms = 250;
	if (pin) {
		c->pinned = spark_build_find(pin);
		if (!c->pinned || strlen(pin) >= sizeof(c->pinned_version))
			return sg_err_set(e, ERR_INVALID, 0, "unknown --spark-version %s: give a release X.Y.Z of a "
					  "supported minor, optionally with _2.12 or _2.13 (see --help)", pin);
		memcpy(c->pinned_version, pin, strcspn(pin, "_"));
	}
	return master_init(&c->master, master_url, e);
}

const char *cluster_version_of(const struct cluster *c, const struct spark_build *b)
{
	return c->pinned && b == c->pinned ? c->pinned_version : b->spark_version;
}

const char *cluster_version(const struct cluster *c)
{
	return cluster_version_of(c, cluster_known_build(c));
}

void cluster_release(struct cluster *c)
{
	master_release(&c->master);
}

void cluster_answer_init(struct cluster_answer *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->failure, LIMIT_FRAME);
	a->reply.state = -1;
}

void cluster_answer_release(struct cluster_answer *a)
{
	buf_release(&a->failure);
	deploy_reply_release(&a->reply);
}

const struct spark_build *cluster_known_build(const struct cluster *c)
{
	if (c->pinned)
		return c->pinned;
	if (c->last)
		return c->last;
	return spark_build_find("3.5.9");
}

int cluster_parse_class_failure(const char *text, char *cls, size_t cls_size, int64_t *uid)
{
	static const char ice[] = "java.io.InvalidClassException: ";
	static const char cnf[] = "java.lang.ClassNotFoundException: ";
	static const char local[] = "local class serialVersionUID = ";
	const char *eol = strchr(text, '\n'), *name, *end, *u;
	size_t n;
	int kind;

	if (!eol)
		eol = text + strlen(text);
	if (strncmp(text, ice, sizeof(ice) - 1) == 0) {
		kind = 1;
		name = text + sizeof(ice) - 1;
		end = memchr(name, ';', (size_t)(eol - name));
	} else if (strncmp(text, cnf, sizeof(cnf) - 1) == 0) {
		kind = 2;
		name = text + sizeof(cnf) - 1;
		end = eol;
		while (end > name && (end[-1] == '\r' || end[-1] == ' '))
			end--;
	} else {
		return 0;
	}
	if (!end || end == name || (n = (size_t)(end - name)) >= cls_size)
		return 0;
	memcpy(cls, name, n);
	cls[n] = '\0';
	if (kind == 1) {
		char *stop;

		u = strstr(end, local);
		if (!u || u > eol)
			return 0;
		*uid = strtoll(u + sizeof(local) - 1, &stop, 10);
		if (stop == u + sizeof(local) - 1)
			return 0;
	}
	return kind;
}

static int class_index(const struct spark_build *b, const char *name)
{
	for (int i = 0; i < SPARK_NCLASSES; i++)
		if (b->cls[i].name && strcmp(b->cls[i].name, name) == 0)
			return i;
	return -1;
}

/* The failure text of an answer: an RpcFailure frame, or an RpcFailure object. */
static const char *failure_text(const struct master_answer *ma, struct deploy_reply *r)
{
	if (ma->failed)
		return buf_str((struct buf *)&ma->body);
	if (deploy_read_reply(ma->body.data, ma->body.len, r, NULL) == 0 && r->kind == REPLY_FAILURE)
		return r->exception;
	return NULL;
}

size_t cluster_narrow(int *candidate, size_t ncand, const char *failure, char *seen, size_t seen_size)
{
	char cls[256];
	int64_t uid = 0;
	int kind = cluster_parse_class_failure(failure, cls, sizeof(cls), &uid);
	size_t keep = 0;

	if (kind == 1)
		snprintf(seen, seen_size, "its %s has serialVersionUID %" PRId64, cls, uid);
	else if (kind == 2)
		snprintf(seen, seen_size, "it has no class %s", cls);
	for (size_t i = 1; kind && i < ncand; i++) {
		const struct spark_build *o = &spark_builds[candidate[i]];
		int k = class_index(o, cls);

		if (kind == 1 ? k >= 0 && o->cls[k].uid == uid : k < 0)
			candidate[keep++] = candidate[i];
	}
	return keep;
}

static int detect(struct cluster *c, int64_t deadline, struct sg_err *e)
{
	int candidate[CLUSTER_MAX_BUILDS];
	size_t ncand = 0;
	char cls[256], seen[400] = "";
	int rc = 0;

	for (size_t i = 0; i < spark_nbuilds && ncand < CLUSTER_MAX_BUILDS; i++)
		candidate[ncand++] = (int)i;
	while (ncand) {
		const struct spark_build *b = &spark_builds[candidate[0]];
		struct buf probe = BUF_INIT(1u << 16);
		struct master_answer ma;
		struct deploy_reply r = { .state = -1 };
		const char *text;
		int64_t uid = 0;

		master_answer_init(&ma);
		rc = deploy_write_probe(&probe, b);
		rc = rc ? sg_err_set(e, rc, 0, "cannot write the build probe")
			: master_ask_endpoint(&c->master, CLUSTER_PROBE_ENDPOINT, probe.data, probe.len, deadline, &ma, e);
		buf_release(&probe);
		text = rc ? NULL : failure_text(&ma, &r);
		if (!rc && text && strstr(text, "Could not find " CLUSTER_PROBE_ENDPOINT)) {
			c->build = c->last = b;
			c->build_generation = c->master.generation;
		} else if (!rc && text && cluster_parse_class_failure(text, cls, sizeof(cls), &uid)) {
			ncand = cluster_narrow(candidate, ncand, text, seen, sizeof(seen));
			b = NULL;
		} else if (!rc && text && (strstr(text, "Expected SaslMessage") || strstr(text, "Unknown challenge message"))) {
			/* SaslRpcHandler; AuthRpcHandler with spark.network.crypto.saslFallback=false */
			rc = sg_err_set(e, ERR_REMOTE, 0, "The Spark master at %s:%d requires authentication "
					"(spark.authenticate=true%s): give sparkgate its secret with --secret-file%s.",
					c->master.addrs[c->master.current].host, c->master.addrs[c->master.current].port,
					strstr(text, "Unknown challenge") ? " and spark.network.crypto.enabled=true" : "",
					strstr(text, "Unknown challenge") ? " and the cluster's spark-defaults.conf with "
					"--spark-conf" : "");
		} else if (!rc) {
			const char *t = text ? text : "(not a failure)";
			const char *nl = strchr(t, '\n');

			rc = sg_err_set(e, ERR_PROTOCOL, 0, "unexpected answer to the build probe: %.*s",
					(int)(nl ? nl - t : (long)strlen(t)), t);
		}
		deploy_reply_release(&r);
		master_answer_release(&ma);
		if (rc || b)
			return rc;
	}
	{
		char known[256] = "";
		size_t n = 0;

		for (size_t i = 0; i < spark_nbuilds && n < sizeof(known); i++)
			n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s/%s", i ? ", " : "",
					      spark_builds[i].minor, spark_builds[i].scala_version);
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "the Spark master at %s:%d runs a build sparkgate has "
				  "no class table for (%s); supported builds: %s",
				  c->master.addrs[c->master.current].host, c->master.addrs[c->master.current].port,
				  seen, known);
	}
}

int cluster_build(struct cluster *c, int64_t deadline, const struct spark_build **b, struct sg_err *e)
{
	int rc = 0;

	if (c->pinned) {
		*b = c->pinned;
		return 0;
	}
	if (!c->build || (c->master.fd < 0 && !c->master.parked) || c->build_generation != c->master.generation)
		rc = detect(c, deadline, e);
	*b = rc ? NULL : c->build;
	return rc;
}

/* Answers a master gives when it is not the leader (Master.scala: "Current state is not
 * alive: STANDBY. Can only ..."; readyz: false while STANDBY). */
static int not_leader(const struct deploy_reply *r)
{
	static const char prefix[] = "Current state is not alive";

	switch (r->kind) {
	case REPLY_SUBMIT:
	case REPLY_KILL:
	case REPLY_KILL_ALL:
		return !r->success && r->message && strstr(r->message, prefix);
	case REPLY_STATUS:
		return !r->success && r->exception && strstr(r->exception, prefix);
	case REPLY_MASTER_STATE:   /* answered in any state; only the ALIVE master's drivers count */
	case REPLY_BOOLEAN:   /* readyz (clear always answers true) */
		return !r->success;
	default:
		return 0;
	}
}

int cluster_ask(struct cluster *c, int64_t deadline, cluster_write_fn write, void *arg, int idempotent,
		struct cluster_answer *a, struct sg_err *e)
{
	size_t tried = 0;
	int redetected = 0;

	for (;;) {
		const struct spark_build *b;
		struct buf stream = BUF_INIT(LIMIT_REQUEST_STREAM);
		struct master_answer ma;
		int rc;

		sg_err_clear(e);
		a->maybe_delivered = 0;   /* a refusal before dispatch that led here did nothing */
		rc = cluster_build(c, deadline, &b, e);
		if (rc)
			return rc;
		a->build = b;
		if (write(arg, b, &stream)) {
			buf_release(&stream);
			return CLUSTER_WRITE_FAILED;
		}
		master_answer_init(&ma);
		rc = master_ask(&c->master, stream.data, stream.len, deadline, &ma, e);
		if (rc && idempotent && rc == ERR_IO) {
			sg_err_clear(e);
			rc = master_ask(&c->master, stream.data, stream.len, deadline, &ma, e);
		}
		buf_release(&stream);
		a->maybe_delivered = ma.maybe_delivered;
		if (rc) {
			master_answer_release(&ma);
			return rc;
		}
		deploy_reply_release(&a->reply);
		buf_reset(&a->failure);
		a->failed = ma.failed;
		if (ma.failed) {
			rc = buf_add(&a->failure, ma.body.data, ma.body.len);
		} else {
			rc = deploy_read_reply(ma.body.data, ma.body.len, &a->reply, e);
			if (!rc && a->reply.kind == REPLY_FAILURE) {
				a->failed = 1;
				rc = buf_addstr(&a->failure, a->reply.exception);
			}
		}
		master_answer_release(&ma);
		if (rc)
			return rc;
		/* A class the master rejected before dispatch: it was upgraded or is another
		 * master than the one detected.  Nothing happened there; detect and resend once. */
		if (a->failed && !c->pinned && !redetected) {
			char cls[256];
			int64_t uid;

			if (cluster_parse_class_failure(buf_str(&a->failure), cls, sizeof(cls), &uid)) {
				c->build = NULL;
				redetected = 1;
				continue;
			}
		}
		if (a->failed || !not_leader(&a->reply) || c->master.naddrs < 2)
			return 0;
		/* Not the leader: nothing was done there, so the next master may be asked. */
		master_next(&c->master);
		if (++tried % c->master.naddrs == 0) {
			if (master_now_ms() + c->standby_wait_ms >= deadline)
				return 0;   /* no leader in time: Spark's own answer from a standby */
			sleep_ms(c->standby_wait_ms);
		}
	}
}
