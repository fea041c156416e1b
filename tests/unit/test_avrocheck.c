/*
 * test_avrocheck.c: hostile Avro bodies are refused before avro-c reads
 * them; valid ones pass with their exact length.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <string.h>

#include "core/avrocheck.h"

static avro_schema_t schema(const char *json)
{
    avro_schema_t s;

    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &s), 0, "%s", avro_strerror());
    return s;
}

#define REC                                                                                        \
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":["                                             \
    "{\"name\":\"s\",\"type\":\"string\"},"                                                        \
    "{\"name\":\"u\",\"type\":[\"null\",\"int\"]},"                                                \
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"      \
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"null\"}}]}"

Test(avrocheck, valid_records_pass_with_their_length)
{
    avro_schema_t s = schema(REC);
    /* s="hi", u=int 3, e=B, a=[null, null] then a trailing byte */
    const uint8_t ok[] = {0x04, 'h', 'i', 0x02, 0x06, 0x02, 0x04, 0x00, 0xff};
    size_t used;
    char err[256];

    cr_assert_eq(bwm_avro_check(s, ok, sizeof(ok), &used, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(used, sizeof(ok) - 1);
    avro_schema_decref(s);
}

Test(avrocheck, hostile_records_are_refused)
{
    static const struct {
        uint8_t bytes[16];
        size_t len;
        const char *why;
    } cases[] = {
        {{0x04, 'h'}, 2, "length beyond the end"},
        {{0x01}, 1, "length beyond the end"},                         /* negative length -1 */
        {{0xfe, 0xff, 0xff, 0xff, 0x0f}, 5, "length beyond the end"}, /* 2 GiB string */
        {{0x00, 0x04}, 2, "union branch out of range"},
        {{0x00, 0x00, 0x04}, 3, "enum index out of range"},
        {{0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f}, 8, "too many zero-size items"},
        {{0x00, 0x02, 0x80, 0x80, 0x80, 0x80, 0x20}, 7, "int out of range"},
        {{0x00, 0x00}, 2, "truncated integer"},
        {{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 11, "longer than"},
    };
    avro_schema_t s = schema(REC);
    size_t i, used;
    char err[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(bwm_avro_check(s, cases[i].bytes, cases[i].len, &used, err, sizeof(err)),
                     BWM_ERR_DECODE, "case %zu", i);
        cr_assert(strstr(err, cases[i].why), "case %zu: %s", i, err);
    }
    avro_schema_decref(s);
}

Test(avrocheck, recursion_depth_is_bounded)
{
    avro_schema_t s = schema("{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"next\","
                             "\"type\":[\"null\",\"N\"]}]}");
    uint8_t deep[200];
    size_t used;
    char err[256];

    memset(deep, 0x02, sizeof(deep)); /* branch 1 again and again */
    cr_assert_eq(bwm_avro_check(s, deep, sizeof(deep), &used, err, sizeof(err)), BWM_ERR_DECODE);
    cr_assert(strstr(err, "nested deeper than 64 levels"), "%s", err);
    deep[10] = 0x00; /* a null ends the chain after 10 levels */
    cr_assert_eq(bwm_avro_check(s, deep, sizeof(deep), &used, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(used, 11);
    avro_schema_decref(s);
}
