/*
 * schema.c: record schemas for the engine: top-level field descriptions and
 * nested field paths over the Avro model.
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bwm_schema {
    bwm_avro_schema_t *s_model;
    char *s_json;
    bwm_field_info_t *s_fields;
    size_t s_nfields;
};

void bwm_schema_destroy(bwm_schema_t *s)
{
    if (!s) {
        return;
    }
    bwm_avro_schema_destroy(s->s_model);
    free(s->s_fields);
    free(s->s_json);
    free(s);
}

const char *bwm_logical_name(bwm_avro_logical_t l)
{
    switch (l) {
        case BWM_LOGICAL_DECIMAL:
            return "decimal";
        case BWM_LOGICAL_UUID:
            return "uuid";
        case BWM_LOGICAL_DATE:
            return "date";
        case BWM_LOGICAL_TIME_MILLIS:
            return "time-millis";
        case BWM_LOGICAL_TIME_MICROS:
            return "time-micros";
        case BWM_LOGICAL_TIMESTAMP_MILLIS:
            return "timestamp-millis";
        case BWM_LOGICAL_TIMESTAMP_MICROS:
            return "timestamp-micros";
        case BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
            return "local-timestamp-millis";
        case BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS:
            return "local-timestamp-micros";
        default:
            return NULL;
    }
}

/* The engine's type for values of node: decimals are read as DOUBLE, bytes as STRING. */
static bwm_type_t scalar_type(const bwm_avro_node_t *n)
{
    switch (n->an_type) {
        case BWM_AVRO_BOOLEAN:
            return BWM_T_BOOL;
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            return BWM_T_LONG;
        case BWM_AVRO_FLOAT:
        case BWM_AVRO_DOUBLE:
            return BWM_T_DOUBLE;
        case BWM_AVRO_BYTES:
        case BWM_AVRO_FIXED:
            return n->an_logical == BWM_LOGICAL_DECIMAL ? BWM_T_DOUBLE
                   : n->an_type == BWM_AVRO_BYTES       ? BWM_T_STRING
                                                        : BWM_T_NULL;
        case BWM_AVRO_STRING:
        case BWM_AVRO_ENUM:
            return BWM_T_STRING;
        default:
            return BWM_T_NULL;
    }
}

void bwm_schema_describe(const bwm_avro_node_t *rec, size_t i, bwm_field_info_t *fi)
{
    const bwm_avro_field_t *f = &rec->an_fields[i];
    const bwm_avro_node_t *t = f->af_type;
    size_t b;

    memset(fi, 0, sizeof(*fi));
    fi->fi_index = (int)i;
    fi->fi_name = f->af_name;
    fi->fi_field = f;
    fi->fi_null_branch = -1;
    fi->fi_value_branch = -1;
    fi->fi_has_default = f->af_default != NULL;
    fi->fi_node = t;
    fi->fi_avro = t->an_type;
    if (t->an_type == BWM_AVRO_UNION) {
        fi->fi_union = 1;
        fi->fi_avro = BWM_AVRO_NULL;
        for (b = 0; b < t->an_nbranches; b++) {
            const bwm_avro_node_t *br = t->an_branches[b];

            if (br->an_type == BWM_AVRO_NULL) {
                fi->fi_null_branch = (int)b;
            } else if (fi->fi_value_branch < 0) {
                fi->fi_value_branch = (int)b;
                fi->fi_node = br;
                fi->fi_avro = br->an_type;
            } else {
                /* A union of several non-null types is no scalar for the engine. */
                fi->fi_value_branch = -1;
                fi->fi_node = t;
                fi->fi_avro = BWM_AVRO_UNION;
                break;
            }
        }
    }
    fi->fi_type = fi->fi_avro == BWM_AVRO_UNION ? BWM_T_NULL : scalar_type(fi->fi_node);
    fi->fi_logical = bwm_logical_name(fi->fi_node->an_logical);
}

bwm_schema_t *bwm_schema_parse(const char *json, size_t len, char *errstr, size_t errstr_size)
{
    bwm_schema_t *s = calloc(1, sizeof(*s));
    const bwm_avro_node_t *root;
    size_t i;

    if (!s) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->s_json = strndup(json, len);
    s->s_model = s->s_json ? bwm_avro_schema_parse(json, len, errstr, errstr_size) : NULL;
    if (!s->s_model) {
        goto err;
    }
    root = bwm_avro_schema_root(s->s_model);
    if (root->an_type != BWM_AVRO_RECORD) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "schema is not an Avro record");
        goto err;
    }
    s->s_nfields = root->an_nfields;
    s->s_fields = calloc(s->s_nfields ? s->s_nfields : 1, sizeof(*s->s_fields));
    if (!s->s_fields) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < s->s_nfields; i++) {
        bwm_schema_describe(root, i, &s->s_fields[i]);
    }
    return s;
err:
    bwm_schema_destroy(s);
    return NULL;
}

const bwm_avro_node_t *bwm_schema_root(const bwm_schema_t *s)
{
    return bwm_avro_schema_root(s->s_model);
}

const char *bwm_schema_json(const bwm_schema_t *s)
{
    return s->s_json;
}

const char *bwm_schema_name(const bwm_schema_t *s)
{
    return bwm_schema_root(s)->an_name;
}

size_t bwm_schema_field_count(const bwm_schema_t *s)
{
    return s->s_nfields;
}

const bwm_field_info_t *bwm_schema_field_at(const bwm_schema_t *s, size_t i)
{
    return i < s->s_nfields ? &s->s_fields[i] : NULL;
}

int bwm_schema_path(const bwm_schema_t *s, const char *const *names, size_t n, int icase,
                    bwm_field_info_t *out, size_t *bad_level)
{
    const bwm_avro_node_t *rec = bwm_schema_root(s);
    size_t level;

    for (level = 0; level < n; level++) {
        size_t i, found = rec->an_nfields, matches = 0;

        for (i = 0; i < rec->an_nfields; i++) {
            const char *fname = rec->an_fields[i].af_name;

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
        bwm_schema_describe(rec, found, &out[level]);
        if (level + 1 < n) {
            if (out[level].fi_avro != BWM_AVRO_RECORD) {
                *bad_level = level;
                return BWM_PATH_NOT_RECORD;
            }
            rec = out[level].fi_node;
        }
    }
    return 0;
}
