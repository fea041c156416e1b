/*
 * follow.c: the offset after the last message returned, per topic and
 * partition, and the seeks that put kept partitions back there after a
 * rebalance (see follow.h for why).
 */
#include "connectors/kafka/follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/log.h"

/* How long a seek is waited for, how often it is made, and how often its position is read. */
#define SEEK_WAIT_MS 1000
#define SEEK_TRIES   10
#define SEEK_LOOK_MS 2

typedef struct held {
    int h_assigned;
    int h_resync;   /* kept through a rebalance: to be read again from h_next */
    int h_sought;   /* moved by the caller from a callback of the current poll */
    int64_t h_next; /* the offset after the last message returned, or the start */
} held_t;

typedef struct topic {
    char *t_name;
    const rd_kafka_topic_t *t_rkt; /* the handle its messages carry, once seen */
    held_t *t_parts;               /* by partition */
    int32_t t_nparts;
} topic_t;

struct bwm_follow {
    topic_t *f_topics;
    size_t f_ntopics;
    int f_resync;  /* some h_resync is set */
    int f_polling; /* inside rd_kafka_consume_batch_queue(), where callbacks run */
};

bwm_follow_t *bwm_follow_new(void)
{
    return calloc(1, sizeof(bwm_follow_t));
}

void bwm_follow_destroy(bwm_follow_t *f)
{
    size_t i;

    if (!f) {
        return;
    }
    for (i = 0; i < f->f_ntopics; i++) {
        free(f->f_topics[i].t_name);
        free(f->f_topics[i].t_parts);
    }
    free(f->f_topics);
    free(f);
}

/* The topic named name, or NULL. */
static topic_t *topic_find(bwm_follow_t *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->f_ntopics; i++) {
        if (strcmp(f->f_topics[i].t_name, name) == 0) {
            return &f->f_topics[i];
        }
    }
    return NULL;
}

/* topic's partition, made when grow is set; NULL when unknown or out of memory. */
static held_t *held_get(bwm_follow_t *f, const char *name, int32_t partition, int grow)
{
    topic_t *t = topic_find(f, name);

    if (!t && grow) {
        topic_t *n = realloc(f->f_topics, (f->f_ntopics + 1) * sizeof(*n));

        if (!n) {
            return NULL;
        }
        f->f_topics = n;
        t = &f->f_topics[f->f_ntopics];
        memset(t, 0, sizeof(*t));
        if (!(t->t_name = strdup(name))) {
            return NULL;
        }
        f->f_ntopics++;
    }
    if (!t || partition < 0 || (partition >= t->t_nparts && !grow)) {
        return NULL;
    }
    if (partition >= t->t_nparts) {
        held_t *n = realloc(t->t_parts, (size_t)(partition + 1) * sizeof(*n));

        if (!n) {
            return NULL;
        }
        memset(n + t->t_nparts, 0, (size_t)(partition + 1 - t->t_nparts) * sizeof(*n));
        t->t_parts = n;
        t->t_nparts = partition + 1;
    }
    return &t->t_parts[partition];
}

/* The partition a message is of, found by its topic handle first; NULL when not followed. */
static held_t *held_of(bwm_follow_t *f, const rd_kafka_message_t *m)
{
    topic_t *t = NULL;
    size_t i;

    for (i = 0; i < f->f_ntopics && !t; i++) {
        t = f->f_topics[i].t_rkt == m->rkt ? &f->f_topics[i] : NULL;
    }
    if (!t) {
        if (!(t = topic_find(f, rd_kafka_topic_name(m->rkt)))) {
            return NULL;
        }
        t->t_rkt = m->rkt;
    }
    return m->partition >= 0 && m->partition < t->t_nparts ? &t->t_parts[m->partition] : NULL;
}

void bwm_follow_rebalance(bwm_follow_t *f)
{
    size_t i;
    int32_t k;

    for (i = 0; i < f->f_ntopics; i++) {
        for (k = 0; k < f->f_topics[i].t_nparts; k++) {
            held_t *h = &f->f_topics[i].t_parts[k];

            h->h_resync = h->h_assigned;
            f->f_resync |= h->h_assigned;
        }
    }
}

int bwm_follow_assigned(bwm_follow_t *f, const char *topic, int32_t partition, int64_t offset)
{
    held_t *h = held_get(f, topic, partition, 1);

    if (!h) {
        return -1;
    }
    h->h_assigned = 1;
    h->h_resync = 0;
    h->h_sought = 0;
    h->h_next = offset;
    return 0;
}

void bwm_follow_revoked(bwm_follow_t *f, const char *topic, int32_t partition)
{
    held_t *h = held_get(f, topic, partition, 0);

    if (h) {
        h->h_assigned = 0;
        h->h_resync = 0;
    }
}

/* The caller moves topic's partition to offset. */
static void sought(bwm_follow_t *f, const char *topic, int32_t partition, int64_t offset)
{
    held_t *h = f ? held_get(f, topic, partition, 0) : NULL;

    if (h) {
        /*
         * From a callback, what the poll takes of the partition may be from
         * before the seek or after it: all is dropped, and the partition
         * sought again once the poll is over.
         */
        h->h_next = offset;
        h->h_resync = f->f_polling && h->h_assigned;
        h->h_sought = f->f_polling;
        f->f_resync |= h->h_resync;
    }
}

size_t bwm_follow_consume(bwm_follow_t *f, rd_kafka_queue_t *q, int timeout_ms,
                          rd_kafka_message_t **msgs, size_t max)
{
    ssize_t got;
    size_t i, n, kept = 0;

    if (!f) {
        got = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, max);
        return got > 0 ? (size_t)got : 0;
    }
    f->f_polling = 1;
    got = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, max);
    f->f_polling = 0;
    n = got > 0 ? (size_t)got : 0;
    for (i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        held_t *h = m->err ? NULL : held_of(f, m);

        if (h && (h->h_sought || (h->h_resync && h->h_next >= 0 && m->offset != h->h_next))) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (h) {
            h->h_next = m->offset + 1;
        }
        msgs[kept++] = m;
    }
    return kept;
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The partitions of l (freed) a seek has not moved yet, as a new list. A seek
 * clears a partition's position until a message is read, and none is read
 * while a seek is waited for.
 */
static rd_kafka_topic_partition_list_t *not_moved(rd_kafka_t *rk,
                                                  rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_copy(l);
    rd_kafka_topic_partition_list_t *left = rd_kafka_topic_partition_list_new(l->cnt);
    int i;

    rd_kafka_position(rk, pos);
    for (i = 0; i < l->cnt; i++) {
        if (pos->elems[i].err || pos->elems[i].offset != RD_KAFKA_OFFSET_INVALID) {
            rd_kafka_topic_partition_list_add(left, l->elems[i].topic, l->elems[i].partition)
                ->offset = l->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(pos);
    rd_kafka_topic_partition_list_destroy(l);
    return left;
}

/*
 * Seeks the partitions of l (freed) to their offsets. The seeks are made
 * without waiting for librdkafka's answer, which 2.0 waits for a thousandth
 * of the time asked and drops when another change of the partition (a
 * resume after the rebalance) follows closely; the positions say when they
 * are done. A seek not done after SEEK_WAIT_MS is made again. Returns 0, or
 * -1 with errstr.
 */
static int seek_all(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, char *errstr,
                    size_t errstr_size)
{
    struct timespec look = {0, SEEK_LOOK_MS * 1000000L};
    int tries, left;

    for (tries = 0; l->cnt > 0 && tries < SEEK_TRIES; tries++) {
        long long until = now_ms() + SEEK_WAIT_MS;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(rk, l, 0);

        if (e) {
            rd_kafka_error_destroy(e); /* an asynchronous seek reports nothing */
        }
        do {
            nanosleep(&look, NULL);
            l = not_moved(rk, l);
        } while (l->cnt > 0 && now_ms() < until);
    }
    if (l->cnt > 0) {
        snprintf(errstr, errstr_size, "cannot seek %s [%d] to offset %lld: not done after %d tries",
                 l->elems[0].topic, (int)l->elems[0].partition, (long long)l->elems[0].offset,
                 SEEK_TRIES);
    }
    left = l->cnt;
    rd_kafka_topic_partition_list_destroy(l);
    return left > 0 ? -1 : 0;
}

int bwm_follow_seek(bwm_follow_t *f, rd_kafka_t *rk, const char *topic, int32_t partition,
                    int64_t offset, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    sought(f, topic, partition, offset);
    return seek_all(rk, l, errstr, errstr_size);
}

int bwm_follow_resync(bwm_follow_t *f, rd_kafka_t *rk, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l;
    size_t i;
    int32_t k;

    if (!f || !f->f_resync) {
        return 0;
    }
    f->f_resync = 0;
    l = rd_kafka_topic_partition_list_new(4);
    for (i = 0; i < f->f_ntopics; i++) {
        for (k = 0; k < f->f_topics[i].t_nparts; k++) {
            held_t *h = &f->f_topics[i].t_parts[k];

            h->h_sought = 0;
            if (h->h_resync) {
                h->h_resync = 0;
                rd_kafka_topic_partition_list_add(l, f->f_topics[i].t_name, k)->offset = h->h_next;
                BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_KAFKA, "kept %s [%d]: reading on from offset %lld",
                        f->f_topics[i].t_name, (int)k, (long long)h->h_next);
            }
        }
    }
    return seek_all(rk, l, errstr, errstr_size);
}
