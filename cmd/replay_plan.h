/*
 * replay_plan.h: a replay's plan: the bounds and partitions the user gave,
 * resolved against the input topic into offset ranges [start, end), with
 * the end offsets snapshotted now, so that the replay ends while producers
 * keep writing.
 */
#ifndef BWM_REPLAY_PLAN_H
#define BWM_REPLAY_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "cmd/processor.h"
#include "cmd/replay_range.h"
#include "core/conf.h"

typedef struct bwm_replay_plan {
    bwm_processor_range_t *pl_ranges; /* ascending by partition */
    size_t pl_n;
    uint64_t pl_total; /* offsets in all ranges */
} bwm_replay_plan_t;

/*
 * Resolves from and to over topic's partitions (all, or only[0 .. nonly)
 * when only is not NULL), reading offsets and offsets-for-times from the
 * brokers of conf. A partition a --from or --to offset list leaves out is
 * not replayed (an error when only names it). BWM_ERR_INVALID, with a
 * message naming the option, for a range that cannot be; other errors are
 * Kafka's. The caller frees with bwm_replay_plan_free().
 */
bwm_err_t bwm_replay_plan_new(const bwm_conf_t *conf, const char *topic, const bwm_bound_t *from,
                              const bwm_bound_t *to, const int32_t *only, size_t nonly,
                              int timeout_ms, bwm_replay_plan_t *out, char *errstr,
                              size_t errstr_size);
void bwm_replay_plan_free(bwm_replay_plan_t *pl);

/* Prints one line per partition, "partition P: offsets [S, E): N records", and the total. */
void bwm_replay_plan_print(const bwm_replay_plan_t *pl, FILE *out);

#endif
