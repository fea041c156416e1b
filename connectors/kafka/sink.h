/*
 * sink.h: an idempotent Kafka producer that knows when everything it was
 * given has been acknowledged. The runtime produces a batch's results and
 * dead-letter records, then calls bwm_sink_flush() and commits state only
 * when every one of them was delivered.
 */
#ifndef BWM_SINK_H
#define BWM_SINK_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_sink bwm_sink_t;

/*
 * Creates the producer from conf's kafka.* keys. A full local queue is
 * waited on for at most queue_wait_ms per record (backpressure). Caller
 * frees with bwm_sink_destroy().
 */
bwm_err_t bwm_sink_new(const bwm_conf_t *conf, int queue_wait_ms, bwm_sink_t **out, char *errstr,
                       size_t errstr_size);

/* Flushes what is in flight (bounded by timeout_ms) and frees the producer. */
void bwm_sink_destroy(bwm_sink_t *s, int timeout_ms);

/* The librdkafka handle, for admin requests; owned by the sink. */
rd_kafka_t *bwm_sink_handle(bwm_sink_t *s);

/*
 * Queues one record. partition may be RD_KAFKA_PARTITION_UA (partitioned by
 * key, murmur2 as the Java client does). Takes ownership of headers (may be
 * NULL) on success only. Waits while the local queue is full, up to the
 * sink's queue_wait_ms (then BWM_ERR_TIMEOUT: Kafka is not taking records).
 */
bwm_err_t bwm_sink_produce(bwm_sink_t *s, const char *topic, int32_t partition, const void *key,
                           size_t keylen, const void *val, size_t vallen,
                           rd_kafka_headers_t *headers, char *errstr, size_t errstr_size);

/*
 * Waits until every record queued so far is acknowledged or failed. Returns
 * BWM_OK when all were delivered; otherwise BWM_ERR_TRANSPORT (or
 * BWM_ERR_TIMEOUT) with the first delivery error. Resets the failure count.
 */
bwm_err_t bwm_sink_flush(bwm_sink_t *s, int timeout_ms, char *errstr, size_t errstr_size);

/*
 * The headers of m's dead letter: m's own, then bwm.reason, bwm.source.topic,
 * bwm.source.partition, bwm.source.offset and bwm.error (DESIGN.md). The
 * caller adds its own and hands them to bwm_sink_produce().
 */
rd_kafka_headers_t *bwm_dead_letter_headers(const rd_kafka_message_t *m, const char *reason,
                                            const char *error);

#endif
