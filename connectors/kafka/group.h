/*
 * group.h: a consumer-group member over one or more topics whose position
 * is the group's committed offsets. Each assigned partition starts at its
 * committed offset (or kafka.auto.offset.reset, earliest by default), and
 * the metadata committed with that offset is handed over on assignment: a
 * caller records there what it must redo after a crash. Commits are
 * asynchronous, each acknowledged through the handler; partitions can be
 * paused while the caller has enough of them in hand. A file descriptor
 * becomes readable when records or acknowledgements wait, so the caller can
 * sleep in its own poll loop. `bwm forward` is built on it.
 */
#ifndef BWM_GROUP_H
#define BWM_GROUP_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_group_handler {
    /*
     * topic's partition was assigned; committed is the group's committed
     * offset (-1 when none) and metadata what was committed with it ("" when
     * none). Called from bwm_group_poll().
     */
    void (*gh_assigned)(void *opaque, const char *topic, int32_t partition, int64_t committed,
                        const char *metadata);
    /*
     * The partition is being taken away. lost: another member may own it
     * already (the session timed out); commit nothing for it then.
     */
    void (*gh_revoked)(void *opaque, const char *topic, int32_t partition, int lost);
    /* The broker answered a bwm_group_commit() of next_offset; err 0 on success. */
    void (*gh_committed)(void *opaque, const char *topic, int32_t partition, int64_t next_offset,
                         rd_kafka_resp_err_t err);
} bwm_group_handler_t;

typedef struct bwm_group bwm_group_t;

/*
 * Joins group_id and subscribes to topics[0 .. ntopics). handler and opaque
 * must outlive the member; timeout_ms bounds the committed-offset lookup at
 * assignment. Caller frees with bwm_group_destroy().
 */
bwm_err_t bwm_group_new(const bwm_conf_t *conf, const char *const *topics, size_t ntopics,
                        const char *group_id, int timeout_ms, const bwm_group_handler_t *handler,
                        void *opaque, bwm_group_t **out, char *errstr, size_t errstr_size);

/* Leaves the group (revoking every partition through the handler) and frees the consumer. */
void bwm_group_destroy(bwm_group_t *g);

/*
 * Serves commit acknowledgements and rebalances, then puts up to max
 * records or events (partition EOF, error) into msgs without waiting.
 * Returns how many; the caller frees each with rd_kafka_message_destroy().
 */
size_t bwm_group_poll(bwm_group_t *g, rd_kafka_message_t **msgs, size_t max);

/* Readable when bwm_group_poll() has something to serve; it drains it. */
int bwm_group_fd(const bwm_group_t *g);

/* Commits next_offset with metadata (may be "") asynchronously; gh_committed says how it went. */
void bwm_group_commit(bwm_group_t *g, const char *topic, int32_t partition, int64_t next_offset,
                      const char *metadata);

/* Commits next_offset with metadata and waits for the broker's answer. */
bwm_err_t bwm_group_commit_sync(bwm_group_t *g, const char *topic, int32_t partition,
                                int64_t next_offset, const char *metadata, char *errstr,
                                size_t errstr_size);

/* Stops (pause non-zero) or resumes fetching topic's partition. */
void bwm_group_pause(bwm_group_t *g, const char *topic, int32_t partition, int pause);

/* Non-zero once the member failed for good; errstr then says why. */
int bwm_group_failed(const bwm_group_t *g, char *errstr, size_t errstr_size);

#endif
