/*
 * forward_batch.c: batch bodies, sub-range bodies, idempotency keys (with a
 * small XXH64) and the offset metadata of a batch in flight.
 */
#include "cmd/forward_batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

/* What the metadata of a batch in flight starts with; the version follows. */
#define META_TAG "bwm-forward:1:"

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t le32(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static uint64_t xround(uint64_t acc, uint64_t input)
{
    acc += input * P2;
    return rotl(acc, 31) * P1;
}

static uint64_t xmerge(uint64_t acc, uint64_t v)
{
    acc ^= xround(0, v);
    return acc * P1 + P4;
}

uint64_t bwm_fwd_xxh64(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data, *end = p + n;
    uint64_t h;

    if (n >= 32) {
        uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;

        do {
            v1 = xround(v1, le64(p));
            v2 = xround(v2, le64(p + 8));
            v3 = xround(v3, le64(p + 16));
            v4 = xround(v4, le64(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = xmerge(h, v1);
        h = xmerge(h, v2);
        h = xmerge(h, v3);
        h = xmerge(h, v4);
    } else {
        h = seed + P5;
    }
    h += (uint64_t)n;
    for (; end - p >= 8; p += 8) {
        h ^= xround(0, le64(p));
        h = rotl(h, 27) * P1 + P4;
    }
    if (end - p >= 4) {
        h ^= le32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= *p * P5;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

void bwm_fwd_batch_reset(bwm_fwd_batch_t *b, size_t max_records, size_t max_bytes,
                         size_t max_rec_bytes)
{
    b->fb_n = 0;
    b->fb_failed = 0;
    b->fb_max_records = max_records;
    b->fb_max_bytes = max_bytes;
    b->fb_max_rec_bytes = max_rec_bytes;
    bwm_buf_reset(&b->fb_body);
    bwm_buf_put_u8(&b->fb_body, '[');
    b->fb_mark = b->fb_body.b_len;
}

void bwm_fwd_batch_free(bwm_fwd_batch_t *b)
{
    free(b->fb_recs);
    bwm_buf_free(&b->fb_body);
    memset(b, 0, sizeof(*b));
}

bwm_buf_t *bwm_fwd_batch_begin(bwm_fwd_batch_t *b)
{
    b->fb_mark = b->fb_body.b_len;
    if (b->fb_n > 0) {
        bwm_buf_put_u8(&b->fb_body, ',');
    }
    return &b->fb_body;
}

void bwm_fwd_batch_abort(bwm_fwd_batch_t *b)
{
    b->fb_body.b_len = b->fb_mark;
}

bwm_fwd_add_t bwm_fwd_batch_end(bwm_fwd_batch_t *b, int64_t offset, const void *value,
                                size_t value_len, void *msg)
{
    size_t start = b->fb_mark + (b->fb_n > 0), len = b->fb_body.b_len - start;
    bwm_fwd_rec_t *r;

    if (len > b->fb_max_rec_bytes) {
        bwm_fwd_batch_abort(b);
        return BWM_FWD_TOO_LARGE;
    }
    /* + 1 for the closing bracket */
    if (b->fb_n > 0 && (b->fb_n >= b->fb_max_records || b->fb_body.b_len + 1 > b->fb_max_bytes)) {
        bwm_fwd_batch_abort(b);
        return BWM_FWD_FULL;
    }
    if (b->fb_n == b->fb_cap) {
        size_t cap = b->fb_cap ? b->fb_cap * 2 : 64;
        bwm_fwd_rec_t *n = realloc(b->fb_recs, cap * sizeof(*n));

        if (!n) {
            bwm_fwd_batch_abort(b);
            b->fb_failed = 1;
            return BWM_FWD_FULL;
        }
        b->fb_recs = n;
        b->fb_cap = cap;
    }
    r = &b->fb_recs[b->fb_n++];
    r->fr_offset = offset;
    r->fr_hash = bwm_fwd_xxh64(value, value_len, (uint64_t)offset);
    r->fr_json_off = start;
    r->fr_json_len = len;
    r->fr_msg = msg;
    return BWM_FWD_ADDED;
}

bwm_err_t bwm_fwd_batch_close(bwm_fwd_batch_t *b)
{
    bwm_buf_put_u8(&b->fb_body, ']');
    return b->fb_body.b_failed || b->fb_failed ? BWM_ERR_NOMEM : BWM_OK;
}

void bwm_fwd_batch_body(const bwm_fwd_batch_t *b, size_t from, size_t to, bwm_buf_t *out)
{
    size_t i;

    bwm_buf_reset(out);
    bwm_buf_put_u8(out, '[');
    for (i = from; i < to; i++) {
        if (i > from) {
            bwm_buf_put_u8(out, ',');
        }
        bwm_buf_put(out, b->fb_body.b_data + b->fb_recs[i].fr_json_off, b->fb_recs[i].fr_json_len);
    }
    bwm_buf_put_u8(out, ']');
}

void bwm_fwd_batch_key(const bwm_fwd_batch_t *b, const char *topic, int32_t partition, size_t from,
                       size_t to, char out[BWM_FWD_KEY_MAX])
{
    uint8_t word[16];
    uint64_t h = bwm_fwd_xxh64(topic, strlen(topic), (uint64_t)(uint32_t)partition);
    size_t i;
    int k;

    /* A chain of XXH64 over (offset, content hash) pairs, seeded by the topic and partition. */
    for (i = from; i < to; i++) {
        for (k = 0; k < 8; k++) {
            word[k] = (uint8_t)((uint64_t)b->fb_recs[i].fr_offset >> (8 * k));
            word[8 + k] = (uint8_t)(b->fb_recs[i].fr_hash >> (8 * k));
        }
        h = bwm_fwd_xxh64(word, sizeof(word), h);
    }
    snprintf(out, BWM_FWD_KEY_MAX, "bwm-%d-%" PRId64 "-%" PRId64 "-%016" PRIx64, (int)partition,
             to > from ? b->fb_recs[from].fr_offset : (int64_t)-1,
             to > from ? b->fb_recs[to - 1].fr_offset : (int64_t)-1, h);
}

void bwm_fwd_meta_format(int64_t last, char *out, size_t size)
{
    snprintf(out, size, META_TAG "%" PRId64, last);
}

int bwm_fwd_meta_parse(const char *meta, int64_t *last)
{
    char *end;
    long long v;

    if (!meta || strncmp(meta, META_TAG, strlen(META_TAG)) != 0) {
        return -1;
    }
    meta += strlen(META_TAG);
    if (*meta < '0' || *meta > '9') {
        return -1;
    }
    v = strtoll(meta, &end, 10);
    if (*end != '\0' || v < 0) {
        return -1;
    }
    *last = v;
    return 0;
}
