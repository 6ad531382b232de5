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
 * key nobody can compute or guess another upload's address (256 bits). */
#ifndef SG_FILES_H
#define SG_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define FILES_NAME_MAX 100
#define FILES_DEFAULT_MAX_UPLOAD (256ll << 20)
#define FILES_DEFAULT_QUOTA (1ll << 30)

/* Whether the adapter should leave the body of this request unread for files_handle to
 * stream (an upload is far larger than --max-body). */
int files_streams_body(const char *method, const char *path);

/* --files-dir and what goes with it. */
struct files_conf {
	char *dir, *url;           /* NULL: uploads are off */
	int64_t max_upload, quota;
	uint8_t key[32];
};

/* Opens --files-dir (creating its folders and key) into f: 0, or an error in e. */
int files_open(struct files_conf *f, const char *dir, const char *url, int64_t max_upload, int64_t quota,
	       struct sg_err *e);
void files_close(struct files_conf *f);

/* Whether NAME may be stored: 1..FILES_NAME_MAX bytes of [A-Za-z0-9._+-], not starting with
 * '.' or '-', ending in .jar, .py, .zip or .egg.  0 yes, else -1 with why. */
int files_check_name(const char *name, char *why, size_t size);


#endif
