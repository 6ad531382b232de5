#include "policy.h"

#include "rest.h"
#include "submit.h"

#include <errno.h>
#include <fnmatch.h>
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
	strlist_release(&p->allow_property);
	strlist_release(&p->deny_property);
	strlist_release(&p->allow_jar_scheme);
	strlist_release(&p->allow_jar_host);
	strlist_release(&p->deny_java_option);
	strlist_release(&p->allow_env);
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

int policy_parse(struct policy *p, const char *text, size_t len, struct sg_err *e)
{
	const char *end = text + len;
	int lineno = 0;

	p->rules = 1;

	for (const char *line = text; line < end; ) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *cur = line, *stop;
		char verb[256], name[256], tok[256];

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
		} else if (strcmp(verb, "allow") == 0 || strcmp(verb, "deny") == 0) {
			static const struct { const char *verb, *what; size_t off; } lists[] = {
				{ "allow", "property", offsetof(struct policy, allow_property) },
				{ "deny", "property", offsetof(struct policy, deny_property) },
				{ "allow", "jar-scheme", offsetof(struct policy, allow_jar_scheme) },
				{ "allow", "jar-host", offsetof(struct policy, allow_jar_host) },
				{ "deny", "java-option", offsetof(struct policy, deny_java_option) },
				{ "allow", "env", offsetof(struct policy, allow_env) },
			};
			struct strlist *l = NULL;
			int any = 0;

			if (!word(&cur, stop, name, sizeof(name)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: %s what?", lineno, verb);
			for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
				if (strcmp(lists[i].verb, verb) == 0 && strcmp(lists[i].what, name) == 0)
					l = (struct strlist *)(void *)((char *)p + lists[i].off);
			if (!l)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: unknown \"%s %s\"", lineno, verb, name);
			while (word(&cur, stop, tok, sizeof(tok))) {
				if (strlist_add(l, tok))
					return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
				any = 1;
			}
			if (!any)
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: \"%s %s\" needs at least one value",
						  lineno, verb, name);
		} else if (strcmp(verb, "max") == 0) {
			int mb;
			char *num_end;
			long v;

			if (!word(&cur, stop, name, sizeof(name)) || !word(&cur, stop, tok, sizeof(tok)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"max WHAT VALUE\"", lineno);
			if (strcmp(name, "driver-cores") == 0 && (v = strtol(tok, &num_end, 10)) > 0 && !*num_end) {
				p->max_driver_cores = v;
			} else if (strcmp(name, "driver-memory") == 0 && rest_memory_mb(tok, &mb) == 0 && mb > 0) {
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
				else if (strcmp(limit, "memory") == 0 && rest_memory_mb(tok, &mb) == 0)
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
			p->deny_supervise = strcmp(tok, "deny") == 0;
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

/* The scheme of a URL ("hdfs" in hdfs://...), "file" for a bare path. */
static void url_scheme_host(const char *url, char *scheme, size_t ssize, char *host, size_t hsize)
{
	size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	*host = '\0';
	if (n == 0 || url[n] != ':' || n >= ssize) {
		snprintf(scheme, ssize, "file");
		return;
	}
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] + 32 : url[i]);
	scheme[n] = '\0';
	if (url[n + 1] == '/' && url[n + 2] == '/') {
		const char *h = url + n + 3, *at = h + strcspn(h, "/?#");
		const char *user = memchr(h, '@', (size_t)(at - h));
		size_t len;

		h = user ? user + 1 : h;
		len = (size_t)(at - h);
		if (len && *h != '[')
			len = strcspn(h, ":/?#") < len ? strcspn(h, ":/?#") : len;
		snprintf(host, hsize, "%.*s", (int)len, h);
	}
}

static const char *const default_denied_options[] = {
	"-javaagent:*", "-agentpath:*", "-agentlib:*", "-XX:OnOutOfMemoryError=*", "-XX:OnError=*",
};

static int check_java_options(const struct policy *p, const char *value, const char *key, char *why, size_t size)
{
	struct strlist opts;
	int rc = 0;

	strlist_init(&opts);
	if (submit_split_command(value, &opts)) {
		strlist_release(&opts);
		return -1;
	}
	for (size_t i = 0; i < opts.len && !rc; i++) {
		const char *hit = list_match(&p->deny_java_option, opts.items[i]);

		for (size_t k = 0; !hit && k < sizeof(default_denied_options) / sizeof(*default_denied_options); k++)
			if (fnmatch(default_denied_options[k], opts.items[i], 0) == 0)
				hit = default_denied_options[k];
		if (hit) {
			snprintf(why, size, "policy rule \"deny java-option %s\" refuses %s in %s", hit, opts.items[i], key);
			rc = 1;
		}
	}
	strlist_release(&opts);
	return rc;
}

int policy_check_create(const struct policy *p, const struct create_request *cr, const struct driver_desc *d,
			char *why, size_t size)
{
	static const char *const java_option_keys[] = {
		"spark.driver.extraJavaOptions", "spark.driver.defaultJavaOptions",
		"spark.executor.extraJavaOptions", "spark.executor.defaultJavaOptions",
	};
	const struct strmap *props;
	char scheme[32], host[256];
	const char *hit;
	int rc;

	if (!p->rules)
		return 0;
	props = &cr->spark_properties;
	for (size_t i = 0; i < props->len; i++) {
		const char *k = props->keys[i];

		if ((hit = list_match(&p->deny_property, k))) {
			snprintf(why, size, "policy rule \"deny property %s\" refuses sparkProperties key %s", hit, k);
			return 1;
		}
		if (p->allow_property.len && !list_match(&p->allow_property, k)) {
			snprintf(why, size, "sparkProperties key %s is not allowed by any \"allow property\" rule", k);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(java_option_keys) / sizeof(*java_option_keys); i++) {
		const char *v = strmap_get(props, java_option_keys[i]);

		if (v && (rc = check_java_options(p, v, java_option_keys[i], why, size)))
			return rc;
	}
	url_scheme_host(cr->app_resource ? cr->app_resource : "", scheme, sizeof(scheme), host, sizeof(host));
	if (p->allow_jar_scheme.len ? !list_match(&p->allow_jar_scheme, scheme)
	    : strcmp(scheme, "file") == 0 || strcmp(scheme, "local") == 0) {
		snprintf(why, size, p->allow_jar_scheme.len ? "appResource scheme \"%s\" is not allowed by any \"allow "
			 "jar-scheme\" rule" : "appResource scheme \"%s\" (a file on the cluster's machines) is refused "
			 "by default; \"allow jar-scheme\" lists what is allowed", scheme);
		return 1;
	}
	if (p->allow_jar_host.len && !list_match(&p->allow_jar_host, host)) {
		snprintf(why, size, "appResource host \"%s\" is not allowed by any \"allow jar-host\" rule", host);
		return 1;
	}
	for (size_t i = 0; p->allow_env.len && i < cr->environment.len; i++) {
		if (!list_match(&p->allow_env, cr->environment.keys[i])) {
			snprintf(why, size, "environment variable %s is not allowed by any \"allow env\" rule",
				 cr->environment.keys[i]);
			return 1;
		}
	}
	if (p->max_driver_cores > 0 && d->cores > p->max_driver_cores) {
		snprintf(why, size, "policy rule \"max driver-cores %ld\" refuses a driver with %d cores",
			 p->max_driver_cores, (int)d->cores);
		return 1;
	}
	if (p->max_driver_memory_mb > 0 && d->mem_mb > p->max_driver_memory_mb) {
		snprintf(why, size, "policy rule \"max driver-memory\" (%ld MiB) refuses a driver with %d MiB",
			 p->max_driver_memory_mb, (int)d->mem_mb);
		return 1;
	}
	if (p->deny_supervise && d->supervise) {
		snprintf(why, size, "policy rule \"supervise deny\" refuses spark.driver.supervise=true");
		return 1;
	}
	return 0;
}
