#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

void policy_release(struct policy *p)
{
	for (size_t i = 0; i < p->ngroups; i++) {
		for (size_t k = 0; k < p->groups[i].nmembers; k++)
			free(p->groups[i].members[k]);
		free(p->groups[i].members);
		free(p->groups[i].name);
	}
	free(p->groups);
	free(p->admin_group);
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

static int add_member(struct policy_group *g, const char *user)
{
	char **m = realloc(g->members, (g->nmembers + 1) * sizeof(*m));

	if (!m)
		return ERR_NOMEM;
	g->members = m;
	if (!(m[g->nmembers] = strdup(user)))
		return ERR_NOMEM;
	g->nmembers++;
	return 0;
}

int policy_parse(struct policy *p, const char *text, size_t len, struct sg_err *e)
{
	const char *end = text + len;
	int lineno = 0;

	for (const char *line = text; line < end; ) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *cur = line, *stop;
		char verb[32], name[256], tok[256];

		eol = eol ? eol : end;
		stop = memchr(line, '#', (size_t)(eol - line));
		stop = stop ? stop : eol;
		lineno++;
		line = eol + 1;
		if (!word(&cur, stop, verb, sizeof(verb)))
			continue;   /* blank or comment */
		if (strcmp(verb, "group") == 0) {
			struct policy_group *g;

			if (!word(&cur, stop, name, sizeof(name)) || !word(&cur, stop, tok, sizeof(tok)) || strcmp(tok, "="))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"group NAME = USER...\"", lineno);
			if (!(g = group_get(p, name)))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
			while (word(&cur, stop, tok, sizeof(tok)))
				if (add_member(g, tok))
					return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		} else if (strcmp(verb, "admins") == 0) {
			if (!word(&cur, stop, name, sizeof(name)) || word(&cur, stop, tok, sizeof(tok)))
				return sg_err_set(e, ERR_INVALID, 0, "policy line %d: expected \"admins GROUP\"", lineno);
			free(p->admin_group);
			if (!(p->admin_group = strdup(name)))
				return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
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
		for (size_t k = 0; k < p->groups[i].nmembers; k++)
			if (strcmp(p->groups[i].members[k], user) == 0)
				return 1;
	}
	return 0;
}

int policy_is_admin(const struct policy *p, const char *user)
{
	return policy_in_group(p, user, p->admin_group);
}
