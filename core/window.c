/*
 * window.c: window assignment and close times.
 */
#include "window.h"

/* Floor division for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return r;
}

size_t bwm_window_starts(const bwm_window_t *w, int64_t ts, int64_t *starts, size_t cap)
{
    int64_t adv = w->w_kind == BWM_WINDOW_HOPPING ? w->w_advance : w->w_size;
    int64_t last = floor_div(ts, adv) * adv, lo = sat_add(ts, -w->w_size), s;
    size_t n = 0, i;

    /* Windows start at multiples of the advance; those in (ts - size, ts] hold ts. */
    for (s = last; n < cap && s > lo; s -= adv) {
        starts[n++] = s;
        if (s < INT64_MIN + adv) {
            break;
        }
    }
    for (i = 0; i < n / 2; i++) {
        int64_t t = starts[i];

        starts[i] = starts[n - 1 - i];
        starts[n - 1 - i] = t;
    }
    return n;
}

int64_t bwm_window_end(const bwm_window_t *w, int64_t start, int64_t last)
{
    if (w->w_kind == BWM_WINDOW_SESSION) {
        return last;
    }
    return sat_add(start, w->w_size);
}

int64_t bwm_window_close(const bwm_window_t *w, int64_t start, int64_t last)
{
    switch (w->w_kind) {
        case BWM_WINDOW_SESSION:
            return sat_add(sat_add(last, w->w_gap), w->w_grace);
        case BWM_WINDOW_TUMBLING:
        case BWM_WINDOW_HOPPING:
            return sat_add(sat_add(start, w->w_size), w->w_grace);
        default:
            return INT64_MAX;
    }
}

int bwm_window_session_reaches(const bwm_window_t *w, int64_t first, int64_t last, int64_t ts)
{
    return ts >= sat_add(first, -w->w_gap) && ts <= sat_add(last, w->w_gap);
}
