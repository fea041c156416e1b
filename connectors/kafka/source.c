/*
 * source.c: consumer-group membership with a rebalance callback that asks
 * the runtime for each partition's start offset and lets it finish a
 * partition's work before it goes. Assignment is cooperative-sticky by
 * default (only the partitions that move are revoked); the eager protocols
 * work too. Manual assignment reads chosen partitions without a group.
 * Partitions kept through a rebalance are read on from where the runtime is
 * (connectors/kafka/follow.h).
 */
#include "connectors/kafka/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/follow.h"
#include "connectors/kafka/kconf.h"
#include "connectors/kafka/rebalance.h"
#include "connectors/kafka/wake.h"
#include "connectors/log.h"

struct bwm_source {
    rd_kafka_t *s_rk;
    rd_kafka_queue_t *s_queue; /* the consumer's queue, taken on the first poll */
    bwm_wake_t *s_wake;        /* NULL: source.fetch.wake.ms is 0 */
    bwm_follow_t *s_follow;
    char *s_topic;
    const bwm_source_handler_t *s_handler;
    void *s_opaque;
    int s_manual; /* manual assignment: no group, no commits */
    int s_failed;
    char s_error[512];
};

/* Records the first fatal error of the source. */
static void fail(bwm_source_t *s, const char *fmt, const char *what, const char *why)
{
    if (!s->s_failed) {
        s->s_failed = 1;
        snprintf(s->s_error, sizeof(s->s_error), fmt, what, why);
        BWM_LOG(BWM_LOG_ERR, BWM_FAC_KAFKA, "%s", s->s_error);
    }
}

/* Applies an assignment change; a failure fails the source. */
static void apply(bwm_source_t *s, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int add)
{
    char why[256];

    if (bwm_rebalance_apply(rk, parts, add, why, sizeof(why)) != 0) {
        fail(s, add ? "cannot take partitions of %s: %s" : "cannot release partitions of %s: %s",
             s->s_topic, why);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    bwm_source_t *s = opaque;
    int i, lost;

    bwm_follow_rebalance(s->s_follow);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            int64_t offset = RD_KAFKA_OFFSET_BEGINNING;

            if (s->s_handler->sh_assigned(s->s_opaque, tp->partition, &offset, s->s_error,
                                          sizeof(s->s_error)) != BWM_OK) {
                s->s_failed = 1;
                BWM_LOG(BWM_LOG_ERR, BWM_FAC_KAFKA, "cannot take %s [%d]: %s", tp->topic,
                        (int)tp->partition, s->s_error);
                return;
            }
            if (bwm_follow_assigned(s->s_follow, tp->topic, tp->partition, offset) != 0) {
                fail(s, "cannot take %s: %s", tp->topic, "out of memory");
                return;
            }
            tp->offset = offset;
            BWM_LOG(BWM_LOG_INFO, BWM_FAC_KAFKA, "assigned %s [%d], starting at offset %lld",
                    tp->topic, (int)tp->partition, (long long)offset);
        }
        apply(s, rk, parts, 1);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Lost (session timed out, fenced by the coordinator): another member may own them. */
        lost = rd_kafka_assignment_lost(rk);
        for (i = 0; i < parts->cnt; i++) {
            s->s_handler->sh_revoked(s->s_opaque, parts->elems[i].partition, lost);
            bwm_follow_revoked(s->s_follow, parts->elems[i].topic, parts->elems[i].partition);
            BWM_LOG(lost ? BWM_LOG_WARN : BWM_LOG_INFO, BWM_FAC_KAFKA, "%s %s [%d]",
                    lost ? "lost" : "released", parts->elems[i].topic,
                    (int)parts->elems[i].partition);
        }
        apply(s, rk, parts, 0);
        return;
    }
    BWM_LOG(BWM_LOG_ERR, BWM_FAC_KAFKA, "rebalance failed: %s", rd_kafka_err2str(err));
    for (i = 0; i < parts->cnt; i++) {
        bwm_follow_revoked(s->s_follow, parts->elems[i].topic, parts->elems[i].partition);
    }
    apply(s, rk, parts, 0);
}

bwm_err_t bwm_source_new(const bwm_conf_t *conf, const char *topic, const char *group_id,
                         int wake_ms, const bwm_source_handler_t *handler, void *opaque,
                         bwm_source_t **out, char *errstr, size_t errstr_size)
{
    /* librdkafka settings as key, value pairs. */
    /* clang-format off */
    const char *defaults[] = {
        "group.id", group_id,
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "true",
        "partition.assignment.strategy", "cooperative-sticky",
        NULL,
    };
    /* clang-format on */
    bwm_source_t *s = calloc(1, sizeof(*s));
    rd_kafka_conf_t *kc;
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_resp_err_t err;
    char kerr[512];

    if (!s || !(s->s_follow = bwm_follow_new())) {
        free(s);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    s->s_handler = handler;
    s->s_opaque = opaque;
    s->s_topic = strdup(topic);
    kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    if (!kc || !s->s_topic) {
        bwm_follow_destroy(s->s_follow);
        free(s->s_topic);
        free(s);
        return BWM_ERR_INVALID;
    }
    rd_kafka_conf_set_opaque(kc, s);
    rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
    s->s_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, kerr, sizeof(kerr));
    if (!s->s_rk) {
        rd_kafka_conf_destroy(kc);
        bwm_follow_destroy(s->s_follow);
        free(s->s_topic);
        free(s);
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create consumer: %s",
                           kerr);
    }
    rd_kafka_poll_set_consumer(s->s_rk);
    s->s_wake = bwm_wake_new(s->s_rk, wake_ms);
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(s->s_rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "cannot subscribe to %s: %s", topic,
                    rd_kafka_err2str(err));
        bwm_source_destroy(s);
        return BWM_ERR_TRANSPORT;
    }
    *out = s;
    return BWM_OK;
}

bwm_err_t bwm_source_new_assigned(const bwm_conf_t *conf, const char *topic, const int32_t *parts,
                                  size_t n, int wake_ms, const bwm_source_handler_t *handler,
                                  void *opaque, bwm_source_t **out, char *errstr,
                                  size_t errstr_size)
{
    /* librdkafka settings as key, value pairs. */
    /* clang-format off */
    static const char *const defaults[] = {
        "group.id", "bwm-replay", /* required by librdkafka's consumer; never joined */
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "true",
        NULL,
    };
    /* Whatever kafka.* says: a manual reader must never commit to a group. */
    static const char *const forced[] = {
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        NULL,
    };
    /* clang-format on */
    bwm_source_t *s = calloc(1, sizeof(*s));
    rd_kafka_conf_t *kc = NULL;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t kerr;
    char msg[512];
    size_t i;
    bwm_err_t err;

    if (!s || !(s->s_topic = strdup(topic)) || !(l = rd_kafka_topic_partition_list_new((int)n))) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    s->s_handler = handler;
    s->s_opaque = opaque;
    s->s_manual = 1;
    kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    if (!kc) {
        err = BWM_ERR_INVALID;
        goto err;
    }
    for (i = 0; forced[i]; i += 2) {
        rd_kafka_conf_set(kc, forced[i], forced[i + 1], msg, sizeof(msg));
    }
    s->s_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, msg, sizeof(msg));
    if (!s->s_rk) {
        rd_kafka_conf_destroy(kc);
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create consumer: %s", msg);
        goto err;
    }
    s->s_wake = bwm_wake_new(s->s_rk, wake_ms);
    for (i = 0; i < n; i++) {
        int64_t offset = RD_KAFKA_OFFSET_BEGINNING;

        err = handler->sh_assigned(opaque, parts[i], &offset, errstr, errstr_size);
        if (err) {
            goto err;
        }
        rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset = offset;
        BWM_LOG(BWM_LOG_INFO, BWM_FAC_KAFKA, "reading %s [%d] from offset %lld", topic,
                (int)parts[i], (long long)offset);
    }
    kerr = rd_kafka_assign(s->s_rk, l);
    if (kerr) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "cannot read %s: %s", topic,
                          rd_kafka_err2str(kerr));
        goto err;
    }
    rd_kafka_topic_partition_list_destroy(l);
    *out = s;
    return BWM_OK;
err:
    if (l) {
        rd_kafka_topic_partition_list_destroy(l);
    }
    bwm_source_destroy(s);
    return err;
}

void bwm_source_pause(bwm_source_t *s, int32_t partition, int pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

    rd_kafka_topic_partition_list_add(l, s->s_topic, partition);
    if (pause) {
        rd_kafka_pause_partitions(s->s_rk, l);
    } else {
        rd_kafka_resume_partitions(s->s_rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

void bwm_source_destroy(bwm_source_t *s)
{
    if (!s) {
        return;
    }
    if (s->s_rk) {
        rd_kafka_consumer_close(s->s_rk);
        if (s->s_queue) {
            rd_kafka_queue_destroy(s->s_queue);
        }
        bwm_wake_destroy(s->s_wake);
        rd_kafka_destroy(s->s_rk);
    }
    bwm_follow_destroy(s->s_follow);
    free(s->s_topic);
    free(s);
}

/* The bytes of values of msgs[0..n). */
static size_t value_bytes(rd_kafka_message_t **msgs, size_t n)
{
    size_t bytes = 0, i;

    for (i = 0; i < n; i++) {
        bytes += msgs[i]->len;
    }
    return bytes;
}

size_t bwm_source_poll(bwm_source_t *s, int timeout_ms, rd_kafka_message_t **msgs, size_t max)
{
    size_t n;
    int due;
    char why[512];

    if (!s->s_queue && !(s->s_queue = rd_kafka_queue_get_consumer(s->s_rk))) {
        return 0;
    }
    /* What is there now, in one call; only when nothing is, a wait for the first to come. */
    n = bwm_follow_consume(s->s_follow, s->s_queue, 0, msgs, max);
    due = s->s_wake ? bwm_wake_check(s->s_wake, n, value_bytes(msgs, n),
                                     (size_t)rd_kafka_queue_length(s->s_queue))
                    : -1;
    /* The fetchers may be idle until the wake that the period holds back. */
    while (n == 0 && due >= 0 && due < timeout_ms) {
        due = due > 0 ? due : 1;
        n = bwm_follow_consume(s->s_follow, s->s_queue, due, msgs, 1);
        timeout_ms -= due;
        due = n == 0 ? bwm_wake_check(s->s_wake, 0, 0, (size_t)rd_kafka_queue_length(s->s_queue))
                     : -1;
    }
    if (n == 0) {
        n = bwm_follow_consume(s->s_follow, s->s_queue, timeout_ms, msgs, 1);
    }
    if (bwm_follow_resync(s->s_follow, s->s_rk, why, sizeof(why)) != 0) {
        fail(s, "after a rebalance of %s: %s", s->s_topic, why);
    }
    return n;
}

void bwm_source_commit(bwm_source_t *s, int32_t partition, int64_t next_offset)
{
    rd_kafka_topic_partition_list_t *l;

    if (s->s_manual) {
        return;
    }
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, s->s_topic, partition)->offset = next_offset;
    rd_kafka_commit(s->s_rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

bwm_err_t bwm_source_seek(bwm_source_t *s, int32_t partition, int64_t offset, char *errstr,
                          size_t errstr_size)
{
    if (bwm_follow_seek(s->s_follow, s->s_rk, s->s_topic, partition, offset, errstr, errstr_size) !=
        0) {
        return BWM_ERR_TRANSPORT;
    }
    return BWM_OK;
}

int bwm_source_failed(const bwm_source_t *s, char *errstr, size_t errstr_size)
{
    if (s->s_failed) {
        snprintf(errstr, errstr_size, "%s", s->s_error);
    }
    return s->s_failed;
}
