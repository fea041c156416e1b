/*
 * test_agg_props.c: the laws every aggregate obeys, checked on random data
 * for every aggregate and argument type (seeded; BWM_TEST_SEED replays a run):
 *  - adding a sequence equals merging the states of a random split of it
 *    (random part sizes, empty parts included), merged in a random order and
 *    in the opposite association;
 *  - merge is commutative;
 *  - decode(encode(s)) encodes to the same bytes, gives the same result and
 *    behaves the same afterwards;
 *  - every truncated encoding, and a foreign version or argument type, fails
 *    with BWM_ERR_DECODE and leaves the state as it was; corrupted bytes
 *    either fail or decode to a state that works (ASan checks the rest).
 * Exact aggregates must agree bit for bit, encodings included (HyperLogLog
 * registers, sketch buckets); floating-point ones within a relative 1e-9.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/agg.h"

#define MAXN   6000
#define ROUNDS 25
#define PARTS  5

typedef struct kase {
    const char *k_name;
    bwm_type_t k_type; /* BWM_T_NULL: COUNT(*) */
    int k_exact;       /* results and encodings agree bit for bit */
    int k_moderate;    /* values that cannot overflow or cancel (sums, moments) */
    int k_big;         /* sometimes thousands of values (HyperLogLog's dense form) */
    const bwm_agg_ops_t *k_ops;
    bwm_agg_params_t k_params;
} kase_t;

typedef struct rec {
    bwm_value_t r_v;
    int64_t r_time;
    int64_t r_offset;
} rec_t;

typedef union state {
    uint64_t s_words[8];
} state_t;

static rec_t recs[MAXN];
static char strs[MAXN][16];
static int part_of[MAXN];

static uint64_t test_seed(void)
{
    const char *s = getenv("BWM_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : 20261126;

    fprintf(stderr, "agg property tests: BWM_TEST_SEED=%llu\n", (unsigned long long)seed);
    return seed;
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static double unit(uint64_t *x)
{
    return (double)(next(x) >> 11) / 9007199254740992.0;
}

static double from_bits(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof(d));
    return d;
}

static void gen_value(uint64_t *x, const kase_t *k, int wild, int i)
{
    bwm_value_t *v = &recs[i].r_v;
    uint64_t r = next(x);

    memset(v, 0, sizeof(*v));
    v->v_type = k->k_type;
    switch (k->k_type) {
        case BWM_T_BOOL:
            v->u.v_bool = (int)(r & 1);
            break;
        case BWM_T_LONG:
            if (!wild) {
                v->u.v_long = (int64_t)(r % 2000001) - 1000000;
            } else if (r % 10 < 4) {
                v->u.v_long = (int64_t)(next(x) % 11) - 5;
            } else if (r % 10 < 8) {
                v->u.v_long = (int64_t)next(x);
            } else {
                static const int64_t edge[] = {INT64_MIN, INT64_MAX, 0, -1};

                v->u.v_long = edge[next(x) % 4];
            }
            break;
        case BWM_T_DOUBLE:
            if (!wild) {
                v->u.v_double = 100 + 800 * unit(x);
                if (r % 7 == 0) {
                    /* a BIGINT value reaching a DOUBLE argument is promoted */
                    v->v_type = BWM_T_LONG;
                    v->u.v_long = 100 + (int64_t)(next(x) % 800);
                }
            } else if (r % 20 < 6) {
                v->u.v_double = 2000 * unit(x) - 1000;
            } else if (r % 20 < 10) {
                v->u.v_double = (r & 1 ? -1 : 1) * exp(1400 * unit(x) - 700);
            } else if (r % 20 < 13) {
                static const double few[] = {0.0, -0.0, 1.0, -1.0, 2.5};

                v->u.v_double = few[next(x) % 5];
            } else if (r % 20 < 15) {
                static const uint64_t special[] = {
                    UINT64_C(0x7ff8000000000000), /* NaN */
                    UINT64_C(0xfff8000000000000), /* -NaN */
                    UINT64_C(0x7ff0000000000123), /* signalling NaN payload */
                    UINT64_C(0x7ff0000000000000), /* inf */
                    UINT64_C(0xfff0000000000000), /* -inf */
                    UINT64_C(0x7fefffffffffffff), /* DBL_MAX */
                    UINT64_C(0xffefffffffffffff), /* -DBL_MAX */
                    UINT64_C(0x0010000000000000), /* DBL_MIN */
                    UINT64_C(0x0000000000000001), /* smallest subnormal */
                };

                v->u.v_double = from_bits(special[next(x) % 9]);
            } else {
                v->v_type = BWM_T_LONG;
                v->u.v_long = (int64_t)(next(x) % 201) - 100;
            }
            break;
        case BWM_T_STRING: {
            /* short strings over a small alphabet with a NUL and UTF-8 bytes: many repeats */
            static const char alpha[] = {'a', 'b', 'Z', '\0', (char)0xc3, (char)0xa9};
            size_t n = next(x) % (wild ? 12 : 4), j;

            for (j = 0; j < n; j++) {
                strs[i][j] = alpha[next(x) % sizeof(alpha)];
            }
            v->u.v_str.p = strs[i];
            v->u.v_str.n = n;
            break;
        }
        default:
            break;
    }
    recs[i].r_time = (int64_t)(next(x) % 16);
    recs[i].r_offset = 1000 + i;
}

static void st_init(const kase_t *k, state_t *st)
{
    memset(st, 0xa5, sizeof(*st)); /* init must not rely on zeroed memory */
    k->k_ops->ao_init(st, k->k_type, &k->k_params);
}

static void st_free(const kase_t *k, state_t *st)
{
    if (k->k_ops->ao_destroy) {
        k->k_ops->ao_destroy(st);
    }
}

static void st_add(const kase_t *k, state_t *st, const rec_t *r)
{
    bwm_agg_input_t in = {k->k_type == BWM_T_NULL ? NULL : &r->r_v, r->r_time, r->r_offset};

    if (k->k_ops->ao_check) {
        cr_assert_eq(k->k_ops->ao_check(st, &in), BWM_OK, "%s", k->k_name);
    }
    cr_assert_eq(k->k_ops->ao_add(st, &in), BWM_OK, "%s", k->k_name);
}

static void st_merge(const kase_t *k, state_t *dst, const state_t *src)
{
    cr_assert_eq(k->k_ops->ao_merge(dst, src), BWM_OK, "%s merge", k->k_name);
}

/* dst := a copy of src, through a merge into an empty state. */
static void st_copy(const kase_t *k, state_t *dst, const state_t *src)
{
    st_init(k, dst);
    st_merge(k, dst, src);
}

static void st_encode(const kase_t *k, const state_t *st, bwm_buf_t *b)
{
    bwm_buf_reset(b);
    k->k_ops->ao_encode(st, b);
    cr_assert(!b->b_failed);
    cr_assert(b->b_len >= 1);
    cr_assert_eq(b->b_data[0], 1, "%s encodings start with format version 1", k->k_name);
}

static int close_enough(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    if (a == b) {
        return 1;
    }
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static void assert_same(const kase_t *k, const state_t *a, const state_t *b, const char *what,
                        int round)
{
    bwm_value_t ra, rb;

    k->k_ops->ao_result(a, &ra);
    k->k_ops->ao_result(b, &rb);
    cr_assert_eq(ra.v_type, rb.v_type, "%s(%s) %s, round %d: result types differ", k->k_name,
                 bwm_type_name(k->k_type), what, round);
    switch (ra.v_type) {
        case BWM_T_BOOL:
            cr_assert_eq(ra.u.v_bool, rb.u.v_bool, "%s %s round %d", k->k_name, what, round);
            break;
        case BWM_T_LONG:
            cr_assert_eq(ra.u.v_long, rb.u.v_long, "%s %s round %d: %lld != %lld", k->k_name, what,
                         round, (long long)ra.u.v_long, (long long)rb.u.v_long);
            break;
        case BWM_T_DOUBLE:
            if (k->k_exact) {
                cr_assert(memcmp(&ra.u.v_double, &rb.u.v_double, sizeof(double)) == 0,
                          "%s(%s) %s round %d: %.17g != %.17g", k->k_name, bwm_type_name(k->k_type),
                          what, round, ra.u.v_double, rb.u.v_double);
            } else {
                cr_assert(close_enough(ra.u.v_double, rb.u.v_double),
                          "%s(%s) %s round %d: %.17g vs %.17g", k->k_name, bwm_type_name(k->k_type),
                          what, round, ra.u.v_double, rb.u.v_double);
            }
            break;
        case BWM_T_STRING:
            cr_assert_eq(ra.u.v_str.n, rb.u.v_str.n, "%s %s round %d", k->k_name, what, round);
            cr_assert(ra.u.v_str.n == 0 || memcmp(ra.u.v_str.p, rb.u.v_str.p, ra.u.v_str.n) == 0,
                      "%s %s round %d", k->k_name, what, round);
            break;
        default:
            break;
    }
    if (k->k_exact) {
        bwm_buf_t ea, eb;

        bwm_buf_init(&ea);
        bwm_buf_init(&eb);
        st_encode(k, a, &ea);
        st_encode(k, b, &eb);
        cr_assert(ea.b_len == eb.b_len && memcmp(ea.b_data, eb.b_data, ea.b_len) == 0,
                  "%s(%s) %s round %d: states differ (encodings of %zu and %zu bytes)", k->k_name,
                  bwm_type_name(k->k_type), what, round, ea.b_len, eb.b_len);
        bwm_buf_free(&ea);
        bwm_buf_free(&eb);
    }
}

/* decode(encode(s)) is s; bad bytes fail cleanly and leave the target state as it was. */
static void check_encoding(const kase_t *k, const state_t *s, const state_t *other, uint64_t *x,
                           int round)
{
    bwm_buf_t enc, enc2, before, bad;
    bwm_cursor_t c;
    state_t back, victim;
    size_t len, step, i;
    bwm_err_t err;

    bwm_buf_init(&enc);
    bwm_buf_init(&enc2);
    bwm_buf_init(&before);
    bwm_buf_init(&bad);
    st_encode(k, s, &enc);

    st_init(k, &back);
    bwm_cursor_init(&c, enc.b_data, enc.b_len);
    cr_assert_eq(k->k_ops->ao_decode(&back, &c), BWM_OK, "%s round %d", k->k_name, round);
    cr_assert_eq(bwm_cursor_left(&c), 0, "%s reads its whole encoding", k->k_name);
    st_encode(k, &back, &enc2);
    cr_assert(enc.b_len == enc2.b_len && memcmp(enc.b_data, enc2.b_data, enc.b_len) == 0,
              "%s(%s) round %d: decode(encode(s)) encodes differently", k->k_name,
              bwm_type_name(k->k_type), round);
    {
        kase_t exact = *k;

        exact.k_exact = 1;
        assert_same(&exact, s, &back, "after a round trip", round);
    }
    /* same further behaviour: merge the other state into both */
    {
        state_t s2;

        st_copy(k, &s2, s);
        st_merge(k, &s2, other);
        st_merge(k, &back, other);
        assert_same(k, &s2, &back, "merged after a round trip", round);
        st_free(k, &s2);
    }

    /* truncations fail and leave the victim (holding other) unchanged */
    st_copy(k, &victim, other);
    st_encode(k, &victim, &before);
    len = enc.b_len;
    step = len <= 256 ? 1 : len / 97 + 1;
    for (i = 0; i < len; i += (i < 16 ? 1 : step)) {
        bwm_cursor_init(&c, enc.b_data, i);
        cr_assert_eq(k->k_ops->ao_decode(&victim, &c), BWM_ERR_DECODE,
                     "%s(%s) round %d: %zu of %zu bytes decoded", k->k_name,
                     bwm_type_name(k->k_type), round, i, len);
    }
    /* a foreign version, and (after the version) a foreign argument type */
    bwm_buf_reset(&bad);
    bwm_buf_put(&bad, enc.b_data, enc.b_len);
    bad.b_data[0] = 2;
    bwm_cursor_init(&c, bad.b_data, bad.b_len);
    cr_assert_eq(k->k_ops->ao_decode(&victim, &c), BWM_ERR_DECODE, "%s version 2", k->k_name);
    if (k->k_ops->ao_id != 1 && len > 1) { /* COUNT's encoding has no argument type */
        bad.b_data[0] = 1;
        bad.b_data[1] = (uint8_t)(k->k_type == BWM_T_DOUBLE ? BWM_T_LONG : BWM_T_DOUBLE);
        bwm_cursor_init(&c, bad.b_data, bad.b_len);
        cr_assert_eq(k->k_ops->ao_decode(&victim, &c), BWM_ERR_DECODE,
                     "%s(%s) decodes another argument type", k->k_name, bwm_type_name(k->k_type));
    }
    st_encode(k, &victim, &enc2);
    cr_assert(before.b_len == enc2.b_len && memcmp(before.b_data, enc2.b_data, enc2.b_len) == 0,
              "%s round %d: a failed decode changed the state", k->k_name, round);

    /* corrupted bytes: either BWM_ERR_DECODE or a state that works */
    for (i = 0; i < 20; i++) {
        int flips = 1 + (int)(next(x) % 3), f;
        state_t t;
        bwm_value_t r;

        bwm_buf_reset(&bad);
        bwm_buf_put(&bad, enc.b_data, enc.b_len);
        for (f = 0; f < flips; f++) {
            /* most flips in the header, where the checks are */
            size_t at = next(x) % 2 ? next(x) % (len < 48 ? len : 48) : next(x) % len;

            bad.b_data[at] ^= (uint8_t)(1u << (next(x) % 8));
        }
        st_init(k, &t);
        bwm_cursor_init(&c, bad.b_data, bad.b_len);
        err = k->k_ops->ao_decode(&t, &c);
        cr_assert(err == BWM_OK || err == BWM_ERR_DECODE, "%s: corrupted bytes gave %d", k->k_name,
                  err);
        k->k_ops->ao_result(&t, &r);
        if (err == BWM_OK) {
            state_t u;

            st_copy(k, &u, other);
            (void)k->k_ops->ao_merge(&u, &t); /* may overflow on a corrupted count */
            k->k_ops->ao_result(&u, &r);
            st_encode(k, &u, &enc2);
            st_free(k, &u);
        }
        st_free(k, &t);
    }

    st_free(k, &victim);
    st_free(k, &back);
    bwm_buf_free(&enc);
    bwm_buf_free(&enc2);
    bwm_buf_free(&before);
    bwm_buf_free(&bad);
}

static void run_case(kase_t *k, uint64_t *x)
{
    int round;

    k->k_ops = bwm_agg_find(k->k_name);
    cr_assert_not_null(k->k_ops, "%s", k->k_name);
    cr_assert(k->k_ops->ao_state_size <= sizeof(state_t));
    for (round = 0; round < ROUNDS; round++) {
        int wild = !k->k_moderate && next(x) % 2;
        int n = k->k_big && round % 5 == 4 ? (int)(next(x) % MAXN) : (int)(next(x) % 300);
        int nparts = 1 + (int)(next(x) % PARTS), order[PARTS], i, j;
        state_t all, parts[PARTS], fold, tree, ab, ba;

        if (round < 2) {
            n = round; /* empty and single-value inputs */
        }
        for (i = 0; i < n; i++) {
            gen_value(x, k, wild, i);
        }
        st_init(k, &all);
        for (i = 0; i < nparts; i++) {
            st_init(k, &parts[i]);
            order[i] = i;
        }
        /* parts of random sizes: skewed weights, and some parts left empty */
        {
            uint64_t weight[PARTS], total = 0;

            for (i = 0; i < nparts; i++) {
                weight[i] = next(x) % 4 == 0 ? 0 : next(x) % 100 + 1;
                total += weight[i];
            }
            for (i = 0; i < n; i++) {
                uint64_t w = total ? next(x) % total : 0;

                for (j = 0; j < nparts - 1 && w >= weight[j]; j++) {
                    w -= weight[j];
                }
                part_of[i] = j;
            }
        }
        for (i = 0; i < n; i++) {
            st_add(k, &all, &recs[i]);
            st_add(k, &parts[part_of[i]], &recs[i]);
        }
        /* ((p0 + p1) + p2) + ... in a random order */
        for (i = nparts - 1; i > 0; i--) {
            int r = (int)(next(x) % (uint64_t)(i + 1)), t = order[i];

            order[i] = order[r];
            order[r] = t;
        }
        st_init(k, &fold);
        for (i = 0; i < nparts; i++) {
            st_merge(k, &fold, &parts[order[i]]);
        }
        assert_same(k, &all, &fold, "sequential vs merged split", round);
        /* p0 + (p1 + (p2 + ...)) */
        st_copy(k, &tree, &parts[nparts - 1]);
        for (i = nparts - 2; i >= 0; i--) {
            state_t t;

            st_copy(k, &t, &parts[i]);
            st_merge(k, &t, &tree);
            st_free(k, &tree);
            tree = t;
        }
        assert_same(k, &all, &tree, "sequential vs right-associated merge", round);
        /* commutativity */
        st_copy(k, &ab, &parts[0]);
        st_merge(k, &ab, &parts[nparts - 1]);
        st_copy(k, &ba, &parts[nparts - 1]);
        st_merge(k, &ba, &parts[0]);
        assert_same(k, &ab, &ba, "a+b vs b+a", round);

        check_encoding(k, &fold, &parts[0], x, round);
        check_encoding(k, &parts[nparts - 1], &all, x, round);

        st_free(k, &all);
        st_free(k, &fold);
        st_free(k, &tree);
        st_free(k, &ab);
        st_free(k, &ba);
        for (i = 0; i < nparts; i++) {
            st_free(k, &parts[i]);
        }
    }
}

static void run_cases(kase_t *cases, size_t n)
{
    uint64_t x = test_seed() * 2 + 1;
    size_t i;

    for (i = 0; i < n; i++) {
        run_case(&cases[i], &x);
    }
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

Test(agg_props, count_and_sum)
{
    kase_t cases[] = {
        {"COUNT", BWM_T_NULL, 1},
        {"COUNT", BWM_T_STRING, 1},
        {"SUM", BWM_T_LONG, 1, 1},
        {"SUM", BWM_T_DOUBLE, 0, 1},
    };

    RUN(cases);
}

Test(agg_props, min_max)
{
    kase_t cases[] = {
        {"MIN", BWM_T_LONG, 1},   {"MIN", BWM_T_DOUBLE, 1}, {"MIN", BWM_T_STRING, 1},
        {"MIN", BWM_T_BOOL, 1},   {"MAX", BWM_T_LONG, 1},   {"MAX", BWM_T_DOUBLE, 1},
        {"MAX", BWM_T_STRING, 1}, {"MAX", BWM_T_BOOL, 1},
    };

    RUN(cases);
}

Test(agg_props, avg_and_variance)
{
    kase_t cases[] = {
        {"AVG", BWM_T_LONG, 1},           {"AVG", BWM_T_DOUBLE, 0, 1},
        {"VAR_SAMP", BWM_T_LONG, 0, 1},   {"VAR_SAMP", BWM_T_DOUBLE, 0, 1},
        {"VAR_POP", BWM_T_DOUBLE, 0, 1},  {"STDDEV_SAMP", BWM_T_DOUBLE, 0, 1},
        {"STDDEV_POP", BWM_T_LONG, 0, 1},
    };

    RUN(cases);
}

Test(agg_props, first_last)
{
    kase_t cases[] = {
        {"FIRST", BWM_T_LONG, 1},  {"FIRST", BWM_T_DOUBLE, 1}, {"FIRST", BWM_T_STRING, 1},
        {"FIRST", BWM_T_BOOL, 1},  {"LAST", BWM_T_LONG, 1},    {"LAST", BWM_T_DOUBLE, 1},
        {"LAST", BWM_T_STRING, 1}, {"LAST", BWM_T_BOOL, 1},
    };

    RUN(cases);
}

Test(agg_props, count_distinct)
{
    kase_t cases[] = {
        {"COUNT_DISTINCT", BWM_T_LONG, 1, 0, 1},
        {"COUNT_DISTINCT", BWM_T_DOUBLE, 1, 0, 1},
        {"COUNT_DISTINCT", BWM_T_STRING, 1},
        {"COUNT_DISTINCT", BWM_T_BOOL, 1},
    };

    RUN(cases);
}

Test(agg_props, percentile)
{
    kase_t cases[] = {
        {"PERCENTILE", BWM_T_DOUBLE, 1, 0, 1, NULL, {0.9}},
        {"PERCENTILE", BWM_T_LONG, 1, 0, 0, NULL, {0.5}},
        {"PERCENTILE", BWM_T_DOUBLE, 1, 0, 0, NULL, {0.0}},
    };

    RUN(cases);
}
