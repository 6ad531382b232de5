/* The operator's policy file (--policy): who belongs to which group and which group
 * administers everything.  One statement per line, '#' starts a comment:
 *
 *   group NAME = USER [USER...]     members of a group (several lines add up)
 *   admins GROUP                    members of GROUP see and kill every driver
 *
 * A line sparkgate does not understand stops it from starting (a typo must not open
 * anything).  See deploy/policy.conf. */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stddef.h>

#include "err.h"

#define POLICY_MAX_FILE (1u << 20)

struct policy_group {
	char *name;
	char **members;
	size_t nmembers;
};

struct policy {
	struct policy_group *groups;
	size_t ngroups;
	char *admin_group;
};

void policy_init(struct policy *p);
void policy_release(struct policy *p);

/* Parses text; on error e names the line. */
int policy_parse(struct policy *p, const char *text, size_t len, struct sg_err *e);
int policy_load(struct policy *p, const char *path, struct sg_err *e);

int policy_in_group(const struct policy *p, const char *user, const char *group);
int policy_is_admin(const struct policy *p, const char *user);

#endif
