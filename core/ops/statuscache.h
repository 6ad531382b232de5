/* The status cache: Spark's status answers, shared by every sparkgate process of a host.
 *
 * On this protocol every round trip costs the master's JVM far more than sparkgate (it
 * deserializes each RequestMessage and serializes each reply), and the master is also the
 * cluster's scheduler.  So a driver's status is answered from what the master said at most
 * max-age ago; askers of a stale entry wait for the one ask already in flight, whichever
 * process made it, instead of asking too.  The table lives in POSIX shared memory (one per
 * user and configuration: master list and pinned release), guarded by one robust process-
 * shared mutex; waiters sleep on a futex in the slot.  It is a cache: when anything about it
 * fails (no shared memory, an answer too big for a slot, a full set) requests simply ask. */
#ifndef SG_STATUSCACHE_H
#define SG_STATUSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define STATUS_CACHE_DEFAULT_MAX_AGE_MS 1000

struct status_cache;

/* What the master said about one driver, beside the answer's bytes. */
struct status_record {
	int http_status;            /* of the answer */
	int known;                  /* the master knows the driver (success) */
	int state;                  /* DRIVER_STATE index, or -1 */
	char worker_id[96];         /* "" none */
	char worker_host_port[96];
};

struct master;

/* The key of the table a configuration may share (into out, at most n bytes): the master
 * list, the pinned release (or ""), and what the connection's answers depend on beside
 * them: the credentials (a digest of spark.authenticate's secret, never the secret) and the
 * transport (AES engine version, cipher, fallback; TLS and a digest of its trust), so a
 * sparkgate with another secret, or plain beside encrypted, never reads another's answers. */
int status_cache_key(const struct master *m, const char *spark_version, char *out, size_t n);

/* Opens (creating and initialising if needed) the table named by key (any text that tells
 * configurations apart); refuses one another user made or could write.  NULL with e set. */
struct status_cache *status_cache_open(const char *key, int max_age_ms, struct sg_err *e);
void status_cache_close(struct status_cache *c);

enum status_lookup {
	STATUS_HIT,      /* the answer is in out (unless NULL), the record in *rec */
	STATUS_ASK,      /* ask the master, then status_cache_put or _abandon (others wait) */
	STATUS_BYPASS,   /* ask the master without the cache */
};

/* The answer for submission id if the master gave it at most max-age ago; if another
 * process is asking for it, waits for that answer (until deadline, CLOCK_MONOTONIC ms). */
enum status_lookup status_cache_get(struct status_cache *c, const char *id, int64_t deadline_ms,
				    struct status_record *rec, struct buf *out);
/* The master's answer for id after STATUS_ASK (wakes the waiters); rec NULL or an answer
 * bigger than a slot: not shared (everyone asks for max-age). */
void status_cache_put(struct status_cache *c, const char *id, const struct status_record *rec, const char *body,
		      size_t len);
/* No answer after STATUS_ASK (a waiter asks instead). */
void status_cache_abandon(struct status_cache *c, const char *id);
/* What sparkgate just did to id (kill, create) may have changed it: the next read asks. */
void status_cache_forget(struct status_cache *c, const char *id);
/* ... to every driver (killall, clear). */
void status_cache_forget_all(struct status_cache *c);

struct status_cache_stats {
	uint64_t hits, asks, waits;
};
void status_cache_stats(struct status_cache *c, struct status_cache_stats *s);

/* The shared memory object's name for key ("/sparkgate-status-vLAYOUT-UID-HASH"). */
void status_cache_name(const char *key, char *name, size_t size);

#endif
