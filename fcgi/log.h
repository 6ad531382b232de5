/* The front end's log: one line per event on stderr (which web servers put in their error
 * log) or in --log-file: time, pid, level, message.  Everything in a message (paths, user
 * names, the master's texts) is escaped, so no request can break a line or forge one. */
#ifndef SG_LOG_H
#define SG_LOG_H

#include "base/http.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Lines above level are dropped; file (or NULL: stderr) is opened by log_open.  Call once,
 * before the first line. */
void log_setup(enum log_level level, const char *file);
/* --log-file: stderr itself (fd 2) pointed at the file, so anything written there lands in
 * it.  The file is opened first and put in place only then, so a reopen that fails (SIGHUP
 * after the directory went away) leaves the old stderr writing.  0, or -1 with errno. */
int log_open(void);
/* The --log-file given to log_setup, or NULL. */
const char *log_file(void);

/* Whether a line of level would be written (so its arguments need not be made). */
int log_enabled(enum log_level level);
void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Each line of lines (the gateway's reports) as an error line, after prefix. */
void log_lines(const char *prefix, const struct buf *lines);

#endif
