/*
 * test_framing.c: Confluent framing recognised, written, and refused.
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
    cr_assert_eq(bwm_frame_parse(b.b_data, b.b_len, &f, err, sizeof(err)), BWM_OK);
    cr_assert_eq(f.f_framing, BWM_FRAMING_CONFLUENT);
    cr_assert_eq(f.f_schema_id, 0x01020304);
    cr_assert_eq(f.f_body_len, 4);
    cr_assert_eq(memcmp(f.f_body, "body", 4), 0);
    bwm_buf_free(&b);
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
        {"\x03\x00", 2},
    };
    size_t i;
    bwm_frame_t f;
    char err[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(bwm_frame_parse(cases[i].bytes, cases[i].len, &f, err, sizeof(err)),
                     BWM_ERR_FRAMING, "case %zu", i);
    }
    bwm_frame_parse("{x", 2, &f, err, sizeof(err));
    cr_assert(strstr(err, "first byte 0x7b"), "%s", err);
}
