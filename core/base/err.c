#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

int sg_err_set(struct sg_err *e, int code, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code)
		return code;
	e->code = code;
	e->offset = offset;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void sg_err_clear(struct sg_err *e)
{
	e->code = 0;
	e->offset = 0;
	e->msg[0] = '\0';
}

const char *sg_err_name(int code)
{
	switch (code) {
	case 0: return "ok";
	case ERR_NOMEM: return "out of memory";
	case ERR_INVALID: return "invalid input";
	case ERR_TOO_LARGE: return "too large";
	case ERR_TRUNCATED: return "truncated";
	case ERR_PROTOCOL: return "protocol error";
	case ERR_IO: return "i/o error";
	case ERR_TIMEOUT: return "timed out";
	case ERR_UNSUPPORTED: return "unsupported";
	case ERR_REMOTE: return "remote failure";
	}
	return "unknown error";
}
