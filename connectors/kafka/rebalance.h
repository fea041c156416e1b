/*
 * rebalance.h: what a consumer's rebalance callback does with the
 * partitions it is given or must give up, under either protocol: the
 * cooperative one (only the partitions that move) or the eager ones (the
 * whole assignment).
 */
#ifndef BWM_REBALANCE_H
#define BWM_REBALANCE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/*
 * Takes (add non-zero) or releases parts. Returns 0, or -1 with librdkafka's
 * reason in errstr.
 */
int bwm_rebalance_apply(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int add,
                        char *errstr, size_t errstr_size);

#endif
