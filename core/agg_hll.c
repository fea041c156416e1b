/*
 * agg_hll.c: COUNT_DISTINCT(x), the number of distinct values of any scalar
 * type, estimated with HyperLogLog. The result is a BIGINT, 0 when empty.
 *
 * Error. Precision p = 14, so m = 2^14 = 16384 registers. The relative
 * standard error of the estimate is 1.04 / sqrt(m) = 0.81%: about 68% of
 * estimates fall within 0.81% of the true count, 99.7% within 2.4%. While a
 * state is sparse (below) the count is exact up to collisions of 25-bit hash
 * prefixes, which linear counting corrects on average: off by less than one
 * in practice up to the 3072 distinct values of the sparse form.
 *
 * Hash. XXH64 of the value's bytes (BOOLEAN one byte 0/1, BIGINT and DOUBLE
 * eight bytes little-endian, STRING its bytes) with the fixed seed HLL_SEED
 * xor the type tag, so results are the same on every run and every host.
 * -0.0 hashes as 0.0 and every NaN as one NaN: values equal in SQL count once.
 *
 * Forms. A state is empty, sparse or dense, and which one is a function of
 * the set of hashes seen alone, so sequential adds and any tree of merges
 * give bit-identical states:
 *  - sparse: for each distinct 25-bit hash prefix (an index at precision 25),
 *    one u32 (index << 6 | rank of the remaining 39 bits), the largest rank
 *    kept, sorted; at most HLL_SPARSE_MAX = 3072 of them. Estimated by linear
 *    counting over 2^25 virtual registers.
 *  - dense: 16384 registers of 6 bits; register i holds the largest rank
 *    (1 + leading zeros of the 50 bits after the 14-bit index, at most 51).
 *    A sparse entry converts to exactly the register and rank its hash gives
 *    directly. Estimated with Ertl's improved raw estimator ("New cardinality
 *    estimation algorithms for HyperLogLog sketches", 2017), which needs no
 *    empirical bias tables, from a histogram of register values kept up to
 *    date as registers change.
 * Merge is register-wise maximum: union of sparse lists (dense when the union
 * passes 3072 entries), and sparse entries applied to dense registers.
 *
 * Memory. 16 bytes inline. Sparse: 4 bytes per entry on the heap, capacity
 * 4, 8, ..., 2048, 3072 (at most 12 KiB). Dense: 12289 bytes of packed
 * registers and a 208-byte histogram (about 12.5 KiB), never more.
 *
 * Encoding: version 1, argument type (u8), form (u8: 0 empty, 1 sparse,
 * 2 dense); sparse: count (u32, 1..3072) and the entries (u32 each,
 * strictly increasing index, rank 1..40); dense: the 12288 bytes of packed
 * registers, register i in bits 6i..6i+5 counted from the least significant
 * bit of byte 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_impl.h"
#include "hash.h"

#define HLL_FORMAT      1
#define HLL_SEED        UINT64_C(0x62776d2d686c6c31) /* "bwm-hll1" */
#define HLL_M           (1u << BWM_AGG_HLL_P)        /* dense registers */
#define HLL_Q           (64 - BWM_AGG_HLL_P)         /* hash bits after the register index */
#define HLL_BYTES       (HLL_M * 6 / 8)              /* packed dense registers */
#define HLL_SP          25                           /* sparse index precision */
#define HLL_SP_REST     (64 - HLL_SP)                /* hash bits after the sparse index */
#define HLL_SPARSE_MAX  3072u                        /* most sparse entries */
#define HLL_FORM_EMPTY  0
#define HLL_FORM_SPARSE 1
#define HLL_FORM_DENSE  2

typedef struct hll_dense {
    uint32_t hd_hist[HLL_Q + 2];    /* registers holding each value 0 .. Q+1 */
    uint8_t hd_regs[HLL_BYTES + 1]; /* + 1: a register is read as two bytes */
} hll_dense_t;

typedef struct hll_state {
    uint8_t hs_type;  /* bwm_type_t of the argument */
    uint8_t hs_form;  /* HLL_FORM_* */
    uint16_t hs_n;    /* sparse entries, at most HLL_SPARSE_MAX */
    uint32_t hs_last; /* the entry offered last, which the state holds; 0 for none */
    void *hs_p;       /* uint32_t[cap(hs_n)] when sparse, hll_dense_t when dense */
} hll_state_t;

/* The hash of one value of the state's type. */
static uint64_t hll_hash(const hll_state_t *s, const bwm_value_t *v)
{
    uint64_t seed = HLL_SEED ^ s->hs_type, bits = 0;
    uint8_t b[8];
    int i;

    switch (s->hs_type) {
        case BWM_T_STRING:
            return bwm_xxh64(v->u.v_str.p, v->u.v_str.n, seed);
        case BWM_T_BOOL:
            b[0] = v->u.v_bool != 0;
            return bwm_xxh64(b, 1, seed);
        case BWM_T_DOUBLE: {
            double d = bwm_agg_num(v);

            if (isnan(d)) {
                bits = UINT64_C(0x7ff8000000000000);
            } else if (d != 0) {
                memcpy(&bits, &d, sizeof(bits));
            }
            break;
        }
        default:
            bits = (uint64_t)v->u.v_long;
            break;
    }
    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)(bits >> (8 * i));
    }
    return bwm_xxh64(b, 8, seed);
}

/* The sparse entry of a hash: its 25-bit index and the rank of the 39 bits after it. */
static uint32_t hll_entry(uint64_t h)
{
    uint64_t rest = h << HLL_SP;
    uint32_t rank = rest ? (uint32_t)__builtin_clzll(rest) + 1 : HLL_SP_REST + 1;

    return (uint32_t)(h >> HLL_SP_REST) << 6 | rank;
}

/* The dense register and rank of a sparse entry: those of any hash it came from. */
static void hll_entry_reg(uint32_t e, uint32_t *reg, uint32_t *rank)
{
    uint32_t idx = e >> 6, mid = idx & ((1u << (HLL_SP - BWM_AGG_HLL_P)) - 1);

    *reg = idx >> (HLL_SP - BWM_AGG_HLL_P);
    if (mid) {
        /* leading zeros of the (25 - p)-bit field between the two indexes, + 1 */
        *rank = (uint32_t)__builtin_clz(mid) - (32 - (HLL_SP - BWM_AGG_HLL_P)) + 1;
    } else {
        *rank = (HLL_SP - BWM_AGG_HLL_P) + (e & 63);
    }
}

/* Sparse capacity for n entries, a function of n so that it need not be stored. */
static uint32_t hll_cap(uint32_t n)
{
    uint32_t c = 4;

    while (c < n) {
        c *= 2;
    }
    return c < HLL_SPARSE_MAX ? c : HLL_SPARSE_MAX;
}

static uint32_t reg_get(const uint8_t *r, uint32_t i)
{
    uint32_t bit = i * 6, k = bit >> 3;

    return (((uint32_t)r[k] | (uint32_t)r[k + 1] << 8) >> (bit & 7)) & 63;
}

static void reg_set(uint8_t *r, uint32_t i, uint32_t v)
{
    uint32_t bit = i * 6, k = bit >> 3, sh = bit & 7;
    uint32_t w = (uint32_t)r[k] | (uint32_t)r[k + 1] << 8;

    w = (w & ~(63u << sh)) | (v << sh);
    r[k] = (uint8_t)w;
    r[k + 1] = (uint8_t)(w >> 8);
}

static hll_dense_t *dense_new(void)
{
    hll_dense_t *d = calloc(1, sizeof(*d));

    if (d) {
        d->hd_hist[0] = HLL_M;
    }
    return d;
}

static void dense_offer(hll_dense_t *d, uint32_t reg, uint32_t rank)
{
    uint32_t old = reg_get(d->hd_regs, reg);

    if (rank > old) {
        reg_set(d->hd_regs, reg, rank);
        d->hd_hist[old]--;
        d->hd_hist[rank]++;
    }
}

static void dense_offer_entries(hll_dense_t *d, const uint32_t *e, uint32_t n)
{
    uint32_t i, reg, rank;

    for (i = 0; i < n; i++) {
        hll_entry_reg(e[i], &reg, &rank);
        dense_offer(d, reg, rank);
    }
}

static void hll_clear(hll_state_t *s)
{
    free(s->hs_p);
    s->hs_p = NULL;
    s->hs_n = 0;
    s->hs_last = 0;
    s->hs_form = HLL_FORM_EMPTY;
}

static bwm_type_t hll_result_type(bwm_type_t arg)
{
    switch (arg) {
        case BWM_T_BOOL:
        case BWM_T_LONG:
        case BWM_T_DOUBLE:
        case BWM_T_STRING:
            return BWM_T_LONG;
        default:
            return BWM_T_NULL;
    }
}

static void hll_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    hll_state_t *s = st;

    (void)params;
    memset(s, 0, sizeof(*s));
    s->hs_type = (uint8_t)arg;
}

static void hll_destroy(void *st)
{
    hll_clear(st);
}

static size_t hll_heap(const void *st)
{
    const hll_state_t *s = st;

    switch (s->hs_form) {
        case HLL_FORM_SPARSE:
            return (size_t)hll_cap(s->hs_n) * sizeof(uint32_t);
        case HLL_FORM_DENSE:
            return sizeof(hll_dense_t);
        default:
            return 0;
    }
}

/* Replaces a sparse or empty state by the dense state of its entries and e[0..n). */
static bwm_err_t hll_densify(hll_state_t *s, const uint32_t *e, uint32_t n)
{
    hll_dense_t *d = dense_new();

    if (!d) {
        return BWM_ERR_NOMEM;
    }
    if (s->hs_form == HLL_FORM_SPARSE) {
        dense_offer_entries(d, s->hs_p, s->hs_n);
    }
    dense_offer_entries(d, e, n);
    hll_clear(s);
    s->hs_p = d;
    s->hs_form = HLL_FORM_DENSE;
    return BWM_OK;
}

/* Position of the first sparse entry whose index is not below idx's. */
static uint32_t sparse_find(const uint32_t *a, uint32_t n, uint32_t idx)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if ((a[mid] >> 6) < idx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * Offers entry e (never 0: a rank is at least 1). The entry offered last is
 * kept: a state only ever gains, so it holds that entry until cleared, and
 * offering it again changes nothing. Records of a key often repeat the
 * last value (a vehicle's trip), and then the list is not searched.
 */
static bwm_err_t hll_offer(hll_state_t *s, uint32_t e)
{
    uint32_t *a = s->hs_p, pos;

    if (e == s->hs_last) {
        return BWM_OK;
    }
    if (s->hs_form == HLL_FORM_DENSE) {
        dense_offer_entries(s->hs_p, &e, 1);
        s->hs_last = e;
        return BWM_OK;
    }
    pos = sparse_find(a, s->hs_n, e >> 6);
    if (pos < s->hs_n && (a[pos] >> 6) == (e >> 6)) {
        if ((e & 63) > (a[pos] & 63)) {
            a[pos] = e;
        }
        s->hs_last = e;
        return BWM_OK;
    }
    if (s->hs_n == HLL_SPARSE_MAX) {
        bwm_err_t err = hll_densify(s, &e, 1);

        s->hs_last = err ? 0 : e;
        return err;
    }
    if (!a || s->hs_n == hll_cap(s->hs_n)) {
        a = realloc(a, hll_cap(s->hs_n + 1) * sizeof(*a));
        if (!a) {
            return BWM_ERR_NOMEM;
        }
        s->hs_p = a;
    }
    memmove(a + pos + 1, a + pos, (s->hs_n - pos) * sizeof(*a));
    a[pos] = e;
    s->hs_n++;
    s->hs_last = e;
    s->hs_form = HLL_FORM_SPARSE;
    return BWM_OK;
}

static bwm_err_t hll_add(void *st, const bwm_agg_input_t *in)
{
    hll_state_t *s = st;

    return hll_offer(s, hll_entry(hll_hash(s, in->ai_value)));
}

/* The union of two sorted sparse lists (largest rank per index), n entries; out may be NULL. */
static uint32_t sparse_union(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
                             uint32_t *out)
{
    uint32_t i = 0, j = 0, n = 0;

    while (i < na || j < nb) {
        uint32_t e;

        if (j == nb || (i < na && (a[i] >> 6) < (b[j] >> 6))) {
            e = a[i++];
        } else if (i == na || (b[j] >> 6) < (a[i] >> 6)) {
            e = b[j++];
        } else {
            e = a[i] > b[j] ? a[i] : b[j];
            i++;
            j++;
        }
        if (out) {
            out[n] = e;
        }
        n++;
    }
    return n;
}

static bwm_err_t hll_merge(void *dst, const void *src)
{
    hll_state_t *d = dst;
    const hll_state_t *s = src;

    if (s->hs_form == HLL_FORM_EMPTY) {
        return BWM_OK;
    }
    if (s->hs_form == HLL_FORM_DENSE) {
        const hll_dense_t *sd = s->hs_p;
        hll_dense_t *dd;
        uint32_t i;

        if (d->hs_form != HLL_FORM_DENSE) {
            dd = malloc(sizeof(*dd));
            if (!dd) {
                return BWM_ERR_NOMEM;
            }
            memcpy(dd, sd, sizeof(*dd));
            if (d->hs_form == HLL_FORM_SPARSE) {
                dense_offer_entries(dd, d->hs_p, d->hs_n);
            }
            hll_clear(d);
            d->hs_p = dd;
            d->hs_form = HLL_FORM_DENSE;
            return BWM_OK;
        }
        dd = d->hs_p;
        for (i = 0; i < HLL_M; i++) {
            dense_offer(dd, i, reg_get(sd->hd_regs, i));
        }
        return BWM_OK;
    }
    /* src is sparse */
    if (d->hs_form == HLL_FORM_DENSE) {
        dense_offer_entries(d->hs_p, s->hs_p, s->hs_n);
        return BWM_OK;
    }
    {
        uint32_t n = sparse_union(d->hs_p, d->hs_n, s->hs_p, s->hs_n, NULL);
        uint32_t *u;

        if (n > HLL_SPARSE_MAX) {
            return hll_densify(d, s->hs_p, s->hs_n);
        }
        u = malloc(hll_cap(n) * sizeof(*u));
        if (!u) {
            return BWM_ERR_NOMEM;
        }
        sparse_union(d->hs_p, d->hs_n, s->hs_p, s->hs_n, u);
        hll_clear(d);
        d->hs_p = u;
        d->hs_n = (uint16_t)n;
        d->hs_form = HLL_FORM_SPARSE;
        return BWM_OK;
    }
}

/* Ertl's sigma and tau series (as in Redis' hyperloglog.c). */
static double hll_sigma(double x)
{
    double y = 1, z = x, prev;

    if (x == 1) {
        return INFINITY;
    }
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double hll_tau(double x)
{
    double y = 1, z = 1 - x, prev;

    if (x == 0 || x == 1) {
        return 0;
    }
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (prev != z);
    return z / 3;
}

static int64_t hll_estimate(const hll_state_t *s)
{
    if (s->hs_form == HLL_FORM_SPARSE) {
        /* linear counting over 2^25 virtual registers, hs_n of them set */
        double m = (double)(1u << HLL_SP);

        return llround(-m * log1p(-(double)s->hs_n / m));
    }
    if (s->hs_form == HLL_FORM_DENSE) {
        const hll_dense_t *d = s->hs_p;
        double m = HLL_M, z;
        int k;

        z = m * hll_tau((m - d->hd_hist[HLL_Q + 1]) / m);
        for (k = HLL_Q; k >= 1; k--) {
            z += d->hd_hist[k];
            z *= 0.5;
        }
        z += m * hll_sigma(d->hd_hist[0] / m);
        return llround(m * m / (2 * M_LN2 * z));
    }
    return 0;
}

static void hll_result(const void *st, bwm_value_t *out)
{
    out->v_type = BWM_T_LONG;
    out->u.v_long = hll_estimate(st);
}

static void hll_encode(const void *st, bwm_buf_t *b)
{
    const hll_state_t *s = st;
    uint32_t i;

    bwm_buf_put_u8(b, HLL_FORMAT);
    bwm_buf_put_u8(b, s->hs_type);
    bwm_buf_put_u8(b, s->hs_form);
    if (s->hs_form == HLL_FORM_SPARSE) {
        const uint32_t *a = s->hs_p;

        bwm_buf_put_u32le(b, s->hs_n);
        if (bwm_buf_reserve(b, (size_t)s->hs_n * 4) != BWM_OK) {
            return;
        }
        for (i = 0; i < s->hs_n; i++) {
            bwm_buf_put_u32le(b, a[i]);
        }
    } else if (s->hs_form == HLL_FORM_DENSE) {
        bwm_buf_put(b, ((const hll_dense_t *)s->hs_p)->hd_regs, HLL_BYTES);
    }
}

static bwm_err_t hll_decode_sparse(hll_state_t *t, bwm_cursor_t *c)
{
    uint32_t n = bwm_cursor_u32le(c), i, *a;

    if (c->c_failed || n == 0 || n > HLL_SPARSE_MAX || bwm_cursor_left(c) < (size_t)n * 4) {
        return BWM_ERR_DECODE;
    }
    a = malloc(hll_cap(n) * sizeof(*a));
    if (!a) {
        return BWM_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        uint32_t e = bwm_cursor_u32le(c), rank = e & 63;

        if (e >> 31 || rank < 1 || rank > HLL_SP_REST + 1 ||
            (i > 0 && (e >> 6) <= (a[i - 1] >> 6))) {
            free(a);
            return BWM_ERR_DECODE;
        }
        a[i] = e;
    }
    t->hs_p = a;
    t->hs_n = (uint16_t)n;
    return BWM_OK;
}

static bwm_err_t hll_decode_dense(hll_state_t *t, bwm_cursor_t *c)
{
    size_t len = HLL_BYTES;
    const uint8_t *p = bwm_cursor_left(c) >= len ? c->c_p : NULL;
    hll_dense_t *d;
    uint32_t i;

    if (!p) {
        return BWM_ERR_DECODE;
    }
    d = dense_new();
    if (!d) {
        return BWM_ERR_NOMEM;
    }
    memcpy(d->hd_regs, p, len);
    d->hd_hist[0] = 0;
    for (i = 0; i < HLL_M; i++) {
        uint32_t v = reg_get(d->hd_regs, i);

        if (v > HLL_Q + 1) {
            free(d);
            return BWM_ERR_DECODE;
        }
        d->hd_hist[v]++;
    }
    c->c_p += len;
    t->hs_p = d;
    return BWM_OK;
}

static bwm_err_t hll_decode(void *st, bwm_cursor_t *c)
{
    hll_state_t *s = st, t;
    bwm_err_t err = BWM_OK;

    hll_init(&t, (bwm_type_t)s->hs_type, NULL);
    if (bwm_cursor_u8(c) != HLL_FORMAT || bwm_cursor_u8(c) != s->hs_type) {
        return BWM_ERR_DECODE;
    }
    t.hs_form = bwm_cursor_u8(c);
    if (c->c_failed) {
        return BWM_ERR_DECODE;
    }
    switch (t.hs_form) {
        case HLL_FORM_EMPTY:
            break;
        case HLL_FORM_SPARSE:
            err = hll_decode_sparse(&t, c);
            break;
        case HLL_FORM_DENSE:
            err = hll_decode_dense(&t, c);
            break;
        default:
            err = BWM_ERR_DECODE;
            break;
    }
    if (err) {
        return err;
    }
    hll_clear(s);
    *s = t;
    return BWM_OK;
}

const bwm_agg_ops_t bwm_agg_count_distinct = {
    .ao_name = "COUNT_DISTINCT",
    .ao_id = 12,
    .ao_state_size = sizeof(hll_state_t),
    .ao_result_type = hll_result_type,
    .ao_result_nullable = 0,
    .ao_init = hll_init,
    .ao_add = hll_add,
    .ao_merge = hll_merge,
    .ao_result = hll_result,
    .ao_encode = hll_encode,
    .ao_decode = hll_decode,
    .ao_destroy = hll_destroy,
    .ao_heap = hll_heap,
};
