/*
 * retry.c: backoff and limits for outages of the services bwm depends on.
 */
#include "cmd/retry.h"

#include <time.h>

#include "cmd/cli.h"
#include "connectors/log.h"

/* Longest single sleep, so that a signal is noticed quickly. */
#define SLEEP_STEP_MS 100

void bwm_retry_init(bwm_retry_t *r, int64_t backoff_ms, int64_t backoff_max_ms, int64_t max_ms)
{
    r->rt_backoff_ms = backoff_ms;
    r->rt_backoff_max_ms = backoff_max_ms > backoff_ms ? backoff_max_ms : backoff_ms;
    r->rt_max_ms = max_ms;
    r->rt_since = 0;
    r->rt_pause_ms = backoff_ms;
    r->rt_failures = 0;
}

int bwm_retry_transient(bwm_err_t err)
{
    return err == BWM_ERR_IO || err == BWM_ERR_TRANSPORT || err == BWM_ERR_TIMEOUT;
}

long long bwm_retry_failed(bwm_retry_t *r, long long now)
{
    long long pause = r->rt_pause_ms;

    r->rt_failures++;
    if (r->rt_since == 0) {
        r->rt_since = now;
    }
    if (now - r->rt_since >= r->rt_max_ms) {
        return -1;
    }
    if (now + pause - r->rt_since > r->rt_max_ms) {
        pause = r->rt_since + r->rt_max_ms - now; /* one last attempt at the limit */
    }
    r->rt_pause_ms =
        r->rt_pause_ms > r->rt_backoff_max_ms / 2 ? r->rt_backoff_max_ms : r->rt_pause_ms * 2;
    return pause;
}

void bwm_retry_ok(bwm_retry_t *r)
{
    r->rt_since = 0;
    r->rt_pause_ms = r->rt_backoff_ms;
}

int bwm_retry_sleep(long long ms)
{
    while (ms > 0 && !bwm_cli_stop) {
        long long step = ms < SLEEP_STEP_MS ? ms : SLEEP_STEP_MS;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};

        nanosleep(&ts, NULL);
        ms -= step;
    }
    return bwm_cli_stop != 0;
}

bwm_err_t bwm_retry_until(bwm_retry_t *r, const char *what, bwm_retry_fn fn, void *opaque,
                          char *errstr, size_t errstr_size)
{
    for (;;) {
        bwm_err_t err = fn(opaque, errstr, errstr_size);
        long long pause;

        if (!err) {
            bwm_retry_ok(r);
            return BWM_OK;
        }
        if (!bwm_retry_transient(err)) {
            return err;
        }
        pause = bwm_retry_failed(r, bwm_cli_now_ms());
        if (pause < 0) {
            BWM_LOG(BWM_LOG_ERR, BWM_FAC_MAIN, "%s: %s; giving up after retry.max.ms (%lld ms)",
                    what, errstr, (long long)r->rt_max_ms);
            return err;
        }
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_MAIN, "%s: %s; retrying in %lld ms", what, errstr, pause);
        if (bwm_retry_sleep(pause)) {
            return err;
        }
    }
}
