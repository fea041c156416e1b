/*
 * source_reader.c: reads a topic through bwm's source (connectors/kafka/
 * source.h) as a member of a consumer group, for a number of seconds, and
 * checks that every partition's offsets follow on one from another: nothing
 * skipped, nothing read twice. A partition given back to it starts where it
 * left off, as the runtime starts one at its fence; one read to its end
 * starts again at its beginning, so a small topic keeps it busy.
 *
 * Usage: build/test-source-reader -b brokers -t topic -g group -s seconds
 *        [-m messages per poll] [-X key=value ...]
 * Prints one JSON line: {"records": N, "skipped": N, "repeated": N,
 * "assigned": N, "revoked": N}, each gap and repeat on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/kafka/source.h"
#include "core/conf.h"

#define MAX_PARTS 64

typedef struct reader {
    bwm_source_t *r_src;
    int64_t r_next[MAX_PARTS]; /* the next offset expected, -1 before the first */
    long long r_records, r_skipped, r_repeated, r_assigned, r_revoked;
} reader_t;

static bwm_err_t on_assigned(void *opaque, int32_t partition, int64_t *offset, char *errstr,
                             size_t errstr_size)
{
    reader_t *r = opaque;

    if (partition < 0 || partition >= MAX_PARTS) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "partition %d", (int)partition);
    }
    r->r_assigned++;
    *offset = r->r_next[partition] >= 0 ? r->r_next[partition] : RD_KAFKA_OFFSET_BEGINNING;
    return BWM_OK;
}

static void on_revoked(void *opaque, int32_t partition, int lost)
{
    (void)partition;
    (void)lost;
    ((reader_t *)opaque)->r_revoked++;
}

static const bwm_source_handler_t handler = {on_assigned, on_revoked};

/* Keeps the CPU busy for ns nanoseconds: the time a runtime spends on a message. */
static void work(long ns)
{
    struct timespec a, b;

    if (ns <= 0) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

/* Checks one message against its partition's next offset. */
static void check(reader_t *r, const rd_kafka_message_t *m)
{
    int64_t *next = &r->r_next[m->partition];

    if (*next >= 0 && m->offset > *next) {
        fprintf(stderr, "partition %d: %lld to %lld skipped\n", (int)m->partition, (long long)*next,
                (long long)m->offset - 1);
        r->r_skipped += m->offset - *next;
    } else if (*next >= 0 && m->offset < *next) {
        fprintf(stderr, "partition %d: %lld read again\n", (int)m->partition, (long long)m->offset);
        r->r_repeated++;
    }
    *next = m->offset + 1;
    r->r_records++;
}

int main(int argc, char **argv)
{
    static rd_kafka_message_t *msgs[100000];
    const char *topic = NULL, *group = NULL;
    bwm_conf_t *conf = bwm_conf_new();
    reader_t r;
    char errstr[512];
    size_t max = 256, n, i;
    time_t end;
    long work_ns = 0;
    int c, seconds = 10, k;

    memset(&r, 0, sizeof(r));
    for (k = 0; k < MAX_PARTS; k++) {
        r.r_next[k] = -1;
    }
    while ((c = getopt(argc, argv, "b:t:g:s:m:w:X:")) != -1) {
        char *eq = optarg ? strchr(optarg, '=') : NULL;

        switch (c) {
            case 'b':
                bwm_conf_set(conf, "kafka.bootstrap.servers", optarg, "-b");
                break;
            case 't':
                topic = optarg;
                break;
            case 'g':
                group = optarg;
                break;
            case 's':
                seconds = atoi(optarg);
                break;
            case 'm':
                max = (size_t)atol(optarg);
                break;
            case 'w':
                work_ns = atol(optarg);
                break;
            case 'X':
                if (!eq) {
                    fprintf(stderr, "-X needs key=value\n");
                    return 2;
                }
                *eq = '\0';
                bwm_conf_set(conf, optarg, eq + 1, "-X");
                break;
            default:
                return 2;
        }
    }
    if (!topic || !group || max < 1 || max > sizeof(msgs) / sizeof(msgs[0])) {
        fprintf(stderr, "usage: %s -b brokers -t topic -g group -s seconds [-m max] [-X k=v]\n",
                argv[0]);
        return 2;
    }
    if (bwm_source_new(conf, topic, group, 0, &handler, &r, &r.r_src, errstr, sizeof(errstr))) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    end = time(NULL) + seconds;
    while (time(NULL) < end && !bwm_source_failed(r.r_src, errstr, sizeof(errstr))) {
        n = bwm_source_poll(r.r_src, 100, msgs, max);
        for (i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];

            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->partition < MAX_PARTS) {
                r.r_next[m->partition] = 0;
                bwm_source_seek(r.r_src, m->partition, 0, errstr, sizeof(errstr));
            } else if (!m->err && m->partition < MAX_PARTS) {
                check(&r, m);
                work(work_ns);
            }
            rd_kafka_message_destroy(m);
        }
    }
    k = bwm_source_failed(r.r_src, errstr, sizeof(errstr));
    if (k) {
        fprintf(stderr, "%s\n", errstr);
    }
    bwm_source_destroy(r.r_src);
    bwm_conf_destroy(conf);
    printf("{\"records\": %lld, \"skipped\": %lld, \"repeated\": %lld, \"assigned\": %lld, "
           "\"revoked\": %lld}\n",
           r.r_records, r.r_skipped, r.r_repeated, r.r_assigned, r.r_revoked);
    return k ? 1 : 0;
}
