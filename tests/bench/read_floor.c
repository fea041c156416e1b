/*
 * read_floor.c: what reading a topic through librdkafka costs, before any
 * processing. It reads every partition of a topic from the earliest offset
 * to the end as bwm's source does (rd_kafka_consume_batch_queue() on the
 * consumer queue, taking what is there and waiting only when nothing is;
 * bwm's consumer defaults, then the -X settings of a job; the fetch wake
 * with source.fetch.wake.ms's default), touches each message's first byte
 * and destroys it, with bwm's allocator and its settings
 * (cmd/allocator.h). Its CPU time per record is the floor under any
 * librdkafka-based engine with those settings; the bench reports it beside
 * bwm's and Kafka Streams'.
 *
 * Usage: build/bench-read -b brokers -t topic [-X key=value ...]
 * Prints one JSON line: {"records": N, "bytes": N}.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/allocator.h"
#include "connectors/kafka/wake.h"

/* Read by jemalloc, as in bwm (cmd/allocator.h). */
const char *malloc_conf = BWM_MALLOC_CONF;

#define BATCH   1000
#define WAKE_MS 2 /* source.fetch.wake.ms's default (cmd/job.c) */

static int set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char err[512];

    if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench-read: %s\n", err);
        return -1;
    }
    return 0;
}

/* Assigns every partition of topic from its earliest offset; returns the count, or -1. */
static int assign_all(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err;
    int i, n = -1;

    if (!rkt) {
        return -1;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        fprintf(stderr, "bench-read: metadata: %s\n", rd_kafka_err2str(err));
        return -1;
    }
    if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
        parts = rd_kafka_topic_partition_list_new(n);
        for (i = 0; i < n; i++) {
            rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        err = rd_kafka_assign(rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (err) {
            fprintf(stderr, "bench-read: assign: %s\n", rd_kafka_err2str(err));
            n = -1;
        }
    } else {
        fprintf(stderr, "bench-read: topic %s: %s\n", topic,
                md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

int main(int argc, char **argv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_message_t *msgs[BATCH];
    const char *brokers = NULL, *topic = NULL;
    unsigned long long records = 0, bytes = 0;
    volatile unsigned char sink = 0;
    rd_kafka_queue_t *q;
    rd_kafka_t *rk;
    bwm_wake_t *wake;
    char group[64], err[512], *eq;
    int opt, parts, ended = 0, due;
    ssize_t i, n;
    size_t taken;

    snprintf(group, sizeof(group), "bench-read-%d", (int)getpid());
    if (set(conf, "group.id", group) || set(conf, "enable.auto.commit", "false") ||
        set(conf, "enable.auto.offset.store", "false") ||
        set(conf, "auto.offset.reset", "earliest") || set(conf, "enable.partition.eof", "true")) {
        return 2;
    }
    while ((opt = getopt(argc, argv, "b:t:X:")) != -1) {
        switch (opt) {
            case 'b':
                brokers = optarg;
                break;
            case 't':
                topic = optarg;
                break;
            case 'X':
                eq = strchr(optarg, '=');
                if (!eq) {
                    fprintf(stderr, "bench-read: -X %s: expected key=value\n", optarg);
                    return 2;
                }
                *eq = '\0';
                if (set(conf, optarg, eq + 1)) {
                    return 2;
                }
                break;
            default:
                fprintf(stderr, "usage: bench-read -b brokers -t topic [-X key=value ...]\n");
                return 2;
        }
    }
    if (!brokers || !topic || optind != argc || set(conf, "bootstrap.servers", brokers)) {
        fprintf(stderr, "usage: bench-read -b brokers -t topic [-X key=value ...]\n");
        return 2;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "bench-read: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    q = rd_kafka_queue_get_consumer(rk);
    wake = bwm_wake_new(rk, WAKE_MS);
    parts = assign_all(rk, topic);
    while (parts > 0 && ended < parts) {
        n = rd_kafka_consume_batch_queue(q, 0, msgs, BATCH);
        for (i = 0, taken = 0; i < n; i++) {
            taken += msgs[i]->len;
        }
        due = bwm_wake_check(wake, n > 0 ? (size_t)n : 0, taken, (size_t)rd_kafka_queue_length(q));
        if (n <= 0) {
            /* Nothing queued: wait for a message, no longer than until a held wake may go. */
            n = rd_kafka_consume_batch_queue(q, due >= 0 && due < 1000 ? (due > 0 ? due : 1) : 1000,
                                             msgs, 1);
        }
        for (i = 0; i < n; i++) {
            if (msgs[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                ended++;
            } else if (msgs[i]->err) {
                fprintf(stderr, "bench-read: %s\n", rd_kafka_message_errstr(msgs[i]));
                parts = -1;
            } else {
                records++;
                bytes += msgs[i]->len;
                sink ^= msgs[i]->len ? *(const unsigned char *)msgs[i]->payload : 0;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    bwm_wake_destroy(wake);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (parts < 0) {
        return 1;
    }
    printf("{\"records\": %llu, \"bytes\": %llu}\n", records, bytes);
    return 0;
}
