/*
 * result.c: result records through avro-c generic values of the output
 * schema.
 */
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bwm_result_enc {
    const bwm_plan_t *r_plan;
    bwm_schema_t *r_schema;
    avro_value_iface_t *r_iface;
    avro_value_t r_value;
    int r_value_ok;
    avro_writer_t r_writer;
    bwm_value_t *r_results;
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
    free(r->r_results);
    free(r);
}

bwm_result_enc_t *bwm_result_enc_new(const bwm_plan_t *plan, char *errstr, size_t errstr_size)
{
    bwm_result_enc_t *r = calloc(1, sizeof(*r));

    if (!r) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    r->r_plan = plan;
    r->r_schema =
        bwm_schema_parse(plan->p_output_schema, strlen(plan->p_output_schema), errstr, errstr_size);
    if (!r->r_schema) {
        goto err;
    }
    r->r_iface = avro_generic_class_from_schema(bwm_schema_avro(r->r_schema));
    if (!r->r_iface || avro_generic_value_new(r->r_iface, &r->r_value) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot build a writer: %s",
                    avro_strerror());
        goto err;
    }
    r->r_value_ok = 1;
    r->r_writer = avro_writer_memory(NULL, 0);
    r->r_results = calloc(plan->p_naggs, sizeof(*r->r_results));
    if (!r->r_writer || !r->r_results) {
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

/* Sets a scalar into an Avro value of the matching type (or the non-null branch of a union). */
static int set_scalar(avro_value_t *field, const bwm_value_t *v)
{
    avro_value_t target = *field, branch;

    if (avro_value_get_type(field) == AVRO_UNION) {
        if (v->v_type == BWM_T_NULL) {
            return avro_value_set_branch(field, 0, &branch) || avro_value_set_null(&branch);
        }
        if (avro_value_set_branch(field, 1, &branch)) {
            return -1;
        }
        target = branch;
    }
    switch (v->v_type) {
        case BWM_T_BOOL:
            return avro_value_set_boolean(&target, v->u.v_bool);
        case BWM_T_LONG:
            return avro_value_set_long(&target, v->u.v_long);
        case BWM_T_DOUBLE:
            return avro_value_set_double(&target, v->u.v_double);
        case BWM_T_STRING:
            return avro_value_set_string_len(&target, v->u.v_str.p, v->u.v_str.n + 1);
        case BWM_T_NULL:
            return avro_value_set_null(&target);
    }
    return -1;
}

/* Turns key text back into the key's typed value. */
static bwm_err_t key_value(const bwm_plan_t *p, const bwm_entry_t *e, bwm_value_t *v)
{
    char *end;

    switch (p->p_key_type) {
        case BWM_T_LONG:
            errno = 0;
            v->v_type = BWM_T_LONG;
            v->u.v_long = strtoll(e->e_key, &end, 10);
            return errno || *end ? BWM_ERR_DECODE : BWM_OK;
        case BWM_T_BOOL:
            v->v_type = BWM_T_BOOL;
            v->u.v_bool = strcmp(e->e_key, "true") == 0;
            return BWM_OK;
        default:
            v->v_type = BWM_T_STRING;
            v->u.v_str.p = e->e_key;
            v->u.v_str.n = e->e_keylen;
            return BWM_OK;
    }
}

bwm_err_t bwm_result_encode(bwm_result_enc_t *r, const bwm_table_t *t, const bwm_entry_t *e,
                            bwm_buf_t *b, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = r->r_plan;
    avro_value_t field;
    bwm_value_t v;
    size_t i, size;
    int rc = 0;

    if (key_value(p, e, &v) != BWM_OK) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "key '%s' is not a %s", e->e_key,
                           bwm_type_name(p->p_key_type));
    }
    avro_value_reset(&r->r_value);
    rc |= avro_value_get_by_index(&r->r_value, 0, &field, NULL) || set_scalar(&field, &v);
    bwm_table_result(t, e, r->r_results);
    for (i = 0; i < p->p_naggs; i++) {
        rc |= avro_value_get_by_index(&r->r_value, i + 1, &field, NULL) ||
              set_scalar(&field, &r->r_results[i]);
    }
    v.v_type = BWM_T_LONG;
    v.u.v_long = e->e_version;
    rc |= avro_value_get_by_index(&r->r_value, p->p_naggs + 1, &field, NULL) ||
          set_scalar(&field, &v);
    if (rc || avro_value_sizeof(&r->r_value, &size) != 0) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot build result: %s",
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
