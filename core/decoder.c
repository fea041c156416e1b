/*
 * decoder.c: slot decoding through avro-c's generic reader with the writer
 * schema, then a by-name mapping to the reader's slots (avro-c's own schema
 * resolution cannot fill defaults and fails on unions, so it is not used).
 */
#include "decoder.h"

#include "avrocheck.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot_map {
    int sm_index[BWM_SLOT_MAX_DEPTH]; /* writer field index per level */
    size_t sm_depth;                  /* 0: absent from the writer (reader default: null) */
    avro_type_t sm_avro;
    bwm_type_t sm_type;
    int sm_nullable;
    const char *sm_name;
} slot_map_t;

struct bwm_decoder {
    avro_schema_t d_schema;
    avro_value_iface_t *d_iface;
    avro_value_t d_value;
    int d_value_ok;
    avro_reader_t d_reader;
    slot_map_t *d_map;
    size_t d_nslots;
};

void bwm_decoder_destroy(bwm_decoder_t *d)
{
    if (!d) {
        return;
    }
    if (d->d_reader) {
        avro_reader_free(d->d_reader);
    }
    if (d->d_value_ok) {
        avro_value_decref(&d->d_value);
    }
    if (d->d_iface) {
        avro_value_iface_decref(d->d_iface);
    }
    if (d->d_schema) {
        avro_schema_decref(d->d_schema);
    }
    free(d->d_map);
    free(d);
}

/* Whether a writer type can be read as the reader's slot type (Avro promotion rules). */
static int type_readable(avro_type_t w, bwm_type_t r)
{
    switch (r) {
        case BWM_T_BOOL:
            return w == AVRO_BOOLEAN;
        case BWM_T_LONG:
            return w == AVRO_INT32 || w == AVRO_INT64;
        case BWM_T_DOUBLE:
            return w == AVRO_INT32 || w == AVRO_INT64 || w == AVRO_FLOAT || w == AVRO_DOUBLE;
        case BWM_T_STRING:
            return w == AVRO_STRING || w == AVRO_ENUM;
        case BWM_T_NULL:
            return 0;
    }
    return 0;
}

bwm_decoder_t *bwm_decoder_new(const bwm_schema_t *writer, const bwm_slot_spec_t *slots,
                               size_t nslots, char *errstr, size_t errstr_size)
{
    bwm_decoder_t *d = calloc(1, sizeof(*d));
    size_t i;

    if (!d) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    d->d_map = calloc(nslots ? nslots : 1, sizeof(*d->d_map));
    if (!d->d_map) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    d->d_nslots = nslots;
    for (i = 0; i < nslots; i++) {
        bwm_field_info_t info[BWM_SLOT_MAX_DEPTH];
        const bwm_field_info_t *fi;
        slot_map_t *m = &d->d_map[i];
        size_t level, bad = 0;
        int rc;

        m->sm_name = slots[i].ss_name;
        m->sm_type = slots[i].ss_type;
        m->sm_nullable = slots[i].ss_nullable;
        if (slots[i].ss_depth == 0 || slots[i].ss_depth > BWM_SLOT_MAX_DEPTH) {
            bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "slot %s has a bad path",
                        slots[i].ss_name);
            goto err;
        }
        rc = bwm_schema_path(writer, slots[i].ss_path, slots[i].ss_depth, 0, info, &bad);
        if (rc == BWM_PATH_UNKNOWN && slots[i].ss_nullable && slots[i].ss_has_default) {
            m->sm_depth = 0;
            continue;
        }
        if (rc) {
            bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "writer schema %s has no field '%s'%s",
                        bwm_schema_name(writer), slots[i].ss_name,
                        rc == BWM_PATH_UNKNOWN ? " and the reader gives no default"
                                               : " (a field on its path is not a record)");
            goto err;
        }
        fi = &info[slots[i].ss_depth - 1];
        if (!type_readable(fi->fi_avro, slots[i].ss_type)) {
            bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size,
                        "field '%s' of writer schema %s cannot be read as %s", slots[i].ss_name,
                        bwm_schema_name(writer), bwm_type_name(slots[i].ss_type));
            goto err;
        }
        for (level = 0; level < slots[i].ss_depth; level++) {
            m->sm_index[level] = info[level].fi_index;
        }
        m->sm_depth = slots[i].ss_depth;
        m->sm_avro = fi->fi_avro;
    }
    d->d_schema = avro_schema_incref(bwm_schema_avro(writer));
    d->d_iface = avro_generic_class_from_schema(d->d_schema);
    if (!d->d_iface || avro_generic_value_new(d->d_iface, &d->d_value) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot build a reader: %s",
                    avro_strerror());
        goto err;
    }
    d->d_value_ok = 1;
    d->d_reader = avro_reader_memory(NULL, 0);
    if (!d->d_reader) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    return d;
err:
    bwm_decoder_destroy(d);
    return NULL;
}

static bwm_err_t read_scalar(avro_value_t *v, avro_type_t t, bwm_type_t want, bwm_value_t *out)
{
    int32_t i32;
    int64_t i64;
    float f;
    double dv;
    int b, sym;
    const char *s;
    size_t n;

    switch (t) {
        case AVRO_BOOLEAN:
            avro_value_get_boolean(v, &b);
            out->v_type = BWM_T_BOOL;
            out->u.v_bool = b != 0;
            return BWM_OK;
        case AVRO_INT32:
            avro_value_get_int(v, &i32);
            i64 = i32;
            goto integer;
        case AVRO_INT64:
            avro_value_get_long(v, &i64);
        integer:
            if (want == BWM_T_DOUBLE) {
                out->v_type = BWM_T_DOUBLE;
                out->u.v_double = (double)i64;
            } else {
                out->v_type = BWM_T_LONG;
                out->u.v_long = i64;
            }
            return BWM_OK;
        case AVRO_FLOAT:
            avro_value_get_float(v, &f);
            out->v_type = BWM_T_DOUBLE;
            out->u.v_double = f;
            return BWM_OK;
        case AVRO_DOUBLE:
            avro_value_get_double(v, &dv);
            out->v_type = BWM_T_DOUBLE;
            out->u.v_double = dv;
            return BWM_OK;
        case AVRO_STRING:
            avro_value_get_string(v, &s, &n);
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = s;
            out->u.v_str.n = n ? n - 1 : 0; /* avro-c counts the trailing NUL */
            return BWM_OK;
        case AVRO_ENUM: {
            avro_schema_t es = avro_value_get_schema(v);

            avro_value_get_enum(v, &sym);
            s = avro_schema_enum_get(es, sym);
            if (!s) {
                return BWM_ERR_DECODE;
            }
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = s;
            out->u.v_str.n = strlen(s);
            return BWM_OK;
        }
        default:
            return BWM_ERR_TYPE;
    }
}

bwm_err_t bwm_decoder_decode(bwm_decoder_t *d, const void *body, size_t len, bwm_value_t *out,
                             char *errstr, size_t errstr_size)
{
    size_t i, used;
    bwm_err_t err;

    err = bwm_avro_check(d->d_schema, body, len, &used, errstr, errstr_size);
    if (err) {
        return err;
    }
    avro_value_reset(&d->d_value);
    avro_reader_memory_set_source(d->d_reader, body, (int64_t)len);
    if (avro_value_read(d->d_reader, &d->d_value) != 0) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "Avro body of %zu bytes does not decode: %s", len, avro_strerror());
    }
    for (i = 0; i < d->d_nslots; i++) {
        slot_map_t *m = &d->d_map[i];
        avro_value_t cur = d->d_value, next;
        size_t level;

        if (m->sm_depth == 0) {
            out[i].v_type = BWM_T_NULL;
            continue;
        }
        for (level = 0; level < m->sm_depth; level++) {
            avro_value_get_by_index(&cur, (size_t)m->sm_index[level], &next, NULL);
            if (avro_value_get_type(&next) == AVRO_UNION) {
                avro_value_t branch;

                avro_value_get_current_branch(&next, &branch);
                next = branch;
            }
            if (avro_value_get_type(&next) == AVRO_NULL) {
                break;
            }
            cur = next;
        }
        if (level < m->sm_depth) {
            if (!m->sm_nullable) {
                return bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                                   "field '%s' is null but the reader does not allow null",
                                   m->sm_name);
            }
            out[i].v_type = BWM_T_NULL;
            continue;
        }
        if (read_scalar(&cur, avro_value_get_type(&cur), m->sm_type, &out[i]) != BWM_OK) {
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                               "field '%s' holds an unexpected type", m->sm_name);
        }
    }
    return BWM_OK;
}
