/* The state store (store.h) over sqldb.h: every statement once, for SQLite and PostgreSQL. */
#include "tenant/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sqldb.h"

struct store {
	struct sqldb *db;
	uint64_t errors;   /* operations that failed, for /metrics */
	int schema_pending;   /* PostgreSQL was down at start: the schema is made on first use */
	char warning[sizeof(((struct sg_err *)0)->msg) + 64];
};

/* The schema in what both dialects accept, but the row key: SQLite's INTEGER PRIMARY KEY is
 * its rowid, PostgreSQL's BIGSERIAL a sequence.  Times are milliseconds (BIGINT). */
#define SCHEMA(ROW_KEY) \
	"CREATE TABLE IF NOT EXISTS submissions (" \
	"  row " ROW_KEY "," \
	"  id TEXT UNIQUE,"                 /* NULL until the master accepted it */ \
	"  owner TEXT NOT NULL," \
	"  idem_key TEXT," \
	"  state TEXT NOT NULL,"            /* pending | submitted | unknown */ \
	"  created_ms BIGINT NOT NULL," \
	"  app_name TEXT, main_class TEXT," \
	"  cores INTEGER NOT NULL DEFAULT 0, memory_mb INTEGER NOT NULL DEFAULT 0," \
	"  finished INTEGER NOT NULL DEFAULT 0,"   /* seen in a final state: no longer counts */ \
	"  UNIQUE (owner, idem_key));" \
	"CREATE INDEX IF NOT EXISTS by_owner ON submissions (owner, created_ms);" \
	"CREATE TABLE IF NOT EXISTS files (" \
	"  id TEXT PRIMARY KEY," \
	"  owner TEXT NOT NULL," \
	"  name TEXT NOT NULL," \
	"  size BIGINT NOT NULL," \
	"  sha256 TEXT NOT NULL," \
	"  created_ms BIGINT NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS files_by_owner ON files (owner, created_ms);" \
	/* a shared store's uploads: LIMIT_FILE_CHUNK bytes a row ("tmp-..." ids: being written) */ \
	"CREATE TABLE IF NOT EXISTS file_chunks (" \
	"  id TEXT NOT NULL," \
	"  n INTEGER NOT NULL," \
	"  data BYTEA NOT NULL," \
	"  PRIMARY KEY (id, n));" \
	/* keys every host of a shared store uses alike (the uploads' naming key) */ \
	"CREATE TABLE IF NOT EXISTS shared_keys (" \
	"  name TEXT PRIMARY KEY," \
	"  value TEXT NOT NULL);"

static const char sqlite_schema[] = "PRAGMA journal_mode=WAL;" SCHEMA("INTEGER PRIMARY KEY");
/* Two hosts starting at once must not both create the tables: one at a time. */
static const char postgres_schema[] =
	"BEGIN; SELECT pg_advisory_xact_lock(7370726);" SCHEMA("BIGSERIAL PRIMARY KEY")
	/* jars and eggs are compressed already, and a range is read without the whole row */
	"ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;"
	"COMMIT;";

/* Columns later versions added (an earlier version's database gets them on first use). */
static const char *const added_columns[][3] = {
	{ "submissions", "running_ms", "BIGINT" },
	{ "submissions", "ended_ms", "BIGINT" },
	/* a claim's submission token (in the driver's javaOpts), its holder and lease */
	{ "submissions", "token", "TEXT" },
	{ "submissions", "holder", "TEXT" },
	{ "submissions", "lease_ms", "BIGINT" },
	/* the application a driver started, found in its log (servlets/logs.c, app_links) */
	{ "submissions", "app_id", "TEXT" },
	{ "submissions", "ui_url", "TEXT" },
	/* an upload's bytes are in file_chunks (a shared store), not on a host's disk */
	{ "files", "in_store", "INTEGER NOT NULL DEFAULT 0" },
};

uint64_t store_errors(const struct store *s)
{
	return s ? s->errors : 0;
}

/* Every failed operation passes here: counted, and e says which one. */
static int failed(struct store *s, int rc, struct sg_err *e, const char *what)
{
	char msg[sizeof(e->msg)];

	s->errors++;
	if (e) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		sg_err_set(e, rc == ERR_NOMEM ? ERR_NOMEM : ERR_IO, 0, "%s (%s)", msg, what);
	}
	return rc == ERR_NOMEM ? ERR_NOMEM : ERR_IO;
}

static int make_schema(struct store *s, struct sg_err *e)
{
	int rc = sqldb_script(s->db, sqldb_kind(s->db) == SQLDB_POSTGRES ? postgres_schema : sqlite_schema, e);

	for (size_t i = 0; !rc && i < sizeof(added_columns) / sizeof(added_columns[0]); i++)
		rc = sqldb_add_column(s->db, added_columns[i][0], added_columns[i][1], added_columns[i][2], e);
	if (!rc)
		s->schema_pending = 0;
	return rc;
}

static int exec(struct store *s, const char *what, const char *sql, const struct sql_arg *args, size_t n,
		struct sql_result *res, struct sg_err *e)
{
	int rc = s->schema_pending ? make_schema(s, e) : 0;

	rc = rc ? rc : sqldb_exec(s->db, sql, args, n, res, e);
	return rc ? failed(s, rc, e, what) : 0;
}

const char *store_warning(const struct store *s)
{
	return s && s->warning[0] ? s->warning : NULL;
}

struct store *store_open(const char *target, struct sg_err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (!(s->db = sqldb_open(target, e))) {
		free(s);
		return NULL;
	}
	rc = make_schema(s, e);
	if (rc == ERR_IO && sqldb_kind(s->db) == SQLDB_POSTGRES) {
		/* not reachable now: requests get JSON 503 until it is */
		s->schema_pending = 1;
		snprintf(s->warning, sizeof(s->warning), "%s: requests that need it get 503 until it answers", e->msg);
		memset(e, 0, sizeof(*e));
		rc = 0;
	}
	if (rc) {
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqldb_close(s->db);
	free(s);
}

/* What became of an earlier claim of this key: row, id, state, token, holder, lease. */
static void read_claim(const struct sql_result *res, struct store_claim *c)
{
	const char *state = sql_text(res, 0, 2);

	c->row = sql_int(res, 0, 0);
	snprintf(c->id, sizeof(c->id), "%s", sql_text(res, 0, 1));
	snprintf(c->token, sizeof(c->token), "%s", sql_text(res, 0, 3));
	/* a claim an earlier version left pending (no token, no lease): its outcome is unknown */
	c->state = strcmp(state, "submitted") == 0 ? CLAIM_DONE
		: strcmp(state, "pending") == 0 && c->token[0] ? CLAIM_IN_FLIGHT : CLAIM_UNKNOWN;
	snprintf(c->holder, sizeof(c->holder), "%s", sql_text(res, 0, 4));
	c->lease_ms = sql_int(res, 0, 5);
	c->key_set = !sql_is_null(res, 0, 6);
}

int store_claim(struct store *s, const char *owner, const char *key, const struct store_claim *mine, int cores,
		int memory_mb, struct store_claim *found, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(owner), ARG_TEXT(key), ARG_INT(mine->created_ms), ARG_INT(cores),
					ARG_INT(memory_mb), ARG_TEXT(mine->token), ARG_TEXT(mine->holder),
					ARG_INT(mine->lease_ms) };
	struct sql_result res = { 0 };
	int rc;

	memset(found, 0, sizeof(*found));
	found->state = CLAIM_NEW;
	/* One statement claims the key for every process of every host: the insert happens
	 * only if (owner, key) is new (NULL keys never conflict). */
	rc = exec(s, "claim", "INSERT INTO submissions (owner, idem_key, state, created_ms, cores, memory_mb, token, "
		  "holder, lease_ms) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, idem_key) DO NOTHING "
		  "RETURNING row", args, 8, &res, e);
	if (!rc && res.nrows) {
		found->row = sql_int(&res, 0, 0);
	} else if (!rc) {   /* claimed before: what became of it */
		sql_result_release(&res);
		rc = exec(s, "claim", "SELECT row, id, state, token, holder, lease_ms, idem_key FROM submissions "
			  "WHERE owner = ? AND idem_key = ?", args, 2, &res, e);
		if (!rc && !res.nrows)
			rc = failed(s, ERR_IO, (sg_err_set(e, ERR_IO, 0, "state database: the claim vanished"), e), "claim");
		if (!rc)
			read_claim(&res, found);
	}
	sql_result_release(&res);
	return rc;
}

int store_take_over(struct store *s, const struct store_claim *old, const struct store_claim *mine, int *taken,
		    struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(mine->token), ARG_TEXT(mine->holder), ARG_INT(mine->lease_ms),
					ARG_INT(mine->created_ms), ARG_INT(old->row), ARG_TEXT(old->token) };
	struct sql_result res = { 0 };
	/* compare and swap on the old token: of several requests taking over, one wins */
	int rc = exec(s, "take over", "UPDATE submissions SET state = 'pending', token = ?, holder = ?, lease_ms = ?, "
		      "created_ms = ? WHERE row = ? AND token = ? AND state IN ('pending', 'unknown') RETURNING row",
		      args, 6, &res, e);

	*taken = !rc && res.nrows == 1;
	sql_result_release(&res);
	return rc;
}

int store_resolve(struct store *s, const struct store_claim *c, const char *id, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(id), ARG_INT(c->row), ARG_TEXT(c->token) };

	if (id)
		return exec(s, "resolve", "UPDATE submissions SET id = ?, state = 'submitted' WHERE row = ? AND token = ? "
			    "AND state IN ('pending', 'unknown')", args, 3, NULL, e);
	return exec(s, "resolve", "DELETE FROM submissions WHERE row = ? AND token = ? AND state IN ('pending', 'unknown')",
		    &args[1], 2, NULL, e);
}

int store_unresolved(struct store *s, const char *owner, size_t max, struct store_claim *out, size_t *n,
		     struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(owner), ARG_INT(max) };
	struct sql_result res = { 0 };
	int rc = owner ? exec(s, "unresolved", "SELECT row, id, state, token, holder, lease_ms, idem_key FROM submissions "
			      "WHERE state IN ('pending', 'unknown') AND token IS NOT NULL AND owner = ? ORDER BY row "
			      "LIMIT ?", args, 2, &res, e)
		: exec(s, "unresolved", "SELECT row, id, state, token, holder, lease_ms, idem_key FROM submissions "
		       "WHERE state IN ('pending', 'unknown') AND token IS NOT NULL ORDER BY row LIMIT ?", &args[1], 1, &res, e);

	*n = 0;
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++) {
		struct sql_result one = { .nrows = 1, .ncols = res.ncols, .cells = &res.cells[i * res.ncols] };

		read_claim(&one, &out[(*n)++]);
	}
	sql_result_release(&res);
	return rc;
}

int store_finish(struct store *s, int64_t row, const char *id, int unknown, const char *app_name,
		 const char *main_class, struct sg_err *e)
{
	if (id) {
		const struct sql_arg a[] = { ARG_TEXT(id), ARG_TEXT(app_name), ARG_TEXT(main_class), ARG_INT(row) };

		return exec(s, "finish", "UPDATE submissions SET id = ?, state = 'submitted', app_name = ?, main_class = ? "
			    "WHERE row = ?", a, 4, NULL, e);
	}
	if (unknown) {
		const struct sql_arg a[] = { ARG_TEXT(app_name), ARG_TEXT(main_class), ARG_INT(row) };

		return exec(s, "finish", "UPDATE submissions SET state = 'unknown', app_name = ?, main_class = ? "
			    "WHERE row = ?", a, 3, NULL, e);
	}
	return exec(s, "finish", "DELETE FROM submissions WHERE row = ?", &ARG_INT(row), 1, NULL, e);
}

int store_ping(struct store *s, struct sg_err *e)
{
	return exec(s, "ping", "SELECT count(*) FROM submissions WHERE row = 0", NULL, 0, NULL, e);
}

int store_owner(struct store *s, const char *id, char *owner, size_t size, struct sg_err *e)
{
	struct sql_result res = { 0 };
	int rc = exec(s, "owner", "SELECT owner FROM submissions WHERE id = ?", &ARG_TEXT(id), 1, &res, e);

	if (!rc && !res.nrows)
		rc = 1;
	else if (!rc)
		snprintf(owner, size, "%s", sql_text(&res, 0, 0));
	sql_result_release(&res);
	return rc;
}

/* A row of SELECT ENTRY_COLUMNS. */
static void read_entry(const struct sql_result *res, size_t i, struct store_entry *x)
{
	snprintf(x->id, sizeof(x->id), "%s", sql_text(res, i, 0));
	snprintf(x->owner, sizeof(x->owner), "%s", sql_text(res, i, 1));
	x->created_ms = sql_int(res, i, 2);
	snprintf(x->app_name, sizeof(x->app_name), "%s", sql_text(res, i, 3));
	snprintf(x->main_class, sizeof(x->main_class), "%s", sql_text(res, i, 4));
	x->unknown = strcmp(sql_text(res, i, 5), "unknown") == 0;
	x->running_ms = sql_int(res, i, 6);   /* NULL reads as 0 */
	x->ended_ms = sql_int(res, i, 7);
	x->row = sql_int(res, i, 8);
	snprintf(x->app_id, sizeof(x->app_id), "%s", sql_text(res, i, 9));   /* NULL reads as "" */
	snprintf(x->ui_url, sizeof(x->ui_url), "%s", sql_text(res, i, 10));
}

#define ENTRY_COLUMNS "id, owner, created_ms, app_name, main_class, state, running_ms, ended_ms, row, app_id, ui_url"

int store_list(struct store *s, const char *owner, size_t max, struct store_entry *out, size_t *n,
	       struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(owner), ARG_INT(max) };
	struct sql_result res = { 0 };
	int rc;

	*n = 0;
	rc = owner ? exec(s, "list", "SELECT " ENTRY_COLUMNS " FROM submissions WHERE state IN ('submitted', 'unknown') "
			  "AND owner = ? "
			  "ORDER BY created_ms DESC, row DESC LIMIT ?", args, 2, &res, e)
		: exec(s, "list", "SELECT " ENTRY_COLUMNS " FROM submissions WHERE state IN ('submitted', 'unknown') "
		       "ORDER BY created_ms DESC, row DESC LIMIT ?",
		       &args[1], 1, &res, e);
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++)
		read_entry(&res, i, &out[(*n)++]);
	sql_result_release(&res);
	return rc;
}

int store_batch(struct store *s, int64_t row, const char *id, struct store_entry *out, struct sg_err *e)
{
	struct sql_result res = { 0 };
	int rc = id ? exec(s, "batch", "SELECT " ENTRY_COLUMNS " FROM submissions WHERE id = ?", &ARG_TEXT(id), 1, &res, e)
		: exec(s, "batch", "SELECT " ENTRY_COLUMNS " FROM submissions WHERE row = ? AND state IN ('submitted', "
		       "'unknown')", &ARG_INT(row), 1, &res, e);

	if (!rc && !res.nrows)
		rc = 1;
	else if (!rc)
		read_entry(&res, 0, out);
	sql_result_release(&res);
	return rc;
}

int store_batches(struct store *s, const char *owner, size_t from, size_t max, struct store_entry *out, size_t *n,
		  size_t *total, struct sg_err *e)
{
	const struct store_filter f = { owner, NULL, 0, 1 };

	return store_search(s, &f, from, max, out, n, total, e);
}

static void append(char *to, size_t size, const char *what)
{
	size_t len = strlen(to);

	snprintf(to + len, size - len, "%s", what);
}

int store_search(struct store *s, const struct store_filter *f, size_t from, size_t max, struct store_entry *out,
		 size_t *n, size_t *total, struct sg_err *e)
{
	/* the statement from fixed parts: only '?' carries what the caller gave */
	char where[200] = "state IN ('submitted', 'unknown')", sql[600];
	struct sql_arg args[5];
	struct sql_result res = { 0 };
	size_t na = 0;
	int rc;

	if (f->owner) {
		append(where, sizeof(where), " AND owner = ?");
		args[na++] = ARG_TEXT(f->owner);
	}
	if (f->name) {
		append(where, sizeof(where), " AND app_name = ?");
		args[na++] = ARG_TEXT(f->name);
	}
	if (f->since_ms > 0) {
		append(where, sizeof(where), " AND created_ms >= ?");
		args[na++] = ARG_INT(f->since_ms);
	}
	*n = *total = 0;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM submissions WHERE %s", where);
	rc = exec(s, "search", sql, args, na, &res, e);
	if (!rc)
		*total = (size_t)sql_int(&res, 0, 0);
	sql_result_release(&res);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT " ENTRY_COLUMNS " FROM submissions WHERE %s ORDER BY %s LIMIT ? OFFSET ?",
		 where, f->oldest_first ? "row" : "created_ms DESC, row DESC");
	args[na++] = ARG_INT(max);
	args[na++] = ARG_INT(from);
	rc = exec(s, "search", sql, args, na, &res, e);
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++)
		read_entry(&res, i, &out[(*n)++]);
	sql_result_release(&res);
	return rc;
}

int store_active(struct store *s, const char *owner, int64_t now_ms, int64_t stale_ms, size_t max,
		 struct store_usage *out, size_t *n, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(owner), ARG_INT(now_ms - stale_ms), ARG_INT(max) };
	struct sql_result res = { 0 };
	/* submitted and not seen finished, being submitted right now, or with an outcome not
	 * known yet that a token can still settle (it may run: quotas fail closed) */
	int rc = exec(s, "active", "SELECT id, cores, memory_mb FROM submissions WHERE owner = ? AND "
		      "((state = 'submitted' AND finished = 0) OR (state = 'pending' AND created_ms > ?) "
		      "OR (state = 'unknown' AND token IS NOT NULL)) "
		      "ORDER BY row LIMIT ?", args, 3, &res, e);

	*n = 0;
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++) {
		struct store_usage *u = &out[(*n)++];

		snprintf(u->id, sizeof(u->id), "%s", sql_text(&res, i, 0));
		u->cores = (int)sql_int(&res, i, 1);
		u->memory_mb = (int)sql_int(&res, i, 2);
	}
	sql_result_release(&res);
	return rc;
}

int store_observe(struct store *s, const char *id, int ended, int64_t now_ms, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_INT(now_ms), ARG_TEXT(id) };

	return exec(s, "observe", ended ? "UPDATE submissions SET ended_ms = COALESCE(ended_ms, ?), finished = 1 WHERE id = ?"
		    : "UPDATE submissions SET running_ms = COALESCE(running_ms, ?) WHERE id = ?", args, 2, NULL, e);
}

int store_links(struct store *s, const char *id, const char *app_id, const char *ui_url, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(app_id), ARG_TEXT(ui_url), ARG_TEXT(id) };

	return exec(s, "links", "UPDATE submissions SET app_id = ?, ui_url = ? WHERE id = ? AND app_id IS NULL", args, 3,
		    NULL, e);
}

int store_mark_finished(struct store *s, const char *id, struct sg_err *e)
{
	return exec(s, "finished", "UPDATE submissions SET finished = 1 WHERE id = ?", &ARG_TEXT(id), 1, NULL, e);
}

static int owner_total(struct store *s, const char *owner, int64_t *total, struct sg_err *e)
{
	struct sql_result res = { 0 };
	int rc = exec(s, "files", "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner = ?", &ARG_TEXT(owner), 1, &res, e);

	*total = rc ? 0 : sql_int(&res, 0, 0);
	sql_result_release(&res);
	return rc;
}

int store_file_add_chunks(struct store *s, const struct store_file *f, const char *chunks, int64_t quota,
			  int64_t *total, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(f->id), ARG_TEXT(f->owner), ARG_TEXT(f->name), ARG_INT(f->size),
					ARG_TEXT(f->sha256), ARG_INT(f->created_ms), ARG_INT(chunks != NULL) };
	const struct sql_arg move[] = { ARG_TEXT(f->id), ARG_TEXT(chunks) };
	char lock[300];
	struct sql_result res = { 0 };
	int rc;

	/* two uploads of one owner at once (on any host) cannot both fit in what is left */
	snprintf(lock, sizeof(lock), "files:%s", f->owner);
	if ((rc = s->schema_pending ? make_schema(s, e) : 0) != 0 || (rc = sqldb_lock(s->db, lock, e)) != 0)
		return failed(s, rc, e, "file");
	rc = owner_total(s, f->owner, total, e);
	rc = rc ? rc : exec(s, "file", "SELECT in_store FROM files WHERE id = ?", args, 1, &res, e);
	if (!rc && !res.nrows) {   /* else: the same owner, name and bytes, stored once */
		if (quota >= 0 && *total + f->size > quota)
			rc = 1;
		else if (!(rc = exec(s, "file", "INSERT INTO files (id, owner, name, size, sha256, created_ms, in_store) "
				     "VALUES (?, ?, ?, ?, ?, ?, ?)", args, 7, NULL, e)))
			*total += f->size;
		if (!rc && chunks)
			rc = exec(s, "file", "UPDATE file_chunks SET id = ? WHERE id = ?", move, 2, NULL, e);
	} else if (!rc && chunks && sql_int(&res, 0, 0) == 0) {
		/* stored on one host's disk by an earlier version: now in the store, for every host */
		rc = exec(s, "file", "DELETE FROM file_chunks WHERE id = ?", args, 1, NULL, e);
		rc = rc ? rc : exec(s, "file", "UPDATE file_chunks SET id = ? WHERE id = ?", move, 2, NULL, e);
		rc = rc ? rc : exec(s, "file", "UPDATE files SET in_store = 1 WHERE id = ?", args, 1, NULL, e);
	}
	sql_result_release(&res);
	if (sqldb_finish(s->db, rc == 0, rc ? &(struct sg_err){ 0 } : e) && !rc)
		rc = failed(s, ERR_IO, e, "commit");
	return rc;
}

int store_file_add(struct store *s, const struct store_file *f, int64_t quota, int64_t *total, struct sg_err *e)
{
	return store_file_add_chunks(s, f, NULL, quota, total, e);
}

int store_file_total(struct store *s, const char *owner, int64_t *total, struct sg_err *e)
{
	return owner_total(s, owner, total, e);
}

static void read_file_row(const struct sql_result *res, size_t i, struct store_file *f)
{
	snprintf(f->id, sizeof(f->id), "%s", sql_text(res, i, 0));
	snprintf(f->owner, sizeof(f->owner), "%s", sql_text(res, i, 1));
	snprintf(f->name, sizeof(f->name), "%s", sql_text(res, i, 2));
	f->size = sql_int(res, i, 3);
	snprintf(f->sha256, sizeof(f->sha256), "%s", sql_text(res, i, 4));
	f->created_ms = sql_int(res, i, 5);
	f->in_store = sql_int(res, i, 6) != 0;
}

int store_file_list(struct store *s, const char *owner, size_t max, struct store_file *out, size_t *n,
		    struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(owner), ARG_INT(max) };
	struct sql_result res = { 0 };
	int rc = exec(s, "files", "SELECT id, owner, name, size, sha256, created_ms, in_store FROM files WHERE owner = ? "
		      "ORDER BY created_ms DESC, id LIMIT ?", args, 2, &res, e);

	*n = 0;
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++)
		read_file_row(&res, i, &out[(*n)++]);
	sql_result_release(&res);
	return rc;
}

int store_file_get(struct store *s, const char *id, struct store_file *f, struct sg_err *e)
{
	struct sql_result res = { 0 };
	int rc = exec(s, "file", "SELECT id, owner, name, size, sha256, created_ms, in_store FROM files WHERE id = ?", &ARG_TEXT(id),
		      1, &res, e);

	if (!rc && !res.nrows)
		rc = 1;
	else if (!rc)
		read_file_row(&res, 0, f);
	sql_result_release(&res);
	return rc;
}

int store_file_delete(struct store *s, const char *id, struct sg_err *e)
{
	char lock[100];
	int rc;

	/* the row and its bytes go together: no host serves a file whose bytes are half gone */
	snprintf(lock, sizeof(lock), "file:%.72s", id);
	if ((rc = s->schema_pending ? make_schema(s, e) : 0) != 0 || (rc = sqldb_lock(s->db, lock, e)) != 0)
		return failed(s, rc, e, "file");
	rc = exec(s, "file", "DELETE FROM files WHERE id = ?", &ARG_TEXT(id), 1, NULL, e);
	rc = rc ? rc : exec(s, "file", "DELETE FROM file_chunks WHERE id = ?", &ARG_TEXT(id), 1, NULL, e);
	if (sqldb_finish(s->db, rc == 0, rc ? &(struct sg_err){ 0 } : e) && !rc)
		rc = failed(s, ERR_IO, e, "commit");
	return rc;
}

int store_is_shared(const struct store *s)
{
	return s && sqldb_kind(s->db) == SQLDB_POSTGRES;
}

int store_shared_key(struct store *s, const char *name, const char *mine, char *value, size_t size, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(name), ARG_TEXT(mine) };
	struct sql_result res = { 0 };
	int rc = exec(s, "key", "INSERT INTO shared_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		      args, 2, NULL, e);

	rc = rc ? rc : exec(s, "key", "SELECT value FROM shared_keys WHERE name = ?", args, 1, &res, e);
	if (!rc && !res.nrows)
		rc = failed(s, ERR_IO, (sg_err_set(e, ERR_IO, 0, "state database: the shared key vanished"), e), "key");
	if (!rc)
		snprintf(value, size, "%s", sql_text(&res, 0, 0));
	sql_result_release(&res);
	return rc;
}

int store_chunk_put(struct store *s, const char *id, int64_t n, const void *data, size_t len, struct sg_err *e)
{
	const struct sql_arg args[] = { ARG_TEXT(id), ARG_INT(n), ARG_BLOB(data, len) };

	return exec(s, "chunk", "INSERT INTO file_chunks (id, n, data) VALUES (?, ?, ?)", args, 3, NULL, e);
}

int store_chunk_read(struct store *s, const char *id, int64_t n, int64_t off, size_t len, struct buf *out,
		     struct sg_err *e)
{
	/* substr counts from 1; both back ends cut bytes (BYTEA, BLOB) by bytes */
	const struct sql_arg args[] = { ARG_INT(off + 1), ARG_INT(len), ARG_TEXT(id), ARG_INT(n) };
	size_t before = out->len;
	int rc = s->schema_pending ? make_schema(s, e) : 0;

	rc = rc ? rc : sqldb_blob(s->db, "SELECT substr(data, ?, ?) FROM file_chunks WHERE id = ? AND n = ?", args, 4,
				   out, e);
	if (rc == 0 && out->len - before != len)
		rc = sg_err_set(e, ERR_TRUNCATED, 0, "state database: piece %lld of file %.72s holds %zu bytes where %zu "
				"were expected", (long long)n, id, out->len - before, len);
	if (rc == ERR_TRUNCATED || rc == ERR_TOO_LARGE)   /* what is stored is not what its row says */
		s->errors++;
	else if (rc < 0)
		rc = failed(s, rc, e, "chunk");
	return rc;
}

int store_chunks_drop(struct store *s, const char *id, struct sg_err *e)
{
	return exec(s, "chunk", "DELETE FROM file_chunks WHERE id = ?", &ARG_TEXT(id), 1, NULL, e);
}

int store_chunk_uploads(struct store *s, size_t max, char (*ids)[STORE_CHUNKS_ID_SIZE], size_t *n, struct sg_err *e)
{
	struct sql_result res = { 0 };
	int rc = exec(s, "chunk", "SELECT DISTINCT id FROM file_chunks WHERE id LIKE 'tmp-%' LIMIT ?", &ARG_INT(max), 1,
		      &res, e);

	*n = 0;
	for (size_t i = 0; !rc && i < res.nrows && *n < max; i++)
		snprintf(ids[(*n)++], STORE_CHUNKS_ID_SIZE, "%s", sql_text(&res, i, 0));
	sql_result_release(&res);
	return rc;
}
