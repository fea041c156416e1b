/*
 * assign.c: offset lookups for reads by manual assignment.
 */
#include "connectors/kafka/assign.h"

#include <stdio.h>

#include "connectors/kafka/kconf.h"

bwm_err_t bwm_assign_handle(const bwm_conf_t *conf, rd_kafka_t **out, char *errstr,
                            size_t errstr_size)
{
    static const char *const defaults[] = {"enable.auto.commit", "false", NULL};
    rd_kafka_conf_t *kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    char msg[512];

    if (!kc) {
        return BWM_ERR_INVALID;
    }
    *out = rd_kafka_new(RD_KAFKA_CONSUMER, kc, msg, sizeof(msg));
    if (!*out) {
        rd_kafka_conf_destroy(kc);
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create consumer: %s", msg);
    }
    return BWM_OK;
}

bwm_err_t bwm_assign_bounds(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
                            int64_t *low, int64_t *high, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, timeout_ms);

    if (err) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "cannot read the offsets of %s [%d]: %s", topic, (int)partition,
                           rd_kafka_err2str(err));
    }
    return BWM_OK;
}

bwm_err_t bwm_assign_times(rd_kafka_t *rk, const char *topic, const int32_t *parts, size_t n,
                           int64_t ms, int timeout_ms, int64_t *offsets, char *errstr,
                           size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    rd_kafka_resp_err_t err;
    bwm_err_t ret = BWM_OK;
    size_t i;

    for (i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset = ms;
    }
    /* The broker answers each partition's first offset at or after the time, or -1. */
    err = rd_kafka_offsets_for_times(rk, l, timeout_ms);
    if (err) {
        ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                          "cannot find the offsets of a time in %s: %s", topic,
                          rd_kafka_err2str(err));
    }
    for (i = 0; !ret && i < n; i++) {
        const rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, topic, parts[i]);

        if (!tp || tp->err) {
            ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                              "cannot find the offset of a time in %s [%d]: %s", topic,
                              (int)parts[i], tp ? rd_kafka_err2str(tp->err) : "no answer");
            break;
        }
        offsets[i] = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return ret;
}
