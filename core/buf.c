/*
 * buf.c: growable byte buffer and little-endian encoding helpers. The byte order
 * is written out explicitly so encodings are the same on every host.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void bwm_buf_init(bwm_buf_t *b)
{
    memset(b, 0, sizeof(*b));
}

void bwm_buf_free(bwm_buf_t *b)
{
    free(b->b_data);
    memset(b, 0, sizeof(*b));
}

void bwm_buf_reset(bwm_buf_t *b)
{
    b->b_len = 0;
    b->b_failed = 0;
}

void bwm_buf_reset_trim(bwm_buf_t *b)
{
    if (b->b_cap > BWM_TRIM_MIN_BYTES && b->b_len < b->b_cap / 4) {
        bwm_buf_free(b);
    }
    bwm_buf_reset(b);
}

bwm_err_t bwm_buf_reserve(bwm_buf_t *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (n > SIZE_MAX - b->b_len) {
        b->b_failed = 1;
        return BWM_ERR_NOMEM;
    }
    if (b->b_len + n <= b->b_cap) {
        return BWM_OK;
    }
    cap = b->b_cap ? b->b_cap : 64;
    while (cap < b->b_len + n) {
        if (cap > SIZE_MAX / 2) {
            cap = b->b_len + n;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->b_data, cap);
    if (!p) {
        b->b_failed = 1;
        return BWM_ERR_NOMEM;
    }
    b->b_data = p;
    b->b_cap = cap;
    return BWM_OK;
}

void bwm_buf_put_bytes(bwm_buf_t *b, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        b->b_failed = 1;
        return;
    }
    bwm_buf_put_u32le(b, (uint32_t)n);
    bwm_buf_put(b, p, n);
}

void bwm_buf_put_str(bwm_buf_t *b, const char *s)
{
    bwm_buf_put(b, s, strlen(s));
}

void bwm_buf_put_dec(bwm_buf_t *b, int64_t v)
{
    char d[20];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;

    do {
        d[sizeof(d) - ++n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        bwm_buf_put_u8(b, '-');
    }
    bwm_buf_put(b, d + sizeof(d) - n, n);
}

void bwm_cursor_init(bwm_cursor_t *c, const void *p, size_t n)
{
    c->c_p = p;
    c->c_end = c->c_p + n;
    c->c_failed = 0;
}

size_t bwm_cursor_left(const bwm_cursor_t *c)
{
    return (size_t)(c->c_end - c->c_p);
}

static const uint8_t *cursor_take(bwm_cursor_t *c, size_t n)
{
    const uint8_t *p;

    if (c->c_failed || bwm_cursor_left(c) < n) {
        c->c_failed = 1;
        return NULL;
    }
    p = c->c_p;
    c->c_p += n;
    return p;
}

uint8_t bwm_cursor_u8(bwm_cursor_t *c)
{
    const uint8_t *p = cursor_take(c, 1);

    return p ? p[0] : 0;
}

uint32_t bwm_cursor_u32le(bwm_cursor_t *c)
{
    const uint8_t *p = cursor_take(c, 4);
    uint32_t v = 0;
    int i;

    if (!p) {
        return 0;
    }
    for (i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t bwm_cursor_u64le(bwm_cursor_t *c)
{
    const uint8_t *p = cursor_take(c, 8);
    uint64_t v = 0;
    int i;

    if (!p) {
        return 0;
    }
    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

int64_t bwm_cursor_i64le(bwm_cursor_t *c)
{
    return (int64_t)bwm_cursor_u64le(c);
}

double bwm_cursor_f64le(bwm_cursor_t *c)
{
    uint64_t u = bwm_cursor_u64le(c);
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

const uint8_t *bwm_cursor_bytes(bwm_cursor_t *c, size_t *len)
{
    uint32_t n = bwm_cursor_u32le(c);
    const uint8_t *p = cursor_take(c, n);

    *len = p ? n : 0;
    return p;
}
