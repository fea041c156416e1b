/*
 * test_avro_hostile.c: bytes no writer would produce, fed to
 * bwm_avro_check() and bwm_avro_to_json(): every truncation of a valid
 * datum, over-long varints, negative and huge lengths, bad union and enum
 * indexes, block counts that overflow or lie about their size, too many
 * items, too deep. Each is a clean error naming the path and the byte
 * offset; each input sits in a buffer of its exact size, so ASan reports
 * any read past it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/avro.h"

static bwm_avro_schema_t *schema_of(const char *text)
{
    char *json = strdup(text), *c, err[256];
    bwm_avro_schema_t *s;

    cr_assert_not_null(json);
    for (c = json; *c; c++) {
        if (*c == '\'') {
            *c = '"';
        }
    }
    s = bwm_avro_schema_parse(json, strlen(json), err, sizeof(err));
    cr_assert_not_null(s, "%s: %s", text, err);
    free(json);
    return s;
}

/*
 * Runs the check and both renderings on a private copy of p[0 .. n). They
 * must agree on the verdict, the length and the message; a failed
 * rendering leaves the output as it was.
 */
static bwm_err_t run3(const bwm_avro_node_t *node, const uint8_t *p, size_t n,
                      const bwm_avro_limits_t *lim, size_t *used, char *err, size_t err_size)
{
    uint8_t *copy = malloc(n ? n : 1);
    bwm_avro_json_mode_t modes[] = {BWM_AVRO_JSON_READABLE, BWM_AVRO_JSON_AVRO};
    bwm_err_t e;
    size_t i;

    memcpy(copy, p, n);
    e = bwm_avro_check(node, copy, n, lim, used, err, err_size);
    for (i = 0; i < 2; i++) {
        bwm_buf_t out = {0};
        char err2[256];
        size_t used2 = 0;
        bwm_err_t e2;

        bwm_buf_put(&out, "x", 1);
        e2 = bwm_avro_to_json(node, copy, n, lim, modes[i], &out, &used2, err2, sizeof(err2));
        cr_assert_eq(e2, e, "to_json and check disagree: %d and %d", e2, e);
        if (e == BWM_OK) {
            cr_assert_eq(used2, *used);
        } else {
            cr_assert_str_eq(err2, err);
            cr_assert_eq(out.b_len, 1, "a failed rendering leaves the output alone");
        }
        bwm_buf_free(&out);
    }
    free(copy);
    return e;
}

#define EVERYTHING                                                                                 \
    "{'type':'record','name':'All','namespace':'t','fields':["                                     \
    "{'name':'n','type':'null'},{'name':'b','type':'boolean'},{'name':'i','type':'int'},"          \
    "{'name':'l','type':'long'},{'name':'f','type':'float'},{'name':'d','type':'double'},"         \
    "{'name':'by','type':'bytes'},{'name':'s','type':'string'},"                                   \
    "{'name':'e','type':{'type':'enum','name':'E','symbols':['A','B','C']}},"                      \
    "{'name':'fx','type':{'type':'fixed','name':'F','size':3}},"                                   \
    "{'name':'a','type':{'type':'array','items':['null','long']}},"                                \
    "{'name':'m','type':{'type':'map','values':{'type':'record','name':'P','fields':["             \
    "{'name':'x','type':'double'}]}}},"                                                            \
    "{'name':'u','type':['null','string','P']},"                                                   \
    "{'name':'dec','type':{'type':'bytes','logicalType':'decimal','precision':9,'scale':3}},"      \
    "{'name':'ts','type':{'type':'long','logicalType':'timestamp-micros'}},"                       \
    "{'name':'list','type':['null',{'type':'record','name':'L','fields':[{'name':'v','type':"      \
    "'int'},{'name':'next','type':['null','L']}]}]}]}"

Test(avro_hostile, every_truncation_of_a_valid_datum_is_refused)
{
    const char *value =
        "{\"n\":null,\"b\":true,\"i\":-300,\"l\":1234567890123,\"f\":1.5,\"d\":-2.25,"
        "\"by\":\"\\u0001\\u00ff\",\"s\":\"h\\u00e9llo \\ud83d\\ude00\",\"e\":\"C\",\"fx\":\"xyz\","
        "\"a\":[null,5,{\"long\":-6}],\"m\":{\"k1\":{\"x\":1},\"k2\":{\"x\":2}},"
        "\"u\":{\"t.P\":{\"x\":3}},\"dec\":\"-123456.789\",\"ts\":\"1960-05-05T05:05:05.000005Z\","
        "\"list\":{\"v\":1,\"next\":{\"v\":2,\"next\":null}}}";
    bwm_avro_schema_t *s = schema_of(EVERYTHING);
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    json_error_t je;
    json_t *v = json_loads(value, 0, &je);
    bwm_buf_t bin = {0};
    char err[256];
    size_t k, used;

    cr_assert_not_null(v, "%s", je.text);
    cr_assert_eq(bwm_avro_from_json(n, v, &bin, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(run3(n, bin.b_data, bin.b_len, NULL, &used, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(used, bin.b_len);
    for (k = 0; k < bin.b_len; k++) {
        char at[32];

        cr_assert_eq(run3(n, bin.b_data, k, NULL, &used, err, sizeof(err)), BWM_ERR_DECODE,
                     "a prefix of %zu of %zu bytes", k, bin.b_len);
        snprintf(at, sizeof(at), " of %zu", k);
        cr_assert(strstr(err, at) && err[0] == '$', "%s", err);
    }
    json_decref(v);
    bwm_buf_free(&bin);
    bwm_avro_schema_destroy(s);
}

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const struct hostile {
    const char *schema;
    const uint8_t *bytes;
    size_t n;
    bwm_err_t err;
    const char *message; /* the whole message */
} cases[] = {
    {"'long'", B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), BWM_ERR_DECODE,
     "$: integer longer than 10 bytes at byte 0 of 11"},
    {"'long'", B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), BWM_ERR_DECODE,
     "$: integer longer than 64 bits at byte 0 of 10"},
    {"'long'", B(0x80, 0x80), BWM_ERR_DECODE, "$: truncated integer at byte 0 of 2"},
    {"'long'", (const uint8_t[]){0}, 0, BWM_ERR_DECODE, "$: truncated integer at byte 0 of 0"},
    {"'int'", B(0x80, 0x80, 0x80, 0x80, 0x10), BWM_ERR_DECODE,
     "$: int out of range: 2147483648 at byte 0 of 5"},
    {"'int'", B(0x81, 0x80, 0x80, 0x80, 0x10), BWM_ERR_DECODE,
     "$: int out of range: -2147483649 at byte 0 of 5"},
    {"'boolean'", B(0x02), BWM_ERR_DECODE, "$: bad boolean 0x02 at byte 0 of 1"},
    {"'float'", B(0, 0, 0), BWM_ERR_DECODE, "$: truncated float at byte 0 of 3"},
    {"'double'", B(0, 0, 0, 0, 0, 0, 0), BWM_ERR_DECODE, "$: truncated double at byte 0 of 7"},
    {"'string'", B(0x01), BWM_ERR_DECODE, "$: negative length -1 at byte 0 of 1"},
    {"'bytes'", B(0xfe, 0xff, 0xff, 0xff, 0x0f), BWM_ERR_DECODE,
     "$: length 2147483647 beyond the end of the data (0 bytes left) at byte 0 of 5"},
    {"'bytes'", B(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), BWM_ERR_DECODE,
     "$: length 9223372036854775807 beyond the end of the data (0 bytes left) at byte 0 of 10"},
    {"'string'", B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), BWM_ERR_DECODE,
     "$: negative length -9223372036854775808 at byte 0 of 10"},
    {"'string'", B(0x06, 'a', 'b'), BWM_ERR_DECODE,
     "$: length 3 beyond the end of the data (2 bytes left) at byte 0 of 3"},
    {"{'type':'fixed','name':'F','size':4}", B(1, 2, 3), BWM_ERR_DECODE,
     "$: truncated fixed F of 4 bytes at byte 0 of 3"},
    {"['null','int']", B(0x04), BWM_ERR_DECODE,
     "$: union branch 2 out of range (2 branches) at byte 0 of 1"},
    {"['null','int']", B(0x01), BWM_ERR_DECODE,
     "$: union branch -1 out of range (2 branches) at byte 0 of 1"},
    {"{'type':'enum','name':'E','symbols':['A','B','C']}", B(0x06), BWM_ERR_DECODE,
     "$: enum index 3 out of range (E has 3 symbols) at byte 0 of 1"},
    {"{'type':'enum','name':'E','symbols':['A']}", B(0x03), BWM_ERR_DECODE,
     "$: enum index -2 out of range (E has 1 symbols) at byte 0 of 1"},
    /* block counts: INT64_MIN cannot be negated; INT64_MAX is more than any limit */
    {"{'type':'array','items':'int'}",
     B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00), BWM_ERR_DECODE,
     "$: bad block count at byte 0 of 11"},
    {"{'type':'array','items':'int'}",
     B(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00), BWM_ERR_LIMIT,
     "$: block of 9223372036854775807 items: more than 1000000 items in the datum at byte 0 of 11"},
    {"{'type':'array','items':'int'}",
     B(0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00), BWM_ERR_LIMIT,
     "$: block of 9223372036854775807 items: more than 1000000 items in the datum at byte 0 of "
     "12"},
    /* a negative count comes with a byte size, which must be there and be right */
    {"{'type':'array','items':'int'}", B(0x03, 0x7e, 0x02), BWM_ERR_DECODE,
     "$: block size 63 beyond the end of the data at byte 0 of 3"},
    {"{'type':'array','items':'int'}", B(0x03, 0x01, 0x02, 0x04, 0x00), BWM_ERR_DECODE,
     "$: block size -1 beyond the end of the data at byte 0 of 5"},
    {"{'type':'array','items':'int'}", B(0x03, 0x02, 0x02, 0x04, 0x00), BWM_ERR_DECODE,
     "$: block size 1 but its items take 2 bytes at byte 0 of 5"},
    {"{'type':'array','items':'int'}", B(0x03), BWM_ERR_DECODE,
     "$: truncated integer at byte 1 of 1"},
    /* a million and one nulls cost a few bytes but are refused */
    {"{'type':'array','items':'null'}", B(0x82, 0x89, 0x7a, 0x00), BWM_ERR_LIMIT,
     "$: block of 1000001 items: more than 1000000 items in the datum at byte 0 of 4"},
    {"{'type':'array','items':{'type':'record','name':'Empty','fields':[]}}",
     B(0x80, 0x89, 0x7a, 0x02, 0x00), BWM_ERR_LIMIT,
     "$: block of 1 items: more than 1000000 items in the datum at byte 3 of 5"},
    /* paths */
    {"{'type':'record','name':'R','fields':[{'name':'tags','type':{'type':'array','items':"
     "'string'}}]}",
     B(0x08, 0x00, 0x00, 0x00, 0x14, 'x'), BWM_ERR_DECODE,
     "$.tags[3]: length 10 beyond the end of the data (1 bytes left) at byte 4 of 6"},
    {"{'type':'record','name':'R','fields':[{'name':'tags','type':{'type':'array','items':"
     "'string'}}]}",
     B(0x03, 0x04, 0x00, 0x00, 0x02, 0x80), BWM_ERR_DECODE,
     "$.tags[2]: truncated integer at byte 5 of 6"},
    {"{'type':'record','name':'R','fields':[{'name':'location','type':['null',{'type':'record',"
     "'name':'L','fields':[{'name':'lat','type':'double'}]}]}]}",
     B(0x02, 0, 0, 0), BWM_ERR_DECODE, "$.location.lat: truncated double at byte 1 of 4"},
    {"{'type':'map','values':'int'}", B(0x02, 0x02, 'k', 0x80), BWM_ERR_DECODE,
     "$.k: truncated integer at byte 3 of 4"},
    {"{'type':'map','values':'int'}", B(0x04, 0x02, 'k', 0x00, 0x06, 'a', ' ', 'b', 0x80),
     BWM_ERR_DECODE, "$[\"a b\"]: truncated integer at byte 8 of 9"},
    {"{'type':'map','values':'int'}", B(0x04, 0x02, 'k', 0x00, 0x03), BWM_ERR_DECODE,
     "$[1]: negative length -2 at byte 4 of 5"},
    {"{'type':'map','values':{'type':'map','values':'int'}}",
     B(0x02, 0x02, 'k', 0x02, 0x04, '\n', 0xff, 0x80), BWM_ERR_DECODE,
     "$.k[\"\\x0a\\xff\"]: truncated integer at byte 7 of 8"},
};

Test(avro_hostile, each_is_a_clean_error)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_avro_schema_t *s = schema_of(cases[i].schema);
        char err[256] = "";
        size_t used = 12345;

        cr_assert_eq(run3(bwm_avro_schema_root(s), cases[i].bytes, cases[i].n, NULL, &used, err,
                          sizeof(err)),
                     cases[i].err, "case %zu (%s): %s", i, cases[i].schema, err);
        cr_assert_str_eq(err, cases[i].message, "case %zu", i);
        cr_assert_eq(used, 12345, "used is left alone on an error");
        bwm_avro_schema_destroy(s);
    }
}

Test(avro_hostile, limits_are_exact)
{
    bwm_avro_schema_t *s = schema_of("{'type':'record','name':'R','fields':["
                                     "{'name':'a','type':{'type':'array','items':'null'}},"
                                     "{'name':'m','type':{'type':'map','values':'null'}},"
                                     "{'name':'f','type':{'type':'fixed','name':'F','size':3}}]}");
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    bwm_avro_limits_t lim = {64, 3, 10};
    /* 6 nulls, then 4 entries: 10 items in all */
    uint8_t ok[] = {0x0c, 0x00, 0x08, 0x02, 'a', 0x02, 'b', 0x02, 'c', 0x02, 'd', 0x00, 1, 2, 3};
    char err[256];
    size_t used;

    cr_assert_eq(run3(n, ok, sizeof(ok), &lim, &used, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(used, sizeof(ok));
    lim.al_max_items = 9;
    cr_assert_eq(run3(n, ok, sizeof(ok), &lim, &used, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert_str_eq(err, "$.m: block of 4 items: more than 9 items in the datum at byte 2 of 15");
    lim.al_max_items = 10;
    lim.al_max_bytes = 2;
    cr_assert_eq(run3(n, ok, sizeof(ok), &lim, &used, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert_str_eq(err, "$.f: fixed F of 3 bytes is above the limit of 2 at byte 12 of 15");
    bwm_avro_schema_destroy(s);
}

Test(avro_hostile, recursion_is_bounded_by_the_depth_limit)
{
    bwm_avro_schema_t *s = schema_of("{'type':'record','name':'N','fields':[{'name':'next',"
                                     "'type':['null','N']}]}");
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    uint8_t deep[4096];
    bwm_avro_limits_t lim = {100000, 1 << 20, 1000};
    char err[256];
    size_t used;

    memset(deep, 0x02, sizeof(deep));
    cr_assert_eq(run3(n, deep, sizeof(deep), NULL, &used, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert_str_eq(err, "$.next.next.next.next.next.next.next.next.next.next.next.next.next.next."
                          "next.next.next.next.next.next.next.next.next.next.next.next.next.next."
                          "next.next.next.next: nested deeper than 64 levels at byte 32 of 4096");
    /* with a larger limit, the bytes run out first */
    cr_assert_eq(run3(n, deep, sizeof(deep), &lim, &used, err, sizeof(err)), BWM_ERR_DECODE);
    cr_assert_str_eq(err, "$....next.next.next.next.next.next.next.next.next.next.next.next.next."
                          "next.next.next.next.next.next.next.next.next.next.next.next.next.next."
                          "next.next.next.next.next.next.next.next.next.next.next.next: truncated "
                          "integer at byte 4096 of 4096");
    deep[31] = 0x00;
    cr_assert_eq(run3(n, deep, sizeof(deep), NULL, &used, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(used, 32);
    bwm_avro_schema_destroy(s);
}

Test(avro_hostile, arguments)
{
    bwm_avro_node_t l = {.an_type = BWM_AVRO_LONG};
    bwm_buf_t out = {0};
    size_t used;
    char err[64];

    cr_assert_eq(bwm_avro_check(NULL, "", 0, NULL, &used, err, sizeof(err)), BWM_ERR_INVALID);
    cr_assert_eq(bwm_avro_check(&l, NULL, 1, NULL, &used, err, sizeof(err)), BWM_ERR_INVALID);
    cr_assert_eq(bwm_avro_check(&l, NULL, 0, NULL, &used, NULL, 0), BWM_ERR_DECODE);
    cr_assert_eq(
        bwm_avro_to_json(&l, "\x02", 1, NULL, BWM_AVRO_JSON_AVRO, NULL, &used, err, sizeof(err)),
        BWM_ERR_INVALID);
    cr_assert_eq(bwm_avro_to_json(&l, "\x02", 1, NULL, BWM_AVRO_JSON_AVRO, &out, NULL, NULL, 0),
                 BWM_OK);
    bwm_buf_free(&out);
}
