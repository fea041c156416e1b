/*
 * decoder.h: turns the Avro body of one record into the slot values the query
 * reads. A decoder is built once per (writer schema, slots) and maps each slot
 * to the writer's field by name, so records written with any compatible
 * schema land in the same slots.
 */
#ifndef BWM_DECODER_H
#define BWM_DECODER_H

#include <stddef.h>

#include "err.h"
#include "schema.h"
#include "value.h"

/* Deepest field path a slot may name. */
#define BWM_SLOT_MAX_DEPTH 16

/* One field the query reads, typed as the reader (the job) expects it. */
typedef struct bwm_slot_spec {
    const char *ss_name;  /* "a.b.c", for messages */
    const char **ss_path; /* the names along the path: "a", "b", "c" */
    size_t ss_depth;      /* 1 for a top-level field */
    bwm_type_t ss_type;
    int ss_nullable;        /* the reader accepts null (some level is a nullable union) */
    int ss_has_default;     /* the reader field has a default, so a writer may omit it */
    const char *ss_logical; /* Avro logical type of the reader field, or NULL */
} bwm_slot_spec_t;

typedef struct bwm_decoder bwm_decoder_t;

/*
 * Builds a decoder for records written with writer. Fails (BWM_ERR_SCHEMA,
 * with a message naming the field) when a slot cannot be read from that
 * schema. The decoder keeps a reference to writer's avro schema, not to
 * writer itself. Caller frees with bwm_decoder_destroy().
 */
bwm_decoder_t *bwm_decoder_new(const bwm_schema_t *writer, const bwm_slot_spec_t *slots,
                               size_t nslots, char *errstr, size_t errstr_size);
void bwm_decoder_destroy(bwm_decoder_t *d);

/*
 * Decodes body into out[0 .. nslots-1]. String values point into the decoder
 * and are valid until the next call. BWM_ERR_DECODE for bytes that are not a
 * record of the writer schema, BWM_ERR_TYPE for a null where the reader
 * accepts none.
 */
bwm_err_t bwm_decoder_decode(bwm_decoder_t *d, const void *body, size_t len, bwm_value_t *out,
                             char *errstr, size_t errstr_size);

#endif
