/* Uploaded applications (beyond Spark): PUT /v1/files/NAME stores the body under
 * --files-dir and answers the URL a worker fetches it from; GET /v1/files lists the
 * caller's files, GET and DELETE /v1/files/ID one of them.
 *
 * Layout of --files-dir (02750: the owner and the folder's group, the web server's when
 * sparkgate runs as another user; set-group-ID, so what is made inside keeps that group):
 *   key              32 random bytes (0600): names folders, never served
 *   incoming/        uploads being written (02700): up-HOST-PID-SIZE-WHO-XXXXXX, each holding
 *                    SIZE bytes of WHO's quota while it exists; lock
 *   pub/ID/NAME      stored files (folders 02750, files 0640), served by the web server
 *                    without login at --files-url; no other user lists or reads them
 * ID is HMAC-SHA256(key, owner NUL name NUL SHA-256 of the bytes) in hex: the same file
 * uploaded again by its owner lands in the same place (content-addressed), and without the
 * key nobody can compute or guess another upload's address (256 bits).
 *
 * With a shared store (PostgreSQL: several gateway hosts behind a load balancer), the bytes
 * are kept in the store instead (store_chunk_put: LIMIT_FILE_CHUNK a row, written as the body
 * is read), every host names files with one key (the first host's, kept in the store), and
 * sparkgate itself serves GET /files/ID/NAME to the workers without a login (files_download),
 * streamed, with ETag and single ranges; incoming/ then holds empty files that only hold the
 * quota of uploads in flight. */
#ifndef SG_FILES_H
#define SG_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct store;

#define FILES_NAME_MAX 100
#define FILES_DEFAULT_MAX_UPLOAD (256ll << 20)
#define FILES_DEFAULT_QUOTA (1ll << 30)

/* Whether the adapter should leave the body of this request unread for files_handle to
 * stream (an upload is far larger than --max-body). */
int files_streams_body(const char *method, const char *path);

/* A stored upload being sent to a worker (the answer's stream, valid until the next request). */
struct files_download {
	struct store *store;
	char id[72];
	int fd;                    /* an earlier version's upload on this host's disk, or -1 */
	uint64_t next, end;        /* the bytes [next, end) not sent yet */
	struct buf piece;          /* read from the store, not sent yet (LIMIT_FILE_CHUNK at most) */
	size_t piece_off;
};

/* --files-dir and what goes with it. */
struct files_conf {
	char *dir, *url;           /* NULL: uploads are off */
	int64_t max_upload, quota;
	uint8_t key[32];
	int shared;                /* the bytes are kept in the shared store (PostgreSQL) */
	int key_shared;            /* key is the store's (every host's), read on first use */
	struct files_download dl;
};

/* Opens --files-dir (creating its folders and key) into f, keeping the bytes in store when
 * it is shared (--files-url must then end in /files, the path sparkgate serves): 0, or an
 * error in e. */
int files_open(struct files_conf *f, const char *dir, const char *url, int64_t max_upload, int64_t quota,
	       struct store *store, struct sg_err *e);
void files_close(struct files_conf *f);

/* Whether NAME may be stored: 1..FILES_NAME_MAX bytes of [A-Za-z0-9._+-], not starting with
 * '.' or '-', ending in .jar, .py, .zip or .egg.  0 yes, else -1 with why. */
int files_check_name(const char *name, char *why, size_t size);

/* The bytes a Range header asks of a file of size bytes (RFC 9110 14.2), one range only:
 * "bytes=A-B", "bytes=A-", "bytes=-N".  1: [*start, *end); 0: the whole file (no Range, one
 * that is malformed or asks for several ranges, or an If-Range that is not etag: the RFC
 * lets a server answer those in full); -1: no byte of it exists (416). */
int files_range(const char *range, const char *if_range, const char *etag, int64_t size, int64_t *start,
		int64_t *end);


#endif
