/*
 * replay_range.h: the pure parts of `bwm replay`: reading the --from and
 * --to bounds and the --partitions list, and deriving the names of a
 * replay's state namespace and topics. No I/O and no clock: "now" is an
 * argument, so every case is a table in the unit tests.
 */
#ifndef BWM_REPLAY_RANGE_H
#define BWM_REPLAY_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum bwm_bound_kind {
    BWM_BOUND_EARLIEST, /* each partition's first offset still held */
    BWM_BOUND_END,      /* each partition's end, as snapshotted when the replay starts */
    BWM_BOUND_TIME,     /* the first record at or after b_time_ms (Kafka timestamps) */
    BWM_BOUND_OFFSET,   /* b_offset in every partition */
    BWM_BOUND_OFFSETS,  /* an offset per listed partition; the list names the partitions */
} bwm_bound_kind_t;

typedef struct bwm_bound_offset {
    int32_t bo_partition;
    int64_t bo_offset;
} bwm_bound_offset_t;

typedef struct bwm_bound {
    bwm_bound_kind_t b_kind;
    int64_t b_time_ms;
    int64_t b_offset;
    bwm_bound_offset_t *b_offsets; /* BWM_BOUND_OFFSETS: ascending by partition */
    size_t b_n;
} bwm_bound_t;

/*
 * Parses a bound: "earliest", "end" (or "latest"), an ISO-8601 time
 * ("2026-11-26T15:13:00Z", "2026-11-26T16:13:00.250+01:00", "2026-11-26"),
 * a time relative to now_ms ("-10s", "-30m", "-2h", "-7d"), an offset for
 * every partition ("1200") or offsets per partition ("0:1200,1:900").
 * BWM_ERR_PARSE with a message naming what is wrong. On success the caller
 * frees with bwm_bound_free().
 */
bwm_err_t bwm_bound_parse(const char *s, int64_t now_ms, bwm_bound_t *out, char *errstr,
                          size_t errstr_size);
void bwm_bound_free(bwm_bound_t *b);

/*
 * Whether the bound names partition (always for the kinds that are not
 * lists). Sets *offset for BWM_BOUND_OFFSET and BWM_BOUND_OFFSETS.
 */
int bwm_bound_covers(const bwm_bound_t *b, int32_t partition, int64_t *offset);

/*
 * Parses "0,2,5" into a new ascending array without repeats (free()).
 * BWM_ERR_PARSE for anything else, an empty list included.
 */
bwm_err_t bwm_partitions_parse(const char *s, int32_t **out, size_t *n, char *errstr,
                               size_t errstr_size);

/* Formats seconds since 1970 as the UTC stamp of derived names, "20261126T151300Z". */
void bwm_replay_stamp(int64_t epoch_s, char out[17]);

/*
 * Writes "<base>.replay.<stamp>" into out; BWM_ERR_LIMIT when it would be
 * longer than max (the name's limit: 200 for namespaces, 249 for topics).
 */
bwm_err_t bwm_replay_name(const char *base, const char *stamp, size_t max, char *out, size_t size);

/* Whether s is 1 to max characters of A-Z a-z 0-9 . _ - (valid for Redis keys and Kafka topics). */
int bwm_replay_name_ok(const char *s, size_t max);

#endif
