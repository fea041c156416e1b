/*
 * rebalance.c: taking and releasing partitions in a rebalance (see rebalance.h).
 */
#include "connectors/kafka/rebalance.h"

#include <stdio.h>
#include <string.h>

int bwm_rebalance_apply(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int add,
                        char *errstr, size_t errstr_size)
{
    const char *proto = rd_kafka_rebalance_protocol(rk);
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

    if (proto && strcmp(proto, "COOPERATIVE") == 0) {
        e = add ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
    } else {
        err = rd_kafka_assign(rk, add ? parts : NULL);
    }
    if (!e && !err) {
        return 0;
    }
    snprintf(errstr, errstr_size, "%s", e ? rd_kafka_error_string(e) : rd_kafka_err2str(err));
    if (e) {
        rd_kafka_error_destroy(e);
    }
    return -1;
}
