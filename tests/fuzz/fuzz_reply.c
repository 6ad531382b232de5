/* libFuzzer: a master's reply (RpcResponse body) through the Java serialization reader and
 * the DeployMessages decoder (MasterStateResponse's drivers and tokens included), and the class-failure parser used by build detection. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spark/cluster.h"
#include "spark/deploy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deploy_reply r;
	char cls[256], *text;
	int64_t uid;

	if (deploy_read_reply(data, size, &r, NULL) == 0) {
		deploy_reply_find_token(&r, "tok-active");   /* MasterStateResponse: the marks it kept */
		deploy_reply_release(&r);
	}
	text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		cluster_parse_class_failure(text, cls, sizeof(cls), &uid);
		free(text);
	}
	return 0;
}
