/*
 * retry.h: how bwm rides out Redis, Kafka or registry outages: a doubling
 * pause (retry.backoff.ms up to retry.backoff.max.ms) between attempts, for
 * at most retry.max.ms from the first failure of a streak, after which the
 * failure is final (and `bwm run` exits 1).
 */
#ifndef BWM_RETRY_H
#define BWM_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct bwm_retry {
    int64_t rt_backoff_ms;
    int64_t rt_backoff_max_ms;
    int64_t rt_max_ms;
    long long rt_since; /* monotonic ms of the streak's first failure; 0: no streak */
    int64_t rt_pause_ms;
    uint64_t rt_failures; /* every failure so far */
} bwm_retry_t;

void bwm_retry_init(bwm_retry_t *r, int64_t backoff_ms, int64_t backoff_max_ms, int64_t max_ms);

/* Whether err may pass by itself: an unreachable or failing Redis, Kafka or registry. */
int bwm_retry_transient(bwm_err_t err);

/*
 * Notes a failure at monotonic time now: returns the pause before the next
 * attempt, or -1 when retry.max.ms has passed since the streak began.
 */
long long bwm_retry_failed(bwm_retry_t *r, long long now);

/* Notes a success: the streak ends and the pause starts small again. */
void bwm_retry_ok(bwm_retry_t *r);

/* Sleeps ms; returns non-zero, early, once SIGTERM/SIGINT asked to stop. */
int bwm_retry_sleep(long long ms);

/* One attempt of something to retry. */
typedef bwm_err_t (*bwm_retry_fn)(void *opaque, char *errstr, size_t errstr_size);

/*
 * Calls fn until it succeeds, fails for good (an error that is not
 * transient), retry.max.ms passes, or a signal asks to stop; logs each
 * failure with what (e.g. "connecting to Redis") and the pause.
 */
bwm_err_t bwm_retry_until(bwm_retry_t *r, const char *what, bwm_retry_fn fn, void *opaque,
                          char *errstr, size_t errstr_size);

#endif
