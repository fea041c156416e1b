/*
 * avro.h: bwm's own model of Avro schemas, and the codecs built on it.
 * Parsed from the schema's JSON (with jansson), it keeps what avro-c drops:
 * logical types, defaults, aliases, enum defaults. Named types may refer to
 * themselves, so the model is a graph whose nodes the schema owns.
 *
 * The codecs read and write Avro's binary encoding within limits that bound
 * every length, count and depth, so hostile bytes cost nothing but an error:
 *   bwm_avro_check()      validates one datum without building anything;
 *   bwm_avro_to_json()    renders a datum as JSON for people and scripts;
 *   bwm_avro_from_json()  encodes a JSON value following Avro's JSON encoding.
 */
#ifndef BWM_AVRO_H
#define BWM_AVRO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef enum bwm_avro_type {
    BWM_AVRO_NULL,
    BWM_AVRO_BOOLEAN,
    BWM_AVRO_INT,
    BWM_AVRO_LONG,
    BWM_AVRO_FLOAT,
    BWM_AVRO_DOUBLE,
    BWM_AVRO_BYTES,
    BWM_AVRO_STRING,
    BWM_AVRO_RECORD,
    BWM_AVRO_ENUM,
    BWM_AVRO_ARRAY,
    BWM_AVRO_MAP,
    BWM_AVRO_UNION,
    BWM_AVRO_FIXED,
} bwm_avro_type_t;

/* Logical types; a logicalType the spec does not know, or one on the wrong type, is NONE. */
typedef enum bwm_avro_logical {
    BWM_LOGICAL_NONE,
    BWM_LOGICAL_DECIMAL,          /* bytes or fixed; an_precision, an_scale */
    BWM_LOGICAL_UUID,             /* string */
    BWM_LOGICAL_DATE,             /* int: days since 1970-01-01 */
    BWM_LOGICAL_TIME_MILLIS,      /* int */
    BWM_LOGICAL_TIME_MICROS,      /* long */
    BWM_LOGICAL_TIMESTAMP_MILLIS, /* long, UTC */
    BWM_LOGICAL_TIMESTAMP_MICROS,
    BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS, /* long, no time zone */
    BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS,
} bwm_avro_logical_t;

typedef struct bwm_avro_node bwm_avro_node_t;

typedef struct bwm_avro_field {
    char *af_name;
    char **af_aliases;
    size_t af_naliases;
    bwm_avro_node_t *af_type;
    json_t *af_default; /* the "default" as written, or NULL when there is none */
} bwm_avro_field_t;

struct bwm_avro_node {
    bwm_avro_type_t an_type;
    bwm_avro_logical_t an_logical;
    int an_precision; /* decimal */
    int an_scale;
    char *an_name;     /* named types (record, enum, fixed): the full name */
    char **an_aliases; /* full names */
    size_t an_naliases;
    bwm_avro_field_t *an_fields; /* record */
    size_t an_nfields;
    char **an_symbols; /* enum */
    size_t an_nsymbols;
    int an_enum_default;           /* index of the enum's default symbol, or -1 */
    bwm_avro_node_t *an_items;     /* array */
    bwm_avro_node_t *an_values;    /* map */
    bwm_avro_node_t **an_branches; /* union */
    size_t an_nbranches;
    size_t an_size; /* fixed */
};

typedef struct bwm_avro_schema bwm_avro_schema_t;

/*
 * Parses an Avro schema (any type at the top). Errors say what and where
 * ("field 'speed' of bwm.samples.Telemetry: unknown type 'dubble'"). Caller
 * frees with bwm_avro_schema_destroy().
 */
bwm_avro_schema_t *bwm_avro_schema_parse(const char *json, size_t len, char *errstr,
                                         size_t errstr_size);
void bwm_avro_schema_destroy(bwm_avro_schema_t *s);

/* The top node; owned by s. */
const bwm_avro_node_t *bwm_avro_schema_root(const bwm_avro_schema_t *s);

/* The field of record node rec named name (or, with aliases, aliased so), or NULL. */
const bwm_avro_field_t *bwm_avro_field(const bwm_avro_node_t *rec, const char *name, int aliases);

/* The spec's name of a type ("record", "long", ...). */
const char *bwm_avro_type_name(bwm_avro_type_t t);

/* Whether s is a valid Avro name (one part of a full name): [A-Za-z_][A-Za-z0-9_]*. */
int bwm_avro_name_ok(const char *s);

/*
 * Bounds on one datum, so no input can make a codec allocate, loop or
 * recurse without limit.
 */
typedef struct bwm_avro_limits {
    size_t al_max_depth; /* nesting of records, arrays, maps and unions */
    size_t al_max_bytes; /* one string, bytes or fixed */
    size_t al_max_items; /* array items plus map entries in one datum */
} bwm_avro_limits_t;

/* Defaults: depth 64, 1 MiB per string, 1,000,000 items. */
extern const bwm_avro_limits_t bwm_avro_default_limits;

/*
 * Checks that p[0 .. n) starts with one datum of node and sets *used to its
 * length. BWM_ERR_DECODE (or BWM_ERR_LIMIT for a limit) with a message naming
 * the field path and the byte offset: a truncated varint, a negative or
 * oversized length, a bad union or enum index, too deep, too many items.
 */
bwm_err_t bwm_avro_check(const bwm_avro_node_t *node, const void *p, size_t n,
                         const bwm_avro_limits_t *limits, size_t *used, char *errstr,
                         size_t errstr_size);

/* How bwm_avro_to_json() writes values. */
typedef enum bwm_avro_json_mode {
    /*
     * For people and scripts: unions unwrapped to the value, timestamps as
     * ISO-8601 text (UTC "2026-01-01T00:00:00.123Z"; local ones without Z),
     * dates "2026-01-01", times "12:30:00.250", decimals as exact decimal
     * text in a JSON string ("-12.30"), uuids as text, bytes and fixed as
     * Avro's JSON (one code point per byte), NaN and infinities as strings.
     */
    BWM_AVRO_JSON_READABLE,
    /* Avro's own JSON encoding: unions as {"type": value}, logical types as their base type. */
    BWM_AVRO_JSON_AVRO,
} bwm_avro_json_mode_t;

/* Appends the JSON text of the datum at p[0 .. n) to out (checked as bwm_avro_check does). */
bwm_err_t bwm_avro_to_json(const bwm_avro_node_t *node, const void *p, size_t n,
                           const bwm_avro_limits_t *limits, bwm_avro_json_mode_t mode,
                           bwm_buf_t *out, size_t *used, char *errstr, size_t errstr_size);

/*
 * Appends the binary encoding of a JSON value to out, following Avro's JSON
 * encoding (unions as {"type": value} or null, bytes as \u00XX text), and
 * also accepting the readable forms bwm_avro_to_json() writes (ISO-8601
 * timestamps, decimal text, bare values for unions whose branch is clear).
 * Record fields may be omitted when they have a default. Errors name the
 * field path ("$.location.lat: expected a number, got \"north\"").
 */
bwm_err_t bwm_avro_from_json(const bwm_avro_node_t *node, const json_t *value, bwm_buf_t *out,
                             char *errstr, size_t errstr_size);

#endif
