/*
 * result.c: result records written straight in Avro's binary encoding
 * (zig-zag varints, little-endian doubles, length-prefixed strings, union
 * branch indexes), field by field as the output schema lays them out.
 */
#include "result.h"

#include <stdlib.h>
#include <string.h>

/* How one field is written: its type and where null sits in its union. */
typedef struct field_enc {
    bwm_type_t fe_type;
    int fe_union;      /* written as a union */
    int fe_null_index; /* union branch of null, or -1 */
    int fe_value_index;
} field_enc_t;

struct bwm_result_enc {
    bwm_schema_t *r_schema;
    field_enc_t *r_fields;
    size_t r_nfields;
};

void bwm_result_enc_destroy(bwm_result_enc_t *r)
{
    if (!r) {
        return;
    }
    bwm_schema_destroy(r->r_schema);
    free(r->r_fields);
    free(r);
}

bwm_result_enc_t *bwm_result_enc_new(const bwm_plan_t *plan, char *errstr, size_t errstr_size)
{
    bwm_result_enc_t *r = calloc(1, sizeof(*r));
    size_t i;

    if (!r) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    r->r_schema =
        bwm_schema_parse(plan->p_output_schema, strlen(plan->p_output_schema), errstr, errstr_size);
    if (!r->r_schema) {
        goto err;
    }
    r->r_nfields = bwm_schema_field_count(r->r_schema);
    r->r_fields = calloc(r->r_nfields ? r->r_nfields : 1, sizeof(*r->r_fields));
    if (!r->r_fields) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < r->r_nfields; i++) {
        const bwm_field_info_t *fi = bwm_schema_field_at(r->r_schema, i);

        if (fi->fi_type == BWM_T_NULL) {
            bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "result field %s is not a scalar",
                        fi->fi_name);
            goto err;
        }
        r->r_fields[i].fe_type = fi->fi_type;
        r->r_fields[i].fe_union = fi->fi_union;
        r->r_fields[i].fe_null_index = fi->fi_null_branch;
        r->r_fields[i].fe_value_index = fi->fi_value_branch;
    }
    return r;
err:
    bwm_result_enc_destroy(r);
    return NULL;
}

const bwm_schema_t *bwm_result_enc_schema(const bwm_result_enc_t *r)
{
    return r->r_schema;
}

size_t bwm_result_enc_fields(const bwm_result_enc_t *r)
{
    return r->r_nfields;
}

/* Avro's zig-zag varint encoding of a long. */
static void put_long(bwm_buf_t *b, int64_t v)
{
    uint64_t u = (uint64_t)v, z = (u << 1) ^ (0 - (u >> 63));
    uint8_t out[10];
    size_t n = 0;

    while (z >= 0x80) {
        out[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    out[n++] = (uint8_t)z;
    bwm_buf_put(b, out, n);
}

bwm_err_t bwm_result_encode(bwm_result_enc_t *r, const bwm_value_t *fields, bwm_buf_t *b,
                            char *errstr, size_t errstr_size)
{
    size_t i, start = b->b_len;

    for (i = 0; i < r->r_nfields; i++) {
        const field_enc_t *fe = &r->r_fields[i];
        const bwm_value_t *v = &fields[i];
        int ok = 1;

        if (v->v_type == BWM_T_NULL) {
            if (fe->fe_null_index < 0) {
                b->b_len = start;
                return bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                                   "result field %zu cannot hold a NULL value", i);
            }
            put_long(b, fe->fe_null_index);
            continue;
        }
        if (fe->fe_union) {
            put_long(b, fe->fe_value_index);
        }
        switch (fe->fe_type) {
            case BWM_T_BOOL:
                ok = v->v_type == BWM_T_BOOL;
                bwm_buf_put_u8(b, v->u.v_bool ? 1 : 0);
                break;
            case BWM_T_LONG:
                ok = v->v_type == BWM_T_LONG;
                put_long(b, v->u.v_long);
                break;
            case BWM_T_DOUBLE:
                ok = v->v_type == BWM_T_DOUBLE || v->v_type == BWM_T_LONG;
                bwm_buf_put_f64le(b, v->v_type == BWM_T_LONG ? (double)v->u.v_long : v->u.v_double);
                break;
            case BWM_T_STRING:
                ok = v->v_type == BWM_T_STRING;
                put_long(b, ok ? (int64_t)v->u.v_str.n : 0);
                if (ok) {
                    bwm_buf_put(b, v->u.v_str.p, v->u.v_str.n);
                }
                break;
            default:
                ok = 0;
        }
        if (!ok) {
            b->b_len = start;
            return bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                               "result field %zu cannot hold a %s value", i,
                               bwm_type_name(v->v_type));
        }
    }
    if (b->b_failed) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}
