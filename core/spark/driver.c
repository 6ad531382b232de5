#include "spark/driver.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int grow(void **items, size_t *cap, size_t len, size_t size)
{
	size_t ncap;
	void *p;

	if (len < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*items, ncap * size);
	if (!p)
		return ERR_NOMEM;
	*items = p;
	*cap = ncap;
	return 0;
}

void strlist_init(struct strlist *l)
{
	memset(l, 0, sizeof(*l));
}

void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	strlist_init(l);
}

int strlist_addn(struct strlist *l, const char *s, size_t n)
{
	char *c;

	if (grow((void **)&l->items, &l->cap, l->len, sizeof(*l->items)))
		return ERR_NOMEM;
	c = dup_n(s, n);
	if (!c)
		return ERR_NOMEM;
	l->items[l->len++] = c;
	return 0;
}

int strlist_add(struct strlist *l, const char *s)
{
	return strlist_addn(l, s, strlen(s));
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->len; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	strmap_init(m);
}

int strmap_set(struct strmap *m, const char *key, const char *value)
{
	char *v = dup_n(value, strlen(value)), *k;
	size_t cap;

	if (!v)
		return ERR_NOMEM;
	for (size_t i = 0; i < m->len; i++) {
		if (strcmp(m->keys[i], key) == 0) {
			free(m->values[i]);
			m->values[i] = v;
			return 0;
		}
	}
	k = dup_n(key, strlen(key));
	cap = m->cap;
	if (!k || grow((void **)&m->keys, &cap, m->len, sizeof(*m->keys))
	    || grow((void **)&m->values, &m->cap, m->len, sizeof(*m->values))) {
		free(k);
		free(v);
		return ERR_NOMEM;
	}
	m->keys[m->len] = k;
	m->values[m->len] = v;
	m->len++;
	return 0;
}

const char *strmap_get(const struct strmap *m, const char *key)
{
	for (size_t i = 0; i < m->len; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

void driver_desc_init(struct driver_desc *d)
{
	memset(d, 0, sizeof(*d));
}

void driver_desc_release(struct driver_desc *d)
{
	free(d->jar_url);
	free(d->main_class);
	strlist_release(&d->arguments);
	strmap_release(&d->environment);
	strlist_release(&d->class_path);
	strlist_release(&d->library_path);
	strlist_release(&d->java_opts);
	for (size_t i = 0; i < d->nresources; i++)
		free(d->resources[i].name);
	free(d->resources);
	driver_desc_init(d);
}

int driver_desc_add_resource(struct driver_desc *d, const char *name, int32_t amount, int32_t num_parts)
{
	struct resource_req *r;
	char *n = dup_n(name, strlen(name));

	if (!n)
		return ERR_NOMEM;
	r = realloc(d->resources, (d->nresources + 1) * sizeof(*r));
	if (!r) {
		free(n);
		return ERR_NOMEM;
	}
	d->resources = r;
	r[d->nresources].name = n;
	r[d->nresources].amount = amount;
	r[d->nresources].num_parts = num_parts;
	d->nresources++;
	return 0;
}
