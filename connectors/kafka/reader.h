/*
 * reader.h: reads every partition of one topic by manual assignment, with no
 * consumer group, from a chosen start, and knows when each partition has been
 * read to its current end. `bwm consume` is built on it.
 */
#ifndef BWM_READER_H
#define BWM_READER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_reader bwm_reader_t;

/* Where reading starts in every partition. */
typedef enum bwm_start_kind {
    BWM_START_EARLIEST,
    BWM_START_LATEST,
    BWM_START_OFFSET, /* the same offset in each partition (the end when beyond it) */
    BWM_START_TIME,   /* the first record at or after a time, in ms */
} bwm_start_kind_t;

typedef struct bwm_start {
    bwm_start_kind_t st_kind;
    int64_t st_value;
} bwm_start_t;

/*
 * Assigns every partition of topic (or only `partition` when >= 0) from
 * start; times are resolved to offsets through the broker. BWM_ERR_NOT_FOUND
 * when the topic or partition does not exist. Caller frees with
 * bwm_reader_destroy().
 */
bwm_err_t bwm_reader_new(const bwm_conf_t *conf, const char *topic, int32_t partition,
                         const bwm_start_t *start, int timeout_ms, bwm_reader_t **out, char *errstr,
                         size_t errstr_size);
void bwm_reader_destroy(bwm_reader_t *r);

/*
 * Returns the next record, or NULL after timeout_ms. Partition-end events are
 * consumed internally. Caller frees with rd_kafka_message_destroy(). A
 * returned message with err set is a consumer error to report.
 */
rd_kafka_message_t *bwm_reader_poll(bwm_reader_t *r, int timeout_ms);

/* Whether every assigned partition has been read to its end. */
int bwm_reader_at_end(const bwm_reader_t *r);

#endif
