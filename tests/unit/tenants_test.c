/* The owner store's claim/finish cycle (idempotency keys: done, in flight, stale, unknown,
 * refused) on a real SQLite file, two handles on it as two processes would have, and the
 * policy file's groups, admins and refusals of what it does not understand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/driver.h"
#include "../../core/jws.h"
#include "../../core/policy.h"
#include "../../core/rest.h"
#include "../../core/store.h"
#include "../../core/submit.h"
#include "../../core/versions.h"
#include "t.h"

static void test_store(void)
{
	char path[] = "/tmp/sparkgate-store-test-XXXXXX";
	int fd = mkstemp(path);
	struct sg_err e = { 0 };
	struct store *a, *b;
	enum claim_result r;
	int64_t row, row2;
	char id[128], owner[64];
	struct store_entry list[4];
	size_t n;

	close(fd);
	a = store_open(path, &e);
	b = store_open(path, &e);   /* a second process */
	CHECK(a && b, "open: %s", e.msg);
	if (!a || !b)
		return;

	/* a key claimed by a, in flight: b's retry must not start a second driver */
	CHECK(store_claim(a, "alice", "k1", 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "claim");
	CHECK(store_claim(b, "alice", "k1", 2000, 5000, 1, 512, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_IN_FLIGHT,
	      "in flight: %d", r);
	/* the same key is another user's own */
	CHECK(store_claim(b, "bob", "k1", 2000, 5000, 1, 512, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "bob");
	CHECK(store_finish(a, row, "driver-1", 0, "app", "Main", &e) == 0, "finish: %s", e.msg);
	CHECK(store_claim(b, "alice", "k1", 3000, 5000, 1, 512, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_DONE, "done");
	CHECK_STR(id, "driver-1");

	/* refused by the master: forgotten, the key can be used again */
	CHECK(store_claim(a, "alice", "k2", 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k2");
	CHECK(store_finish(a, row, NULL, 0, NULL, NULL, &e) == 0, "forget");
	CHECK(store_claim(a, "alice", "k2", 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k2 again");
	/* unknown outcome: never new again */
	CHECK(store_finish(a, row, NULL, 1, "app", "Main", &e) == 0, "unknown");
	CHECK(store_claim(b, "alice", "k2", 9000, 5000, 1, 512, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_UNKNOWN, "k2 unknown");
	/* a claim whose process died: stale after stale_ms, then unknown, not new */
	CHECK(store_claim(a, "alice", "k3", 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k3");
	CHECK(store_claim(b, "alice", "k3", 7000, 5000, 1, 512, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_UNKNOWN, "stale");
	/* without a key every create is new */
	CHECK(store_claim(a, "carol", NULL, 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "no key");
	CHECK(store_finish(a, row, "driver-2", 0, "app2", "Main2", &e) == 0, "finish 2");
	CHECK(store_claim(a, "carol", NULL, 1000, 5000, 1, 512, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "no key 2");

	CHECK(store_owner(b, "driver-1", owner, sizeof(owner), &e) == 0, "owner");
	CHECK_STR(owner, "alice");
	CHECK(store_owner(b, "driver-x", owner, sizeof(owner), &e) == 1, "unknown id");
	CHECK(store_list(b, "alice", 4, list, &n, &e) == 0 && n == 2, "alice's list: %zu", n);
	/* the driver, and the k2 create whose outcome is unknown (listed so nobody resubmits blindly) */
	CHECK(n == 2 && ((list[0].unknown && !list[0].id[0] && !list[1].unknown)
			 || (list[1].unknown && !list[1].id[0] && !list[0].unknown)), "unknown create listed");
	CHECK(store_list(b, NULL, 4, list, &n, &e) == 0 && n == 3, "everyone's list: %zu", n);
	CHECK_STR(list[0].owner, "carol");   /* newest first (same time: later row first) */
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
			      "allow property\n", "allow java-option -x\n", "supervise maybe\n" };
	static const char quotas[] = "quota user * drivers 2\nquota user x cores 3 memory 1g\nquota group g drivers 1\n";

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

/* Runs one create (resource, one property, one env var) past a policy; returns the refusal
 * text or "" when it passes. */
static const char *verdict(const char *policy_text, const char *resource, const char *key, const char *value,
			   const char *env)
{
	static char why[400];
	char body[2048];
	struct policy p;
	struct create_request cr;
	struct rest_error err;
	struct driver_desc d;
	struct sg_err e = { 0 };
	struct submit_config cfg = { "spark://m:7077", spark_build_find("3.5.9"), NULL };
	int n = snprintf(body, sizeof(body), "{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"%s\","
			 "\"mainClass\":\"M\",\"clientSparkVersion\":\"3.5.9\",\"appArgs\":[],"
			 "\"environmentVariables\":{\"%s\":\"v\"},\"sparkProperties\":{\"spark.app.name\":\"a\","
			 "\"%s\":\"%s\"}}", resource, env, key, value);

	why[0] = '\0';
	policy_init(&p);
	create_request_init(&cr);
	rest_error_init(&err);
	driver_desc_init(&d);
	if ((policy_text && policy_parse(&p, policy_text, strlen(policy_text), &e)) || rest_parse_create(body, (size_t)n, 0, &cr, &err)
	    || submit_build_driver(&cr, &cfg, &d, &err))
		snprintf(why, sizeof(why), "SETUP FAILED: %.150s %.150s", e.msg, buf_str(&err.message));
	else if (policy_check_create(&p, &cr, &d, why, sizeof(why)) == 0)
		why[0] = '\0';
	driver_desc_release(&d);
	rest_error_release(&err);
	create_request_release(&cr);
	policy_release(&p);
	return why;
}

static void test_policy_rules(void)
{
	/* defaults once a policy exists: no file: jars, no agents */
	CHECK(strstr(verdict("", "file:/x.jar", "sg.a", "1", "A"), "\"file\""), "file: by default");
	CHECK(strstr(verdict("", "/x.jar", "sg.a", "1", "A"), "\"file\""), "bare path is file:");
	CHECK(strstr(verdict("", "local:/x.jar", "sg.a", "1", "A"), "\"local\""), "local: by default");
	CHECK(!*verdict("", "HDFS://nn:8020/x.jar", "sg.a", "1", "A"), "hdfs by default");
	CHECK(strstr(verdict("", "hdfs://nn/x.jar", "spark.driver.extraJavaOptions", "-Da=1 -agentpath:/x.so", "A"),
		     "-agentpath:*"), "agentpath by default");
	CHECK(strstr(verdict("", "hdfs://nn/x.jar", "spark.executor.defaultJavaOptions",
			     "'-XX:OnOutOfMemoryError=kill -9 %p'", "A"), "OnOutOfMemoryError"), "quoted option");
	/* explicit rules */
	CHECK(!*verdict("allow jar-scheme file https\n", "file:/x.jar", "sg.a", "1", "A"), "allowed file:");
	CHECK(*verdict("allow jar-scheme https\n", "hdfs://nn/x.jar", "sg.a", "1", "A"), "scheme list");
	CHECK(!*verdict("allow jar-host *.example.com\n", "https://u@a.example.com:443/x.jar", "sg.a", "1", "A"),
	      "host glob with user and port");
	CHECK(strstr(verdict("allow jar-host *.example.com\n", "https://evil.org/x.jar", "sg.a", "1", "A"),
		     "\"evil.org\""), "host refused");
	CHECK(strstr(verdict("deny property sg.*\n", "hdfs://n/x", "sg.a", "1", "A"), "deny property sg.*"), "deny");
	CHECK(strstr(verdict("allow property spark.*\n", "hdfs://n/x", "sg.a", "1", "A"), "sg.a"), "allow list");
	CHECK(!*verdict("allow property spark.* sg.*\n", "hdfs://n/x", "sg.a", "1", "A"), "allowed key");
	CHECK(strstr(verdict("allow env SPARK_*\n", "hdfs://n/x", "sg.a", "1", "HOME"), "HOME"), "env");
	CHECK(strstr(verdict("max driver-cores 2\n", "hdfs://n/x", "spark.driver.cores", "3", "A"), "3 cores"), "cores");
	CHECK(!*verdict("max driver-cores 2\n", "hdfs://n/x", "spark.driver.cores", "2", "A"), "cores at max");
	CHECK(strstr(verdict("max driver-memory 1g\n", "hdfs://n/x", "spark.driver.memory", "1025m", "A"), "1025 MiB"),
	      "memory");
	CHECK(strstr(verdict("supervise deny\n", "hdfs://n/x", "spark.driver.supervise", "TRUE", "A"), "supervise"),
	      "supervise");
	CHECK(!*verdict("supervise deny\n", "hdfs://n/x", "spark.driver.supervise", "false", "A"), "no supervise");
	/* no policy at all (NULL: none loaded): Spark's own rules only, so a file: jar with an
	 * agent passes; the same create under an empty policy file meets its defaults */
	CHECK(!*verdict(NULL, "file:/x.jar", "spark.driver.extraJavaOptions", "-javaagent:/a.jar", "A"), "no policy");
	CHECK(*verdict("", "file:/x.jar", "spark.driver.extraJavaOptions", "-javaagent:/a.jar", "A"),
	      "an empty policy file has defaults");
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

int main(void)
{
	test_bad_tokens();
	test_policy_rules();
	test_store();
	test_policy();
	return t_done("tenants_test");
}
