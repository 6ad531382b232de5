/* libFuzzer: an HTTP request body through the JSON layer — parse + validate like Spark 3.5
 * and Spark 4, translate (buildDriverDescription), and serialize for every build. */
#include <stddef.h>
#include <stdint.h>

#include "spark/deploy.h"
#include "spark/rest.h"
#include "spark/submit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < spark_nbuilds; i++) {
		const struct spark_build *b = &spark_builds[i];
		struct create_request cr;
		struct rest_error err;
		struct driver_desc d;
		struct buf out = BUF_INIT(16u << 20);
		struct submit_config cfg = { .master_url = "spark://127.0.0.1:7077", .build = b, .placeholder_names = "*" };

		create_request_init(&cr);
		rest_error_init(&err);
		driver_desc_init(&d);
		if (rest_parse_create((const char *)data, size, &b->rest, &cr, &err) == 0
		    && submit_build_driver(&cr, &cfg, &d, &err) == 0)
			deploy_write_submit(&out, b, &d);
		buf_release(&out);
		driver_desc_release(&d);
		rest_error_release(&err);
		create_request_release(&cr);
	}
	return 0;
}
