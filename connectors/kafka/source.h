/*
 * source.h: a Kafka consumer-group member reading one input topic. The
 * runtime decides where each assigned partition starts (its fence + 1, not
 * Kafka's committed offset) and finishes a partition's pending work before
 * it is revoked. A source can also read chosen partitions by manual
 * assignment, with no group and no offset commits (`bwm replay`).
 */
#ifndef BWM_SOURCE_H
#define BWM_SOURCE_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_source_handler {
    /*
     * partition was assigned: set *offset to the first offset to read, or
     * leave RD_KAFKA_OFFSET_BEGINNING. An error is fatal for the source.
     */
    bwm_err_t (*sh_assigned)(void *opaque, int32_t partition, int64_t *offset, char *errstr,
                             size_t errstr_size);
    /*
     * partition is being revoked: finish and commit its pending batch, then
     * forget it. lost: the group already gave it to another member (the
     * session timed out): forget it without producing or committing.
     */
    void (*sh_revoked)(void *opaque, int32_t partition, int lost);
} bwm_source_handler_t;

typedef struct bwm_source bwm_source_t;

/*
 * Joins group_id and subscribes to topic. With wake_ms > 0 the source wakes
 * librdkafka's fetchers after its queue drained, at most every wake_ms
 * (connectors/kafka/wake.h). handler and opaque must outlive the source.
 * Caller frees with bwm_source_destroy().
 */
bwm_err_t bwm_source_new(const bwm_conf_t *conf, const char *topic, const char *group_id,
                         int wake_ms, const bwm_source_handler_t *handler, void *opaque,
                         bwm_source_t **out, char *errstr, size_t errstr_size);

/*
 * Reads parts[0 .. n) of topic by manual assignment: no consumer group is
 * joined and no offset is ever committed, so a group reading the same topic
 * is not disturbed. handler->sh_assigned gives each partition's start before
 * this returns; sh_revoked is never called. wake_ms as for bwm_source_new().
 * handler and opaque must outlive the source. Caller frees with
 * bwm_source_destroy().
 */
bwm_err_t bwm_source_new_assigned(const bwm_conf_t *conf, const char *topic, const int32_t *parts,
                                  size_t n, int wake_ms, const bwm_source_handler_t *handler,
                                  void *opaque, bwm_source_t **out, char *errstr,
                                  size_t errstr_size);

/* Stops (pause non-zero) or resumes fetching partition. */
void bwm_source_pause(bwm_source_t *s, int32_t partition, int pause);

/* Leaves the group (revoking every partition through the handler) and frees the consumer. */
void bwm_source_destroy(bwm_source_t *s);

/*
 * Takes up to max messages or events (partition EOF, errors) into msgs: all
 * that are there at once (one call and one clock read for many records),
 * else the first to come within timeout_ms. Serves rebalances as
 * rd_kafka_consumer_poll() does. Returns how many; the caller frees each
 * with rd_kafka_message_destroy().
 */
size_t bwm_source_poll(bwm_source_t *s, int timeout_ms, rd_kafka_message_t **msgs, size_t max);

/*
 * Records next_offset as the group's committed offset of partition
 * (asynchronous); does nothing for a source made by manual assignment.
 */
void bwm_source_commit(bwm_source_t *s, int32_t partition, int64_t next_offset);

/* Moves partition's read position to offset, dropping what was fetched beyond it. */
bwm_err_t bwm_source_seek(bwm_source_t *s, int32_t partition, int64_t offset, char *errstr,
                          size_t errstr_size);

/* Non-zero once a callback failed fatally; errstr then says why. */
int bwm_source_failed(const bwm_source_t *s, char *errstr, size_t errstr_size);

#endif
