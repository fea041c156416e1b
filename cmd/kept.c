/*
 * kept.c: copies of a batch's staged input records (see kept.h). Keys and
 * values go one after the other into one growing buffer, addressed by
 * offset, so a batch costs two allocations however many records it holds.
 */
#include "cmd/kept.h"

#include <stdlib.h>

#define NO_BYTES ((size_t)-1) /* a key or value the record does not have */

struct bwm_kept_rec {
    int64_t kr_offset;
    size_t kr_key_off; /* NO_BYTES: no key */
    size_t kr_key_len;
    size_t kr_val_off; /* NO_BYTES: no value */
    size_t kr_val_len;
    rd_kafka_headers_t *kr_headers; /* a copy of the record's; NULL: none */
};

/* Appends n bytes at p (when p is not NULL); returns their place, or NO_BYTES. */
static size_t put_bytes(bwm_buf_t *b, const void *p, size_t n)
{
    size_t at = b->b_len;

    if (!p) {
        return NO_BYTES;
    }
    bwm_buf_put(b, p, n);
    return at;
}

bwm_err_t bwm_kept_add(bwm_kept_t *k, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    bwm_kept_rec_t *r;
    size_t len = k->k_bytes.b_len;

    if (k->k_n == k->k_cap) {
        size_t cap = k->k_cap ? k->k_cap * 2 : 1024;
        bwm_kept_rec_t *n = realloc(k->k_recs, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        k->k_recs = n;
        k->k_cap = cap;
    }
    r = &k->k_recs[k->k_n];
    r->kr_offset = m->offset;
    r->kr_key_off = put_bytes(&k->k_bytes, m->key, m->key_len);
    r->kr_key_len = m->key_len;
    r->kr_val_off = put_bytes(&k->k_bytes, m->payload, m->len);
    r->kr_val_len = m->len;
    r->kr_headers = NULL;
    if (k->k_bytes.b_failed) {
        k->k_bytes.b_failed = 0;
        k->k_bytes.b_len = len;
        return BWM_ERR_NOMEM;
    }
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h &&
        rd_kafka_header_cnt(h) > 0) {
        r->kr_headers = rd_kafka_headers_copy(h);
    }
    k->k_n++;
    return BWM_OK;
}

size_t bwm_kept_count(const bwm_kept_t *k)
{
    return k->k_n;
}

void bwm_kept_get(const bwm_kept_t *k, size_t i, const char *topic, int32_t partition,
                  bwm_source_rec_t *out)
{
    const bwm_kept_rec_t *r = &k->k_recs[i];
    const uint8_t *base = k->k_bytes.b_data;

    out->sr_topic = topic;
    out->sr_partition = partition;
    out->sr_offset = r->kr_offset;
    out->sr_key = r->kr_key_off == NO_BYTES ? NULL : base + r->kr_key_off;
    out->sr_key_len = r->kr_key_len;
    out->sr_val = r->kr_val_off == NO_BYTES ? NULL : base + r->kr_val_off;
    out->sr_val_len = r->kr_val_len;
    out->sr_headers = r->kr_headers;
}

void bwm_kept_reset(bwm_kept_t *k)
{
    size_t i;

    for (i = 0; i < k->k_n; i++) {
        if (k->k_recs[i].kr_headers) {
            rd_kafka_headers_destroy(k->k_recs[i].kr_headers);
        }
    }
    if (k->k_cap * sizeof(*k->k_recs) > BWM_TRIM_MIN_BYTES && k->k_n < k->k_cap / 4) {
        free(k->k_recs);
        k->k_recs = NULL;
        k->k_cap = 0;
    }
    k->k_n = 0;
    bwm_buf_reset_trim(&k->k_bytes);
}

void bwm_kept_free(bwm_kept_t *k)
{
    bwm_kept_reset(k);
    free(k->k_recs);
    bwm_buf_free(&k->k_bytes);
    k->k_recs = NULL;
    k->k_cap = 0;
}
