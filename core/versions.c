#include "versions.h"

#include <stdio.h>
#include <string.h>

#include "versions/builds.inc"

const size_t spark_nbuilds = sizeof(spark_builds) / sizeof(spark_builds[0]);

const struct spark_build *spark_build_find(const char *name)
{
	const struct spark_build *found = NULL;
	const char *us = strchr(name, '_');
	size_t vlen = us ? (size_t)(us - name) : strlen(name);

	for (size_t i = 0; i < spark_nbuilds; i++) {
		const struct spark_build *b = &spark_builds[i];

		if (strlen(b->spark_version) != vlen || strncmp(b->spark_version, name, vlen) != 0)
			continue;
		if (us && strcmp(b->scala_version, us + 1) != 0)
			continue;
		if (!found || spark_build_is_scala212(b))
			found = b;
	}
	return found;
}

int spark_build_has(const struct spark_build *b, enum spark_class c)
{
	return b->cls[c].name != NULL;
}

int spark_build_is_scala212(const struct spark_build *b)
{
	return strcmp(b->scala_version, "2.12") == 0;
}

int spark_build_is_spark4(const struct spark_build *b)
{
	return spark_build_has(b, CLS_REQUEST_READYZ);
}
