/*
 * reader.c: manual assignment of a topic's partitions and end-of-partition
 * tracking.
 */
#include "connectors/kafka/reader.h"

#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/admin.h"
#include "connectors/kafka/kconf.h"

struct bwm_reader {
    rd_kafka_t *r_rk;
    int r_nparts;
    int32_t *r_ids;
    uint8_t *r_eof;
    int r_neof;
};

void bwm_reader_destroy(bwm_reader_t *r)
{
    if (!r) {
        return;
    }
    if (r->r_rk) {
        rd_kafka_destroy(r->r_rk);
    }
    free(r->r_ids);
    free(r->r_eof);
    free(r);
}

bwm_err_t bwm_reader_new(const bwm_conf_t *conf, const char *topic, int32_t partition,
                         const bwm_start_t *start, int timeout_ms, bwm_reader_t **out, char *errstr,
                         size_t errstr_size)
{
    /* librdkafka settings as key, value pairs. */
    /* clang-format off */
    static const char *const defaults[] = {
        "enable.auto.commit", "false",
        "enable.partition.eof", "true",
        "group.id", "bwm-reader", /* required by librdkafka; never joined or committed */
        NULL,
    };
    /* clang-format on */
    bwm_reader_t *r = calloc(1, sizeof(*r));
    rd_kafka_conf_t *kc;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t kerr;
    char msg[512];
    int n = 0, i;
    bwm_err_t err;

    if (!r) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    if (!kc) {
        err = BWM_ERR_INVALID;
        goto err;
    }
    r->r_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, msg, sizeof(msg));
    if (!r->r_rk) {
        rd_kafka_conf_destroy(kc);
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create consumer: %s", msg);
        goto err;
    }
    err = bwm_admin_partitions(r->r_rk, topic, timeout_ms, &n, errstr, errstr_size);
    if (err) {
        goto err;
    }
    if (partition >= n) {
        err = bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                          "topic %s has no partition %d (it has %d)", topic, (int)partition, n);
        goto err;
    }
    r->r_ids = calloc((size_t)n, sizeof(*r->r_ids));
    r->r_eof = calloc((size_t)n, 1);
    l = rd_kafka_topic_partition_list_new(n);
    if (!r->r_ids || !r->r_eof || !l) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < n; i++) {
        if (partition >= 0 && i != partition) {
            continue;
        }
        rd_kafka_topic_partition_list_add(l, topic, i)->offset =
            start->st_kind == BWM_START_EARLIEST ? RD_KAFKA_OFFSET_BEGINNING
            : start->st_kind == BWM_START_LATEST ? RD_KAFKA_OFFSET_END
                                                 : start->st_value;
        r->r_ids[r->r_nparts++] = i;
    }
    if (start->st_kind == BWM_START_TIME) {
        /* The broker answers each partition's first offset at or after the time (or its end). */
        kerr = rd_kafka_offsets_for_times(r->r_rk, l, timeout_ms);
        if (kerr) {
            rd_kafka_topic_partition_list_destroy(l);
            err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                              "cannot find offsets for a time in %s: %s", topic,
                              rd_kafka_err2str(kerr));
            goto err;
        }
    }
    kerr = rd_kafka_assign(r->r_rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (kerr) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "cannot read %s: %s", topic,
                          rd_kafka_err2str(kerr));
        goto err;
    }
    *out = r;
    return BWM_OK;
err:
    bwm_reader_destroy(r);
    return err;
}

rd_kafka_message_t *bwm_reader_poll(bwm_reader_t *r, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(r->r_rk, timeout_ms);

    if (m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->partition >= 0 && !r->r_eof[m->partition]) {
            r->r_eof[m->partition] = 1;
            r->r_neof++;
        }
        rd_kafka_message_destroy(m);
        return NULL;
    }
    if (m && !m->err && m->partition >= 0 && r->r_eof[m->partition]) {
        r->r_eof[m->partition] = 0;
        r->r_neof--;
    }
    return m;
}

int bwm_reader_at_end(const bwm_reader_t *r)
{
    return r->r_neof == r->r_nparts;
}
