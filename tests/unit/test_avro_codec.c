/*
 * test_avro_codec.c: the Avro codecs on values: JSON -> binary -> JSON in
 * both modes for every type and logical type, with the bytes checked
 * against encodings made by fastavro and by hand; the awkward values
 * (unicode beyond the BMP, empty containers, NaN and infinities, -0.0,
 * integer extremes, limits exactly at and one past, 38-digit decimals,
 * dates before 1970); and what bwm_avro_from_json() says about bad JSON.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/avro.h"

/* Schemas are written with single quotes for readability. */
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

static json_t *jparse(const char *text, size_t len)
{
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

    cr_assert_not_null(v, "not JSON (%s): %.*s", je.text, (int)len, text);
    return v;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", p[i]);
    }
}

/* Compact ASCII JSON of a text, so escapes and raw UTF-8 compare equal. */
static char *norm(const char *text, size_t len)
{
    json_t *v = jparse(text, len);
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);

    json_decref(v);
    return s;
}

/* The text must be expected exactly, or, where expected holds \u escapes, the same JSON. */
static void assert_json(const char *expected, const bwm_buf_t *got, const char *what)
{
    if (!strstr(expected, "\\u")) {
        cr_assert(got->b_len == strlen(expected) && memcmp(got->b_data, expected, got->b_len) == 0,
                  "%s: got %.*s, expected %s", what, (int)got->b_len, got->b_data, expected);
    } else {
        char *a = norm(expected, strlen(expected)), *b = norm((char *)got->b_data, got->b_len);

        cr_assert_str_eq(b, a, "%s: got %.*s, expected %s", what, (int)got->b_len, got->b_data,
                         expected);
        free(a);
        free(b);
    }
}

static int same_bytes(const bwm_buf_t *a, const bwm_buf_t *b)
{
    return a->b_len == b->b_len && (a->b_len == 0 || memcmp(a->b_data, b->b_data, a->b_len) == 0);
}

static bwm_err_t from_text(const bwm_avro_node_t *n, const char *text, size_t len, bwm_buf_t *out,
                           char *err, size_t err_size)
{
    json_t *v = jparse(text, len);
    bwm_err_t e;

    bwm_buf_reset(out);
    e = bwm_avro_from_json(n, v, out, err, err_size);
    json_decref(v);
    return e;
}

static const struct row {
    const char *schema;
    const char *input;    /* JSON given to from_json */
    const char *readable; /* to_json, BWM_AVRO_JSON_READABLE */
    const char *avro;     /* to_json, BWM_AVRO_JSON_AVRO (NULL: not spelled out) */
    const char *hex;      /* the encoding, as fastavro writes it */
    int readable_back;    /* the readable text encodes back to the same bytes */
} table[] = {
    {"\"null\"", "null", "null", "null", "", 1},
    {"\"boolean\"", "true", "true", "true", "01", 1},
    {"\"boolean\"", "false", "false", "false", "00", 1},
    {"\"int\"", "0", "0", "0", "00", 1},
    {"\"int\"", "-1", "-1", "-1", "01", 1},
    {"\"int\"", "2147483647", "2147483647", "2147483647", "feffffff0f", 1},
    {"\"int\"", "-2147483648", "-2147483648", "-2147483648", "ffffffff0f", 1},
    {"\"long\"", "-1", "-1", "-1", "01", 1},
    {"\"long\"", "64", "64", "64", "8001", 1},
    {"\"long\"", "9223372036854775807", "9223372036854775807", "9223372036854775807",
     "feffffffffffffffff01", 1},
    {"\"long\"", "-9223372036854775808", "-9223372036854775808", "-9223372036854775808",
     "ffffffffffffffffff01", 1},
    {"\"float\"", "1.5", "1.5", "1.5", "0000c03f", 1},
    {"\"float\"", "0.1", "0.1", "0.1", "cdcccc3d", 1},
    {"\"float\"", "-0.0", "-0.0", "-0.0", "00000080", 1},
    {"\"float\"", "\"NaN\"", "\"NaN\"", "\"NaN\"", "0000c07f", 1},
    {"\"float\"", "\"Infinity\"", "\"Infinity\"", "\"Infinity\"", "0000807f", 1},
    {"\"float\"", "\"-Infinity\"", "\"-Infinity\"", "\"-Infinity\"", "000080ff", 1},
    {"\"float\"", "3.4028234663852886e38", "3.4028235e+38", "3.4028235e+38", "ffff7f7f", 1},
    {"\"float\"", "1e-45", "1e-45", "1e-45", "01000000", 1},
    {"\"float\"", "16777216", "16777216.0", "16777216.0", "0000804b", 1},
    {"\"double\"", "0.1", "0.1", "0.1", "9a9999999999b93f", 1},
    {"\"double\"", "-0.0", "-0.0", "-0.0", "0000000000000080", 1},
    {"\"double\"", "\"NaN\"", "\"NaN\"", "\"NaN\"", "000000000000f87f", 1},
    {"\"double\"", "\"-Infinity\"", "\"-Infinity\"", "\"-Infinity\"", "000000000000f0ff", 1},
    {"\"double\"", "1e300", "1e+300", "1e+300", "9c7500883ce4377e", 1},
    {"\"double\"", "3", "3.0", "3.0", "0000000000000840", 1},
    {"\"bytes\"", "\"\"", "\"\"", "\"\"", "00", 1},
    {"\"bytes\"", "\"\\u0000\\u00ff\\u0041\"", "\"\\u0000\\u00ffA\"", "\"\\u0000\\u00ffA\"",
     "0600ff41", 1},
    {"\"string\"", "\"\"", "\"\"", "\"\"", "00", 1},
    {"\"string\"", "\"\\u00e9\"", "\"\\u00e9\"", "\"\\u00e9\"", "04c3a9", 1},
    {"\"string\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"", "08f09f9880",
     1},
    {"\"string\"", "\"a\\u0001\\n\\\"\\\\\\u007f\"", "\"a\\u0001\\n\\\"\\\\\\u007f\"",
     "\"a\\u0001\\n\\\"\\\\\\u007f\"", "0c61010a225c7f", 1},
    {"{'type':'enum','name':'E','symbols':['A','B','C']}", "\"B\"", "\"B\"", "\"B\"", "02", 1},
    {"{'type':'fixed','name':'F','size':2}", "\"\\u0001\\u00fe\"", "\"\\u0001\\u00fe\"",
     "\"\\u0001\\u00fe\"", "01fe", 1},
    {"{'type':'fixed','name':'Z','size':0}", "\"\"", "\"\"", "\"\"", "", 1},
    {"{'type':'array','items':'long'}", "[]", "[]", "[]", "00", 1},
    {"{'type':'array','items':'long'}", "[1,-2,3]", "[1,-2,3]", "[1,-2,3]", "0602030600", 1},
    {"{'type':'array','items':'null'}", "[null,null]", "[null,null]", "[null,null]", "0400", 1},
    {"{'type':'map','values':'int'}", "{}", "{}", "{}", "00", 1},
    {"{'type':'map','values':'int'}", "{\"a\":1,\"\\u00e9\":-1}", "{\"a\":1,\"\\u00e9\":-1}",
     "{\"a\":1,\"\\u00e9\":-1}", "0402610204c3a90100", 1},
    {"['null','string']", "null", "null", "null", "00", 1},
    {"['null','string']", "\"x\"", "\"x\"", "{\"string\":\"x\"}", "020278", 1},
    {"['null','string']", "{\"string\":\"x\"}", "\"x\"", "{\"string\":\"x\"}", "020278", 1},
    {"['null','double']", "3.5", "3.5", "{\"double\":3.5}", "020000000000000c40", 1},
    {"['null','double']", "3", "3.0", "{\"double\":3.0}", "020000000000000840", 1},
    {"['null','long','string']", "{\"long\":5}", "5", "{\"long\":5}", "020a", 1},
    {"['null',{'type':'record','name':'P','namespace':'geo','fields':[{'name':'lat','type':'double'"
     "}]}]",
     "{\"lat\":1.5}", "{\"lat\":1.5}", "{\"geo.P\":{\"lat\":1.5}}", "02000000000000f83f", 1},
    {"['null',{'type':'record','name':'P','namespace':'geo','fields':[{'name':'lat','type':'double'"
     "}]}]",
     "{\"geo.P\":{\"lat\":1.5}}", "{\"lat\":1.5}", "{\"geo.P\":{\"lat\":1.5}}",
     "02000000000000f83f", 1},
    {"['null',{'type':'record','name':'P','namespace':'geo','fields':[{'name':'lat','type':'double'"
     "}]}]",
     "{\"P\":{\"lat\":1.5}}", "{\"lat\":1.5}", "{\"geo.P\":{\"lat\":1.5}}", "02000000000000f83f",
     1},
    {"['string',{'type':'enum','name':'E','symbols':['A']},{'type':'array','items':'int'},{'type':'"
     "map','values':'int'}]",
     "[1]", "[1]", "{\"array\":[1]}", "04020200", 1},
    {"['string',{'type':'enum','name':'E','symbols':['A']},{'type':'array','items':'int'},{'type':'"
     "map','values':'int'}]",
     "{\"E\":\"A\"}", "\"A\"", "{\"E\":\"A\"}", "0200", 0},
    {"['string',{'type':'enum','name':'E','symbols':['A']},{'type':'array','items':'int'},{'type':'"
     "map','values':'int'}]",
     "{\"map\":{\"k\":2}}", "{\"k\":2}", "{\"map\":{\"k\":2}}", "0602026b0400", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"12.30\"", "\"12.30\"",
     "\"\\u0004\\u00ce\"", "0404ce", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "12.3", "\"12.30\"",
     "\"\\u0004\\u00ce\"", "0404ce", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"-12.30\"", "\"-12.30\"",
     "\"\\u00fb2\"", "04fb32", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"0.005e1\"", "\"0.05\"",
     "\"\\u0005\"", "0205", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"-0.01\"", "\"-0.01\"",
     "\"\\u00ff\"", "02ff", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"1.28\"", "\"1.28\"",
     "\"\\u0000\\u0080\"", "040080", 1},
    /* fastavro writes -128 as ff 80; this is the shortest form, as Java's BigInteger has it */
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"-1.28\"", "\"-1.28\"",
     "\"\\u0080\"", "0280", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "0", "\"0.00\"",
     "\"\\u0000\"", "0200", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"-99.99\"", "\"-99.99\"",
     NULL, "04d8f1", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':3,'scale':3}", "\"0.005\"", "\"0.005\"",
     "\"\\u0005\"", "0205", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':5,'scale':0}", "\"-42\"", "\"-42\"",
     "\"\\u00d6\"", "02d6", 1},
    {"{'type':'bytes','logicalType':'decimal','precision':5,'scale':0}", "1.2e3", "\"1200\"", NULL,
     "0404b0", 1},
    {"{'type':'fixed','name':'D38','size':16,'logicalType':'decimal','precision':38,'scale':2}",
     "\"999999999999999999999999999999999999.99\"", "\"999999999999999999999999999999999999.99\"",
     NULL, "4b3b4ca85a86c47a098a223fffffffff", 1},
    {"{'type':'fixed','name':'D38','size':16,'logicalType':'decimal','precision':38,'scale':2}",
     "\"-999999999999999999999999999999999999.99\"", "\"-999999999999999999999999999999999999.99\"",
     NULL, "b4c4b357a5793b85f675ddc000000001", 1},
    {"{'type':'fixed','name':'D38','size':16,'logicalType':'decimal','precision':38,'scale':2}",
     "\"-0.01\"", "\"-0.01\"", NULL, "ffffffffffffffffffffffffffffffff", 1},
    {"{'type':'fixed','name':'D38','size':16,'logicalType':'decimal','precision':38,'scale':2}",
     "\"0.01\"", "\"0.01\"", NULL, "00000000000000000000000000000001", 1},
    {"{'type':'string','logicalType':'uuid'}", "\"123e4567-e89b-12d3-a456-426614174000\"",
     "\"123e4567-e89b-12d3-a456-426614174000\"", "\"123e4567-e89b-12d3-a456-426614174000\"",
     "4831323365343536372d653839622d313264332d613435362d343236363134313734303030", 1},
    {"{'type':'int','logicalType':'date'}", "\"2026-01-01\"", "\"2026-01-01\"", "20454", "ccbf02",
     1},
    {"{'type':'int','logicalType':'date'}", "\"1969-12-31\"", "\"1969-12-31\"", "-1", "01", 1},
    {"{'type':'int','logicalType':'date'}", "\"0000-01-01\"", "\"0000-01-01\"", "-719528", "cfea57",
     1},
    {"{'type':'int','logicalType':'date'}", "\"9999-12-31\"", "\"9999-12-31\"", "2932896",
     "c082e602", 1},
    {"{'type':'int','logicalType':'date'}", "2932897", "2932897", "2932897", "c282e602", 1},
    {"{'type':'int','logicalType':'date'}", "-719529", "-719529", "-719529", "d1ea57", 1},
    {"{'type':'int','logicalType':'date'}", "\"1600-02-29\"", "\"1600-02-29\"", NULL, "d1be10", 1},
    {"{'type':'int','logicalType':'time-millis'}", "\"12:30:00.25\"", "\"12:30:00.250\"",
     "45000250", "f498f52a", 1},
    {"{'type':'int','logicalType':'time-millis'}", "\"23:59:59.999\"", "\"23:59:59.999\"",
     "86399999", "feefb252", 1},
    {"{'type':'int','logicalType':'time-millis'}", "\"00:00\"", "\"00:00:00.000\"", "0", "00", 1},
    {"{'type':'int','logicalType':'time-millis'}", "86400000", "86400000", "86400000", "80f0b252",
     1},
    {"{'type':'int','logicalType':'time-millis'}", "-1", "-1", "-1", "01", 1},
    {"{'type':'long','logicalType':'time-micros'}", "\"23:59:59.999999\"", "\"23:59:59.999999\"",
     "86399999999", "feffbadd8305", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"2026-01-01T00:00:00.123Z\"",
     "\"2026-01-01T00:00:00.123Z\"", "1767225600123", "f6a1d5edee66", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"2026-01-01T02:00:00.123+02:00\"",
     "\"2026-01-01T00:00:00.123Z\"", "1767225600123", "f6a1d5edee66", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"2025-12-31 19:00-0500\"",
     "\"2026-01-01T00:00:00.000Z\"", "1767225600000", "80a0d5edee66", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"2026-01-01\"",
     "\"2026-01-01T00:00:00.000Z\"", "1767225600000", "80a0d5edee66", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"1969-12-31T23:59:59.999Z\"",
     "\"1969-12-31T23:59:59.999Z\"", "-1", "01", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"1900-01-01T00:00:00Z\"",
     "\"1900-01-01T00:00:00.000Z\"", "-2208988800000", "ff8ff19fca8001", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"0000-01-01T00:00:00.000Z\"",
     "\"0000-01-01T00:00:00.000Z\"", "-62167219200000", "ffffa2f0cda21c", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "\"9999-12-31T23:59:59.999Z\"",
     "\"9999-12-31T23:59:59.999Z\"", "253402300799999", "feeffea1fa9d73", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "253402300800000", "253402300800000",
     "253402300800000", "80f0fea1fa9d73", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "-62167219200001", "-62167219200001",
     "-62167219200001", "8180a3f0cda21c", 1},
    {"{'type':'long','logicalType':'timestamp-millis'}", "-9223372036854775808",
     "-9223372036854775808", "-9223372036854775808", "ffffffffffffffffff01", 1},
    {"{'type':'long','logicalType':'timestamp-micros'}", "\"2026-01-01T00:00:00.123456Z\"",
     "\"2026-01-01T00:00:00.123456Z\"", "1767225600123456", "808991e288d2a306", 1},
    {"{'type':'long','logicalType':'timestamp-micros'}", "\"1969-12-31T23:59:59.9999990Z\"",
     "\"1969-12-31T23:59:59.999999Z\"", "-1", "01", 1},
    {"{'type':'long','logicalType':'local-timestamp-millis'}", "\"2026-01-01T02:00:00.5+02:00\"",
     "\"2026-01-01T02:00:00.500\"", "1767232800500", "e89bc4f4ee66", 1},
    {"{'type':'long','logicalType':'local-timestamp-micros'}", "\"2026-01-01T00:00:00.000001\"",
     "\"2026-01-01T00:00:00.000001\"", "1767225600000001", "828082e288d2a306", 1},
};

Test(avro_codec, every_type_round_trips_in_both_modes)
{
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct row *r = &table[i];
        bwm_avro_schema_t *s = schema_of(r->schema);
        const bwm_avro_node_t *n = bwm_avro_schema_root(s);
        bwm_buf_t bin = {0}, readable = {0}, avro = {0}, again = {0};
        char err[256], h[512];
        size_t used = 0;

        cr_assert_eq(from_text(n, r->input, strlen(r->input), &bin, err, sizeof(err)), BWM_OK,
                     "row %zu %s %s: %s", i, r->schema, r->input, err);
        hex(bin.b_data, bin.b_len, h);
        cr_assert_str_eq(h, r->hex, "row %zu %s %s: bytes %s, expected %s", i, r->schema, r->input,
                         h, r->hex);
        /* a trailing byte is not part of the datum */
        bwm_buf_put_u8(&bin, 0xee);
        cr_assert_eq(bwm_avro_check(n, bin.b_data, bin.b_len, NULL, &used, err, sizeof(err)),
                     BWM_OK, "row %zu: %s", i, err);
        cr_assert_eq(used, bin.b_len - 1, "row %zu", i);
        used = 0;
        cr_assert_eq(bwm_avro_to_json(n, bin.b_data, bin.b_len, NULL, BWM_AVRO_JSON_READABLE,
                                      &readable, &used, err, sizeof(err)),
                     BWM_OK, "row %zu: %s", i, err);
        cr_assert_eq(used, bin.b_len - 1);
        assert_json(r->readable, &readable, r->schema);
        cr_assert_eq(bwm_avro_to_json(n, bin.b_data, bin.b_len, NULL, BWM_AVRO_JSON_AVRO, &avro,
                                      &used, err, sizeof(err)),
                     BWM_OK, "row %zu: %s", i, err);
        if (r->avro) {
            assert_json(r->avro, &avro, r->schema);
        }
        bin.b_len--;
        /* Avro's JSON always encodes back to the same bytes */
        cr_assert_eq(from_text(n, (char *)avro.b_data, avro.b_len, &again, err, sizeof(err)),
                     BWM_OK, "row %zu: %.*s: %s", i, (int)avro.b_len, avro.b_data, err);
        cr_assert(same_bytes(&again, &bin), "row %zu: Avro JSON %.*s does not encode back", i,
                  (int)avro.b_len, avro.b_data);
        /* and so does the readable form, unless a union cannot tell */
        if (r->readable_back) {
            cr_assert_eq(
                from_text(n, (char *)readable.b_data, readable.b_len, &again, err, sizeof(err)),
                BWM_OK, "row %zu: %.*s: %s", i, (int)readable.b_len, readable.b_data, err);
            cr_assert(same_bytes(&again, &bin), "row %zu: readable %.*s does not encode back", i,
                      (int)readable.b_len, readable.b_data);
        } else {
            cr_assert_neq(
                from_text(n, (char *)readable.b_data, readable.b_len, &again, err, sizeof(err)),
                BWM_OK, "row %zu", i);
        }
        bwm_buf_free(&bin);
        bwm_buf_free(&readable);
        bwm_buf_free(&avro);
        bwm_buf_free(&again);
        bwm_avro_schema_destroy(s);
    }
}

/* Decodes bytes with to_json and compares the text. */
static void renders(const char *schema, const uint8_t *p, size_t n, bwm_avro_json_mode_t mode,
                    const char *expected)
{
    bwm_avro_schema_t *s = schema_of(schema);
    bwm_buf_t out = {0};
    char err[256];
    size_t used = 0;

    cr_assert_eq(
        bwm_avro_to_json(bwm_avro_schema_root(s), p, n, NULL, mode, &out, &used, err, sizeof(err)),
        BWM_OK, "%s: %s", schema, err);
    cr_assert_eq(used, n, "%s: used %zu of %zu", schema, used, n);
    bwm_buf_put_u8(&out, 0);
    cr_assert_str_eq((char *)out.b_data, expected, "%s", schema);
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}

/* Encodes JSON text with from_json and compares the bytes. */
static void encodes(const char *schema, const char *json, const uint8_t *p, size_t n)
{
    bwm_avro_schema_t *s = schema_of(schema);
    bwm_buf_t out = {0};
    char err[256], got[512], want[512];

    cr_assert_eq(from_text(bwm_avro_schema_root(s), json, strlen(json), &out, err, sizeof(err)),
                 BWM_OK, "%s %s: %s", schema, json, err);
    hex(out.b_data, out.b_len, got);
    hex(p, n, want);
    cr_assert_str_eq(got, want, "%s %s", schema, json);
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

Test(avro_codec, hand_computed_encodings)
{
    /* zig-zag: -1 -> 1, 1 -> 2, -64 -> 127, 64 -> 0x80 0x01 */
    encodes("'long'", "-1", BYTES(0x01));
    encodes("'long'", "1", BYTES(0x02));
    encodes("'long'", "-64", BYTES(0x7f));
    encodes("'long'", "64", BYTES(0x80, 0x01));
    /* a union is its branch index, then the value: branch 1, "x" */
    encodes("['null','string']", "\"x\"", BYTES(0x02, 0x02, 'x'));
    encodes("['null','string']", "null", BYTES(0x00));
    /* decimal 12.30 with scale 2: unscaled 1230 = 0x04ce, as bytes of length 2 */
    encodes("{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "\"12.30\"",
            BYTES(0x04, 0x04, 0xce));
    /* -12.30: -1230 = 0xfb32 */
    encodes("{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}", "-12.3",
            BYTES(0x04, 0xfb, 0x32));
    /* a fixed decimal is sign-extended to its size */
    encodes("{'type':'fixed','name':'F','size':4,'logicalType':'decimal','precision':9,'scale':1}",
            "\"-0.1\"", BYTES(0xff, 0xff, 0xff, 0xff));
    /* a record is its fields in order; an array one block and a zero count */
    encodes("{'type':'record','name':'R','fields':[{'name':'i','type':'int'},"
            "{'name':'s','type':'string'},{'name':'a','type':{'type':'array','items':'int'}}]}",
            "{\"s\":\"ab\",\"a\":[1,2],\"i\":1}",
            BYTES(0x02, 0x04, 'a', 'b', 0x04, 0x02, 0x04, 0x00));
    /* a map: count, key, value, zero */
    encodes("{'type':'map','values':'boolean'}", "{\"k\":true}",
            BYTES(0x02, 0x02, 'k', 0x01, 0x00));
    /* float 1.0 and double -2.0, little-endian IEEE */
    encodes("'float'", "1", BYTES(0x00, 0x00, 0x80, 0x3f));
    encodes("'double'", "-2", BYTES(0, 0, 0, 0, 0, 0, 0, 0xc0));
}

Test(avro_codec, blocks_with_byte_sizes_and_non_canonical_varints)
{
    /* a negative count is followed by the block's size in bytes: [-2, 2 bytes] 1 2, then [1] 3 */
    renders("{'type':'array','items':'int'}", BYTES(0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00),
            BWM_AVRO_JSON_READABLE, "[1,2,3]");
    renders("{'type':'map','values':'int'}", BYTES(0x01, 0x06, 0x02, 'a', 0x02, 0x00),
            BWM_AVRO_JSON_AVRO, "{\"a\":1}");
    /* 0 written in two bytes, and the longest valid varint */
    renders("'long'", BYTES(0x80, 0x00), BWM_AVRO_JSON_READABLE, "0");
    renders("'long'", BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
            BWM_AVRO_JSON_READABLE, "-9223372036854775808");
}

Test(avro_codec, unions_in_avro_mode_name_their_branch)
{
    const char *u = "['null','int','long','float','double','boolean','bytes','string',"
                    "{'type':'record','name':'R','namespace':'x','fields':[]},"
                    "{'type':'enum','name':'E','symbols':['A']},"
                    "{'type':'array','items':'int'},{'type':'map','values':'int'},"
                    "{'type':'fixed','name':'F','namespace':'y','size':1}]";
    static const struct {
        const char *json, *avro;
    } cases[] = {
        {"null", "null"},
        {"{\"int\":1}", "{\"int\":1}"},
        {"{\"long\":1}", "{\"long\":1}"},
        {"{\"float\":1}", "{\"float\":1.0}"},
        {"{\"double\":1}", "{\"double\":1.0}"},
        {"{\"boolean\":true}", "{\"boolean\":true}"},
        {"{\"bytes\":\"a\"}", "{\"bytes\":\"a\"}"},
        {"{\"string\":\"a\"}", "{\"string\":\"a\"}"},
        {"{\"x.R\":{}}", "{\"x.R\":{}}"},
        {"{\"R\":{}}", "{\"x.R\":{}}"},
        {"{\"E\":\"A\"}", "{\"E\":\"A\"}"},
        {"{\"array\":[]}", "{\"array\":[]}"},
        {"{\"map\":{}}", "{\"map\":{}}"},
        {"{\"y.F\":\"z\"}", "{\"y.F\":\"z\"}"},
        {"true", "{\"boolean\":true}"},
        {"[5]", "{\"array\":[5]}"},
    };
    bwm_avro_schema_t *s = schema_of(u);
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    size_t i, used;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_buf_t bin = {0}, out = {0};
        char err[256];

        cr_assert_eq(from_text(n, cases[i].json, strlen(cases[i].json), &bin, err, sizeof(err)),
                     BWM_OK, "%s: %s", cases[i].json, err);
        cr_assert_eq(bwm_avro_to_json(n, bin.b_data, bin.b_len, NULL, BWM_AVRO_JSON_AVRO, &out,
                                      &used, err, sizeof(err)),
                     BWM_OK, "%s", err);
        bwm_buf_put_u8(&out, 0);
        cr_assert_str_eq((char *)out.b_data, cases[i].avro);
        bwm_buf_free(&bin);
        bwm_buf_free(&out);
    }
    bwm_avro_schema_destroy(s);
}

Test(avro_codec, invalid_utf8_becomes_replacement_characters)
{
    static const struct {
        uint8_t in[16];
        size_t n;
        const char *out;
    } cases[] = {
        /* a lone continuation byte, a truncated 3-byte sequence, an invalid lead */
        {{'a', 0x80, 'b'},
         3,
         "\"a\xef\xbf\xbd"
         "b\""},
        {{'a', 0xe2, 0x82}, 3, "\"a\xef\xbf\xbd\""},
        {{0xff, 0xc3, '('}, 3, "\"\xef\xbf\xbd\xef\xbf\xbd(\""},
        /* an overlong '/' and an encoded surrogate: one U+FFFD per maximal subpart */
        {{0xc0, 0xaf}, 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {{0xed, 0xa0, 0x80}, 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        /* beyond U+10FFFF */
        {{0xf4, 0x90, 0x80, 0x80}, 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        /* valid: U+10FFFF, U+FFFF, U+0800 pass through */
        {{0xf4, 0x8f, 0xbf, 0xbf, 0xef, 0xbf, 0xbf, 0xe0, 0xa0, 0x80},
         10,
         "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\xe0\xa0\x80\""},
        /* controls are escaped, DEL is not */
        {{0x00, 0x1f, 0x7f, '\b', '\f'}, 5, "\"\\u0000\\u001f\x7f\\b\\f\""},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t bin[32];

        bin[0] = (uint8_t)(2 * cases[i].n);
        memcpy(bin + 1, cases[i].in, cases[i].n);
        renders("'string'", bin, cases[i].n + 1, BWM_AVRO_JSON_READABLE, cases[i].out);
        /* and the map keys too */
        {
            uint8_t m[40] = {0x02};

            memcpy(m + 1, bin, cases[i].n + 1);
            m[cases[i].n + 2] = 0x00; /* the null value takes no bytes; end of map */
            {
                char want[80];

                snprintf(want, sizeof(want), "{%s:null}", cases[i].out);
                renders("{'type':'map','values':'null'}", m, cases[i].n + 3, BWM_AVRO_JSON_READABLE,
                        want);
            }
        }
    }
}

Test(avro_codec, awkward_numbers)
{
    /* integer extremes, exactly and one past */
    encodes("'int'", "2147483647", BYTES(0xfe, 0xff, 0xff, 0xff, 0x0f));
    encodes("'int'", "-2147483648", BYTES(0xff, 0xff, 0xff, 0xff, 0x0f));
    encodes("'long'", "9223372036854775807",
            BYTES(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
    /* a real with no fraction is an integer; 1e3 is 1000 */
    encodes("'int'", "1e3", BYTES(0xd0, 0x0f));
    /* NaN, infinities and -0.0 in a union */
    encodes("['null','double']", "\"NaN\"", BYTES(0x02, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f));
    encodes("['null','double']", "\"-Infinity\"", BYTES(0x02, 0, 0, 0, 0, 0, 0, 0xf0, 0xff));
    encodes("['null','float']", "-0.0", BYTES(0x02, 0, 0, 0, 0x80));
    /* a NaN with a payload still renders as "NaN" */
    renders("'double'", BYTES(1, 0, 0, 0, 0, 0, 0xf8, 0xff), BWM_AVRO_JSON_READABLE, "\"NaN\"");
    renders("'float'", BYTES(1, 0, 0xc0, 0xff), BWM_AVRO_JSON_AVRO, "\"NaN\"");
    /* shortest float text: 0.3f is not 0.30000001192092896 */
    renders("'float'", BYTES(0x9a, 0x99, 0x99, 0x3e), BWM_AVRO_JSON_READABLE, "0.3");
    renders("'float'", BYTES(0x01, 0x00, 0x80, 0x00), BWM_AVRO_JSON_READABLE, "1.1754945e-38");
    renders("'double'", BYTES(0x01, 0, 0, 0, 0, 0, 0, 0), BWM_AVRO_JSON_READABLE,
            "4.94065645841247e-324");
}

Test(avro_codec, every_float_text_reads_back)
{
    uint32_t u;
    int k = 0;

    /* a stride through all float bit patterns (and their neighbours) */
    for (u = 0; u < 0xffffff00u && k < 200000; u += 0x5279u, k++) {
        uint32_t v = u;
        uint8_t b[4];
        float f, back;
        bwm_buf_t out = {0};
        size_t used;
        json_t *j;

        memcpy(&f, &v, 4);
        if (!isfinite(f)) {
            continue;
        }
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)(v >> 16);
        b[3] = (uint8_t)(v >> 24);
        cr_assert_eq(bwm_avro_to_json(&(bwm_avro_node_t){.an_type = BWM_AVRO_FLOAT}, b, 4, NULL,
                                      BWM_AVRO_JSON_READABLE, &out, &used, NULL, 0),
                     BWM_OK);
        bwm_buf_put_u8(&out, 0);
        cr_assert_eq(strtof((char *)out.b_data, NULL), f, "%s", out.b_data);
        j = jparse((char *)out.b_data, out.b_len - 1);
        back = (float)json_number_value(j);
        cr_assert(memcmp(&back, &f, 4) == 0, "%s", out.b_data);
        json_decref(j);
        bwm_buf_free(&out);
    }
}

static const char *deep_schema = "{'type':'record','name':'N','fields':[{'name':'next','type':"
                                 "['null','N']}]}";

/* {"next":{"next": ... null}} with levels records. */
static char *deep_json(int levels)
{
    char *s = malloc((size_t)levels * 12 + 16), *p = s;
    int i;

    for (i = 0; i < levels; i++) {
        p += sprintf(p, "{\"next\":");
    }
    p += sprintf(p, "null");
    for (i = 0; i < levels; i++) {
        *p++ = '}';
    }
    *p = '\0';
    return s;
}

Test(avro_codec, depth_at_and_past_the_limit)
{
    bwm_avro_schema_t *s = schema_of(deep_schema);
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    bwm_buf_t out = {0}, txt = {0};
    char err[256];
    /* each level is a record and a union: 32 levels take 64 */
    char *at = deep_json(32), *past = deep_json(33);
    bwm_avro_limits_t lim = bwm_avro_default_limits;
    size_t used;

    cr_assert_eq(from_text(n, at, strlen(at), &out, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(out.b_len, 32);
    cr_assert_eq(bwm_avro_check(n, out.b_data, out.b_len, NULL, &used, err, sizeof(err)), BWM_OK,
                 "%s", err);
    cr_assert_eq(bwm_avro_to_json(n, out.b_data, out.b_len, NULL, BWM_AVRO_JSON_READABLE, &txt,
                                  &used, err, sizeof(err)),
                 BWM_OK);
    cr_assert(txt.b_len == strlen(at) && memcmp(txt.b_data, at, txt.b_len) == 0);
    lim.al_max_depth = 63;
    cr_assert_eq(bwm_avro_check(n, out.b_data, out.b_len, &lim, &used, err, sizeof(err)),
                 BWM_ERR_LIMIT);
    cr_assert(strstr(err, "nested deeper than 63 levels at byte 31 of 32"), "%s", err);
    cr_assert_eq(from_text(n, past, strlen(past), &out, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert(strstr(err, "nested deeper than 64 levels"), "%s", err);
    cr_assert(strncmp(err, "$.next.next.", 12) == 0, "%s", err);
    cr_assert_eq(out.b_len, 0, "nothing is left behind on an error");
    free(at);
    free(past);
    bwm_buf_free(&out);
    bwm_buf_free(&txt);
    bwm_avro_schema_destroy(s);
}

Test(avro_codec, strings_at_and_past_the_byte_limit)
{
    const size_t max = bwm_avro_default_limits.al_max_bytes;
    bwm_avro_node_t str = {.an_type = BWM_AVRO_STRING}, byt = {.an_type = BWM_AVRO_BYTES};
    bwm_avro_limits_t lim = {64, 8, 100};
    uint8_t nine[10] = {18, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'};
    char *text = malloc(max + 4), err[256];
    bwm_buf_t out = {0};
    json_t *v;
    size_t used;

    /* binary, with a small limit: 8 bytes pass, 9 do not */
    nine[0] = 16;
    cr_assert_eq(bwm_avro_check(&str, nine, 9, &lim, &used, err, sizeof(err)), BWM_OK);
    cr_assert_eq(used, 9);
    nine[0] = 18;
    cr_assert_eq(bwm_avro_check(&str, nine, 10, &lim, &used, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert_str_eq(err, "$: length 9 above the limit of 8 at byte 0 of 10");
    cr_assert_eq(bwm_avro_check(&byt, nine, 10, &lim, &used, err, sizeof(err)), BWM_ERR_LIMIT);
    /* JSON, with the default limit of 1 MiB */
    memset(text, 'x', max + 1);
    v = json_stringn(text, max);
    cr_assert_eq(bwm_avro_from_json(&str, v, &out, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(out.b_len, max + 4); /* 2^21 zig-zagged takes 4 bytes */
    cr_assert_eq(bwm_avro_check(&str, out.b_data, out.b_len, NULL, &used, err, sizeof(err)),
                 BWM_OK);
    json_decref(v);
    bwm_buf_reset(&out);
    v = json_stringn(text, max + 1);
    cr_assert_eq(bwm_avro_from_json(&str, v, &out, err, sizeof(err)), BWM_ERR_LIMIT);
    cr_assert_str_eq(err, "$: 1048577 bytes, above the limit of 1048576");
    cr_assert_eq(bwm_avro_from_json(&byt, v, &out, err, sizeof(err)), BWM_ERR_LIMIT);
    json_decref(v);
    free(text);
    bwm_buf_free(&out);
}

Test(avro_codec, decimals_with_38_digits_and_at_the_scale)
{
    const char *d38 = "{'type':'fixed','name':'D','size':16,'logicalType':'decimal','precision':"
                      "38,'scale':10}";
    const char *b4 = "{'type':'bytes','logicalType':'decimal','precision':4,'scale':2}";
    bwm_buf_t out = {0};
    bwm_avro_schema_t *s = schema_of(d38);
    char err[256];

    /* 10^38 - 1 and its negative, exactly */
    encodes(d38, "\"9999999999999999999999999999.9999999999\"",
            BYTES(0x4b, 0x3b, 0x4c, 0xa8, 0x5a, 0x86, 0xc4, 0x7a, 0x09, 0x8a, 0x22, 0x3f, 0xff,
                  0xff, 0xff, 0xff));
    encodes(d38, "\"-9999999999999999999999999999.9999999999\"",
            BYTES(0xb4, 0xc4, 0xb3, 0x57, 0xa5, 0x79, 0x3b, 0x85, 0xf6, 0x75, 0xdd, 0xc0, 0x00,
                  0x00, 0x00, 0x01));
    renders(d38,
            BYTES(0xb4, 0xc4, 0xb3, 0x57, 0xa5, 0x79, 0x3b, 0x85, 0xf6, 0x75, 0xdd, 0xc0, 0x00,
                  0x00, 0x00, 0x01),
            BWM_AVRO_JSON_READABLE, "\"-9999999999999999999999999999.9999999999\"");
    renders(d38,
            BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                  0xff, 0xff, 0xff),
            BWM_AVRO_JSON_READABLE, "\"-0.0000000001\"");
    /* the smallest step of the scale, trailing zeros beyond it, exponents */
    encodes(b4, "\"-0.01\"", BYTES(0x02, 0xff));
    encodes(b4, "\"0.0100000\"", BYTES(0x02, 0x01));
    encodes(b4, "\"-1e-2\"", BYTES(0x02, 0xff));
    encodes(b4, "\"+99.99\"", BYTES(0x04, 0x27, 0x0f));
    encodes(b4, "\"-0\"", BYTES(0x02, 0x00));
    /* one digit past the scale or the precision is an error */
    cr_assert_eq(from_text(bwm_avro_schema_root(s), "\"1e28\"", 6, &out, err, sizeof(err)),
                 BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$: \"1e28\" has more digits than the precision (decimal(38, 10))");
    bwm_avro_schema_destroy(s);
    s = schema_of(b4);
    cr_assert_eq(from_text(bwm_avro_schema_root(s), "\"0.005\"", 7, &out, err, sizeof(err)),
                 BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$: \"0.005\" has more fractional digits than the scale (decimal(4, 2))");
    cr_assert_eq(from_text(bwm_avro_schema_root(s), "100.0", 5, &out, err, sizeof(err)),
                 BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$: 100.0 has more digits than the precision (decimal(4, 2))");
    bwm_avro_schema_destroy(s);
    bwm_buf_free(&out);
    /* a sign byte more than needed (fastavro writes -128 so) reads the same */
    renders(b4, BYTES(0x04, 0xff, 0x80), BWM_AVRO_JSON_READABLE, "\"-1.28\"");
    /* a zero-length unscaled value reads as 0 */
    renders(b4, BYTES(0x00), BWM_AVRO_JSON_READABLE, "\"0.00\"");
    /* an unscaled value longer than any precision still renders, exactly */
    renders("{'type':'bytes','logicalType':'decimal','precision':1,'scale':1}",
            BYTES(0x12, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
            BWM_AVRO_JSON_READABLE, "\"1844674407370955161.6\"");
}

Test(avro_codec, dates_and_times_outside_the_printed_range)
{
    /* one day before 0000-01-01 and after 9999-12-31 print as numbers */
    renders("{'type':'long','logicalType':'timestamp-micros'}",
            BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
            BWM_AVRO_JSON_READABLE, "-9223372036854775808");
    renders("{'type':'long','logicalType':'local-timestamp-millis'}",
            BYTES(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
            BWM_AVRO_JSON_READABLE, "9223372036854775807");
    renders("{'type':'int','logicalType':'date'}", BYTES(0xff, 0xff, 0xff, 0xff, 0x0f),
            BWM_AVRO_JSON_READABLE, "-2147483648");
    renders("{'type':'long','logicalType':'time-micros'}", BYTES(0x01), BWM_AVRO_JSON_READABLE,
            "-1");
    /* the first millisecond before 1970 and a leap day before it */
    renders("{'type':'long','logicalType':'timestamp-millis'}", BYTES(0x01), BWM_AVRO_JSON_READABLE,
            "\"1969-12-31T23:59:59.999Z\"");
    encodes("{'type':'int','logicalType':'date'}", "\"1968-02-29\"", BYTES(0xbf, 0x0a));
    renders("{'type':'int','logicalType':'date'}", BYTES(0xbf, 0x0a), BWM_AVRO_JSON_READABLE,
            "\"1968-02-29\"");
}

Test(avro_codec, empty_containers_and_unicode_beyond_the_bmp)
{
    const char *rec = "{'type':'record','name':'R','fields':["
                      "{'name':'s','type':'string'},{'name':'a','type':{'type':'array','items':"
                      "'string'}},{'name':'m','type':{'type':'map','values':'string'}},"
                      "{'name':'e','type':{'type':'record','name':'Empty','fields':[]}}]}";

    encodes(rec, "{\"s\":\"\",\"a\":[],\"m\":{},\"e\":{}}", BYTES(0x00, 0x00, 0x00));
    renders(rec, BYTES(0x00, 0x00, 0x00), BWM_AVRO_JSON_READABLE,
            "{\"s\":\"\",\"a\":[],\"m\":{},\"e\":{}}");
    /* U+1F600 and U+10348 from surrogate pairs, in a string and a map key */
    encodes(rec,
            "{\"s\":\"\\ud83d\\ude00\",\"a\":[\"\\ud800\\udf48\"],\"m\":{\"\\ud83d\\ude00\":\"\"},"
            "\"e\":{}}",
            BYTES(0x08, 0xf0, 0x9f, 0x98, 0x80, 0x02, 0x08, 0xf0, 0x90, 0x8d, 0x88, 0x00, 0x02,
                  0x08, 0xf0, 0x9f, 0x98, 0x80, 0x00, 0x00));
}

/* ---- from_json errors and defaults ------------------------------------------------------- */

#define TELEMETRY                                                                                  \
    "{'type':'record','name':'Telemetry','namespace':'bwm.samples','fields':["                     \
    "{'name':'vin','type':'string'},"                                                              \
    "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"                       \
    "{'name':'n','type':'int','default':0},"                                                       \
    "{'name':'fuel','type':['null','double'],'default':null},"                                     \
    "{'name':'status','type':{'type':'enum','name':'VehicleStatus','symbols':['PARKED','IDLE',"    \
    "'DRIVING','CHARGING']},'default':'IDLE'},"                                                    \
    "{'name':'location','type':['null',{'type':'record','name':'Location','fields':["              \
    "{'name':'lat','type':'double'},{'name':'lon','type':'double'}]}],'default':null},"            \
    "{'name':'tags','type':{'type':'array','items':'string'},'default':[]},"                       \
    "{'name':'attrs','type':{'type':'map','values':'int'},'default':{}},"                          \
    "{'name':'id','type':{'type':'string','logicalType':'uuid'},"                                  \
    "'default':'00000000-0000-0000-0000-000000000000'},"                                           \
    "{'name':'price','type':{'type':'bytes','logicalType':'decimal','precision':6,'scale':2},"     \
    "'default':'\\u0000'},"                                                                        \
    "{'name':'code','type':{'type':'fixed','name':'Code','size':2},'default':'ab'},"               \
    "{'name':'day','type':{'type':'int','logicalType':'date'},'default':0},"                       \
    "{'name':'f','type':'float','default':1.5}]}"

Test(avro_json, errors_name_the_path_and_what_was_expected)
{
    static const struct {
        const char *json;
        bwm_err_t err;
        const char *message;
    } rows[] = {
        {"{\"vin\":\"V\",\"ts\":0,\"location\":{\"lat\":\"north\",\"lon\":1}}", BWM_ERR_TYPE,
         "$.location.lat: expected a number, got \"north\""},
        {"{\"vin\":\"V\",\"ts\":0,\"status\":\"FLYING\"}", BWM_ERR_TYPE,
         "$.status: 'FLYING' is not a symbol of VehicleStatus (PARKED, IDLE, DRIVING, CHARGING)"},
        {"{\"vin\":\"V\",\"ts\":0,\"status\":2}", BWM_ERR_TYPE,
         "$.status: expected a symbol of VehicleStatus, got 2"},
        {"{\"ts\":0}", BWM_ERR_TYPE, "$: missing field 'vin' (no default)"},
        {"{\"vin\":\"V\",\"ts\":0,\"speeed\":1}", BWM_ERR_TYPE,
         "$: unknown field 'speeed' in record Telemetry"},
        {"{\"vin\":\"V\",\"ts\":0,\"a\":1,\"b\":2,\"c\":3,\"d\":4}", BWM_ERR_TYPE,
         "$: unknown fields 'a', 'b', 'c', ... in record Telemetry"},
        {"[1]", BWM_ERR_TYPE, "$: expected an object (record Telemetry), got an array"},
        {"{\"vin\":\"V\",\"ts\":0,\"tags\":[\"a\",5]}", BWM_ERR_TYPE,
         "$.tags[1]: expected a string, got 5"},
        {"{\"vin\":\"V\",\"ts\":0,\"attrs\":{\"k\":\"x\"}}", BWM_ERR_TYPE,
         "$.attrs.k: expected an int, got \"x\""},
        {"{\"vin\":\"V\",\"ts\":0,\"attrs\":{\"a b\":true}}", BWM_ERR_TYPE,
         "$.attrs[\"a b\"]: expected an int, got true"},
        {"{\"vin\":\"V\",\"ts\":0,\"n\":2147483648}", BWM_ERR_TYPE,
         "$.n: 2147483648 is out of range for an int"},
        {"{\"vin\":\"V\",\"ts\":0,\"n\":1.5}", BWM_ERR_TYPE, "$.n: expected an int, got 1.5"},
        {"{\"vin\":\"V\",\"ts\":\"yesterday\"}", BWM_ERR_TYPE,
         "$.ts: expected an ISO-8601 timestamp or an integer, got \"yesterday\""},
        {"{\"vin\":\"V\",\"ts\":\"2026-01-01T00:00:00.0001Z\"}", BWM_ERR_TYPE,
         "$.ts: \"2026-01-01T00:00:00.0001Z\" is more precise than milliseconds"},
        {"{\"vin\":\"V\",\"ts\":\"2026-02-29T00:00:00Z\"}", BWM_ERR_TYPE,
         "$.ts: expected an ISO-8601 timestamp or an integer, got \"2026-02-29T00:00:00Z\""},
        {"{\"vin\":\"V\",\"ts\":\"2026-01-01T24:00:00Z\"}", BWM_ERR_TYPE, "$.ts: expected"},
        {"{\"vin\":\"V\",\"ts\":0,\"day\":\"2026-13-01\"}", BWM_ERR_TYPE,
         "$.day: expected a date (YYYY-MM-DD) or an integer, got \"2026-13-01\""},
        {"{\"vin\":\"V\",\"ts\":0,\"fuel\":\"north\"}", BWM_ERR_TYPE,
         "$.fuel: expected null or a number, got \"north\""},
        {"{\"vin\":\"V\",\"ts\":0,\"fuel\":{\"long\":1}}", BWM_ERR_TYPE,
         "$.fuel: expected null or a number, got an object"},
        {"{\"vin\":\"V\",\"ts\":0,\"location\":{\"lat\":1}}", BWM_ERR_TYPE,
         "$.location: expected null or an object (record Location), got an object"},
        {"{\"vin\":\"V\",\"ts\":0,\"id\":\"not-a-uuid\"}", BWM_ERR_TYPE,
         "$.id: \"not-a-uuid\" is not a uuid (8-4-4-4-12 hex digits)"},
        {"{\"vin\":\"V\",\"ts\":0,\"price\":\"12.345\"}", BWM_ERR_TYPE,
         "$.price: \"12.345\" has more fractional digits than the scale (decimal(6, 2))"},
        {"{\"vin\":\"V\",\"ts\":0,\"price\":true}", BWM_ERR_TYPE,
         "$.price: expected a decimal (a number or decimal text), got true"},
        {"{\"vin\":\"V\",\"ts\":0,\"code\":\"abc\"}", BWM_ERR_TYPE,
         "$.code: expected a string of 2 bytes (code points 0 to 255), got \"abc\""},
        {"{\"vin\":\"V\",\"ts\":0,\"code\":\"a\\u0100\"}", BWM_ERR_TYPE,
         "$.code: expected a string of 2 bytes"},
        {"{\"vin\":\"V\",\"ts\":0,\"f\":1e39}", BWM_ERR_TYPE,
         "$.f: 1e+39 is out of range for a float"},
        {"{\"vin\":\"V\",\"ts\":0,\"f\":\"nan\"}", BWM_ERR_TYPE,
         "$.f: expected a number, got \"nan\""},
        {"{\"vin\":null,\"ts\":0}", BWM_ERR_TYPE, "$.vin: expected a string, got null"},
        {"{\"vin\":\"V\",\"ts\":0,\"tags\":{}}", BWM_ERR_TYPE,
         "$.tags: expected an array, got an object"},
        {"{\"vin\":\"V\",\"ts\":0,\"attrs\":[]}", BWM_ERR_TYPE,
         "$.attrs: expected an object (a map), got an array"},
        {"{\"vin\":\"0123456789012345678901234567890123456789012345678901234567890\",\"ts\":[]}",
         BWM_ERR_TYPE, "$.ts: expected an ISO-8601 timestamp or an integer, got an array"},
    };
    bwm_avro_schema_t *s = schema_of(TELEMETRY);
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    bwm_buf_t out = {0};
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char err[512];

        bwm_buf_put(&out, "keep", 4);
        cr_assert_eq(from_text(n, rows[i].json, strlen(rows[i].json), &out, err, sizeof(err)),
                     rows[i].err, "%s: %s", rows[i].json, err);
        cr_assert(strncmp(err, rows[i].message, strlen(rows[i].message)) == 0,
                  "%s:\n  got      %s\n  expected %s", rows[i].json, err, rows[i].message);
    }
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}

Test(avro_json, output_is_left_as_it_was_on_an_error)
{
    bwm_avro_schema_t *s = schema_of(TELEMETRY);
    bwm_buf_t out = {0};
    const char *text = "{\"vin\":\"V\",\"ts\":0,\"f\":\"x\"}";
    json_t *v = jparse(text, strlen(text));

    bwm_buf_put(&out, "keep", 4);
    cr_assert_eq(bwm_avro_from_json(bwm_avro_schema_root(s), v, &out, NULL, 0), BWM_ERR_TYPE);
    cr_assert_eq(out.b_len, 4);
    cr_assert_eq(memcmp(out.b_data, "keep", 4), 0);
    cr_assert_eq(bwm_avro_from_json(bwm_avro_schema_root(s), NULL, &out, NULL, 0), BWM_ERR_INVALID);
    json_decref(v);
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}

Test(avro_json, missing_fields_take_their_defaults)
{
    /* vin "V", ts 0, and every default: n 0, fuel null, IDLE, location null, [] , {}, the
     * zero uuid, price 0.00 from "\u0000", code "ab", day 0, f 1.5 */
    static const char want[] = "\x02V\x00\x00\x00\x02\x00\x00\x00\x48"
                               "00000000-0000-0000-0000-000000000000"
                               "\x02\x00"
                               "ab"
                               "\x00"
                               "\x00\x00\xc0\x3f";

    encodes(TELEMETRY, "{\"vin\":\"V\",\"ts\":0}", (const uint8_t *)want, sizeof(want) - 1);
    renders(TELEMETRY, (const uint8_t *)want, sizeof(want) - 1, BWM_AVRO_JSON_READABLE,
            "{\"vin\":\"V\",\"ts\":\"1970-01-01T00:00:00.000Z\",\"n\":0,\"fuel\":null,"
            "\"status\":\"IDLE\",\"location\":null,\"tags\":[],\"attrs\":{},"
            "\"id\":\"00000000-0000-0000-0000-000000000000\",\"price\":\"0.00\","
            "\"code\":\"ab\",\"day\":\"1970-01-01\",\"f\":1.5}");
}

Test(avro_json, defaults_of_unions_are_of_the_first_branch_throughout)
{
    const char *schema =
        "{'type':'record','name':'R','fields':["
        "{'name':'a','type':['string','null'],'default':'x'},"
        "{'name':'b','type':{'type':'record','name':'In','fields':[{'name':'u','type':"
        "['long','null']},{'name':'w','type':['null','long'],'default':null}]},"
        "'default':{'u':5}},"
        "{'name':'c','type':{'type':'array','items':['int','string']},'default':[1,2]},"
        "{'name':'bad','type':'int','default':'seven'}]}";
    bwm_avro_schema_t *s = schema_of(schema);
    bwm_buf_t out = {0};
    char err[256];

    /* a: branch 0 "x"; b.u: branch 0, 5; b.w: its own default; c: two branch-0 ints */
    encodes(schema, "{\"bad\":1}",
            BYTES(0x00, 0x02, 'x', 0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x04, 0x00, 0x02));
    /* a default that does not fit its type is an error when it is needed */
    cr_assert_eq(from_text(bwm_avro_schema_root(s), "{}", 2, &out, err, sizeof(err)), BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$.bad: expected an int, got \"seven\"");
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}

Test(avro_json, bare_union_values_need_exactly_one_branch)
{
    const char *u = "['null','int','long','string',{'type':'enum','name':'E','symbols':['A']}]";
    bwm_avro_schema_t *s = schema_of(u);
    const bwm_avro_node_t *n = bwm_avro_schema_root(s);
    bwm_buf_t out = {0};
    char err[256];

    cr_assert_eq(from_text(n, "5", 1, &out, err, sizeof(err)), BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$: 5 fits more than one branch of the union (int, long); write it as "
                          "{\"<branch>\": value}");
    /* only a long holds 2^40; only the string "B" */
    encodes(u, "1099511627776", BYTES(0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40));
    encodes(u, "\"B\"", BYTES(0x06, 0x02, 'B'));
    cr_assert_eq(from_text(n, "\"A\"", 3, &out, err, sizeof(err)), BWM_ERR_TYPE);
    cr_assert(strstr(err, "(string, E)"), "%s", err);
    encodes(u, "{\"E\":\"A\"}", BYTES(0x08, 0x00));
    cr_assert_eq(from_text(n, "1.5", 3, &out, err, sizeof(err)), BWM_ERR_TYPE);
    cr_assert_str_eq(err,
                     "$: expected null, an int, an integer, a string or a symbol of E, got 1.5");
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
    /* timestamps and dates by their text, decimals by number or text */
    encodes("['null',{'type':'long','logicalType':'timestamp-millis'}]", "\"1970-01-01T00:00:01Z\"",
            BYTES(0x02, 0xd0, 0x0f));
    encodes("['null','boolean',{'type':'bytes','logicalType':'decimal','precision':3,'scale':1}]",
            "1.5", BYTES(0x04, 0x02, 0x0f));
    /* a logical type's branch is named by its base type */
    encodes("['null',{'type':'string','logicalType':'uuid'}]",
            "{\"string\":\"123e4567-e89b-12d3-a456-426614174000\"}",
            BYTES(0x02, 0x48, '1', '2', '3', 'e', '4', '5', '6', '7', '-', 'e', '8', '9', 'b', '-',
                  '1', '2', 'd', '3', '-', 'a', '4', '5', '6', '-', '4', '2', '6', '6', '1', '4',
                  '1', '7', '4', '0', '0', '0'));
}

Test(avro_json, any_json_is_refused_cleanly)
{
    static const char *const texts[] = {
        "null",        "true",
        "0",           "-1.5e300",
        "\"\"",        "\"\\u0000\"",
        "[]",          "{}",
        "[[[[[]]]]]",  "{\"vin\":{\"vin\":{}}}",
        "{\"\":null}", "[null,{\"a\":[1,\"b\"]}]",
    };
    bwm_avro_schema_t *s = schema_of(TELEMETRY);
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        bwm_buf_t out = {0};
        char err[256] = "";

        cr_assert_neq(
            from_text(bwm_avro_schema_root(s), texts[i], strlen(texts[i]), &out, err, sizeof(err)),
            BWM_OK, "%s", texts[i]);
        cr_assert(err[0] == '$', "%s: %s", texts[i], err);
        cr_assert_eq(out.b_len, 0);
        bwm_buf_free(&out);
    }
    bwm_avro_schema_destroy(s);
}

Test(avro_json, object_keys_with_nul_are_not_field_names)
{
    bwm_avro_schema_t *s = schema_of(TELEMETRY);
    bwm_buf_t out = {0};
    json_t *v = jparse("{\"vin\":\"V\",\"ts\":0}", 18);
    char err[256];

    /* jansson's parser refuses such keys, but a program can make them */
    json_object_setn_new(v, "vin\0x", 5, json_integer(1));
    cr_assert_eq(bwm_avro_from_json(bwm_avro_schema_root(s), v, &out, err, sizeof(err)),
                 BWM_ERR_TYPE);
    cr_assert_str_eq(err, "$: unknown field 'vin\\u0000x' in record Telemetry");
    json_decref(v);
    bwm_buf_free(&out);
    bwm_avro_schema_destroy(s);
}
