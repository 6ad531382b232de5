/* What sparkgate asks the master to run: the C form of Spark's DriverDescription and
 * Command (core/src/main/scala/org/apache/spark/deploy/DriverDescription.scala,
 * Command.scala).  Every string is owned (malloc'd) by the struct. */
#ifndef SG_DRIVER_H
#define SG_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct strlist {
	char **items;
	size_t len, cap;
};

/* An insertion-ordered string map (Command.environment). */
struct strmap {
	char **keys;
	char **values;
	size_t len, cap;
};

struct resource_req {
	char *name;
	int32_t amount;
	int32_t num_parts;
};

struct driver_desc {
	char *jar_url;
	int32_t mem_mb;
	int32_t cores;
	int supervise;
	/* Command */
	char *main_class;
	struct strlist arguments;
	struct strmap environment;
	struct strlist class_path;
	struct strlist library_path;
	struct strlist java_opts;
	struct resource_req *resources;
	size_t nresources;
};

void strlist_init(struct strlist *l);
void strlist_release(struct strlist *l);
int strlist_add(struct strlist *l, const char *s);
int strlist_addn(struct strlist *l, const char *s, size_t n);

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Sets key to value; an existing key keeps its position. */
int strmap_set(struct strmap *m, const char *key, const char *value);
const char *strmap_get(const struct strmap *m, const char *key);

void driver_desc_init(struct driver_desc *d);
void driver_desc_release(struct driver_desc *d);
int driver_desc_add_resource(struct driver_desc *d, const char *name, int32_t amount, int32_t num_parts);

#endif
