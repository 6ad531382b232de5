#include "spark/httpget.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <string.h>

#include "spark/master.h"

/* libcurl is loaded on first use (dlopen), not linked: with its dozens of libraries it would
 * double every process's resident memory and its start-up time (CGI mode starts once per
 * request), and most processes never read a web UI. */
static struct {
	int state;   /* 0 not tried, 1 loaded, -1 failed */
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
} curl;

static int load_curl(struct sg_err *e)
{
	void *h;

	if (curl.state)
		return curl.state > 0 ? 0 : sg_err_set(e, ERR_UNSUPPORTED, 0, "libcurl (libcurl.so.4) is not available");
	curl.state = -1;
	if (!(h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)))
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "libcurl (libcurl.so.4) is not available: %s", dlerror());
	/* POSIX: a function pointer may be stored through dlsym's void * */
	*(void **)&curl.global_init = dlsym(h, "curl_global_init");
	*(void **)&curl.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&curl.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&curl.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&curl.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&curl.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&curl.easy_strerror = dlsym(h, "curl_easy_strerror");
	if (!curl.global_init || !curl.easy_init || !curl.easy_setopt || !curl.easy_perform || !curl.easy_getinfo
	    || !curl.easy_cleanup || !curl.easy_strerror || curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "libcurl.so.4 would not start");
	curl.state = 1;
	return 0;
}

struct sink {
	struct buf *out;
	int rc;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if ((s->rc = buf_add(s->out, p, size * n)) != 0)
		return 0;   /* past the limit (or out of memory): libcurl stops with a write error */
	return size * n;
}


int http_get(const char *url, int64_t deadline_ms, struct buf *out, long *status, struct sg_err *e)
{
	int64_t left = deadline_ms - master_now_ms();
	struct sink s = { out, 0 };
	CURL *c;
	CURLcode cc;

	*status = 0;
	buf_reset(out);
	if (left <= 0)
		return sg_err_set(e, ERR_TIMEOUT, 0, "no time left for %s", url);
	if (load_curl(e))
		return e->code;
	if (!(c = curl.easy_init()))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl.easy_setopt(c, CURLOPT_USERAGENT, "sparkgate");
	cc = curl.easy_perform(c);
	curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl.easy_cleanup(c);
	if (s.rc)
		return sg_err_set(e, s.rc, 0, "%s: %s", url, s.rc == ERR_TOO_LARGE ? "answer too large" : "out of memory");
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return sg_err_set(e, ERR_TIMEOUT, 0, "%s did not answer in time", url);
	if (cc != CURLE_OK)
		return sg_err_set(e, ERR_IO, 0, "%s: %s", url, curl.easy_strerror(cc));
	return 0;
}
