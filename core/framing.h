/*
 * framing.h: the wire framings of Avro records on Kafka, recognised per
 * record:
 *   Confluent  0x00, a 4-byte big-endian schema id, the Avro body;
 *   AWS Glue   0x03 (header version), a compression byte (0x00 none,
 *              0x05 zlib), a 16-byte schema version UUID, the body;
 *   raw        the Avro body alone, read with a schema the job configures.
 */
#ifndef BWM_FRAMING_H
#define BWM_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef enum bwm_framing {
    BWM_FRAMING_CONFLUENT = 1,
    BWM_FRAMING_GLUE,
    BWM_FRAMING_RAW,
} bwm_framing_t;

/* Glue's compression byte. */
#define BWM_GLUE_UNCOMPRESSED 0x00
#define BWM_GLUE_ZLIB         0x05

typedef struct bwm_frame {
    bwm_framing_t f_framing;
    int32_t f_schema_id;   /* Confluent */
    uint8_t f_uuid[16];    /* Glue schema version id */
    uint8_t f_compression; /* Glue */
    const uint8_t *f_body; /* points into the input */
    size_t f_body_len;
} bwm_frame_t;

/*
 * Recognises the framing of a record value: Confluent or Glue, or, with raw,
 * every record is a bare body. BWM_ERR_FRAMING, with a message saying what
 * the first bytes were, when none matches.
 */
bwm_err_t bwm_frame_parse(const void *p, size_t n, int raw, bwm_frame_t *frame, char *errstr,
                          size_t errstr_size);

/* Appends a Confluent header for schema_id to b. */
void bwm_frame_put_confluent(bwm_buf_t *b, int32_t schema_id);

/* Writes a UUID as its 36-character text form plus NUL. */
void bwm_uuid_text(const uint8_t uuid[16], char out[37]);

#endif
