/*
 * agg.c: the aggregate functions. Each is a state struct and a table of
 * operations; encodings start with a one-byte format version.
 */
#include "agg.h"

#include <strings.h>

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
    (void)in;
    ((count_state_t *)st)->cs_n++;
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
    bwm_buf_put_u8(b, 1);
    bwm_buf_put_i64le(b, ((const count_state_t *)st)->cs_n);
}

static bwm_err_t count_decode(void *st, bwm_cursor_t *c)
{
    if (bwm_cursor_u8(c) != 1) {
        return BWM_ERR_DECODE;
    }
    ((count_state_t *)st)->cs_n = bwm_cursor_i64le(c);
    return c->c_failed ? BWM_ERR_DECODE : BWM_OK;
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

static bwm_type_t sum_result_type(bwm_type_t arg)
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
        s->ss_double += v->v_type == BWM_T_LONG ? (double)v->u.v_long : v->u.v_double;
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

    bwm_buf_put_u8(b, 1);
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
    uint8_t type;

    if (bwm_cursor_u8(c) != 1) {
        return BWM_ERR_DECODE;
    }
    type = bwm_cursor_u8(c);
    if (type != s->ss_type) {
        return BWM_ERR_DECODE;
    }
    s->ss_any = bwm_cursor_u8(c) != 0;
    if (type == BWM_T_LONG) {
        s->ss_long = bwm_cursor_i64le(c);
    } else {
        s->ss_double = bwm_cursor_f64le(c);
    }
    return c->c_failed ? BWM_ERR_DECODE : BWM_OK;
}

static const bwm_agg_ops_t agg_sum = {
    .ao_name = "SUM",
    .ao_id = 2,
    .ao_state_size = sizeof(sum_state_t),
    .ao_star = 0,
    .ao_result_type = sum_result_type,
    .ao_result_nullable = 1,
    .ao_init = sum_init,
    .ao_check = sum_check,
    .ao_add = sum_add,
    .ao_merge = sum_merge,
    .ao_result = sum_result,
    .ao_encode = sum_encode,
    .ao_decode = sum_decode,
};

static const bwm_agg_ops_t *const aggs[] = {&agg_count, &agg_sum};

const bwm_agg_ops_t *bwm_agg_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
        if (strcasecmp(aggs[i]->ao_name, name) == 0) {
            return aggs[i];
        }
    }
    return NULL;
}

const char *bwm_agg_names(void)
{
    return "COUNT, SUM";
}
