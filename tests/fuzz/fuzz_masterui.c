/* libFuzzer: the master's web UI JSON (outside bytes: whatever answers at --master-ui)
 * through the parser the listing and quota accounting read every driver's state from. */
#include <stddef.h>
#include <stdint.h>

#include "spark/masterui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct master_ui ui;
	struct sg_err e = { 0 };

	/* the seed's master (tests/unit/master-ui.json), so mutations get past the url check */
	if (master_ui_parse((const char *)data, size, "spark://127.0.0.1:50315", &ui, &e) == 0) {
		master_ui_find(&ui, "driver-20261201115013-0000");
		char base[256];
		master_ui_worker_base(&ui, "worker-20261201115012-127.0.0.1-37609", base, sizeof base, &e);
		master_ui_release(&ui);
	}
	return 0;
}
