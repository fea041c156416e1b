/*
 * wake.h: keeps librdkafka 2.0's fetcher from idling for a second.
 *
 * A consumer's broker thread stops fetching a partition once the local queue
 * holds queued.min.messages or queued.max.messages.kbytes, and before
 * librdkafka 2.4 (fetch.queue.backoff.ms) it looks again only after a second
 * unless something else wakes it (librdkafka issue 2879). A consumer faster
 * than that second's worth of queue then reads in bursts and waits: 275,000
 * records/s on a loopback broker where bwm processes a million.
 *
 * The wake watches the queue: once it has reached a threshold, where the
 * fetcher stops, and has drained to three quarters of it, it sends every
 * broker a ListGroups request (asynchronous, its answer ignored). A request
 * on a broker's connection wakes that broker's thread, which then decides
 * afresh and fetches while the job works through the rest of the queue. At
 * most one wake per fill of the queue and per source.fetch.wake.ms; none
 * while the queue stays low (a consumer caught up with its partitions costs
 * nothing). A wake that the period holds back is not lost: the source waits
 * for the queue no longer than until the wake may go.
 */
#ifndef BWM_WAKE_H
#define BWM_WAKE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bwm_wake bwm_wake_t;

/*
 * A wake for consumer rk, at most one every period_ms (0: never wake; NULL
 * is returned, and the other calls accept NULL). The thresholds are read
 * from rk's configuration.
 */
bwm_wake_t *bwm_wake_new(rd_kafka_t *rk, int period_ms);
void bwm_wake_destroy(bwm_wake_t *w);

/*
 * After taking n messages with bytes of values from the consumer's queue,
 * which now holds queued messages: wakes the fetchers when the queue has
 * drained after being full. Returns -1, or the milliseconds until a wake
 * that is due but held back by the period may be sent: a caller about to
 * wait for the queue waits no longer than that, then checks again, since
 * the fetchers may be idle until the wake.
 */
int bwm_wake_check(bwm_wake_t *w, size_t n, size_t bytes, size_t queued);

/* The wakes sent so far. */
uint64_t bwm_wake_count(const bwm_wake_t *w);

#endif
