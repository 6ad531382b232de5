/* libFuzzer: FastCGI parameters and body -> struct request.  Input: NUL-separated
 * "NAME=value" parameters, an empty one, then the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../fcgi/adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const char *params[33];   /* NULL-terminated */
	size_t nparams;
	const uint8_t *body;
	size_t body_len, body_off;
	char copy[4096];
};

static ssize_t read_body(void *ctx, void *p, size_t n)
{
	struct input *in = ctx;
	size_t left = in->body_len - in->body_off;

	if (n > left)
		n = left;
	memcpy(p, in->body + in->body_off, n);
	in->body_off += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input in;
	struct adapted a;
	size_t i = 0, start = 0;

	memset(&in, 0, sizeof(in));
	size_t head = size < sizeof(in.copy) - 1 ? size : sizeof(in.copy) - 1;
	memcpy(in.copy, data, head);
	in.copy[head] = '\0';
	for (i = 0; i < head && in.nparams < 32; i++) {
		if (in.copy[i] != '\0')
			continue;
		if (i == start) {   /* empty parameter: the body follows */
			i++;
			break;
		}
		in.params[in.nparams++] = in.copy + start;
		start = i + 1;
	}
	in.body = data + (i < size ? i : size);
	in.body_len = size - (size_t)(in.body - data);
	adapted_init(&a, 1u << 16);
	in.params[in.nparams] = NULL;
	adapt_request(&a, in.params, read_body, &in);
	adapted_release(&a);
	return 0;
}
