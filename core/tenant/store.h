/* Who submitted what: one row per create, in a SQLite file (WAL mode) that every sparkgate
 * process under the web server shares and that outlives restarts of sparkgate and of the
 * master.  Why SQLite: several processes write it at once (mod_fcgid, max-procs), and an
 * idempotency key must be claimed atomically across them; the master keeps no field we
 * could put an owner in and read back with a status request.
 *
 * A create first claims its row ("pending"), then asks the master, then records the
 * outcome: the driver id ("submitted"), nothing (the master or validation refused: the
 * row goes), or "unknown" (the request may have reached the master; a retry with the same
 * key must not start a second driver). */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct store;

enum claim_result {
	CLAIM_NEW,            /* row claimed: go ahead and ask the master; *row set */
	CLAIM_DONE,           /* this owner+key already created driver id */
	CLAIM_IN_FLIGHT,      /* another request with this key is being sent right now */
	CLAIM_UNKNOWN,        /* an earlier request with this key has an unknown outcome */
};

struct store_entry {
	int64_t row;               /* the create's row: Livy's batch id (servlets/livy.c) */
	char id[128];              /* "" when the outcome is unknown */
	int unknown;               /* the create may or may not have reached the master */
	char owner[256];
	int64_t created_ms;
	char app_name[256];
	char main_class[256];
	int64_t running_ms;        /* first seen RUNNING by a listing, or 0 */
	int64_t ended_ms;          /* first seen in a final state, or 0 */
	char app_id[128];          /* its application, once found (servlets/logs.h, app_links), or "" */
	char ui_url[300];          /* that application's UI address as the driver reported it, or "" */
};

/* Opens (creating the tables if needed) the database: a SQLite file's path, or a PostgreSQL
 * connection URI (postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?...], libpq's), shared by
 * the gateways of several hosts.  A PostgreSQL that does not answer yet is not an error:
 * see store_warning. */
struct store *store_open(const char *path, struct sg_err *e);
void store_close(struct store *s);

/* A claim: who holds it (holder: "HOST PID START", see tenant.c), until when its create may
 * still reach the master (lease_ms, wall clock), and the submission token that create
 * carries (deploy.h), so that the master's drivers tell what became of it. */
#define STORE_TOKEN_SIZE 40
#define STORE_HOLDER_SIZE 320
struct store_claim {
	enum claim_result state;   /* CLAIM_NEW: claimed by this request */
	int64_t row;
	char id[128];              /* CLAIM_DONE: the driver */
	char token[STORE_TOKEN_SIZE];
	char holder[STORE_HOLDER_SIZE];
	int64_t created_ms;
	int64_t lease_ms;
	int key_set;               /* the create carried an idempotency key */
};

/* Claims a create for owner with mine's token, holder, created and lease times; key may be
 * NULL (no idempotency).  *found: CLAIM_NEW (row set), or the earlier claim of this key as
 * it stands.  0, or <0 on a database error. */
int store_claim(struct store *s, const char *owner, const char *key, const struct store_claim *mine, int cores,
		int memory_mb, struct store_claim *found, struct sg_err *e);
/* The earlier claim old (pending or unknown, token unchanged since read) becomes mine's:
 * *taken 1 when this request now holds it (of several, one wins). */
int store_take_over(struct store *s, const struct store_claim *old, const struct store_claim *mine, int *taken,
		    struct sg_err *e);
/* What the master said of claim c (if it still has c's token): driver id, or NULL (it has
 * no such driver: the claim goes and its key is free). */
int store_resolve(struct store *s, const struct store_claim *c, const char *id, struct sg_err *e);
/* Claims not finished (pending or unknown) that carry a token: owner's, or everyone's. */
int store_unresolved(struct store *s, const char *owner, size_t max, struct store_claim *out, size_t *n,
		     struct sg_err *e);
/* Outcome of a claimed create: id (accepted), NULL with unknown=0 (refused: forget it), or
 * NULL with unknown=1. */
int store_finish(struct store *s, int64_t row, const char *id, int unknown, const char *app_name,
		 const char *main_class, struct sg_err *e);

/* Why the store could not be used yet at store_open (PostgreSQL down), for the log, or NULL. */
const char *store_warning(const struct store *s);
/* How many operations of this handle have failed (for /metrics). */
uint64_t store_errors(const struct store *s);

/* Whether the database answers a read (for /readyz): 0, or <0 with e. */
int store_ping(struct store *s, struct sg_err *e);

/* The owner of driver id into owner; 0 found, 1 not found, <0 error. */
int store_owner(struct store *s, const char *id, char *owner, size_t size, struct sg_err *e);

/* Submitted drivers and creates whose outcome is unknown, newest first: owner's, or
 * everyone's with owner NULL.  At most max. */
int store_list(struct store *s, const char *owner, size_t max, struct store_entry *out, size_t *n,
	       struct sg_err *e);

/* Livy's batches (servlets/livy.c): a create's row is its batch id, an integer that
 * SQLite's rowid and PostgreSQL's sequence give once.  One batch by row, or by driver
 * id if id is not NULL (0 found, 1 not found or not submitted, <0 error); a page of owner's (NULL: everyone's) in the order
 * they were created, from the from-th, at most max, with *total the number there are. */
int store_batch(struct store *s, int64_t row, const char *id, struct store_entry *out, struct sg_err *e);
int store_batches(struct store *s, const char *owner, size_t from, size_t max, struct store_entry *out, size_t *n,
		  size_t *total, struct sg_err *e);

/* Which submitted drivers a listing shows: owner's (NULL: everyone's), of application
 * name (NULL: any), created at since_ms or later (0: any time). */
struct store_filter {
	const char *owner;
	const char *name;
	int64_t since_ms;
	int oldest_first;          /* else newest first, as store_list */
};
/* A page of the drivers f selects: from the from-th, at most max, *total all of them. */
int store_search(struct store *s, const struct store_filter *f, size_t from, size_t max, struct store_entry *out,
		 size_t *n, size_t *total, struct sg_err *e);

/* What an owner's drivers hold for quotas: submitted ones not yet seen finished, and
 * claims still in flight (id ""). */
struct store_usage {
	char id[128];
	int cores;
	int memory_mb;
};

int store_active(struct store *s, const char *owner, int64_t now_ms, int64_t stale_ms, size_t max,
		 struct store_usage *out, size_t *n, struct sg_err *e);
/* A listing saw driver id running (ended 0) or in a final state (ended 1) at now_ms: the
 * first such time is kept, for the driver's timeline. */
int store_observe(struct store *s, const char *id, int ended, int64_t now_ms, struct sg_err *e);
/* Records driver id's application (its id and UI address, ui_url may be "") once: a row
 * that has one keeps it. */
int store_links(struct store *s, const char *id, const char *app_id, const char *ui_url, struct sg_err *e);
/* The master reported driver id in a final state. */
int store_mark_finished(struct store *s, const char *id, struct sg_err *e);

/* Uploaded application files (PUT /v1/files/NAME): one row per stored file. */
struct store_file {
	char id[72];               /* hex HMAC naming the file's folder */
	char owner[256];
	char name[128];
	int64_t size;
	char sha256[72];           /* hex */
	int64_t created_ms;
	int in_store;              /* the bytes are in file_chunks (a shared store), not on disk */
};

/* Records f unless its owner's files would then hold more than quota bytes (quota < 0: no
 * limit), in one step for every process: 0 recorded (or already there), 1 over the quota
 * (*total says what the owner holds), <0 error. */
int store_file_add(struct store *s, const struct store_file *f, int64_t quota, int64_t *total, struct sg_err *e);
/* The same for bytes already written as the pieces of chunks (a "tmp-..." id, see
 * store_chunk_put): once recorded they become f->id's, in the same transaction (a file the
 * row says is on a disk gets them too).  Pieces not taken stay under chunks' id: the
 * caller drops them (store_chunks_drop) whatever the outcome. */
int store_file_add_chunks(struct store *s, const struct store_file *f, const char *chunks, int64_t quota,
			  int64_t *total, struct sg_err *e);
/* The bytes an owner's files hold. */
int store_file_total(struct store *s, const char *owner, int64_t *total, struct sg_err *e);
/* An owner's files, newest first, at most max. */
int store_file_list(struct store *s, const char *owner, size_t max, struct store_file *out, size_t *n,
		    struct sg_err *e);
/* File id: 0 found (into *f), 1 not found, <0 error. */
int store_file_get(struct store *s, const char *id, struct store_file *f, struct sg_err *e);
/* Deletes file id's row and its pieces together. */
int store_file_delete(struct store *s, const char *id, struct sg_err *e);

/* A shared store (PostgreSQL, several hosts): uploads are kept in it, not on a disk. */
int store_is_shared(const struct store *s);
/* The value every host uses for name: mine if none was stored yet (the first host's wins). */
int store_shared_key(struct store *s, const char *name, const char *mine, char *value, size_t size, struct sg_err *e);
/* Piece n (0, 1, ...) of the bytes of id: at most LIMIT_FILE_CHUNK bytes each. */
int store_chunk_put(struct store *s, const char *id, int64_t n, const void *data, size_t len, struct sg_err *e);
/* Exactly len bytes from off in piece n of id, appended to out: 0, 1 no such piece,
 * ERR_TRUNCATED (the piece is shorter), ERR_TOO_LARGE (past out's maximum), <0. */
int store_chunk_read(struct store *s, const char *id, int64_t n, int64_t off, size_t len, struct buf *out,
		     struct sg_err *e);
int store_chunks_drop(struct store *s, const char *id, struct sg_err *e);
/* Ids of uploads being written ("tmp-..."), at most max, for the sweep of those that are over. */
#define STORE_CHUNKS_ID_SIZE 80
int store_chunk_uploads(struct store *s, size_t max, char (*ids)[STORE_CHUNKS_ID_SIZE], size_t *n, struct sg_err *e);

#endif
