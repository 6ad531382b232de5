/* GET /metrics (Prometheus text format 0.0.4): counters every sparkgate process of the host
 * adds to one table in shared memory (shm.h, per user and configuration like the status
 * cache), so a scrape that lands on any process sees the host's totals.  Lock-free: each
 * counter is a 64-bit atomic add. */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdint.h>

#include "base/err.h"
#include "base/http.h"

struct metrics;
struct status_cache_stats;

/* NULL with e when shared memory cannot be had (then /metrics answers 503). */
struct metrics *metrics_open(const char *key, struct sg_err *e);
void metrics_close(struct metrics *m);
/* Removes the host's table for key (tests; a table in use stays mapped by its processes). */
void metrics_remove(const char *key);

/* One answered request (its route, its status, a refusal's kind). */
void metrics_record(struct metrics *m, const struct request *rq, const struct response *rs, int build_index);
/* One ask of the master (struct master's on_ask; micros -1: none could be reached). */
void metrics_ask(void *m, int64_t micros, int replied);
void metrics_set_master_up(struct metrics *m, int up);
void metrics_store_errors(struct metrics *m, uint64_t n);

/* The host's counters in the exposition format, appended to out. */
int metrics_print(const struct metrics *m, struct buf *out, const struct status_cache_stats *cache);

#endif
