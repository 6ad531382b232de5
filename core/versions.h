/* The Spark builds sparkgate can talk to, with the serialVersionUIDs of the Spark classes
 * it writes.  Those UIDs are JVM-computed (Scala case classes declare none), so they differ
 * between Spark releases and Scala binaries; the table is generated from the real jars
 * (tools/golden/gen.sh, then tools/golden/uids2c.sh), never typed by hand. */
#ifndef SG_VERSIONS_H
#define SG_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

enum spark_class {
	SPARK_CLS_REQUEST_SUBMIT_DRIVER,
	SPARK_CLS_DRIVER_DESCRIPTION,
	SPARK_CLS_COMMAND,
	SPARK_CLS_RESOURCE_REQUIREMENT,
	SPARK_CLS_REQUEST_KILL_DRIVER,
	SPARK_CLS_REQUEST_DRIVER_STATUS,
	SPARK_NCLASSES
};

struct spark_build {
	const char *spark_version;  /* e.g. "3.5.9" */
	const char *scala_version;  /* "2.12" or "2.13" */
	int64_t uid[SPARK_NCLASSES];
};

extern const struct spark_build spark_builds[];
extern const size_t spark_nbuilds;

/* The build with this Spark version (and Scala version, if not NULL), or NULL. */
const struct spark_build *spark_build_find(const char *spark_version, const char *scala_version);

#endif
