#include "versions.h"

#include <string.h>

const struct spark_build spark_builds[] = {
#include "versions/builds.inc"
};

const size_t spark_nbuilds = sizeof(spark_builds) / sizeof(spark_builds[0]);

const struct spark_build *spark_build_find(const char *spark_version, const char *scala_version)
{
	for (size_t i = 0; i < spark_nbuilds; i++)
		if (strcmp(spark_builds[i].spark_version, spark_version) == 0
		    && (!scala_version || strcmp(spark_builds[i].scala_version, scala_version) == 0))
			return &spark_builds[i];
	return NULL;
}
