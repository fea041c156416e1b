/*
 * agg_sketch.c: PERCENTILE(x, q), the q-quantile of a numeric argument as a
 * DOUBLE (null when empty), estimated with a DDSketch-style sketch (Masson,
 * Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019).
 *
 * Buckets. A value x > 0 falls in bucket i = ceil(ln(x) / L), which holds
 * (e^((i-1)L), e^(iL)], with L = ln((1 + alpha) / (1 - alpha)) and relative
 * accuracy alpha = 0.01. A bucket stands for the value e^(iL) * 2/(1 + e^L),
 * which lies within alpha, relatively, of everything in the bucket. Negative
 * values go to a second set of buckets by |x|; zeros (+0.0 and -0.0), -inf,
 * +inf and NaN are counted apart. Values are ordered -inf < negatives < 0 <
 * positives < +inf < NaN (NaN greatest, as in PostgreSQL).
 *
 * Guarantee. With n values, the returned value v answers the exact lower
 * q-quantile x_q = the element of rank floor(q * (n - 1)) (0-based) of the
 * sorted values, with |v - x_q| <= alpha * |x_q|, as long as no collapse
 * happened and x_q is zero, infinite, NaN or of magnitude at least DBL_MIN
 * (subnormals lose precision). x_q = 0, +-inf and NaN are returned exactly.
 *
 * Bounded memory. Each sign keeps at most SK_BUCKETS = 2048 consecutive
 * bucket indexes, a span of 17 decimal orders of magnitude: when a larger
 * value arrives, the buckets of the smallest magnitudes are folded into the
 * lowest kept one ("collapse lowest"). Quantiles landing there lose the
 * guarantee; the state remembers that a collapse happened. The fold depends
 * only on the largest index seen, so the sketch is still a function of the
 * multiset of values.
 *
 * Merge. Bucket counts add up, then the same fold applies: merging the
 * sketches of any split of the values gives bucket for bucket the sketch of
 * all of them, in any order.
 *
 * Memory. 24 bytes inline. The first value allocates a 112-byte header; then
 * 12 bytes per non-empty bucket (an i32 index and a u64 count in two sorted
 * arrays, capacity 4, 8, ..., 2048 per sign), so a few values take about
 * 160 bytes and the worst case is 112 + 2 * 2048 * 12 bytes, about 48 KiB.
 *
 * Encoding: version 1, argument type (u8), collapsed (u8 0/1), counts of
 * zeros, -inf, +inf and NaN (u64 each), then the positive and the negative
 * buckets: count (u32, at most 2048), then per bucket its index (i32 as
 * u32) and count (u64, at least 1), indexes strictly increasing and within
 * 2048 of each other. The quantile q is a parameter, not part of the state.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_impl.h"

#define SK_FORMAT  1
#define SK_L       0.020000666706669435  /* ln((1 + alpha) / (1 - alpha)), alpha = 0.01 */
#define SK_REP     -0.010050335853501338 /* ln(2 / (1 + e^L)): a bucket's value is e^(iL + REP) */
#define SK_BUCKETS 2048                  /* bucket indexes kept per sign */
#define SK_INDEX   40000                 /* |index| of a finite double is at most 37221 */

typedef struct sk_store {
    int32_t *st_idx;  /* ascending */
    uint64_t *st_cnt; /* each at least 1 */
    uint32_t st_n;
    uint32_t st_icap; /* entries st_idx and st_cnt hold, at least sk_cap(st_n) */
    uint32_t st_ccap;
} sk_store_t;

typedef struct sketch {
    uint64_t sk_count; /* all values */
    uint64_t sk_zero, sk_ninf, sk_pinf, sk_nan;
    sk_store_t sk_pos, sk_neg; /* by |x| */
    uint8_t sk_collapsed;
} sketch_t;

static const sketch_t empty_sketch;

typedef struct pct_state {
    uint8_t ps_type; /* BWM_T_LONG or BWM_T_DOUBLE */
    double ps_q;
    sketch_t *ps_sk; /* NULL while empty */
} pct_state_t;

static uint32_t sk_cap(uint32_t n)
{
    uint32_t c = 4;

    while (c < n) {
        c *= 2;
    }
    return c;
}

static void store_free(sk_store_t *st)
{
    free(st->st_idx);
    free(st->st_cnt);
    memset(st, 0, sizeof(*st));
}

static void sketch_free(sketch_t *sk)
{
    if (sk) {
        store_free(&sk->sk_pos);
        store_free(&sk->sk_neg);
        free(sk);
    }
}

/* Resizes the arrays to cap entries (either may be left as it was when memory runs out). */
static bwm_err_t store_resize(sk_store_t *st, uint32_t cap)
{
    int32_t *idx;
    uint64_t *cnt;

    if (cap != st->st_icap) {
        idx = realloc(st->st_idx, cap * sizeof(*idx));
        if (!idx) {
            return BWM_ERR_NOMEM;
        }
        st->st_idx = idx;
        st->st_icap = cap;
    }
    if (cap != st->st_ccap) {
        cnt = realloc(st->st_cnt, cap * sizeof(*cnt));
        if (!cnt) {
            return BWM_ERR_NOMEM;
        }
        st->st_cnt = cnt;
        st->st_ccap = cap;
    }
    return BWM_OK;
}

/* Makes the arrays hold at least sk_cap(need) entries; they never shrink here. */
static bwm_err_t store_reserve(sk_store_t *st, uint32_t need)
{
    uint32_t cap = sk_cap(need);

    if (cap <= st->st_icap && cap <= st->st_ccap) {
        return BWM_OK;
    }
    return store_resize(st, cap);
}

/* Position of the first bucket whose index is not below idx. */
static uint32_t store_find(const sk_store_t *st, int32_t idx)
{
    uint32_t lo = 0, hi = st->st_n;

    if (hi == 0 || idx <= st->st_idx[0]) {
        return 0;
    }
    /* indexes strictly increase, so idx sits at most idx - first places in; where the
       buckets are contiguous it sits exactly there */
    if ((int64_t)idx - st->st_idx[0] < (int64_t)hi) {
        hi = (uint32_t)(idx - st->st_idx[0]);
        if (st->st_idx[hi] == idx) {
            return hi;
        }
    }

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (st->st_idx[mid] < idx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * Folds the k lowest buckets (all below bound) into bucket bound, which must
 * exist at position k unless make is set (then bucket k - 1 becomes it).
 */
static void store_fold(sk_store_t *st, uint32_t k, int32_t bound, int make)
{
    uint64_t sum = 0;
    uint32_t i, drop;

    for (i = 0; i < k; i++) {
        sum += st->st_cnt[i];
    }
    if (make) {
        st->st_idx[k - 1] = bound;
        st->st_cnt[k - 1] = sum;
        drop = k - 1;
    } else {
        st->st_cnt[k] += sum;
        drop = k;
    }
    memmove(st->st_idx, st->st_idx + drop, (st->st_n - drop) * sizeof(*st->st_idx));
    memmove(st->st_cnt, st->st_cnt + drop, (st->st_n - drop) * sizeof(*st->st_cnt));
    st->st_n -= drop;
}

/* Adds c values to bucket idx. Fails only for lack of memory, leaving st unchanged. */
static bwm_err_t store_add(sk_store_t *st, int32_t idx, uint64_t c, uint8_t *collapsed)
{
    uint32_t n = st->st_n, pos;

    if (n > 0 && idx > st->st_idx[n - 1]) {
        /* a new largest bucket: the buckets below its window fold into the window's lowest */
        int32_t bound = idx - (SK_BUCKETS - 1);
        uint32_t k = store_find(st, bound);
        int make = k > 0 && (k == n || st->st_idx[k] != bound);

        if (store_reserve(st, n - k + (uint32_t)make + 1) != BWM_OK) {
            return BWM_ERR_NOMEM;
        }
        if (k > 0) {
            store_fold(st, k, bound, make);
            *collapsed = 1;
        }
        st->st_idx[st->st_n] = idx;
        st->st_cnt[st->st_n] = c;
        st->st_n++;
        return BWM_OK;
    }
    if (n > 0 && idx < st->st_idx[n - 1] - (SK_BUCKETS - 1)) {
        idx = st->st_idx[n - 1] - (SK_BUCKETS - 1);
        *collapsed = 1;
    }
    pos = store_find(st, idx);
    if (pos < n && st->st_idx[pos] == idx) {
        st->st_cnt[pos] += c;
        return BWM_OK;
    }
    if (store_reserve(st, n + 1) != BWM_OK) {
        return BWM_ERR_NOMEM;
    }
    memmove(st->st_idx + pos + 1, st->st_idx + pos, (n - pos) * sizeof(*st->st_idx));
    memmove(st->st_cnt + pos + 1, st->st_cnt + pos, (n - pos) * sizeof(*st->st_cnt));
    st->st_idx[pos] = idx;
    st->st_cnt[pos] = c;
    st->st_n++;
    return BWM_OK;
}

/* The union of two stores into out (empty), folded to the window of the largest bucket. */
static bwm_err_t store_union(const sk_store_t *a, const sk_store_t *b, sk_store_t *out,
                             uint8_t *collapsed)
{
    uint32_t i = 0, j = 0, n = 0, k;

    memset(out, 0, sizeof(*out));
    if (a->st_n + b->st_n == 0) {
        return BWM_OK;
    }
    if (store_reserve(out, a->st_n + b->st_n) != BWM_OK) {
        store_free(out);
        return BWM_ERR_NOMEM;
    }
    while (i < a->st_n || j < b->st_n) {
        if (j == b->st_n || (i < a->st_n && a->st_idx[i] < b->st_idx[j])) {
            out->st_idx[n] = a->st_idx[i];
            out->st_cnt[n] = a->st_cnt[i++];
        } else if (i == a->st_n || b->st_idx[j] < a->st_idx[i]) {
            out->st_idx[n] = b->st_idx[j];
            out->st_cnt[n] = b->st_cnt[j++];
        } else {
            out->st_idx[n] = a->st_idx[i];
            out->st_cnt[n] = a->st_cnt[i++] + b->st_cnt[j++];
        }
        n++;
    }
    out->st_n = n;
    {
        int32_t bound = out->st_idx[n - 1] - (SK_BUCKETS - 1);

        k = store_find(out, bound);
        if (k > 0) {
            store_fold(out, k, bound, out->st_idx[k] != bound);
            *collapsed = 1;
        }
    }
    /* give back what the union did not need; keeping the larger block is fine too */
    (void)store_resize(out, sk_cap(out->st_n));
    return BWM_OK;
}

static bwm_type_t pct_result_type(bwm_type_t arg)
{
    return bwm_type_is_numeric(arg) ? BWM_T_DOUBLE : BWM_T_NULL;
}

static void pct_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    pct_state_t *s = st;
    double q = params ? params->ap_q : 0.5;

    memset(s, 0, sizeof(*s));
    s->ps_type = (uint8_t)arg;
    s->ps_q = isnan(q) ? 0.5 : q < 0 ? 0 : q > 1 ? 1 : q;
}

static void pct_destroy(void *st)
{
    pct_state_t *s = st;

    sketch_free(s->ps_sk);
    s->ps_sk = NULL;
}

static size_t pct_heap(const void *st)
{
    const sketch_t *sk = ((const pct_state_t *)st)->ps_sk;

    if (!sk) {
        return 0;
    }
    return sizeof(*sk) + ((size_t)sk->sk_pos.st_icap + sk->sk_neg.st_icap) * sizeof(int32_t) +
           ((size_t)sk->sk_pos.st_ccap + sk->sk_neg.st_ccap) * sizeof(uint64_t);
}

static bwm_err_t pct_add(void *st, const bwm_agg_input_t *in)
{
    pct_state_t *s = st;
    double x = bwm_agg_num(in->ai_value);
    sketch_t *sk = s->ps_sk;

    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk) {
            return BWM_ERR_NOMEM;
        }
        s->ps_sk = sk;
    }
    if (isnan(x)) {
        sk->sk_nan++;
    } else if (x == 0) {
        sk->sk_zero++;
    } else if (isinf(x)) {
        if (x > 0) {
            sk->sk_pinf++;
        } else {
            sk->sk_ninf++;
        }
    } else {
        int32_t idx = (int32_t)ceil(log(fabs(x)) / SK_L);

        if (store_add(x > 0 ? &sk->sk_pos : &sk->sk_neg, idx, 1, &sk->sk_collapsed) != BWM_OK) {
            return BWM_ERR_NOMEM;
        }
    }
    sk->sk_count++;
    return BWM_OK;
}

static bwm_err_t pct_merge(void *dst, const void *src)
{
    pct_state_t *d = dst;
    const pct_state_t *s = src;
    const sketch_t *b = s->ps_sk;
    const sketch_t *a = d->ps_sk ? d->ps_sk : &empty_sketch;
    sketch_t *r;
    uint64_t total;

    if (!b || b->sk_count == 0) {
        return BWM_OK;
    }
    if (__builtin_add_overflow(a->sk_count, b->sk_count, &total)) {
        return BWM_ERR_OVERFLOW;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        return BWM_ERR_NOMEM;
    }
    r->sk_collapsed = a->sk_collapsed | b->sk_collapsed;
    if (store_union(&a->sk_pos, &b->sk_pos, &r->sk_pos, &r->sk_collapsed) != BWM_OK ||
        store_union(&a->sk_neg, &b->sk_neg, &r->sk_neg, &r->sk_collapsed) != BWM_OK) {
        sketch_free(r);
        return BWM_ERR_NOMEM;
    }
    r->sk_count = total;
    r->sk_zero = a->sk_zero + b->sk_zero;
    r->sk_ninf = a->sk_ninf + b->sk_ninf;
    r->sk_pinf = a->sk_pinf + b->sk_pinf;
    r->sk_nan = a->sk_nan + b->sk_nan;
    sketch_free(d->ps_sk);
    d->ps_sk = r;
    return BWM_OK;
}

/* The value bucket idx stands for, by magnitude. */
static double bucket_value(int32_t idx)
{
    double v = exp(idx * SK_L + SK_REP);

    return v > DBL_MAX ? DBL_MAX : v;
}

static void pct_result(const void *st, bwm_value_t *out)
{
    const pct_state_t *s = st;
    const sketch_t *sk = s->ps_sk;
    uint64_t rank, cum;
    uint32_t i;

    if (!sk || sk->sk_count == 0) {
        out->v_type = BWM_T_NULL;
        return;
    }
    out->v_type = BWM_T_DOUBLE;
    /* the value of 0-based rank floor(q * (n - 1)): the first whose cumulative count exceeds it */
    rank = (uint64_t)floor(s->ps_q * (double)(sk->sk_count - 1));
    if (rank >= sk->sk_count) {
        rank = sk->sk_count - 1;
    }
    cum = sk->sk_ninf;
    if (cum > rank) {
        out->u.v_double = -INFINITY;
        return;
    }
    for (i = sk->sk_neg.st_n; i-- > 0;) {
        cum += sk->sk_neg.st_cnt[i];
        if (cum > rank) {
            out->u.v_double = -bucket_value(sk->sk_neg.st_idx[i]);
            return;
        }
    }
    cum += sk->sk_zero;
    if (cum > rank) {
        out->u.v_double = 0;
        return;
    }
    for (i = 0; i < sk->sk_pos.st_n; i++) {
        cum += sk->sk_pos.st_cnt[i];
        if (cum > rank) {
            out->u.v_double = bucket_value(sk->sk_pos.st_idx[i]);
            return;
        }
    }
    cum += sk->sk_pinf;
    out->u.v_double = cum > rank ? INFINITY : NAN;
}

static void store_encode(const sk_store_t *st, bwm_buf_t *b)
{
    uint32_t i;

    bwm_buf_put_u32le(b, st->st_n);
    if (bwm_buf_reserve(b, (size_t)st->st_n * 12) != BWM_OK) {
        return;
    }
    for (i = 0; i < st->st_n; i++) {
        bwm_buf_put_u32le(b, (uint32_t)st->st_idx[i]);
        bwm_buf_put_u64le(b, st->st_cnt[i]);
    }
}

static void pct_encode(const void *st, bwm_buf_t *b)
{
    const pct_state_t *s = st;
    const sketch_t *sk = s->ps_sk ? s->ps_sk : &empty_sketch;

    bwm_buf_put_u8(b, SK_FORMAT);
    bwm_buf_put_u8(b, s->ps_type);
    bwm_buf_put_u8(b, sk->sk_collapsed);
    bwm_buf_put_u64le(b, sk->sk_zero);
    bwm_buf_put_u64le(b, sk->sk_ninf);
    bwm_buf_put_u64le(b, sk->sk_pinf);
    bwm_buf_put_u64le(b, sk->sk_nan);
    store_encode(&sk->sk_pos, b);
    store_encode(&sk->sk_neg, b);
}

/* Adds c to *total; -1 on overflow. */
static int add_count(uint64_t *total, uint64_t c)
{
    return __builtin_add_overflow(*total, c, total) ? -1 : 0;
}

static bwm_err_t store_decode(sk_store_t *st, bwm_cursor_t *c, uint64_t *total)
{
    uint32_t n = bwm_cursor_u32le(c), i;

    if (c->c_failed || n > SK_BUCKETS || bwm_cursor_left(c) < (size_t)n * 12) {
        return BWM_ERR_DECODE;
    }
    if (n == 0) {
        return BWM_OK;
    }
    if (store_reserve(st, n) != BWM_OK) {
        return BWM_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        int32_t idx = (int32_t)bwm_cursor_u32le(c);
        uint64_t cnt = bwm_cursor_u64le(c);

        if (idx < -SK_INDEX || idx > SK_INDEX || cnt == 0 || (i > 0 && idx <= st->st_idx[i - 1]) ||
            add_count(total, cnt) != 0) {
            return BWM_ERR_DECODE;
        }
        st->st_idx[i] = idx;
        st->st_cnt[i] = cnt;
        st->st_n = i + 1;
    }
    if (st->st_idx[n - 1] - st->st_idx[0] >= SK_BUCKETS) {
        return BWM_ERR_DECODE;
    }
    return BWM_OK;
}

static bwm_err_t pct_decode(void *st, bwm_cursor_t *c)
{
    pct_state_t *s = st;
    sketch_t *sk;
    uint64_t total = 0;
    bwm_err_t err;

    if (bwm_cursor_u8(c) != SK_FORMAT || bwm_cursor_u8(c) != s->ps_type) {
        return BWM_ERR_DECODE;
    }
    sk = calloc(1, sizeof(*sk));
    if (!sk) {
        return BWM_ERR_NOMEM;
    }
    sk->sk_collapsed = bwm_cursor_u8(c);
    sk->sk_zero = bwm_cursor_u64le(c);
    sk->sk_ninf = bwm_cursor_u64le(c);
    sk->sk_pinf = bwm_cursor_u64le(c);
    sk->sk_nan = bwm_cursor_u64le(c);
    if (c->c_failed || sk->sk_collapsed > 1 || add_count(&total, sk->sk_zero) ||
        add_count(&total, sk->sk_ninf) || add_count(&total, sk->sk_pinf) ||
        add_count(&total, sk->sk_nan)) {
        err = BWM_ERR_DECODE;
    } else if ((err = store_decode(&sk->sk_pos, c, &total)) == BWM_OK) {
        err = store_decode(&sk->sk_neg, c, &total);
    }
    if (err == BWM_OK && total == 0 && sk->sk_collapsed) {
        err = BWM_ERR_DECODE;
    }
    if (err) {
        sketch_free(sk);
        return err;
    }
    sk->sk_count = total;
    sketch_free(s->ps_sk);
    s->ps_sk = NULL;
    if (total == 0) {
        sketch_free(sk);
    } else {
        s->ps_sk = sk;
    }
    return BWM_OK;
}

const bwm_agg_ops_t bwm_agg_percentile = {
    .ao_name = "PERCENTILE",
    .ao_id = 13,
    .ao_state_size = sizeof(pct_state_t),
    .ao_param = 1,
    .ao_result_type = pct_result_type,
    .ao_result_nullable = 1,
    .ao_init = pct_init,
    .ao_add = pct_add,
    .ao_merge = pct_merge,
    .ao_result = pct_result,
    .ao_encode = pct_encode,
    .ao_decode = pct_decode,
    .ao_destroy = pct_destroy,
    .ao_heap = pct_heap,
};
