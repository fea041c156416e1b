/*
 * admin.c: metadata, CreateTopics and watermark queries.
 */
#include "connectors/kafka/admin.h"

#include <string.h>

bwm_err_t bwm_admin_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, int *count,
                               char *errstr, size_t errstr_size)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    bwm_err_t ret = BWM_OK;

    if (!rkt) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "bad topic name '%s'", topic);
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "cannot read metadata of topic %s: %s", topic, rd_kafka_err2str(err));
    }
    if (md->topic_cnt != 1 || md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        ret = bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size, "topic %s does not exist", topic);
    } else if (md->topics[0].err) {
        ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "topic %s: %s", topic,
                          rd_kafka_err2str(md->topics[0].err));
    } else {
        *count = md->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return ret;
}

bwm_err_t bwm_admin_create_topic(rd_kafka_t *rk, const char *topic, int partitions, int replication,
                                 int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **tres;
    size_t n;
    char kerr[512];
    bwm_err_t ret = BWM_OK;

    nt = rd_kafka_NewTopic_new(topic, partitions, replication, kerr, sizeof(kerr));
    if (!nt) {
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "topic %s: %s", topic, kerr);
    }
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        ret =
            bwm_err_set(BWM_ERR_TIMEOUT, errstr, errstr_size, "creating topic %s timed out", topic);
    } else if (rd_kafka_event_error(ev)) {
        ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "creating topic %s: %s", topic,
                          rd_kafka_event_error_string(ev));
    } else {
        res = rd_kafka_event_CreateTopics_result(ev);
        tres = rd_kafka_CreateTopics_result_topics(res, &n);
        if (n == 1 && rd_kafka_topic_result_error(tres[0]) &&
            rd_kafka_topic_result_error(tres[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "creating topic %s: %s",
                              topic, rd_kafka_topic_result_error_string(tres[0]));
        }
    }
    if (ev) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return ret;
}
