#include "spark/versions.h"

#include <stdio.h>
#include <string.h>

#include "spark/versions/builds.inc"

const size_t spark_nbuilds = sizeof(spark_builds) / sizeof(spark_builds[0]);

/* Length of a release number "X.Y.Z" (digits, two dots) at the start of s, or 0. */
static size_t release_length(const char *s)
{
	size_t i = 0;

	for (int part = 0; part < 3; part++) {
		size_t start = i;

		while (s[i] >= '0' && s[i] <= '9' && i - start < 4)
			i++;
		if (i == start || (part < 2 && s[i++] != '.'))
			return 0;
	}
	return i;
}

const struct spark_build *spark_build_find(const char *name)
{
	const struct spark_build *found = NULL;
	size_t n = release_length(name);
	const char *scala = name[n] == '_' ? name + n + 1 : NULL;

	if (!n || (name[n] && !scala))
		return NULL;
	for (size_t i = 0; i < spark_nbuilds; i++) {
		const struct spark_build *b = &spark_builds[i];
		size_t m = strlen(b->minor);

		if (strncmp(b->minor, name, m) != 0 || name[m] != '.')
			continue;
		if (scala && strcmp(b->scala_version, scala) != 0)
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
