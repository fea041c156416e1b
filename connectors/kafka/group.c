/*
 * group.c: subscription, a rebalance callback that looks up the committed
 * offsets and their metadata of the partitions it takes, commits with
 * acknowledgements on a queue of their own, and a wake-up pipe that
 * librdkafka writes to when the consumer or commit queue gets something.
 * Partitions kept through a rebalance are read on from the last record
 * returned (connectors/kafka/follow.h).
 */
#include "connectors/kafka/group.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/kafka/follow.h"
#include "connectors/kafka/kconf.h"
#include "connectors/kafka/rebalance.h"
#include "connectors/log.h"

struct bwm_group {
    rd_kafka_t *g_rk;
    rd_kafka_queue_t *g_consumerq;
    rd_kafka_queue_t *g_commitq;
    bwm_follow_t *g_follow;
    int64_t g_reset; /* where a partition without a committed offset starts */
    int g_pipe[2];
    int g_timeout_ms;
    const bwm_group_handler_t *g_handler;
    void *g_opaque;
    int g_failed;
    char g_error[512];
};

static void set_failed(bwm_group_t *g, const char *what, const char *why)
{
    if (!g->g_failed) {
        g->g_failed = 1;
        snprintf(g->g_error, sizeof(g->g_error), "%s: %s", what, why);
        BWM_LOG(BWM_LOG_ERR, BWM_FAC_KAFKA, "%s", g->g_error);
    }
}

/* Applies an assignment change; a failure fails the group. */
static void apply(bwm_group_t *g, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int add)
{
    char why[256];

    if (bwm_rebalance_apply(rk, parts, add, why, sizeof(why)) != 0) {
        set_failed(g, add ? "cannot take partitions" : "cannot release partitions", why);
    }
}

/* The logical offset kafka.auto.offset.reset gives a partition without a committed offset. */
static int64_t reset_offset(const bwm_conf_t *conf)
{
    const char *reset = bwm_kconf_get(conf, "auto.offset.reset", "earliest");

    if (strcmp(reset, "latest") == 0 || strcmp(reset, "largest") == 0 ||
        strcmp(reset, "end") == 0) {
        return RD_KAFKA_OFFSET_END;
    }
    return RD_KAFKA_OFFSET_BEGINNING;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    bwm_group_t *g = opaque;
    rd_kafka_resp_err_t cerr;
    int i, lost;

    bwm_follow_rebalance(g->g_follow);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        cerr = rd_kafka_committed(rk, parts, g->g_timeout_ms);
        if (cerr) {
            set_failed(g, "cannot read the group's committed offsets", rd_kafka_err2str(cerr));
            return;
        }
        for (i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            char meta[512] = "";
            int64_t committed = tp->offset >= 0 ? tp->offset : -1;

            if (tp->metadata && tp->metadata_size > 0 && tp->metadata_size < sizeof(meta)) {
                memcpy(meta, tp->metadata, tp->metadata_size);
                meta[tp->metadata_size] = '\0';
            }
            if (bwm_follow_assigned(g->g_follow, tp->topic, tp->partition,
                                    committed >= 0 ? committed : g->g_reset) != 0) {
                set_failed(g, "cannot take partitions", "out of memory");
                return;
            }
            g->g_handler->gh_assigned(g->g_opaque, tp->topic, tp->partition, committed, meta);
            tp->offset = committed >= 0 ? committed : RD_KAFKA_OFFSET_INVALID;
            BWM_LOG(BWM_LOG_INFO, BWM_FAC_KAFKA, "assigned %s [%d], %s %lld%s%s", tp->topic,
                    (int)tp->partition, committed >= 0 ? "committed offset" : "no committed offset",
                    (long long)committed, meta[0] ? ", metadata " : "", meta);
        }
        apply(g, rk, parts, 1);
        /* A partition paused before it was lost would come back paused. */
        rd_kafka_resume_partitions(rk, parts);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        lost = rd_kafka_assignment_lost(rk);
        for (i = 0; i < parts->cnt; i++) {
            bwm_follow_revoked(g->g_follow, parts->elems[i].topic, parts->elems[i].partition);
            g->g_handler->gh_revoked(g->g_opaque, parts->elems[i].topic, parts->elems[i].partition,
                                     lost);
            BWM_LOG(lost ? BWM_LOG_WARN : BWM_LOG_INFO, BWM_FAC_KAFKA, "%s %s [%d]",
                    lost ? "lost" : "released", parts->elems[i].topic,
                    (int)parts->elems[i].partition);
        }
        apply(g, rk, parts, 0);
        return;
    }
    BWM_LOG(BWM_LOG_ERR, BWM_FAC_KAFKA, "rebalance failed: %s", rd_kafka_err2str(err));
    for (i = 0; i < parts->cnt; i++) {
        bwm_follow_revoked(g->g_follow, parts->elems[i].topic, parts->elems[i].partition);
    }
    apply(g, rk, parts, 0);
}

void bwm_group_destroy(bwm_group_t *g)
{
    if (!g) {
        return;
    }
    if (g->g_rk) {
        rd_kafka_consumer_close(g->g_rk);
        if (g->g_commitq) {
            rd_kafka_queue_poll_callback(g->g_commitq, 0);
            rd_kafka_queue_io_event_enable(g->g_commitq, -1, NULL, 0);
            rd_kafka_queue_destroy(g->g_commitq);
        }
        if (g->g_consumerq) {
            rd_kafka_queue_io_event_enable(g->g_consumerq, -1, NULL, 0);
            rd_kafka_queue_destroy(g->g_consumerq);
        }
        rd_kafka_destroy(g->g_rk);
    }
    if (g->g_pipe[0] >= 0) {
        close(g->g_pipe[0]);
        close(g->g_pipe[1]);
    }
    bwm_follow_destroy(g->g_follow);
    free(g);
}

bwm_err_t bwm_group_new(const bwm_conf_t *conf, const char *const *topics, size_t ntopics,
                        const char *group_id, int timeout_ms, const bwm_group_handler_t *handler,
                        void *opaque, bwm_group_t **out, char *errstr, size_t errstr_size)
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
    bwm_group_t *g = calloc(1, sizeof(*g));
    rd_kafka_conf_t *kc;
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_resp_err_t err;
    char kerr[512];
    size_t i;

    if (!g) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    g->g_pipe[0] = g->g_pipe[1] = -1;
    if (!(g->g_follow = bwm_follow_new())) {
        bwm_group_destroy(g);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    g->g_handler = handler;
    g->g_opaque = opaque;
    g->g_timeout_ms = timeout_ms;
    if (pipe(g->g_pipe) != 0) {
        g->g_pipe[0] = g->g_pipe[1] = -1;
        bwm_group_destroy(g);
        return bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "cannot make a pipe");
    }
    /* librdkafka's threads write to it: they must never block on a full pipe. */
    fcntl(g->g_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(g->g_pipe[1], F_SETFL, O_NONBLOCK);
    kc = bwm_kconf_new(conf, defaults, errstr, errstr_size);
    if (!kc) {
        bwm_group_destroy(g);
        return BWM_ERR_INVALID;
    }
    g->g_reset = reset_offset(conf);
    rd_kafka_conf_set_opaque(kc, g);
    rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
    g->g_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, kerr, sizeof(kerr));
    if (!g->g_rk) {
        rd_kafka_conf_destroy(kc);
        bwm_group_destroy(g);
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "cannot create consumer: %s",
                           kerr);
    }
    rd_kafka_poll_set_consumer(g->g_rk);
    g->g_consumerq = rd_kafka_queue_get_consumer(g->g_rk);
    g->g_commitq = rd_kafka_queue_new(g->g_rk);
    if (!g->g_consumerq || !g->g_commitq) {
        bwm_group_destroy(g);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "cannot make consumer queues");
    }
    rd_kafka_queue_io_event_enable(g->g_consumerq, g->g_pipe[1], "c", 1);
    rd_kafka_queue_io_event_enable(g->g_commitq, g->g_pipe[1], "a", 1);
    sub = rd_kafka_topic_partition_list_new((int)ntopics);
    for (i = 0; i < ntopics; i++) {
        rd_kafka_topic_partition_list_add(sub, topics[i], RD_KAFKA_PARTITION_UA);
    }
    err = rd_kafka_subscribe(g->g_rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        bwm_group_destroy(g);
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "cannot subscribe: %s",
                           rd_kafka_err2str(err));
    }
    *out = g;
    return BWM_OK;
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    bwm_group_t *g = opaque;
    int i;

    (void)rk;
    for (i = 0; offsets && i < offsets->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &offsets->elems[i];

        g->g_handler->gh_committed(g->g_opaque, tp->topic, tp->partition, tp->offset,
                                   err ? err : tp->err);
    }
}

size_t bwm_group_poll(bwm_group_t *g, rd_kafka_message_t **msgs, size_t max)
{
    char drain[64], why[512];
    size_t n;

    while (read(g->g_pipe[0], drain, sizeof(drain)) > 0) {
    }
    rd_kafka_queue_poll_callback(g->g_commitq, 0);
    /* Serves rebalance callbacks as rd_kafka_consumer_poll() does, without a call per record. */
    n = bwm_follow_consume(g->g_follow, g->g_consumerq, 0, msgs, max);
    if (bwm_follow_resync(g->g_follow, g->g_rk, why, sizeof(why)) != 0) {
        set_failed(g, "after a rebalance", why);
    }
    return n;
}

int bwm_group_fd(const bwm_group_t *g)
{
    return g->g_pipe[0];
}

static rd_kafka_topic_partition_list_t *one(const char *topic, int32_t partition,
                                            int64_t next_offset, const char *metadata)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);

    tp->offset = next_offset;
    if (metadata && metadata[0]) {
        /*
         * With its NUL: librdkafka hands committed metadata back without a
         * terminator, and clients built on it (Python, Go) read it as a C
         * string, past its end.
         */
        tp->metadata = strdup(metadata); /* freed by the list */
        tp->metadata_size = tp->metadata ? strlen(metadata) + 1 : 0;
    }
    return l;
}

void bwm_group_commit(bwm_group_t *g, const char *topic, int32_t partition, int64_t next_offset,
                      const char *metadata)
{
    rd_kafka_topic_partition_list_t *l = one(topic, partition, next_offset, metadata);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(g->g_rk, l, g->g_commitq, on_commit, g);

    if (err) {
        /* Not even sent (no group coordinator yet, say): report it as an answer. */
        g->g_handler->gh_committed(g->g_opaque, topic, partition, next_offset, err);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

bwm_err_t bwm_group_commit_sync(bwm_group_t *g, const char *topic, int32_t partition,
                                int64_t next_offset, const char *metadata, char *errstr,
                                size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = one(topic, partition, next_offset, metadata);
    rd_kafka_resp_err_t err = rd_kafka_commit(g->g_rk, l, 0);

    if (!err) {
        err = l->elems[0].err;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "cannot commit offset %lld of %s [%d]: %s", (long long)next_offset,
                           topic, (int)partition, rd_kafka_err2str(err));
    }
    return BWM_OK;
}

void bwm_group_pause(bwm_group_t *g, const char *topic, int32_t partition, int pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

    rd_kafka_topic_partition_list_add(l, topic, partition);
    if (pause) {
        rd_kafka_pause_partitions(g->g_rk, l);
    } else {
        rd_kafka_resume_partitions(g->g_rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

int bwm_group_failed(const bwm_group_t *g, char *errstr, size_t errstr_size)
{
    if (g->g_failed) {
        snprintf(errstr, errstr_size, "%s", g->g_error);
    }
    return g->g_failed;
}
