/*
 * forwarder.h: the runtime of `bwm forward`: result topics, read as a
 * consumer group of their own, POSTed to Core View in batches, with retries
 * and dead letters, and the group's offsets committed only past records
 * that were delivered or dead-lettered.
 *
 * Per partition one batch is under way at a time, so each partition's order
 * is kept; partitions run in parallel up to forward.concurrency requests.
 * Before a batch is first sent, its range (the committed offset up to its
 * last offset) is committed as the offset's metadata; after a crash, a
 * restart forms exactly that batch again, so it carries the same
 * idempotency key. Retries share one backoff for the endpoint (full jitter,
 * Retry-After honoured, one probe at a time while it fails). A 4xx other
 * than the stop statuses splits the batch in halves, down to the records at
 * fault, which go to the dead-letter topic.
 */
#ifndef BWM_FORWARDER_H
#define BWM_FORWARDER_H

#include <stdint.h>

#include "cmd/forward_conf.h"
#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_forwarder_stats {
    uint64_t fs_read;       /* result records consumed */
    uint64_t fs_delivered;  /* results accepted by Core View (also when it had them already) */
    uint64_t fs_dead;       /* records dead-lettered */
    uint64_t fs_tombstones; /* tombstones skipped */
    uint64_t fs_requests;   /* POSTs sent */
    uint64_t fs_retries;    /* answers (or their absence) that called for a retry */
    uint64_t fs_throttled;  /* of which 429 */
    uint64_t fs_duplicates; /* batches Core View said it had accepted before */
    uint64_t fs_splits;     /* rejected batches split in halves */
    uint64_t fs_batches;    /* batches finished */
    uint64_t fs_abandoned;  /* batches left unfinished at shutdown or when a partition went */
    uint64_t fs_tokens;     /* OAuth2 tokens fetched */
    uint64_t fs_bytes;      /* request body bytes sent */
    long fs_http_version;   /* of the last answer: 11 or 20 */
} bwm_forwarder_stats_t;

typedef struct bwm_forwarder bwm_forwarder_t;

/*
 * Connects to the registry and Kafka, checks the result topics, creates
 * the dead-letter topics when missing and joins the consumer group. conf
 * and fc must outlive the forwarder. Caller frees with
 * bwm_forwarder_destroy().
 */
bwm_err_t bwm_forwarder_new(const bwm_conf_t *conf, const bwm_fwd_conf_t *fc, bwm_forwarder_t **out,
                            char *errstr, size_t errstr_size);

/*
 * Forwards until bwm_cli_stop is set (then batches under way get
 * forward.shutdown.timeout.ms to finish) or, with exit_at_end, until every
 * assigned partition is read to its end and delivered. Commits what was
 * delivered, and the range of any batch left unfinished. An error means
 * the process should exit 1; a restart goes on where this one stopped.
 */
bwm_err_t bwm_forwarder_run(bwm_forwarder_t *f, int exit_at_end, char *errstr, size_t errstr_size);

void bwm_forwarder_get_stats(const bwm_forwarder_t *f, bwm_forwarder_stats_t *out);

/* Leaves the group and frees everything. */
void bwm_forwarder_destroy(bwm_forwarder_t *f);

#endif
