#include "spark/submit.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "spark/javalang.h"
#include "base/limits.h"

#define DRIVER_WRAPPER "org.apache.spark.deploy.worker.DriverWrapper"
#define DEFAULT_MEMORY_MB 1024   /* ClientArguments.DEFAULT_MEMORY */
#define DEFAULT_CORES 1          /* ClientArguments.DEFAULT_CORES */

/* ResourceUtils.parseResourceRequirements(conf, "spark.driver"): one requirement per
 * spark.driver.resource.NAME.amount > 0; drivers take whole amounts only. */
static int parse_resources(const struct strmap *props, struct driver_desc *d, struct rest_error *err)
{
	static const char prefix[] = "spark.driver.resource.";

	for (size_t i = 0; i < props->len; i++) {
		const char *k = props->keys[i], *rest, *dot;
		char name[256], amount_key[320];
		const char *amount;
		double v;
		char *end;
		int seen = 0;

		if (strncmp(k, prefix, sizeof(prefix) - 1) != 0)
			continue;
		rest = k + sizeof(prefix) - 1;
		dot = strchr(rest, '.');
		if (!dot || (size_t)(dot - rest) >= sizeof(name))
			return rest_fail(err, 400, "Malformed request: org.apache.spark.SparkException: "
					 "bad resource setting %s\n", k);
		memcpy(name, rest, (size_t)(dot - rest));
		name[dot - rest] = '\0';
		for (size_t j = 0; j < d->nresources; j++)
			seen |= strcmp(d->resources[j].name, name) == 0;
		if (seen)
			continue;
		snprintf(amount_key, sizeof(amount_key), "%s%s.amount", prefix, name);
		amount = strmap_get(props, amount_key);
		if (!amount)
			return rest_fail(err, 400, "Malformed request: org.apache.spark.SparkException: "
					 "You must specify an amount for %s\n", name);
		errno = 0;
		v = strtod(amount, &end);
		if (errno || end == amount || *end)
			return rest_fail(err, 400, "Malformed request: java.lang.NumberFormatException: "
					 "For input string: \"%s\"\n", amount);
		if (v <= 0)
			continue;
		if (v != (double)(int32_t)v)
			return rest_fail(err, 400, "Malformed request: org.apache.spark.SparkException: Only tasks "
					 "support fractional resources, please check your spark.driver settings\n");
		if (driver_desc_add_resource(d, name, (int32_t)v, 1))
			return rest_fail(err, 500, "out of memory");
	}
	return 0;
}

static int name_allowed(const char *name, size_t len, const char *names)
{
	if (strcmp(names, "*") == 0)
		return 1;
	for (const char *p = names; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && memcmp(p, name, len) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

const char *submit_placeholder(const char *v, const char *names)
{
	/* StandaloneRestServer.replacePlaceHolder: case s"{{$name}}" if System.getenv(name) != null */
	char name[256];
	size_t len = strlen(v);
	const char *value;

	if (!names || len < 4 || len - 4 >= sizeof(name) || strncmp(v, "{{", 2) != 0
	    || strcmp(v + len - 2, "}}") != 0)
		return v;
	memcpy(name, v + 2, len - 4);
	name[len - 4] = '\0';
	if (!name_allowed(name, len - 4, names) || !(value = getenv(name)))
		return v;
	return value;
}

static int replace_placeholders(const struct strmap *in, const char *names, struct strmap *out)
{
	int rc = 0;

	for (size_t i = 0; i < in->len && !rc; i++)
		rc = strmap_set(out, in->keys[i], submit_placeholder(in->values[i], names));
	return rc;
}

static int build_driver(const struct create_request *r, const struct submit_config *cfg,
			struct driver_desc *d, struct rest_error *err);

int submit_build_driver(const struct create_request *r, const struct submit_config *cfg,
			struct driver_desc *d, struct rest_error *err)
{
	struct create_request replaced;
	int rc;

	if (!cfg->placeholder_names || !spark_build_is_spark4(cfg->build))
		return build_driver(r, cfg, d, err);
	/* Spark 4 replaces before any property is looked up (but after validation). */
	replaced = *r;
	strmap_init(&replaced.spark_properties);
	strmap_init(&replaced.environment);
	if (replace_placeholders(&r->spark_properties, cfg->placeholder_names, &replaced.spark_properties)
	    || replace_placeholders(&r->environment, cfg->placeholder_names, &replaced.environment))
		rc = rest_fail(err, 500, "out of memory");
	else
		rc = build_driver(&replaced, cfg, d, err);
	strmap_release(&replaced.spark_properties);
	strmap_release(&replaced.environment);
	return rc;
}

#define SPARK_SUBMIT "org.apache.spark.deploy.SparkSubmit"

int submit_is_python(const struct create_request *r)
{
	size_t n = r->app_resource ? strlen(r->app_resource) : 0;

	/* SparkSubmit.isPython: the resource ends with ".py" */
	return n >= 3 && strcmp(r->app_resource + n - 3, ".py") == 0
	       && !(r->main_class && strcmp(r->main_class, SPARK_SUBMIT) == 0);
}

/* A Python application, which spark-submit refuses to run in cluster mode on standalone,
 * runs as Spark's REST docs show: SparkSubmit as the driver's main class, running the .py in
 * client mode on the worker (SparkSubmit fetches an http(s) resource itself; the worker
 * fetches nothing: jarUrl is empty, so {{USER_JAR}} is the driver's own directory), with
 * spark.submit.pyFiles as --py-files, spark.app.name as --name and the masters the driver
 * must use as --master. */
static int python_arguments(const struct create_request *r, const struct submit_config *cfg, struct strlist *args)
{
	const char *py_files = strmap_get(&r->spark_properties, "spark.submit.pyFiles");
	const char *name = strmap_get(&r->spark_properties, "spark.app.name");
	int rc = strlist_add(args, "--master");

	rc = rc ? rc : strlist_add(args, cfg->master_url);
	rc = rc ? rc : strlist_add(args, "--deploy-mode");
	rc = rc ? rc : strlist_add(args, "client");
	if (name) {   /* else SparkSubmit names the application after the script */
		rc = rc ? rc : strlist_add(args, "--name");
		rc = rc ? rc : strlist_add(args, name);
	}
	if (py_files && *py_files) {
		rc = rc ? rc : strlist_add(args, "--py-files");
		rc = rc ? rc : strlist_add(args, py_files);
	}
	return rc ? rc : strlist_add(args, r->app_resource);
}

static int build_driver(const struct create_request *r, const struct submit_config *cfg,
			struct driver_desc *d, struct rest_error *err)
{
	const struct strmap *props = &r->spark_properties;
	const char *v;
	struct buf opt = BUF_INIT(LIMIT_REQUEST_STREAM);
	int rc = 0, spark4 = spark_build_is_spark4(cfg->build), python = submit_is_python(r);
	const char *main_class = python ? SPARK_SUBMIT : r->main_class;

	if (!r->app_resource)
		return rest_fail(err, 400, "Malformed request: org.apache.spark.deploy.rest."
				 "SubmitRestMissingFieldException: Application jar is missing.\n");
	if (!main_class)
		return rest_fail(err, 400, "Malformed request: org.apache.spark.deploy.rest."
				 "SubmitRestMissingFieldException: Main class is missing.\n");
	d->jar_url = strdup(python ? "" : r->app_resource);
	d->main_class = strdup(DRIVER_WRAPPER);
	if (!d->jar_url || !d->main_class)
		return rest_fail(err, 500, "out of memory");

	d->mem_mb = DEFAULT_MEMORY_MB;
	if ((v = strmap_get(props, "spark.driver.memory")) && java_memory_mb(v, &d->mem_mb))
		return rest_fail(err, 400, "Malformed request: java.lang.NumberFormatException: "
				 "Failed to parse byte string: %s\n", v);
	d->cores = DEFAULT_CORES;
	if ((v = strmap_get(props, "spark.driver.cores")) && java_parse_int(v, &d->cores))
		return rest_fail(err, 400, "Malformed request: java.lang.NumberFormatException: "
				 "For input string: \"%s\"\n", v);
	d->supervise = (v = strmap_get(props, "spark.driver.supervise")) && strcasecmp(v, "true") == 0;

	/* DriverWrapper <workerUrl> <userJar> <mainClass> appArgs...; the worker fills in
	 * the placeholders. */
	rc = rc ? rc : strlist_add(&d->arguments, "{{WORKER_URL}}");
	rc = rc ? rc : strlist_add(&d->arguments, "{{USER_JAR}}");
	rc = rc ? rc : strlist_add(&d->arguments, main_class);
	/* Spark 4 (SPARK-50195): SparkSubmit as the main class gets the app name as "-c". */
	if (spark4 && strcmp(main_class, SPARK_SUBMIT) == 0 && (v = strmap_get(props, "spark.app.name"))) {
		rc = rc ? rc : strlist_add(&d->arguments, "-c");
		rc = rc ? rc : buf_printf(&opt, "spark.app.name=%s", v);
		rc = rc ? rc : strlist_add(&d->arguments, buf_str(&opt));
	}
	if (python)
		rc = rc ? rc : python_arguments(r, cfg, &d->arguments);
	for (size_t i = 0; i < r->app_args.len; i++)
		rc = rc ? rc : strlist_add(&d->arguments, r->app_args.items[i]);

	/* SPARK-20025: the submitting machine's bind address must not leak to the worker. */
	for (size_t i = 0; i < r->environment.len; i++) {
		const char *k = r->environment.keys[i];

		if (strcmp(k, "SPARK_LOCAL_IP") == 0 || strcmp(k, "SPARK_LOCAL_HOSTNAME") == 0
		    || (cfg->drop_env && cfg->drop_env(k)))
			continue;
		rc = rc ? rc : strmap_set(&d->environment, k, r->environment.values[i]);
	}

	if ((v = strmap_get(props, "spark.driver.extraClassPath")))
		rc = rc ? rc : java_split_path(v, &d->class_path);
	if ((v = strmap_get(props, "spark.driver.extraLibraryPath")))
		rc = rc ? rc : java_split_path(v, &d->library_path);

	/* javaOpts = JavaModuleOptions ++ sparkJavaOpts(conf) ++ defaultJavaOptions
	 * ++ extraJavaOptions, where conf is every property with spark.master set to the masters
	 * the driver must use.  The module options are Spark 4's (StandaloneRestServer); on
	 * 3.3-3.5 sparkgate adds them too, where Spark's server does not (versions.h). */
	for (const char *const *o = cfg->build->java_module_options; *o; o++)
		rc = rc ? rc : strlist_add(&d->java_opts, *o);
	for (size_t i = 0; i < props->len && !rc; i++) {
		if (strcmp(props->keys[i], "spark.master") == 0)
			continue;
		buf_reset(&opt);
		rc = rc ? rc : buf_printf(&opt, "-D%s=%s", props->keys[i], props->values[i]);
		rc = rc ? rc : strlist_add(&d->java_opts, buf_str(&opt));
	}
	buf_reset(&opt);
	rc = rc ? rc : buf_printf(&opt, "-Dspark.master=%s", cfg->master_url);
	rc = rc ? rc : strlist_add(&d->java_opts, buf_str(&opt));
	buf_release(&opt);
	if ((v = strmap_get(props, "spark.driver.defaultJavaOptions")))
		rc = rc ? rc : java_split_command(v, &d->java_opts);
	if ((v = strmap_get(props, "spark.driver.extraJavaOptions")))
		rc = rc ? rc : java_split_command(v, &d->java_opts);
	if (rc == ERR_TOO_LARGE)
		return rest_fail(err, 413, "The submission is too large to send to the master.");
	if (rc)
		return rest_fail(err, 500, "out of memory");
	return parse_resources(props, d, err);
}
