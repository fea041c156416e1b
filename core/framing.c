/*
 * framing.c: recognising and writing the wire framing of Avro records.
 */
#include "framing.h"

#include <stdio.h>
#include <string.h>

bwm_err_t bwm_frame_parse(const void *p, size_t n, int raw, bwm_frame_t *frame, char *errstr,
                          size_t errstr_size)
{
    const uint8_t *b = p;

    memset(frame, 0, sizeof(*frame));
    if (raw) {
        frame->f_framing = BWM_FRAMING_RAW;
        frame->f_body = b;
        frame->f_body_len = n;
        return BWM_OK;
    }
    if (n >= 5 && b[0] == 0x00) {
        frame->f_framing = BWM_FRAMING_CONFLUENT;
        frame->f_schema_id = (int32_t)(((uint32_t)b[1] << 24) | ((uint32_t)b[2] << 16) |
                                       ((uint32_t)b[3] << 8) | b[4]);
        frame->f_body = b + 5;
        frame->f_body_len = n - 5;
        return BWM_OK;
    }
    if (n >= 18 && b[0] == 0x03) {
        if (b[1] != BWM_GLUE_UNCOMPRESSED && b[1] != BWM_GLUE_ZLIB) {
            return bwm_err_set(BWM_ERR_FRAMING, errstr, errstr_size,
                               "Glue framing with unknown compression byte 0x%02x (known: 0x00 "
                               "none, 0x05 zlib)",
                               b[1]);
        }
        frame->f_framing = BWM_FRAMING_GLUE;
        frame->f_compression = b[1];
        memcpy(frame->f_uuid, b + 2, 16);
        frame->f_body = b + 18;
        frame->f_body_len = n - 18;
        return BWM_OK;
    }
    if (n == 0) {
        return bwm_err_set(BWM_ERR_FRAMING, errstr, errstr_size, "empty record value");
    }
    return bwm_err_set(BWM_ERR_FRAMING, errstr, errstr_size,
                       "unknown framing: first byte 0x%02x, length %zu (expected Confluent: 0x00 "
                       "and a 4-byte schema id, or Glue: 0x03, a compression byte and a 16-byte "
                       "schema version id)",
                       b[0], n);
}

void bwm_frame_put_confluent(bwm_buf_t *b, int32_t schema_id)
{
    uint8_t h[5];
    uint32_t id = (uint32_t)schema_id;

    h[0] = 0;
    h[1] = (uint8_t)(id >> 24);
    h[2] = (uint8_t)(id >> 16);
    h[3] = (uint8_t)(id >> 8);
    h[4] = (uint8_t)id;
    bwm_buf_put(b, h, sizeof(h));
}

void bwm_uuid_text(const uint8_t uuid[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[uuid[i] >> 4];
        out[o++] = hex[uuid[i] & 15];
    }
    out[o] = '\0';
}
