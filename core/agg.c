/*
 * agg.c: the aggregates COUNT, SUM, AVG and the variance family, and the
 * registry that finds every aggregate by name or alias. MIN, MAX, FIRST and
 * LAST live in agg_value.c, COUNT_DISTINCT in agg_hll.c and PERCENTILE in
 * agg_sketch.c.
 *
 * Each aggregate is a state struct and a table of operations. Encodings start
 * with a one-byte format version (1), then fixed-width little-endian fields.
 * Decoders check every field, since the bytes come back from Redis, and
 * decode into a scratch state first, so a failed decode leaves the state as
 * it was.
 *
 * Stable ids, written into state encodings (never reuse one):
 *   1 COUNT   2 SUM   3 MIN   4 MAX   5 AVG   6 VAR_SAMP   7 VAR_POP
 *   8 STDDEV_SAMP   9 STDDEV_POP   10 FIRST   11 LAST   12 COUNT_DISTINCT
 *   13 PERCENTILE
 */
#include "agg.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "agg_impl.h"

#define AGG_FORMAT 1

/* COUNT(*) and COUNT(field): the number of rows, or of non-null values. */
typedef struct count_state {
    int64_t cs_n;
} count_state_t;

static bwm_type_t count_result_type(bwm_type_t arg)
{
    (void)arg;
    return BWM_T_LONG;
}

static void count_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    (void)arg;
    (void)params;
    ((count_state_t *)st)->cs_n = 0;
}

static bwm_err_t count_add(void *st, const bwm_agg_input_t *in)
{
    count_state_t *s = st;

    (void)in;
    /* No stream brings 2^63 rows; a decoded count can be that high, so saturate, never wrap. */
    if (s->cs_n < INT64_MAX) {
        s->cs_n++;
    }
    return BWM_OK;
}

static bwm_err_t count_merge(void *dst, const void *src)
{
    count_state_t *d = dst;
    const count_state_t *s = src;

    int64_t r;

    if (__builtin_add_overflow(d->cs_n, s->cs_n, &r)) {
        return BWM_ERR_OVERFLOW;
    }
    d->cs_n = r;
    return BWM_OK;
}

static void count_result(const void *st, bwm_value_t *out)
{
    out->v_type = BWM_T_LONG;
    out->u.v_long = ((const count_state_t *)st)->cs_n;
}

static void count_encode(const void *st, bwm_buf_t *b)
{
    bwm_buf_put_u8(b, AGG_FORMAT);
    bwm_buf_put_i64le(b, ((const count_state_t *)st)->cs_n);
}

static bwm_err_t count_decode(void *st, bwm_cursor_t *c)
{
    int64_t n;

    if (bwm_cursor_u8(c) != AGG_FORMAT) {
        return BWM_ERR_DECODE;
    }
    n = bwm_cursor_i64le(c);
    if (c->c_failed || n < 0) {
        return BWM_ERR_DECODE;
    }
    ((count_state_t *)st)->cs_n = n;
    return BWM_OK;
}

static const bwm_agg_ops_t agg_count = {
    .ao_name = "COUNT",
    .ao_id = 1,
    .ao_state_size = sizeof(count_state_t),
    .ao_star = 1,
    .ao_result_type = count_result_type,
    .ao_result_nullable = 0,
    .ao_init = count_init,
    .ao_add = count_add,
    .ao_merge = count_merge,
    .ao_result = count_result,
    .ao_encode = count_encode,
    .ao_decode = count_decode,
};

/*
 * SUM(field): exact for integers (overflow is an error, never a wrap), IEEE
 * double for floating point. Null while no value has been added.
 */
typedef struct sum_state {
    uint8_t ss_type; /* bwm_type_t of the sum: BWM_T_LONG or BWM_T_DOUBLE */
    uint8_t ss_any;  /* a value has been added */
    int64_t ss_long;
    double ss_double;
} sum_state_t;

static bwm_type_t numeric_result_type(bwm_type_t arg)
{
    return bwm_type_is_numeric(arg) ? arg : BWM_T_NULL;
}

static void sum_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    sum_state_t *s = st;

    s->ss_type = (uint8_t)arg;
    s->ss_any = 0;
    s->ss_long = 0;
    s->ss_double = 0;
    (void)params;
}

static bwm_err_t sum_check(const void *st, const bwm_agg_input_t *in)
{
    const sum_state_t *s = st;
    int64_t r;

    if (s->ss_type == BWM_T_LONG &&
        __builtin_add_overflow(s->ss_long, in->ai_value->u.v_long, &r)) {
        return BWM_ERR_OVERFLOW;
    }
    return BWM_OK;
}

static bwm_err_t sum_add(void *st, const bwm_agg_input_t *in)
{
    sum_state_t *s = st;
    const bwm_value_t *v = in->ai_value;

    if (s->ss_type == BWM_T_LONG) {
        int64_t r;

        if (__builtin_add_overflow(s->ss_long, v->u.v_long, &r)) {
            return BWM_ERR_OVERFLOW;
        }
        s->ss_long = r;
    } else {
        s->ss_double += bwm_agg_num(v);
    }
    s->ss_any = 1;
    return BWM_OK;
}

static bwm_err_t sum_merge(void *dst, const void *src)
{
    sum_state_t *d = dst;
    const sum_state_t *s = src;

    if (!s->ss_any) {
        return BWM_OK;
    }
    if (d->ss_type == BWM_T_LONG) {
        int64_t r;

        if (__builtin_add_overflow(d->ss_long, s->ss_long, &r)) {
            return BWM_ERR_OVERFLOW;
        }
        d->ss_long = r;
    } else {
        d->ss_double += s->ss_double;
    }
    d->ss_any = 1;
    return BWM_OK;
}

static void sum_result(const void *st, bwm_value_t *out)
{
    const sum_state_t *s = st;

    if (!s->ss_any) {
        out->v_type = BWM_T_NULL;
    } else if (s->ss_type == BWM_T_LONG) {
        out->v_type = BWM_T_LONG;
        out->u.v_long = s->ss_long;
    } else {
        out->v_type = BWM_T_DOUBLE;
        out->u.v_double = s->ss_double;
    }
}

static void sum_encode(const void *st, bwm_buf_t *b)
{
    const sum_state_t *s = st;

    bwm_buf_put_u8(b, AGG_FORMAT);
    bwm_buf_put_u8(b, s->ss_type);
    bwm_buf_put_u8(b, s->ss_any);
    if (s->ss_type == BWM_T_LONG) {
        bwm_buf_put_i64le(b, s->ss_long);
    } else {
        bwm_buf_put_f64le(b, s->ss_double);
    }
}

static bwm_err_t sum_decode(void *st, bwm_cursor_t *c)
{
    sum_state_t *s = st;
    uint8_t any;
    uint64_t bits;

    if (bwm_cursor_u8(c) != AGG_FORMAT || bwm_cursor_u8(c) != s->ss_type) {
        return BWM_ERR_DECODE;
    }
    any = bwm_cursor_u8(c);
    bits = bwm_cursor_u64le(c);
    /* An empty sum is all zeros: nothing has been added to it. */
    if (c->c_failed || any > 1 || (!any && bits != 0)) {
        return BWM_ERR_DECODE;
    }
    s->ss_any = any;
    if (s->ss_type == BWM_T_LONG) {
        s->ss_long = (int64_t)bits;
    } else {
        memcpy(&s->ss_double, &bits, sizeof(bits));
    }
    return BWM_OK;
}

static const bwm_agg_ops_t agg_sum = {
    .ao_name = "SUM",
    .ao_id = 2,
    .ao_state_size = sizeof(sum_state_t),
    .ao_star = 0,
    .ao_result_type = numeric_result_type,
    .ao_result_nullable = 1,
    .ao_init = sum_init,
    .ao_check = sum_check,
    .ao_add = sum_add,
    .ao_merge = sum_merge,
    .ao_result = sum_result,
    .ao_encode = sum_encode,
    .ao_decode = sum_decode,
};

/*
 * AVG(field): a DOUBLE, null while empty. A BIGINT argument keeps an exact
 * 128-bit sum (two 64-bit halves, since a state is only 8-byte aligned), so
 * it cannot overflow before the count does; ao_check still refuses either.
 * A DOUBLE argument keeps a Neumaier-compensated sum, whose error does not
 * grow with the number of values, and whose merge is commutative bit for bit.
 */
typedef __int128 avg_i128;

typedef struct avg_state {
    uint8_t as_type; /* BWM_T_LONG or BWM_T_DOUBLE */
    int64_t as_n;
    union {
        struct {
            int64_t hi;
            uint64_t lo;
        } l;
        struct {
            double sum;
            double comp;
        } d;
    } u;
} avg_state_t;

static avg_i128 avg_get128(const avg_state_t *s)
{
    return (avg_i128)(((unsigned __int128)(uint64_t)s->u.l.hi << 64) | s->u.l.lo);
}

static void avg_set128(avg_state_t *s, avg_i128 v)
{
    s->u.l.hi = (int64_t)(v >> 64);
    s->u.l.lo = (uint64_t)v;
}

/* Neumaier's step: adds x to the sum kept as (*sum, *comp). */
static void neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;

    if (fabs(*sum) >= fabs(x)) {
        *comp += (*sum - t) + x;
    } else {
        *comp += (x - t) + *sum;
    }
    *sum = t;
}

static bwm_type_t double_result_type(bwm_type_t arg)
{
    return bwm_type_is_numeric(arg) ? BWM_T_DOUBLE : BWM_T_NULL;
}

static void avg_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    avg_state_t *s = st;

    (void)params;
    memset(s, 0, sizeof(*s));
    s->as_type = (uint8_t)arg;
}

static bwm_err_t avg_check(const void *st, const bwm_agg_input_t *in)
{
    const avg_state_t *s = st;
    int64_t n;
    avg_i128 r;

    if (__builtin_add_overflow(s->as_n, 1, &n)) {
        return BWM_ERR_OVERFLOW;
    }
    if (s->as_type == BWM_T_LONG &&
        __builtin_add_overflow(avg_get128(s), (avg_i128)in->ai_value->u.v_long, &r)) {
        return BWM_ERR_OVERFLOW;
    }
    return BWM_OK;
}

static bwm_err_t avg_add(void *st, const bwm_agg_input_t *in)
{
    avg_state_t *s = st;
    int64_t n;

    if (__builtin_add_overflow(s->as_n, 1, &n)) {
        return BWM_ERR_OVERFLOW;
    }
    if (s->as_type == BWM_T_LONG) {
        avg_i128 r;

        if (__builtin_add_overflow(avg_get128(s), (avg_i128)in->ai_value->u.v_long, &r)) {
            return BWM_ERR_OVERFLOW;
        }
        avg_set128(s, r);
    } else {
        neumaier_add(&s->u.d.sum, &s->u.d.comp, bwm_agg_num(in->ai_value));
    }
    s->as_n = n;
    return BWM_OK;
}

static bwm_err_t avg_merge(void *dst, const void *src)
{
    avg_state_t *d = dst;
    const avg_state_t *s = src;
    int64_t n;

    if (s->as_n == 0) {
        return BWM_OK;
    }
    if (__builtin_add_overflow(d->as_n, s->as_n, &n)) {
        return BWM_ERR_OVERFLOW;
    }
    if (d->as_type == BWM_T_LONG) {
        avg_i128 r;

        if (__builtin_add_overflow(avg_get128(d), avg_get128(s), &r)) {
            return BWM_ERR_OVERFLOW;
        }
        avg_set128(d, r);
    } else {
        double comp = d->u.d.comp + s->u.d.comp;

        neumaier_add(&d->u.d.sum, &comp, s->u.d.sum);
        d->u.d.comp = comp;
    }
    d->as_n = n;
    return BWM_OK;
}

static void avg_result(const void *st, bwm_value_t *out)
{
    const avg_state_t *s = st;

    if (s->as_n == 0) {
        out->v_type = BWM_T_NULL;
        return;
    }
    out->v_type = BWM_T_DOUBLE;
    if (s->as_type == BWM_T_LONG) {
        out->u.v_double = (double)avg_get128(s) / (double)s->as_n;
    } else {
        out->u.v_double = (s->u.d.sum + s->u.d.comp) / (double)s->as_n;
    }
}

static void avg_encode(const void *st, bwm_buf_t *b)
{
    const avg_state_t *s = st;

    bwm_buf_put_u8(b, AGG_FORMAT);
    bwm_buf_put_u8(b, s->as_type);
    bwm_buf_put_i64le(b, s->as_n);
    if (s->as_type == BWM_T_LONG) {
        bwm_buf_put_i64le(b, s->u.l.hi);
        bwm_buf_put_u64le(b, s->u.l.lo);
    } else {
        bwm_buf_put_f64le(b, s->u.d.sum);
        bwm_buf_put_f64le(b, s->u.d.comp);
    }
}

static bwm_err_t avg_decode(void *st, bwm_cursor_t *c)
{
    avg_state_t *s = st, t;

    memset(&t, 0, sizeof(t));
    if (bwm_cursor_u8(c) != AGG_FORMAT || bwm_cursor_u8(c) != s->as_type) {
        return BWM_ERR_DECODE;
    }
    t.as_type = s->as_type;
    t.as_n = bwm_cursor_i64le(c);
    if (t.as_type == BWM_T_LONG) {
        t.u.l.hi = bwm_cursor_i64le(c);
        t.u.l.lo = bwm_cursor_u64le(c);
    } else {
        t.u.d.sum = bwm_cursor_f64le(c);
        t.u.d.comp = bwm_cursor_f64le(c);
    }
    if (c->c_failed || t.as_n < 0) {
        return BWM_ERR_DECODE;
    }
    if (t.as_type == BWM_T_LONG) {
        /* n BIGINT values sum to at most n * 2^63 in magnitude. */
        avg_i128 sum = avg_get128(&t), bound = (avg_i128)t.as_n << 63;

        if (sum > bound || sum < -bound) {
            return BWM_ERR_DECODE;
        }
    } else if (t.as_n == 0 && (t.u.d.sum != 0 || t.u.d.comp != 0)) {
        return BWM_ERR_DECODE;
    }
    *s = t;
    return BWM_OK;
}

static const bwm_agg_ops_t agg_avg = {
    .ao_name = "AVG",
    .ao_id = 5,
    .ao_state_size = sizeof(avg_state_t),
    .ao_result_type = double_result_type,
    .ao_result_nullable = 1,
    .ao_init = avg_init,
    .ao_check = avg_check,
    .ao_add = avg_add,
    .ao_merge = avg_merge,
    .ao_result = avg_result,
    .ao_encode = avg_encode,
    .ao_decode = avg_decode,
};

/*
 * VAR_SAMP, VAR_POP, STDDEV_SAMP, STDDEV_POP: Welford's online algorithm
 * (count, mean, sum of squared deviations M2), merged with the pairwise
 * formula of Chan, Golub and LeVeque:
 *   n = na + nb, d = mb - ma, mean = ma*(na/n) + mb*(nb/n),
 *   M2 = M2a + M2b + d^2 * na*nb/n.
 * Written this way the merge is commutative bit for bit and cannot overflow
 * where the values themselves do not. The sample variants are null below two
 * values, the population variants below one.
 */
typedef struct welford_state {
    uint8_t ws_type; /* BWM_T_LONG or BWM_T_DOUBLE */
    int64_t ws_n;
    double ws_mean;
    double ws_m2;
} welford_state_t;

static void welford_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    welford_state_t *s = st;

    (void)params;
    memset(s, 0, sizeof(*s));
    s->ws_type = (uint8_t)arg;
}

static bwm_err_t welford_add(void *st, const bwm_agg_input_t *in)
{
    welford_state_t *s = st;
    double x = bwm_agg_num(in->ai_value), delta;

    if (s->ws_n < INT64_MAX) { /* as COUNT: saturate rather than wrap */
        s->ws_n++;
    }
    delta = x - s->ws_mean;
    s->ws_mean += delta / (double)s->ws_n;
    s->ws_m2 += delta * (x - s->ws_mean);
    return BWM_OK;
}

static bwm_err_t welford_merge(void *dst, const void *src)
{
    welford_state_t *d = dst;
    const welford_state_t *s = src;
    double na, nb, n, delta;
    int64_t total;

    if (s->ws_n == 0) {
        return BWM_OK;
    }
    if (d->ws_n == 0) {
        *d = *s;
        return BWM_OK;
    }
    if (__builtin_add_overflow(d->ws_n, s->ws_n, &total)) {
        return BWM_ERR_OVERFLOW;
    }
    na = (double)d->ws_n;
    nb = (double)s->ws_n;
    n = (double)total;
    delta = s->ws_mean - d->ws_mean;
    d->ws_mean = d->ws_mean * (na / n) + s->ws_mean * (nb / n);
    d->ws_m2 = (d->ws_m2 + s->ws_m2) + delta * delta * (na * nb / n);
    d->ws_n = total;
    return BWM_OK;
}

/* The variance with ddof degrees of freedom taken off; 0 when null. */
static int welford_variance(const welford_state_t *s, int ddof, double *var)
{
    if (s->ws_n <= ddof) {
        return 0;
    }
    *var = s->ws_m2 / (double)(s->ws_n - ddof);
    return 1;
}

static void result_double(bwm_value_t *out, int ok, double v)
{
    out->v_type = ok ? BWM_T_DOUBLE : BWM_T_NULL;
    out->u.v_double = ok ? v : 0;
}

static void var_samp_result(const void *st, bwm_value_t *out)
{
    double v = 0;
    int ok = welford_variance(st, 1, &v);

    result_double(out, ok, v);
}

static void var_pop_result(const void *st, bwm_value_t *out)
{
    double v = 0;
    int ok = welford_variance(st, 0, &v);

    result_double(out, ok, v);
}

static void stddev_samp_result(const void *st, bwm_value_t *out)
{
    double v = 0;
    int ok = welford_variance(st, 1, &v);

    result_double(out, ok, sqrt(v));
}

static void stddev_pop_result(const void *st, bwm_value_t *out)
{
    double v = 0;
    int ok = welford_variance(st, 0, &v);

    result_double(out, ok, sqrt(v));
}

static void welford_encode(const void *st, bwm_buf_t *b)
{
    const welford_state_t *s = st;

    bwm_buf_put_u8(b, AGG_FORMAT);
    bwm_buf_put_u8(b, s->ws_type);
    bwm_buf_put_i64le(b, s->ws_n);
    bwm_buf_put_f64le(b, s->ws_mean);
    bwm_buf_put_f64le(b, s->ws_m2);
}

static bwm_err_t welford_decode(void *st, bwm_cursor_t *c)
{
    welford_state_t *s = st, t;

    memset(&t, 0, sizeof(t));
    if (bwm_cursor_u8(c) != AGG_FORMAT || bwm_cursor_u8(c) != s->ws_type) {
        return BWM_ERR_DECODE;
    }
    t.ws_type = s->ws_type;
    t.ws_n = bwm_cursor_i64le(c);
    t.ws_mean = bwm_cursor_f64le(c);
    t.ws_m2 = bwm_cursor_f64le(c);
    /* M2 is a sum of squares (NaN once a NaN or an infinity was added). */
    if (c->c_failed || t.ws_n < 0 || t.ws_m2 < 0 ||
        (t.ws_n == 0 && (t.ws_mean != 0 || t.ws_m2 != 0))) {
        return BWM_ERR_DECODE;
    }
    *s = t;
    return BWM_OK;
}

#define WELFORD_OPS(name_, id_, result_)                                                           \
    {                                                                                              \
        .ao_name = name_, .ao_id = id_, .ao_state_size = sizeof(welford_state_t),                  \
        .ao_result_type = double_result_type, .ao_result_nullable = 1, .ao_init = welford_init,    \
        .ao_add = welford_add, .ao_merge = welford_merge, .ao_result = result_,                    \
        .ao_encode = welford_encode, .ao_decode = welford_decode,                                  \
    }

static const bwm_agg_ops_t agg_var_samp = WELFORD_OPS("VAR_SAMP", 6, var_samp_result);
static const bwm_agg_ops_t agg_var_pop = WELFORD_OPS("VAR_POP", 7, var_pop_result);
static const bwm_agg_ops_t agg_stddev_samp = WELFORD_OPS("STDDEV_SAMP", 8, stddev_samp_result);
static const bwm_agg_ops_t agg_stddev_pop = WELFORD_OPS("STDDEV_POP", 9, stddev_pop_result);

/* The registry: canonical names in id order, then aliases. */
static const bwm_agg_ops_t *const aggs[] = {
    &agg_count,          &agg_sum,         &bwm_agg_min,
    &bwm_agg_max,        &agg_avg,         &agg_var_samp,
    &agg_var_pop,        &agg_stddev_samp, &agg_stddev_pop,
    &bwm_agg_first,      &bwm_agg_last,    &bwm_agg_count_distinct,
    &bwm_agg_percentile,
};

static const struct {
    const char *al_name;
    const bwm_agg_ops_t *al_ops;
} aliases[] = {
    {"STDDEV", &agg_stddev_samp},
    {"VARIANCE", &agg_var_samp},
};

const bwm_agg_ops_t *bwm_agg_find(const char *name)
{
    size_t i;

    if (!name) {
        return NULL;
    }
    for (i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
        if (strcasecmp(aggs[i]->ao_name, name) == 0) {
            return aggs[i];
        }
    }
    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(aliases[i].al_name, name) == 0) {
            return aliases[i].al_ops;
        }
    }
    return NULL;
}

const char *bwm_agg_names(void)
{
    return "COUNT, SUM, MIN, MAX, AVG, VAR_SAMP, VAR_POP, STDDEV_SAMP, STDDEV_POP, FIRST, LAST, "
           "COUNT_DISTINCT, PERCENTILE";
}
