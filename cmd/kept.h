/*
 * kept.h: copies of the records a partition has staged and not yet applied
 * (its batch, or the batch's current round), kept after their Kafka messages
 * are released. Applying them may still need a staged record's bytes: for
 * its dead letter (a late record, an error while evaluating, a key over its
 * limit) and, in a stateless job, for the Kafka key of its result. A copy
 * holds the key, the value, the headers (only when the record has some) and
 * the offset: about the record's size plus 48 bytes, where a held message
 * keeps librdkafka's fetch buffers alive too.
 *
 * Copy i is the engine's staged row i: add one copy per staged row, in
 * order, and reset when the engine's rows are (a round is applied, the batch
 * is committed, or the partition starts again).
 */
#ifndef BWM_KEPT_H
#define BWM_KEPT_H

#include <librdkafka/rdkafka.h>

#include "connectors/kafka/sink.h"
#include "core/buf.h"
#include "core/err.h"

typedef struct bwm_kept_rec bwm_kept_rec_t;

typedef struct bwm_kept {
    bwm_buf_t k_bytes; /* keys and values, one after the other */
    bwm_kept_rec_t *k_recs;
    size_t k_n;
    size_t k_cap;
} bwm_kept_t;

/* Copies m as the next record. BWM_ERR_NOMEM when memory runs out (nothing added). */
bwm_err_t bwm_kept_add(bwm_kept_t *k, const rd_kafka_message_t *m);

/* Number of records kept. */
size_t bwm_kept_count(const bwm_kept_t *k);

/*
 * Record i (< bwm_kept_count()) of partition of topic; the pointers are
 * valid until the next bwm_kept_add() or bwm_kept_reset().
 */
void bwm_kept_get(const bwm_kept_t *k, size_t i, const char *topic, int32_t partition,
                  bwm_source_rec_t *out);

/*
 * Forgets every record; keeps the memory for the next batch unless the
 * batch used under a quarter of it (BWM_TRIM_MIN_BYTES in core/buf.h).
 */
void bwm_kept_reset(bwm_kept_t *k);

/* Frees the memory; k is empty afterwards. */
void bwm_kept_free(bwm_kept_t *k);

#endif
