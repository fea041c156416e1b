/*
 * agg_value.c: the aggregates that keep one input value. MIN and MAX keep the
 * least and the greatest value; FIRST and LAST keep the value of the record
 * with the smallest and the largest (event time, source offset), so they do
 * not depend on arrival order, batch boundaries or merge order.
 *
 * Values are ordered totally, so that every result is a function of the
 * multiset of inputs and merging is exact:
 *   BOOLEAN  false < true
 *   BIGINT   numerically
 *   DOUBLE   -inf < ... < -0.0 < +0.0 < ... < +inf < NaN (NaN is greater
 *            than every number, as in PostgreSQL; NaNs among themselves by bits)
 *   STRING   bytewise, a prefix first (for UTF-8, Unicode code point order)
 * FIRST and LAST break an exact tie of (time, offset), which one partition
 * never produces, by this order too: FIRST takes the lesser value, LAST the
 * greater.
 *
 * A state is 16 bytes (MIN, MAX) or 32 bytes (FIRST, LAST) inline. A string
 * value is copied into a heap block that the state owns (ao_destroy frees
 * it). The block's size is a power of two, at least 16 bytes, so that it is
 * reused while later values fit and ao_heap knows its size without storing it.
 *
 * Encoding: version 1, argument type (u8), has-value (u8); then, when there
 * is a value, FIRST/LAST write time (i64) and offset (i64), and all write the
 * value: BOOLEAN u8 0/1, BIGINT i64, DOUBLE f64, STRING u32 length + bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_impl.h"

#define VALUE_FORMAT 1

typedef struct scalar {
    uint8_t sc_type; /* bwm_type_t of the argument */
    uint8_t sc_any;  /* holds a value */
    uint8_t sc_cap;  /* a string block's size is 1 << sc_cap bytes */
    uint32_t sc_len; /* length of a string value */
    union {
        int64_t sc_long; /* BIGINT, and BOOLEAN as 0 or 1 */
        double sc_double;
        char *sc_str; /* owned, NUL-terminated; NULL until a string is kept */
    } u;
} scalar_t;

static bwm_type_t scalar_result_type(bwm_type_t arg)
{
    switch (arg) {
        case BWM_T_BOOL:
        case BWM_T_LONG:
        case BWM_T_DOUBLE:
        case BWM_T_STRING:
            return arg;
        default:
            return BWM_T_NULL;
    }
}

static void scalar_init(scalar_t *s, bwm_type_t arg)
{
    memset(s, 0, sizeof(*s));
    s->sc_type = (uint8_t)arg;
}

static void scalar_free(scalar_t *s)
{
    if (s->sc_type == BWM_T_STRING) {
        free(s->u.sc_str);
    }
    scalar_init(s, (bwm_type_t)s->sc_type);
}

/* An argument value as a value of the state's type (a BIGINT may reach a DOUBLE argument). */
static bwm_value_t scalar_arg(const scalar_t *s, const bwm_value_t *v)
{
    bwm_value_t r = *v;

    if (s->sc_type == BWM_T_DOUBLE && v->v_type == BWM_T_LONG) {
        r.v_type = BWM_T_DOUBLE;
        r.u.v_double = (double)v->u.v_long;
    } else if (s->sc_type == BWM_T_BOOL) {
        r.u.v_bool = v->u.v_bool != 0;
    }
    return r;
}

/* The kept value; BWM_T_NULL when there is none. Strings point into the state. */
static bwm_value_t scalar_value(const scalar_t *s)
{
    bwm_value_t r;

    memset(&r, 0, sizeof(r));
    if (!s->sc_any) {
        r.v_type = BWM_T_NULL;
        return r;
    }
    r.v_type = (bwm_type_t)s->sc_type;
    switch (r.v_type) {
        case BWM_T_BOOL:
            r.u.v_bool = (int)s->u.sc_long;
            break;
        case BWM_T_LONG:
            r.u.v_long = s->u.sc_long;
            break;
        case BWM_T_DOUBLE:
            r.u.v_double = s->u.sc_double;
            break;
        case BWM_T_STRING:
            r.u.v_str.p = s->u.sc_str;
            r.u.v_str.n = s->sc_len;
            break;
        default:
            r.v_type = BWM_T_NULL;
            break;
    }
    return r;
}

static int double_cmp(double a, double b)
{
    uint64_t ua, ub;
    int64_t ka, kb;

    /* the common case: distinct numbers */
    if (a < b) {
        return -1;
    }
    if (a > b) {
        return 1;
    }
    memcpy(&ua, &a, sizeof(ua));
    memcpy(&ub, &b, sizeof(ub));
    if (isnan(a) || isnan(b)) {
        if (isnan(a) && isnan(b)) {
            return (ua > ub) - (ua < ub);
        }
        return isnan(a) ? 1 : -1;
    }
    /* IEEE totalOrder: flip the magnitude bits of negatives, then compare as signed. */
    ka = (int64_t)(ua ^ ((ua >> 63) ? UINT64_C(0x7fffffffffffffff) : 0));
    kb = (int64_t)(ub ^ ((ub >> 63) ? UINT64_C(0x7fffffffffffffff) : 0));
    return (ka > kb) - (ka < kb);
}

/* Compares two values of the same type in the order described at the top. */
static int value_cmp(const bwm_value_t *a, const bwm_value_t *b)
{
    switch (a->v_type) {
        case BWM_T_BOOL:
            return (a->u.v_bool > b->u.v_bool) - (a->u.v_bool < b->u.v_bool);
        case BWM_T_LONG:
            return (a->u.v_long > b->u.v_long) - (a->u.v_long < b->u.v_long);
        case BWM_T_DOUBLE:
            return double_cmp(a->u.v_double, b->u.v_double);
        case BWM_T_STRING: {
            size_t n = a->u.v_str.n < b->u.v_str.n ? a->u.v_str.n : b->u.v_str.n;
            int c = n ? memcmp(a->u.v_str.p, b->u.v_str.p, n) : 0;

            if (c) {
                return c < 0 ? -1 : 1;
            }
            return (a->u.v_str.n > b->u.v_str.n) - (a->u.v_str.n < b->u.v_str.n);
        }
        default:
            return 0;
    }
}

/* The heap bytes of a scalar: its string block, if any. */
static size_t scalar_heap(const void *st)
{
    const scalar_t *s = st;

    return s->sc_type == BWM_T_STRING && s->u.sc_str ? (size_t)1 << s->sc_cap : 0;
}

/* Keeps v (of the state's type). Fails only for lack of memory; s is then unchanged. */
static bwm_err_t scalar_set(scalar_t *s, const bwm_value_t *v)
{
    switch (s->sc_type) {
        case BWM_T_STRING: {
            size_t n = v->u.v_str.n;

            /* No record carries 4 GiB; such a length cannot be kept or encoded. */
            if (n >= UINT32_MAX) {
                return BWM_ERR_NOMEM;
            }
            if (!s->u.sc_str || n >= (size_t)1 << s->sc_cap) {
                uint8_t cap = 4;
                char *p;

                while (n >= (size_t)1 << cap) {
                    cap++;
                }
                p = realloc(s->u.sc_str, (size_t)1 << cap);
                if (!p) {
                    return BWM_ERR_NOMEM;
                }
                s->u.sc_str = p;
                s->sc_cap = cap;
            }
            if (n) {
                memmove(s->u.sc_str, v->u.v_str.p, n);
            }
            s->u.sc_str[n] = '\0';
            s->sc_len = (uint32_t)n;
            break;
        }
        case BWM_T_DOUBLE:
            s->u.sc_double = v->u.v_double;
            break;
        case BWM_T_BOOL:
            s->u.sc_long = v->u.v_bool != 0;
            break;
        default:
            s->u.sc_long = v->u.v_long;
            break;
    }
    s->sc_any = 1;
    return BWM_OK;
}

static void scalar_encode_value(const scalar_t *s, bwm_buf_t *b)
{
    switch (s->sc_type) {
        case BWM_T_BOOL:
            bwm_buf_put_u8(b, (uint8_t)s->u.sc_long);
            break;
        case BWM_T_DOUBLE:
            bwm_buf_put_f64le(b, s->u.sc_double);
            break;
        case BWM_T_STRING:
            bwm_buf_put_bytes(b, s->u.sc_str, s->sc_len);
            break;
        default:
            bwm_buf_put_i64le(b, s->u.sc_long);
            break;
    }
}

/* Reads a value into t, an empty scalar of the right type. */
static bwm_err_t scalar_decode_value(scalar_t *t, bwm_cursor_t *c)
{
    switch (t->sc_type) {
        case BWM_T_BOOL: {
            uint8_t v = bwm_cursor_u8(c);

            if (v > 1) {
                return BWM_ERR_DECODE;
            }
            t->u.sc_long = v;
            break;
        }
        case BWM_T_LONG:
            t->u.sc_long = bwm_cursor_i64le(c);
            break;
        case BWM_T_DOUBLE:
            t->u.sc_double = bwm_cursor_f64le(c);
            break;
        case BWM_T_STRING: {
            size_t n;
            const uint8_t *p = bwm_cursor_bytes(c, &n);
            bwm_value_t v;

            if (!p || n >= UINT32_MAX) {
                return BWM_ERR_DECODE;
            }
            v.v_type = BWM_T_STRING;
            v.u.v_str.p = (const char *)p;
            v.u.v_str.n = n;
            return scalar_set(t, &v);
        }
        default:
            return BWM_ERR_DECODE;
    }
    if (c->c_failed) {
        return BWM_ERR_DECODE;
    }
    t->sc_any = 1;
    return BWM_OK;
}

/* Reads the version, type and has-value bytes; -1 when they do not fit the state. */
static int decode_header(const scalar_t *s, bwm_cursor_t *c)
{
    uint8_t any;

    if (bwm_cursor_u8(c) != VALUE_FORMAT || bwm_cursor_u8(c) != s->sc_type) {
        return -1;
    }
    any = bwm_cursor_u8(c);
    return c->c_failed || any > 1 ? -1 : any;
}

static void scalar_result(const void *st, bwm_value_t *out)
{
    *out = scalar_value(st);
}

static void scalar_destroy(void *st)
{
    scalar_free(st);
}

/* MIN and MAX: sign 1 keeps the least value, -1 the greatest. */
static void extreme_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    (void)params;
    scalar_init(st, arg);
}

/* Compares x (of the state's type) with the kept value. */
static int scalar_cmp(const bwm_value_t *x, const scalar_t *s)
{
    bwm_value_t cur;

    switch (s->sc_type) {
        case BWM_T_LONG:
            return (x->u.v_long > s->u.sc_long) - (x->u.v_long < s->u.sc_long);
        case BWM_T_DOUBLE:
            return double_cmp(x->u.v_double, s->u.sc_double);
        default:
            cur = scalar_value(s);
            return value_cmp(x, &cur);
    }
}

static bwm_err_t extreme_offer(scalar_t *s, const bwm_value_t *x, int sign)
{
    if (s->sc_any && sign * scalar_cmp(x, s) >= 0) {
        return BWM_OK;
    }
    return scalar_set(s, x);
}

/*
 * Whether a number settles MIN (sign 1) or MAX (sign -1) by itself: a
 * DOUBLE, or a BIGINT, strictly on one side of the one kept. Equal values,
 * NaN and the signs of zero take the general way and its total order.
 */
static int extreme_quick(scalar_t *s, const bwm_value_t *v, int sign)
{
    if (!s->sc_any || v->v_type != s->sc_type) {
        return 0;
    }
    if (v->v_type == BWM_T_DOUBLE) {
        double x = v->u.v_double, k = s->u.sc_double;

        if (sign * x > sign * k) {
            return 1;
        }
        if (sign * x < sign * k) {
            s->u.sc_double = x;
            return 1;
        }
    } else if (v->v_type == BWM_T_LONG) {
        int64_t x = v->u.v_long, k = s->u.sc_long;

        if (sign > 0 ? x >= k : x <= k) {
            return 1;
        }
        s->u.sc_long = x;
        return 1;
    }
    return 0;
}

static bwm_err_t min_add(void *st, const bwm_agg_input_t *in)
{
    bwm_value_t x;

    if (extreme_quick(st, in->ai_value, 1)) {
        return BWM_OK;
    }
    x = scalar_arg(st, in->ai_value);
    return extreme_offer(st, &x, 1);
}

static bwm_err_t max_add(void *st, const bwm_agg_input_t *in)
{
    bwm_value_t x;

    if (extreme_quick(st, in->ai_value, -1)) {
        return BWM_OK;
    }
    x = scalar_arg(st, in->ai_value);
    return extreme_offer(st, &x, -1);
}

static bwm_err_t min_merge(void *dst, const void *src)
{
    bwm_value_t x = scalar_value(src);

    return x.v_type == BWM_T_NULL ? BWM_OK : extreme_offer(dst, &x, 1);
}

static bwm_err_t max_merge(void *dst, const void *src)
{
    bwm_value_t x = scalar_value(src);

    return x.v_type == BWM_T_NULL ? BWM_OK : extreme_offer(dst, &x, -1);
}

static void extreme_encode(const void *st, bwm_buf_t *b)
{
    const scalar_t *s = st;

    bwm_buf_put_u8(b, VALUE_FORMAT);
    bwm_buf_put_u8(b, s->sc_type);
    bwm_buf_put_u8(b, s->sc_any);
    if (s->sc_any) {
        scalar_encode_value(s, b);
    }
}

static bwm_err_t extreme_decode(void *st, bwm_cursor_t *c)
{
    scalar_t *s = st, t;
    int any = decode_header(s, c);
    bwm_err_t err;

    if (any < 0) {
        return BWM_ERR_DECODE;
    }
    scalar_init(&t, (bwm_type_t)s->sc_type);
    if (any && (err = scalar_decode_value(&t, c)) != BWM_OK) {
        scalar_free(&t);
        return err;
    }
    scalar_free(s);
    *s = t;
    return BWM_OK;
}

const bwm_agg_ops_t bwm_agg_min = {
    .ao_name = "MIN",
    .ao_id = 3,
    .ao_state_size = sizeof(scalar_t),
    .ao_result_type = scalar_result_type,
    .ao_result_nullable = 1,
    .ao_init = extreme_init,
    .ao_add = min_add,
    .ao_merge = min_merge,
    .ao_result = scalar_result,
    .ao_encode = extreme_encode,
    .ao_decode = extreme_decode,
    .ao_destroy = scalar_destroy,
    .ao_heap = scalar_heap,
};

const bwm_agg_ops_t bwm_agg_max = {
    .ao_name = "MAX",
    .ao_id = 4,
    .ao_state_size = sizeof(scalar_t),
    .ao_result_type = scalar_result_type,
    .ao_result_nullable = 1,
    .ao_init = extreme_init,
    .ao_add = max_add,
    .ao_merge = max_merge,
    .ao_result = scalar_result,
    .ao_encode = extreme_encode,
    .ao_decode = extreme_decode,
    .ao_destroy = scalar_destroy,
    .ao_heap = scalar_heap,
};

/* FIRST and LAST: sign 1 keeps the smallest (time, offset, value), -1 the largest. */
typedef struct pick_state {
    scalar_t ps_v; /* first, so that ao_result, ao_destroy and ao_heap see a scalar_t */
    int64_t ps_time;
    int64_t ps_offset;
} pick_state_t;

static void pick_init(void *st, bwm_type_t arg, const bwm_agg_params_t *params)
{
    pick_state_t *s = st;

    (void)params;
    scalar_init(&s->ps_v, arg);
    s->ps_time = 0;
    s->ps_offset = 0;
}

static bwm_err_t pick_offer(pick_state_t *s, int64_t time, int64_t offset, const bwm_value_t *x,
                            int sign)
{
    bwm_err_t err;

    if (s->ps_v.sc_any) {
        int c = (time > s->ps_time) - (time < s->ps_time);

        if (c == 0) {
            c = (offset > s->ps_offset) - (offset < s->ps_offset);
        }
        if (c == 0) {
            c = scalar_cmp(x, &s->ps_v);
        }
        if (sign * c >= 0) {
            return BWM_OK;
        }
    }
    err = scalar_set(&s->ps_v, x);
    if (err) {
        return err;
    }
    s->ps_time = time;
    s->ps_offset = offset;
    return BWM_OK;
}

static bwm_err_t first_add(void *st, const bwm_agg_input_t *in)
{
    pick_state_t *s = st;
    bwm_value_t x = scalar_arg(&s->ps_v, in->ai_value);

    return pick_offer(s, in->ai_time, in->ai_offset, &x, 1);
}

static bwm_err_t last_add(void *st, const bwm_agg_input_t *in)
{
    pick_state_t *s = st;
    bwm_value_t x = scalar_arg(&s->ps_v, in->ai_value);

    return pick_offer(s, in->ai_time, in->ai_offset, &x, -1);
}

static bwm_err_t pick_merge(void *dst, const void *src, int sign)
{
    const pick_state_t *s = src;
    bwm_value_t x = scalar_value(&s->ps_v);

    if (x.v_type == BWM_T_NULL) {
        return BWM_OK;
    }
    return pick_offer(dst, s->ps_time, s->ps_offset, &x, sign);
}

static bwm_err_t first_merge(void *dst, const void *src)
{
    return pick_merge(dst, src, 1);
}

static bwm_err_t last_merge(void *dst, const void *src)
{
    return pick_merge(dst, src, -1);
}

static void pick_encode(const void *st, bwm_buf_t *b)
{
    const pick_state_t *s = st;

    bwm_buf_put_u8(b, VALUE_FORMAT);
    bwm_buf_put_u8(b, s->ps_v.sc_type);
    bwm_buf_put_u8(b, s->ps_v.sc_any);
    if (s->ps_v.sc_any) {
        bwm_buf_put_i64le(b, s->ps_time);
        bwm_buf_put_i64le(b, s->ps_offset);
        scalar_encode_value(&s->ps_v, b);
    }
}

static bwm_err_t pick_decode(void *st, bwm_cursor_t *c)
{
    pick_state_t *s = st, t;
    int any = decode_header(&s->ps_v, c);
    bwm_err_t err;

    if (any < 0) {
        return BWM_ERR_DECODE;
    }
    pick_init(&t, (bwm_type_t)s->ps_v.sc_type, NULL);
    if (any) {
        t.ps_time = bwm_cursor_i64le(c);
        t.ps_offset = bwm_cursor_i64le(c);
        err = c->c_failed ? BWM_ERR_DECODE : scalar_decode_value(&t.ps_v, c);
        if (err) {
            scalar_free(&t.ps_v);
            return err;
        }
    }
    scalar_free(&s->ps_v);
    *s = t;
    return BWM_OK;
}

const bwm_agg_ops_t bwm_agg_first = {
    .ao_name = "FIRST",
    .ao_id = 10,
    .ao_state_size = sizeof(pick_state_t),
    .ao_result_type = scalar_result_type,
    .ao_result_nullable = 1,
    .ao_init = pick_init,
    .ao_add = first_add,
    .ao_merge = first_merge,
    .ao_result = scalar_result,
    .ao_encode = pick_encode,
    .ao_decode = pick_decode,
    .ao_destroy = scalar_destroy,
    .ao_heap = scalar_heap,
};

const bwm_agg_ops_t bwm_agg_last = {
    .ao_name = "LAST",
    .ao_id = 11,
    .ao_state_size = sizeof(pick_state_t),
    .ao_result_type = scalar_result_type,
    .ao_result_nullable = 1,
    .ao_init = pick_init,
    .ao_add = last_add,
    .ao_merge = last_merge,
    .ao_result = scalar_result,
    .ao_encode = pick_encode,
    .ao_decode = pick_decode,
    .ao_destroy = scalar_destroy,
    .ao_heap = scalar_heap,
};
