/*
 * buf.h: a growable byte buffer, and little-endian readers and writers for the
 * state encodings. The buffer owns its memory; a cursor reads from any bytes.
 */
#ifndef BWM_BUF_H
#define BWM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

typedef struct bwm_buf {
    uint8_t *b_data;
    size_t b_len;
    size_t b_cap;
    int b_failed; /* set when a write could not grow the buffer */
} bwm_buf_t;

/* A zeroed bwm_buf_t is an empty buffer. bwm_buf_free() releases its memory. */
void bwm_buf_init(bwm_buf_t *b);
void bwm_buf_free(bwm_buf_t *b);
void bwm_buf_reset(bwm_buf_t *b);

/*
 * Arrays that hold one batch are trimmed when the batch ends: memory of over
 * BWM_TRIM_MIN_BYTES of which the batch used under a quarter is freed, so a
 * partition that once had a large batch does not keep its memory.
 */
#define BWM_TRIM_MIN_BYTES 65536

/* Empties b as bwm_buf_reset() does, and frees its memory by the rule above. */
void bwm_buf_reset_trim(bwm_buf_t *b);

/* Ensures room for n more bytes. Returns BWM_ERR_NOMEM (and sets b_failed) when it cannot. */
bwm_err_t bwm_buf_reserve(bwm_buf_t *b, size_t n);

/*
 * Writers. On failure they set b_failed, so a sequence of writes is checked
 * once at the end. They are inline: encoding results and states is the hot
 * path, and a write that fits is one compare and one copy.
 */
static inline void bwm_buf_put(bwm_buf_t *b, const void *p, size_t n)
{
    if (n == 0 || (b->b_cap - b->b_len < n && bwm_buf_reserve(b, n) != BWM_OK)) {
        return;
    }
    memcpy(b->b_data + b->b_len, p, n);
    b->b_len += n;
}

static inline void bwm_buf_put_u8(bwm_buf_t *b, uint8_t v)
{
    bwm_buf_put(b, &v, 1);
}

static inline void bwm_buf_put_u32le(bwm_buf_t *b, uint32_t v)
{
    uint8_t o[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    bwm_buf_put(b, o, sizeof(o));
}

static inline void bwm_buf_put_u64le(bwm_buf_t *b, uint64_t v)
{
    uint8_t o[8];
    int i;

    for (i = 0; i < 8; i++) {
        o[i] = (uint8_t)(v >> (8 * i));
    }
    bwm_buf_put(b, o, sizeof(o));
}

static inline void bwm_buf_put_i64le(bwm_buf_t *b, int64_t v)
{
    bwm_buf_put_u64le(b, (uint64_t)v);
}

static inline void bwm_buf_put_f64le(bwm_buf_t *b, double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    bwm_buf_put_u64le(b, u);
}
/* Writes a u32le length followed by the bytes. */
void bwm_buf_put_bytes(bwm_buf_t *b, const void *p, size_t n);
void bwm_buf_put_str(bwm_buf_t *b, const char *s);
/* Writes v in decimal, as printf's %lld would. */
void bwm_buf_put_dec(bwm_buf_t *b, int64_t v);

/* A read cursor over bytes it does not own. Reads past the end set c_failed and return 0. */
typedef struct bwm_cursor {
    const uint8_t *c_p;
    const uint8_t *c_end;
    int c_failed;
} bwm_cursor_t;

void bwm_cursor_init(bwm_cursor_t *c, const void *p, size_t n);
uint8_t bwm_cursor_u8(bwm_cursor_t *c);
uint32_t bwm_cursor_u32le(bwm_cursor_t *c);
uint64_t bwm_cursor_u64le(bwm_cursor_t *c);
int64_t bwm_cursor_i64le(bwm_cursor_t *c);
double bwm_cursor_f64le(bwm_cursor_t *c);
/* Reads a u32le length and returns a pointer to that many bytes inside the input. */
const uint8_t *bwm_cursor_bytes(bwm_cursor_t *c, size_t *len);
size_t bwm_cursor_left(const bwm_cursor_t *c);

#endif
