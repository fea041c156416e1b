/*
 * policy.c: verdicts, Retry-After parsing and the shared full-jitter backoff.
 */
#include "connectors/coreview/policy.h"

#include <string.h>
#include <strings.h>

#include "core/calendar.h"

#define DAY_MS (24LL * 3600 * 1000)

bwm_http_verdict_t bwm_http_verdict(long status)
{
    if (status >= 200 && status <= 299) {
        return BWM_HTTP_OK;
    }
    if (status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599)) {
        return BWM_HTTP_RETRY;
    }
    return BWM_HTTP_PERMANENT;
}

int64_t bwm_http_civil_ms(int year, int month, int day, int hour, int min, int sec)
{
    return ((bwm_days_from_civil(year, (unsigned)month, (unsigned)day) * 24 + hour) * 60 + min) *
               60000LL +
           sec * 1000LL;
}

/* Reads exactly n digits into *out. */
static int digits(const char **p, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') {
            return 0;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

static int lit(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0) {
        return 0;
    }
    *p += n;
    return 1;
}

/* A three-letter month name: 1..12, or 0. */
static int month(const char **p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int i;

    for (i = 0; i < 12; i++) {
        if (strncmp(*p, names + 3 * i, 3) == 0) {
            *p += 3;
            return i + 1;
        }
    }
    return 0;
}

/* A day name, short ("Sun") or long ("Sunday"); long says which was read. */
static int day_name(const char **p, int *is_long)
{
    static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    int i;

    for (i = 0; i < 7; i++) {
        size_t n = strlen(names[i]);

        if (strncmp(*p, names[i], n) == 0) {
            *p += n;
            *is_long = 1;
            return 1;
        }
        if (strncmp(*p, names[i], 3) == 0) {
            *p += 3;
            *is_long = 0;
            return 1;
        }
    }
    return 0;
}

/* "HH:MM:SS" */
static int clock_time(const char **p, int *h, int *m, int *s)
{
    return digits(p, 2, h) && lit(p, ":") && digits(p, 2, m) && lit(p, ":") && digits(p, 2, s) &&
           *h <= 23 && *m <= 59 && *s <= 60;
}

/* Parses an HTTP-date into ms since 1970, or returns 0. */
static int http_date(const char *p, int64_t *ms)
{
    int is_long, d = 0, mon, y = 0, h, mi, s;

    if (!day_name(&p, &is_long)) {
        return 0;
    }
    if (lit(&p, ", ")) {
        if (!digits(&p, 2, &d)) {
            return 0;
        }
        if (!is_long && lit(&p, " ")) { /* IMF-fixdate */
            if (!(mon = month(&p)) || !lit(&p, " ") || !digits(&p, 4, &y)) {
                return 0;
            }
        } else if (is_long && lit(&p, "-")) { /* RFC 850 */
            if (!(mon = month(&p)) || !lit(&p, "-") || !digits(&p, 2, &y)) {
                return 0;
            }
            y += y < 70 ? 2000 : 1900;
        } else {
            return 0;
        }
        if (!lit(&p, " ") || !clock_time(&p, &h, &mi, &s) || !lit(&p, " GMT")) {
            return 0;
        }
    } else { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (is_long || !lit(&p, " ") || !(mon = month(&p)) || !lit(&p, " ")) {
            return 0;
        }
        if (!(lit(&p, " ") ? digits(&p, 1, &d) : digits(&p, 2, &d)) || !lit(&p, " ") ||
            !clock_time(&p, &h, &mi, &s) || !lit(&p, " ") || !digits(&p, 4, &y)) {
            return 0;
        }
    }
    if (*p != '\0' || d < 1 || d > 31) {
        return 0;
    }
    *ms = bwm_http_civil_ms(y, mon, d, h, mi, s);
    return 1;
}

bwm_err_t bwm_http_retry_after(const char *value, int64_t now_unix_ms, int64_t *delay_ms)
{
    char text[64];
    const char *p = value;
    size_t n;
    int64_t when;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n')) {
        n--;
    }
    if (n == 0 || n >= sizeof(text)) {
        return BWM_ERR_PARSE;
    }
    memcpy(text, p, n);
    text[n] = '\0';
    if (strspn(text, "0123456789") == n) {
        int64_t secs = 0;
        size_t i;

        for (i = 0; i < n && secs <= DAY_MS / 1000; i++) {
            secs = secs * 10 + (text[i] - '0');
        }
        *delay_ms = secs > DAY_MS / 1000 ? DAY_MS : secs * 1000;
        return BWM_OK;
    }
    if (!http_date(text, &when)) {
        return BWM_ERR_PARSE;
    }
    *delay_ms =
        when <= now_unix_ms ? 0 : (when - now_unix_ms > DAY_MS ? DAY_MS : when - now_unix_ms);
    return BWM_OK;
}

void bwm_backoff_init(bwm_backoff_t *b, int64_t base_ms, int64_t max_ms, int64_t retry_after_max_ms)
{
    memset(b, 0, sizeof(*b));
    b->bo_base_ms = base_ms;
    b->bo_max_ms = max_ms > base_ms ? max_ms : base_ms;
    b->bo_retry_after_max_ms = retry_after_max_ms;
}

int64_t bwm_backoff_jitter(int64_t base_ms, int64_t max_ms, uint32_t attempt, uint64_t rnd)
{
    int64_t ceiling = base_ms;
    uint32_t i;

    for (i = 1; i < attempt && ceiling < max_ms; i++) {
        ceiling *= 2;
    }
    if (ceiling > max_ms) {
        ceiling = max_ms;
    }
    return ceiling <= 0 ? 0 : (int64_t)(rnd % (uint64_t)(ceiling + 1));
}

int64_t bwm_backoff_failed(bwm_backoff_t *b, int64_t now, int64_t retry_after_ms, uint64_t rnd)
{
    int64_t pause;

    if (b->bo_failures < UINT32_MAX) {
        b->bo_failures++;
    }
    b->bo_failed_at = now;
    pause = bwm_backoff_jitter(b->bo_base_ms, b->bo_max_ms, b->bo_failures, rnd);
    if (retry_after_ms >= 0) {
        if (retry_after_ms > b->bo_retry_after_max_ms) {
            retry_after_ms = b->bo_retry_after_max_ms;
        }
        if (pause < retry_after_ms) {
            pause = retry_after_ms;
        }
    }
    if (b->bo_not_before < now + pause) {
        b->bo_not_before = now + pause;
    }
    return pause;
}

void bwm_backoff_ok(bwm_backoff_t *b, int64_t sent_at)
{
    if (sent_at >= b->bo_failed_at) {
        b->bo_failures = 0;
    }
}

int bwm_backoff_may_start(const bwm_backoff_t *b, int64_t now, int inflight)
{
    if (now < b->bo_not_before) {
        return 0;
    }
    return b->bo_failures == 0 || inflight == 0;
}
