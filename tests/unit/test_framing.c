/*
 * test_framing.c: Confluent and Glue framing recognised and written, raw
 * bodies taken as they are, and unknown framings refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/framing.h"

Test(framing, confluent_round_trip)
{
    bwm_buf_t b;
    bwm_frame_t f;
    char err[256];

    bwm_buf_init(&b);
    bwm_frame_put_confluent(&b, 0x01020304);
    bwm_buf_put(&b, "body", 4);
    cr_assert_eq(b.b_len, 9);
    cr_assert_eq(b.b_data[0], 0);
    cr_assert_eq(b.b_data[1], 1);
    cr_assert_eq(b.b_data[4], 4);
    cr_assert_eq(bwm_frame_parse(b.b_data, b.b_len, 0, &f, err, sizeof(err)), BWM_OK);
    cr_assert_eq(f.f_framing, BWM_FRAMING_CONFLUENT);
    cr_assert_eq(f.f_schema_id, 0x01020304);
    cr_assert_eq(f.f_body_len, 4);
    cr_assert_eq(memcmp(f.f_body, "body", 4), 0);
    bwm_buf_free(&b);
}

Test(framing, glue_header_compression_and_uuid)
{
    uint8_t rec[22] = {0x03, 0x05, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01,
                       0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 'b',  'o',  'd',  'y'};
    bwm_frame_t f;
    char err[256], text[37];

    cr_assert_eq(bwm_frame_parse(rec, sizeof(rec), 0, &f, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(f.f_framing, BWM_FRAMING_GLUE);
    cr_assert_eq(f.f_compression, BWM_GLUE_ZLIB);
    cr_assert_eq(f.f_body_len, 4);
    bwm_uuid_text(f.f_uuid, text);
    cr_assert_str_eq(text, "12345678-9abc-def0-0123-456789abcdef");
    rec[1] = 0x00;
    cr_assert_eq(bwm_frame_parse(rec, sizeof(rec), 0, &f, err, sizeof(err)), BWM_OK);
    cr_assert_eq(f.f_compression, BWM_GLUE_UNCOMPRESSED);
    rec[1] = 0x02;
    cr_assert_eq(bwm_frame_parse(rec, sizeof(rec), 0, &f, err, sizeof(err)), BWM_ERR_FRAMING);
    cr_assert(strstr(err, "unknown compression byte 0x02"), "%s", err);
    /* A Glue header needs its 18 bytes. */
    cr_assert_eq(bwm_frame_parse(rec, 17, 0, &f, err, sizeof(err)), BWM_ERR_FRAMING);
}

Test(framing, raw_takes_the_whole_value)
{
    bwm_frame_t f;
    char err[256];

    cr_assert_eq(bwm_frame_parse("\x00\x01", 2, 1, &f, err, sizeof(err)), BWM_OK);
    cr_assert_eq(f.f_framing, BWM_FRAMING_RAW);
    cr_assert_eq(f.f_body_len, 2);
}

Test(framing, unknown_framings_are_refused)
{
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"", 0},
        {"{\"json\": 1}", 11},
        {"\x00\x00\x00", 3}, /* magic byte but no room for a schema id */
        {"\x03\x00", 2},     /* Glue version byte without a header */
        {"\x02\x00\x00\x00\x00\x00", 6},
    };
    size_t i;
    bwm_frame_t f;
    char err[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(bwm_frame_parse(cases[i].bytes, cases[i].len, 0, &f, err, sizeof(err)),
                     BWM_ERR_FRAMING, "case %zu", i);
    }
    bwm_frame_parse("{x", 2, 0, &f, err, sizeof(err));
    cr_assert(strstr(err, "first byte 0x7b"), "%s", err);
}
