/*
 * framing.c: recognising and writing the wire framing of Avro records.
 */
#include "framing.h"

bwm_err_t bwm_frame_parse(const void *p, size_t n, bwm_frame_t *frame, char *errstr,
                          size_t errstr_size)
{
    const uint8_t *b = p;

    if (n >= 5 && b[0] == 0x00) {
        frame->f_framing = BWM_FRAMING_CONFLUENT;
        frame->f_schema_id = (int32_t)(((uint32_t)b[1] << 24) | ((uint32_t)b[2] << 16) |
                                       ((uint32_t)b[3] << 8) | b[4]);
        frame->f_body = b + 5;
        frame->f_body_len = n - 5;
        return BWM_OK;
    }
    if (n == 0) {
        return bwm_err_set(BWM_ERR_FRAMING, errstr, errstr_size, "empty record value");
    }
    return bwm_err_set(BWM_ERR_FRAMING, errstr, errstr_size,
                       "unknown framing: first byte 0x%02x, length %zu (expected Confluent: 0x00 "
                       "and a 4-byte schema id)",
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

const char *bwm_framing_name(bwm_framing_t f)
{
    switch (f) {
        case BWM_FRAMING_CONFLUENT:
            return "confluent";
    }
    return "unknown";
}
