/*
 * forward_batch.c: batch bodies, sub-range bodies, idempotency keys (XXH64)
 * and the offset metadata of a batch in flight.
 */
#include "cmd/forward_batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

/* What the metadata of a batch in flight starts with; the version follows. */
#define META_TAG "bwm-forward:1:"

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
    r->fr_hash = bwm_xxh64(value, value_len, (uint64_t)offset);
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
    uint64_t h = bwm_xxh64(topic, strlen(topic), (uint64_t)(uint32_t)partition);
    size_t i;
    int k;

    /* A chain of XXH64 over (offset, content hash) pairs, seeded by the topic and partition. */
    for (i = from; i < to; i++) {
        for (k = 0; k < 8; k++) {
            word[k] = (uint8_t)((uint64_t)b->fb_recs[i].fr_offset >> (8 * k));
            word[8 + k] = (uint8_t)(b->fb_recs[i].fr_hash >> (8 * k));
        }
        h = bwm_xxh64(word, sizeof(word), h);
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
