/* libFuzzer: the master's web UI JSON (outside bytes: whatever answers at --master-ui)
 * through the parser the listing and quota accounting read every driver's state from. */
#include <stddef.h>
#include <stdint.h>

#include "../../core/masterui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct master_ui ui;
	struct sg_err e = { 0 };

	if (master_ui_parse((const char *)data, size, "spark://127.0.0.1:7077", &ui, &e) == 0) {
		master_ui_find(&ui, "driver-20240101000000-0000");
		master_ui_release(&ui);
	}
	return 0;
}
