/*
 * kept.h: the Kafka messages of the records a partition has staged and not
 * yet applied (its batch, or the batch's current round). Applying them may
 * still need a staged record's bytes: for its dead letter (a late record, an
 * error while evaluating, a key over its limit) and, in a stateless job, for
 * the Kafka key of its result. The messages are released together when the
 * round is applied, so memory holds at most commit.round.records of them per
 * partition, and a record's headers are parsed only if it is dead-lettered.
 *
 * Message i is the engine's staged row i: add one per staged row, in order,
 * and reset when the engine's rows are (a round is applied, the batch is
 * committed, or the partition starts again).
 */
#ifndef BWM_KEPT_H
#define BWM_KEPT_H

#include <librdkafka/rdkafka.h>

#include "core/err.h"

typedef struct bwm_kept {
    rd_kafka_message_t **k_msgs;
    size_t k_n;
    size_t k_cap;
} bwm_kept_t;

/* Keeps m (k owns it now) as the next record. BWM_ERR_NOMEM when memory runs out (m not taken). */
bwm_err_t bwm_kept_add(bwm_kept_t *k, rd_kafka_message_t *m);

/* Number of records kept. */
size_t bwm_kept_count(const bwm_kept_t *k);

/* Record i (< bwm_kept_count()), valid until bwm_kept_reset(). */
const rd_kafka_message_t *bwm_kept_get(const bwm_kept_t *k, size_t i);

/*
 * Releases every message; keeps the array for the next round unless the
 * round used under a quarter of it (BWM_TRIM_MIN_BYTES in core/buf.h).
 */
void bwm_kept_reset(bwm_kept_t *k);

/* Releases everything; k is empty afterwards. */
void bwm_kept_free(bwm_kept_t *k);

#endif
