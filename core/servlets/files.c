#include "servlets/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "ops/reply.h"
#include "servlets/servlets.h"

#define FILES_LIST_MAX 500
#define COPY_CHUNK (64u << 10)
/* Who may read what (files.h): the owner and the folder's group (the web server's, for an
 * external sparkgate), nobody else; set-group-ID so new folders and files keep the group. */
#define DIR_MODE 02750
#define FILE_MODE 0640
/* An incoming file not written to for this long belongs to an upload that is over: the web
 * servers hand sparkgate a body they have already received (lighttpd and mod_fcgid buffer it),
 * so a live upload writes every second or so. */
#define STALE_S 3600

int files_streams_body(const char *method, const char *path)
{
	return method && path && strcmp(method, "PUT") == 0 && strncmp(path, "/v1/files/", 10) == 0;
}

int files_check_name(const char *name, char *why, size_t size)
{
	static const char *const kinds[] = { ".jar", ".py", ".zip", ".egg" };
	size_t n = strlen(name);
	int kind = 0;

	if (n == 0 || n > FILES_NAME_MAX)
		return snprintf(why, size, "A file name has 1 to %d characters.", FILES_NAME_MAX), -1;
	if (name[0] == '.' || name[0] == '-')
		return snprintf(why, size, "A file name may not start with '.' or '-'."), -1;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
		      || c == '-' || c == '+'))
			return snprintf(why, size, "A file name may hold only letters, digits and . _ - +."), -1;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);

		if (n > k && strcmp(name + n - k, kinds[i]) == 0)
			kind = 1;
	}
	if (!kind)
		return snprintf(why, size, "Only applications can be uploaded: a name ending in .jar, .py, .zip or .egg."), -1;
	return 0;
}

/* Makes path a folder with mode (a folder of sparkgate's user made by an older version, with
 * other bits, gets the mode).  chmod only when the bits differ: a folder made in a
 * set-group-ID folder has the bit and the group already, and a chmod by a user outside that
 * group (sparkgate's own user in a DIR of the web server's group) clears the bit, so the
 * folders below would get sparkgate's group and the web server could not serve them. */
static int make_dir(const char *path, mode_t mode, struct sg_err *e)
{
	struct stat st;

	if ((mkdir(path, mode) != 0 && errno != EEXIST) || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return sg_err_set(e, ERR_IO, errno, "--files-dir: cannot make %s", path);
	if (st.st_uid == geteuid() && (st.st_mode & 07777) != mode && chmod(path, mode))
		return sg_err_set(e, ERR_IO, errno, "--files-dir: cannot chmod %s", path);
	return 0;
}

/* Uploads stored by a version that made pub/ID 0755 and files 0644: folders and files get the
 * modes of today (once: pub/ gets its own mode last, and only a pub/ with other bits is walked). */
static void fix_pub(const char *pub)
{
	char path[4400];
	DIR *d = opendir(pub);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		DIR *f;
		struct dirent *fe;

		if (de->d_name[0] == '.' || (size_t)snprintf(path, sizeof(path), "%s/%s", pub, de->d_name) >= sizeof(path)
		    || !(f = opendir(path)))
			continue;
		fchmod(dirfd(f), DIR_MODE);
		while ((fe = readdir(f)) != NULL) {
			int fd = fe->d_name[0] == '.' ? -1
				: openat(dirfd(f), fe->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

			if (fd >= 0) {
				fchmod(fd, FILE_MODE);
				close(fd);
			}
		}
		closedir(f);
	}
	closedir(d);
}

/* The key that names folders: read, or made once for every process (written aside, then
 * linked into place, so no process reads half a key). */
static int load_key(const char *dir, uint8_t key[32], struct sg_err *e)
{
	char path[4200], tmp[4200];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 && errno == ENOENT) {
		uint8_t fresh[32];

		snprintf(tmp, sizeof(tmp), "%s/incoming/key.XXXXXX", dir);
		if (crypto_random(fresh, sizeof(fresh)))
			return sg_err_set(e, ERR_IO, errno, "--files-dir: no random bytes for its key");
		if ((fd = mkstemp(tmp)) < 0)
			return sg_err_set(e, ERR_IO, errno, "--files-dir: cannot write %s", tmp);
		int ok = write(fd, fresh, sizeof(fresh)) == (ssize_t)sizeof(fresh) && fsync(fd) == 0;

		close(fd);
		if (ok && link(tmp, path) != 0 && errno != EEXIST)
			ok = 0;
		unlink(tmp);
		if (!ok)
			return sg_err_set(e, ERR_IO, errno, "--files-dir: cannot make %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return sg_err_set(e, ERR_IO, errno, "--files-dir: cannot read %s", path);
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return sg_err_set(e, ERR_INVALID, 0, "--files-dir: %s must belong to sparkgate's user and be readable "
				  "by it alone (mode 0600)", path);
	}
	int got = read(fd, key, 32) == 32;

	close(fd);
	return got ? 0 : sg_err_set(e, ERR_INVALID, 0, "--files-dir: %s is not a 32-byte key", path);
}

/* incoming/ holds one file per upload in flight, named up-HOST-PID-SIZE-WHO-XXXXXX: HOST a hash
 * of the host name (the folder may be shared by hosts), PID the process writing it, SIZE the
 * Content-Length it holds against WHO's quota (16 hex digits of HMAC(key, "quota" NUL user)). */
struct incoming {
	unsigned host;
	long pid;
	unsigned long long size;
	char who[17];
};

static unsigned host_hash(void)
{
	char name[256] = "";
	unsigned h = 2166136261u;   /* FNV-1a: a name, not a secret */

	gethostname(name, sizeof(name) - 1);
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static int incoming_parse(const char *name, struct incoming *in)
{
	int end = 0;

	return sscanf(name, "up-%8x-%ld-%llu-%16[0-9a-f]-%n", &in->host, &in->pid, &in->size, in->who, &end) == 4
		&& end > 0 && in->pid > 0 && strlen(in->who) == 16 ? 0 : -1;
}

/* Removes what uploads that are over left in incoming/ (a process killed mid-upload): files
 * whose process is gone from this host, or untouched for STALE_S; and answers what live
 * uploads of who (NULL: nobody) hold. */
static unsigned long long incoming_sweep(const char *incoming, const char *who)
{
	unsigned host = host_hash();
	unsigned long long held = 0;
	time_t now = time(NULL);
	DIR *d = opendir(incoming);
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct incoming in;
		struct stat st;
		int up = strncmp(de->d_name, "up-", 3) == 0, key = strncmp(de->d_name, "key.", 4) == 0;

		if ((!up && !key) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (up && incoming_parse(de->d_name, &in) == 0) {
			/* this process handles one request at a time: a file of its own is a leftover */
			int gone = in.host == host && (in.pid == (long)getpid() || (kill((pid_t)in.pid, 0) != 0 && errno == ESRCH));

			if (!gone && now - st.st_mtime <= STALE_S) {
				if (who && strcmp(in.who, who) == 0)
					held = held + in.size < held ? ~0ULL : held + in.size;
				continue;
			}
		} else if (now - st.st_mtime <= STALE_S) {
			continue;
		}
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	return held;
}

static void over_quota(struct servlets *sv, struct response *rs, size_t size, int64_t used)
{
	reply_problem(sv->spark, rs, PROBLEM_TOO_LARGE, "Upload of %zu bytes exceeds your files quota: you hold %lld of "
		      "%lld bytes; delete some "
		   "(DELETE /v1/files/ID).", size, (long long)used, (long long)sv->files.quota);
}

/* incoming/lock, held (exclusive): the fd (closing it releases the lock), or -1. */
static int incoming_lock(struct servlets *sv)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%.4000s/incoming/lock", sv->files.dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

/* Makes the incoming file of user's upload of size bytes, which holds that much of the quota
 * until it is gone: under incoming/lock, what user's files hold, plus the uploads in flight,
 * plus this one must fit (so N uploads at once cannot put N quotas on disk). 0 with *fd and
 * tmp, or an answered error. */
static int reserve(struct servlets *sv, const char *user, size_t size, char *tmp, size_t tmp_size, int *fd,
		   struct response *rs)
{
	char incoming[4200], who[17];
	uint8_t mac[CRYPTO_SHA256_LEN];
	struct buf named = BUF_INIT(1024);
	struct sg_err e = { 0 };
	int64_t used = 0;
	unsigned long long held;
	int lock, rc;

	snprintf(incoming, sizeof(incoming), "%.4000s/incoming", sv->files.dir);
	rc = buf_add(&named, "quota", 6) || buf_add(&named, user, strlen(user) + 1)
		|| crypto_hmac_sha256(sv->files.key, sizeof(sv->files.key), named.data, named.len, mac);
	buf_release(&named);
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not name the upload.");
		return -1;
	}
	crypto_hex(mac, 8, who);
	if ((lock = incoming_lock(sv)) < 0) {
		reply_problem(sv->spark, rs, PROBLEM_NO_SPACE, "sparkgate could not store the upload: %s.", strerror(errno));
		return -1;
	}
	held = incoming_sweep(incoming, who);
	if (sv->files.quota >= 0 && store_file_total(sv->tenant->store, user, &used, &e)) {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "%s", e.msg);
		rc = -1;
	} else if (sv->files.quota >= 0 && (used > sv->files.quota || held > (unsigned long long)(sv->files.quota - used)
					   || size > (unsigned long long)(sv->files.quota - used) - held)) {
		/* (compared as what is left, so no sum can wrap) */
		over_quota(sv, rs, size, held > (unsigned long long)(INT64_MAX - used) ? INT64_MAX : used + (int64_t)held);
		rc = -1;
	} else {
		snprintf(tmp, tmp_size, "%.4100s/up-%08x-%ld-%zu-%s-XXXXXX", incoming, host_hash(), (long)getpid(), size, who);
		if ((*fd = mkstemp(tmp)) < 0) {
			reply_problem(sv->spark, rs, PROBLEM_NO_SPACE, "sparkgate could not store the upload: %s.", strerror(errno));
			rc = -1;
		}
	}
	close(lock);   /* releases the lock */
	return rc;
}

/* Whether url's path is /files (a trailing slash aside): where sparkgate serves a shared
 * store's uploads. */
static int url_is_files(const char *url)
{
	const char *host = strstr(url, "://"), *path = host ? strchr(host + 3, '/') : NULL;
	size_t n = path ? strlen(path) : 0;

	while (n > 1 && path[n - 1] == '/')
		n--;
	return path && n == 6 && strncmp(path, "/files", 6) == 0;
}

int files_open(struct files_conf *f, const char *dir, const char *url, int64_t max_upload, int64_t quota,
	       struct store *store, struct sg_err *e)
{
	char path[4200];
	struct stat st;
	int rc;

	f->dl.fd = -1;
	buf_init(&f->dl.piece, LIMIT_FILE_CHUNK);
	if (!url || strncmp(url, "http", 4) != 0 || strlen(url) > 1000)
		return sg_err_set(e, ERR_INVALID, 0, "--files-dir needs --files-url: the http(s) URL at which the web "
				  "server serves DIR/pub to the workers");
	f->shared = store_is_shared(store);
	if (f->shared && !url_is_files(url))
		return sg_err_set(e, ERR_INVALID, 0, "--files-url %.200s: with a PostgreSQL store sparkgate keeps uploads "
				  "there and serves them itself at /files/ID/NAME on every host; give "
				  "https://HOST/files (the web server sends /files/ to sparkgate without a login)", url);
	if (strlen(dir) > 4000)
		return sg_err_set(e, ERR_INVALID, 0, "--files-dir: path too long");
	/* DIR_MODE: no other user lists pub/ (its names are the files' URLs) or reads a file */
	rc = make_dir(dir, DIR_MODE, e);
	snprintf(path, sizeof(path), "%s/incoming", dir);
	rc = rc ? rc : make_dir(path, 02700, e);
	rc = rc ? rc : (incoming_sweep(path, NULL), 0);
	snprintf(path, sizeof(path), "%s/pub", dir);
	if (!rc && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0007) && st.st_uid == geteuid())
		fix_pub(path);   /* before pub/ itself: an interrupted fix is done again */
	rc = rc ? rc : make_dir(path, DIR_MODE, e);
	rc = rc ? rc : crypto_available() ? sg_err_set(e, ERR_IO, 0, "--files-dir: cannot load %s", CRYPTO_LIBRARY) : 0;
	rc = rc ? rc : load_key(dir, f->key, e);
	if (rc)
		return rc;
	if (!(f->dir = strdup(dir)) || !(f->url = strdup(url)))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	{   /* no trailing slash: URLs are url + "/" + ID + "/" + NAME */
		size_t n = strlen(f->url);

		while (n > 1 && f->url[n - 1] == '/')
			f->url[--n] = '\0';
	}
	f->max_upload = max_upload;
	f->quota = quota;
	return 0;
}

static void download_reset(struct files_download *dl)
{
	if (dl->fd >= 0)
		close(dl->fd);
	dl->fd = -1;
	dl->store = NULL;
	dl->next = dl->end = 0;
	dl->piece_off = 0;
	buf_reset(&dl->piece);
}

void files_close(struct files_conf *f)
{
	if (f->dir)
		download_reset(&f->dl);
	buf_release(&f->dl.piece);
	free(f->dir);
	free(f->url);
	f->dir = f->url = NULL;
}

/* One file as JSON, with the URL workers fetch it from. */
static int print_file(struct servlets *sv, struct buf *out, const struct store_file *f, const char *indent)
{
	char when[TENANT_TIME_SIZE], size[32], url[1300];
	const struct { const char *name; const char *value; int raw; } fields[] = {
		{ "id", f->id, 0 },
		{ "name", f->name, 0 },
		{ "sha256", f->sha256, 0 },
		{ "size", size, 1 },
		{ "uploaded", when, 0 },
		{ "url", url, 0 },
	};
	int rc = buf_addstr(out, "{");

	tenant_iso_time(f->created_ms, when);
	snprintf(size, sizeof(size), "%lld", (long long)f->size);
	snprintf(url, sizeof(url), "%s/%s/%s", sv->files.url, f->id, f->name);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && !rc; i++) {
		rc = buf_printf(out, "%s\n%s  \"%s\" : ", i ? "," : "", indent, fields[i].name);
		rc = rc ? rc : fields[i].raw ? buf_addstr(out, fields[i].value)
			: rest_json_string(out, fields[i].value, strlen(fields[i].value));
	}
	return rc ? rc : buf_printf(out, "\n%s}", indent);
}

static void answer_file(struct servlets *sv, struct response *rs, const char *action, const struct store_file *f,
			int64_t used)
{
	struct buf file = BUF_INIT(8192);
	char used_s[32], quota_s[32];

	snprintf(used_s, sizeof(used_s), "%lld", (long long)used);
	snprintf(quota_s, sizeof(quota_s), "%lld", (long long)sv->files.quota);
	if (print_file(sv, &file, f, "  ")) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
	} else {
		const struct rest_field fields[] = {
			{ "action", RF_STRING, action, 0, NULL },
			{ "file", RF_RAW, buf_str(&file), 0, NULL },
			{ "quotaBytes", RF_RAW, sv->files.quota >= 0 ? quota_s : NULL, 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "usedBytes", RF_RAW, used >= 0 ? used_s : NULL, 0, NULL },
		};

		reply_answer(sv->spark, rs, fields, sizeof(fields) / sizeof(fields[0]));
	}
	buf_release(&file);
}

/* Reads the body into fd, hashing it: 0, or an answered error. */
static int receive(struct servlets *sv, const struct request *rq, int fd, uint8_t digest[CRYPTO_SHA256_LEN],
		   struct response *rs)
{
	static uint8_t chunk[COPY_CHUNK];
	struct sha256 h;
	size_t got = 0;

	if (sha256_begin(&h)) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate cannot load %s to hash the upload.", CRYPTO_LIBRARY);
		return -1;
	}
	while (got < rq->body_declared) {
		size_t want = rq->body_declared - got < sizeof(chunk) ? rq->body_declared - got : sizeof(chunk);
		ssize_t n = rq->read_body(rq->body_ctx, chunk, want);

		if (n <= 0) {
			sha256_abandon(&h);
			reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "The upload ended after %zu of the %zu bytes its "
				      "Content-Length announced.",
				   got, rq->body_declared);
			return -1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, chunk + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				sha256_abandon(&h);
				reply_problem(sv->spark, rs, PROBLEM_NO_SPACE, "sparkgate could not store the upload: %s.", strerror(errno));
				return -1;
			}
			off += w;
		}
		if (sha256_add(&h, chunk, (size_t)n)) {
			sha256_abandon(&h);
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not hash the upload.");
			return -1;
		}
		got += (size_t)n;
	}
	if (sha256_end(&h, digest) || fsync(fd) || fchmod(fd, FILE_MODE)) {
		reply_problem(sv->spark, rs, PROBLEM_NO_SPACE, "sparkgate could not store the upload.");
		return -1;
	}
	return 0;
}

/* A shared store: the body read into pieces of LIMIT_FILE_CHUNK bytes, each written as a row
 * of chunks (the upload's temporary id) as soon as it is full, hashing it: 0, or an answered
 * error (the pieces written stay for the caller to drop). */
static int receive_store(struct servlets *sv, const struct request *rq, const char *chunks,
			 uint8_t digest[CRYPTO_SHA256_LEN], struct response *rs)
{
	struct buf piece = BUF_INIT(LIMIT_FILE_CHUNK);
	struct sg_err e = { 0 };
	struct sha256 h;
	size_t got = 0;
	int64_t n = 0;
	int rc = 0;

	if (sha256_begin(&h)) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate cannot load %s to hash the upload.", CRYPTO_LIBRARY);
		return -1;
	}
	while (!rc && got < rq->body_declared) {
		size_t room, want, space = piece.max - piece.len;
		uint8_t *p = buf_spare(&piece, space < COPY_CHUNK ? space : COPY_CHUNK, &room, &rc);
		ssize_t r;

		if (!p) {
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
			break;
		}
		want = rq->body_declared - got < room ? rq->body_declared - got : room;
		want = want < COPY_CHUNK ? want : COPY_CHUNK;
		if ((r = rq->read_body(rq->body_ctx, p, want)) <= 0) {
			reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "The upload ended after %zu of the %zu bytes its "
				      "Content-Length announced.", got, rq->body_declared);
			rc = -1;
			break;
		}
		if (sha256_add(&h, p, (size_t)r)) {
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not hash the upload.");
			rc = -1;
			break;
		}
		buf_commit(&piece, (size_t)r);
		got += (size_t)r;
		if (piece.len == piece.max || got == rq->body_declared) {
			if (store_chunk_put(sv->tenant->store, chunks, n++, piece.data, piece.len, &e)) {
				reply_err(sv->spark, rs, &e);
				rc = -1;
			}
			buf_reset(&piece);
		}
	}
	buf_release(&piece);
	if (rc) {
		sha256_abandon(&h);
		return -1;
	}
	if (sha256_end(&h, digest)) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not hash the upload.");
		return -1;
	}
	return 0;
}

/* A shared store: the key that names files, the same on every host (the first host's,
 * kept in the store), read once.  0, or an answered error. */
static int use_shared_key(struct servlets *sv, struct response *rs)
{
	char mine[2 * sizeof(sv->files.key) + 1], value[200];
	struct sg_err e = { 0 };
	uint8_t key[sizeof(sv->files.key)];

	if (!sv->files.shared || sv->files.key_shared)
		return 0;
	crypto_hex(sv->files.key, sizeof(sv->files.key), mine);
	if (store_shared_key(sv->tenant->store, "files", mine, value, sizeof(value), &e)) {
		reply_err(sv->spark, rs, &e);
		return -1;
	}
	for (size_t i = 0; i < sizeof(key); i++) {
		unsigned v;

		if (strlen(value) != 2 * sizeof(key) || strspn(value, "0123456789abcdef") != strlen(value)
		    || sscanf(value + 2 * i, "%2x", &v) != 1) {
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "The uploads' key in the state database (shared_keys) "
				      "is not 64 hex digits.");
			return -1;
		}
		key[i] = (uint8_t)v;
	}
	memcpy(sv->files.key, key, sizeof(key));
	sv->files.key_shared = 1;
	return 0;
}

/* A shared store: the pieces of uploads that are over ("tmp-MS-HOST-PID-..."): their process
 * is gone from this host, or they began more than STALE_S ago (the web servers hand over a
 * body they have received: it is read at the store's speed). */
static void sweep_chunks(struct servlets *sv)
{
	char (*ids)[STORE_CHUNKS_ID_SIZE] = calloc(100, sizeof(*ids));
	struct sg_err e = { 0 };
	unsigned host = host_hash();
	long long now = (long long)tenant_wall_ms();
	size_t n = 0;

	if (!ids || store_chunk_uploads(sv->tenant->store, 100, ids, &n, &e))
		n = 0;
	for (size_t i = 0; i < n; i++) {
		long long ms;
		unsigned h;
		long pid;

		if (sscanf(ids[i], "tmp-%15lld-%8x-%ld-", &ms, &h, &pid) != 3
		    || (now - ms > STALE_S * 1000LL)
		    || (h == host && (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))))
			store_chunks_drop(sv->tenant->store, ids[i], &e);
	}
	free(ids);
}

/* The answer to an upload once it is recorded (or refused): fresh, a file new to the store. */
static void answer_upload(struct servlets *sv, struct store_file *f, int rc, int fresh, int64_t used,
			  const struct sg_err *e, struct response *rs)
{
	struct sg_err ge = { 0 };

	if (rc > 0) {
		over_quota(sv, rs, (size_t)f->size, used);
		return;
	}
	if (rc < 0) {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "%s", e->msg);
		return;
	}
	store_file_get(sv->tenant->store, f->id, f, &ge);   /* the first upload's time, if it was there */
	answer_file(sv, rs, "UploadFileResponse", f, used);
	if (rs->status == 200 && fresh)
		rs->status = 201;
	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", f->id);
}

/* A shared store: the upload's pieces (chunks) become file f's, if it fits the quota. */
static void store_shared(struct servlets *sv, struct store_file *f, const char *chunks, const char *tmp,
			 struct response *rs)
{
	struct store_file old;
	struct sg_err e = { 0 };
	int64_t used = 0;
	int lock, rc, fresh = !(store_file_get(sv->tenant->store, f->id, &old, &e) == 0 && old.in_store);

	/* under the lock, so that a reservation sees these bytes once (see upload) */
	lock = incoming_lock(sv);
	sg_err_clear(&e);
	rc = store_file_add_chunks(sv->tenant->store, f, chunks, sv->files.quota, &used, &e);
	unlink(tmp);
	if (lock >= 0)
		close(lock);
	store_chunks_drop(sv->tenant->store, chunks, &(struct sg_err){ 0 });   /* what was not taken */
	answer_upload(sv, f, rc, fresh, used, &e, rs);
}

static void upload(struct servlets *sv, const struct request *rq, const char *name, const char *user,
		   struct response *rs)
{
	char why[200], tmp[4400], folder[4200], final[4400], chunks[STORE_CHUNKS_ID_SIZE];
	uint8_t digest[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
	struct buf named = BUF_INIT(1024);
	struct store_file f = { 0 };
	struct sg_err e = { 0 };
	int64_t used = 0;
	int fd, rc, fresh_folder, lock;

	if (files_check_name(name, why, sizeof(why))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
		return;
	}
	if (!rq->read_body || !rq->body_declared) {
		reply_problem(sv->spark, rs, rq->read_body ? PROBLEM_BAD_REQUEST : PROBLEM_LENGTH_REQUIRED,
			      "An upload needs its bytes as the body, with a Content-Length.");
		return;
	}
	/* compared unsigned: a Content-Length of 2^63 or more is no negative size */
	if ((uint64_t)rq->body_declared > (uint64_t)INT64_MAX
	    || (sv->files.max_upload >= 0 && (uint64_t)rq->body_declared > (uint64_t)sv->files.max_upload)) {
		reply_problem(sv->spark, rs, PROBLEM_TOO_LARGE, "Upload of %zu bytes exceeds sparkgate's limit of %lld bytes "
			      "per file.",
			   rq->body_declared, (long long)(sv->files.max_upload >= 0 ? sv->files.max_upload : INT64_MAX));
		return;
	}
	if (use_shared_key(sv, rs) || reserve(sv, user, rq->body_declared, tmp, sizeof(tmp), &fd, rs))
		return;
	if (sv->files.shared) {   /* the incoming file only holds the quota: the bytes go to the store */
		uint8_t r[8];
		char hex[17];

		close(fd);
		sweep_chunks(sv);
		if (crypto_random(r, sizeof(r))) {
			unlink(tmp);
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not name the upload.");
			return;
		}
		crypto_hex(r, sizeof(r), hex);
		snprintf(chunks, sizeof(chunks), "tmp-%015lld-%08x-%ld-%s", (long long)tenant_wall_ms(), host_hash(),
			 (long)getpid(), hex);
		rc = receive_store(sv, rq, chunks, digest, rs);
	} else {
		rc = receive(sv, rq, fd, digest, rs);
		close(fd);
	}
	if (rc) {
		if (sv->files.shared)
			store_chunks_drop(sv->tenant->store, chunks, &e);
		unlink(tmp);
		return;
	}
	/* owner NUL name NUL digest: names and users hold no NUL, so no two inputs collide */
	if (buf_add(&named, user, strlen(user) + 1) || buf_add(&named, name, strlen(name) + 1)
	    || buf_add(&named, digest, sizeof(digest))
	    || crypto_hmac_sha256(sv->files.key, sizeof(sv->files.key), named.data, named.len, mac)) {
		buf_release(&named);
		if (sv->files.shared)
			store_chunks_drop(sv->tenant->store, chunks, &e);
		unlink(tmp);
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not name the upload.");
		return;
	}
	buf_release(&named);
	crypto_hex(mac, sizeof(mac), f.id);
	crypto_hex(digest, sizeof(digest), f.sha256);
	snprintf(f.owner, sizeof(f.owner), "%s", user);
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.size = (int64_t)rq->body_declared;
	f.created_ms = tenant_wall_ms();
	if (sv->files.shared) {
		store_shared(sv, &f, chunks, tmp, rs);
		return;
	}
	snprintf(folder, sizeof(folder), "%s/pub/%s", sv->files.dir, f.id);
	snprintf(final, sizeof(final), "%s/%s", folder, name);
	/* linked, not renamed: the incoming file holds its quota until the row counts the bytes
	 * (an existing final file has these very bytes: its id is their hash) */
	fresh_folder = mkdir(folder, DIR_MODE) == 0;
	if ((!fresh_folder && errno != EEXIST) || (link(tmp, final) != 0 && errno != EEXIST)) {
		reply_problem(sv->spark, rs, PROBLEM_NO_SPACE, "sparkgate could not store the upload: %s.", strerror(errno));
		unlink(tmp);
		if (fresh_folder)
			rmdir(folder);
		return;
	}
	/* under the lock, so that a reservation sees these bytes once: as the incoming file, or
	 * as the row (a lock that cannot be had only risks a reservation counting them twice) */
	lock = incoming_lock(sv);
	rc = store_file_add(sv->tenant->store, &f, sv->files.quota, &used, &e);
	unlink(tmp);
	if (lock >= 0)
		close(lock);
	if (rc) {
		/* only a file no row names goes: an earlier upload of the same bytes stays */
		if (fresh_folder) {
			unlink(final);
			rmdir(folder);
		}
	}
	answer_upload(sv, &f, rc, fresh_folder, used, &e, rs);
}

static void list(struct servlets *sv, const char *user, struct response *rs)
{
	struct store_file *rows = calloc(FILES_LIST_MAX, sizeof(*rows));
	struct buf items = BUF_INIT(LIMIT_RESPONSE_BODY);
	struct sg_err e = { 0 };
	char used_s[32], quota_s[32];
	int64_t used = 0;
	size_t n = 0;
	int rc;

	if (!rows) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		return;
	}
	if (store_file_list(sv->tenant->store, user, FILES_LIST_MAX, rows, &n, &e)
	    || store_file_total(sv->tenant->store, user, &used, &e)) {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "%s", e.msg);
		free(rows);
		return;
	}
	rc = buf_addstr(&items, "[ ");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = i ? buf_addstr(&items, ", ") : 0;
		rc = rc ? rc : print_file(sv, &items, &rows[i], "  ");
	}
	rc = rc ? rc : buf_addstr(&items, n ? " ]" : "]");
	snprintf(used_s, sizeof(used_s), "%lld", (long long)used);
	snprintf(quota_s, sizeof(quota_s), "%lld", (long long)sv->files.quota);
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
	} else {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "FileListResponse", 0, NULL },
			{ "files", RF_RAW, buf_str(&items), 0, NULL },
			{ "quotaBytes", RF_RAW, sv->files.quota >= 0 ? quota_s : NULL, 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "usedBytes", RF_RAW, used_s, 0, NULL },
			{ "user", RF_STRING, user, 0, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&items);
	free(rows);
}

/* GET or DELETE /v1/files/ID: the owner's (or an admin's) file; anyone else's is unknown. */
static void one(struct servlets *sv, const char *id, const char *user, int admin, int del, struct response *rs)
{
	struct store_file f;
	struct sg_err e = { 0 };
	int rc = strlen(id) == 2 * CRYPTO_SHA256_LEN && strspn(id, "0123456789abcdef") == strlen(id)
		? store_file_get(sv->tenant->store, id, &f, &e) : 1;

	if (rc < 0) {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "%s", e.msg);
		return;
	}
	if (rc || (!admin && strcmp(f.owner, user) != 0)) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No uploaded file %.80s.", id);
		if (rc == 0)
			reply_hide(rs);
		return;
	}
	if (del) {
		char path[4400];

		if (store_file_delete(sv->tenant->store, id, &e)) {
			reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "%s", e.msg);
			return;
		}
		snprintf(path, sizeof(path), "%s/pub/%s/%s", sv->files.dir, f.id, f.name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/pub/%s", sv->files.dir, f.id);
		rmdir(path);
	}
	answer_file(sv, rs, del ? "DeleteFileResponse" : "FileResponse", &f, -1);
	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", f.id);
}

/* PUT /v1/files/NAME, GET /v1/files, GET and DELETE /v1/files/ID (see files.h). */
void files_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	const struct request *rq = c->rq;
	const char *user = c->user, *rest = rq->path + strlen("/v1/files");
	int admin = c->admin;
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;

	if (*rest == '/')
		rest++;
	if (!*rest) {
		if (get) {
			list(sv, user, rs);
		} else {
			reply_problem(sv->spark, rs, PROBLEM_WRONG_METHOD, "Use GET /v1/files to list your files, PUT "
				      "/v1/files/NAME to upload one.");
			rs->allow = "GET, HEAD";
		}
	} else if (strchr(rest, '/')) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "Use PUT /v1/files/NAME, GET or DELETE /v1/files/ID.");
	} else if (strcmp(rq->method, "PUT") == 0) {
		upload(sv, rq, rest, user, rs);
	} else if (get || strcmp(rq->method, "DELETE") == 0) {
		one(sv, rest, user, admin, !get, rs);
	} else {
		reply_problem(sv->spark, rs, PROBLEM_WRONG_METHOD, "Use PUT /v1/files/NAME, GET or DELETE /v1/files/ID.");
		rs->allow = "GET, HEAD, PUT, DELETE";
	}
}

/* Digits only, at most 18 of them (so no overflow): the value, or -1. */
static int64_t range_number(const char *p, size_t n)
{
	int64_t v = 0;

	if (n == 0 || n > 18 || strspn(p, "0123456789") < n)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

int files_range(const char *range, const char *if_range, const char *etag, int64_t size, int64_t *start,
		int64_t *end)
{
	const char *dash;
	int64_t a, b;

	*start = 0;
	*end = size;
	/* RFC 9110 13.1.5: a Range under an If-Range that does not match is ignored */
	if (!range || (if_range && strcmp(if_range, etag) != 0))
		return 0;
	if (strncasecmp(range, "bytes=", 6) != 0 || strchr(range, ',') || !(dash = strchr(range + 6, '-')))
		return 0;
	range += 6;
	a = range_number(range, (size_t)(dash - range));
	b = range_number(dash + 1, strlen(dash + 1));
	if (dash == range) {   /* bytes=-N: the last N */
		if (b < 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*start = b < size ? size - b : 0;
		return 1;
	}
	if (a < 0 || (dash[1] && (b < 0 || b < a)))
		return 0;
	if (a >= size)
		return -1;
	*start = a;
	*end = dash[1] && b < size - 1 ? b + 1 : size;
	return 1;
}

/* body_read_fn of a download: the next bytes of [next, end), from a piece read from the store
 * (or the file on this host's disk). */
static ssize_t download_read(void *ctx, void *p, size_t n)
{
	struct files_download *dl = ctx;
	uint64_t left = dl->end - dl->next;
	size_t take;

	if (dl->next >= dl->end)
		return 0;
	if (n > left)
		n = (size_t)left;
	if (dl->fd >= 0) {
		ssize_t got;

		while ((got = pread(dl->fd, p, n, (off_t)dl->next)) < 0 && errno == EINTR)
			;
		if (got <= 0)
			return -1;
		dl->next += (uint64_t)got;
		return got;
	}
	if (dl->piece_off == dl->piece.len) {
		uint64_t k = dl->next / LIMIT_FILE_CHUNK, off = dl->next % LIMIT_FILE_CHUNK;
		uint64_t len = LIMIT_FILE_CHUNK - off < left ? LIMIT_FILE_CHUNK - off : left;
		struct sg_err e = { 0 };

		buf_reset(&dl->piece);
		dl->piece_off = 0;
		if (store_chunk_read(dl->store, dl->id, (int64_t)k, (int64_t)off, (size_t)len, &dl->piece, &e))
			return -1;
	}
	take = dl->piece.len - dl->piece_off < n ? dl->piece.len - dl->piece_off : n;
	memcpy(p, dl->piece.data + dl->piece_off, take);
	dl->piece_off += take;
	dl->next += take;
	return (ssize_t)take;
}

/* GET /files/ID/NAME with a shared store, without a login (a worker cannot log in; the
 * address is the secret, as when the web server serves DIR/pub): the stored bytes,
 * streamed, with Content-Length, ETag (the SHA-256 of the bytes) and single ranges. */
void files_download(struct servlets *sv, const struct call *c, struct response *rs)
{
	struct files_download *dl = &sv->files.dl;
	const struct request *rq = c->rq;
	const char *at = c->info ? c->info + 1 : "", *slash = strchr(at, '/');
	char id[2 * CRYPTO_SHA256_LEN + 1], etag[80];
	struct store_file f;
	struct sg_err e = { 0 };
	int64_t start, end;
	int rc, r;

	download_reset(dl);
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		reply_wrong_method(sv->spark, rq, rs, "GET, HEAD");
		return;
	}
	if (!slash || slash - at != 2 * CRYPTO_SHA256_LEN || strspn(at, "0123456789abcdef") != (size_t)(slash - at)
	    || strchr(slash + 1, '/')) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No uploaded file at this address: use the url an upload "
			      "answered (/files/ID/NAME).");
		return;
	}
	memcpy(id, at, sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	/* a read, so tried twice: a connection the database dropped since this process last used
	 * it (a restart) fails the first statement and is made again by the next */
	if ((rc = store_file_get(sv->tenant->store, id, &f, &e)) < 0) {
		sg_err_clear(&e);
		rc = store_file_get(sv->tenant->store, id, &f, &e);
	}
	if (rc < 0) {
		reply_err(sv->spark, rs, &e);
		return;
	}
	if (rc || strcmp(f.name, slash + 1) != 0) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No uploaded file at this address.");
		return;
	}
	if (!f.in_store) {   /* an earlier version's upload: on the disk of the host that took it */
		char path[4400];
		struct stat st;

		snprintf(path, sizeof(path), "%s/pub/%s/%s", sv->files.dir, f.id, f.name);
		dl->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (dl->fd < 0 || fstat(dl->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != f.size) {
			download_reset(dl);
			reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "This file was stored on the disk of another gateway "
				      "host by an earlier version of sparkgate; its owner may upload it again (it is then "
				      "kept in the shared store, for every host).");
			return;
		}
	}
	snprintf(etag, sizeof(etag), "\"%s\"", f.sha256);
	if ((r = files_range(rq->range, rq->if_range, etag, f.size, &start, &end)) < 0) {
		download_reset(dl);
		reply_problem(sv->spark, rs, PROBLEM_RANGE, "The range %.100s asks for no byte of this file of %lld bytes.",
			      rq->range, (long long)f.size);
		snprintf(rs->header, sizeof(rs->header), "Content-Range: bytes */%lld", (long long)f.size);
		return;
	}
	dl->store = sv->tenant->store;
	memcpy(dl->id, f.id, sizeof(dl->id));
	dl->next = (uint64_t)start;
	dl->end = (uint64_t)end;
	rs->status = r ? 206 : 200;
	rs->content_type = "application/octet-stream";
	rs->stream = download_read;
	rs->stream_ctx = dl;
	rs->stream_len = (uint64_t)(end - start);
	if (r)
		snprintf(rs->header, sizeof(rs->header), "ETag: %s\r\nAccept-Ranges: bytes\r\nContent-Range: bytes "
			 "%lld-%lld/%lld", etag, (long long)start, (long long)end - 1, (long long)f.size);
	else
		snprintf(rs->header, sizeof(rs->header), "ETag: %s\r\nAccept-Ranges: bytes", etag);
	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", f.id);
}
