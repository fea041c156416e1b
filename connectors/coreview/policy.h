/*
 * policy.h: what an HTTP sender does after an answer, as pure functions of
 * the answer, the time and a random number: the verdict of a status (deliver,
 * retry, or give up), the Retry-After header in both its forms (seconds and
 * HTTP-date), and one shared backoff per endpoint, exponential with full
 * jitter, so that a 429 or an outage slows every request to that endpoint.
 * No clock is read here: callers pass the time, so every rule is a table of
 * inputs in the unit tests.
 */
#ifndef BWM_HTTP_POLICY_H
#define BWM_HTTP_POLICY_H

#include <stdint.h>

#include "core/err.h"

/* A sink's delivery verdict (STYLE.md rule 10). */
typedef enum bwm_http_verdict {
    BWM_HTTP_OK,        /* 2xx: delivered */
    BWM_HTTP_RETRY,     /* no answer, 408, 429, 5xx: send the same request again later */
    BWM_HTTP_PERMANENT, /* any other status: sending it again cannot help */
} bwm_http_verdict_t;

/* The verdict of an HTTP status; 0 stands for no answer (a transport error or a timeout). */
bwm_http_verdict_t bwm_http_verdict(long status);

/*
 * Parses a Retry-After value: delay-seconds ("120") or an HTTP-date in any of
 * the three forms RFC 9110 makes recipients accept (IMF-fixdate "Sun, 06 Nov
 * 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun
 * Nov  6 08:49:37 1994"). now_unix_ms is the wall-clock time the answer came
 * at; *delay_ms is how long to wait from then (0 for a date in the past; huge
 * values are clamped to a day). BWM_ERR_PARSE for anything else.
 */
bwm_err_t bwm_http_retry_after(const char *value, int64_t now_unix_ms, int64_t *delay_ms);

/* Milliseconds since 1970 of a UTC civil time; no validation beyond the caller's. */
int64_t bwm_http_civil_ms(int year, int month, int day, int hour, int min, int sec);

/*
 * One endpoint's shared backoff. After a failure that calls for a retry,
 * no request may start before bo_not_before, and while failures go on only
 * one request at a time probes the endpoint (bwm_backoff_may_start()); the
 * first success lifts both.
 */
typedef struct bwm_backoff {
    int64_t bo_base_ms;            /* ceiling of the first pause */
    int64_t bo_max_ms;             /* the ceiling stops doubling here */
    int64_t bo_retry_after_max_ms; /* longest Retry-After honoured */
    uint32_t bo_failures;          /* failures since the last success */
    int64_t bo_failed_at;          /* monotonic ms of the last failure */
    int64_t bo_not_before;         /* monotonic ms; no request starts before it */
} bwm_backoff_t;

void bwm_backoff_init(bwm_backoff_t *b, int64_t base_ms, int64_t max_ms,
                      int64_t retry_after_max_ms);

/*
 * Full jitter: a pause drawn uniformly from [0, min(max_ms, base_ms * 2^(attempt-1))]
 * by rnd (any 64-bit random number). attempt counts from 1.
 */
int64_t bwm_backoff_jitter(int64_t base_ms, int64_t max_ms, uint32_t attempt, uint64_t rnd);

/*
 * Notes a failure to retry, answered at monotonic time now: the pause is a
 * full-jitter draw, and at least retry_after_ms (capped at
 * bo_retry_after_max_ms) when the answer carried Retry-After (else pass -1).
 * Moves bo_not_before to now + pause unless it is later already. Returns the
 * pause.
 */
int64_t bwm_backoff_failed(bwm_backoff_t *b, int64_t now, int64_t retry_after_ms, uint64_t rnd);

/*
 * Notes an answer that shows the endpoint is well (any verdict but RETRY) to
 * a request started at sent_at. Only a request started after the last
 * failure ends the failures: an older one, answered late, says nothing of
 * the endpoint since.
 */
void bwm_backoff_ok(bwm_backoff_t *b, int64_t sent_at);

/*
 * Whether a request may start at now with inflight requests to the endpoint
 * already under way: not before bo_not_before, and only one at a time after
 * a failure, until a success.
 */
int bwm_backoff_may_start(const bwm_backoff_t *b, int64_t now, int inflight);

#endif
