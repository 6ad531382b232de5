/* Build detection's pieces that need no master: reading the master's class failures,
 * the probe stream of every build, the build table itself, and the SASL message layout. */
#include <stdio.h>
#include <string.h>

#include "spark/cluster.h"
#include "spark/deploy.h"
#include "wire/javaser.h"
#include "spark/sasl.h"
#include "t.h"

static void test_class_failures(void)
{
	char cls[256];
	int64_t uid = 0;

	CHECK(cluster_parse_class_failure(
		      "java.io.InvalidClassException: org.apache.spark.deploy.Command; local class incompatible: "
		      "stream classdesc serialVersionUID = 1, local class serialVersionUID = -7098307370860582211\n"
		      "\tat java.base/java.io.ObjectStreamClass.initNonProxy(ObjectStreamClass.java:597)",
		      cls, sizeof(cls), &uid) == 1, "InvalidClassException");
	CHECK_STR(cls, "org.apache.spark.deploy.Command");
	CHECK(uid == -7098307370860582211LL, "uid %lld", (long long)uid);
	CHECK(cluster_parse_class_failure("java.lang.ClassNotFoundException: scala.runtime.ModuleSerializationProxy\n\tat x",
					  cls, sizeof(cls), &uid) == 2, "ClassNotFoundException");
	CHECK_STR(cls, "scala.runtime.ModuleSerializationProxy");
	/* Anything else, or a line cut short, is not a class failure. */
	CHECK(cluster_parse_class_failure("org.apache.spark.SparkException: Could not find x.", cls, sizeof(cls), &uid) == 0,
	      "other");
	CHECK(cluster_parse_class_failure("java.io.InvalidClassException: X; local class incompatible", cls, sizeof(cls),
					  &uid) == 0, "no uid");
	CHECK(cluster_parse_class_failure("java.io.InvalidClassException: X; local class serialVersionUID = z", cls,
					  sizeof(cls), &uid) == 0, "bad uid");
	CHECK(cluster_parse_class_failure("java.lang.ClassNotFoundException: ", cls, sizeof(cls), &uid) == 0, "empty");
	CHECK(cluster_parse_class_failure("java.lang.ClassNotFoundException: abcdef", cls, 4, &uid) == 0, "too long");
	CHECK(cluster_parse_class_failure("", cls, sizeof(cls), &uid) == 0, "empty text");
}

/* Every build's probe is an Object[] of its classes, with the table's UIDs; builds differ
 * in at least one UID or class, so detection can tell them apart. */
static void test_probes(void)
{
	for (size_t i = 0; i < spark_nbuilds; i++) {
		const struct spark_build *b = &spark_builds[i];
		struct buf out = BUF_INIT(1u << 20);
		struct jstream s;
		size_t want = 0;

		for (int c = 0; c < SPARK_NCLASSES; c++)
			want += c != CLS_OBJECT_ARRAY && spark_build_has(b, (enum spark_class)c);
		CHECK(deploy_write_probe(&out, b) == 0, "probe %s", b->spark_version);
		CHECK(jstream_parse(&s, out.data, out.len, NULL) == 0, "parse probe");
		const struct jvalue *a = s.ncontents == 1 ? s.contents[0] : NULL;
		CHECK(a && a->kind == JV_ARRAY && a->u.arr.len == want, "probe of %s holds %zu classes", b->spark_version, want);
		for (size_t k = 0; a && k < a->u.arr.len; k++) {
			const struct jvalue *v = a->u.arr.items[k].obj;
			int c = -1;

			for (int j = 0; v && v->kind == JV_CLASS && j < SPARK_NCLASSES; j++)
				if (b->cls[j].name && strcmp(b->cls[j].name, v->u.cls->name) == 0)
					c = j;
			CHECK(c >= 0 && b->cls[c].uid == v->u.cls->uid, "probe class %zu of %s", k, b->spark_version);
		}
		jstream_release(&s);
		buf_release(&out);
		for (size_t j = 0; j < i; j++) {
			int differ = 0;

			for (int c = 0; c < SPARK_NCLASSES; c++)
				differ |= spark_build_has(b, (enum spark_class)c) != spark_build_has(&spark_builds[j], (enum spark_class)c)
					  || (spark_build_has(b, (enum spark_class)c) && b->cls[c].uid != spark_builds[j].cls[c].uid);
			CHECK(differ, "builds %zu and %zu are indistinguishable", i, j);
		}
	}
}

/* What a master of build m answers the probe of build b, as its ObjectInputStream would:
 * the first class of the Object[] it lacks (ClassNotFoundException) or holds with another
 * serialVersionUID (InvalidClassException), else the missing endpoint. */
static void master_answer_to_probe(const struct spark_build *m, const struct spark_build *b, char *text, size_t size)
{
	for (int c = 0; c < SPARK_NCLASSES; c++) {
		int k = -1;

		if (c == CLS_OBJECT_ARRAY || !spark_build_has(b, (enum spark_class)c))
			continue;
		for (int j = 0; j < SPARK_NCLASSES; j++)
			if (m->cls[j].name && strcmp(m->cls[j].name, b->cls[c].name) == 0)
				k = j;
		if (k < 0) {
			snprintf(text, size, "java.lang.ClassNotFoundException: %s\n\tat java.base/...", b->cls[c].name);
			return;
		}
		if (m->cls[k].uid != b->cls[c].uid) {
			snprintf(text, size, "java.io.InvalidClassException: %s; local class incompatible: stream classdesc "
				 "serialVersionUID = %lld, local class serialVersionUID = %lld\n", b->cls[c].name,
				 (long long)b->cls[c].uid, (long long)m->cls[k].uid);
			return;
		}
	}
	snprintf(text, size, "org.apache.spark.SparkException: Could not find " CLUSTER_PROBE_ENDPOINT ".");
}

/* Detection run against a simulated master of every build finds exactly that build, within
 * a few probes; no table before a master's own in the newest-first order passes on it (an
 * older minor's probe may: the newer master has all its classes, and is probed first). */
static void test_detection_of_every_build(void)
{
	CHECK(spark_nbuilds <= CLUSTER_MAX_BUILDS, "%zu tables, detection holds %d", spark_nbuilds, CLUSTER_MAX_BUILDS);
	for (size_t m = 0; m < spark_nbuilds; m++) {
		int candidate[CLUSTER_MAX_BUILDS];
		size_t ncand = 0, probes = 0;
		int found = -1;
		char text[600], seen[400];

		for (size_t i = 0; i < spark_nbuilds; i++)
			candidate[ncand++] = (int)i;
		while (ncand && found < 0 && probes++ < spark_nbuilds) {
			master_answer_to_probe(&spark_builds[m], &spark_builds[candidate[0]], text, sizeof(text));
			if (strstr(text, "Could not find"))
				found = candidate[0];
			else
				ncand = cluster_narrow(candidate, ncand, text, seen, sizeof(seen));
		}
		CHECK(found == (int)m, "a %s_%s master detected as %d after %zu probes", spark_builds[m].spark_version,
		      spark_builds[m].scala_version, found, probes);
		CHECK(probes <= 4, "%zu probes for %s_%s", probes, spark_builds[m].spark_version, spark_builds[m].scala_version);
		for (size_t b = 0; b <= m; b++) {
			master_answer_to_probe(&spark_builds[m], &spark_builds[b], text, sizeof(text));
			CHECK((b == m) == (strstr(text, "Could not find") != NULL), "probe of %s_%s on a %s_%s master: %s",
			      spark_builds[b].spark_version, spark_builds[b].scala_version, spark_builds[m].spark_version,
			      spark_builds[m].scala_version, text);
		}
	}
	/* A master of a minor without a table: its first unknown class leaves no candidate. */
	{
		int candidate[1] = { 0 };
		char seen[400] = "";

		CHECK(cluster_narrow(candidate, 1, "java.lang.ClassNotFoundException: org.apache.spark.ExecutorShutdownFailure",
				     seen, sizeof(seen)) == 0, "no table left");
		CHECK_STR(seen, "it has no class org.apache.spark.ExecutorShutdownFailure");
	}
}

static void test_build_names(void)
{
	static const struct { const char *name, *table, *scala; } names[] = {
		{ "3.3.0", "3.3.4", "2.12" }, { "3.3.4_2.13", "3.3.4", "2.13" }, { "3.4.1", "3.4.4", "2.12" },
		{ "3.4.4_2.13", "3.4.3", "2.13" }, { "3.5.0", "3.5.9", "2.12" }, { "3.5.9_2.13", "3.5.9", "2.13" },
		{ "4.0.0", "4.0.5", "2.13" }, { "4.1.2", "4.1.4", "2.13" }, { "4.2.0", "4.2.1", "2.13" },
		{ "4.3.0", "4.3.0", "2.13" }, { "4.3.12_2.13", "4.3.0", "2.13" },
	};
	static const char *const unknown[] = { "3.2.4", "4.4.0", "4.3.0_2.12", "3.5", "4", "", "_2.12", "3.5.9_", "3.5.9x",
					       "3..9", "3.5.9_2.13x", "3.5.a", "v3.5.9", "3.5.99999" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct spark_build *b = spark_build_find(names[i].name);

		CHECK(b && strcmp(b->spark_version, names[i].table) == 0 && strcmp(b->scala_version, names[i].scala) == 0,
		      "%s -> %s_%s", names[i].name, b ? b->spark_version : "none", b ? b->scala_version : "");
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(spark_build_find(unknown[i]) == NULL, "%s has a table", unknown[i]);
	CHECK(spark_build_is_spark4(spark_build_find("4.0.5")) && !spark_build_is_spark4(spark_build_find("3.5.9")),
	      "Spark 4 is told by its classes");
	/* Newest first: a build whose classes include another's is probed before it. */
	CHECK(spark_build_is_spark4(&spark_builds[0]), "table starts with Spark 4");
}

/* --spark-version: the pinned release is what answers report; the table is its minor's. */
static void test_pinned_release(void)
{
	struct cluster c;
	struct sg_err e = { 0 };

	CHECK(cluster_init(&c, "spark://127.0.0.1:1", "3.4.1_2.13", &e) == 0, "%s", e.msg);
	CHECK(c.pinned == spark_build_find("3.4.3_2.13"), "3.4 table for 2.13");
	CHECK_STR(cluster_version(&c), "3.4.1");
	CHECK_STR(cluster_version_of(&c, c.pinned), "3.4.1");
	CHECK_STR(cluster_version_of(&c, spark_build_find("4.3.0")), "4.3.0");
	cluster_release(&c);
	CHECK(cluster_init(&c, "spark://127.0.0.1:1", NULL, &e) == 0, "%s", e.msg);
	CHECK_STR(cluster_version(&c), "3.5.9");   /* nothing detected yet */
	cluster_release(&c);
	CHECK(cluster_init(&c, "spark://127.0.0.1:1", "3.2.4", &e) == ERR_INVALID && strstr(e.msg, "unknown --spark-version 3.2.4"),
	      "%s", e.msg);
	cluster_release(&c);
}

static void test_sasl_message(void)
{
	struct buf b = BUF_INIT(1024);
	static const uint8_t want[] = { 0xEA, 0, 0, 0, 13, 's', 'p', 'a', 'r', 'k', 'S', 'a', 's', 'l', 'U', 's', 'e', 'r',
					0, 0, 0, 3, 'a', 'b', 'c' };

	CHECK(sasl_message(&b, "abc", 3) == 0 && b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	      "SaslMessage layout");
	buf_release(&b);
}

int main(void)
{
	test_class_failures();
	test_probes();
	test_build_names();
	test_detection_of_every_build();
	test_pinned_release();
	test_sasl_message();
	return t_done("cluster");
}
