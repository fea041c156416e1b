/*
 * assign.h: the offset lookups that plan a read by manual assignment: a
 * partition's first and end offsets, and the first offset at or after a
 * time. `bwm replay` resolves its range with them before reading anything.
 */
#ifndef BWM_ASSIGN_H
#define BWM_ASSIGN_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

/*
 * A consumer handle for the lookups, with the kafka.* keys of conf; it
 * joins no group and reads nothing. Caller frees with rd_kafka_destroy().
 */
bwm_err_t bwm_assign_handle(const bwm_conf_t *conf, rd_kafka_t **out, char *errstr,
                            size_t errstr_size);

/* The first offset still held (*low) and the end offset (*high) of topic's partition. */
bwm_err_t bwm_assign_bounds(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
                            int64_t *low, int64_t *high, char *errstr, size_t errstr_size);

/*
 * For each of parts[0 .. n): the first offset whose Kafka timestamp is at or
 * after ms into offsets[i], or -1 when there is none (the partition's end).
 */
bwm_err_t bwm_assign_times(rd_kafka_t *rk, const char *topic, const int32_t *parts, size_t n,
                           int64_t ms, int timeout_ms, int64_t *offsets, char *errstr,
                           size_t errstr_size);

#endif
