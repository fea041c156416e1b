/*
 * test_forward_batch.c: the forwarder's batches: XXH64 against the
 * specification's vectors, bodies within their bounds, sub-range bodies for
 * splitting, idempotency keys (stable, and different for any other content or
 * source), and the offset metadata of a batch in flight.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/forward_batch.h"

/* Adds a record whose JSON is text; value is its raw bytes. */
static bwm_fwd_add_t add(bwm_fwd_batch_t *b, int64_t offset, const char *text, const char *value)
{
    bwm_buf_put_str(bwm_fwd_batch_begin(b), text);
    return bwm_fwd_batch_end(b, offset, value, strlen(value), NULL);
}

static const char *body(bwm_fwd_batch_t *b)
{
    bwm_buf_put_u8(&b->fb_body, 0);
    b->fb_body.b_len--;
    return (const char *)b->fb_body.b_data;
}

Test(forward_batch, bodies_are_json_arrays_within_their_bounds)
{
    bwm_fwd_batch_t b = {0};

    bwm_fwd_batch_reset(&b, 3, 1000, 998);
    cr_assert_eq(add(&b, 10, "{\"a\":1}", "x"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 12, "{\"a\":2}", "y"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 13, "{\"a\":3}", "z"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 14, "{\"a\":4}", "w"), BWM_FWD_FULL, "max records");
    cr_assert_eq(bwm_fwd_batch_close(&b), BWM_OK);
    cr_assert_str_eq(body(&b), "[{\"a\":1},{\"a\":2},{\"a\":3}]");
    cr_assert_eq(b.fb_recs[1].fr_offset, 12);
    cr_assert_eq(b.fb_recs[1].fr_json_len, 7);

    /* Bytes: [ + 3 records of 7 + 2 commas + ] = 25 */
    bwm_fwd_batch_reset(&b, 100, 24, 22);
    cr_assert_eq(add(&b, 1, "{\"a\":1}", "x"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 2, "{\"a\":2}", "x"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 3, "{\"a\":3}", "x"), BWM_FWD_FULL, "max bytes");
    bwm_fwd_batch_close(&b);
    cr_assert_str_eq(body(&b), "[{\"a\":1},{\"a\":2}]");

    /* A record too large for any batch, first or not, leaves the body as it was. */
    bwm_fwd_batch_reset(&b, 100, 24, 22);
    cr_assert_eq(add(&b, 1, "{\"long\":\"0123456789abcdef\"}", "x"), BWM_FWD_TOO_LARGE);
    cr_assert_eq(add(&b, 2, "{\"a\":2}", "x"), BWM_FWD_ADDED);
    cr_assert_eq(add(&b, 3, "{\"long\":\"0123456789abcdef\"}", "x"), BWM_FWD_TOO_LARGE);
    bwm_fwd_batch_close(&b);
    cr_assert_str_eq(body(&b), "[{\"a\":2}]");

    /* A record whose JSON could not be made is taken off again. */
    bwm_fwd_batch_reset(&b, 100, 1000, 998);
    cr_assert_eq(add(&b, 1, "{\"a\":1}", "x"), BWM_FWD_ADDED);
    bwm_buf_put_str(bwm_fwd_batch_begin(&b), "{\"half");
    bwm_fwd_batch_abort(&b);
    bwm_fwd_batch_close(&b);
    cr_assert_str_eq(body(&b), "[{\"a\":1}]");

    /* Re-forming a recorded range: no batch bound, only the record bound. */
    bwm_fwd_batch_reset(&b, SIZE_MAX, SIZE_MAX, 10);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(add(&b, i, "{\"a\":1}", "x"), BWM_FWD_ADDED);
    }
    cr_assert_eq(add(&b, 1000, "{\"too\":\"long\"}", "x"), BWM_FWD_TOO_LARGE);
    bwm_fwd_batch_free(&b);
}

Test(forward_batch, sub_range_bodies_split_a_batch)
{
    bwm_fwd_batch_t b = {0};
    bwm_buf_t out;

    bwm_buf_init(&out);
    bwm_fwd_batch_reset(&b, 10, 1000, 998);
    add(&b, 5, "{\"n\":5}", "5");
    add(&b, 6, "{\"n\":6}", "6");
    add(&b, 8, "{\"n\":8}", "8");
    bwm_fwd_batch_close(&b);
    bwm_fwd_batch_body(&b, 0, 1, &out);
    bwm_buf_put_u8(&out, 0);
    cr_assert_str_eq((char *)out.b_data, "[{\"n\":5}]");
    bwm_fwd_batch_body(&b, 1, 3, &out);
    bwm_buf_put_u8(&out, 0);
    cr_assert_str_eq((char *)out.b_data, "[{\"n\":6},{\"n\":8}]");
    bwm_fwd_batch_body(&b, 0, 3, &out);
    cr_assert_eq(out.b_len, b.fb_body.b_len);
    cr_assert_eq(memcmp(out.b_data, b.fb_body.b_data, out.b_len), 0, "the whole is the body");
    bwm_buf_free(&out);
    bwm_fwd_batch_free(&b);
}

/* The key of records with these offsets and values, read from topic's partition. */
static void key_of(const char *topic, int32_t partition, const int64_t *offsets,
                   const char *const *values, size_t n, size_t from, size_t to,
                   char out[BWM_FWD_KEY_MAX])
{
    bwm_fwd_batch_t b = {0};
    size_t i;

    bwm_fwd_batch_reset(&b, 1000, 1 << 20, 1 << 20);
    for (i = 0; i < n; i++) {
        cr_assert_eq(add(&b, offsets[i], "{}", values[i]), BWM_FWD_ADDED);
    }
    bwm_fwd_batch_close(&b);
    bwm_fwd_batch_key(&b, topic, partition, from, to, out);
    bwm_fwd_batch_free(&b);
}

Test(forward_batch, keys_depend_on_content_and_source_only)
{
    static const int64_t offs[] = {100, 101, 103};
    static const int64_t other_offs[] = {100, 102, 103};
    static const char *const vals[] = {"alpha", "beta", "gamma"};
    static const char *const other_vals[] = {"alpha", "betA", "gamma"};
    char k[BWM_FWD_KEY_MAX], again[BWM_FWD_KEY_MAX], x[BWM_FWD_KEY_MAX];

    key_of("kpi", 3, offs, vals, 3, 0, 3, k);
    cr_assert_eq(strncmp(k, "bwm-3-100-103-", 14), 0, "%s", k);
    cr_assert_eq(strlen(k), 14 + 16, "%s", k);
    key_of("kpi", 3, offs, vals, 3, 0, 3, again);
    cr_assert_str_eq(k, again, "the same records give the same key");

    key_of("kpi", 3, offs, other_vals, 3, 0, 3, x);
    cr_assert_str_neq(k, x, "another value");
    key_of("kpi", 3, other_offs, vals, 3, 0, 3, x);
    cr_assert_str_neq(k, x, "another offset inside");
    key_of("kpi2", 3, offs, vals, 3, 0, 3, x);
    cr_assert_str_neq(k, x, "another topic");
    key_of("kpi", 2, offs, vals, 3, 0, 3, x);
    cr_assert_str_neq(k, x, "another partition");

    /* A half has its own key, and it is the key a batch of just those records has. */
    key_of("kpi", 3, offs, vals, 3, 1, 3, x);
    cr_assert_eq(strncmp(x, "bwm-3-101-103-", 14), 0, "%s", x);
    key_of("kpi", 3, offs + 1, vals + 1, 2, 0, 2, again);
    cr_assert_str_eq(x, again);

    /* A topic name of 249 characters and the largest offsets still fit. */
    {
        char topic[250];
        static const int64_t big[] = {INT64_MAX - 1, INT64_MAX};

        memset(topic, 't', 249);
        topic[249] = '\0';
        key_of(topic, 2147483647, big, vals, 2, 0, 2, x);
        cr_assert(strlen(x) < BWM_FWD_KEY_MAX && strlen(x) <= 255, "%s", x);
    }
}

Test(forward_batch, metadata_of_a_batch_in_flight)
{
    char meta[64];
    int64_t last = -1;

    bwm_fwd_meta_format(4711, meta, sizeof(meta));
    cr_assert_eq(bwm_fwd_meta_parse(meta, &last), 0);
    cr_assert_eq(last, 4711);
    cr_assert_eq(bwm_fwd_meta_parse("", &last), -1);
    cr_assert_eq(bwm_fwd_meta_parse(NULL, &last), -1);
    cr_assert_eq(bwm_fwd_meta_parse("bwm-forward:1:", &last), -1);
    cr_assert_eq(bwm_fwd_meta_parse("bwm-forward:1:12x", &last), -1);
    cr_assert_eq(bwm_fwd_meta_parse("bwm-forward:1:-5", &last), -1);
    cr_assert_eq(bwm_fwd_meta_parse("bwm-forward:2:12", &last), -1, "a later version");
    cr_assert_eq(bwm_fwd_meta_parse("some other tool", &last), -1);
}
