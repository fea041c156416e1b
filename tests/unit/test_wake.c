/*
 * test_wake.c: when the fetch wake goes (connectors/kafka/wake.h): only
 * after the queue has reached a threshold and drained to three quarters of
 * it, at most once per period, and a wake the period holds back is reported
 * with the time until it may go.
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <time.h>

#include "connectors/kafka/wake.h"

#define PERIOD_MS 200

/* A consumer with no reachable broker: the wake's requests fail unanswered. */
static rd_kafka_t *consumer(const char *min_msgs, const char *max_kbytes)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    char err[512];
    rd_kafka_t *rk;

    cr_assert_eq(rd_kafka_conf_set(kc, "bootstrap.servers", "127.0.0.1:1", err, sizeof(err)),
                 RD_KAFKA_CONF_OK, "%s", err);
    cr_assert_eq(rd_kafka_conf_set(kc, "queued.min.messages", min_msgs, err, sizeof(err)),
                 RD_KAFKA_CONF_OK, "%s", err);
    cr_assert_eq(rd_kafka_conf_set(kc, "queued.max.messages.kbytes", max_kbytes, err, sizeof(err)),
                 RD_KAFKA_CONF_OK, "%s", err);
    cr_assert_eq(rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err)), RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
    cr_assert_not_null(rk, "%s", err);
    return rk;
}

/* Takes n messages of bytes, leaving queued: no wake is held back, and wakes have been sent. */
static void take(bwm_wake_t *w, size_t n, size_t bytes, size_t queued, uint64_t wakes)
{
    cr_assert_eq(bwm_wake_check(w, n, bytes, queued), -1, "took %zu, %zu left", n, queued);
    cr_assert_eq(bwm_wake_count(w), wakes, "took %zu, %zu left: %llu wakes", n, queued,
                 (unsigned long long)bwm_wake_count(w));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

Test(wake, goes_once_per_fill_after_draining_to_three_quarters)
{
    rd_kafka_t *rk = consumer("1000", "65536");
    bwm_wake_t *w = bwm_wake_new(rk, PERIOD_MS);
    int i;

    cr_assert_not_null(w);
    /* A queue that never reaches 900 messages wakes nothing, however low it drains. */
    for (i = 0; i < 20; i++) {
        take(w, 100, 10000, 700, 0);
        take(w, 100, 10000, 0, 0);
    }
    /* Full (950 seen), then still above three quarters: no wake yet. */
    take(w, 150, 15000, 800, 0);
    /* Drained to 750: the wake goes. */
    take(w, 50, 5000, 750, 1);
    /* Draining further is the same fill: no second wake. */
    take(w, 750, 75000, 0, 1);
    bwm_wake_destroy(w);
    rd_kafka_destroy(rk);
}

Test(wake, a_wake_held_back_by_the_period_is_reported_and_goes_after_it)
{
    rd_kafka_t *rk = consumer("1000", "65536");
    bwm_wake_t *w = bwm_wake_new(rk, PERIOD_MS);
    int due;

    take(w, 500, 50000, 500, 1);
    /* The next fill drains within the period: the wake waits and says for how long. */
    due = bwm_wake_check(w, 1000, 100000, 0);
    cr_assert(due > 0 && due <= PERIOD_MS, "due %d", due);
    cr_assert_eq(bwm_wake_count(w), 1);
    /* Nothing more is taken meanwhile; once the period is over, the held wake goes. */
    sleep_ms(due + 5);
    take(w, 0, 0, 0, 2);
    bwm_wake_destroy(w);
    rd_kafka_destroy(rk);
}

Test(wake, the_byte_threshold_counts_by_the_average_value_size)
{
    /* 1 KiB queued at most; 100,000 messages is out of reach. */
    rd_kafka_t *rk = consumer("100000", "1");
    bwm_wake_t *w = bwm_wake_new(rk, PERIOD_MS);

    /* Values of 100 bytes: 8 seen is 800 bytes, under 9/10 of 1024. */
    take(w, 2, 200, 6, 0);
    take(w, 6, 600, 0, 0);
    /* 10 seen (1000 bytes) is full; 7 left (700 bytes) is under three quarters. */
    take(w, 3, 300, 7, 1);
    bwm_wake_destroy(w);
    rd_kafka_destroy(rk);
}

Test(wake, a_period_of_zero_never_wakes)
{
    rd_kafka_t *rk = consumer("1000", "65536");

    cr_assert_null(bwm_wake_new(rk, 0));
    cr_assert_eq(bwm_wake_check(NULL, 1000, 100000, 0), -1);
    cr_assert_eq(bwm_wake_count(NULL), 0);
    rd_kafka_destroy(rk);
}
