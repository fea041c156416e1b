/*
 * test_agg.c: COUNT and SUM: tables of cases, merge laws on random splits
 * (seeded; BWM_TEST_SEED replays a run), overflow and encodings.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/agg.h"

static uint64_t test_seed(void)
{
    const char *s = getenv("BWM_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20261126;

    fprintf(stderr, "agg tests: BWM_TEST_SEED=%llu\n", (unsigned long long)seed);
    return seed;
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const bwm_agg_input_t star = {NULL, 0, 0};

/* One record's input holding v (the pointer must stay valid while it is used). */
static const bwm_agg_input_t *in(const bwm_value_t *v)
{
    static bwm_agg_input_t i;

    i.ai_value = v;
    i.ai_time = 0;
    i.ai_offset = 0;
    return &i;
}

static bwm_value_t lv(int64_t v)
{
    bwm_value_t x = {.v_type = BWM_T_LONG, .u.v_long = v};

    return x;
}

static bwm_value_t dv(double v)
{
    bwm_value_t x = {.v_type = BWM_T_DOUBLE, .u.v_double = v};

    return x;
}

Test(agg, lookup_is_case_insensitive)
{
    cr_assert_eq(bwm_agg_find("count"), bwm_agg_find("COUNT"));
    cr_assert_not_null(bwm_agg_find("Sum"));
    cr_assert_null(bwm_agg_find("MEDIAN"));
}

Test(agg, count_and_sum_tables)
{
    const bwm_agg_ops_t *count = bwm_agg_find("COUNT"), *sum = bwm_agg_find("SUM");
    uint64_t cs[4], ss[4];
    bwm_value_t r, v;
    int i;

    count->ao_init(cs, BWM_T_NULL, NULL);
    sum->ao_init(ss, BWM_T_LONG, NULL);
    count->ao_result(cs, &r);
    cr_assert_eq(r.v_type, BWM_T_LONG);
    cr_assert_eq(r.u.v_long, 0);
    sum->ao_result(ss, &r);
    cr_assert_eq(r.v_type, BWM_T_NULL, "SUM of nothing is NULL");
    for (i = 1; i <= 10; i++) {
        v = lv(i);
        cr_assert_eq(count->ao_add(cs, &star), BWM_OK);
        cr_assert_eq(sum->ao_add(ss, in(&v)), BWM_OK);
    }
    count->ao_result(cs, &r);
    cr_assert_eq(r.u.v_long, 10);
    sum->ao_result(ss, &r);
    cr_assert_eq(r.v_type, BWM_T_LONG);
    cr_assert_eq(r.u.v_long, 55);
    cr_assert_eq(sum->ao_result_type(BWM_T_STRING), BWM_T_NULL);
    cr_assert_eq(sum->ao_result_type(BWM_T_DOUBLE), BWM_T_DOUBLE);
    cr_assert_eq(count->ao_result_type(BWM_T_STRING), BWM_T_LONG);
}

Test(agg, integer_sum_overflow_is_an_error_and_changes_nothing)
{
    const bwm_agg_ops_t *sum = bwm_agg_find("SUM");
    uint64_t ss[4], other[4];
    bwm_value_t v = lv(INT64_MAX), r;

    sum->ao_init(ss, BWM_T_LONG, NULL);
    cr_assert_eq(sum->ao_add(ss, in(&v)), BWM_OK);
    v = lv(1);
    cr_assert_eq(sum->ao_check(ss, in(&v)), BWM_ERR_OVERFLOW);
    sum->ao_result(ss, &r);
    cr_assert_eq(r.u.v_long, INT64_MAX);
    sum->ao_init(other, BWM_T_LONG, NULL);
    cr_assert_eq(sum->ao_add(other, in(&v)), BWM_OK);
    cr_assert_eq(sum->ao_merge(ss, other), BWM_ERR_OVERFLOW);
    sum->ao_result(ss, &r);
    cr_assert_eq(r.u.v_long, INT64_MAX);
}

/* Adding a sequence equals merging the states of any split of it, in either order. */
Test(agg, merge_of_random_splits_equals_sequential)
{
    const bwm_agg_ops_t *sum = bwm_agg_find("SUM"), *count = bwm_agg_find("COUNT");
    uint64_t x = test_seed();
    int round;

    for (round = 0; round < 200; round++) {
        uint64_t all_s[4], a_s[4], b_s[4], all_c[4], a_c[4], b_c[4];
        int n = (int)(next(&x) % 500), cut = n ? (int)(next(&x) % (uint64_t)(n + 1)) : 0, i;
        bwm_value_t r1, r2;

        sum->ao_init(all_s, BWM_T_LONG, NULL);
        sum->ao_init(a_s, BWM_T_LONG, NULL);
        sum->ao_init(b_s, BWM_T_LONG, NULL);
        count->ao_init(all_c, BWM_T_NULL, NULL);
        count->ao_init(a_c, BWM_T_NULL, NULL);
        count->ao_init(b_c, BWM_T_NULL, NULL);
        for (i = 0; i < n; i++) {
            bwm_value_t v = lv((int64_t)(next(&x) % 2000001) - 1000000);

            sum->ao_add(all_s, in(&v));
            sum->ao_add(i < cut ? a_s : b_s, in(&v));
            count->ao_add(all_c, &star);
            count->ao_add(i < cut ? a_c : b_c, &star);
        }
        /* merge b into a, and (separately) a into b: commutativity */
        {
            uint64_t ab[4], ba[4];

            memcpy(ab, a_s, sizeof(ab));
            memcpy(ba, b_s, sizeof(ba));
            cr_assert_eq(sum->ao_merge(ab, b_s), BWM_OK);
            cr_assert_eq(sum->ao_merge(ba, a_s), BWM_OK);
            sum->ao_result(all_s, &r1);
            sum->ao_result(ab, &r2);
            cr_assert_eq(r1.v_type, r2.v_type, "round %d", round);
            cr_assert_eq(r1.u.v_long, r2.u.v_long, "round %d", round);
            sum->ao_result(ba, &r2);
            cr_assert_eq(r1.u.v_long, r2.u.v_long, "round %d", round);
        }
        cr_assert_eq(count->ao_merge(a_c, b_c), BWM_OK);
        count->ao_result(all_c, &r1);
        count->ao_result(a_c, &r2);
        cr_assert_eq(r1.u.v_long, n);
        cr_assert_eq(r2.u.v_long, n, "round %d", round);
    }
}

Test(agg, double_sum_and_encoding_round_trip)
{
    const bwm_agg_ops_t *sum = bwm_agg_find("SUM"), *count = bwm_agg_find("COUNT");
    uint64_t s[4], back[4], c[4], cback[4];
    bwm_value_t v = dv(0.1), r;
    bwm_buf_t b;
    bwm_cursor_t cur;
    int i;

    sum->ao_init(s, BWM_T_DOUBLE, NULL);
    count->ao_init(c, BWM_T_NULL, NULL);
    for (i = 0; i < 3; i++) {
        sum->ao_add(s, in(&v));
        count->ao_add(c, &star);
    }
    v = lv(2); /* an integer added to a DOUBLE sum is promoted */
    sum->ao_add(s, in(&v));
    bwm_buf_init(&b);
    sum->ao_encode(s, &b);
    count->ao_encode(c, &b);
    cr_assert_eq(b.b_data[0], 1, "encodings start with their format version");
    bwm_cursor_init(&cur, b.b_data, b.b_len);
    sum->ao_init(back, BWM_T_DOUBLE, NULL);
    count->ao_init(cback, BWM_T_NULL, NULL);
    cr_assert_eq(sum->ao_decode(back, &cur), BWM_OK);
    cr_assert_eq(count->ao_decode(cback, &cur), BWM_OK);
    cr_assert_eq(bwm_cursor_left(&cur), 0);
    sum->ao_result(back, &r);
    cr_assert_eq(r.v_type, BWM_T_DOUBLE);
    cr_assert_eq(r.u.v_double, 0.1 + 0.1 + 0.1 + 2.0);
    count->ao_result(cback, &r);
    cr_assert_eq(r.u.v_long, 3);
    /* truncated or foreign bytes do not decode */
    bwm_cursor_init(&cur, b.b_data, 5);
    cr_assert_eq(sum->ao_decode(back, &cur), BWM_ERR_DECODE);
    sum->ao_init(back, BWM_T_LONG, NULL);
    bwm_cursor_init(&cur, b.b_data, b.b_len);
    cr_assert_eq(sum->ao_decode(back, &cur), BWM_ERR_DECODE, "a DOUBLE sum is not a BIGINT sum");
    bwm_buf_free(&b);
}
