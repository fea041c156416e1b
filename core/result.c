/*
 * result.c: result records through avro-c generic values of the output
 * schema.
 */
#include "result.h"

#include <stdlib.h>
#include <string.h>

struct bwm_result_enc {
    bwm_schema_t *r_schema;
    avro_value_iface_t *r_iface;
    avro_value_t r_value;
    int r_value_ok;
    avro_writer_t r_writer;
    size_t r_nfields;
};

void bwm_result_enc_destroy(bwm_result_enc_t *r)
{
    if (!r) {
        return;
    }
    if (r->r_writer) {
        avro_writer_free(r->r_writer);
    }
    if (r->r_value_ok) {
        avro_value_decref(&r->r_value);
    }
    if (r->r_iface) {
        avro_value_iface_decref(r->r_iface);
    }
    bwm_schema_destroy(r->r_schema);
    free(r);
}

bwm_result_enc_t *bwm_result_enc_new(const bwm_plan_t *plan, char *errstr, size_t errstr_size)
{
    bwm_result_enc_t *r = calloc(1, sizeof(*r));

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
    r->r_iface = avro_generic_class_from_schema(bwm_schema_avro(r->r_schema));
    if (!r->r_iface || avro_generic_value_new(r->r_iface, &r->r_value) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot build a writer: %s",
                    avro_strerror());
        goto err;
    }
    r->r_value_ok = 1;
    r->r_writer = avro_writer_memory(NULL, 0);
    if (!r->r_writer) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
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

/* Sets a scalar into an Avro value of the matching type (or the non-null branch of a union). */
static int set_scalar(avro_value_t *field, const bwm_value_t *v)
{
    avro_value_t target = *field, branch;
    avro_type_t t;

    if (avro_value_get_type(field) == AVRO_UNION) {
        if (v->v_type == BWM_T_NULL) {
            return avro_value_set_branch(field, 0, &branch) || avro_value_set_null(&branch);
        }
        if (avro_value_set_branch(field, 1, &branch)) {
            return -1;
        }
        target = branch;
    }
    t = avro_value_get_type(&target);
    switch (v->v_type) {
        case BWM_T_BOOL:
            return t == AVRO_BOOLEAN ? avro_value_set_boolean(&target, v->u.v_bool) : -1;
        case BWM_T_LONG:
            if (t == AVRO_DOUBLE) {
                return avro_value_set_double(&target, (double)v->u.v_long);
            }
            return t == AVRO_INT64 ? avro_value_set_long(&target, v->u.v_long) : -1;
        case BWM_T_DOUBLE:
            return t == AVRO_DOUBLE ? avro_value_set_double(&target, v->u.v_double) : -1;
        case BWM_T_STRING:
            return t == AVRO_STRING
                       ? avro_value_set_string_len(&target, v->u.v_str.n ? v->u.v_str.p : "",
                                                   v->u.v_str.n + 1)
                       : -1;
        case BWM_T_NULL:
            return -1;
    }
    return -1;
}

bwm_err_t bwm_result_encode(bwm_result_enc_t *r, const bwm_value_t *fields, bwm_buf_t *b,
                            char *errstr, size_t errstr_size)
{
    avro_value_t field;
    size_t i, size;

    avro_value_reset(&r->r_value);
    for (i = 0; i < r->r_nfields; i++) {
        const char *name;

        if (avro_value_get_by_index(&r->r_value, i, &field, &name) ||
            set_scalar(&field, &fields[i])) {
            return bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                               "result field %zu cannot hold a %s value", i,
                               bwm_type_name(fields[i].v_type));
        }
    }
    if (avro_value_sizeof(&r->r_value, &size) != 0) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot size result: %s",
                           avro_strerror());
    }
    if (bwm_buf_reserve(b, size) != BWM_OK) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    avro_writer_memory_set_dest(r->r_writer, (char *)b->b_data + b->b_len, (int64_t)size);
    if (avro_value_write(r->r_writer, &r->r_value) != 0) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot write result: %s",
                           avro_strerror());
    }
    b->b_len += size;
    return BWM_OK;
}
