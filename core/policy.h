/* The operator's policy file (--policy): who belongs to which group, which group
 * administers everything, and what a create may ask for.  One statement per line, '#'
 * starts a comment:
 *
 *   group NAME = USER [USER...]     members of a group (several lines add up)
 *   admins GROUP                    members of GROUP see and kill every driver
 *   allow property GLOB...          sparkProperties keys allowed (default: all)
 *   deny property GLOB...           sparkProperties keys refused (checked first)
 *   allow jar-scheme SCHEME...      appResource URL schemes (default: any but file and
 *                                   local; a bare path counts as file)
 *   allow jar-host GLOB...          appResource hosts (default: any)
 *   deny java-option GLOB...        JVM options in spark.{driver,executor}.{extra,default}-
 *                                   JavaOptions, added to the defaults -javaagent:*
 *                                   -agentpath:* -agentlib:* -XX:OnOutOfMemoryError=*
 *                                   -XX:OnError=*
 *   allow env GLOB...               environmentVariables names (default: all)
 *   max driver-cores N | max driver-memory SIZE
 *   supervise allow|deny            spark.driver.supervise=true (default: allow)
 *   quota user NAME|* LIMIT...      LIMIT: drivers N, cores N, memory SIZE: what one user's
 *                                   running drivers may hold at once (NAME over *)
 *   quota group NAME LIMIT...       the same for all members of a group together
 *
 * Without --policy none of the create rules apply (Spark's own behaviour).
 * A line sparkgate does not understand stops it from starting (a typo must not open
 * anything).  See deploy/policy.conf. */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stddef.h>

#include "driver.h"
#include "err.h"

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
	struct strlist allow_property, deny_property, allow_jar_scheme, allow_jar_host,
		       deny_java_option, allow_env;   /* globs */
	long max_driver_cores;              /* -1: no limit */
	long max_driver_memory_mb;
	int deny_supervise;
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

/* Whether the create (as parsed, and as the driver it becomes) passes the rules; if not,
 * why names the rule.  0 passes, 1 refused, <0 out of memory. */
int policy_check_create(const struct policy *p, const struct create_request *cr, const struct driver_desc *d,
			char *why, size_t size);

#endif
