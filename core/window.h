/*
 * window.h: window arithmetic, with time as an argument. A record at event
 * time ts belongs to one tumbling window, to size/advance hopping windows,
 * or to a session that it starts, extends or bridges. A window closes when
 * the partition's watermark reaches its close time; a record all of whose
 * windows are closed is late.
 *
 *   tumbling, hopping: window [start, start + size), closes at start + size + grace
 *   session:           events [first, last] within gap of each other;
 *                      closes at last + gap + grace
 */
#ifndef BWM_WINDOW_H
#define BWM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "ast.h"

/* Most hopping windows one record may fall into (size / advance). */
#define BWM_WINDOW_MAX_HOPS 1000

typedef struct bwm_window {
    bwm_window_kind_t w_kind;
    int64_t w_size;    /* tumbling, hopping */
    int64_t w_advance; /* hopping; equals w_size for tumbling */
    int64_t w_gap;     /* session */
    int64_t w_grace;
} bwm_window_t;

/*
 * Writes the starts of the tumbling or hopping windows that contain ts,
 * ascending, into starts (room for cap) and returns how many there are.
 * Works for negative times (before 1970).
 */
size_t bwm_window_starts(const bwm_window_t *w, int64_t ts, int64_t *starts, size_t cap);

/* The end of a window: start + size, or for a session its last event time. */
int64_t bwm_window_end(const bwm_window_t *w, int64_t start, int64_t last);

/*
 * The watermark at which a window closes: end + grace, or for a session
 * last + gap + grace. Saturates instead of overflowing.
 */
int64_t bwm_window_close(const bwm_window_t *w, int64_t start, int64_t last);

/* Whether event time ts is close enough to a session [first, last] to join it. */
int bwm_window_session_reaches(const bwm_window_t *w, int64_t first, int64_t last, int64_t ts);

#endif
