/*
 * schema.h: an Avro record schema as the engine sees it: the parsed model
 * (core/avro.h), its JSON text (for the registry), and a description of each
 * field a query can read, logical types included.
 */
#ifndef BWM_SCHEMA_H
#define BWM_SCHEMA_H

#include "avro.h"
#include "err.h"
#include "value.h"

typedef struct bwm_schema bwm_schema_t;

typedef struct bwm_field_info {
    int fi_index;        /* position in its record */
    const char *fi_name; /* owned by the schema */
    const bwm_avro_field_t *fi_field;
    const bwm_avro_node_t *fi_node; /* the value's type: the non-null branch of a union */
    bwm_avro_type_t fi_avro;        /* fi_node's type; BWM_AVRO_UNION for several non-null */
    bwm_type_t fi_type;             /* what the engine sees; BWM_T_NULL when not a scalar */
    int fi_union;                   /* declared as a union */
    int fi_null_branch;             /* branch index of "null" in the union, or -1 */
    int fi_value_branch;            /* branch index of the value type, or -1 */
    const char *fi_logical;         /* "timestamp-millis", ... or NULL */
    int fi_has_default;             /* the field declares a default */
} bwm_field_info_t;

/*
 * Parses an Avro schema whose top level is a record. Returns NULL with a
 * message on error. Caller frees with bwm_schema_destroy().
 */
bwm_schema_t *bwm_schema_parse(const char *json, size_t len, char *errstr, size_t errstr_size);
void bwm_schema_destroy(bwm_schema_t *s);

/* The model's top record; owned by s. */
const bwm_avro_node_t *bwm_schema_root(const bwm_schema_t *s);
/* The JSON text the schema was parsed from, NUL-terminated; owned by s. */
const char *bwm_schema_json(const bwm_schema_t *s);
/* The record's full name (namespace.name). */
const char *bwm_schema_name(const bwm_schema_t *s);

size_t bwm_schema_field_count(const bwm_schema_t *s);
const bwm_field_info_t *bwm_schema_field_at(const bwm_schema_t *s, size_t i);

/* Describes field i of record node rec. */
void bwm_schema_describe(const bwm_avro_node_t *rec, size_t i, bwm_field_info_t *fi);

#define BWM_PATH_UNKNOWN    (-1) /* no field has that name */
#define BWM_PATH_AMBIGUOUS  (-2) /* several fields match it case-insensitively */
#define BWM_PATH_NOT_RECORD (-3) /* a field before the last is not a record */

/*
 * Resolves the nested field names[0].names[1]... into out[0 .. n-1], one
 * description per level (every level but the last must be a record, perhaps
 * in a nullable union). With icase, a name that matches no field exactly may
 * match one field case-insensitively. Returns 0, or a BWM_PATH_ error with
 * *bad_level set to the level at fault.
 */
int bwm_schema_path(const bwm_schema_t *s, const char *const *names, size_t n, int icase,
                    bwm_field_info_t *out, size_t *bad_level);

/* The logical type's name as Avro writes it, or NULL for none. */
const char *bwm_logical_name(bwm_avro_logical_t l);

#endif
