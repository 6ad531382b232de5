/* Build detection's pieces that need no master: reading the master's class failures,
 * the probe stream of every build, the build table itself, and the SASL message layout. */
#include <stdio.h>
#include <string.h>

#include "../../core/cluster.h"
#include "../../core/deploy.h"
#include "../../core/javaser.h"
#include "../../core/sasl.h"
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

static void test_build_names(void)
{
	CHECK(spark_build_find("3.5.9") && spark_build_is_scala212(spark_build_find("3.5.9")), "3.5.9 is the 2.12 build");
	CHECK(spark_build_find("3.5.9_2.13") && !spark_build_is_scala212(spark_build_find("3.5.9_2.13")), "3.5.9_2.13");
	CHECK(spark_build_find("4.3.0") && spark_build_is_spark4(spark_build_find("4.3.0")), "4.3.0");
	CHECK(spark_build_find("4.3.0_2.12") == NULL, "no 4.3.0 for 2.12");
	CHECK(spark_build_find("3.5") == NULL && spark_build_find("") == NULL && spark_build_find("_2.12") == NULL,
	      "partial names");
	/* Newest first: a build whose classes include another's is probed before it. */
	CHECK(spark_build_is_spark4(&spark_builds[0]), "table starts with Spark 4");
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
	test_sasl_message();
	return t_done("cluster");
}
