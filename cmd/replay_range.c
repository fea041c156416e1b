/*
 * replay_range.c: --from/--to bounds, --partitions lists and derived names
 * of `bwm replay`.
 */
#include "cmd/replay_range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "core/calendar.h"

/* Parses a decimal number in [0, max] spanning exactly [s, end). */
static int parse_num(const char *s, const char *end, int64_t max, int64_t *out)
{
    int64_t v = 0;

    if (s == end) {
        return -1;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

static int cmp_offset(const void *a, const void *b)
{
    int32_t x = ((const bwm_bound_offset_t *)a)->bo_partition;
    int32_t y = ((const bwm_bound_offset_t *)b)->bo_partition;

    return (x > y) - (x < y);
}

/* "0:1200,1:900" */
static bwm_err_t parse_offsets(const char *s, bwm_bound_t *b, char *errstr, size_t errstr_size)
{
    size_t n = 1, i;
    const char *p;

    for (p = s; *p; p++) {
        n += *p == ',';
    }
    b->b_offsets = calloc(n, sizeof(*b->b_offsets));
    if (!b->b_offsets) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (p = s, i = 0; i < n; i++) {
        const char *comma = strchr(p, ','), *colon;
        const char *end = comma ? comma : p + strlen(p);
        int64_t part, off;

        colon = memchr(p, ':', (size_t)(end - p));
        if (!colon || parse_num(p, colon, INT32_MAX, &part) ||
            parse_num(colon + 1, end, INT64_MAX, &off)) {
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "'%.*s' is not PARTITION:OFFSET",
                               (int)(end - p), p);
        }
        b->b_offsets[i].bo_partition = (int32_t)part;
        b->b_offsets[i].bo_offset = off;
        p = end + 1;
    }
    b->b_n = n;
    qsort(b->b_offsets, n, sizeof(*b->b_offsets), cmp_offset);
    for (i = 1; i < n; i++) {
        if (b->b_offsets[i].bo_partition == b->b_offsets[i - 1].bo_partition) {
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "partition %d is listed twice",
                               (int)b->b_offsets[i].bo_partition);
        }
    }
    b->b_kind = BWM_BOUND_OFFSETS;
    return BWM_OK;
}

/* "-2h": now_ms minus an amount of s, m, h or d. */
static bwm_err_t parse_relative(const char *s, int64_t now_ms, bwm_bound_t *b, char *errstr,
                                size_t errstr_size)
{
    size_t len = strlen(s);
    int64_t v, unit;

    switch (len > 1 ? s[len - 1] : 0) {
        case 's':
            unit = 1000;
            break;
        case 'm':
            unit = 60 * 1000;
            break;
        case 'h':
            unit = 3600 * 1000;
            break;
        case 'd':
            unit = 86400 * 1000;
            break;
        default:
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                               "'%s': a relative time needs a unit: s, m, h or d (e.g. -2h)", s);
    }
    /* At most 100,000 days back, so the difference cannot overflow. */
    if (parse_num(s + 1, s + len - 1, 100000LL * 86400 * 1000 / unit, &v)) {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                           "'%s': expected -N followed by s, m, h or d, N at most 100000 days", s);
    }
    b->b_kind = BWM_BOUND_TIME;
    b->b_time_ms = now_ms - v * unit;
    return BWM_OK;
}

bwm_err_t bwm_bound_parse(const char *s, int64_t now_ms, bwm_bound_t *out, char *errstr,
                          size_t errstr_size)
{
    bwm_bound_t b;
    bwm_err_t err = BWM_OK;

    memset(&b, 0, sizeof(b));
    if (strcmp(s, "earliest") == 0) {
        b.b_kind = BWM_BOUND_EARLIEST;
    } else if (strcmp(s, "end") == 0 || strcmp(s, "latest") == 0) {
        b.b_kind = BWM_BOUND_END;
    } else if (s[0] == '-') {
        err = parse_relative(s, now_ms, &b, errstr, errstr_size);
    } else if (strchr(s, ':') && !strchr(s, 'T') && !strchr(s, ' ')) {
        err = parse_offsets(s, &b, errstr, errstr_size);
    } else if (s[0] && strspn(s, "0123456789") == strlen(s)) {
        b.b_kind = BWM_BOUND_OFFSET;
        if (parse_num(s, s + strlen(s), INT64_MAX, &b.b_offset)) {
            err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "'%s': offset too large", s);
        }
    } else {
        b.b_kind = BWM_BOUND_TIME;
        if (bwm_cli_parse_time(s, &b.b_time_ms) != BWM_OK) {
            err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                              "'%s' is not a bound (expected earliest, end, an ISO-8601 time such "
                              "as 2026-11-26T15:13:00Z, a relative time such as -2h, an offset, "
                              "or PARTITION:OFFSET,...)",
                              s);
        }
    }
    if (err) {
        bwm_bound_free(&b);
        return err;
    }
    *out = b;
    return BWM_OK;
}

void bwm_bound_free(bwm_bound_t *b)
{
    if (!b) {
        return;
    }
    free(b->b_offsets);
    b->b_offsets = NULL;
    b->b_n = 0;
}

int bwm_bound_covers(const bwm_bound_t *b, int32_t partition, int64_t *offset)
{
    size_t i;

    if (b->b_kind == BWM_BOUND_OFFSET) {
        *offset = b->b_offset;
    }
    if (b->b_kind != BWM_BOUND_OFFSETS) {
        return 1;
    }
    for (i = 0; i < b->b_n; i++) {
        if (b->b_offsets[i].bo_partition == partition) {
            *offset = b->b_offsets[i].bo_offset;
            return 1;
        }
    }
    return 0;
}

static int cmp_part(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

bwm_err_t bwm_partitions_parse(const char *s, int32_t **out, size_t *n, char *errstr,
                               size_t errstr_size)
{
    size_t cap = 1, k = 0, i;
    int32_t *parts;
    const char *p;

    for (p = s; *p; p++) {
        cap += *p == ',';
    }
    parts = calloc(cap, sizeof(*parts));
    if (!parts) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (p = s; k < cap; k++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        int64_t v;

        if (parse_num(p, end, INT32_MAX, &v)) {
            free(parts);
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                               "'%s' is not a list of partition numbers such as 0,2,5", s);
        }
        parts[k] = (int32_t)v;
        p = end + 1;
    }
    qsort(parts, k, sizeof(*parts), cmp_part);
    for (i = 1, cap = k, k = 1; i < cap; i++) {
        if (parts[i] != parts[k - 1]) {
            parts[k++] = parts[i];
        }
    }
    *out = parts;
    *n = k;
    return BWM_OK;
}

void bwm_replay_stamp(int64_t epoch_s, char out[17])
{
    int64_t days = epoch_s >= 0 ? epoch_s / 86400 : (epoch_s - 86399) / 86400;
    int64_t secs = epoch_s - days * 86400, y;
    unsigned m, d;

    bwm_civil_from_days(days, &y, &m, &d);
    snprintf(out, 17, "%04d%02u%02uT%02d%02d%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

bwm_err_t bwm_replay_name(const char *base, const char *stamp, size_t max, char *out, size_t size)
{
    int n = snprintf(out, size, "%s.replay.%s", base, stamp);

    if (n < 0 || (size_t)n >= size || (size_t)n > max) {
        return BWM_ERR_LIMIT;
    }
    return BWM_OK;
}

int bwm_replay_name_ok(const char *s, size_t max)
{
    size_t len = strlen(s);

    if (len == 0 || len > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}
