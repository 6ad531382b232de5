/* The state store's database, behind one small interface with two back ends: SQLite (a
 * file every sparkgate process of one host shares; the default) and PostgreSQL (shared by
 * the gateways of several hosts; libpq, loaded when first used).  store.c holds every
 * statement once, in the dialect both understand: '?' placeholders, ON CONFLICT,
 * RETURNING.  Rows come back as text. */
#ifndef SG_SQLDB_H
#define SG_SQLDB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

enum sqldb_kind { SQLDB_SQLITE, SQLDB_POSTGRES };

struct sql_arg {
	enum { SQL_NULL, SQL_TEXT, SQL_INT, SQL_BLOB } type;
	const char *text;          /* SQL_TEXT: NUL-terminated; SQL_BLOB: len bytes */
	int64_t i;
	size_t len;
};
#define ARG_TEXT(s) ((struct sql_arg){ (s) ? SQL_TEXT : SQL_NULL, (s), 0, 0 })
#define ARG_INT(v) ((struct sql_arg){ SQL_INT, NULL, (int64_t)(v), 0 })
/* Bytes (PostgreSQL BYTEA, sent in binary; SQLite BLOB). */
#define ARG_BLOB(p, n) ((struct sql_arg){ SQL_BLOB, (const char *)(p), 0, (n) })

struct sql_result {
	size_t nrows, ncols;
	char **cells;        /* nrows * ncols, row-major; NULL for SQL NULL */
};

struct sqldb;

/* "postgresql://..." or "postgres://..." (a libpq connection URI) or a libpq key=value
 * connection string ("service=sparkgate", "host=db dbname=sparkgate ..."): PostgreSQL,
 * connected to now if it answers, else by the first statement that needs it; anything
 * else: a SQLite file.  NULL with e. */
struct sqldb *sqldb_open(const char *target, struct sg_err *e);
void sqldb_close(struct sqldb *db);
/* Whether target names PostgreSQL (see sqldb_open). */
int sqldb_target_is_postgres(const char *target);
/* Whether a PostgreSQL target carries a password (a URI's user:PASSWORD@ or password=
 * parameter, percent-encoded or not; a connection string's password keyword): on a command
 * line, ps shows it to every local user. */
int sqldb_target_has_password(const char *target);
enum sqldb_kind sqldb_kind(const struct sqldb *db);

/* Several statements without parameters (the schema). */
int sqldb_script(struct sqldb *db, const char *sql, struct sg_err *e);
/* One statement; res (may be NULL) gets its rows, released with sql_result_release.
 * 0, ERR_IO (the database refused or is unreachable: e says why), ERR_NOMEM. */
int sqldb_exec(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct sql_result *res,
	       struct sg_err *e);
/* One statement whose answer is at most one row of one bytes column (BYTEA / BLOB),
 * appended to out as it is, in binary: 0, 1 no row, ERR_TOO_LARGE (more than out's
 * maximum allows: nothing appended), ERR_IO, ERR_NOMEM. */
int sqldb_blob(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct buf *out,
	       struct sg_err *e);
/* A transaction in which no other process (of any host) holds key: begun by lock, ended by
 * finish (commit if ok, else roll back). */
int sqldb_lock(struct sqldb *db, const char *key, struct sg_err *e);
int sqldb_finish(struct sqldb *db, int ok, struct sg_err *e);

/* A column a later version added, to a table an earlier one made (nothing if it is there). */
int sqldb_add_column(struct sqldb *db, const char *table, const char *column, const char *type, struct sg_err *e);

void sql_result_release(struct sql_result *res);
/* A cell: "" for NULL or out of range (text), 0 (numbers). */
const char *sql_text(const struct sql_result *res, size_t row, size_t col);
int64_t sql_int(const struct sql_result *res, size_t row, size_t col);
int sql_is_null(const struct sql_result *res, size_t row, size_t col);

#endif
