#include "tenant/policy.h"

#include "spark/rest.h"
#include "spark/javalang.h"
#include "spark/submit.h"
#include "spark/versions.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_driver_cores = p->max_driver_memory_mb = -1;
	p->max_executor_cores = p->max_executor_memory_mb = p->max_executor_instances = p->max_app_cores = -1;
}

/* Every package a supported Spark build puts on a driver's class path, and the JDK's. */
static const char *const platform_packages[] = {
#include "spark/versions/platform_packages.inc"
};

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the first n bytes of name are a package of the platform. */
static int platform_package(const char *name, size_t n)
{
	char pkg[512];
	const char *key = pkg;

	if (n >= sizeof(pkg))
		return 1;   /* longer than any package: refused rather than judged */
	memcpy(pkg, name, n);
	pkg[n] = '\0';
	return bsearch(&key, platform_packages, sizeof(platform_packages) / sizeof(platform_packages[0]),
		       sizeof(platform_packages[0]), compare_str) != NULL;
}

/* Whether a platform package lies under prefix (which ends in '.'), or is prefix itself
 * or one of its ancestors: what a main-class glob beginning with prefix could name. */
static int platform_under(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < n; i++)
		if (prefix[i] == '.' && platform_package(prefix, i))
			return 1;
	for (size_t i = 0; i < sizeof(platform_packages) / sizeof(platform_packages[0]); i++)
		if (strncmp(platform_packages[i], prefix, n) == 0)
			return 1;
	return 0;
}

/* A Java binary class name as Class.forName reads it: ASCII identifiers joined by '.'
 * (nested classes with '$'); anything else is refused, not interpreted. */
static int java_class_name_ok(const char *s)
{
	int start = 1;

	if (!*s || strlen(s) > 255)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return 0;
			start = 1;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '$'
			   || (!start && *s >= '0' && *s <= '9')) {
			start = 0;
		} else {
			return 0;
		}
	}
	return !start;
}

/* Whether main (a valid class name) is in the platform's packages or below one. */
static int platform_main_class(const char *main)
{
	const char *dot = strrchr(main, '.');

	if (!dot)
		return platform_package("", 0);
	for (const char *c = main; c <= dot; c++)
		if (*c == '.' && platform_package(main, (size_t)(c - main)))
			return 1;
	return 0;
}

/* An operator's main-class word of "allow app": an exact class name, or a glob whose
 * literal start names a package of the operator's own (so "*" or "org.apache.*" can
 * never approve what the platform ships).  NULL or why it is refused. */
static const char *main_rule_problem(const char *rule)
{
	size_t lit = strcspn(rule, "*?["), pkg_len;
	char prefix[258];
	const char *dot;

	if (!rule[lit]) {
		if (!java_class_name_ok(rule))
			return "is not a Java class name";
		return platform_main_class(rule) ? "is in a package Spark or the JDK ships" : NULL;
	}
	if (rule[lit] == '[' || strspn(rule, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.*?")
	    != strlen(rule))
		return "may hold only class-name characters, '*' and '?'";
	if (lit >= sizeof(prefix) || !(dot = memrchr(rule, '.', lit)))
		return "must begin with a package of your own (e.g. com.example.*)";
	pkg_len = (size_t)(dot - rule);
	memcpy(prefix, rule, pkg_len);
	prefix[pkg_len] = '\0';
	if (!java_class_name_ok(prefix))
		return "must begin with a package of your own (e.g. com.example.*)";
	memcpy(prefix + pkg_len, ".", 2);
	return platform_under(prefix) ? "covers a package Spark or the JDK ships" : NULL;
}

/* The first glob of l that s matches, or NULL. */
static const char *list_match(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->len; i++)
		if (fnmatch(l->items[i], s, 0) == 0)
			return l->items[i];
	return NULL;
}

void policy_release(struct policy *p)
{
	for (size_t i = 0; i < p->ngroups; i++) {
		strlist_release(&p->groups[i].members);
		free(p->groups[i].name);
	}
	free(p->groups);
	free(p->admin_group);
	strlist_release(&p->app_prefix);
	strlist_release(&p->app_main);
	strlist_release(&p->allow_url);
	strlist_release(&p->allow_python);
	strlist_release(&p->allow_property);
	strlist_release(&p->allow_java_option);
	strlist_release(&p->allow_env);
	free(p->placeholders);
	strmap_release(&p->defaults);
	for (size_t i = 0; i < p->nquotas; i++)
		free(p->quotas[i].name);
	free(p->quotas);
	policy_init(p);
}

/* The next whitespace-separated word of *s (advanced past it) into out; 0 at the end. */
static size_t word(const char **s, const char *end, char *out, size_t size)
{
	const char *p = *s, *w;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	n = (size_t)(p - w);
	*s = p;
	if (n >= size)
		return 0;
	memcpy(out, w, n);
	out[n] = '\0';
	return n;
}

static struct policy_group *group_get(struct policy *p, const char *name)
{
	struct policy_group *g;

	for (size_t i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	g = realloc(p->groups, (p->ngroups + 1) * sizeof(*g));
	if (!g)
		return NULL;
	p->groups = g;
	g = &p->groups[p->ngroups];
	memset(g, 0, sizeof(*g));
	if (!(g->name = strdup(name)))
		return NULL;
	p->ngroups++;
	return g;
}

/* A URL without anything that could step out of a prefix once a fetcher, a server or
 * Spark normalises it: only letters, digits and "-._~/:=+" (an allow-list: no glob
 * character -- DriverWrapper resolves spark.jars through Hadoop's glob, and an entry
 * java.net.URI cannot parse becomes a local path, so "{/}.." climbs out of any prefix --
 * no query, fragment, percent-escape, backslash, userinfo or whitespace), and no "..",
 * "/./" or "//" after the authority. */
static int url_clean(const char *url)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:=+";
	const char *authority = strstr(url, "://"), *path = strchr(url, ':'), *slash;
	size_t n = strlen(url);

	if (url[strspn(url, allowed)] || strstr(url, "/..") || strstr(url, "/./") || (n >= 2 && !strcmp(url + n - 2, "/."))
	    || strstr(authority ? authority + 3 : url, "//"))
		return 0;
	/* ':' only after the scheme and before a port: in a path it separates PYTHONPATH and
	 * class-path entries once Spark joins them */
	if (path && authority == path) {
		const char *host = authority + 3;
		size_t host_len;

		slash = strchr(host, '/');
		path = slash ? slash : host + strlen(host);
		host_len = (size_t)(path - host);
		if (memchr(host, ':', host_len) != memrchr(host, ':', host_len))
			return 0;   /* more than one ':' in the authority */
	} else if (path) {
		path++;
	}
	return !path || !strchr(path, ':');
}

/* An artifact prefix: a clean URL with a scheme and a path that ends in '/' (so that
 * ".../spark" cannot also approve ".../spark-evil/"). */
static int url_prefix_ok(const char *u)
{
	size_t n = strlen(u);
	const char *colon = strchr(u, ':');

	return colon && colon > u && n > (size_t)(colon - u) + 1 && u[n - 1] == '/' && url_clean(u);
}

static int add_placeholder(struct policy *p, const char *name)
{
	size_t old = p->placeholders ? strlen(p->placeholders) : 0;
	char *n = realloc(p->placeholders, old + strlen(name) + 2);

	if (!n)
		return ERR_NOMEM;
	p->placeholders = n;
	snprintf(n + old, strlen(name) + 2, "%s%s", old ? "," : "", name);
	return 0;
}

int policy_parse(struct policy *p, const char *text, size_t len, struct sg_err *e)
{
	const char *end = text + len;
	int lineno = 0;

	p->rules = 1;

	for (const char *line = text; line < end; ) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *cur = line, *stop;
		char verb[256], name[256] = "", tok[256];

		eol = eol ? eol : end;
		stop = memchr(line, '#', (size_t)(eol - line));
		stop = stop ? stop : eol;
		lineno++;
		line = eol + 1;
		/* word() stops at a word too long for its buffer; refuse those up front, so no
		 * rule is ever cut short (a deny list must not lose its tail) */
		for (const char *w = cur; w < stop; w++) {
			const char *start = w;

			while (w < stop && *w != ' ' && *w != '\t')
				w++;
			if ((size_t)(w - start) >= sizeof(tok))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: a word longer than %zu bytes",
						  lineno, sizeof(tok) - 1);
		}
		if (!word(&cur, stop, verb, sizeof(verb)))
			continue;   /* blank or comment */
		if (strcmp(verb, "group") == 0) {
			struct policy_group *g;

			if (!word(&cur, stop, name, sizeof(name)) || !word(&cur, stop, tok, sizeof(tok)) || strcmp(tok, "="))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"group NAME = USER...\"", lineno);
			if (!(g = group_get(p, name)))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
			while (word(&cur, stop, tok, sizeof(tok)))
				if (strlist_add(&g->members, tok))
					return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		} else if (strcmp(verb, "admins") == 0) {
			if (!word(&cur, stop, name, sizeof(name)) || word(&cur, stop, tok, sizeof(tok)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"admins GROUP\"", lineno);
			free(p->admin_group);
			if (!(p->admin_group = strdup(name)))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		} else if (strcmp(verb, "allow") == 0 && word(&cur, stop, name, sizeof(name)) && strcmp(name, "app") == 0) {
			char main_rule[256];
			const char *problem;
			int mains = 0;

			if (!word(&cur, stop, tok, sizeof(tok)) || !url_prefix_ok(tok))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"allow app URL/ MAIN-CLASS...\" "
						  "with a URL that ends in '/'", lineno);
			/* one (prefix, main class) pair per main class the line names */
			while (word(&cur, stop, main_rule, sizeof(main_rule))) {
				if ((problem = main_rule_problem(main_rule)))
					return sg_err_set(e, ERR_INVALID, 0, "policy line %d: main class \"%s\" %s", lineno,
							  main_rule, problem);
				if (strlist_add(&p->app_prefix, tok) || strlist_add(&p->app_main, main_rule))
					return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
				mains++;
			}
			if (!mains)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: \"allow app %s\" names no main class: an "
						  "approved application names the classes it runs (\"allow app URL/ "
						  "com.example.Main\" or a glob under your own package)", lineno, tok);
		} else if (strcmp(verb, "allow") == 0) {
			static const struct { const char *what; size_t off; } lists[] = {
				{ "url", offsetof(struct policy, allow_url) },
				{ "python", offsetof(struct policy, allow_python) },
				{ "property", offsetof(struct policy, allow_property) },
				{ "java-option", offsetof(struct policy, allow_java_option) },
				{ "env", offsetof(struct policy, allow_env) },
				{ "placeholder", 0 },
			};
			struct strlist *l = NULL;
			int any = 0, known = 0, placeholder = strcmp(name, "placeholder") == 0;

			if (!name[0])
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: allow what?", lineno);

			for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
				if (strcmp(lists[i].what, name) == 0) {
					known = 1;
					if (lists[i].off)
						l = (struct strlist *)(void *)((char *)p + lists[i].off);
				}
			if (!known)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: unknown \"allow %s\" (app, url, python, "
						  "property, java-option, env, placeholder)", lineno, name);
			while (word(&cur, stop, tok, sizeof(tok))) {
				if ((l == &p->allow_url || l == &p->allow_python) && !url_prefix_ok(tok))
					return sg_err_set(e, ERR_INVALID, 0, "policy line %d: \"allow %s %s\": a URL prefix must "
							  "end in '/'", lineno, name, tok);
				if (placeholder ? add_placeholder(p, tok) : strlist_add(l, tok))
					return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
				any = 1;
			}
			if (!any)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: \"allow %s\" needs at least one value",
						  lineno, name);
		} else if (strcmp(verb, "deny") == 0) {
			return sg_err_set(e, ERR_INVALID, 0, "policy line %d: \"deny\" rules are gone: a policy allows only "
					  "what it names (allow property, java-option, env, app, url)", lineno);
		} else if (strcmp(verb, "max") == 0) {
			int mb;
			char *num_end;
			long v;

			if (!word(&cur, stop, name, sizeof(name)) || !word(&cur, stop, tok, sizeof(tok)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"max WHAT VALUE\"", lineno);
			errno = 0;
			v = strtol(tok, &num_end, 10);
			if (errno || *num_end || v <= 0 || v > INT32_MAX)
				v = -1;
			if (strcmp(name, "driver-cores") == 0 && v > 0) {
				p->max_driver_cores = v;
			} else if (strcmp(name, "executor-cores") == 0 && v > 0) {
				p->max_executor_cores = v;
			} else if (strcmp(name, "executor-instances") == 0 && v > 0) {
				p->max_executor_instances = v;
			} else if (strcmp(name, "app-cores") == 0 && v > 0) {
				p->max_app_cores = v;
			} else if (strcmp(name, "driver-memory") == 0 && java_memory_mb(tok, &mb) == 0 && mb > 0) {
				p->max_driver_memory_mb = mb;
			} else if (strcmp(name, "executor-memory") == 0 && java_memory_mb(tok, &mb) == 0 && mb > 0) {
				p->max_executor_memory_mb = mb;
			} else {
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: bad \"max %s %s\"", lineno, name, tok);
			}
		} else if (strcmp(verb, "default") == 0) {
			/* a property a create does not set gets the operator's value; it is then judged
			 * like the user's own (so it needs an "allow property" line) */
			if (!word(&cur, stop, name, sizeof(name)) || strcmp(name, "property")
			    || !word(&cur, stop, name, sizeof(name)) || !word(&cur, stop, tok, sizeof(tok))
			    || strncmp(name, "spark.", 6) != 0)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"default property spark.KEY "
						  "VALUE\"", lineno);
			if (strmap_set(&p->defaults, name, tok))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		} else if (strcmp(verb, "quota") == 0) {
			struct policy_quota q = { NULL, 0, -1, -1, -1 }, *m;
			char kind[16], limit[32];
			int any = 0;

			if (!word(&cur, stop, kind, sizeof(kind)) || (strcmp(kind, "user") && strcmp(kind, "group"))
			    || !word(&cur, stop, name, sizeof(name)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"quota user|group NAME "
						  "drivers N cores N memory SIZE\"", lineno);
			q.group = strcmp(kind, "group") == 0;
			while (word(&cur, stop, limit, sizeof(limit))) {
				char *num_end;
				int mb;

				if (!word(&cur, stop, tok, sizeof(tok)))
					return sg_err_set(e, ERR_INVALID, 0, "policy line %d: %s needs a value", lineno, limit);
				if (strcmp(limit, "drivers") == 0 && (q.drivers = strtol(tok, &num_end, 10)) >= 0 && !*num_end)
					any = 1;
				else if (strcmp(limit, "cores") == 0 && (q.cores = strtol(tok, &num_end, 10)) >= 0 && !*num_end)
					any = 1;
				else if (strcmp(limit, "memory") == 0 && java_memory_mb(tok, &mb) == 0)
					q.memory_mb = mb, any = 1;
				else
					return sg_err_set(e, ERR_INVALID, 0, "policy line %d: bad quota \"%s %s\"", lineno, limit, tok);
			}
			if (!any)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: a quota needs a limit", lineno);
			/* a moved array is kept before anything else can fail */
			if (!(m = realloc(p->quotas, (p->nquotas + 1) * sizeof(*m))))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
			p->quotas = m;
			if (!(q.name = strdup(name)))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
			p->quotas[p->nquotas++] = q;
		} else if (strcmp(verb, "supervise") == 0) {
			if (!word(&cur, stop, tok, sizeof(tok)) || (strcmp(tok, "allow") && strcmp(tok, "deny")))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"supervise allow|deny\"", lineno);
			p->allow_supervise = strcmp(tok, "allow") == 0;
		} else {
			return sg_err_set(e, ERR_INVALID, 0, "policy line %d: unknown statement \"%s\"", lineno, verb);
		}
		if (cur < stop && word(&cur, stop, tok, sizeof(tok)))
			return sg_err_set(e, ERR_INVALID, 0, "policy line %d: unexpected \"%s\"", lineno, tok);
	}
	return 0;
}

int policy_load(struct policy *p, const char *path, struct sg_err *e)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (!f)
		return sg_err_set(e, ERR_IO, 0, "cannot read policy %s: %s", path, strerror(errno));
	text = malloc(POLICY_MAX_FILE + 1);
	n = text ? fread(text, 1, POLICY_MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!text)
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	if (n > POLICY_MAX_FILE) {
		free(text);
		return sg_err_set(e, ERR_TOO_LARGE, 0, "policy %s is larger than %u bytes", path, POLICY_MAX_FILE);
	}
	rc = policy_parse(p, text, n, e);
	free(text);
	return rc;
}

int policy_in_group(const struct policy *p, const char *user, const char *group)
{
	for (size_t i = 0; user && group && i < p->ngroups; i++) {
		if (strcmp(p->groups[i].name, group) != 0)
			continue;
		for (size_t k = 0; k < p->groups[i].members.len; k++)
			if (strcmp(p->groups[i].members.items[k], user) == 0)
				return 1;
	}
	return 0;
}

int policy_is_admin(const struct policy *p, const char *user)
{
	return policy_in_group(p, user, p->admin_group);
}

const struct policy_quota *policy_user_quota(const struct policy *p, const char *user)
{
	const struct policy_quota *any = NULL;

	for (size_t i = 0; i < p->nquotas; i++) {
		if (p->quotas[i].group)
			continue;
		if (strcmp(p->quotas[i].name, user) == 0)
			return &p->quotas[i];
		if (strcmp(p->quotas[i].name, "*") == 0)
			any = &p->quotas[i];
	}
	return any;
}


/* ---- judging a driver ------------------------------------------------------------------ */

static int match_any(const char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return 1;
	return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Environment variables the launcher, the JVM or the dynamic loader act on: never passed,
 * whatever "allow env" says (a worker starts the driver with the create's environment). */
static const char *const never_env[] = {
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_HOME", "JAVA_OPTS", "CLASSPATH",
	"SPARK_DIST_CLASSPATH", "SPARK_CLASSPATH", "SPARK_CONF_DIR", "SPARK_HOME", "SPARK_*OPTS*",
	"SPARK_DAEMON_*", "SPARK_LAUNCHER_*", "SPARK_PREPEND_CLASSES", "SPARK_TESTING", "SPARK_SCALA_VERSION",
	"LD_*", "GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "NLSPATH", "MALLOC_*", "PATH", "BASH_ENV",
	"ENV", "SHELLOPTS", "BASHOPTS", "IFS", "PS4", "PYTHON*", "PYSPARK_*", "HADOOP_*", "YARN_*", "HOME",
	"TMPDIR", "JAVA_*", "JDK_*",
	/* who the application runs as (Spark's user name, Kerberos), and where it connects */
	"SPARK_*", "USER", "LOGNAME", "KRB5*", "*_proxy", "*_PROXY", "OPENSSL_*", "SSL_*", "CURL_*",
};

/* What spark-submit's launcher exports on the client's machine and its REST client then
 * sends (every SPARK_* variable): dropped under a policy instead. */
static const char *const dropped_env[] = {
	"SPARK_HOME", "SPARK_CONF_DIR", "SPARK_SCALA_VERSION", "SPARK_ENV_LOADED", "SPARK_BEELINE_OPTS",
};

int policy_drops_env(const char *name)
{
	return match_any(dropped_env, COUNT(dropped_env), name);
}

/* Properties that put code, native libraries or downloads on a path, or run a script:
 * never allowed, whatever "allow property" says. */
static const char *const never_property[] = {
	"spark.*.extraClassPath", "spark.*.extraLibraryPath", "spark.jars.packages", "spark.jars.repositories",
	"spark.jars.ivy", "spark.jars.ivySettings", "spark.jars.excludes", "spark.plugins", "spark.plugins.*",
	"spark.*.plugins", "spark.*.resource.*.discoveryScript", "spark.*.resourcesFile", "spark.*.userClassPathFirst",
	"spark.repl.*", "spark.driver.extraJavaAgent*", "spark.executor.extraJavaAgent*",
	"spark.executorEnv.*",   /* judged below as environment variables, not as a property */
	/* the Python interpreter and the modules PySpark starts in it, and files it writes */
	"spark.pyspark.*", "spark.python.daemon.module", "spark.python.worker.module", "spark.python.profile.dump",
	"spark.python.unix.domain.socket.dir",
	/* properties that name classes the driver or executors load (from the whole platform:
	 * listeners, catalogs, serializers, codecs, filters, Hadoop file systems, ...) */
	"spark.extraListeners", "spark.serializer", "spark.closure.serializer", "spark.kryo.*", "spark.shuffle.manager",
	"spark.io.compression.codec", "spark.sql.extensions", "spark.sql.catalog.*", "spark.sql.catalogImplementation",
	"spark.sql.queryExecutionListeners", "spark.sql.streaming.streamingQueryListeners", "spark.sql.sources.*",
	"spark.sql.hive.metastore.*", "spark.hadoop.*", "spark.hive.*", "spark.metrics.*", "spark.ui.filters",
	"spark.security.*", "spark.connect.*", "spark.remote", "spark.api.mode", "spark.*.class", "spark.*.classes",
	"spark.*.impl", "spark.*.factory", "spark.*Factory", "spark.*.provider", "spark.*.providers",
	"spark.*.codec", "spark.*.listeners", "spark.*Listeners", "spark.*.manager", "spark.*.filters",
	"spark.*Class", "spark.*Classes", "spark.*.python", "spark.sql.execution.pyspark.*",
	/* files written or read where the value says, and the cluster's own secrets */
	"spark.eventLog.*", "spark.driver.log.*", "spark.local.dir", "spark.checkpoint.dir", "spark.history.*",
	"spark.sql.warehouse.dir", "spark.*.dir", "spark.*.path", "spark.*.file", "spark.*File", "spark.ssl.*",
	"spark.authenticate*", "spark.network.crypto.*", "spark.kubernetes.*", "spark.yarn.*",
	/* sparkgate's own marks (the idempotency key is judged like any property) */
	"spark.sparkgate.*",
};

/* Never-list entries a property of sparkgate's own would otherwise fall under. */
static const char *const sparkgate_property[] = { "spark.sparkgate.idempotencyKey" };

/* Properties whose value is a comma-separated list of artifact URLs, and whether what they
 * name is code: on the driver's or executors' class path (spark.jars, which DriverWrapper
 * puts on the loader it resolves the main class through), on PYTHONPATH (py-files, where a
 * sitecustomize.py would run first), or unpacked into the executors' working directory,
 * which `python -m pyspark.daemon` has first on sys.path (archives). */
static const struct { const char *key; int code; } artifact_property[] = {
	{ "spark.jars", 1 }, { "spark.submit.pyFiles", 1 }, { "spark.archives", 1 }, { "spark.files", 0 },
};

/* Properties whose value holds JVM options of the executors. */
static const char *const executor_java_options[] = {
	"spark.executor.extraJavaOptions", "spark.executor.defaultJavaOptions",
};

/* JVM options that load code, change the class or module path, run commands or read more
 * options from files: never allowed. */
static const char *const never_option[] = {
	"-javaagent*", "-agentlib*", "-agentpath*", "-Xrun*", "-Xdebug", "-Xnoagent", "-Xbootclasspath*",
	"@*", "-cp", "-classpath", "--class-path*", "-p", "--module-path*", "--upgrade-module-path*",
	"--patch-module*", "--add-modules*", "--add-opens*", "--add-exports*", "--add-reads*",
	"--enable-native-access*", "--limit-modules*", "--source*", "-jar", "-XX:Flags=*", "-XX:VMOptionsFile*",
	"-XX:*On*Error*", "-XX:*OnOutOfMemory*", "-XX:+UseVMOptionsFile*", "-Djava.*", "-splash:*",
	"-Xshare:*", "-XX:SharedArchiveFile*", "-XX:CRaC*",
	/* native code from a path, or files written where the option says */
	"-XX:*JVMCI*", "-XX:ErrorFile*", "-XX:HeapDumpPath*", "-XX:LogFile*", "-Xloggc*", "-Xlog*file=*",
	"-XX:CompileCommandFile*", "-XX:StartFlightRecording*", "-XX:FlightRecorder*", "-XX:*DumpPath*",
	/* the heap and other memory: spark.driver.memory is the heap, as placed and counted */
	"-Xmx*", "-Xms*", "-XX:MaxHeapSize*", "-XX:InitialHeapSize*", "-XX:MinHeapSize*", "-XX:SoftMaxHeapSize*",
	"-XX:MaxRAM*", "-XX:InitialRAM*", "-XX:MinRAM*", "-XX:*RAMPercentage*", "-XX:*RAMFraction*",
	"-XX:MaxDirectMemorySize*",
};

/* Main classes that submit, kill or interpret: never allowed, whatever "allow app" says. */
static const char *const never_main[] = {
	"org.apache.spark.deploy.*", "org.apache.spark.repl.*", "org.apache.spark.api.*",
	"org.apache.spark.launcher.*", "org.apache.spark.sql.hive.thriftserver.*", "org.apache.spark.executor.*",
	"scala.tools.*", "jdk.jshell.*", "org.apache.hadoop.util.RunJar", "org.codehaus.janino.*", "groovy.*",
	"org.python.*", "py4j.*",
};

static int refuse(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return 1;
}

/* The URL under one of the prefixes, without anything that could step out of it once a
 * fetcher or a server normalises it. */
static int url_allowed(const struct strlist *prefixes, const char *url)
{
	if (!url_clean(url))
		return 0;
	for (size_t i = 0; i < prefixes->len; i++)
		if (strncmp(url, prefixes->items[i], strlen(prefixes->items[i])) == 0)
			return 1;
	return 0;
}

/* Approved-applications mode: code comes only from "allow app" / "allow python"
 * locations. */
static int approved_mode(const struct policy *p)
{
	return p->app_prefix.len || p->allow_python.len;
}

/* A name Python would import from a working directory on sys.path. */
static int python_importable(const char *url)
{
	static const char *const suffix[] = { ".py", ".pyc", ".pyo", ".pyw", ".pyd", ".so", ".pth" };
	const char *name = strrchr(url, '/');
	size_t n;

	name = name ? name + 1 : url;
	n = strlen(name);
	for (size_t i = 0; i < COUNT(suffix); i++)
		if (n >= strlen(suffix[i]) && strcmp(name + n - strlen(suffix[i]), suffix[i]) == 0)
			return 1;
	return strstr(name, ".so.") != NULL;
}

static int check_env_name(const struct policy *p, const char *name, const char *where, char *why, size_t size)
{
	if (match_any(never_env, COUNT(never_env), name))
		return refuse(why, size, "environment variable %s%s is never allowed (it changes what the worker or "
			      "the JVM runs)", name, where);
	if (!list_match(&p->allow_env, name))
		return refuse(why, size, "environment variable %s%s is not allowed by any \"allow env\" rule", name, where);
	return 0;
}

/* One JVM option (not a -D: those are properties). */
static int check_jvm_option(const struct policy *p, const char *opt, const char *where, char *why, size_t size)
{
	if (match_any(never_option, COUNT(never_option), opt))
		return refuse(why, size, "JVM option %s%s is never allowed%s", opt, where,
			      strncmp(opt, "-Xm", 3) == 0 || strstr(opt, "Heap") || strstr(opt, "RAM")
			      ? " (the heap is spark.driver.memory / spark.executor.memory, as counted)" : "");
	if (!list_match(&p->allow_java_option, opt))
		return refuse(why, size, "JVM option %s%s is not allowed by any \"allow java-option\" rule", opt, where);
	return 0;
}

static int check_artifacts(const struct policy *p, const char *key, int code, const char *value, char *why,
			   size_t size)
{
	char url[4096];

	for (const char *s = value; *s;) {
		size_t n = strcspn(s, ",");

		if (n >= sizeof(url))
			return refuse(why, size, "an entry of %s is too long to judge", key);
		memcpy(url, s, n);
		url[n] = '\0';
		s += n + (s[n] == ',');
		if (!n)
			continue;
		if (url[n - 1] == '/')   /* a file, not a folder: Spark would fetch the name before it */
			return refuse(why, size, "%s names %s, which ends in '/'", key, url);
		if (code && approved_mode(p)) {
			if (!url_allowed(&p->app_prefix, url) && !url_allowed(&p->allow_python, url))
				return refuse(why, size, "%s names %s: code comes only from \"allow app\" or \"allow python\" "
					      "locations (\"allow url\" approves data)", key, url);
			continue;
		}
		if (!url_allowed(&p->app_prefix, url) && !url_allowed(&p->allow_python, url) && !url_allowed(&p->allow_url, url))
			return refuse(why, size, "%s names %s, which no \"allow app\", \"allow python\" or \"allow url\" rule "
				      "allows", key, url);
		if (approved_mode(p) && python_importable(url))
			return refuse(why, size, "%s names %s: a file Python imports is code, and comes only from \"allow "
				      "python\" locations as spark.submit.pyFiles", key, url);
	}
	return 0;
}

static int check_option(const struct policy *p, const char *opt, const char *master_url, int nested,
			const char *where, char *why, size_t size);

/* A system property: key=value from "-Dkey=value". */
static int check_property(const struct policy *p, const char *key, const char *value, const char *master_url,
			  char *why, size_t size)
{
	if (strncmp(key, "spark.", 6) != 0)
		return refuse(why, size, "system property %s is never allowed (only spark.* properties)", key);
	/* Spark's ConfigReader replaces ${env:X}, ${system:X} and ${spark.key} in a value when
	 * the driver reads it (executor options are split only after that): what would run is
	 * not what is written here */
	if (strstr(value, "${"))
		return refuse(why, size, "property %s holds \"${\": Spark would substitute it after sparkgate judged "
			      "the value", key);
	for (const unsigned char *c = (const unsigned char *)value; *c; c++)
		if (*c < 0x20 || *c == 0x7F)
			return refuse(why, size, "property %s holds a control character", key);
	if (strcmp(key, "spark.master") == 0) {
		if (strcmp(value, master_url) != 0)
			return refuse(why, size, "spark.master must be sparkgate's own (%s), not %s", master_url, value);
		return 0;
	}
	if (strncmp(key, "spark.executorEnv.", 18) == 0)
		return check_env_name(p, key + 18, " (in spark.executorEnv)", why, size);
	if (match_any(never_property, COUNT(never_property), key)
	    && !match_any(sparkgate_property, COUNT(sparkgate_property), key))
		return refuse(why, size, "property %s is never allowed (it puts code on a path or runs it)", key);
	if (!list_match(&p->allow_property, key))
		return refuse(why, size, "property %s is not allowed by any \"allow property\" rule", key);
	for (size_t i = 0; i < COUNT(artifact_property); i++)
		if (strcmp(key, artifact_property[i].key) == 0)
			return check_artifacts(p, key, artifact_property[i].code, value, why, size);
	if (match_any(executor_java_options, COUNT(executor_java_options), key)) {
		struct strlist opts;
		char where[96];
		int rc = 0;

		strlist_init(&opts);
		if (java_split_command(value, &opts)) {
			strlist_release(&opts);
			return ERR_NOMEM;
		}
		snprintf(where, sizeof(where), " (in %.64s)", key);   /* one of executor_java_options */
		for (size_t i = 0; i < opts.len && !rc; i++)
			rc = check_option(p, opts.items[i], master_url, 1, where, why, size);
		strlist_release(&opts);
		return rc;
	}
	return 0;
}

/* One word of the JVM's options: "-Dkey=value" is a property, anything else an option.
 * nested: inside executor options (which may hold no property at all). */
static int check_option(const struct policy *p, const char *opt, const char *master_url, int nested,
			const char *where, char *why, size_t size)
{
	char key[512];
	size_t n;

	if (strncmp(opt, "-D", 2) != 0)
		return check_jvm_option(p, opt, where, why, size);
	/* Spark refuses spark.* properties in executor options by a substring test on the raw
	 * text, which quoting passes ("-\"D\"spark..."): refused here on the words it becomes */
	if (nested)
		return refuse(why, size, "system properties%s are refused (Spark sets an executor's properties itself)",
			      where);
	n = strcspn(opt + 2, "=");
	if (n >= sizeof(key) || !n)
		return refuse(why, size, "a system property%s the policy cannot judge", where);
	memcpy(key, opt + 2, n);
	key[n] = '\0';
	return check_property(p, key, opt[2 + n] ? opt + 3 + n : "", master_url, why, size);
}

static int check_app(const struct policy *p, const char *jar, const char *main_class, char *why, size_t size)
{
	int located = 0;

	if (match_any(never_main, COUNT(never_main), main_class))
		return refuse(why, size, "main class %s is never allowed (it submits, kills or interprets)", main_class);
	if (!approved_mode(p)) {   /* no approved applications: any code from an allowed URL */
		if (!url_allowed(&p->allow_url, jar))
			return refuse(why, size, "appResource %s is not under any \"allow url\" prefix", jar);
		return 0;
	}
	/* DriverWrapper resolves the main class through a loader whose parent holds all of
	 * Spark's jars and the JDK: a class from there is never one of "allow app"'s */
	if (!java_class_name_ok(main_class))
		return refuse(why, size, "main class %s is not a Java class name", main_class);
	if (platform_main_class(main_class))
		return refuse(why, size, "main class %s is in a package Spark or the JDK ships: never an approved "
			      "application", main_class);
	for (size_t i = 0; i < p->app_prefix.len; i++) {
		if (!url_allowed(&(struct strlist){ &p->app_prefix.items[i], 1, 1 }, jar))
			continue;
		located = 1;
		if (fnmatch(p->app_main.items[i], main_class, 0) == 0)
			return 0;
	}
	if (located)
		return refuse(why, size, "main class %s is not allowed for %s (no \"allow app\" line for its location "
			      "names it)", main_class, jar);
	return refuse(why, size, "appResource %s is not an approved application (no \"allow app\" prefix holds it)", jar);
}

/* A Python application as submit.c writes it (SparkSubmit in client mode on the worker):
 *   SparkSubmit [-c spark.app.name=NAME] --master MASTERS --deploy-mode client [--name NAME]
 *               [--py-files LIST] SCRIPT.py args...
 * Every word up to the script is sparkgate's own or judged here; SparkSubmit's parser stops
 * at the script, so what follows is the application's arguments (SparkSubmitArguments.
 * handleUnknown, launcher/SparkSubmitOptionParser.java). */
static int check_python(const struct policy *p, const struct strlist *args, const char *master_url, int spark4,
			char *why, size_t size)
{
	size_t i = 3, n = args->len;
	const char *script;
	int rc;

	if (spark4 && i + 1 < n && strcmp(args->items[i], "-c") == 0) {
		if (strncmp(args->items[i + 1], "spark.app.name=", 15) != 0)
			return refuse(why, size, "the Python driver's command has a shape the policy cannot judge");
		i += 2;
	}
	if (i + 3 >= n || strcmp(args->items[i], "--master") != 0 || strcmp(args->items[i + 1], master_url) != 0
	    || strcmp(args->items[i + 2], "--deploy-mode") != 0 || strcmp(args->items[i + 3], "client") != 0)
		return refuse(why, size, "the Python driver's command has a shape the policy cannot judge");
	i += 4;
	if (i + 1 < n && strcmp(args->items[i], "--name") == 0)
		i += 2;   /* SparkSubmit takes the next word as the name, whatever it is */
	if (i + 1 < n && strcmp(args->items[i], "--py-files") == 0) {
		if ((rc = check_artifacts(p, "spark.submit.pyFiles", 1, args->items[i + 1], why, size)))
			return rc;
		i += 2;
	}
	if (i >= n)
		return refuse(why, size, "the Python driver's command has a shape the policy cannot judge");
	script = args->items[i];
	if (script[0] == '-' || strlen(script) < 4 || strcmp(script + strlen(script) - 3, ".py") != 0)
		return refuse(why, size, "the Python driver's command has a shape the policy cannot judge");
	if (!p->allow_python.len)
		return refuse(why, size, "Python applications are not allowed (no \"allow python\" rule): %s", script);
	if (!url_allowed(&p->allow_python, script))
		return refuse(why, size, "appResource %s is not an approved Python application (no \"allow python\" "
			      "prefix holds it)", script);
	return 0;
}

int policy_apply_defaults(const struct policy *p, struct strmap *props)
{
	int rc = 0;

	for (size_t i = 0; i < p->defaults.len && !rc; i++)
		if (!strmap_get(props, p->defaults.keys[i]))
			rc = strmap_set(props, p->defaults.keys[i], p->defaults.values[i]);
	return rc;
}

/* The value the driver's JVM gets for system property key: the last -Dkey of its options
 * (a later -D wins), "" for a bare -Dkey; NULL when none sets it. */
static const char *driver_property(const struct driver_desc *d, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = d->java_opts.len; i-- > 0;) {
		const char *o = d->java_opts.items[i];

		if (strncmp(o, "-D", 2) == 0 && strncmp(o + 2, key, n) == 0 && (o[2 + n] == '=' || !o[2 + n]))
			return o[2 + n] ? o + 3 + n : "";
	}
	return NULL;
}

/* Whether any quota counts cores or memory: then executors must be bounded to be counted. */
static int quotas_count_resources(const struct policy *p)
{
	for (size_t i = 0; i < p->nquotas; i++)
		if (p->quotas[i].cores >= 0 || p->quotas[i].memory_mb >= 0)
			return 1;
	return 0;
}

/* What the application may hold (driver plus executors), judged against the executor
 * maxima.  In standalone mode an application's executors share spark.cores.max cores
 * (without it, every free core of the cluster: spark.deploy.defaultCores), each with
 * spark.executor.memory (default 1g) and spark.executor.cores of them (without it, all of
 * a worker's: at least one), so at most cores.max / executor.cores executors
 * (StandaloneSchedulerBackend, master/Master.scala scheduleExecutorsOnWorkers). */
static int check_executors(const struct policy *p, const struct driver_desc *d, struct policy_usage *use, char *why,
			   size_t size)
{
	const char *cores_max = driver_property(d, "spark.cores.max");
	const char *exec_cores = driver_property(d, "spark.executor.cores");
	const char *exec_mem = driver_property(d, "spark.executor.memory");
	const char *instances = driver_property(d, "spark.executor.instances");
	int32_t app_cores = 0, cores = 1, inst = 0;
	int mem = 1024;
	int64_t executors, memory;

	/* without a unit Spark's readers disagree (SparkContext: bytes; the executor resource
	 * profile: MiB): refused rather than guessed */
	if (exec_mem && (java_memory_mb(exec_mem, &mem) || mem < 1 || !exec_mem[strspn(exec_mem, "0123456789")]))
		return refuse(why, size, "spark.executor.memory=%s is not a size the policy can read (write it with a "
			      "unit: 1g, 512m)", exec_mem);
	if (p->max_executor_memory_mb > 0 && mem > p->max_executor_memory_mb)
		return refuse(why, size, "executors with %d MiB of memory are refused (at most \"max executor-memory\", "
			      "%ld MiB)", mem, p->max_executor_memory_mb);
	if (exec_cores && (java_parse_int(exec_cores, &cores) || cores < 1))
		return refuse(why, size, "spark.executor.cores=%s is not a number of cores the policy can read", exec_cores);
	if (p->max_executor_cores > 0 && !exec_cores)
		return refuse(why, size, "spark.executor.cores is required (\"max executor-cores\"; without it an "
			      "executor takes every core of its worker)");
	if (p->max_executor_cores > 0 && cores > p->max_executor_cores)
		return refuse(why, size, "executors with %d cores are refused (at most \"max executor-cores\", %ld)",
			      (int)cores, p->max_executor_cores);
	if (instances && (java_parse_int(instances, &inst) || inst < 0))
		return refuse(why, size, "spark.executor.instances=%s is not a number the policy can read", instances);
	if (p->max_executor_instances > 0 && inst > p->max_executor_instances)
		return refuse(why, size, "%d executors are refused (at most \"max executor-instances\", %ld)", (int)inst,
			      p->max_executor_instances);
	if (!cores_max) {
		if (p->max_app_cores > 0 || p->max_executor_instances > 0 || quotas_count_resources(p))
			return refuse(why, size, "spark.cores.max is required: without it the application's executors may "
				      "take every core of the cluster, which the policy's limits cannot count (an "
				      "operator can set \"default property spark.cores.max N\")");
		return 0;
	}
	if (java_parse_int(cores_max, &app_cores) || app_cores < 1)
		return refuse(why, size, "spark.cores.max=%s is not a number of cores the policy can read", cores_max);
	if (p->max_app_cores > 0 && app_cores > p->max_app_cores)
		return refuse(why, size, "an application with spark.cores.max=%d is refused (at most \"max app-cores\", "
			      "%ld)", (int)app_cores, p->max_app_cores);
	executors = app_cores / cores;
	if (p->max_executor_instances > 0 && executors > p->max_executor_instances)
		return refuse(why, size, "spark.cores.max=%d allows %d executors of %d cores (at most \"max "
			      "executor-instances\", %ld): set spark.executor.cores", (int)app_cores, (int)executors,
			      (int)cores, p->max_executor_instances);
	memory = (int64_t)use->memory_mb + executors * mem;
	use->cores = (int)((int64_t)use->cores + app_cores > INT32_MAX ? INT32_MAX : use->cores + app_cores);
	use->memory_mb = (int)(memory > INT32_MAX ? INT32_MAX : memory);
	return 0;
}

int policy_check_driver(const struct policy *p, const struct driver_desc *d, const struct spark_build *b,
			const char *master_url, struct policy_usage *use, char *why, size_t size)
{
	const struct strlist *args = &d->arguments, *opts = &d->java_opts;
	struct policy_usage mine;
	size_t first = 0;
	int rc;

	use = use ? use : &mine;
	use->cores = d->cores;
	use->memory_mb = d->mem_mb;
	if (!p->rules)
		return 0;
	/* DriverWrapper {{WORKER_URL}} {{USER_JAR}} MAIN args...: the shape submit.c writes */
	if (!d->main_class || strcmp(d->main_class, "org.apache.spark.deploy.worker.DriverWrapper") != 0
	    || args->len < 3 || strcmp(args->items[0], "{{WORKER_URL}}") != 0 || strcmp(args->items[1], "{{USER_JAR}}") != 0
	    || !d->jar_url)
		return refuse(why, size, "the driver's command has a shape the policy cannot judge");
	if (strcmp(args->items[2], "org.apache.spark.deploy.SparkSubmit") == 0 && !*d->jar_url)
		rc = check_python(p, args, master_url, spark_build_is_spark4(b), why, size);
	else
		rc = check_app(p, d->jar_url, args->items[2], why, size);
	if (rc)
		return rc;
	if (d->cores < 1 || (p->max_driver_cores > 0 && d->cores > p->max_driver_cores))
		return refuse(why, size, "a driver with %d cores is refused (at least 1%s)", (int)d->cores,
			      p->max_driver_cores > 0 ? ", at most \"max driver-cores\"" : "");
	if (d->mem_mb < 1 || (p->max_driver_memory_mb > 0 && d->mem_mb > p->max_driver_memory_mb))
		return refuse(why, size, "a driver with %d MiB of memory is refused (at least 1%s)", (int)d->mem_mb,
			      p->max_driver_memory_mb > 0 ? ", at most \"max driver-memory\"" : "");
	if (d->supervise && !p->allow_supervise)
		return refuse(why, size, "spark.driver.supervise=true is refused (\"supervise allow\" permits it)");
	for (size_t i = 0; i < d->nresources; i++)
		if (d->resources[i].amount < 1)
			return refuse(why, size, "resource %s with amount %d is refused", d->resources[i].name,
				      (int)d->resources[i].amount);
	for (size_t i = 0; i < d->environment.len; i++)
		if ((rc = check_env_name(p, d->environment.keys[i], "", why, size)))
			return rc;
	/* javaOpts: the build's own module options (exactly), then a -D for each property and
	 * spark.master, then the words of the default and extra Java options */
	for (const char *const *m = b->java_module_options; *m; m++, first++)
		if (first >= opts->len || strcmp(opts->items[first], *m) != 0)
			return refuse(why, size, "the driver's JVM options have a shape the policy cannot judge");
	for (size_t i = first; i < opts->len; i++)
		if ((rc = check_option(p, opts->items[i], master_url, 0, "", why, size)))
			return rc;
	/* only their properties put entries here, and those were refused above */
	if (d->class_path.len || d->library_path.len)
		return refuse(why, size, "class and library path entries are never allowed");
	return check_executors(p, d, use, why, size);
}
