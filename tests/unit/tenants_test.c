/* The owner store's claim/finish cycle (idempotency keys: done, in flight, stale, unknown,
 * refused) on a real SQLite file, two handles on it as two processes would have, and the
 * policy file's groups, admins and refusals of what it does not understand. */
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/sqldb.h"
#include "spark/driver.h"
#include "servlets/files.h"
#include "tenant/jws.h"
#include "tenant/policy.h"
#include "spark/rest.h"
#include "tenant/store.h"
#include "spark/submit.h"
#include "spark/versions.h"
#include "t.h"

static void test_store(void)
{
	char path[] = "/tmp/sparkgate-store-test-XXXXXX";
	int fd = mkstemp(path);
	struct sg_err e = { 0 };
	struct store *a, *b;
	struct store_claim c, list_c[4];
	const struct store_claim mine = { .token = "tok-a", .holder = "hostA 10 99", .created_ms = 1000, .lease_ms = 5000 };
	const struct store_claim other = { .token = "tok-b", .holder = "hostB 20 77", .created_ms = 2000, .lease_ms = 6000 };
	int64_t row;
	int taken;
	char owner[64];
	struct store_entry list[4];
	size_t n;

	close(fd);
	a = store_open(path, &e);
	b = store_open(path, &e);   /* a second process */
	CHECK(a && b, "open: %s", e.msg);
	if (!a || !b)
		return;

	/* a key claimed by a, in flight: b's retry must not start a second driver */
	CHECK(store_claim(a, "alice", "k1", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "claim");
	row = c.row;
	CHECK(store_claim(b, "alice", "k1", &other, 1, 512, &c, &e) == 0 && c.state == CLAIM_IN_FLIGHT, "in flight: %d",
	      c.state);
	/* what the retry learns of the claim: its token, holder and lease, to judge it by */
	CHECK_STR(c.token, "tok-a");
	CHECK_STR(c.holder, "hostA 10 99");
	CHECK(c.lease_ms == 5000 && c.key_set && c.row == row, "claim as stored");
	/* the same key is another user's own */
	CHECK(store_claim(b, "bob", "k1", &other, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "bob");
	CHECK(store_finish(a, row, "driver-1", 0, "app", "Main", &e) == 0, "finish: %s", e.msg);
	CHECK(store_claim(b, "alice", "k1", &other, 1, 512, &c, &e) == 0 && c.state == CLAIM_DONE, "done");
	CHECK_STR(c.id, "driver-1");

	/* refused by the master: forgotten, the key can be used again */
	CHECK(store_claim(a, "alice", "k2", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "k2");
	CHECK(store_finish(a, c.row, NULL, 0, NULL, NULL, &e) == 0, "forget");
	CHECK(store_claim(a, "alice", "k2", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "k2 again");
	row = c.row;
	/* unknown outcome: never new again by itself */
	CHECK(store_finish(a, row, NULL, 1, "app", "Main", &e) == 0, "unknown");
	CHECK(store_claim(b, "alice", "k2", &other, 1, 512, &c, &e) == 0 && c.state == CLAIM_UNKNOWN, "k2 unknown");
	/* the master has no such driver: one of two requests takes the key over, by token */
	CHECK(store_take_over(b, &c, &other, &taken, &e) == 0 && taken, "take over");
	CHECK(store_take_over(a, &c, &mine, &taken, &e) == 0 && !taken, "taken once");
	CHECK(store_claim(a, "alice", "k2", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_IN_FLIGHT, "k2 held anew");
	CHECK_STR(c.token, "tok-b");
	/* the master has its driver: recorded (a stale token changes nothing) */
	CHECK(store_resolve(a, &(struct store_claim){ .row = c.row, .token = "tok-a" }, "driver-x", &e) == 0, "stale");
	CHECK(store_claim(a, "alice", "k2", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_IN_FLIGHT, "still held");
	CHECK(store_resolve(a, &c, "driver-3", &e) == 0, "resolve");
	CHECK(store_claim(a, "alice", "k2", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_DONE, "resolved");
	CHECK_STR(c.id, "driver-3");
	/* released: the key is free again */
	CHECK(store_claim(a, "alice", "k3", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "k3");
	CHECK(store_unresolved(b, "alice", 4, list_c, &n, &e) == 0 && n == 1 && list_c[0].row == c.row, "unresolved %zu", n);
	CHECK(store_resolve(b, &list_c[0], NULL, &e) == 0, "release");
	CHECK(store_claim(b, "alice", "k3", &other, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "k3 free");
	CHECK(store_finish(b, c.row, NULL, 0, NULL, NULL, &e) == 0, "forget k3");
	/* without a key every create is new */
	CHECK(store_claim(a, "carol", NULL, &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "no key");
	CHECK(store_finish(a, c.row, "driver-2", 0, "app2", "Main2", &e) == 0, "finish 2");
	CHECK(store_claim(a, "carol", NULL, &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "no key 2");
	CHECK(store_finish(a, c.row, NULL, 1, "app3", "Main3", &e) == 0, "unknown, no key");

	CHECK(store_owner(b, "driver-1", owner, sizeof(owner), &e) == 0, "owner");
	CHECK_STR(owner, "alice");
	CHECK(store_owner(b, "driver-x", owner, sizeof(owner), &e) == 1, "unknown id");
	CHECK(store_list(b, "alice", 4, list, &n, &e) == 0 && n == 2, "alice's list: %zu", n);
	CHECK(store_list(b, "carol", 4, list, &n, &e) == 0 && n == 2, "carol's list: %zu", n);
	/* the driver, and the create whose outcome is unknown (listed so nobody resubmits blindly) */
	CHECK(n == 2 && list[0].unknown && !list[0].id[0] && !list[1].unknown, "unknown create listed");
	CHECK(store_list(b, NULL, 4, list, &n, &e) == 0 && n == 4, "everyone's list: %zu", n);
	CHECK_STR(list[0].owner, "alice");   /* newest first: k2 taken over at 2000 */
	/* pages and filters (store_search), and Livy's batches by row and by driver id */
	{
		struct store_entry one;
		size_t total;
		const struct store_filter everyone = { NULL, NULL, 0, 0 }, app2 = { NULL, "app2", 0, 0 },
					  oldest = { NULL, NULL, 0, 1 }, later = { NULL, NULL, 1500, 0 };

		CHECK(store_search(b, &everyone, 1, 2, list, &n, &total, &e) == 0 && n == 2 && total == 4, "page %zu/%zu", n,
		      total);
		CHECK(store_search(b, &everyone, 3, 2, list, &n, &total, &e) == 0 && n == 1 && total == 4, "last page %zu", n);
		CHECK(store_search(b, &app2, 0, 4, list, &n, &total, &e) == 0 && n == 1 && total == 1, "by name %zu", n);
		CHECK_STR(list[0].id, "driver-2");
		CHECK(store_search(b, &later, 0, 4, list, &n, &total, &e) == 0 && total == 1, "since: %zu", total);
		CHECK(store_search(b, &oldest, 0, 4, list, &n, &total, &e) == 0 && n == 4 && list[0].row < list[3].row,
		      "oldest first");
		CHECK(store_batch(b, list[0].row, NULL, &one, &e) == 0 && one.row == list[0].row, "batch by row");
		CHECK(store_batch(b, 0, "driver-2", &one, &e) == 0 && strcmp(one.owner, "carol") == 0, "batch by id");
		CHECK(store_batch(b, 999999, NULL, &one, &e) == 1, "no such batch");
		CHECK(store_batches(b, "carol", 0, 4, list, &n, &total, &e) == 0 && n == 2 && total == 2, "carol's batches");
	}
	store_close(a);
	store_close(b);
	unlink(path);
	for (const char *suffix = "-wal"; suffix; suffix = strcmp(suffix, "-wal") == 0 ? "-shm" : NULL) {
		char side[64];

		snprintf(side, sizeof(side), "%s%s", path, suffix);
		unlink(side);
	}
}

static void test_policy(void)
{
	static const char text[] = "# comment\n\ngroup ops = carol  # trailing comment\n"
				   "group analysts = alice bob\ngroup ops = dave\nadmins ops\n";
	struct policy p;
	struct sg_err e = { 0 };
	const char *bad[] = { "groop ops = a\n", "group ops a\n", "admins\n", "admins a b\n", "group = a\n",
			      "quota user x\n", "quota team x drivers 1\n", "quota user x drivers\n",
			      "quota user x drivers -1\n", "quota user x memory lots\n", "max driver-cores 0\n",
			      "allow property\n", "deny property x\n", "allow app https://a.example/spark\n",
			      /* an approved application names its main classes, never the platform's */
			      "allow app https://a.example/spark/\n", "allow app https://a.example/s/ *\n",
			      "allow app https://a.example/s/ org.apache.*\n", "allow app https://a.example/s/ org.*\n",
			      "allow app https://a.example/s/ com.*\n", "allow app https://a.example/s/ *.Main\n",
			      "allow app https://a.example/s/ org.apache.ivy.Main\n",
			      "allow app https://a.example/s/ scala.tools.nsc.MainGenericRunner\n",
			      "allow app https://a.example/s/ com.google.common.base.*\n", "allow app https://a.example/s/ io.*\n",
			      "allow app https://a.example/s/ java.lang.Foo\n", "allow app https://a.example/s/ a/b.Main\n",
			      "allow app https://a.example/s/ com.example.[A-Z]*\n", "allow app https://a.example/s/ com..x.*\n",
			      "allow app https://a.example/s/ com.example.Main;x\n", "default property x 1\n",
			      "default spark.cores.max 1\n", "default property spark.cores.max\n", "max app-cores 0\n",
			      "max executor-memory lots\n", "max executor-instances -2\n",
			      "allow url file:/tmp\n", "allow url https://a.example/x/../\n", "allow thing x\n", "allow\n",
			      "supervise maybe\n" };
	static const char quotas[] = "quota user * drivers 2\nquota user x cores 3 memory 1g\nquota group g drivers 1\n";
	static const char apps[] = "allow app https://a.example/s/ com.example.* TestApp org.acme.Tool\n"
				   "allow app https://a.example/s/ com.example2.Job\n";

	policy_init(&p);
	CHECK(policy_parse(&p, text, sizeof(text) - 1, &e) == 0, "%s", e.msg);
	CHECK(policy_is_admin(&p, "carol") && policy_is_admin(&p, "dave"), "admins");
	CHECK(!policy_is_admin(&p, "alice") && !policy_is_admin(&p, NULL), "not admins");
	CHECK(policy_in_group(&p, "bob", "analysts") && !policy_in_group(&p, "bob", "ops"), "groups");
	policy_release(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_init(&p);
		memset(&e, 0, sizeof(e));
		CHECK(policy_parse(&p, bad[i], strlen(bad[i]), &e) != 0 && strstr(e.msg, "line 1"), "accepted: %s", bad[i]);
		policy_release(&p);
	}
	{   /* a word too long must not cut a deny list short */
		char longline[700];

		snprintf(longline, sizeof(longline), "deny property a %0300d b\n", 0);
		memset(&e, 0, sizeof(e));   /* sg_err keeps its first error */
		policy_init(&p);
		CHECK(policy_parse(&p, longline, strlen(longline), &e) != 0 && strstr(e.msg, "longer"), "long word");
		policy_release(&p);
		memset(longline, 'x', 40);
		strcpy(longline + 40, " y\n");
		memset(&e, 0, sizeof(e));
		policy_init(&p);
		CHECK(policy_parse(&p, longline, strlen(longline), &e) != 0 && strstr(e.msg, "unknown"), "long verb");
		policy_release(&p);
	}
	policy_init(&p);
	CHECK(policy_parse(&p, apps, sizeof(apps) - 1, &e) == 0 && p.app_prefix.len == 4 && p.app_main.len == 4
	      && strcmp(p.app_main.items[3], "com.example2.Job") == 0, "main classes of one's own: %s", e.msg);
	policy_release(&p);
	policy_init(&p);
	memset(&e, 0, sizeof(e));
	CHECK(policy_load(&p, "deploy/policy.conf", &e) == 0 && p.app_prefix.len == 2 && p.max_app_cores == 8
	      && strmap_get(&p.defaults, "spark.cores.max"), "the shipped policy: %s", e.msg);
	policy_release(&p);
	policy_init(&p);
	CHECK(!policy_is_admin(&p, "carol"), "no policy: no admins");
	CHECK(policy_parse(&p, quotas, sizeof(quotas) - 1, &e) == 0, "%s", e.msg);
	{
		const struct policy_quota *x = policy_user_quota(&p, "x"), *y = policy_user_quota(&p, "y");

		CHECK(x && x->cores == 3 && x->memory_mb == 1024 && x->drivers == -1, "user x's own quota");
		CHECK(y && y->drivers == 2 && y->cores == -1, "the * quota");
		CHECK(p.nquotas == 3 && p.quotas[2].group && p.quotas[2].drivers == 1, "group quota");
	}
	policy_release(&p);
}

/* Runs one create (resource, main class, one property, one env var) past a policy, as
 * written for build: returns the refusal text, "" when it passes. */
static const char *verdict_for(const char *build, const char *policy_text, const char *resource, const char *main,
			       const char *key, const char *value, const char *env)
{
	static char why[400];
	char body[4096];
	struct policy p;
	struct create_request cr;
	struct rest_error err;
	struct driver_desc d;
	struct sg_err e = { 0 };
	json_t *props = json_pack("{s:s, s:s}", "spark.app.name", "a", key, value);
	char *props_text = json_dumps(props, JSON_COMPACT), *env_text;
	json_t *envs = json_pack("{s:s}", env, "v");
	const struct spark_build *b = spark_build_find(build);

	env_text = json_dumps(envs, JSON_COMPACT);
	snprintf(body, sizeof(body), "{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"%s\","
		 "\"mainClass\":\"%s\",\"clientSparkVersion\":\"3.5.9\",\"appArgs\":[\"x\"],"
		 "\"environmentVariables\":%s,\"sparkProperties\":%s}", resource, main, env_text, props_text);
	free(props_text);
	free(env_text);
	json_decref(props);
	json_decref(envs);
	why[0] = '\0';
	policy_init(&p);
	create_request_init(&cr);
	rest_error_init(&err);
	driver_desc_init(&d);
	if (policy_text && policy_parse(&p, policy_text, strlen(policy_text), &e))
		snprintf(why, sizeof(why), "SETUP FAILED: %.150s", e.msg);
	else {
		struct submit_config cfg = { "spark://m:7077", b, p.rules ? p.placeholders : "*",
					     p.rules ? policy_drops_env : NULL };

		if (rest_parse_create(body, strlen(body), &b->rest, &cr, &err) || policy_apply_defaults(&p, &cr.spark_properties)
		    || submit_build_driver(&cr, &cfg, &d, &err))
			snprintf(why, sizeof(why), "REST: %d %.300s", err.status, buf_str(&err.message));
		else if (policy_check_driver(&p, &d, b, "spark://m:7077", NULL, why, sizeof(why)) == 0)
			why[0] = '\0';
	}
	driver_desc_release(&d);
	rest_error_release(&err);
	create_request_release(&cr);
	policy_release(&p);
	return why;
}

static const char approved[] =
	"allow app https://apps.example.com/spark/ com.example.*\n"
	"allow app https://tools.example.com/jars/ org.acme.Tool\n"
	"allow app https://apps.example.com/spark/ org.acme.Job\n"   /* a second line for one location adds */
	"allow url https://files.example.com/\n"
	"allow python https://py.example.com/scripts/\n"
	"allow property spark.submit.pyFiles spark.pyspark.* spark.python.* spark.archives\n"
	"allow property spark.app.name spark.driver.memory spark.driver.cores spark.jars spark.files\n"
	"allow property spark.driver.extraJavaOptions spark.executor.extraJavaOptions spark.driver.supervise\n"
	"allow property spark.executorEnv.* spark.executor.* spark.sql.* spark.cores.max spark.sparkgate.*\n"
	"allow property spark.extraListeners spark.hadoop.* spark.eventLog.* spark.serializer spark.io.*\n"
	"allow java-option -XX:+UseG1GC -Xmx* -Xms* -XX:Max* -verbose:gc -XX:J* -XX:H* -Xlog* -XX:S*\n"
	"allow env APP_* SPARK_* KRB5* HADOOP_* USER\n"
	"allow placeholder SG_OPTS\n"
	"default property spark.cores.max 2\n"
	"max driver-cores 4\n"
	"max driver-memory 2g\n"
	"max app-cores 8\n"
	"max executor-memory 2g\n"
	"max executor-instances 4\n";

#define APP "https://apps.example.com/spark/app.jar"
#define MAIN "com.example.Main"
#define PY "https://py.example.com/scripts/job.py"

/* The policy, attacked: each family in several spellings, on both builds' drivers. */
static void test_policy_rules(void)
{
	static const struct {
		const char *resource, *main, *key, *value, *env, *refusal;   /* "" = passes */
	} cases[] = {
		{ APP, MAIN, "spark.sql.shuffle.partitions", "4", "APP_X", "" },
		{ "https://tools.example.com/jars/t.jar", "org.acme.Tool", "spark.driver.memory", "1g", "APP_X", "" },
		{ "https://tools.example.com/jars/t.jar", "org.apache.spark.examples.SparkPi", "spark.app.name", "a", "APP_X",
		  "Spark or the JDK ships" },
		{ APP, "org.acme.Job", "spark.app.name", "a", "APP_X", "" },
		{ "https://tools.example.com/jars/t.jar", "org.acme.Job", "spark.app.name", "a", "APP_X", "not allowed for" },
		/* the platform's own entry points (loaders, trampolines, script runners, servers) */
		{ APP, "org.apache.ivy.Main", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "org.apache.hadoop.util.RunJar", "spark.app.name", "a", "APP_X", "never allowed" },
		{ APP, "org.apache.derby.tools.sysinfo", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "com.google.common.base.Foo", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "io.netty.util.Version", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "org.apache.hive.beeline.BeeLine", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "scala.Console", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "sun.tools.jar.Main", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		{ APP, "jdk.jshell.tool.JShellToolProvider", "spark.app.name", "a", "APP_X", "never allowed" },
		{ APP, "com.sun.tools.javac.Main", "spark.app.name", "a", "APP_X", "Spark or the JDK ships" },
		/* names Class.forName would read otherwise than fnmatch does */
		{ APP, "com.example..Main", "spark.app.name", "a", "APP_X", "not a Java class name" },
		{ APP, "com.example.Ma/in", "spark.app.name", "a", "APP_X", "not a Java class name" },
		{ APP, "com.example.Main ", "spark.app.name", "a", "APP_X", "not a Java class name" },
		{ APP, "com.example.Main.", "spark.app.name", "a", "APP_X", "not a Java class name" },
		/* where the application comes from */
		{ "https://evil.example/spark/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "https://apps.example.com/sparkevil/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "https://apps.example.com/spark/../evil/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "https://apps.example.com/spark/%2e%2e/evil.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "https://apps.example.com/spark//evil.example/a.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "https://apps.example.com@evil.example/spark/a.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "HTTPS://apps.example.com/spark/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "file:/tmp/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ "/tmp/app.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		/* main classes that submit, kill or interpret */
		{ APP, "org.apache.spark.deploy.Client", "spark.app.name", "a", "APP_X", "never allowed" },
		{ APP, "org.apache.spark.deploy.SparkSubmit", "spark.app.name", "a", "APP_X", "never allowed" },
		{ APP, "scala.tools.nsc.MainGenericRunner", "spark.app.name", "a", "APP_X", "never allowed" },
		/* a Python application runs as SparkSubmit with a script: judged by "allow python" */
		{ PY, MAIN, "spark.app.name", "a", "APP_X", "" },
		{ PY, MAIN, "spark.app.name", "--conf", "APP_X", "" },   /* a name, whatever it looks like */
		{ PY, MAIN, "spark.submit.pyFiles", "https://py.example.com/scripts/dep.zip," PY, "APP_X", "" },
		/* code only from approved locations: "allow url" approves data */
		{ PY, MAIN, "spark.submit.pyFiles", "https://files.example.com/dep.zip", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.archives", "https://files.example.com/env.zip", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.archives", "https://py.example.com/scripts/env.zip", "APP_X", "" },
		{ APP, MAIN, "spark.files", "https://files.example.com/data.csv", "APP_X", "" },
		{ APP, MAIN, "spark.files", "https://files.example.com/pyspark.py", "APP_X", "Python imports" },
		{ APP, MAIN, "spark.files", "https://files.example.com/socket.cpython-311-x86_64-linux-gnu.so", "APP_X",
		  "Python imports" },
		{ APP, MAIN, "spark.files", "https://files.example.com/x.pth", "APP_X", "Python imports" },
		{ APP, MAIN, "spark.files", "https://files.example.com/libx.so.1", "APP_X", "Python imports" },
		{ PY, MAIN, "spark.submit.pyFiles", "file:/tmp/evil.zip", "APP_X", "code comes only" },
		{ PY, MAIN, "spark.submit.pyFiles", "https://py.example.com/scripts/../evil.py", "APP_X", "code comes only" },
		{ "https://apps.example.com/spark/app.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ "https://py.example.com/scripts/../evil.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ "https://py.example.com/scripts/%2e%2e/e.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ "https://py.example.com/scriptsevil/e.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ "file:/tmp/e.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ PY, MAIN, "spark.pyspark.python", "/bin/sh", "APP_X", "never allowed" },
		{ PY, MAIN, "spark.pyspark.driver.python", "/tmp/evil", "APP_X", "never allowed" },
		{ PY, MAIN, "spark.python.daemon.module", "evil", "APP_X", "never allowed" },
		{ PY, MAIN, "spark.python.worker.module", "evil", "APP_X", "never allowed" },
		{ PY, MAIN, "spark.python.profile.dump", "/tmp/x", "APP_X", "never allowed" },
		{ PY, MAIN, "spark.python.worker.memory", "512m", "APP_X", "" },
		{ PY, MAIN, "spark.app.name", "a", "PYSPARK_PYTHON", "never allowed" },
		{ PY, MAIN, "spark.app.name", "a", "PYSPARK_DRIVER_PYTHON", "never allowed" },
		{ PY, MAIN, "spark.app.name", "a", "PYTHONSTARTUP", "never allowed" },
		{ PY, MAIN, "spark.app.name", "a", "PYTHONPATH", "never allowed" },
		{ PY, MAIN, "spark.executorEnv.PYSPARK_PYTHON", "/bin/sh", "APP_X", "never allowed" },
		/* SparkSubmit asked for by name: its arguments are the user's, in no shape sparkgate writes */
		{ "https://apps.example.com/spark/app.py", "org.apache.spark.deploy.SparkSubmit", "spark.app.name", "a",
		  "APP_X", "never allowed" },
		{ "", "org.apache.spark.deploy.SparkSubmit", "spark.app.name", "a", "APP_X", "cannot judge" },
		{ "https://tools.example.com/jars/t.jar", "scala.tools.nsc.MainGenericRunner", "spark.app.name", "a", "APP_X",
		  "never allowed" },
		{ APP, "com.evil.Main", "spark.app.name", "a", "APP_X", "not allowed for" },
		/* properties: only spark.* and only those listed; code and paths never */
		{ APP, MAIN, "java.library.path", "/tmp", "APP_X", "only spark.*" },
		{ APP, MAIN, "log4j2.configurationFile", "http://evil/x", "APP_X", "only spark.*" },
		{ APP, MAIN, "spark.driver.extraClassPath", "/tmp", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executor.extraClassPath", "/tmp", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraLibraryPath", "/tmp", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.jars.packages", "evil:evil:1", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.jars.ivySettings", "/tmp/i.xml", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.plugins", "com.evil.P", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executor.resource.gpu.discoveryScript", "/tmp/x.sh", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.archive", "https://files.example.com/a.zip", "APP_X", "not allowed by any" },
		{ APP, MAIN, "spark.unknown", "1", "APP_X", "not allowed by any" },
		{ APP, MAIN, "spark.jars", "https://files.example.com/lib.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/lib.jar", "APP_X", "" },
		/* glob and URI-breaking characters: Spark resolves spark.jars through Hadoop's glob
		 * and takes what java.net.URI cannot parse as a local path ("{/}.." climbs out) */
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/{/}../{/}../tmp/x.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/*", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/[.][.]/x.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/a?.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/a^b.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/a b.jar", "APP_X", "code comes only" },
		{ "https://apps.example.com/spark/{/}../x.jar", MAIN, "spark.app.name", "a", "APP_X", "not an approved" },
		{ PY, MAIN, "spark.submit.pyFiles", "https://py.example.com/scripts/{/}../{/}../tmp/pyspark.zip", "APP_X",
		  "code comes only" },
		{ "https://py.example.com/scripts/{/}../x.py", MAIN, "spark.app.name", "a", "APP_X", "not an approved Python" },
		{ APP, MAIN, "spark.files", "https://files.example.com/{/}../x.csv", "APP_X", "allows" },
		/* a name the fetcher normalises into another, and PYTHONPATH / class-path separators */
		{ APP, MAIN, "spark.files", "https://files.example.com/pyspark.py/", "APP_X", "ends in '/'" },
		{ APP, MAIN, "spark.files", "https://files.example.com/pyspark.py/.", "APP_X", "allows" },
		{ PY, MAIN, "spark.submit.pyFiles", "https://py.example.com/scripts/dep.zip:/tmp/evil", "APP_X",
		  "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/a.jar:/tmp/evil.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com:443:1/spark/a.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.sql.execution.pyspark.python", "/tmp/evil", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.streaming.stateStore.providerClass", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.adaptive.customCostEvaluatorClass", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.jars", APP ",file:/tmp/evil.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.jars", "hdfs://nn/evil.jar", "APP_X", "code comes only" },
		{ APP, MAIN, "spark.files", "https://files.example.com/../x", "APP_X", "allows" },
		/* JVM options, as written and in the forms the JVM also accepts */
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:+UseG1GC", "APP_X", "" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-javaagent:/tmp/a.jar", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-agentlib:jdwp=transport=dt_socket,server=y", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xrunjdwp:transport=dt_socket,server=y", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:OnOutOfMemoryError=touch /tmp/x", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:OnOutOfMemoryError:=touch", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "'-XX:OnError=kill -9 %p'", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-cp /tmp", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "--class-path=/tmp", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xbootclasspath/a:/tmp", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:Flags=/tmp/f", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:VMOptionsFile=/tmp/f", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "@/tmp/args", "APP_X", "never" },
		/* the heap is spark.driver.memory, as counted: never an option, whatever the glob */
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xmx64g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xmx1g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xms8g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:MaxHeapSize=8g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:MaxRAMPercentage=90", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:MaxDirectMemorySize=64g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:SoftMaxHeapSize=8g", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-Xmx8g", "APP_X", "never allowed" },
		/* executors: bounded and counted (spark.cores.max from "default property" when absent) */
		{ APP, MAIN, "spark.cores.max", "9", "APP_X", "max app-cores" },
		{ APP, MAIN, "spark.cores.max", "4", "APP_X", "" },
		{ APP, MAIN, "spark.cores.max", "8", "APP_X", "max executor-instances" },   /* 8 one-core executors */
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.cores.max=x", "APP_X", "not a number" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.cores.max=0", "APP_X", "not a number" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.cores.max=100", "APP_X", "max app-cores" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.cores.max", "APP_X", "not a number" },
		{ APP, MAIN, "spark.executor.memory", "3g", "APP_X", "max executor-memory" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.executor.memory=64g", "APP_X", "max executor-memory" },
		{ APP, MAIN, "spark.executor.memory", "2g", "APP_X", "" },
		{ APP, MAIN, "spark.executor.instances", "5", "APP_X", "max executor-instances" },
		{ APP, MAIN, "spark.executor.cores", "abc", "APP_X", "not a number" },
		{ APP, MAIN, "spark.executor.memory", "1048576", "APP_X", "with a unit" },   /* bytes or MiB? */
		/* values Spark substitutes or splits after the judgement */
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-XX:+UseG1GC -\"D\"spark.app.name=${env:APP_OPTS}", "APP_X",
		  "${" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-\"D\"spark.app.name=x", "APP_X", "Spark sets" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-Dspark.app.name=x", "APP_X", "Spark sets" },
		{ APP, MAIN, "spark.app.name", "${spark.executor.extraJavaOptions}", "APP_X", "${" },
		{ APP, MAIN, "spark.jars", "https://apps.example.com/spark/${spark.app.name}", "APP_X", "${" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.app.name=${env:HOME}", "APP_X", "${" },
		{ APP, MAIN, "spark.app.name", "a\nb", "APP_X", "control character" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Djava.library.path=/tmp", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dlog4j2.configurationFile=x", "APP_X", "only spark.*" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.master=spark://evil:7077", "APP_X", "sparkgate's own" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Dspark.plugins=com.evil.P", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:+PrintFlagsFinal", "APP_X", "not allowed by any" },
		/* never, even under an operator's wide glob */
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:JVMCILibPath=/tmp", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:HeapDumpPath=/tmp/x", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-Xlog:gc:file=/tmp/x", "APP_X", "never" },
		{ APP, MAIN, "spark.driver.extraJavaOptions", "-XX:StartFlightRecording=filename=/tmp/x", "APP_X", "never" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-javaagent:/tmp/a.jar", "APP_X", "never" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-Dspark.executor.extraJavaOptions=-javaagent:x", "APP_X",
		  "refused" },
		{ APP, MAIN, "spark.executor.extraJavaOptions", "-verbose:gc", "APP_X", "" },
		/* environment, of the driver and of the executors */
		{ APP, MAIN, "spark.app.name", "a", "JAVA_TOOL_OPTIONS", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "_JAVA_OPTIONS", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "JDK_JAVA_OPTIONS", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "JAVA_HOME", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "LD_PRELOAD", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "LD_LIBRARY_PATH", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "SPARK_DIST_CLASSPATH", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "OTHER", "not allowed by any" },
		{ APP, MAIN, "spark.app.name", "a", "SPARK_CONF_DIR", "" },   /* spark-submit sends it: dropped */
		{ APP, MAIN, "spark.executorEnv.LD_PRELOAD", "/tmp/x.so", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executorEnv.JAVA_TOOL_OPTIONS", "-javaagent:x", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executorEnv.APP_A", "1", "APP_X", "" },
		/* never, even under an operator's wide glob: who the application runs as */
		{ APP, MAIN, "spark.app.name", "a", "SPARK_USER", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "HADOOP_USER_NAME", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "KRB5CCNAME", "never allowed" },
		{ APP, MAIN, "spark.app.name", "a", "USER", "never allowed" },
		{ APP, MAIN, "spark.executorEnv.SPARK_USER", "root", "APP_X", "never allowed" },
		/* properties that name classes or files, under an operator's wide glob */
		{ APP, MAIN, "spark.extraListeners", "org.apache.spark.scheduler.StatsReportListener", "APP_X", "never" },
		{ APP, MAIN, "spark.sql.extensions", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.hive.metastore.jars.path", "file:/tmp/x.jar", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.hive.metastore.jars", "path", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.catalog.x", "org.apache.X", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.queryExecutionListeners", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sql.warehouse.dir", "/tmp/w", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.hadoop.fs.file.impl", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.eventLog.dir", "file:/tmp/x", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.serializer", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.io.compression.codec", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.executor.plugins", "x.Y", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sparkgate.submission", "forged", "APP_X", "never allowed" },
		{ APP, MAIN, "spark.sparkgate.idempotencyKey", "k1", "APP_X", "" },
		/* resources */
		{ APP, MAIN, "spark.driver.cores", "-1", "APP_X", "-1 cores" },
		{ APP, MAIN, "spark.driver.cores", "0", "APP_X", "0 cores" },
		{ APP, MAIN, "spark.driver.cores", "5", "APP_X", "5 cores" },
		{ APP, MAIN, "spark.driver.cores", "4", "APP_X", "" },
		{ APP, MAIN, "spark.driver.memory", "3g", "APP_X", "3072 MiB" },
		{ APP, MAIN, "spark.driver.supervise", "TRUE", "APP_X", "supervise" },
		/* placeholders are replaced first, then judged */
		{ APP, MAIN, "spark.driver.extraJavaOptions", "{{SG_OPTS}}", "APP_X", "-javaagent" },
	};
	static const char *const builds[] = { "3.5.9", "4.3.0" };

	setenv("SG_OPTS", "-javaagent:/tmp/evil.jar", 1);
	for (size_t k = 0; k < sizeof(builds) / sizeof(builds[0]); k++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *got = verdict_for(builds[k], approved, cases[i].resource, cases[i].main, cases[i].key,
						      cases[i].value, cases[i].env);

			/* placeholders exist only on Spark 4: on 3.5 the literal text is no option */
			if (strcmp(cases[i].value, "{{SG_OPTS}}") == 0 && strcmp(builds[k], "3.5.9") == 0)
				CHECK(strstr(got, "{{SG_OPTS}}"), "[%s] literal placeholder: %s", builds[k], got);
			else if (!*cases[i].refusal)
				CHECK(!*got, "[%s] %s %s=%s %s refused: %s", builds[k], cases[i].main, cases[i].key,
				      cases[i].value, cases[i].env, got);
			else
				CHECK(*got && strstr(got, cases[i].refusal) && strncmp(got, "REST", 4) && strncmp(got, "SETUP", 5),
				      "[%s] %s %s=%s %s %s: got \"%s\", want \"%s\"", builds[k], cases[i].resource, cases[i].key,
				      cases[i].value, cases[i].env, cases[i].main, got, cases[i].refusal);
		}
	}
	/* no policy loaded: Spark's rules only, so what the policy refuses passes */
	CHECK(!*verdict_for("3.5.9", NULL, "file:/x.jar", "org.apache.spark.deploy.Client", "spark.driver.extraJavaOptions",
			    "-javaagent:/a.jar", "LD_PRELOAD"), "no policy");
	/* an empty policy file allows nothing */
	CHECK(strstr(verdict_for("3.5.9", "", APP, MAIN, "spark.app.name", "a", "APP_X"), "not an approved") ||
	      strstr(verdict_for("3.5.9", "", APP, MAIN, "spark.app.name", "a", "APP_X"), "allow url"), "empty policy");
}

/* Tokens that must not verify, whatever their signature (valid ones are made and checked
 * by tests/it/test_tenants.py with Python's hmac). */
static void test_bad_tokens(void)
{
	uint8_t key[JWS_MAX_KEY];
	char sub[64], why[200];
	const char *bad[] = {
		"", "abc", "a.b", "a.b.c.d",
		/* {"alg":"none"}.{"sub":"x"}. */
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		/* {"alg":"HS256"}.{"sub":"x"}.<not the signature> */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.!!!",
	};
	int n = jws_decode_key("c3BhcmtnYXRlLXRlc3Qta2V5LW9mLWF0LWxlYXN0LTI1Ni1iaXRz", key, sizeof(key));

	CHECK(n == 39, "key length %d", n);
	CHECK(jws_decode_key("c2hvcnQ", key, sizeof(key)) < 0, "a short key is refused");
	CHECK(jws_decode_key("not base64!", key, sizeof(key)) < 0, "not base64url");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK(jws_verify(bad[i], key, (size_t)n, 0, sub, sizeof(sub), why, sizeof(why)) < 0 && why[0],
		      "accepted: %s", bad[i]);
	}
}

/* Uploads' records: the quota holds for two handles at once (two processes), the same
 * file is recorded once, deletion frees its bytes; and which names may be stored. */
static void test_files(void)
{
	char path[] = "/tmp/sparkgate-files-test-XXXXXX", why[200];
	int fd = mkstemp(path);
	struct sg_err e = { 0 };
	struct store *a, *b;
	struct store_file f = { .owner = "alice", .name = "app.jar", .size = 600, .sha256 = "00", .created_ms = 1 };
	struct store_file got, list[4];
	int64_t total = -1;
	size_t n = 9;

	close(fd);
	a = store_open(path, &e);
	b = store_open(path, &e);
	CHECK(a && b, "open: %s", e.msg);
	if (!a || !b)
		return;
	snprintf(f.id, sizeof(f.id), "id1");
	CHECK(store_file_add(a, &f, 1000, &total, &e) == 0 && total == 600, "first file fits (%lld)", (long long)total);
	CHECK(store_file_add(b, &f, 1000, &total, &e) == 0 && total == 600, "the same file again is recorded once");
	snprintf(f.id, sizeof(f.id), "id2");
	f.created_ms = 2;   /* newer: listed first */
	CHECK(store_file_add(b, &f, 1000, &total, &e) == 1 && total == 600, "a second one over the quota is refused");
	CHECK(store_file_add(b, &f, -1, &total, &e) == 0 && total == 1200, "no quota: recorded");
	snprintf(f.owner, sizeof(f.owner), "bob");
	snprintf(f.id, sizeof(f.id), "id3");
	CHECK(store_file_add(a, &f, 1000, &total, &e) == 0 && total == 600, "bob's quota is his own");
	CHECK(store_file_list(a, "alice", 4, list, &n, &e) == 0 && n == 2 && strcmp(list[0].id, "id2") == 0, "list");
	CHECK(store_file_get(b, "id3", &got, &e) == 0 && strcmp(got.owner, "bob") == 0 && got.size == 600, "get");
	CHECK(store_file_get(b, "nope", &got, &e) == 1, "unknown id");
	CHECK(store_file_delete(a, "id1", &e) == 0 && store_file_total(b, "alice", &total, &e) == 0 && total == 600,
	      "deleting frees its bytes");
	store_close(a);
	store_close(b);
	unlink(path);

	static const char *const good[] = { "app.jar", "my_app-1.0+x.py", "deps.zip", "lib.egg", "A.JAR.jar" };
	static const char *const bad[] = { "", ".jar", "-v.jar", "run.sh", "app.jar.txt", "a/b.jar", "a b.jar",
					   "a\\b.py", "x.JAR", "caf\xc3\xa9.py", "..", "a.jar\n" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(files_check_name(good[i], why, sizeof(why)) == 0, "name %s: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(files_check_name(bad[i], why, sizeof(why)) == -1, "name %s refused", bad[i]);
	char longname[FILES_NAME_MAX + 8];
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + FILES_NAME_MAX - 3, ".py", 4);
	CHECK(files_check_name(longname, why, sizeof(why)) == 0, "%d bytes", FILES_NAME_MAX);
	memcpy(longname + FILES_NAME_MAX - 2, ".py", 4);
	CHECK(files_check_name(longname, why, sizeof(why)) == -1, "%d bytes refused", FILES_NAME_MAX + 1);
	CHECK(files_streams_body("PUT", "/v1/files/x.jar") && !files_streams_body("POST", "/v1/files/x.jar")
	      && !files_streams_body("PUT", "/v1/submissions/create") && !files_streams_body("PUT", "/v1/filesx"),
	      "only uploads stream");
}

/* A shared store's uploads, on SQLite (the statements are the same for PostgreSQL): pieces
 * written under a temporary id become the file's when it is recorded, ranges read across
 * pieces, a piece shorter than asked is an error, deletion takes the pieces with the row,
 * the first host's key wins, and a files table of the previous schema gets in_store. */
static void test_file_chunks(void)
{
	char path[] = "/tmp/sparkgate-chunks-test-XXXXXX", key[100], ids[4][STORE_CHUNKS_ID_SIZE];
	int fd = mkstemp(path);
	struct sg_err e = { 0 };
	struct store *s;
	struct store_file f = { .owner = "alice", .name = "app.jar", .sha256 = "ab", .created_ms = 1 }, got;
	struct buf out = BUF_INIT(LIMIT_FILE_CHUNK);
	uint8_t *bytes = malloc(2 * LIMIT_FILE_CHUNK + 10);
	int64_t total = 0;
	size_t n = 0;

	close(fd);
	/* the previous schema's files table, with a row, as an older version left it */
	{
		struct sqldb *db = sqldb_open(path, &e);

		CHECK(db && sqldb_script(db, "CREATE TABLE files (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT "
					 "NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, created_ms BIGINT NOT NULL);"
					 "INSERT INTO files VALUES ('old', 'alice', 'old.jar', 5, 'cd', 0);", &e) == 0,
		      "old schema: %s", e.msg);
		sqldb_close(db);
	}
	s = store_open(path, &e);
	CHECK(s && bytes, "open: %s", e.msg);
	if (!s || !bytes)
		return;
	CHECK(!store_is_shared(s), "SQLite is no shared store");
	CHECK(store_file_get(s, "old", &got, &e) == 0 && got.in_store == 0 && got.size == 5, "old row: on disk");
	for (size_t i = 0; i < 2 * LIMIT_FILE_CHUNK + 10; i++)
		bytes[i] = (uint8_t)(i * 7 + i / 1000);
	f.size = 2 * LIMIT_FILE_CHUNK + 10;
	snprintf(f.id, sizeof(f.id), "final");
	for (int k = 0; k < 3; k++)
		CHECK(store_chunk_put(s, "tmp-1", k, bytes + (size_t)k * LIMIT_FILE_CHUNK, k < 2 ? LIMIT_FILE_CHUNK : 10, &e)
		      == 0, "put %d: %s", k, e.msg);
	CHECK(store_chunk_uploads(s, 4, ids, &n, &e) == 0 && n == 1 && strcmp(ids[0], "tmp-1") == 0, "uploads in flight");
	CHECK(store_file_add_chunks(s, &f, "tmp-1", 100, &total, &e) == 1, "over the quota: not recorded");
	CHECK(store_chunk_read(s, "final", 0, 0, 1, &out, &e) == 1, "... and the pieces stay where they were");
	CHECK(store_file_add_chunks(s, &f, "tmp-1", -1, &total, &e) == 0 && total == f.size + 5, "recorded: %s", e.msg);
	CHECK(store_chunk_uploads(s, 4, ids, &n, &e) == 0 && n == 0, "no upload in flight");
	CHECK(store_file_get(s, "final", &got, &e) == 0 && got.in_store == 1, "in the store");
	buf_reset(&out);
	CHECK(store_chunk_read(s, "final", 1, 5, 100, &out, &e) == 0 && out.len == 100
	      && memcmp(out.data, bytes + LIMIT_FILE_CHUNK + 5, 100) == 0, "a range inside piece 1");
	buf_reset(&out);
	CHECK(store_chunk_read(s, "final", 0, 0, LIMIT_FILE_CHUNK, &out, &e) == 0
	      && memcmp(out.data, bytes, LIMIT_FILE_CHUNK) == 0, "a whole piece");
	buf_reset(&out);
	CHECK(store_chunk_read(s, "final", 2, 0, 11, &out, &e) == ERR_TRUNCATED, "a piece shorter than asked");
	buf_reset(&out);
	CHECK(store_chunk_read(s, "final", 0, 0, LIMIT_FILE_CHUNK, &out, &e) == 0 && store_chunk_read(s, "final", 1, 0, 1,
	      &out, &e) == ERR_TOO_LARGE, "no more than the buffer's maximum");
	/* the same bytes again: recorded once, the second upload's pieces are not taken */
	CHECK(store_chunk_put(s, "tmp-2", 0, bytes, 10, &e) == 0
	      && store_file_add_chunks(s, &f, "tmp-2", -1, &total, &e) == 0 && total == f.size + 5, "again");
	CHECK(store_chunks_drop(s, "tmp-2", &e) == 0 && store_chunk_uploads(s, 4, ids, &n, &e) == 0 && n == 0, "dropped");
	buf_reset(&out);
	CHECK(store_chunk_read(s, "final", 2, 0, 10, &out, &e) == 0 && memcmp(out.data, bytes + 2 * LIMIT_FILE_CHUNK, 10)
	      == 0, "the first upload's bytes stay");
	/* an earlier version's row (bytes on a disk) gets them when uploaded again */
	snprintf(f.id, sizeof(f.id), "old");
	CHECK(store_chunk_put(s, "tmp-3", 0, bytes, 5, &e) == 0 && store_file_add_chunks(s, &f, "tmp-3", -1, &total, &e)
	      == 0 && store_file_get(s, "old", &got, &e) == 0 && got.in_store == 1, "an old row moves into the store");
	CHECK(store_file_delete(s, "final", &e) == 0 && store_chunk_read(s, "final", 0, 0, 1, &out, &e) == 1
	      && store_file_get(s, "final", &got, &e) == 1, "deleted with its pieces");
	CHECK(store_shared_key(s, "files", "aa", key, sizeof(key), &e) == 0 && strcmp(key, "aa") == 0
	      && store_shared_key(s, "files", "bb", key, sizeof(key), &e) == 0 && strcmp(key, "aa") == 0,
	      "the first key wins");
	buf_release(&out);
	free(bytes);
	store_close(s);
	unlink(path);
}

/* Range headers (RFC 9110 14.1.2): one range, or the whole file. */
static void test_ranges(void)
{
	static const struct {
		const char *range, *if_range;
		int64_t size;
		int want;
		int64_t start, end;
	} cases[] = {
		{ NULL, NULL, 100, 0, 0, 100 },
		{ "bytes=0-9", NULL, 100, 1, 0, 10 },
		{ "bytes=10-", NULL, 100, 1, 10, 100 },
		{ "bytes=-10", NULL, 100, 1, 90, 100 },
		{ "bytes=-1000", NULL, 100, 1, 0, 100 },
		{ "bytes=90-1000", NULL, 100, 1, 90, 100 },
		{ "bytes=99-99", NULL, 100, 1, 99, 100 },
		{ "BYTES=1-2", NULL, 100, 1, 1, 3 },
		{ "bytes=100-", NULL, 100, -1, 0, 100 },
		{ "bytes=100-200", NULL, 100, -1, 0, 100 },
		{ "bytes=-0", NULL, 100, -1, 0, 100 },
		{ "bytes=0-", NULL, 0, -1, 0, 0 },
		{ "bytes=5-2", NULL, 100, 0, 0, 100 },          /* malformed: the whole file */
		{ "bytes=0-1,5-6", NULL, 100, 0, 0, 100 },      /* several: the whole file */
		{ "bytes=a-b", NULL, 100, 0, 0, 100 },
		{ "bytes=-", NULL, 100, 0, 0, 100 },
		{ "bytes= 1-2", NULL, 100, 0, 0, 100 },
		{ "items=1-2", NULL, 100, 0, 0, 100 },
		{ "bytes=1-2", "\"e\"", 100, 1, 1, 3 },        /* If-Range matches */
		{ "bytes=1-2", "\"other\"", 100, 0, 0, 100 },  /* does not: the whole file */
		{ "bytes=99999999999999999999-", NULL, 100, 0, 0, 100 },
		{ "bytes=0-99999999999999999999", NULL, 100, 0, 0, 100 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t start = -1, end = -1;
		int r = files_range(cases[i].range, cases[i].if_range, "\"e\"", cases[i].size, &start, &end);

		CHECK(r == cases[i].want && (r < 0 || (start == cases[i].start && end == cases[i].end)),
		      "range %s: %d [%lld, %lld)", cases[i].range ? cases[i].range : "(none)", r, (long long)start,
		      (long long)end);
	}
}

int main(void)
{
	test_files();
	test_file_chunks();
	test_ranges();
	test_bad_tokens();
	test_policy_rules();
	test_store();
	test_policy();
	return t_done("tenants_test");
}
