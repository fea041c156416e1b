/*
 * framing.h: the wire framings of Avro records on Kafka. Confluent framing is
 * a zero magic byte and a 4-byte big-endian schema id before the Avro body.
 */
#ifndef BWM_FRAMING_H
#define BWM_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef enum bwm_framing {
    BWM_FRAMING_CONFLUENT = 1,
} bwm_framing_t;

typedef struct bwm_frame {
    bwm_framing_t f_framing;
    int32_t f_schema_id;
    const uint8_t *f_body; /* points into the input */
    size_t f_body_len;
} bwm_frame_t;

/* Recognises the framing of a record value. BWM_ERR_FRAMING when none matches. */
bwm_err_t bwm_frame_parse(const void *p, size_t n, bwm_frame_t *frame, char *errstr,
                          size_t errstr_size);

/* Appends a Confluent header for schema_id to b. */
void bwm_frame_put_confluent(bwm_buf_t *b, int32_t schema_id);

/* Returns the framing's name as used in messages: "confluent". */
const char *bwm_framing_name(bwm_framing_t f);

#endif
