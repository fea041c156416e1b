/*
 * admin.h: the Kafka admin requests bwm needs: partition counts, topic
 * creation and partition watermarks. They work on any client handle.
 */
#ifndef BWM_ADMIN_H
#define BWM_ADMIN_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "core/err.h"

/* Number of partitions of topic; BWM_ERR_NOT_FOUND when the topic does not exist. */
bwm_err_t bwm_admin_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, int *count,
                               char *errstr, size_t errstr_size);

/*
 * Creates topic with this many partitions and replication factor (-1: the
 * broker's default). A topic that exists already is success.
 */
bwm_err_t bwm_admin_create_topic(rd_kafka_t *rk, const char *topic, int partitions, int replication,
                                 int timeout_ms, char *errstr, size_t errstr_size);

#endif
