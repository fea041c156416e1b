/*
 * processor.h: the runtime that executes a job on Kafka: consume a batch,
 * decode and apply it to the cached states, produce results and dead-letter
 * records and wait for Kafka's acknowledgement, then commit states and fence
 * to the state store in one compare-and-set, then commit the Kafka offset
 * (DESIGN.md, "The contract"). `bwm run` drives it as a consumer-group
 * member; `bwm replay` over fixed ranges of offsets, by manual assignment.
 */
#ifndef BWM_PROCESSOR_H
#define BWM_PROCESSOR_H

#include <stdint.h>

#include "cmd/job.h"
#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_processor_stats {
    uint64_t ps_read;     /* input records consumed */
    uint64_t ps_applied;  /* records applied to state (or projected, for stateless jobs) */
    uint64_t ps_filtered; /* records dropped by WHERE */
    uint64_t ps_skipped;  /* records at or below the fence, already applied */
    uint64_t ps_dead;     /* records sent to the dead-letter topic */
    uint64_t ps_results;  /* results produced */
    uint64_t ps_batches;  /* partition batches committed */
    uint64_t ps_fenced;   /* batches dropped because another instance moved the fence */
    uint64_t ps_evicted;  /* states dropped from memory to keep within the cache budget */
    uint64_t ps_retries;  /* faults (Redis, Kafka, registry) ridden out */
} bwm_processor_stats_t;

typedef struct bwm_processor bwm_processor_t;

/* One partition of a replay: the offsets [rg_start, rg_end) to apply. */
typedef struct bwm_processor_range {
    int32_t rg_partition;
    int64_t rg_start;
    int64_t rg_end;
} bwm_processor_range_t;

/* Where a replay reads and writes, and how it reports progress. */
typedef struct bwm_processor_replay {
    const char *rp_namespace;    /* state namespace */
    const char *rp_output_topic; /* results */
    const char *rp_dlq_topic;    /* dead letters */
    const bwm_processor_range_t *rp_ranges;
    size_t rp_nranges;
    /* Called about every rp_progress_ms while running (NULL: never). */
    void (*rp_progress)(void *opaque, const bwm_processor_stats_t *st);
    void *rp_opaque;
    int64_t rp_progress_ms;
} bwm_processor_replay_t;

/*
 * Connects to Redis, the registry and Kafka, creates missing output topics,
 * registers the result schema and joins the consumer group. job must
 * outlive the processor. Caller frees with bwm_processor_destroy().
 */
bwm_err_t bwm_processor_new(const bwm_conf_t *conf, const bwm_job_t *job, bwm_processor_t **out,
                            char *errstr, size_t errstr_size);

/*
 * As bwm_processor_new(), but reads the ranges of rp by manual assignment,
 * with no consumer group and no Kafka offset commits, into rp's namespace
 * and topics. Each partition starts at its range's start, or after the
 * namespace's fence when that is further on (the offsets in between count
 * as skipped), and stops before its range's end. rp (and what it points to)
 * must outlive the processor; run it with exit_at_end set.
 */
bwm_err_t bwm_processor_new_replay(const bwm_conf_t *conf, const bwm_job_t *job,
                                   const bwm_processor_replay_t *rp, bwm_processor_t **out,
                                   char *errstr, size_t errstr_size);

/*
 * Processes until bwm_cli_stop is set, or, with exit_at_end, until every
 * assigned partition is read to its end (a replay: to its range's end) and committed. Returns
 * BWM_OK after committing what was pending; an error means the process should exit 1 and restart
 * from the fence.
 */
bwm_err_t bwm_processor_run(bwm_processor_t *p, int exit_at_end, char *errstr, size_t errstr_size);

void bwm_processor_get_stats(const bwm_processor_t *p, bwm_processor_stats_t *out);

/* Leaves the group (finishing the pending batch) and frees everything. */
void bwm_processor_destroy(bwm_processor_t *p);

#endif
