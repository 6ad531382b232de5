/* The operator's policy file (--policy): who belongs to which group, which group
 * administers everything, and what a create may run.  One statement per line, '#' starts a
 * comment:
 *
 *   group NAME = USER [USER...]     members of a group (several lines add up)
 *   admins GROUP                    members of GROUP see and kill every driver
 *   allow app PREFIX MAIN...        approved applications: appResource starts with PREFIX
 *                                   (a URL ending in '/') and the main class is one that
 *                                   MAIN names (an exact class name, or a glob under a
 *                                   package of the operator's own); at least one MAIN.  A
 *                                   class in a package any supported Spark build or the
 *                                   JDK ships is never a main class (generated list)
 *   allow python PREFIX...          approved Python applications: a .py appResource (run by
 *                                   SparkSubmit in client mode on the worker) under PREFIX;
 *                                   without one, Python applications are refused
 *   allow url PREFIX...             data locations (spark.files; appResource and code too
 *                                   only when no "allow app" / "allow python" line exists)
 *   allow property GLOB...          spark.* keys a create may set (nothing else is allowed)
 *   allow java-option GLOB...       JVM options in spark.{driver,executor}.{extra,default}-
 *                                   JavaOptions (nothing else is allowed)
 *   allow env GLOB...               environment variable names, of the driver and through
 *                                   spark.executorEnv.* (nothing else is allowed)
 *   allow placeholder NAME...       Spark 4 "{{NAME}}" values that may be replaced
 *   default property KEY VALUE      a property a create leaves out gets VALUE (then judged
 *                                   like the user's own: it needs an "allow property")
 *   max driver-cores N | max driver-memory SIZE | max executor-cores N |
 *   max executor-memory SIZE | max executor-instances N | max app-cores N
 *                                   app-cores bounds spark.cores.max (all executors);
 *                                   executor-instances bounds spark.executor.instances and
 *                                   the executors spark.cores.max allows
 *   supervise allow|deny            spark.driver.supervise=true (default: deny)
 *   quota user NAME|* LIMIT...      LIMIT: drivers N, cores N, memory SIZE: what one user's
 *                                   running applications may hold at once (NAME over *):
 *                                   a driver's cores and heap plus, bounded by
 *                                   spark.cores.max (then required), its executors' cores and
 *                                   spark.executor.memory
 *   quota group NAME LIMIT...       the same for all members of a group together
 *
 * The rules judge the DriverDescription sparkgate is about to send, for the master's build,
 * after every substitution (policy_check_driver); what they cannot read is refused.  Some
 * things are never allowed whatever the file says: class-path, module, agent and
 * argument-file JVM options, -XX:On*, non-spark.* system properties, the loader's and the
 * JVM's environment variables, class and library path entries, deploy-client and
 * interpreter main classes, URLs that step out of their prefix, heap-size options (the
 * heap is spark.driver.memory, as counted), properties that name classes or write files.
 *
 * Without --policy none of the create rules apply (Spark's own behaviour).
 * A line sparkgate does not understand stops it from starting (a typo must not open
 * anything).  See deploy/policy.conf. */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stddef.h>

#include "spark/driver.h"
#include "base/err.h"

#define POLICY_MAX_FILE (1u << 20)

struct policy_group {
	char *name;
	struct strlist members;
};

struct policy {
	struct policy_group *groups;
	size_t ngroups;
	char *admin_group;
	int rules;                          /* a policy file was loaded: create rules apply */
	struct strlist app_prefix, app_main;   /* "allow app": parallel lists ("" = no glob) */
	struct strlist allow_url, allow_python, allow_property, allow_java_option, allow_env;   /* globs */
	char *placeholders;                 /* "allow placeholder" names, comma-separated, or NULL */
	struct strmap defaults;             /* "default property" */
	long max_driver_cores;              /* -1: no limit */
	long max_driver_memory_mb;
	long max_executor_cores, max_executor_memory_mb, max_executor_instances, max_app_cores;
	int allow_supervise;
	struct policy_quota *quotas;
	size_t nquotas;
};

struct policy_quota {
	char *name;                         /* user, "*", or group */
	int group;
	long drivers, cores, memory_mb;     /* -1: no limit */
};

struct create_request;

void policy_init(struct policy *p);
void policy_release(struct policy *p);

/* Parses text; on error e names the line. */
int policy_parse(struct policy *p, const char *text, size_t len, struct sg_err *e);
int policy_load(struct policy *p, const char *path, struct sg_err *e);

int policy_in_group(const struct policy *p, const char *user, const char *group);
int policy_is_admin(const struct policy *p, const char *user);

/* The quota that applies to user alone (its own line, else "quota user *"), or NULL. */
const struct policy_quota *policy_user_quota(const struct policy *p, const char *user);

struct spark_build;

/* What an application may hold at once, as quotas count it: the driver's cores and heap,
 * plus the executors' (all spark.cores.max cores, and spark.executor.memory for each
 * executor those cores allow). */
struct policy_usage {
	int cores;
	int memory_mb;
};

/* Adds the "default property" values props does not have. */
int policy_apply_defaults(const struct policy *p, struct strmap *props);

/* Whether driver d, as written for build b (whose Java module options sparkgate adds
 * itself) and pointed at master_url, passes the rules; if not, why names the rule.
 * use (may be NULL) gets what the application may hold.  0 passes, 1 refused, <0
 * ERR_NOMEM.  With no policy loaded everything passes (use: the driver alone). */
int policy_check_driver(const struct policy *p, const struct driver_desc *d, const struct spark_build *b,
			const char *master_url, struct policy_usage *use, char *why, size_t size);

/* Environment variables spark-submit's own launcher exports from the client's machine
 * (SPARK_HOME, SPARK_CONF_DIR, ...): under a policy they are dropped from a create, so the
 * worker's own apply, rather than refused (spark-submit cannot leave them out). */
int policy_drops_env(const char *name);

#endif
