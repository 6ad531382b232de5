/* A table in POSIX shared memory that every sparkgate process of one user and one
 * configuration maps (the status cache, the metrics): /dev/shm/sparkgate-KIND-vLAYOUT-UID-
 * HASH, made with O_EXCL and mode 0600; one that exists is used only if it is this user's
 * alone (not a link, owner, no group/other access): its contents would otherwise be another
 * user's to forge.  A name another local user took first cannot be taken back: that process
 * runs without the table (the error says so and names the owner).  One process initialises
 * a table, under flock. */
#ifndef SG_SHM_H
#define SG_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* FNV-1a of a string: the names' HASH, and the status cache's sets. */
uint64_t shm_hash(const char *s);

/* "/sparkgate-KIND-vLAYOUT-UID-HASH" for key (any text that tells configurations apart). */
void shm_table_name(const char *kind, unsigned layout, const char *key, char *name, size_t size);

/* Maps name (size bytes), calling init on a new table or one whose valid() says it is not
 * of this layout.  The mapping, or NULL with e (what names the table in messages). */
void *shm_table_open(const char *name, size_t size, int (*valid)(const void *t), int (*init)(void *t),
		     const char *what, struct sg_err *e);

#endif
