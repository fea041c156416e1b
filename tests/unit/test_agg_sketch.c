/*
 * test_agg_sketch.c: PERCENTILE. The documented bound |v - x_q| <= alpha *
 * |x_q| (alpha = 0.01, x_q the exact lower q-quantile) on random data:
 * uniform, lognormal and Pareto (heavy tails), normal around 0 (both signs),
 * negatives only, and small integers with ties and zeros (seeded;
 * BWM_TEST_SEED replays a run); merged sketches equal bucket for bucket the
 * sketch of the union; small tables, infinities and NaN; the collapse of the
 * lowest buckets beyond 2048; and the checks on stored bytes.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/agg.h"
#include "core/agg_impl.h"

#define ALPHA BWM_AGG_PERCENTILE_ALPHA
#define NVAL  20000

typedef union state {
    uint64_t s_words[8];
} state_t;

static double vals[NVAL];
static double sorted[NVAL];

static uint64_t test_seed(void)
{
    const char *s = getenv("BWM_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20261126;

    fprintf(stderr, "agg_sketch tests: BWM_TEST_SEED=%llu\n", (unsigned long long)seed);
    return seed;
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* uniform in (0, 1) */
static double unit(uint64_t *x)
{
    return ((double)(next(x) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *x)
{
    return sqrt(-2 * log(unit(x))) * cos(2 * M_PI * unit(x));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static const bwm_agg_ops_t *pct(void)
{
    const bwm_agg_ops_t *ops = bwm_agg_find("PERCENTILE");

    cr_assert_not_null(ops);
    cr_assert(ops->ao_state_size <= sizeof(state_t));
    return ops;
}

static void init(state_t *st, double q)
{
    bwm_agg_params_t p = {q};

    pct()->ao_init(st, BWM_T_DOUBLE, &p);
}

static void add(state_t *st, double v)
{
    bwm_value_t x = {.v_type = BWM_T_DOUBLE, .u.v_double = v};
    bwm_agg_input_t in = {&x, 0, 0};

    cr_assert_eq(pct()->ao_add(st, &in), BWM_OK);
}

static double result(const state_t *st)
{
    bwm_value_t r;

    pct()->ao_result(st, &r);
    cr_assert_eq(r.v_type, BWM_T_DOUBLE);
    return r.u.v_double;
}

/* The state's answer for another q: the sketch does not depend on q. */
static double quantile(const state_t *st, double q)
{
    state_t t;
    bwm_buf_t b;
    bwm_cursor_t c;
    double v;

    bwm_buf_init(&b);
    pct()->ao_encode(st, &b);
    init(&t, q);
    bwm_cursor_init(&c, b.b_data, b.b_len);
    cr_assert_eq(pct()->ao_decode(&t, &c), BWM_OK);
    v = result(&t);
    pct()->ao_destroy(&t);
    bwm_buf_free(&b);
    return v;
}

static void encode(const state_t *st, bwm_buf_t *b)
{
    bwm_buf_reset(b);
    pct()->ao_encode(st, b);
    cr_assert(!b->b_failed);
}

static int collapsed(const state_t *st)
{
    bwm_buf_t b;
    int r;

    bwm_buf_init(&b);
    encode(st, &b);
    r = b.b_data[2];
    bwm_buf_free(&b);
    return r;
}

static void assert_same_buckets(const state_t *a, const state_t *b, const char *what)
{
    bwm_buf_t ea, eb;

    bwm_buf_init(&ea);
    bwm_buf_init(&eb);
    encode(a, &ea);
    encode(b, &eb);
    cr_assert(ea.b_len == eb.b_len && memcmp(ea.b_data, eb.b_data, ea.b_len) == 0,
              "%s: buckets differ", what);
    bwm_buf_free(&ea);
    bwm_buf_free(&eb);
}

static void fill(const char *dist, uint64_t *x, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        double v;

        if (strcmp(dist, "uniform") == 0) {
            v = 1000 * unit(x);
        } else if (strcmp(dist, "lognormal") == 0) {
            v = exp(2 * normal(x));
        } else if (strcmp(dist, "pareto") == 0) {
            v = pow(unit(x), -1 / 1.1); /* tail index 1.1: values up to ~1e8 */
        } else if (strcmp(dist, "normal") == 0) {
            v = 100 * normal(x);
        } else if (strcmp(dist, "negative") == 0) {
            v = -exp(14 * unit(x)); /* -1 .. -1.2e6 */
        } else {
            v = (double)(next(x) % 10); /* small integers: ties and zeros */
        }
        vals[i] = v;
    }
}

Test(agg_percentile, relative_error_bound_on_random_data, .timeout = 60)
{
    static const char *const dists[] = {"uniform", "lognormal", "pareto",
                                        "normal",  "negative",  "integers"};
    static const double qs[] = {0,    0.001, 0.01, 0.05, 0.1,   0.25, 0.5,
                                0.75, 0.9,   0.95, 0.99, 0.999, 1};
    uint64_t seed = test_seed(), x = seed * 2 + 1;
    size_t d, k;
    double worst_all = 0;

    for (d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
        state_t st;
        double worst = 0;
        int i;

        fill(dists[d], &x, NVAL);
        init(&st, 0.5);
        for (i = 0; i < NVAL; i++) {
            add(&st, vals[i]);
        }
        memcpy(sorted, vals, sizeof(sorted));
        qsort(sorted, NVAL, sizeof(double), cmp_double);
        cr_assert(!collapsed(&st), "%s collapsed", dists[d]);
        for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
            double xq = sorted[(size_t)floor(qs[k] * (NVAL - 1))], v = quantile(&st, qs[k]);
            double err = xq == 0 ? fabs(v) : fabs(v - xq) / fabs(xq);

            cr_assert(xq == 0 ? v == 0 : err <= ALPHA * (1 + 1e-9),
                      "%s q=%g: %.17g for exact %.17g (relative error %.5f)", dists[d], qs[k], v,
                      xq, err);
            if (err > worst) {
                worst = err;
            }
        }
        fprintf(stderr, "agg_percentile: seed %llu: %s, %d values: worst relative error %.5f\n",
                (unsigned long long)seed, dists[d], NVAL, worst);
        if (worst > worst_all) {
            worst_all = worst;
        }
        pct()->ao_destroy(&st);
    }
    cr_assert(worst_all > ALPHA / 4, "the bound is not vacuous: some error is seen");
}

/* Sketches of the parts of a random split, merged in a random order, are the sketch of all. */
Test(agg_percentile, merge_equals_the_sketch_of_the_union)
{
    static const char *const dists[] = {"lognormal", "normal", "integers", "pareto"};
    uint64_t x = test_seed() * 2 + 1;
    size_t d;

    for (d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
        state_t all, parts[7], acc, rev;
        int i, n = 3000 + (int)(next(&x) % 3000);

        fill(dists[d], &x, n);
        init(&all, 0.9);
        for (i = 0; i < 7; i++) {
            init(&parts[i], 0.9);
        }
        for (i = 0; i < n; i++) {
            add(&all, vals[i]);
            add(&parts[next(&x) % 5], vals[i]); /* parts 5 and 6 stay empty */
        }
        init(&acc, 0.9);
        init(&rev, 0.9);
        for (i = 0; i < 7; i++) {
            cr_assert_eq(pct()->ao_merge(&acc, &parts[(i * 3) % 7]), BWM_OK);
            cr_assert_eq(pct()->ao_merge(&rev, &parts[6 - i]), BWM_OK);
        }
        assert_same_buckets(&acc, &all, dists[d]);
        assert_same_buckets(&rev, &all, dists[d]);
        cr_assert_eq(result(&acc), result(&all));
        pct()->ao_destroy(&all);
        pct()->ao_destroy(&acc);
        pct()->ao_destroy(&rev);
        for (i = 0; i < 7; i++) {
            pct()->ao_destroy(&parts[i]);
        }
    }
}

Test(agg_percentile, small_tables)
{
    static const struct {
        double vals[6];
        int n;
        double q;
        double want; /* exact lower quantile */
    } cases[] = {
        {{1, 2, 3, 4, 5}, 5, 0.5, 3},
        {{5, 4, 3, 2, 1}, 5, 0, 1},
        {{1, 2, 3, 4, 5}, 5, 1, 5},
        {{1, 2, 3, 4}, 4, 0.5, 2}, /* lower quantile: rank floor(0.5 * 3) = 1 */
        {{42}, 1, 0.99, 42},
        {{-3, -1, -2}, 3, 0, -3},
        {{-3, -1, -2}, 3, 1, -1},
        {{0, 0, 0, 7}, 4, 0.5, 0},
        {{-5, 0, 5}, 3, 0.5, 0},
        {{1e-300, 1e300}, 2, 1, 1e300},
        {{DBL_MAX, DBL_MAX}, 2, 0.5, DBL_MAX},
        {{-INFINITY, 1, 2}, 3, 0, -INFINITY},
        {{1, 2, INFINITY}, 3, 1, INFINITY},
        {{1, NAN, INFINITY}, 3, 1, NAN}, /* NaN sorts last */
        {{1, NAN, INFINITY}, 3, 0.5, INFINITY},
    };
    size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        state_t st;
        int i;
        double v;

        init(&st, cases[k].q);
        for (i = 0; i < cases[k].n; i++) {
            add(&st, cases[k].vals[i]);
        }
        v = result(&st);
        if (isnan(cases[k].want) || isinf(cases[k].want) || cases[k].want == 0) {
            cr_assert(memcmp(&v, &cases[k].want, sizeof(v)) == 0 ||
                          (isnan(v) && isnan(cases[k].want)),
                      "case %zu: %g, want %g", k, v, cases[k].want);
        } else {
            cr_assert(fabs(v - cases[k].want) <= ALPHA * fabs(cases[k].want),
                      "case %zu: %.17g, want %.17g", k, v, cases[k].want);
            cr_assert(isfinite(v));
        }
        pct()->ao_destroy(&st);
    }
}

Test(agg_percentile, bigint_argument_params_and_empty)
{
    const bwm_agg_ops_t *ops = pct();
    state_t st;
    bwm_value_t r;
    int64_t i;

    /* no parameters: the median */
    ops->ao_init(&st, BWM_T_LONG, NULL);
    ops->ao_result(&st, &r);
    cr_assert_eq(r.v_type, BWM_T_NULL, "PERCENTILE of nothing is NULL");
    for (i = 1; i <= 101; i++) {
        bwm_value_t v = {.v_type = BWM_T_LONG, .u.v_long = i * 1000};
        bwm_agg_input_t in = {&v, 0, i};

        cr_assert_eq(ops->ao_add(&st, &in), BWM_OK);
    }
    ops->ao_result(&st, &r);
    cr_assert_eq(r.v_type, BWM_T_DOUBLE);
    cr_assert(fabs(r.u.v_double - 51000) <= ALPHA * 51000, "median %g", r.u.v_double);
    ops->ao_destroy(&st);
    /* q outside [0, 1] is clamped */
    init(&st, 7);
    add(&st, 1);
    add(&st, 100);
    cr_assert(fabs(result(&st) - 100) <= 1);
    ops->ao_destroy(&st);
}

/* Memory follows the data: one bucket per distinct magnitude seen, not per value. */
Test(agg_percentile, buckets_are_few_for_few_values)
{
    state_t st;
    bwm_buf_t b;
    int i;

    bwm_buf_init(&b);
    init(&st, 0.5);
    encode(&st, &b);
    cr_assert_eq(b.b_len, 3 + 32 + 4 + 4, "empty: no buckets");
    for (i = 0; i < 1000; i++) {
        add(&st, 88.0);
    }
    add(&st, 1.0);
    add(&st, -1.0);
    encode(&st, &b);
    cr_assert_eq(b.b_len, 3 + 32 + 4 + 2 * 12 + 4 + 12, "three buckets");
    pct()->ao_destroy(&st);
    bwm_buf_free(&b);
}

/* Heap memory: a 112-byte header, then 12 bytes per bucket slot (capacity 4, 8, ...) per sign. */
Test(agg_percentile, heap_is_the_header_and_the_bucket_arrays)
{
    static const double adds[] = {1.0, -1.0, 2.0, 4.0, 8.0, 16.0};
    /* one positive bucket; one negative too; 2, 3, 4 positive (capacity 4); 5 (capacity 8) */
    static const size_t heap[] = {112 + 48, 112 + 48 + 48, 208, 208, 208, 112 + 96 + 48};
    state_t st, back;
    bwm_buf_t b;
    bwm_cursor_t c;
    size_t i;

    init(&st, 0.5);
    cr_assert_eq(pct()->ao_heap(&st), 0, "empty: nothing allocated");
    for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
        add(&st, adds[i]);
        cr_assert_eq(pct()->ao_heap(&st), heap[i], "after %zu values: %zu bytes", i + 1,
                     pct()->ao_heap(&st));
    }
    bwm_buf_init(&b);
    encode(&st, &b);
    init(&back, 0.5);
    bwm_cursor_init(&c, b.b_data, b.b_len);
    cr_assert_eq(pct()->ao_decode(&back, &c), BWM_OK);
    cr_assert_eq(pct()->ao_heap(&back), pct()->ao_heap(&st), "decoded: the same arrays");
    pct()->ao_destroy(&back);
    pct()->ao_destroy(&st);
    cr_assert_eq(pct()->ao_heap(&st), 0);
    bwm_buf_free(&b);
}

/* 2048 bucket indexes per sign are kept; beyond, the lowest fold into the lowest kept. */
Test(agg_percentile, collapse_keeps_2048_buckets_and_the_high_quantiles)
{
    const double L = log((1 + ALPHA) / (1 - ALPHA));
    state_t st, a, b, ab;
    bwm_buf_t enc;
    int i;

    bwm_buf_init(&enc);
    init(&st, 0);
    add(&st, 0.999);                 /* bucket 0 */
    add(&st, exp(2047 * L) * 0.999); /* bucket 2047: 2048 indexes, no collapse */
    cr_assert(!collapsed(&st));
    cr_assert(fabs(result(&st) - 0.999) <= ALPHA * 0.999);
    add(&st, exp(2048 * L) * 0.999); /* bucket 2048: bucket 0 folds into bucket 1 */
    cr_assert(collapsed(&st));
    pct()->ao_destroy(&st);

    /* a wide spread: 1e-300 .. 1e300 */
    init(&st, 1);
    init(&a, 1);
    init(&b, 1);
    for (i = -300; i <= 300; i += 3) {
        double v = pow(10, i);

        add(&st, v);
        add(&st, -v);
        add(i % 2 ? &a : &b, v);
        add(i % 2 ? &a : &b, -v);
    }
    cr_assert(collapsed(&st));
    encode(&st, &enc);
    {
        uint32_t npos = (uint32_t)enc.b_data[35] | (uint32_t)enc.b_data[36] << 8;

        cr_assert(npos <= 2048, "%u positive buckets", npos);
        cr_assert_eq(enc.b_len, 3 + 32 + 4 + 12 * (size_t)npos + 4 + 12 * (size_t)npos);
    }
    cr_assert(fabs(result(&st) - 1e300) <= ALPHA * 1e300, "the top is still accurate");
    /* 402 values; rank floor(0.988 * 401) = 396 is 1e285, inside the kept 17 decades */
    cr_assert(fabs(quantile(&st, 0.988) - 1e285) <= ALPHA * 1e285);
    cr_assert(fabs(quantile(&st, 0) + 1e300) <= ALPHA * 1e300, "the bottom too (negatives)");
    /* the fold depends only on the largest bucket: merging stays exact */
    init(&ab, 1);
    cr_assert_eq(pct()->ao_merge(&ab, &a), BWM_OK);
    cr_assert_eq(pct()->ao_merge(&ab, &b), BWM_OK);
    assert_same_buckets(&ab, &st, "collapsed merge");
    pct()->ao_destroy(&st);
    pct()->ao_destroy(&a);
    pct()->ao_destroy(&b);
    pct()->ao_destroy(&ab);
    bwm_buf_free(&enc);
}

static bwm_err_t decode_bytes(const uint8_t *p, size_t n)
{
    state_t st;
    bwm_cursor_t c;
    bwm_err_t err;

    init(&st, 0.5);
    add(&st, 3.0); /* a failed decode leaves this */
    bwm_cursor_init(&c, p, n);
    err = pct()->ao_decode(&st, &c);
    if (err) {
        cr_assert(fabs(result(&st) - 3) <= 0.03);
    }
    pct()->ao_destroy(&st);
    return err;
}

/* Builds an encoding: header, four special counts, then buckets (index, count) per sign. */
static size_t build(uint8_t *out, int coll, uint64_t zero, const int32_t *idx, const uint64_t *cnt,
                    uint32_t n, uint32_t nneg)
{
    bwm_buf_t b;
    uint32_t i;
    size_t len;

    bwm_buf_init(&b);
    bwm_buf_put_u8(&b, 1);
    bwm_buf_put_u8(&b, BWM_T_DOUBLE);
    bwm_buf_put_u8(&b, (uint8_t)coll);
    bwm_buf_put_u64le(&b, zero);
    bwm_buf_put_u64le(&b, 0);
    bwm_buf_put_u64le(&b, 0);
    bwm_buf_put_u64le(&b, 0);
    bwm_buf_put_u32le(&b, n);
    for (i = 0; i < n; i++) {
        bwm_buf_put_u32le(&b, (uint32_t)idx[i]);
        bwm_buf_put_u64le(&b, cnt[i]);
    }
    bwm_buf_put_u32le(&b, nneg);
    memcpy(out, b.b_data, b.b_len);
    len = b.b_len;
    bwm_buf_free(&b);
    return len;
}

Test(agg_percentile, decode_checks_buckets)
{
    uint8_t buf[256];
    int32_t idx[3] = {-5, 0, 7};
    uint64_t cnt[3] = {1, 2, 3};

    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 0)), BWM_OK);
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 0, 0)), BWM_OK, "empty");
    cr_assert_eq(decode_bytes(buf, build(buf, 1, 0, idx, cnt, 0, 0)), BWM_ERR_DECODE,
                 "collapsed but empty");
    cr_assert_eq(decode_bytes(buf, build(buf, 2, 1, idx, cnt, 0, 0)), BWM_ERR_DECODE, "flag 2");
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 5000)), BWM_ERR_DECODE,
                 "5000 negative buckets");
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 1)), BWM_ERR_DECODE,
                 "a bucket missing");
    cnt[1] = 0;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 0)), BWM_ERR_DECODE, "count 0");
    cnt[1] = 2;
    idx[1] = -5;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 0)), BWM_ERR_DECODE,
                 "indexes repeat");
    idx[1] = 0;
    idx[2] = 2043;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 0)), BWM_ERR_DECODE,
                 "2049 indexes apart");
    idx[2] = 2042;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 3, 0)), BWM_OK, "2048 apart");
    idx[0] = -50000;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 0, idx, cnt, 1, 0)), BWM_ERR_DECODE,
                 "no double has that index");
    idx[0] = -5;
    cnt[0] = UINT64_MAX;
    cr_assert_eq(decode_bytes(buf, build(buf, 0, 5, idx, cnt, 1, 0)), BWM_ERR_DECODE,
                 "the total count overflows");
}
