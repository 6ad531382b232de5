/* sqldb.h's two back ends. */
#include "base/sqldb.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"

struct sqldb {
	enum sqldb_kind kind;
	sqlite3 *lite;
	PGconn *pg;
	char *target;
};

enum sqldb_kind sqldb_kind(const struct sqldb *db)
{
	return db->kind;
}

void sql_result_release(struct sql_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; res->cells && i < res->nrows * res->ncols; i++)
		free(res->cells[i]);
	free(res->cells);
	memset(res, 0, sizeof(*res));
}

const char *sql_text(const struct sql_result *res, size_t row, size_t col)
{
	if (!res || row >= res->nrows || col >= res->ncols || !res->cells[row * res->ncols + col])
		return "";
	return res->cells[row * res->ncols + col];
}

int64_t sql_int(const struct sql_result *res, size_t row, size_t col)
{
	return strtoll(sql_text(res, row, col), NULL, 10);
}

int sql_is_null(const struct sql_result *res, size_t row, size_t col)
{
	return !res || row >= res->nrows || col >= res->ncols || !res->cells[row * res->ncols + col];
}

/* Room for one more row of ncols cells. */
static int add_row(struct sql_result *res, size_t ncols)
{
	char **cells = realloc(res->cells, (res->nrows + 1) * ncols * sizeof(*cells));

	if (!cells)
		return ERR_NOMEM;
	res->cells = cells;
	res->ncols = ncols;
	memset(&cells[res->nrows * ncols], 0, ncols * sizeof(*cells));
	res->nrows++;
	return 0;
}

static int set_cell(struct sql_result *res, size_t col, const char *text)
{
	char **cell = &res->cells[(res->nrows - 1) * res->ncols + col];

	return text && !(*cell = strdup(text)) ? ERR_NOMEM : 0;
}

/* ---- SQLite --------------------------------------------------------------------------- */

static int lite_fail(struct sqldb *db, struct sg_err *e)
{
	return sg_err_set(e, ERR_IO, 0, "state database: %s", sqlite3_errmsg(db->lite));
}

static void lite_bind(sqlite3_stmt *st, const struct sql_arg *args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		int at = (int)i + 1;

		if (args[i].type == SQL_TEXT)
			sqlite3_bind_text(st, at, args[i].text, -1, SQLITE_STATIC);
		else if (args[i].type == SQL_BLOB)
			sqlite3_bind_blob64(st, at, args[i].len ? args[i].text : "", args[i].len, SQLITE_STATIC);
		else if (args[i].type == SQL_INT)
			sqlite3_bind_int64(st, at, args[i].i);
		else
			sqlite3_bind_null(st, at);
	}
}

static int lite_exec(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs,
		     struct sql_result *res, struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int step, rc = 0;

	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK)
		return lite_fail(db, e);
	lite_bind(st, args, nargs);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int ncols = sqlite3_column_count(st);

		if (!res)
			continue;
		rc = add_row(res, (size_t)ncols);
		for (int c = 0; c < ncols && !rc; c++)
			rc = set_cell(res, (size_t)c, (const char *)sqlite3_column_text(st, c));
	}
	if (rc)
		sg_err_set(e, rc, 0, "out of memory");
	else if (step != SQLITE_DONE)
		rc = lite_fail(db, e);
	sqlite3_finalize(st);
	return rc;
}

static int lite_blob(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct buf *out,
		     struct sg_err *e)
{
	sqlite3_stmt *st = NULL;
	int step, rc = 1;

	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK)
		return lite_fail(db, e);
	lite_bind(st, args, nargs);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);

		rc = n > 0 ? buf_add(out, p, (size_t)n) : 0;   /* ERR_TOO_LARGE past out's maximum */
		if (rc)
			sg_err_set(e, rc, 0, rc == ERR_TOO_LARGE ? "state database: a stored piece is larger than asked for"
				   : "out of memory");
	} else if (step != SQLITE_DONE) {
		rc = lite_fail(db, e);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- PostgreSQL (libpq, loaded on first use: most sparkgates never need it) ------------ */

static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
	PGconn *(*connectdb_params)(const char *const *, const char *const *, int);
	ConnStatusType (*status)(const PGconn *);
	void (*reset)(PGconn *);
	void (*finish)(PGconn *);
	PGresult *(*exec)(PGconn *, const char *);
	PGresult *(*exec_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *,
				 int);
	ExecStatusType (*result_status)(const PGresult *);
	char *(*result_error)(const PGresult *);
	char *(*error_message)(const PGconn *);
	int (*ntuples)(const PGresult *);
	int (*nfields)(const PGresult *);
	char *(*getvalue)(const PGresult *, int, int);
	int (*getisnull)(const PGresult *, int, int);
	int (*getlength)(const PGresult *, int, int);
	void (*clear)(PGresult *);
} pq;

static int load_pq(void)
{
	void *h;

	if (pq.state)
		return pq.state > 0 ? 0 : -1;
	pq.state = -1;
	if (!(h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL)))
		return -1;
	*(void **)&pq.connectdb_params = dlsym(h, "PQconnectdbParams");
	*(void **)&pq.status = dlsym(h, "PQstatus");
	*(void **)&pq.reset = dlsym(h, "PQreset");
	*(void **)&pq.finish = dlsym(h, "PQfinish");
	*(void **)&pq.exec = dlsym(h, "PQexec");
	*(void **)&pq.exec_params = dlsym(h, "PQexecParams");
	*(void **)&pq.result_status = dlsym(h, "PQresultStatus");
	*(void **)&pq.result_error = dlsym(h, "PQresultErrorMessage");
	*(void **)&pq.error_message = dlsym(h, "PQerrorMessage");
	*(void **)&pq.ntuples = dlsym(h, "PQntuples");
	*(void **)&pq.nfields = dlsym(h, "PQnfields");
	*(void **)&pq.getvalue = dlsym(h, "PQgetvalue");
	*(void **)&pq.getisnull = dlsym(h, "PQgetisnull");
	*(void **)&pq.getlength = dlsym(h, "PQgetlength");
	*(void **)&pq.clear = dlsym(h, "PQclear");
	if (!pq.connectdb_params || !pq.status || !pq.reset || !pq.finish || !pq.exec || !pq.exec_params
	    || !pq.result_status || !pq.result_error || !pq.error_message || !pq.ntuples || !pq.nfields || !pq.getvalue
	    || !pq.getisnull || !pq.getlength || !pq.clear)
		return -1;
	pq.state = 1;
	return 0;
}

/* libpq's messages end with a newline; a log line must not. */
static int pg_fail(struct sg_err *e, const char *what, const char *msg)
{
	size_t n = msg ? strcspn(msg, "\n") : 0;

	return sg_err_set(e, ERR_IO, 0, "state database (PostgreSQL): %s%s%.*s", what, n ? ": " : "", (int)n, msg ? msg : "");
}

/* A connection that was lost is made again before the statement; if that fails, the
 * statement fails (a 503 for the request) and the next request tries again. */
static int pg_connected(struct sqldb *db, struct sg_err *e)
{
	if (pq.status(db->pg) == CONNECTION_OK)
		return 0;
	pq.reset(db->pg);
	if (pq.status(db->pg) == CONNECTION_OK)
		return 0;
	return pg_fail(e, "cannot connect", pq.error_message(db->pg));
}

/* Runs one statement ('?' placeholders; bytes parameters in binary, the answer in binary
 * when binary_result): the result (cleared by the caller) with 0, or NULL with an error. */
static int pg_run(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, int binary_result,
		  PGresult **out, struct sg_err *e)
{
	struct buf text = BUF_INIT(64 * 1024);
	char ints[16][24];
	const char *values[16];
	int lengths[16], formats[16];
	PGresult *r;
	ExecStatusType st;
	int rc = 0, n = 0;

	*out = NULL;
	if (nargs > 16)
		return sg_err_set(e, ERR_INVALID, 0, "too many parameters");
	/* '?' -> $1, $2, ... (no statement here holds a '?' of its own) */
	for (const char *p = sql; *p && !rc; p++)
		rc = *p == '?' ? buf_printf(&text, "$%d", ++n) : buf_addc(&text, (uint8_t)*p);
	if ((rc = rc ? rc : buf_addc(&text, '\0')) != 0) {
		buf_release(&text);
		return sg_err_set(e, rc, 0, "out of memory");
	}
	for (size_t i = 0; i < nargs; i++) {
		lengths[i] = 0;
		formats[i] = 0;
		if (args[i].type == SQL_INT) {
			snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)args[i].i);
			values[i] = ints[i];
		} else if (args[i].type == SQL_BLOB) {
			if (args[i].len > (size_t)INT32_MAX) {
				buf_release(&text);
				return sg_err_set(e, ERR_TOO_LARGE, 0, "a stored piece is too large");
			}
			values[i] = args[i].len ? args[i].text : "";
			lengths[i] = (int)args[i].len;
			formats[i] = 1;
		} else {
			values[i] = args[i].type == SQL_TEXT ? args[i].text : NULL;
		}
	}
	if ((rc = pg_connected(db, e)) != 0) {
		buf_release(&text);
		return rc;
	}
	r = pq.exec_params(db->pg, (const char *)text.data, (int)nargs, NULL, values, lengths, formats, binary_result);
	buf_release(&text);
	st = r ? pq.result_status(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = pg_fail(e, "statement failed", r ? pq.result_error(r) : pq.error_message(db->pg));
		if (r)
			pq.clear(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int pg_exec(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct sql_result *res,
		   struct sg_err *e)
{
	PGresult *r;
	int rc = pg_run(db, sql, args, nargs, 0, &r, e);

	if (!rc && res) {
		int rows = pq.ntuples(r), cols = pq.nfields(r);

		for (int i = 0; i < rows && !rc; i++) {
			rc = add_row(res, (size_t)cols);
			for (int c = 0; c < cols && !rc; c++)
				rc = set_cell(res, (size_t)c, pq.getisnull(r, i, c) ? NULL : pq.getvalue(r, i, c));
		}
		if (rc)
			sg_err_set(e, rc, 0, "out of memory");
	}
	if (r)
		pq.clear(r);
	return rc;
}

static int pg_blob(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct buf *out,
		   struct sg_err *e)
{
	PGresult *r;
	int rc = pg_run(db, sql, args, nargs, 1, &r, e);

	if (rc)
		return rc;
	if (pq.ntuples(r) < 1 || pq.nfields(r) < 1) {
		rc = 1;
	} else if (!pq.getisnull(r, 0, 0)) {
		int n = pq.getlength(r, 0, 0);

		rc = n < 0 ? ERR_TOO_LARGE : buf_add(out, pq.getvalue(r, 0, 0), (size_t)n);
		if (rc)
			sg_err_set(e, rc, 0, rc == ERR_TOO_LARGE ? "state database: a stored piece is larger than asked for"
				   : "out of memory");
	}
	pq.clear(r);
	return rc;
}

static int pg_script(struct sqldb *db, const char *sql, struct sg_err *e)
{
	PGresult *r;
	int rc;

	if ((rc = pg_connected(db, e)) != 0)
		return rc;
	r = pq.exec(db->pg, sql);
	rc = r && pq.result_status(r) == PGRES_COMMAND_OK ? 0
		: pg_fail(e, "schema", r ? pq.result_error(r) : pq.error_message(db->pg));
	if (r)
		pq.clear(r);
	return rc;
}

/* The SQLite file readable by sparkgate's user alone: it holds every owner and idempotency
 * key.  Made 0600 before SQLite opens it (SQLite makes a new file 0644, less the umask); its
 * -wal and -shm are made with the database file's mode (os_unix.c: findCreateFileMode and
 * unixOpenSharedMemory copy st_mode & 0777).  A store made by an older version (0644) loses
 * the other users' bits, with its -wal and -shm.  ":memory:" and file: URIs are left alone. */
static int private_file(const char *path, struct sg_err *e)
{
	static const char *const sides[] = { "", "-wal", "-shm", "-journal" };
	char side[4200];
	struct stat st;
	int fd;

	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0 || strlen(path) > 4000)
		return 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return sg_err_set(e, ERR_IO, 0, "cannot open state database %s: %s", path, strerror(errno));
	close(fd);
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		if (stat(side, &st) == 0 && (st.st_mode & 0007) && st.st_uid == geteuid()
		    && chmod(side, st.st_mode & 07770) != 0)
			return sg_err_set(e, ERR_IO, 0, "state database %s is readable by every user and cannot be "
					  "made private: %s", side, strerror(errno));
	}
	return 0;
}

/* ---- the interface -------------------------------------------------------------------- */

/* The keywords a libpq connection string may start with that name where to connect
 * (libpq's "Parameter Key Words"); a SQLite path does not look like "host=...". */
static const char *const conninfo_starts[] = { "host", "hostaddr", "port", "dbname", "user", "service",
					      "password", "passfile", "sslmode", "connect_timeout", NULL };

static int is_uri(const char *t)
{
	return strncmp(t, "postgresql://", 13) == 0 || strncmp(t, "postgres://", 11) == 0;
}

int sqldb_target_is_postgres(const char *target)
{
	size_t n = strspn(target, "abcdefghijklmnopqrstuvwxyz_");

	if (is_uri(target))
		return 1;
	for (size_t i = 0; conninfo_starts[i]; i++)
		if (n == strlen(conninfo_starts[i]) && strncmp(target, conninfo_starts[i], n) == 0)
			return target[n + strspn(target + n, " \t")] == '=';
	return 0;
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether the n bytes at s, percent-decoded, are the keyword "password" (any case). */
static int password_keyword(const char *s, size_t n)
{
	static const char word[] = "password";
	size_t k = 0;

	for (size_t i = 0; i < n; i++, k++) {
		int c = (unsigned char)s[i];

		if (c == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
			c = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);
			i += 2;
		}
		if (k >= sizeof(word) - 1 || (c | 0x20) != word[k])
			return 0;
	}
	return k == sizeof(word) - 1;
}

int sqldb_target_has_password(const char *target)
{
	const char *p = target;

	if (is_uri(target)) {
		const char *auth = strstr(target, "://") + 3;
		size_t end = strcspn(auth, "/?#");
		const char *at = NULL, *q;

		for (const char *c = auth; c < auth + end; c++)   /* the last '@' ends the user part */
			if (*c == '@')
				at = c;
		if (at && memchr(auth, ':', (size_t)(at - auth)))
			return 1;
		if (!(q = strchr(auth, '?')))
			return 0;
		for (q++; *q;) {   /* key=value&... */
			size_t n = strcspn(q, "&"), k = strcspn(q, "=&");

			if (k < n && password_keyword(q, k))
				return 1;
			q += n + (q[n] == '&');
		}
		return 0;
	}
	if (!sqldb_target_is_postgres(target))
		return 0;
	while (*p) {   /* key = value, value 'quoted' with \ escapes or bare */
		size_t k;

		p += strspn(p, " \t\n\r");
		k = strcspn(p, "= \t\n\r");
		if (!k)
			return 0;
		if (k == 8 && strncasecmp(p, "password", 8) == 0)
			return 1;
		p += k;
		p += strspn(p, " \t\n\r");
		if (*p++ != '=')
			return 0;
		p += strspn(p, " \t\n\r");
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			p += *p == '\'';
		} else {
			p += strcspn(p, " \t\n\r");
		}
	}
	return 0;
}

struct sqldb *sqldb_open(const char *target, struct sg_err *e)
{
	struct sqldb *db = calloc(1, sizeof(*db));

	if (!db || !(db->target = strdup(target))) {
		free(db);
		sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (sqldb_target_is_postgres(target)) {
		/* the URI's own connect_timeout wins over this default (later keywords override) */
		const char *const keys[] = { "connect_timeout", "application_name", "options", "dbname", NULL };
		/* NOTICEs ("already exists, skipping") would land in the web server's error log */
		const char *const values[] = { "5", "sparkgate", "-c client_min_messages=warning", target, NULL };

		db->kind = SQLDB_POSTGRES;
		if (load_pq()) {
			sg_err_set(e, ERR_IO, 0, "--state-db %s needs libpq.so.5 (Debian: libpq5)", "postgresql://...");
			sqldb_close(db);
			return NULL;
		}
		/* a server that is down now is connected to when it is back (pg_connected) */
		if (!(db->pg = pq.connectdb_params(keys, values, 1))) {
			sg_err_set(e, ERR_NOMEM, 0, "out of memory");
			sqldb_close(db);
			return NULL;
		}
		return db;
	}
	db->kind = SQLDB_SQLITE;
	if (private_file(target, e)) {
		sqldb_close(db);
		return NULL;
	}
	if (sqlite3_open_v2(target, &db->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
	    != SQLITE_OK || sqlite3_busy_timeout(db->lite, 5000) != SQLITE_OK) {
		sg_err_set(e, ERR_IO, 0, "cannot open state database %s: %s", target,
			   db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
		sqldb_close(db);
		return NULL;
	}
	return db;
}

void sqldb_close(struct sqldb *db)
{
	if (!db)
		return;
	if (db->lite)
		sqlite3_close(db->lite);
	if (db->pg)
		pq.finish(db->pg);
	free(db->target);
	free(db);
}

int sqldb_script(struct sqldb *db, const char *sql, struct sg_err *e)
{
	char *msg = NULL;

	if (db->kind == SQLDB_POSTGRES)
		return pg_script(db, sql, e);
	if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	sg_err_set(e, ERR_IO, 0, "state database: %s", msg ? msg : sqlite3_errmsg(db->lite));
	sqlite3_free(msg);
	return ERR_IO;
}

int sqldb_exec(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct sql_result *res,
	       struct sg_err *e)
{
	return db->kind == SQLDB_POSTGRES ? pg_exec(db, sql, args, nargs, res, e) : lite_exec(db, sql, args, nargs, res, e);
}

int sqldb_blob(struct sqldb *db, const char *sql, const struct sql_arg *args, size_t nargs, struct buf *out,
	       struct sg_err *e)
{
	return db->kind == SQLDB_POSTGRES ? pg_blob(db, sql, args, nargs, out, e) : lite_blob(db, sql, args, nargs, out, e);
}

int sqldb_lock(struct sqldb *db, const char *key, struct sg_err *e)
{
	struct sql_arg k = ARG_TEXT(key);
	int rc;

	if (db->kind == SQLDB_SQLITE)   /* IMMEDIATE: the file's one writer until the end */
		return lite_exec(db, "BEGIN IMMEDIATE", NULL, 0, NULL, e);
	if ((rc = pg_exec(db, "BEGIN", NULL, 0, NULL, e)) != 0)
		return rc;
	if ((rc = pg_exec(db, "SELECT pg_advisory_xact_lock(hashtext(?))", &k, 1, NULL, e)) != 0)
		pg_exec(db, "ROLLBACK", NULL, 0, NULL, &(struct sg_err){ 0 });
	return rc;
}

int sqldb_finish(struct sqldb *db, int ok, struct sg_err *e)
{
	return sqldb_exec(db, ok ? "COMMIT" : "ROLLBACK", NULL, 0, NULL, e);
}

int sqldb_add_column(struct sqldb *db, const char *table, const char *column, const char *type, struct sg_err *e)
{
	char sql[300];
	char *msg = NULL;

	if (db->kind == SQLDB_POSTGRES) {
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", table, column, type);
		return pg_script(db, sql, e);
	}
	/* SQLite has no IF NOT EXISTS here: "duplicate column name" once it is there */
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, column, type);
	if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) == SQLITE_OK || (msg && strstr(msg, "duplicate column name"))) {
		sqlite3_free(msg);
		return 0;
	}
	sg_err_set(e, ERR_IO, 0, "state database: %s", msg ? msg : "out of memory");
	sqlite3_free(msg);
	return ERR_IO;
}
