/*
 * follow.h: keeps a group member's reading of each partition it keeps
 * through a rebalance exactly where it was.
 *
 * Every rebalance begins with librdkafka pausing all the partitions a member
 * holds. Before librdkafka 2.1 (confluentinc/librdkafka#4208), a pause that
 * came while rd_kafka_consume_batch_queue() was taking messages could drop
 * the ones it had taken of a paused partition, but count them as read, so
 * fetching resumed after them: a gap the application never saw. A follow
 * records the offset after the last message returned for each partition and,
 * after each rebalance, moves every partition kept back there; until then it
 * drops what of such a partition does not follow on. The consumer must read
 * through bwm_follow_consume().
 */
#ifndef BWM_FOLLOW_H
#define BWM_FOLLOW_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bwm_follow bwm_follow_t;

/*
 * NULL when out of memory. Caller frees with bwm_follow_destroy(). Where a
 * follow is expected, NULL stands for none: a reader without a group.
 */
bwm_follow_t *bwm_follow_new(void);
void bwm_follow_destroy(bwm_follow_t *f);

/*
 * A rebalance callback begins: every partition assigned now that is not
 * revoked by it is kept. Call before bwm_follow_assigned() or
 * bwm_follow_revoked() for its partitions.
 */
void bwm_follow_rebalance(bwm_follow_t *f);

/* topic's partition is assigned from offset (may be logical). -1 when out of memory. */
int bwm_follow_assigned(bwm_follow_t *f, const char *topic, int32_t partition, int64_t offset);

/* topic's partition is revoked or lost. */
void bwm_follow_revoked(bwm_follow_t *f, const char *topic, int32_t partition);

/*
 * Seeks topic's partition to offset, retrying a seek librdkafka does not
 * confirm. From a rebalance callback, what the poll takes of the partition
 * is dropped, as it may be from before the seek, and bwm_follow_resync()
 * seeks it again. Returns 0, or -1 with errstr.
 */
int bwm_follow_seek(bwm_follow_t *f, rd_kafka_t *rk, const char *topic, int32_t partition,
                    int64_t offset, char *errstr, size_t errstr_size);

/*
 * rd_kafka_consume_batch_queue(q, timeout_ms, msgs, max), less what must not
 * reach the caller (destroyed here). Returns how many are left in msgs.
 */
size_t bwm_follow_consume(bwm_follow_t *f, rd_kafka_queue_t *q, int timeout_ms,
                          rd_kafka_message_t **msgs, size_t max);

/*
 * Ends a poll (one or more bwm_follow_consume() calls): seeks every partition
 * kept through a rebalance to the offset after the last message returned,
 * and every one sought from a callback to where it was sought. Returns 0, or
 * -1 with errstr when a seek could not be done.
 */
int bwm_follow_resync(bwm_follow_t *f, rd_kafka_t *rk, char *errstr, size_t errstr_size);

#endif
