/*
 * decoder.h: turns the Avro body of one record into the slot values the query
 * reads. A decoder is compiled once per (writer schema, reader schema,
 * slots): it walks the writer's encoding, skips the fields no slot reads, and
 * resolves what it reads to the reader's types by Avro's rules (fields
 * matched by name or alias, defaults for fields the writer lacks, numeric
 * promotions, string and bytes, enum symbols by name with the reader's
 * default, union branches). avro-c's own resolution cannot fill defaults and
 * fails on unions, so it is not used.
 */
#ifndef BWM_DECODER_H
#define BWM_DECODER_H

#include <stddef.h>

#include "avro.h"
#include "err.h"
#include "schema.h"
#include "value.h"

/* Deepest field path a slot may name. */
#define BWM_SLOT_MAX_DEPTH 16

/* One field the query reads, typed as the reader (the job) expects it. */
typedef struct bwm_slot_spec {
    const char *ss_name;  /* "a.b.c", for messages */
    const char **ss_path; /* the reader's names along the path: "a", "b", "c" */
    size_t ss_depth;      /* 1 for a top-level field */
    bwm_type_t ss_type;
    int ss_nullable;        /* the reader accepts null (some level is a nullable union) */
    int ss_has_default;     /* the reader field has a default, so a writer may omit it */
    const char *ss_logical; /* Avro logical type of the reader field, or NULL */
} bwm_slot_spec_t;

typedef struct bwm_decoder bwm_decoder_t;

/*
 * Compiles a decoder for records written with writer, read as reader (the
 * job's input schema; the slots' paths are in it). Fails with BWM_ERR_SCHEMA
 * and a message naming the field when the writer cannot be read as the
 * reader (a missing field without default, types that do not promote).
 * writer and reader must outlive the decoder. Caller frees with
 * bwm_decoder_destroy().
 */
bwm_decoder_t *bwm_decoder_new(const bwm_schema_t *writer, const bwm_schema_t *reader,
                               const bwm_slot_spec_t *slots, size_t nslots,
                               const bwm_avro_limits_t *limits, char *errstr, size_t errstr_size);
void bwm_decoder_destroy(bwm_decoder_t *d);

/*
 * Decodes body into out[0 .. nslots-1]. Strings point into body or into the
 * schemas. BWM_ERR_DECODE for bytes that are not a record of the writer
 * schema, BWM_ERR_LIMIT for a configured limit crossed, BWM_ERR_SCHEMA for a
 * value the reader cannot take (a null where it allows none, an enum symbol it
 * does not know and has no default for).
 */
bwm_err_t bwm_decoder_decode(bwm_decoder_t *d, const void *body, size_t len, bwm_value_t *out,
                             char *errstr, size_t errstr_size);

#endif
