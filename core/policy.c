#include "policy.h"

#include "rest.h"
#include "javalang.h"
#include "submit.h"
#include "versions.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_driver_cores = p->max_driver_memory_mb = -1;
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

/* A URL without anything that could step out of a prefix once a fetcher or a server
 * normalises it: no "..", no "/./", no "//" after the authority, no query, fragment,
 * percent-escape, backslash or whitespace. */
static int url_clean(const char *url)
{
	const char *authority = strstr(url, "://");

	return !strpbrk(url, "?#%\\\t\r\n ") && !strstr(url, "/..") && !strstr(url, "/./")
	       && !strstr(authority ? authority + 3 : url, "//");
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
			char glob[256] = "";

			if (!word(&cur, stop, tok, sizeof(tok)) || !url_prefix_ok(tok))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"allow app URL/ [MAIN-CLASS-GLOB]\" "
						  "with a URL that ends in '/'", lineno);
			word(&cur, stop, glob, sizeof(glob));
			if (strlist_add(&p->app_prefix, tok) || strlist_add(&p->app_main, glob))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
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
			if (strcmp(name, "driver-cores") == 0 && (v = strtol(tok, &num_end, 10)) > 0 && !*num_end) {
				p->max_driver_cores = v;
			} else if (strcmp(name, "driver-memory") == 0 && java_memory_mb(tok, &mb) == 0 && mb > 0) {
				p->max_driver_memory_mb = mb;
			} else {
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: bad \"max %s %s\"", lineno, name, tok);
			}
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
};

/* Properties whose value is a comma-separated list of artifact URLs. */
static const char *const artifact_property[] = {
	"spark.jars", "spark.files", "spark.archives", "spark.submit.pyFiles",
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
};

/* Options that set a heap size: allowed only within "max driver-memory". */
static const char *const heap_option[] = { "-Xmx", "-Xms", "-XX:MaxHeapSize=", "-XX:InitialHeapSize=" };

/* Main classes that submit, kill or interpret: never allowed, whatever "allow app" says. */
static const char *const never_main[] = {
	"org.apache.spark.deploy.*", "org.apache.spark.repl.*", "org.apache.spark.api.*",
	"org.apache.spark.launcher.*", "org.apache.spark.sql.hive.thriftserver.*", "org.apache.spark.executor.*",
	"scala.tools.*", "jdk.jshell.*", "org.apache.hadoop.util.RunJar", "org.codehaus.janino.*", "groovy.*",
	"org.python.*", "py4j.*",
};

/* Packages of the platform on every driver's class path: a main class there needs an
 * "allow app" line that names it. */
static const char *const platform_main[] = {
	"java.*", "javax.*", "jdk.*", "sun.*", "com.sun.*", "scala.*", "org.apache.*", "org.scala-lang.*", "io.netty.*",
	"com.google.*", "com.fasterxml.*", "org.slf4j.*", "org.glassfish.*", "org.eclipse.*", "org.json4s.*",
	"net.razorvine.*", "org.xerial.*", "org.roaringbitmap.*", "io.dropwizard.*", "com.esotericsoftware.*",
	"org.antlr.*", "org.codehaus.*", "org.jline.*", "jline.*", "com.twitter.*", "org.rocksdb.*", "io.airlift.*",
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
		return refuse(why, size, "JVM option %s%s is never allowed", opt, where);
	for (size_t i = 0; i < COUNT(heap_option); i++) {
		size_t n = strlen(heap_option[i]);
		long mb;

		if (strncmp(opt, heap_option[i], n) != 0)
			continue;
		mb = java_jvm_size_mb(opt + n);
		if (mb <= 0)
			return refuse(why, size, "JVM option %s%s: not a size sparkgate can read", opt, where);
		if (p->max_driver_memory_mb > 0 && mb > p->max_driver_memory_mb)
			return refuse(why, size, "JVM option %s%s exceeds \"max driver-memory\" (%ld MiB)", opt, where,
				      p->max_driver_memory_mb);
	}
	if (!list_match(&p->allow_java_option, opt))
		return refuse(why, size, "JVM option %s%s is not allowed by any \"allow java-option\" rule", opt, where);
	return 0;
}

static int check_artifacts(const struct policy *p, const char *key, const char *value, char *why, size_t size)
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
		if (!url_allowed(&p->app_prefix, url) && !url_allowed(&p->allow_python, url) && !url_allowed(&p->allow_url, url))
			return refuse(why, size, "%s names %s, which no \"allow app\", \"allow python\" or \"allow url\" rule "
				      "allows", key, url);
	}
	return 0;
}

static int check_option(const struct policy *p, const char *opt, const char *master_url, int nested,
			const char *where, char *why, size_t size);

/* A system property: key=value from "-Dkey=value". */
static int check_property(const struct policy *p, const char *key, const char *value, const char *master_url,
			  int nested, char *why, size_t size)
{
	if (strncmp(key, "spark.", 6) != 0)
		return refuse(why, size, "system property %s is never allowed (only spark.* properties)", key);
	if (strcmp(key, "spark.master") == 0) {
		if (strcmp(value, master_url) != 0)
			return refuse(why, size, "spark.master must be sparkgate's own (%s), not %s", master_url, value);
		return 0;
	}
	if (strncmp(key, "spark.executorEnv.", 18) == 0)
		return check_env_name(p, key + 18, " (in spark.executorEnv)", why, size);
	if (match_any(never_property, COUNT(never_property), key))
		return refuse(why, size, "property %s is never allowed (it puts code on a path or runs it)", key);
	if (!list_match(&p->allow_property, key))
		return refuse(why, size, "property %s is not allowed by any \"allow property\" rule", key);
	if (match_any(artifact_property, COUNT(artifact_property), key))
		return check_artifacts(p, key, value, why, size);
	if (match_any(executor_java_options, COUNT(executor_java_options), key)) {
		struct strlist opts;
		char where[96];
		int rc = 0;

		if (nested)   /* options inside options: refused rather than followed down */
			return refuse(why, size, "%s inside executor JVM options is refused", key);

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
 * nested: inside executor options (which may not hold executor options again). */
static int check_option(const struct policy *p, const char *opt, const char *master_url, int nested,
			const char *where, char *why, size_t size)
{
	char key[512];
	size_t n;

	if (strncmp(opt, "-D", 2) != 0)
		return check_jvm_option(p, opt, where, why, size);
	n = strcspn(opt + 2, "=");
	if (n >= sizeof(key) || !n)
		return refuse(why, size, "a system property%s the policy cannot judge", where);
	memcpy(key, opt + 2, n);
	key[n] = '\0';
	return check_property(p, key, opt[2 + n] ? opt + 3 + n : "", master_url, nested, why, size);
}

static int check_app(const struct policy *p, const char *jar, const char *main_class, char *why, size_t size)
{
	if (match_any(never_main, COUNT(never_main), main_class))
		return refuse(why, size, "main class %s is never allowed (it submits, kills or interprets)", main_class);
	if (!p->app_prefix.len) {   /* no approved applications: any code from an allowed URL */
		if (!url_allowed(&p->allow_url, jar))
			return refuse(why, size, "appResource %s is not under any \"allow url\" prefix", jar);
		return 0;
	}
	for (size_t i = 0; i < p->app_prefix.len; i++) {
		const char *glob = p->app_main.items[i];

		if (!url_allowed(&(struct strlist){ &p->app_prefix.items[i], 1, 1 }, jar))
			continue;
		if (*glob ? fnmatch(glob, main_class, 0) == 0 : !match_any(platform_main, COUNT(platform_main), main_class))
			return 0;
		return refuse(why, size, "main class %s is not allowed for %s (\"allow app %s%s%s\")", main_class, jar,
			      p->app_prefix.items[i], *glob ? " " : "", glob);
	}
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
		if ((rc = check_artifacts(p, "spark.submit.pyFiles", args->items[i + 1], why, size)))
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

int policy_check_driver(const struct policy *p, const struct driver_desc *d, const struct spark_build *b,
			const char *master_url, char *why, size_t size)
{
	const struct strlist *args = &d->arguments, *opts = &d->java_opts;
	size_t first = 0;
	int rc;

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
	return 0;
}
