/*
 * wake.c: wakes librdkafka's fetchers when the consumer queue has drained
 * after being full (see wake.h for why).
 */
#include "connectors/kafka/wake.h"

#include <stdlib.h>
#include <time.h>

#include "connectors/log.h"

struct bwm_wake {
    rd_kafka_t *w_rk;
    rd_kafka_queue_t *w_answers; /* where the ListGroups answers arrive, to be dropped */
    long long w_period_ms;
    double w_min_msgs;  /* queued.min.messages */
    double w_max_bytes; /* queued.max.messages.kbytes, in bytes */
    double w_avg;       /* average value size of the messages taken */
    int w_full;         /* the queue reached a threshold since the last wake */
    long long w_last_ms;
    size_t w_waiting; /* answers not yet dropped */
    uint64_t w_count;
};

/* The integer value of consumer setting key, or def. */
static double conf_number(rd_kafka_t *rk, const char *key, double def)
{
    char buf[64];
    size_t size = sizeof(buf);

    if (rd_kafka_conf_get(rd_kafka_conf(rk), key, buf, &size) != RD_KAFKA_CONF_OK) {
        return def;
    }
    return strtod(buf, NULL);
}

bwm_wake_t *bwm_wake_new(rd_kafka_t *rk, int period_ms)
{
    bwm_wake_t *w;

    if (period_ms <= 0 || !(w = calloc(1, sizeof(*w)))) {
        return NULL;
    }
    w->w_answers = rd_kafka_queue_new(rk);
    if (!w->w_answers) {
        free(w);
        return NULL;
    }
    w->w_rk = rk;
    w->w_period_ms = period_ms;
    w->w_min_msgs = conf_number(rk, "queued.min.messages", 100000);
    w->w_max_bytes = conf_number(rk, "queued.max.messages.kbytes", 65536) * 1024;
    return w;
}

void bwm_wake_destroy(bwm_wake_t *w)
{
    if (!w) {
        return;
    }
    rd_kafka_queue_destroy(w->w_answers);
    free(w);
}

/* Drops the answers that arrived. */
static void drop_answers(bwm_wake_t *w)
{
    rd_kafka_event_t *ev;

    while (w->w_waiting > 0 && (ev = rd_kafka_queue_poll(w->w_answers, 0))) {
        rd_kafka_event_destroy(ev);
        w->w_waiting--;
    }
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bwm_wake_check(bwm_wake_t *w, size_t n, size_t bytes, size_t queued)
{
    double q = (double)queued, seen = (double)(queued + n);
    long long now, since;

    if (!w) {
        return -1;
    }
    drop_answers(w);
    if (n > 0) {
        w->w_avg = w->w_avg > 0 ? 0.9 * w->w_avg + 0.1 * ((double)bytes / (double)n)
                                : (double)bytes / (double)n;
    }
    /* 9/10: the byte count is estimated from the average value size. */
    if (seen >= w->w_min_msgs * 0.9 || seen * w->w_avg >= w->w_max_bytes * 0.9) {
        w->w_full = 1;
    }
    if (!w->w_full || q > w->w_min_msgs * 0.75 || q * w->w_avg > w->w_max_bytes * 0.75) {
        return -1;
    }
    now = now_ms();
    since = now - w->w_last_ms;
    if (since < w->w_period_ms) {
        return (int)(w->w_period_ms - since);
    }
    rd_kafka_ListConsumerGroups(w->w_rk, NULL, w->w_answers);
    w->w_waiting++;
    w->w_count++;
    w->w_full = 0;
    w->w_last_ms = now;
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_KAFKA,
            "consumer queue drained to %zu after reaching librdkafka's fetch thresholds: woke "
            "the fetchers (wake %llu)",
            queued, (unsigned long long)w->w_count);
    return -1;
}

uint64_t bwm_wake_count(const bwm_wake_t *w)
{
    return w ? w->w_count : 0;
}
