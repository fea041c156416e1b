/*
 * schema.h: an Avro record schema as bwm uses it: the avro-c schema for
 * decoding and encoding, its JSON text (for the registry), and what the engine
 * needs to know of each top-level field, logical types included (avro-c drops
 * those, so they are read from the JSON here).
 */
#ifndef BWM_SCHEMA_H
#define BWM_SCHEMA_H

#include <avro.h>
#include <jansson.h>

#include "err.h"
#include "value.h"

typedef struct bwm_schema bwm_schema_t;

typedef struct bwm_field_info {
    int fi_index;            /* position in the record */
    const char *fi_name;     /* owned by the schema */
    avro_type_t fi_avro;     /* the non-null type: AVRO_INT, AVRO_STRING, AVRO_ENUM ... */
    bwm_type_t fi_type;      /* what the engine sees; BWM_T_NULL when not a scalar */
    int fi_union;            /* declared as a union */
    int fi_null_branch;      /* branch index of "null" in the union, or -1 */
    int fi_value_branch;     /* branch index of the value type, or -1 when not a union */
    const char *fi_logical;  /* "timestamp-millis", ... or NULL; owned by the schema */
    int fi_has_default;      /* the field declares a default */
    avro_schema_t fi_schema; /* the value's schema (the non-null branch of a union) */
    json_t *fi_json;         /* the field's JSON "type", or NULL; owned by the schema */
} bwm_field_info_t;

/*
 * Parses an Avro schema whose top level is a record. Returns NULL with a
 * message on error. Caller frees with bwm_schema_destroy().
 */
bwm_schema_t *bwm_schema_parse(const char *json, size_t len, char *errstr, size_t errstr_size);
void bwm_schema_destroy(bwm_schema_t *s);

/* The avro-c schema; owned by s. */
avro_schema_t bwm_schema_avro(const bwm_schema_t *s);
/* The JSON text the schema was parsed from, NUL-terminated; owned by s. */
const char *bwm_schema_json(const bwm_schema_t *s);
/* The record's full name (namespace.name). */
const char *bwm_schema_name(const bwm_schema_t *s);

size_t bwm_schema_field_count(const bwm_schema_t *s);
const bwm_field_info_t *bwm_schema_field_at(const bwm_schema_t *s, size_t i);
/* Returns the top-level field named name, or NULL. */
const bwm_field_info_t *bwm_schema_field(const bwm_schema_t *s, const char *name);

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

#endif
