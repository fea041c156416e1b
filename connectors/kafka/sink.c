/*
 * sink.c: the producer, its delivery reports and the flush barrier.
 */
#include "connectors/kafka/sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kconf.h"
#include "connectors/log.h"

struct bwm_sink {
    rd_kafka_t *s_rk;
    int s_queue_wait_ms;
    uint64_t s_failed; /* since the last flush */
    char s_first_error[512];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    bwm_sink_t *s = opaque;

    (void)rk;
    if (m->err && s->s_failed++ == 0) {
        snprintf(s->s_first_error, sizeof(s->s_first_error), "delivery to %s [%d] failed: %s",
                 rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
    }
}

bwm_err_t bwm_sink_new(const bwm_conf_t *conf, int queue_wait_ms, bwm_sink_t **out, char *errstr,
                       size_t errstr_size)
{
    /* librdkafka settings as key, value pairs. */
    /* clang-format off */
    static const char *const defaults[] = {
        "enable.idempotence", "true",
        "acks", "all",
        "partitioner", "murmur2_random", /* the Java client's partitioner */
        "linger.ms", "5",
        "compression.type", "lz4",
        NULL,
    };
    /* clang-format on */
    bwm_sink_t *s = calloc(1, sizeof(*s));
    rd_kafka_conf_t *kc;
    char kerr[512];

    if (!s) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    if (!kc) {
        free(s);
        return BWM_ERR_INVALID;
    }
    s->s_queue_wait_ms = queue_wait_ms;
    rd_kafka_conf_set_opaque(kc, s);
    rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    s->s_rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, kerr, sizeof(kerr));
    if (!s->s_rk) {
        rd_kafka_conf_destroy(kc);
        free(s);
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create producer: %s",
                           kerr);
    }
    *out = s;
    return BWM_OK;
}

void bwm_sink_destroy(bwm_sink_t *s, int timeout_ms)
{
    if (!s) {
        return;
    }
    if (s->s_rk) {
        rd_kafka_flush(s->s_rk, timeout_ms);
        rd_kafka_destroy(s->s_rk);
    }
    free(s);
}

rd_kafka_t *bwm_sink_handle(bwm_sink_t *s)
{
    return s->s_rk;
}

bwm_err_t bwm_sink_produce(bwm_sink_t *s, const char *topic, int32_t partition, const void *key,
                           size_t keylen, const void *val, size_t vallen,
                           rd_kafka_headers_t *headers, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err;
    int waited = 0;

    for (;;) {
        err = rd_kafka_producev(s->s_rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)val, vallen),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            break;
        }
        if (waited >= s->s_queue_wait_ms) {
            return bwm_err_set(BWM_ERR_TIMEOUT, errstr, errstr_size,
                               "the producer queue stayed full for %d ms (%d records in flight)",
                               waited, rd_kafka_outq_len(s->s_rk));
        }
        /* Backpressure: serve delivery reports until the queue has room. */
        rd_kafka_poll(s->s_rk, 100);
        waited += 100;
    }
    if (err) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "cannot produce to %s: %s",
                           topic, rd_kafka_err2str(err));
    }
    rd_kafka_poll(s->s_rk, 0);
    return BWM_OK;
}

bwm_err_t bwm_sink_flush(bwm_sink_t *s, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(s->s_rk, timeout_ms);
    bwm_err_t ret = BWM_OK;

    if (s->s_failed) {
        ret = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "%llu record(s) failed; %s",
                          (unsigned long long)s->s_failed, s->s_first_error);
    } else if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        ret = bwm_err_set(BWM_ERR_TIMEOUT, errstr, errstr_size,
                          "%d record(s) not acknowledged within %d ms", rd_kafka_outq_len(s->s_rk),
                          timeout_ms);
    }
    s->s_failed = 0;
    s->s_first_error[0] = '\0';
    return ret;
}

rd_kafka_headers_t *bwm_dead_letter_headers(const rd_kafka_message_t *m, const char *reason,
                                            const char *error)
{
    rd_kafka_headers_t *orig = NULL, *h;
    char part[16], off[24];

    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig) {
        h = rd_kafka_headers_copy(orig);
    } else {
        h = rd_kafka_headers_new(8);
    }
    snprintf(part, sizeof(part), "%d", (int)m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    rd_kafka_header_add(h, "bwm.reason", -1, reason, -1);
    rd_kafka_header_add(h, "bwm.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
    rd_kafka_header_add(h, "bwm.source.partition", -1, part, -1);
    rd_kafka_header_add(h, "bwm.source.offset", -1, off, -1);
    rd_kafka_header_add(h, "bwm.error", -1, error, -1);
    return h;
}
