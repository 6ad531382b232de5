/* The Spark builds sparkgate can talk to: for each, the descriptor of every class it writes
 * (Spark's messages and the Scala collections inside them).  Spark's UIDs are JVM-computed
 * (Scala case classes declare none), so they differ between Spark releases and Scala
 * binaries; the table is generated from the real jars (tools/golden/gen.sh, then
 * tools/golden/uids2c.sh), never typed by hand. */
#ifndef SG_VERSIONS_H
#define SG_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "wire/javaser.h"
#include "spark/rest.h"

enum spark_class {
	/* Spark's messages */
	CLS_REQUEST_SUBMIT_DRIVER,
	CLS_DRIVER_DESCRIPTION,
	CLS_COMMAND,
	CLS_RESOURCE_REQUIREMENT,
	CLS_REQUEST_KILL_DRIVER,
	CLS_REQUEST_DRIVER_STATUS,
	CLS_REQUEST_KILL_ALL_DRIVERS,   /* Spark 4 case objects */
	CLS_REQUEST_CLEAR,
	CLS_REQUEST_READYZ,
	CLS_REQUEST_MASTER_STATE,       /* every build */
	/* Scala 2.12 collections */
	CLS_LIST_PROXY_212,
	CLS_LIST_END_212,
	CLS_HASHMAP_PROXY_212,
	/* Scala 2.13 collections and modules */
	CLS_DEFAULT_PROXY,
	CLS_ITERABLE_TO_FACTORY,
	CLS_MAP_TO_FACTORY,
	CLS_MODULE_PROXY,
	CLS_LIST_MODULE,
	CLS_HASHMAP_MODULE,
	CLS_SERIALIZE_END,
	CLS_TUPLE2,
	/* java.lang.Object[] (build detection's probe) */
	CLS_OBJECT_ARRAY,
	/* Probed only: a class that first appears in that minor (4.0 is told by RequestReadyz$);
	 * the classes are tools/golden/markers.tsv's, in its order */
	CLS_MARK_3_4,
	CLS_MARK_3_5,
	CLS_MARK_4_1,
	CLS_MARK_4_2,
	CLS_MARK_4_3,
	SPARK_NCLASSES
};

/* One table per Spark minor and Scala version, made from that minor's newest patch release
 * (the tables do not change between patch releases of a minor). */
struct spark_build {
	const char *spark_version;              /* the release the table was made from, "3.5.9" */
	const char *minor;                      /* "3.5" */
	const char *scala_version;              /* "2.12" or "2.13" */
	struct rest_rules rest;                 /* how its REST server reads a create (GoldenGen
						   asks the build's own classes) */
	/* The build's org.apache.spark.launcher.JavaModuleOptions (3.3+; NULL-terminated, empty
	 * before 3.3): sparkgate puts them first in every driver's javaOpts, as Spark's
	 * launcher does for every JVM it starts.  Spark's own REST server does so only from
	 * 4.0 (rest_adds_module_options); on 3.3-3.5 a driver on Java 17 without them fails
	 * with IllegalAccessError (sun.nio.ch.DirectBuffer) once it starts a SparkContext. */
	const char *const *java_module_options;
	int rest_adds_module_options;
	struct jclass cls[SPARK_NCLASSES];      /* .name NULL: the build has no such class */
};

extern const struct spark_build spark_builds[];   /* newest first */
extern const size_t spark_nbuilds;

/* "3.4.1" or "3.4.1_2.13": the table of that release's minor (and Scala version, if given;
 * without one the Scala 2.12 build wins where there are both, like Spark's own default
 * distribution), or NULL.  Only a release number X.Y.Z is accepted. */
const struct spark_build *spark_build_find(const char *name);

int spark_build_has(const struct spark_build *b, enum spark_class c);
int spark_build_is_scala212(const struct spark_build *b);
/* Spark 4's REST additions (killall, clear, readyz) and driver launch options. */
int spark_build_is_spark4(const struct spark_build *b);

#endif
