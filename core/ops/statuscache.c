#include "ops/statuscache.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spark/master.h"
#include "base/crypto.h"
#include "base/shm.h"
#include "base/tls.h"

#define SC_MAGIC 0x53474331u   /* "SGC1" */
#define SC_VERSION 2u
#define SC_WAYS 8              /* an id lives in one set of 8 slots */
#define SC_SETS 128
#define SC_SLOTS (SC_WAYS * SC_SETS)
#define SC_ID 64               /* Spark's ids are driver-yyyyMMddHHmmss-NNNN (27 bytes) */
#define SC_BODY 1792           /* a status answer with a short exception text fits */

struct sc_slot {
	uint32_t seq;          /* futex word: bumped when an ask ends */
	uint32_t len;          /* of body; 0: no answer */
	int32_t asker;         /* pid asking the master for it, or 0 */
	struct status_record rec;
	int64_t asking_until;  /* the asker's deadline */
	int64_t fetched_ms;    /* when the master's answer arrived; 0: stale */
	int64_t bypass_until;  /* its answer was too big for a slot: ask without the cache */
	int64_t used_ms;       /* last read, for eviction */
	char id[SC_ID];        /* "" free */
	char body[SC_BODY];
};

struct sc_table {
	uint32_t magic, version, nslots, slot_size;
	pthread_mutex_t lock;
	uint64_t hits, asks, waits;
	struct sc_slot slots[SC_SLOTS];
};

struct status_cache {
	struct sc_table *t;
	int max_age_ms;
	int32_t pid;
};

int status_cache_key(const struct master *m, const char *spark_version, char *out, size_t n)
{
	struct buf url = BUF_INIT(1024);
	char secret[2 * CRYPTO_SHA256_LEN + 1] = "none";
	int rc = master_url(m, &url), len;

	if (m->secret) {
		static const char domain[] = "sparkgate status cache key\n";
		struct sha256 h;
		uint8_t md[CRYPTO_SHA256_LEN];

		/* no digest, no sharing: a key of its own for this process */
		if (sha256_begin(&h) || sha256_add(&h, domain, sizeof(domain) - 1)
		    || sha256_add(&h, m->secret, strlen(m->secret)) || sha256_end(&h, md))
			snprintf(secret, sizeof(secret), "unhashed-%d", (int)getpid());
		else
			crypto_hex(md, sizeof(md), secret);
	}
	len = rc ? -1 : snprintf(out, n, "%s|%s|auth=%s|aes=%d/%d/%d/%d|tls=%s", buf_str(&url),
				 spark_version ? spark_version : "", secret, m->crypto.enabled, m->crypto.version,
				 m->crypto.cipher, m->crypto.sasl_fallback, m->tls ? tls_ctx_id(m->tls) : "off");
	buf_release(&url);
	explicit_bzero(secret, sizeof(secret));
	return len < 0 || (size_t)len >= n ? ERR_TOO_LARGE : 0;
}

void status_cache_name(const char *key, char *name, size_t size)
{
	shm_table_name("status", SC_VERSION, key, name, size);
}

static int init_table(void *table)
{
	struct sc_table *t = table;
	pthread_mutexattr_t a;
	int rc;

	memset(t, 0, offsetof(struct sc_table, slots));
	if (pthread_mutexattr_init(&a))
		return -1;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) || pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)
	     || pthread_mutex_init(&t->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (rc)
		return -1;
	t->version = SC_VERSION;
	t->nslots = SC_SLOTS;
	t->slot_size = (uint32_t)sizeof(struct sc_slot);
	__atomic_store_n(&t->magic, SC_MAGIC, __ATOMIC_RELEASE);   /* last: the table is ready */
	return 0;
}

static int valid_table(const void *table)
{
	const struct sc_table *t = table;

	return t->magic == SC_MAGIC && t->version == SC_VERSION && t->nslots == SC_SLOTS
	       && t->slot_size == sizeof(struct sc_slot);
}

struct status_cache *status_cache_open(const char *key, int max_age_ms, struct sg_err *e)
{
	char name[96];
	struct status_cache *c;
	struct sc_table *t;

	status_cache_name(key, name, sizeof(name));
	if (!(t = shm_table_open(name, sizeof(*t), valid_table, init_table, "status cache", e)))
		return NULL;
	if (!(c = calloc(1, sizeof(*c)))) {
		munmap(t, sizeof(*t));
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	c->t = t;
	c->max_age_ms = max_age_ms;
	c->pid = (int32_t)getpid();
	return c;
}

void status_cache_close(struct status_cache *c)
{
	if (!c)
		return;
	munmap(c->t, sizeof(*c->t));
	free(c);
}

/* Empties a slot; its futex word only moves on (someone may sleep on it). */
static void reset_slot(struct sc_slot *s)
{
	uint32_t seq = s->seq;

	memset(s, 0, offsetof(struct sc_slot, body));
	s->seq = seq + 1;
}

/* A process died holding the lock, maybe halfway through a slot: forget everything. */
static void lock(struct status_cache *c)
{
	if (pthread_mutex_lock(&c->t->lock) == EOWNERDEAD) {
		for (size_t i = 0; i < SC_SLOTS; i++)
			if (c->t->slots[i].id[0])
				reset_slot(&c->t->slots[i]);
		pthread_mutex_consistent(&c->t->lock);
	}
}

static void unlock(struct status_cache *c)
{
	pthread_mutex_unlock(&c->t->lock);
}

static struct sc_slot *find(struct status_cache *c, const char *id)
{
	struct sc_slot *set = &c->t->slots[(shm_hash(id) % SC_SETS) * SC_WAYS];

	for (int i = 0; i < SC_WAYS; i++)
		if (strcmp(set[i].id, id) == 0)
			return &set[i];
	return NULL;
}

static int asker_alive(const struct sc_slot *s, int64_t now)
{
	return s->asker && s->asking_until > now && (kill(s->asker, 0) == 0 || errno == EPERM);
}

/* A free slot of id's set, else the least recently used one nobody is asking for. */
static struct sc_slot *victim(struct status_cache *c, const char *id, int64_t now)
{
	struct sc_slot *set = &c->t->slots[(shm_hash(id) % SC_SETS) * SC_WAYS], *v = NULL;

	for (int i = 0; i < SC_WAYS; i++) {
		if (!set[i].id[0])
			return &set[i];
		if (!asker_alive(&set[i], now) && (!v || set[i].used_ms < v->used_ms))
			v = &set[i];
	}
	return v;
}

static void wait_for_asker(struct sc_slot *s, uint32_t seq, int64_t until_ms)
{
	int64_t left = until_ms - master_now_ms();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = left / 1000;
	ts.tv_nsec = (left % 1000) * 1000000;
	/* shared futex (no FUTEX_PRIVATE_FLAG): the waker is another process */
	syscall(SYS_futex, &s->seq, FUTEX_WAIT, seq, &ts, NULL, 0);
}

enum status_lookup status_cache_get(struct status_cache *c, const char *id, int64_t deadline_ms,
				    struct status_record *rec, struct buf *out)
{
	struct sc_slot *s;
	int waited = 0;

	if (!c || strlen(id) >= SC_ID)
		return STATUS_BYPASS;
	lock(c);
	for (;;) {
		int64_t now = master_now_ms();

		s = find(c, id);
		if (s && s->bypass_until > now) {
			unlock(c);
			return STATUS_BYPASS;
		}
		if (s && s->fetched_ms && s->len && now - s->fetched_ms <= c->max_age_ms) {
			s->used_ms = now;
			if (out) {
				buf_reset(out);
				if (buf_add(out, s->body, s->len)) {
					unlock(c);
					return STATUS_BYPASS;
				}
			}
			*rec = s->rec;
			c->t->hits++;
			unlock(c);
			return STATUS_HIT;
		}
		if (s && s->asker != c->pid && asker_alive(s, now)) {
			uint32_t seq = s->seq;
			int64_t until = s->asking_until < deadline_ms ? s->asking_until : deadline_ms;

			if (now >= deadline_ms) {
				unlock(c);
				return STATUS_BYPASS;   /* the ask path reports the deadline */
			}
			if (!waited++)
				c->t->waits++;
			unlock(c);
			wait_for_asker(s, seq, until);
			lock(c);
			continue;   /* the slot may hold another id by now: look again */
		}
		if (!s && (s = victim(c, id, now)) != NULL) {
			reset_slot(s);
			memcpy(s->id, id, strlen(id) + 1);
		}
		if (!s) {
			unlock(c);
			return STATUS_BYPASS;   /* every slot of the set is being asked for */
		}
		s->asker = c->pid;
		s->asking_until = deadline_ms;
		s->used_ms = now;
		c->t->asks++;
		unlock(c);
		return STATUS_ASK;
	}
}

static void end_ask(struct status_cache *c, const char *id, const struct status_record *rec, const char *body,
		    size_t len)
{
	struct sc_slot *s;

	if (!c || strlen(id) >= SC_ID)
		return;
	lock(c);
	s = find(c, id);
	if (s && s->asker == c->pid) {
		if (body && rec && len <= SC_BODY) {
			memcpy(s->body, body, len);
			s->len = (uint32_t)len;
			s->rec = *rec;
			s->fetched_ms = master_now_ms();
		} else if (body) {
			s->len = 0;   /* too big to share: everyone asks, for max-age */
			s->fetched_ms = 0;
			s->bypass_until = master_now_ms() + c->max_age_ms;
		}
		s->asker = 0;
		__atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &s->seq, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	}
	unlock(c);
}

void status_cache_put(struct status_cache *c, const char *id, const struct status_record *rec, const char *body,
		      size_t len)
{
	end_ask(c, id, rec, body, len);
}

void status_cache_abandon(struct status_cache *c, const char *id)
{
	end_ask(c, id, NULL, NULL, 0);
}

void status_cache_forget(struct status_cache *c, const char *id)
{
	struct sc_slot *s;

	if (!c || strlen(id) >= SC_ID)
		return;
	lock(c);
	if ((s = find(c, id)) != NULL)
		s->fetched_ms = 0;
	unlock(c);
}

void status_cache_forget_all(struct status_cache *c)
{
	if (!c)
		return;
	lock(c);
	for (size_t i = 0; i < SC_SLOTS; i++)
		c->t->slots[i].fetched_ms = 0;
	unlock(c);
}

void status_cache_stats(struct status_cache *c, struct status_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	lock(c);
	st->hits = c->t->hits;
	st->asks = c->t->asks;
	st->waits = c->t->waits;
	unlock(c);
}
