#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
	sqlite3 *db;
	uint64_t errors;   /* operations that failed, for /metrics */
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS submissions ("
	"  row INTEGER PRIMARY KEY,"
	"  id TEXT UNIQUE,"                 /* NULL until the master accepted it */
	"  owner TEXT NOT NULL,"
	"  idem_key TEXT,"
	"  state TEXT NOT NULL,"            /* pending | submitted | unknown */
	"  created_ms INTEGER NOT NULL,"
	"  app_name TEXT, main_class TEXT,"
	"  cores INTEGER NOT NULL DEFAULT 0, memory_mb INTEGER NOT NULL DEFAULT 0,"
	"  finished INTEGER NOT NULL DEFAULT 0,"   /* seen in a final state: no longer counts */
	"  UNIQUE (owner, idem_key));"
	"CREATE INDEX IF NOT EXISTS by_owner ON submissions (owner, created_ms);"
	"CREATE TABLE IF NOT EXISTS files ("
	"  id TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS files_by_owner ON files (owner, created_ms);";

/* Columns later versions added, to a database an earlier one made (ALTER TABLE fails with
 * "duplicate column name" once they are there). */
static int upgrade(struct store *s, char **msg)
{
	static const char *const columns[] = {
		"ALTER TABLE submissions ADD COLUMN running_ms INTEGER",
		"ALTER TABLE submissions ADD COLUMN ended_ms INTEGER",
	};

	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		if (sqlite3_exec(s->db, columns[i], NULL, NULL, msg) == SQLITE_OK)
			continue;
		if (!*msg || !strstr(*msg, "duplicate column name"))
			return -1;
		sqlite3_free(*msg);
		*msg = NULL;
	}
	return 0;
}

uint64_t store_errors(const struct store *s)
{
	return s ? s->errors : 0;
}

static int fail(struct store *s, struct sg_err *e, const char *what)
{
	s->errors++;
	return sg_err_set(e, ERR_IO, 0, "state database: %s: %s", what, sqlite3_errmsg(s->db));
}

struct store *store_open(const char *path, struct sg_err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	char *msg = NULL;

	if (!s) {
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK
	    || sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK
	    || sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK || upgrade(s, &msg)) {
		sg_err_set(e, ERR_IO, 0, "cannot open state database %s: %s", path,
			   msg ? msg : s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_free(msg);
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static void copy_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", t ? (const char *)t : "");
}

int store_claim(struct store *s, const char *owner, const char *key, int64_t now_ms, int64_t stale_ms,
		int cores, int memory_mb, enum claim_result *result, int64_t *row, char *id, size_t id_size,
		struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = ERR_IO;   /* until the claim is made */

	*result = CLAIM_NEW;
	/* IMMEDIATE: the check and the insert are one step for every process. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, e, "begin");
	if (key) {
		if (sqlite3_prepare_v2(s->db, "SELECT row, id, state, created_ms FROM submissions "
				       "WHERE owner = ? AND idem_key = ?", -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);

		if (step == SQLITE_ROW) {
			const char *state = (const char *)sqlite3_column_text(st, 2);

			*row = sqlite3_column_int64(st, 0);
			copy_text(st, 1, id, id_size);
			if (state && strcmp(state, "submitted") == 0)
				*result = CLAIM_DONE;
			else if (state && strcmp(state, "pending") == 0 && now_ms - sqlite3_column_int64(st, 3) < stale_ms)
				*result = CLAIM_IN_FLIGHT;
			else
				*result = CLAIM_UNKNOWN;
			rc = 0;
			goto out;
		}
		if (step != SQLITE_DONE)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO submissions (owner, idem_key, state, created_ms, cores, memory_mb) "
			       "VALUES (?, ?, 'pending', ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int(st, 4, cores);
	sqlite3_bind_int(st, 5, memory_mb);
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	*row = sqlite3_last_insert_rowid(s->db);
	rc = 0;
out:
	if (rc)
		fail(s, e, "claim");
	sqlite3_finalize(st);
	if (sqlite3_exec(s->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = fail(s, e, "commit");
	return rc;
}

int store_finish(struct store *s, int64_t row, const char *id, int unknown, const char *app_name,
		 const char *main_class, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	const char *sql = id ? "UPDATE submissions SET id = ?1, state = 'submitted', app_name = ?2, "
			       "main_class = ?3 WHERE row = ?4"
		: unknown ? "UPDATE submissions SET state = 'unknown', app_name = ?2, main_class = ?3 WHERE row = ?4"
		: "DELETE FROM submissions WHERE row = ?4";
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "finish");
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (id || unknown) {
		sqlite3_bind_text(st, 2, app_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, main_class, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 4, row);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(s, e, "finish");
	sqlite3_finalize(st);
	return rc;
}

int store_ping(struct store *s, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM submissions WHERE row = 0", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "ping");
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : fail(s, e, "ping");
	sqlite3_finalize(st);
	return rc;
}

int store_owner(struct store *s, const char *id, char *owner, size_t size, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT owner FROM submissions WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "owner");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(st, 0, owner, size);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(s, e, "owner");
	}
	sqlite3_finalize(st);
	return rc;
}

int store_list(struct store *s, const char *owner, size_t max, struct store_entry *out, size_t *n,
	       struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int step;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, owner
			       ? "SELECT id, owner, created_ms, app_name, main_class, state, running_ms, ended_ms FROM "
				 "submissions WHERE state IN ('submitted', 'unknown') AND owner = ?1 "
				 "ORDER BY created_ms DESC, row DESC LIMIT ?2"
			       : "SELECT id, owner, created_ms, app_name, main_class, state, running_ms, ended_ms FROM "
				 "submissions WHERE "
				 "state IN ('submitted', 'unknown') ORDER BY created_ms DESC, row DESC LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "list");
	if (owner)
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		struct store_entry *x = &out[(*n)++];

		copy_text(st, 0, x->id, sizeof(x->id));
		copy_text(st, 1, x->owner, sizeof(x->owner));
		x->created_ms = sqlite3_column_int64(st, 2);
		copy_text(st, 3, x->app_name, sizeof(x->app_name));
		copy_text(st, 4, x->main_class, sizeof(x->main_class));
		x->unknown = strcmp((const char *)sqlite3_column_text(st, 5), "unknown") == 0;
		x->running_ms = sqlite3_column_int64(st, 6);   /* NULL reads as 0 */
		x->ended_ms = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : fail(s, e, "list");
}

int store_active(struct store *s, const char *owner, int64_t now_ms, int64_t stale_ms, size_t max,
		 struct store_usage *out, size_t *n, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int step;

	*n = 0;
	/* submitted and not seen finished, or being submitted right now */
	if (sqlite3_prepare_v2(s->db, "SELECT id, cores, memory_mb FROM submissions WHERE owner = ?1 AND "
			       "((state = 'submitted' AND finished = 0) OR (state = 'pending' AND created_ms > ?2)) "
			       "ORDER BY row LIMIT ?3", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "active");
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms - stale_ms);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		struct store_usage *u = &out[(*n)++];

		copy_text(st, 0, u->id, sizeof(u->id));
		u->cores = sqlite3_column_int(st, 1);
		u->memory_mb = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : fail(s, e, "active");
}

int store_observe(struct store *s, const char *id, int ended, int64_t now_ms, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, ended ? "UPDATE submissions SET ended_ms = COALESCE(ended_ms, ?1), finished = 1 "
						"WHERE id = ?2"
					    : "UPDATE submissions SET running_ms = COALESCE(running_ms, ?1) WHERE id = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "observe");
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(s, e, "observe");
	sqlite3_finalize(st);
	return rc;
}

int store_mark_finished(struct store *s, const char *id, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, "UPDATE submissions SET finished = 1 WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "finished");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(s, e, "finished");
	sqlite3_finalize(st);
	return rc;
}

static int owner_total(struct store *s, const char *owner, int64_t *total)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner = ?", -1, &st, NULL)
	    != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*total = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_file_add(struct store *s, const struct store_file *f, int64_t quota, int64_t *total, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = ERR_IO;

	/* IMMEDIATE: two uploads of one owner at once cannot both fit in what is left. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, e, "begin");
	if (owner_total(s, f->owner, total))
		goto out;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM files WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);

	sqlite3_finalize(st);
	st = NULL;
	if (step == SQLITE_ROW) {
		rc = 0;   /* the same owner, name and bytes: stored once */
		goto out;
	}
	if (step != SQLITE_DONE)
		goto out;
	if (quota >= 0 && *total + f->size > quota) {
		rc = 1;
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO files (id, owner, name, size, sha256, created_ms) "
			       "VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->size);
	sqlite3_bind_text(st, 5, f->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->created_ms);
	if (sqlite3_step(st) == SQLITE_DONE) {
		*total += f->size;
		rc = 0;
	}
out:
	if (rc < 0)
		fail(s, e, "file");
	sqlite3_finalize(st);
	if (sqlite3_exec(s->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = fail(s, e, "commit");
	return rc;
}

int store_file_total(struct store *s, const char *owner, int64_t *total, struct sg_err *e)
{
	return owner_total(s, owner, total) ? fail(s, e, "files") : 0;
}

static void read_file_row(sqlite3_stmt *st, struct store_file *f)
{
	copy_text(st, 0, f->id, sizeof(f->id));
	copy_text(st, 1, f->owner, sizeof(f->owner));
	copy_text(st, 2, f->name, sizeof(f->name));
	f->size = sqlite3_column_int64(st, 3);
	copy_text(st, 4, f->sha256, sizeof(f->sha256));
	f->created_ms = sqlite3_column_int64(st, 5);
}

int store_file_list(struct store *s, const char *owner, size_t max, struct store_file *out, size_t *n,
		    struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int step;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id, owner, name, size, sha256, created_ms FROM files WHERE owner = ?1 "
			       "ORDER BY created_ms DESC, rowid DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "files");
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		read_file_row(st, &out[(*n)++]);
	sqlite3_finalize(st);
	return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : fail(s, e, "files");
}

int store_file_get(struct store *s, const char *id, struct store_file *f, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT id, owner, name, size, sha256, created_ms FROM files WHERE id = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return fail(s, e, "file");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_file_row(st, f);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(s, e, "file");
	}
	sqlite3_finalize(st);
	return rc;
}

int store_file_delete(struct store *s, const char *id, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM files WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return fail(s, e, "file");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(s, e, "file");
	sqlite3_finalize(st);
	return rc;
}
