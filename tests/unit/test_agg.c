/*
 * test_agg.c: the aggregate registry (names, aliases, ids, accepted types),
 * and tables of hand-computed cases for COUNT, SUM, MIN, MAX, AVG, the
 * variance family, FIRST and LAST; COUNT and SUM merge laws on random splits
 * (seeded; BWM_TEST_SEED replays a run), overflow and encodings. The laws of
 * every aggregate are in test_agg_props.c, COUNT_DISTINCT in test_agg_hll.c
 * and PERCENTILE in test_agg_sketch.c.
 */
#include <criterion/criterion.h>
#include <math.h>
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

static bwm_value_t sv(const char *s)
{
    bwm_value_t x = {.v_type = BWM_T_STRING, .u.v_str = {s, strlen(s)}};

    return x;
}

static bwm_value_t bv(int b)
{
    bwm_value_t x = {.v_type = BWM_T_BOOL, .u.v_bool = b};

    return x;
}

/* A state block big enough for any aggregate, 8-byte aligned as in the engine. */
typedef union state {
    uint64_t s_words[8];
} state_t;

static const bwm_agg_ops_t *find(const char *name)
{
    const bwm_agg_ops_t *ops = bwm_agg_find(name);

    cr_assert_not_null(ops, "%s", name);
    cr_assert(ops->ao_state_size <= sizeof(state_t), "%s", name);
    return ops;
}

/* Applies n values to a fresh state of ops over arg; each at time times[i] (or 0), offset i. */
static void run(const bwm_agg_ops_t *ops, bwm_type_t arg, state_t *st, const bwm_value_t *vals,
                size_t n, const int64_t *times)
{
    size_t i;

    ops->ao_init(st, arg, NULL);
    for (i = 0; i < n; i++) {
        bwm_agg_input_t input = {&vals[i], times ? times[i] : 0, (int64_t)i};

        if (ops->ao_check) {
            cr_assert_eq(ops->ao_check(st, &input), BWM_OK);
        }
        cr_assert_eq(ops->ao_add(st, &input), BWM_OK);
    }
}

static void destroy(const bwm_agg_ops_t *ops, state_t *st)
{
    if (ops->ao_destroy) {
        ops->ao_destroy(st);
    }
}

static bwm_value_t result_of(const char *name, bwm_type_t arg, const bwm_value_t *vals, size_t n)
{
    const bwm_agg_ops_t *ops = find(name);
    state_t st;
    bwm_value_t r;

    run(ops, arg, &st, vals, n, NULL);
    ops->ao_result(&st, &r);
    cr_assert(r.v_type != BWM_T_STRING, "strings point into the state: use run()");
    destroy(ops, &st);
    return r;
}

static void assert_double(bwm_value_t r, double want, double rel, const char *what)
{
    cr_assert_eq(r.v_type, BWM_T_DOUBLE, "%s: not a DOUBLE", what);
    cr_assert(fabs(r.u.v_double - want) <= rel * fabs(want), "%s: %.17g, want %.17g", what,
              r.u.v_double, want);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(agg, registry_names_ids_and_aliases)
{
    static const struct {
        const char *name;
        uint8_t id;
    } want[] = {
        {"COUNT", 1},       {"SUM", 2},      {"MIN", 3},     {"MAX", 4},
        {"AVG", 5},         {"VAR_SAMP", 6}, {"VAR_POP", 7}, {"STDDEV_SAMP", 8},
        {"STDDEV_POP", 9},  {"FIRST", 10},   {"LAST", 11},   {"COUNT_DISTINCT", 12},
        {"PERCENTILE", 13},
    };
    char names[512], *tok, *save = NULL;
    size_t i, listed = 0;

    for (i = 0; i < N(want); i++) {
        const bwm_agg_ops_t *ops = find(want[i].name);

        cr_assert_str_eq(ops->ao_name, want[i].name);
        cr_assert_eq(ops->ao_id, want[i].id, "%s keeps id %u", want[i].name, want[i].id);
        cr_assert_eq(ops->ao_star, i == 0, "only COUNT takes '*'");
        cr_assert_eq(ops->ao_param, strcmp(want[i].name, "PERCENTILE") == 0,
                     "only PERCENTILE takes a constant");
        cr_assert_not_null(ops->ao_init);
        cr_assert_not_null(ops->ao_add);
        cr_assert_not_null(ops->ao_merge);
        cr_assert_not_null(ops->ao_result);
        cr_assert_not_null(ops->ao_encode);
        cr_assert_not_null(ops->ao_decode);
        cr_assert_eq(!ops->ao_heap, !ops->ao_destroy,
                     "%s: a state that owns memory reports how much", want[i].name);
    }
    /* bwm_agg_names lists exactly the canonical names */
    snprintf(names, sizeof(names), "%s", bwm_agg_names());
    for (tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const bwm_agg_ops_t *ops = find(tok);

        cr_assert_str_eq(ops->ao_name, tok, "listed names are canonical: %s", tok);
        listed++;
    }
    cr_assert_eq(listed, N(want));
    cr_assert_eq(bwm_agg_find("stddev"), bwm_agg_find("STDDEV_SAMP"));
    cr_assert_eq(bwm_agg_find("Variance"), bwm_agg_find("VAR_SAMP"));
    cr_assert_eq(bwm_agg_find("count_distinct"), bwm_agg_find("COUNT_DISTINCT"));
    cr_assert_null(bwm_agg_find("MEDIAN"));
    cr_assert_null(bwm_agg_find(""));
    cr_assert_null(bwm_agg_find("COUNT_"));
    cr_assert_null(bwm_agg_find(NULL));
}

Test(agg, result_types_and_nullability)
{
    static const bwm_type_t args[] = {BWM_T_BOOL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING};
    static const struct {
        const char *name;
        bwm_type_t res[4]; /* for BOOL, LONG, DOUBLE, STRING; NULL = refused */
        int nullable;
    } want[] = {
        {"COUNT", {BWM_T_LONG, BWM_T_LONG, BWM_T_LONG, BWM_T_LONG}, 0},
        {"SUM", {BWM_T_NULL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"MIN", {BWM_T_BOOL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING}, 1},
        {"MAX", {BWM_T_BOOL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING}, 1},
        {"AVG", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"VAR_SAMP", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"VAR_POP", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"STDDEV_SAMP", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"STDDEV_POP", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
        {"FIRST", {BWM_T_BOOL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING}, 1},
        {"LAST", {BWM_T_BOOL, BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING}, 1},
        {"COUNT_DISTINCT", {BWM_T_LONG, BWM_T_LONG, BWM_T_LONG, BWM_T_LONG}, 0},
        {"PERCENTILE", {BWM_T_NULL, BWM_T_DOUBLE, BWM_T_DOUBLE, BWM_T_NULL}, 1},
    };
    size_t i, j;

    for (i = 0; i < N(want); i++) {
        const bwm_agg_ops_t *ops = find(want[i].name);

        for (j = 0; j < N(args); j++) {
            cr_assert_eq(ops->ao_result_type(args[j]), want[i].res[j], "%s(%s)", want[i].name,
                         bwm_type_name(args[j]));
        }
        cr_assert_eq(ops->ao_result_nullable, want[i].nullable, "%s", want[i].name);
        if (i > 0) {
            cr_assert_eq(ops->ao_result_type(BWM_T_NULL), BWM_T_NULL, "%s needs a field, not '*'",
                         want[i].name);
        }
    }
}

/* Every aggregate over no values: COUNT and COUNT_DISTINCT 0, the others NULL. */
Test(agg, empty_input)
{
    static const char *const names[] = {
        "COUNT",      "SUM",         "MIN",        "MAX",   "AVG",  "VAR_SAMP",
        "VAR_POP",    "STDDEV_SAMP", "STDDEV_POP", "FIRST", "LAST", "COUNT_DISTINCT",
        "PERCENTILE",
    };
    size_t i;

    for (i = 0; i < N(names); i++) {
        bwm_value_t r = result_of(names[i], BWM_T_LONG, NULL, 0);

        if (strncmp(names[i], "COUNT", 5) == 0) {
            cr_assert_eq(r.v_type, BWM_T_LONG, "%s", names[i]);
            cr_assert_eq(r.u.v_long, 0, "%s", names[i]);
        } else {
            cr_assert_eq(r.v_type, BWM_T_NULL, "%s of nothing is NULL", names[i]);
        }
    }
}

Test(agg, min_max_tables)
{
    bwm_value_t longs[] = {lv(5), lv(-3), lv(12), lv(0), lv(-3)};
    bwm_value_t bools[] = {bv(1), bv(0), bv(1)};
    bwm_value_t mixed[] = {dv(2.5), lv(3), dv(-1.25)}; /* BIGINT values promoted */
    bwm_value_t zeros[] = {dv(0.0), dv(-0.0), dv(1.5)};
    bwm_value_t specials[] = {dv(1.5), dv(NAN), dv(-INFINITY), dv(INFINITY), dv(-7)};
    bwm_value_t r;

    r = result_of("MIN", BWM_T_LONG, longs, N(longs));
    cr_assert(r.v_type == BWM_T_LONG && r.u.v_long == -3);
    r = result_of("MAX", BWM_T_LONG, longs, N(longs));
    cr_assert(r.v_type == BWM_T_LONG && r.u.v_long == 12);
    r = result_of("MIN", BWM_T_BOOL, bools, N(bools));
    cr_assert(r.v_type == BWM_T_BOOL && r.u.v_bool == 0);
    r = result_of("MAX", BWM_T_BOOL, bools, N(bools));
    cr_assert(r.v_type == BWM_T_BOOL && r.u.v_bool == 1);
    r = result_of("MAX", BWM_T_DOUBLE, mixed, N(mixed));
    cr_assert(r.v_type == BWM_T_DOUBLE && r.u.v_double == 3.0);
    r = result_of("MIN", BWM_T_DOUBLE, mixed, N(mixed));
    cr_assert(r.v_type == BWM_T_DOUBLE && r.u.v_double == -1.25);
    /* -0.0 sorts below +0.0, so the result does not depend on the order of equal zeros */
    r = result_of("MIN", BWM_T_DOUBLE, zeros, N(zeros));
    cr_assert(r.u.v_double == 0 && signbit(r.u.v_double), "MIN(0.0, -0.0) is -0.0");
    r = result_of("MIN", BWM_T_DOUBLE, zeros, 2);
    cr_assert(signbit(r.u.v_double));
    r = result_of("MAX", BWM_T_DOUBLE, zeros, 2);
    cr_assert(r.u.v_double == 0 && !signbit(r.u.v_double), "MAX(0.0, -0.0) is 0.0");
    /* NaN is greater than every number, as in PostgreSQL */
    r = result_of("MAX", BWM_T_DOUBLE, specials, N(specials));
    cr_assert(isnan(r.u.v_double));
    r = result_of("MIN", BWM_T_DOUBLE, specials, N(specials));
    cr_assert(isinf(r.u.v_double) && r.u.v_double < 0);
    r = result_of("MIN", BWM_T_DOUBLE, specials + 1, 1);
    cr_assert(isnan(r.u.v_double), "MIN of only NaN is NaN");
}

Test(agg, min_max_strings_are_owned_by_the_state)
{
    const bwm_agg_ops_t *mn = find("MIN"), *mx = find("MAX");
    char buf[4][16] = {"pear", "apple", "applesauce", "Zebra"};
    bwm_value_t vals[6] = {sv(buf[0]), sv(buf[1]), sv(buf[2]), sv(buf[3]), sv("\xc3\xa9t\xc3\xa9"),
                           sv("")};
    state_t a, b;
    bwm_value_t r;

    run(mn, BWM_T_STRING, &a, vals, 5, NULL);
    run(mx, BWM_T_STRING, &b, vals, 5, NULL);
    memset(buf, 'x', sizeof(buf)); /* the inputs go away */
    mn->ao_result(&a, &r);
    cr_assert_eq(r.v_type, BWM_T_STRING);
    cr_assert(r.u.v_str.n == 5 && memcmp(r.u.v_str.p, "Zebra", 5) == 0,
              "bytewise: 'Z' sorts before 'a'");
    cr_assert_eq(r.u.v_str.p[r.u.v_str.n], '\0');
    mx->ao_result(&b, &r);
    cr_assert(r.u.v_str.n == 5 && memcmp(r.u.v_str.p, "\xc3\xa9t\xc3\xa9", 5) == 0,
              "UTF-8 sorts by code point: 'é' after 'p'");
    /* a prefix sorts first; the empty string is the least of all */
    {
        bwm_value_t pre[] = {sv("applesauce"), sv("apple")};

        destroy(mn, &a);
        run(mn, BWM_T_STRING, &a, pre, 2, NULL);
        mn->ao_result(&a, &r);
        cr_assert(r.u.v_str.n == 5 && memcmp(r.u.v_str.p, "apple", 5) == 0);
        cr_assert_eq(mn->ao_add(&a, &(bwm_agg_input_t){&vals[5], 0, 9}), BWM_OK);
        mn->ao_result(&a, &r);
        cr_assert(r.v_type == BWM_T_STRING && r.u.v_str.n == 0 && r.u.v_str.p != NULL);
    }
    /* embedded NUL bytes count: "a\0b" > "a\0" > "a" */
    {
        bwm_value_t nul[] = {{.v_type = BWM_T_STRING, .u.v_str = {"a\0b", 3}},
                             {.v_type = BWM_T_STRING, .u.v_str = {"a", 1}},
                             {.v_type = BWM_T_STRING, .u.v_str = {"a\0", 2}}};

        destroy(mx, &b);
        run(mx, BWM_T_STRING, &b, nul, 3, NULL);
        mx->ao_result(&b, &r);
        cr_assert(r.u.v_str.n == 3 && memcmp(r.u.v_str.p, "a\0b", 3) == 0);
    }
    destroy(mn, &a);
    destroy(mx, &b);
}

/*
 * A kept string lives in a block of a power-of-two size (at least 16), reused
 * while later values fit; ao_heap reports the block.
 */
Test(agg, string_states_report_their_heap_block)
{
    static const struct {
        const char *name;
        const char *vals[3]; /* at times 0, 1, 2: each one replaces the kept value */
        int64_t times[3];
    } cases[] = {
        {"MAX", {"a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "c"}, {0, 1, 2}},
        {"MIN", {"c", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "a"}, {0, 1, 2}},
        {"LAST", {"a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "c"}, {0, 1, 2}},
        {"FIRST", {"a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "c"}, {2, 1, 0}},
    };
    static const size_t heap[3] = {16, 64, 64}; /* 40 bytes + NUL need 64; "c" reuses them */
    size_t i, k;

    for (i = 0; i < N(cases); i++) {
        const bwm_agg_ops_t *ops = find(cases[i].name);
        state_t st, back;
        bwm_value_t r, big = lv(1);
        bwm_buf_t b;
        bwm_cursor_t c;

        ops->ao_init(&st, BWM_T_STRING, NULL);
        cr_assert_eq(ops->ao_heap(&st), 0, "%s: empty", cases[i].name);
        for (k = 0; k < 3; k++) {
            bwm_value_t v = sv(cases[i].vals[k]);
            bwm_agg_input_t input = {&v, cases[i].times[k], (int64_t)k};

            cr_assert_eq(ops->ao_add(&st, &input), BWM_OK);
            ops->ao_result(&st, &r);
            cr_assert_str_eq(r.u.v_str.p, cases[i].vals[k], "%s keeps each value", cases[i].name);
            cr_assert_eq(ops->ao_heap(&st), heap[k], "%s after %zu values: %zu bytes",
                         cases[i].name, k + 1, ops->ao_heap(&st));
        }
        /* decoded, the state holds the block its value needs */
        bwm_buf_init(&b);
        ops->ao_encode(&st, &b);
        ops->ao_init(&back, BWM_T_STRING, NULL);
        bwm_cursor_init(&c, b.b_data, b.b_len);
        cr_assert_eq(ops->ao_decode(&back, &c), BWM_OK);
        cr_assert_eq(ops->ao_heap(&back), 16);
        destroy(ops, &back);
        destroy(ops, &st);
        bwm_buf_free(&b);
        /* other types own nothing */
        run(ops, BWM_T_LONG, &st, &big, 1, NULL);
        cr_assert_eq(ops->ao_heap(&st), 0);
        destroy(ops, &st);
    }
}

Test(agg, avg_tables)
{
    bwm_value_t ints[] = {lv(1), lv(2), lv(3), lv(4)};
    bwm_value_t huge[] = {lv(INT64_MAX), lv(INT64_MAX), lv(INT64_MAX)};
    bwm_value_t span[] = {lv(INT64_MIN), lv(INT64_MAX)};
    bwm_value_t tenths[10];
    bwm_value_t mixed[] = {dv(1.5), lv(2)};
    size_t i;

    for (i = 0; i < N(tenths); i++) {
        tenths[i] = dv(0.1);
    }
    assert_double(result_of("AVG", BWM_T_LONG, ints, N(ints)), 2.5, 0, "AVG(1..4)");
    /* the integer sum is exact: no overflow where a 64-bit sum would wrap */
    assert_double(result_of("AVG", BWM_T_LONG, huge, N(huge)), 9223372036854775807.0, 0,
                  "AVG of INT64_MAX thrice");
    assert_double(result_of("AVG", BWM_T_LONG, span, N(span)), -0.5, 0, "AVG(min, max)");
    /* the compensated sum of ten 0.1 is 1.0, so the average is 0.1 exactly */
    assert_double(result_of("AVG", BWM_T_DOUBLE, tenths, N(tenths)), 0.1, 0, "AVG of 0.1s");
    assert_double(result_of("AVG", BWM_T_DOUBLE, mixed, N(mixed)), 1.75, 0, "AVG(1.5, 2)");
}

Test(agg, avg_refuses_what_it_cannot_sum)
{
    const bwm_agg_ops_t *avg = find("AVG");
    state_t a, b;
    bwm_value_t v = lv(INT64_MAX);
    bwm_cursor_t c;
    bwm_buf_t buf;
    static const uint8_t full[] = {1,    BWM_T_LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0x7f, 0xff,       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f,
                                   0,    0,          0,    0,    0,    0,    0,    0x80};

    /* a state holding INT64_MAX values (n = 2^63 - 1, sum = n * (2^63 - 1)) takes no more */
    avg->ao_init(&a, BWM_T_LONG, NULL);
    bwm_cursor_init(&c, full, sizeof(full));
    cr_assert_eq(avg->ao_decode(&a, &c), BWM_OK);
    cr_assert_eq(avg->ao_check(&a, in(&v)), BWM_ERR_OVERFLOW);
    avg->ao_init(&b, BWM_T_LONG, NULL);
    cr_assert_eq(avg->ao_add(&b, in(&v)), BWM_OK);
    cr_assert_eq(avg->ao_merge(&a, &b), BWM_ERR_OVERFLOW);
    bwm_buf_init(&buf);
    avg->ao_encode(&a, &buf);
    cr_assert(buf.b_len == sizeof(full) && memcmp(buf.b_data, full, sizeof(full)) == 0,
              "a refused merge changes nothing");
    bwm_buf_free(&buf);
    /* a sum beyond n * 2^63 cannot come from n BIGINT values */
    {
        uint8_t bad[sizeof(full)];

        memcpy(bad, full, sizeof(bad));
        bad[2] = 1;
        memset(bad + 3, 0, 7); /* n = 1 */
        bwm_cursor_init(&c, bad, sizeof(bad));
        cr_assert_eq(avg->ao_decode(&a, &c), BWM_ERR_DECODE);
    }
}

Test(agg, variance_tables)
{
    bwm_value_t v[] = {lv(2), lv(4), lv(4), lv(4), lv(5), lv(5), lv(7), lv(9)};
    bwm_value_t shifted[4], one[] = {dv(42)};
    const double base = 1e9;
    size_t i;

    assert_double(result_of("VAR_POP", BWM_T_LONG, v, N(v)), 4, 1e-15, "VAR_POP");
    assert_double(result_of("STDDEV_POP", BWM_T_LONG, v, N(v)), 2, 1e-15, "STDDEV_POP");
    assert_double(result_of("VAR_SAMP", BWM_T_LONG, v, N(v)), 32.0 / 7, 1e-15, "VAR_SAMP");
    assert_double(result_of("VARIANCE", BWM_T_LONG, v, N(v)), 32.0 / 7, 1e-15, "VARIANCE");
    assert_double(result_of("STDDEV_SAMP", BWM_T_LONG, v, N(v)), sqrt(32.0 / 7), 1e-15,
                  "STDDEV_SAMP");
    assert_double(result_of("STDDEV", BWM_T_LONG, v, N(v)), sqrt(32.0 / 7), 1e-15, "STDDEV");
    /* Welford stays exact where the sum of squares would cancel catastrophically */
    for (i = 0; i < 4; i++) {
        static const double d[] = {4, 7, 13, 16};

        shifted[i] = dv(base + d[i]);
    }
    assert_double(result_of("VAR_SAMP", BWM_T_DOUBLE, shifted, 4), 30, 1e-12, "VAR_SAMP at 1e9");
    /* one value: the sample variants are NULL, the population ones 0 */
    cr_assert_eq(result_of("VAR_SAMP", BWM_T_DOUBLE, one, 1).v_type, BWM_T_NULL);
    cr_assert_eq(result_of("STDDEV_SAMP", BWM_T_DOUBLE, one, 1).v_type, BWM_T_NULL);
    assert_double(result_of("VAR_POP", BWM_T_DOUBLE, one, 1), 0, 0, "VAR_POP of one value");
    assert_double(result_of("STDDEV_POP", BWM_T_DOUBLE, one, 1), 0, 0, "STDDEV_POP of one");
}

/* The merge of two halves equals the whole (Chan's formula), also for uneven halves. */
Test(agg, variance_merge_of_halves)
{
    const bwm_agg_ops_t *var = find("VAR_SAMP");
    bwm_value_t v[] = {dv(1), dv(2), dv(3), dv(4), dv(100), dv(-50), dv(7)};
    size_t cut;

    for (cut = 0; cut <= N(v); cut++) {
        state_t a, b;
        bwm_value_t r;

        run(var, BWM_T_DOUBLE, &a, v, cut, NULL);
        run(var, BWM_T_DOUBLE, &b, v + cut, N(v) - cut, NULL);
        cr_assert_eq(var->ao_merge(&a, &b), BWM_OK);
        var->ao_result(&a, &r);
        /* mean 67/7; sum of squared deviations 12579 - 67^2/7 */
        assert_double(r, (12579 - 67.0 * 67 / 7) / 6, 1e-14, "VAR_SAMP of merged halves");
    }
}

Test(agg, first_last_by_event_time_then_offset)
{
    const bwm_agg_ops_t *first = find("FIRST"), *last = find("LAST");
    /* arrival order is not time order */
    bwm_value_t vals[] = {sv("c"), sv("a"), sv("b"), sv("a2"), sv("c2")};
    int64_t times[] = {30, 10, 20, 10, 30};
    state_t f, l;
    bwm_value_t r;

    run(first, BWM_T_STRING, &f, vals, N(vals), times);
    run(last, BWM_T_STRING, &l, vals, N(vals), times);
    first->ao_result(&f, &r);
    /* times 10 at offsets 1 ("a") and 3 ("a2"): the smaller offset is first */
    cr_assert(r.v_type == BWM_T_STRING && r.u.v_str.n == 1 && r.u.v_str.p[0] == 'a');
    last->ao_result(&l, &r);
    /* times 30 at offsets 0 ("c") and 4 ("c2"): the larger offset is last */
    cr_assert(r.u.v_str.n == 2 && memcmp(r.u.v_str.p, "c2", 2) == 0);
    destroy(first, &f);
    destroy(last, &l);
}

/* Each value in its own state, merged in every order: always the same answer. */
Test(agg, first_last_merge_in_any_order)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    static const char *const names[] = {"FIRST", "LAST"};
    bwm_value_t vals[] = {lv(7), lv(8), lv(9)};
    /* (time, offset): (5, 3), (5, 1), (4, 9): FIRST is 9 (time 4), LAST is 7 (offset 3) */
    bwm_agg_input_t ins[] = {{&vals[0], 5, 3}, {&vals[1], 5, 1}, {&vals[2], 4, 9}};
    static const int64_t want[] = {9, 7};
    int n, p, i;

    for (n = 0; n < 2; n++) {
        const bwm_agg_ops_t *ops = find(names[n]);

        for (p = 0; p < 6; p++) {
            state_t acc, one;
            bwm_value_t r;

            ops->ao_init(&acc, BWM_T_LONG, NULL);
            for (i = 0; i < 3; i++) {
                ops->ao_init(&one, BWM_T_LONG, NULL);
                cr_assert_eq(ops->ao_add(&one, &ins[perms[p][i]]), BWM_OK);
                cr_assert_eq(ops->ao_merge(&acc, &one), BWM_OK);
            }
            ops->ao_result(&acc, &r);
            cr_assert_eq(r.u.v_long, want[n], "%s, order %d", names[n], p);
            /* adding directly in that order agrees */
            ops->ao_init(&one, BWM_T_LONG, NULL);
            for (i = 0; i < 3; i++) {
                cr_assert_eq(ops->ao_add(&one, &ins[perms[p][i]]), BWM_OK);
            }
            ops->ao_result(&one, &r);
            cr_assert_eq(r.u.v_long, want[n], "%s, added in order %d", names[n], p);
        }
    }
}

Test(agg, first_last_other_types_and_negative_times)
{
    bwm_value_t d[] = {dv(1.5), dv(-2.5), dv(NAN)};
    bwm_value_t b[] = {bv(1), bv(0)};
    int64_t dt[] = {-100, -200, 0}, bt[] = {7, 7};
    const bwm_agg_ops_t *first = find("FIRST"), *last = find("LAST");
    state_t st;
    bwm_value_t r;

    run(first, BWM_T_DOUBLE, &st, d, 3, dt);
    first->ao_result(&st, &r);
    cr_assert(r.v_type == BWM_T_DOUBLE && r.u.v_double == -2.5, "times before 1970 order too");
    run(last, BWM_T_DOUBLE, &st, d, 3, dt);
    last->ao_result(&st, &r);
    cr_assert(isnan(r.u.v_double));
    run(last, BWM_T_BOOL, &st, b, 2, bt);
    last->ao_result(&st, &r);
    cr_assert(r.v_type == BWM_T_BOOL && r.u.v_bool == 0, "same time: the larger offset");
}

/* Stored bytes are checked: versions, types, flags and lengths. */
Test(agg, decode_rejects_bad_bytes)
{
    static const struct {
        const char *name;
        bwm_type_t arg;
        uint8_t bytes[32];
        size_t len;
    } bad[] = {
        {"COUNT", BWM_T_NULL, {1, 0, 0, 0, 0, 0, 0, 0, 0x80}, 9},              /* negative count */
        {"SUM", BWM_T_LONG, {1, BWM_T_LONG, 2, 0, 0, 0, 0, 0, 0, 0, 0}, 11},   /* flag 2 */
        {"SUM", BWM_T_LONG, {1, BWM_T_LONG, 0, 5, 0, 0, 0, 0, 0, 0, 0}, 11},   /* empty, sum 5 */
        {"MIN", BWM_T_LONG, {1, BWM_T_LONG, 2}, 3},                            /* flag 2 */
        {"MIN", BWM_T_BOOL, {1, BWM_T_BOOL, 1, 2}, 4},                         /* boolean 2 */
        {"MAX", BWM_T_STRING, {1, BWM_T_STRING, 1, 9, 0, 0, 0, 'a'}, 8},       /* short string */
        {"FIRST", BWM_T_LONG, {1, BWM_T_LONG, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 11}, /* no offset */
        {"VAR_POP",
         BWM_T_DOUBLE,
         {1, BWM_T_DOUBLE, 1,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
          0, 0xf0,         0xbf},
         26},
        /* M2 = -1 */
        {"AVG",
         BWM_T_DOUBLE,
         {1, BWM_T_DOUBLE, 0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
          0, 0xf0,         0x3f, 0, 0, 0, 0, 0, 0, 0, 0},
         26},
        /* n = 0 with a sum */
    };
    size_t i;

    for (i = 0; i < N(bad); i++) {
        const bwm_agg_ops_t *ops = find(bad[i].name);
        state_t st;
        bwm_cursor_t c;

        ops->ao_init(&st, bad[i].arg, NULL);
        bwm_cursor_init(&c, bad[i].bytes, bad[i].len);
        cr_assert_eq(ops->ao_decode(&st, &c), BWM_ERR_DECODE, "case %zu (%s)", i, bad[i].name);
        destroy(ops, &st);
    }
}

/* Counts decoded at the limit neither wrap on add nor overflow on merge. */
Test(agg, counts_at_the_limit)
{
    static const uint8_t max_count[] = {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t max_var[] = {1,    BWM_T_LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0x7f, 0,          0,    0,    0,    0,    0,    0,    0,
                                      0,    0,          0,    0,    0,    0,    0,    0};
    const bwm_agg_ops_t *count = find("COUNT"), *var = find("VAR_POP");
    state_t a, b;
    bwm_cursor_t c;
    bwm_value_t r, v = lv(0);

    count->ao_init(&a, BWM_T_NULL, NULL);
    bwm_cursor_init(&c, max_count, sizeof(max_count));
    cr_assert_eq(count->ao_decode(&a, &c), BWM_OK);
    cr_assert_eq(count->ao_add(&a, &star), BWM_OK);
    count->ao_result(&a, &r);
    cr_assert_eq(r.u.v_long, INT64_MAX);
    count->ao_init(&b, BWM_T_NULL, NULL);
    cr_assert_eq(count->ao_add(&b, &star), BWM_OK);
    cr_assert_eq(count->ao_merge(&a, &b), BWM_ERR_OVERFLOW);

    var->ao_init(&a, BWM_T_LONG, NULL);
    bwm_cursor_init(&c, max_var, sizeof(max_var));
    cr_assert_eq(var->ao_decode(&a, &c), BWM_OK);
    cr_assert_eq(var->ao_add(&a, in(&v)), BWM_OK);
    var->ao_result(&a, &r);
    cr_assert(r.v_type == BWM_T_DOUBLE && r.u.v_double == 0);
    var->ao_init(&b, BWM_T_LONG, NULL);
    cr_assert_eq(var->ao_add(&b, in(&v)), BWM_OK);
    cr_assert_eq(var->ao_merge(&a, &b), BWM_ERR_OVERFLOW);
}
