/* CreateSubmissionRequest -> DriverDescription, as the master's build's
 * StandaloneSubmitRequestServlet.buildDriverDescription does it
 * (core/src/main/scala/org/apache/spark/deploy/rest/StandaloneRestServer.scala).
 * tests/golden/ holds that method's real output for the cases in tests/golden/cases/. */
#ifndef SG_SUBMIT_H
#define SG_SUBMIT_H

#include "spark/driver.h"
#include "spark/rest.h"
#include "spark/versions.h"

struct submit_config {
	const char *master_url;   /* spark.master the driver gets: the masters sparkgate talks to */
	const struct spark_build *build;   /* Spark 4 adds its JavaModuleOptions and, for
	                                    * SparkSubmit, "-c spark.app.name=..." */
	/* Spark 4 replaces a property or environment value that is exactly "{{NAME}}" by the
	 * server's environment variable NAME (SPARK-49033); sparkgate's server is this process.
	 * NULL: no replacement; "*": any variable; else a comma-separated list of names. */
	const char *placeholder_names;
	/* environment variables to leave out (sparkgate's policy), or NULL */
	int (*drop_env)(const char *name);
};

/* Fills d (initialised by the caller).  Errors Spark only finds here (missing mainClass,
 * a non-integer spark.driver.cores, bad resource amounts) go to err. */
/* Whether the create is a Python application sparkgate runs through SparkSubmit (its
 * appResource ends with ".py", as SparkSubmit.isPython, and it is not already SparkSubmit's). */
int submit_is_python(const struct create_request *r);
int submit_build_driver(const struct create_request *r, const struct submit_config *cfg,
			struct driver_desc *d, struct rest_error *err);

/* The value a Spark 4 server gives v: getenv(NAME) if v is exactly "{{NAME}}", NAME is
 * allowed by names (see placeholder_names) and set; else v itself. */
const char *submit_placeholder(const char *v, const char *names);


#endif
