/*
 * schema.c: parsing an Avro record schema and describing its top-level fields
 * for the engine.
 */
#include "schema.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bwm_schema {
    avro_schema_t s_avro;
    char *s_json;
    char *s_name;
    json_t *s_doc;
    bwm_field_info_t *s_fields;
    size_t s_nfields;
};

void bwm_schema_destroy(bwm_schema_t *s)
{
    if (!s) {
        return;
    }
    if (s->s_avro) {
        avro_schema_decref(s->s_avro);
    }
    json_decref(s->s_doc);
    free(s->s_fields);
    free(s->s_json);
    free(s->s_name);
    free(s);
}

static bwm_type_t scalar_type(avro_type_t t)
{
    switch (t) {
        case AVRO_BOOLEAN:
            return BWM_T_BOOL;
        case AVRO_INT32:
        case AVRO_INT64:
            return BWM_T_LONG;
        case AVRO_FLOAT:
        case AVRO_DOUBLE:
            return BWM_T_DOUBLE;
        case AVRO_STRING:
        case AVRO_ENUM:
            return BWM_T_STRING;
        default:
            return BWM_T_NULL;
    }
}

/* Reads the logicalType of a field's JSON type (or of its non-null union branch). */
static const char *json_logical(json_t *type)
{
    size_t i;
    json_t *b, *lt;

    if (json_is_object(type)) {
        lt = json_object_get(type, "logicalType");
        return json_is_string(lt) ? json_string_value(lt) : NULL;
    }
    if (json_is_array(type)) {
        json_array_foreach(type, i, b)
        {
            if (json_is_object(b)) {
                lt = json_object_get(b, "logicalType");
                if (json_is_string(lt)) {
                    return json_string_value(lt);
                }
            }
        }
    }
    return NULL;
}

/* A named type used by reference is a link in avro-c; follow it. */
static avro_schema_t unlink_schema(avro_schema_t t)
{
    while (t && avro_typeof(t) == AVRO_LINK) {
        t = avro_schema_link_target(t);
    }
    return t;
}

/*
 * Describes field i of record rec. jfields is the record's "fields" JSON
 * array when the record was written inline (else NULL: no logical types).
 */
static void describe(avro_schema_t rec, size_t i, json_t *jfields, bwm_field_info_t *fi)
{
    avro_schema_t ft = unlink_schema(avro_schema_record_field_get_by_index(rec, (int)i));
    json_t *jf = jfields ? json_array_get(jfields, i) : NULL;

    memset(fi, 0, sizeof(*fi));
    fi->fi_index = (int)i;
    fi->fi_name = avro_schema_record_field_name(rec, (int)i);
    fi->fi_null_branch = -1;
    fi->fi_value_branch = -1;
    fi->fi_has_default = jf && json_object_get(jf, "default") != NULL;
    fi->fi_json = jf ? json_object_get(jf, "type") : NULL;
    fi->fi_logical = fi->fi_json ? json_logical(fi->fi_json) : NULL;
    fi->fi_schema = ft;
    if (is_avro_union(ft)) {
        size_t b, n = avro_schema_union_size(ft);

        fi->fi_union = 1;
        fi->fi_avro = AVRO_NULL;
        for (b = 0; b < n; b++) {
            avro_schema_t bs = unlink_schema(avro_schema_union_branch(ft, (int)b));

            if (is_avro_null(bs)) {
                fi->fi_null_branch = (int)b;
            } else if (fi->fi_value_branch < 0) {
                fi->fi_value_branch = (int)b;
                fi->fi_avro = avro_typeof(bs);
                fi->fi_schema = bs;
            } else {
                /* A union of several non-null types is no scalar for the engine. */
                fi->fi_value_branch = -1;
                fi->fi_avro = AVRO_UNION;
                fi->fi_schema = ft;
                break;
            }
        }
    } else {
        fi->fi_avro = avro_typeof(ft);
    }
    fi->fi_type = scalar_type(fi->fi_avro);
}

/* The "fields" array of the record a field's JSON type holds inline, or NULL. */
static json_t *inline_fields(json_t *type)
{
    size_t i;
    json_t *b;

    if (json_is_object(type)) {
        return json_object_get(type, "fields");
    }
    if (json_is_array(type)) {
        json_array_foreach(type, i, b)
        {
            if (json_is_object(b) && json_object_get(b, "fields")) {
                return json_object_get(b, "fields");
            }
        }
    }
    return NULL;
}

int bwm_schema_path(const bwm_schema_t *s, const char *const *names, size_t n, int icase,
                    bwm_field_info_t *out, size_t *bad_level)
{
    avro_schema_t rec = s->s_avro;
    json_t *jfields = json_object_get(s->s_doc, "fields");
    size_t level;

    for (level = 0; level < n; level++) {
        size_t i, nf = avro_schema_record_size(rec), found = nf, matches = 0;

        for (i = 0; i < nf; i++) {
            const char *fname = avro_schema_record_field_name(rec, (int)i);

            if (strcmp(fname, names[level]) == 0) {
                found = i;
                matches = 1;
                break;
            }
            if (icase && strcasecmp(fname, names[level]) == 0) {
                found = i;
                matches++;
            }
        }
        if (matches != 1) {
            *bad_level = level;
            return matches > 1 ? BWM_PATH_AMBIGUOUS : BWM_PATH_UNKNOWN;
        }
        describe(rec, found, jfields, &out[level]);
        if (level + 1 < n) {
            if (out[level].fi_avro != AVRO_RECORD) {
                *bad_level = level;
                return BWM_PATH_NOT_RECORD;
            }
            jfields = out[level].fi_json ? inline_fields(out[level].fi_json) : NULL;
            rec = out[level].fi_schema;
        }
    }
    return 0;
}

bwm_schema_t *bwm_schema_parse(const char *json, size_t len, char *errstr, size_t errstr_size)
{
    bwm_schema_t *s = calloc(1, sizeof(*s));
    json_error_t jerr;
    const char *name, *ns;
    size_t i;

    if (!s) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->s_json = strndup(json, len);
    if (!s->s_json) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    s->s_doc = json_loadb(json, len, 0, &jerr);
    if (!s->s_doc) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "schema is not JSON: %s (line %d)",
                    jerr.text, jerr.line);
        goto err;
    }
    if (avro_schema_from_json_length(s->s_json, len, &s->s_avro) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "invalid Avro schema: %s",
                    avro_strerror());
        s->s_avro = NULL;
        goto err;
    }
    if (!is_avro_record(s->s_avro)) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "schema is not an Avro record");
        goto err;
    }
    name = avro_schema_name(s->s_avro);
    ns = avro_schema_namespace(s->s_avro);
    s->s_name = malloc(strlen(name) + (ns ? strlen(ns) + 1 : 0) + 1);
    if (!s->s_name) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    sprintf(s->s_name, "%s%s%s", ns ? ns : "", ns ? "." : "", name);
    s->s_nfields = avro_schema_record_size(s->s_avro);
    s->s_fields = calloc(s->s_nfields ? s->s_nfields : 1, sizeof(*s->s_fields));
    if (!s->s_fields) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < s->s_nfields; i++) {
        describe(s->s_avro, i, json_object_get(s->s_doc, "fields"), &s->s_fields[i]);
    }
    return s;
err:
    bwm_schema_destroy(s);
    return NULL;
}

avro_schema_t bwm_schema_avro(const bwm_schema_t *s)
{
    return s->s_avro;
}

const char *bwm_schema_json(const bwm_schema_t *s)
{
    return s->s_json;
}

const char *bwm_schema_name(const bwm_schema_t *s)
{
    return s->s_name;
}

size_t bwm_schema_field_count(const bwm_schema_t *s)
{
    return s->s_nfields;
}

const bwm_field_info_t *bwm_schema_field_at(const bwm_schema_t *s, size_t i)
{
    return i < s->s_nfields ? &s->s_fields[i] : NULL;
}

const bwm_field_info_t *bwm_schema_field(const bwm_schema_t *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->s_nfields; i++) {
        if (strcmp(s->s_fields[i].fi_name, name) == 0) {
            return &s->s_fields[i];
        }
    }
    return NULL;
}
