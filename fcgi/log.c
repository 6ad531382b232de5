#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"

static enum log_level level_ = LOG_LEVEL_INFO;
static const char *file_;
static int pid_;   /* getpid() once, not per log line */

void log_setup(enum log_level level, const char *file)
{
	level_ = level;
	file_ = file;
	pid_ = (int)getpid();
	setvbuf(stderr, NULL, _IOLBF, 0);   /* one write per log line */
}

const char *log_file(void)
{
	return file_;
}

int log_open(void)
{
	int fd;

	if (!file_)
		return 0;
	fflush(stderr);
	fd = open(file_, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fd != STDERR_FILENO) {
		int rc = dup2(fd, STDERR_FILENO);
		int saved = errno;

		close(fd);
		if (rc < 0) {
			errno = saved;
			return -1;
		}
	}
	return 0;
}

int log_enabled(enum log_level level)
{
	return level <= level_;
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "info", "debug" };
	char when[32], text[4096];
	struct buf line = BUF_INIT(3 * sizeof(text) + 128);
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	if (level > level_)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (buf_printf(&line, "%s sparkgate[%d] %s: ", when, pid_, names[level])
	    || gateway_escape_text(&line, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1)
	    || buf_addc(&line, '\n')) {
		buf_release(&line);
		return;
	}
	fwrite(line.data, 1, line.len, stderr);   /* line-buffered: one write */
	buf_release(&line);
}

void log_lines(const char *prefix, const struct buf *lines)
{
	for (const char *l = buf_str(lines); *l;) {
		size_t n = strcspn(l, "\n");

		log_printf(LOG_LEVEL_ERROR, "%s %.*s", prefix, (int)n, l);
		l += n + (l[n] == '\n');
	}
}
