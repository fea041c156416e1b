/*
 * test_codec.c: decoding records into slots (including writer schemas that
 * differ from the reader's), encoding results, and JSON literals.
 */
#include <avro.h>
#include <inttypes.h>
#include <criterion/criterion.h>
#include <string.h>

#include "core/decoder.h"
#include "core/json.h"
#include "core/result.h"
#include "fixtures.h"

/* Encodes a record of schema_json whose fields are set by fill(). */
static size_t encode(const char *schema_json, void (*fill)(avro_value_t *), char *out, size_t size)
{
    avro_schema_t s;
    avro_value_iface_t *iface;
    avro_value_t v;
    avro_writer_t w;
    size_t n;

    cr_assert_eq(avro_schema_from_json_length(schema_json, strlen(schema_json), &s), 0, "%s",
                 avro_strerror());
    iface = avro_generic_class_from_schema(s);
    avro_generic_value_new(iface, &v);
    fill(&v);
    cr_assert_eq(avro_value_sizeof(&v, &n), 0);
    cr_assert(n <= size);
    w = avro_writer_memory(out, (int64_t)size);
    cr_assert_eq(avro_value_write(w, &v), 0, "%s", avro_strerror());
    avro_writer_free(w);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
    return n;
}

static void set(avro_value_t *rec, const char *name, avro_value_t *out)
{
    cr_assert_eq(avro_value_get_by_name(rec, name, out, NULL), 0, "no field %s", name);
}

static void fill_full(avro_value_t *r)
{
    avro_value_t f, b;

    set(r, "vin", &f);
    avro_value_set_string(&f, "VIN\"1");
    set(r, "ts", &f);
    avro_value_set_long(&f, 1767225600123LL);
    set(r, "n", &f);
    avro_value_set_int(&f, -7);
    set(r, "big", &f);
    avro_value_set_long(&f, 1LL << 40);
    set(r, "km", &f);
    avro_value_set_double(&f, 0.1);
    set(r, "f", &f);
    avro_value_set_float(&f, 1.5f);
    set(r, "on", &f);
    avro_value_set_boolean(&f, 1);
    set(r, "fuel", &f);
    avro_value_set_branch(&f, 0, &b);
    avro_value_set_null(&b);
    set(r, "state", &f);
    avro_value_set_enum(&f, 1);
    set(r, "tags", &f);
    avro_value_append(&f, &b, NULL);
    avro_value_set_string(&b, "x");
    set(r, "pos", &f);
    avro_value_set_branch(&f, 1, &b);
    avro_value_get_by_name(&b, "lat", &f, NULL);
    avro_value_set_double(&f, 59.9);
    avro_value_get_by_name(&b, "lon", &f, NULL);
    avro_value_set_double(&f, 10.7);
    avro_value_get_by_name(&b, "at", &f, NULL);
    avro_value_get_by_name(&f, "city", &b, NULL);
    avro_value_set_string(&b, "Oslo");
}

/* A slot spec for a top-level field. */
#define TOP(name, type, nullable, dflt)                                                            \
    {                                                                                              \
        name, (const char *[]){name}, 1, type, nullable, dflt, NULL                                \
    }

Test(codec, decodes_every_scalar_kind_into_slots)
{
    bwm_schema_t *s = fixture_schema();
    bwm_slot_spec_t specs[] = {
        TOP("vin", BWM_T_STRING, 0, 0),
        TOP("n", BWM_T_LONG, 0, 0),
        TOP("big", BWM_T_LONG, 0, 0),
        TOP("km", BWM_T_DOUBLE, 0, 0),
        TOP("f", BWM_T_DOUBLE, 0, 0),
        TOP("on", BWM_T_BOOL, 0, 0),
        TOP("fuel", BWM_T_DOUBLE, 1, 1),
        TOP("state", BWM_T_STRING, 0, 0),
        {"pos.at.city", (const char *[]){"pos", "at", "city"}, 3, BWM_T_STRING, 1, 0, NULL},
        {"pos.lat", (const char *[]){"pos", "lat"}, 2, BWM_T_DOUBLE, 1, 0, NULL},
    };
    bwm_value_t out[10];
    char buf[256], err[256];
    size_t n = encode(FIXTURE_SCHEMA, fill_full, buf, sizeof(buf));
    bwm_decoder_t *d = bwm_decoder_new(s, s, specs, 10, &bwm_avro_default_limits, err, sizeof(err));

    cr_assert_not_null(d, "%s", err);
    cr_assert_eq(bwm_decoder_decode(d, buf, n, out, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(out[0].v_type, BWM_T_STRING);
    cr_assert_eq(out[0].u.v_str.n, 5, "length without avro-c's trailing NUL");
    cr_assert_eq(memcmp(out[0].u.v_str.p, "VIN\"1", 5), 0);
    cr_assert_eq(out[1].u.v_long, -7);
    cr_assert_eq(out[2].u.v_long, 1LL << 40);
    cr_assert_eq(out[3].u.v_double, 0.1);
    cr_assert_eq(out[4].u.v_double, 1.5);
    cr_assert_eq(out[5].u.v_bool, 1);
    cr_assert_eq(out[6].v_type, BWM_T_NULL);
    cr_assert_eq(out[7].u.v_str.n, 1);
    cr_assert_eq(out[7].u.v_str.p[0], 'B', "enums read as their symbol");
    cr_assert_eq(out[8].v_type, BWM_T_STRING, "nested record field");
    cr_assert_eq(memcmp(out[8].u.v_str.p, "Oslo", 4), 0);
    cr_assert_eq(out[9].u.v_double, 59.9);
    /* Garbage and truncated bodies are decode errors, not crashes. */
    cr_assert_eq(bwm_decoder_decode(d, buf, 3, out, err, sizeof(err)), BWM_ERR_DECODE);
    bwm_decoder_destroy(d);
    bwm_schema_destroy(s);
}

#define OLD_WRITER                                                                                 \
    "{\"type\":\"record\",\"name\":\"Reading\",\"namespace\":\"t\",\"fields\":["                   \
    "{\"name\":\"km\",\"type\":\"int\"},{\"name\":\"vin\",\"type\":\"string\"}]}"

static void fill_old(avro_value_t *r)
{
    avro_value_t f;

    set(r, "km", &f);
    avro_value_set_int(&f, 12);
    set(r, "vin", &f);
    avro_value_set_string(&f, "OLD");
}

Test(codec, other_writer_schemas_map_by_name_with_defaults_and_promotions)
{
    char err[256], buf[64];
    bwm_schema_t *reader = fixture_schema();
    bwm_schema_t *w = bwm_schema_parse(OLD_WRITER, strlen(OLD_WRITER), err, sizeof(err));
    bwm_slot_spec_t specs[] = {TOP("vin", BWM_T_STRING, 0, 0), TOP("km", BWM_T_DOUBLE, 0, 0),
                               TOP("fuel", BWM_T_DOUBLE, 1, 1)};
    bwm_slot_spec_t need_on[] = {TOP("on", BWM_T_BOOL, 0, 0)};
    bwm_value_t out[3];
    size_t n = encode(OLD_WRITER, fill_old, buf, sizeof(buf));
    bwm_decoder_t *d;

    cr_assert_not_null(w, "%s", err);
    d = bwm_decoder_new(w, reader, specs, 3, &bwm_avro_default_limits, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    cr_assert_eq(bwm_decoder_decode(d, buf, n, out, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(out[0].u.v_str.n, 3);
    cr_assert_eq(out[1].v_type, BWM_T_DOUBLE);
    cr_assert_eq(out[1].u.v_double, 12.0, "int promoted to double");
    cr_assert_eq(out[2].v_type, BWM_T_NULL, "absent field with a null default");
    bwm_decoder_destroy(d);
    cr_assert_null(
        bwm_decoder_new(w, reader, need_on, 1, &bwm_avro_default_limits, err, sizeof(err)));
    cr_assert(strstr(err, "has no field 'on' and the reader gives no default"), "%s", err);
    bwm_schema_destroy(w);
    bwm_schema_destroy(reader);
}

#define VARINT_SCHEMA                                                                              \
    "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"},"          \
    "{\"name\":\"s\",\"type\":\"string\"}]}"

/* Writes the zigzag varint of v in exactly len bytes (padded with zero groups when longer). */
static size_t put_varint(uint8_t *out, int64_t v, size_t len)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t i;

    for (i = 0; i < len; i++) {
        out[i] = (uint8_t)((i < 9 ? (u >> (7 * i)) & 0x7f : u >> 63) | (i + 1 < len ? 0x80 : 0));
    }
    return len;
}

/* The shortest length of v's varint. */
static size_t varint_len(int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;

    while (u >>= 7) {
        n++;
    }
    return n;
}

/*
 * A long is read from a word when 8 bytes are left and byte by byte near the
 * end: both ways must agree for every length of varint, shortest or padded,
 * at every distance from the end, whether the long is read or skipped; 11
 * bytes, or a varint cut short, are an error every way.
 */
Test(codec, varints_decode_and_skip_alike_at_every_length_and_place)
{
    static const int64_t values[] = {0,
                                     1,
                                     -1,
                                     63,
                                     -64,
                                     64,
                                     8191,
                                     -8192,
                                     1 << 20,
                                     -(1LL << 27),
                                     1LL << 34,
                                     -(1LL << 41),
                                     1LL << 48,
                                     1LL << 55,
                                     INT64_MAX,
                                     INT64_MIN,
                                     1767225600123LL};
    char err[256];
    bwm_schema_t *s = bwm_schema_parse(VARINT_SCHEMA, strlen(VARINT_SCHEMA), err, sizeof(err));
    bwm_slot_spec_t spec[] = {TOP("a", BWM_T_LONG, 0, 0)},
                    tail_spec[] = {TOP("s", BWM_T_STRING, 0, 0)};
    bwm_decoder_t *d, *k; /* k reads s alone, skipping a */
    size_t i, len, tail, checked = 0;

    cr_assert_not_null(s, "%s", err);
    d = bwm_decoder_new(s, s, spec, 1, &bwm_avro_default_limits, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    k = bwm_decoder_new(s, s, tail_spec, 1, &bwm_avro_default_limits, err, sizeof(err));
    cr_assert_not_null(k, "%s", err);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        for (len = varint_len(values[i]); len <= 11; len++) {
            for (tail = 0; tail <= 9; tail++) {
                uint8_t body[32];
                size_t n = put_varint(body, values[i], len);
                bwm_value_t out;
                bwm_err_t rc;

                n += put_varint(body + n, (int64_t)tail, 1);
                memset(body + n, 'x', tail);
                n += tail;
                rc = bwm_decoder_decode(d, body, n, &out, err, sizeof(err));
                if (len > 10) {
                    cr_assert_eq(rc, BWM_ERR_DECODE, "%zu bytes read as a long", len);
                    cr_assert(strstr(err, "longer than 10 bytes"), "%s", err);
                } else {
                    cr_assert_eq(rc, BWM_OK, "%" PRId64 " in %zu bytes, %zu after: %s", values[i],
                                 len, tail, err);
                    cr_assert_eq(out.u.v_long, values[i], "%" PRId64 " in %zu bytes, %zu after",
                                 values[i], len, tail);
                }
                rc = bwm_decoder_decode(k, body, n, &out, err, sizeof(err));
                if (len > 10) {
                    cr_assert_eq(rc, BWM_ERR_DECODE, "%zu bytes skipped as a long", len);
                    cr_assert(strstr(err, "longer than 10 bytes"), "%s", err);
                } else {
                    cr_assert_eq(rc, BWM_OK, "%" PRId64 " skipped in %zu bytes, %zu after: %s",
                                 values[i], len, tail, err);
                    cr_assert_eq(out.u.v_str.n, tail, "%" PRId64 " skipped in %zu bytes", values[i],
                                 len);
                    cr_assert_eq(out.u.v_str.p, (const char *)body + len + 1);
                }
                /* Cut inside the varint: an error whether read or skipped. */
                cr_assert_neq(bwm_decoder_decode(d, body, len - 1, &out, err, sizeof(err)), BWM_OK);
                cr_assert_neq(bwm_decoder_decode(k, body, len - 1, &out, err, sizeof(err)), BWM_OK);
                checked++;
            }
        }
    }
    cr_assert_gt(checked, 1000);
    bwm_decoder_destroy(d);
    bwm_decoder_destroy(k);
    bwm_schema_destroy(s);
}

#define SKIPPED_SCHEMA                                                                             \
    "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"b\",\"type\":\"boolean\"},"       \
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":"      \
    "\"E\","                                                                                       \
    "\"symbols\":[\"X\",\"Y\"]}},{\"name\":\"u\",\"type\":[\"null\",\"double\"]},"                 \
    "{\"name\":\"a\",\"type\":\"long\"}]}"

/* Fields no slot reads are still checked: a bad one fails the record, naming it. */
Test(codec, skipped_fields_are_checked_as_read_ones)
{
    static const struct {
        uint8_t body[16];
        size_t len;
        const char *error; /* NULL: decodes, a = 1 */
    } cases[] = {
        {{0x01, 0x02, 0x02, 0x02, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x02}, 13, NULL},
        {{0x01, 0x02, 0x02, 0x00, 0x02}, 5, NULL},
        {{0x02, 0x02, 0x02, 0x00, 0x02}, 5, "field 'b': bad boolean"},
        {{0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x02, 0x00, 0x02}, 9, "field 'i': int out of range"},
        {{0x01, 0x02, 0x04, 0x00, 0x02}, 5, "field 'e': enum index out of range"},
        {{0x01, 0x02, 0x02, 0x04, 0x02}, 5, "field 'u': union branch out of range"},
        {{0x01, 0x02, 0x02, 0x02, 0, 0, 0}, 7, "field 'u': value beyond the end"},
    };
    char err[256];
    bwm_schema_t *s = bwm_schema_parse(SKIPPED_SCHEMA, strlen(SKIPPED_SCHEMA), err, sizeof(err));
    bwm_slot_spec_t spec[] = {TOP("a", BWM_T_LONG, 0, 0)};
    bwm_decoder_t *d;
    size_t i;

    cr_assert_not_null(s, "%s", err);
    d = bwm_decoder_new(s, s, spec, 1, &bwm_avro_default_limits, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_value_t out;
        bwm_err_t rc = bwm_decoder_decode(d, cases[i].body, cases[i].len, &out, err, sizeof(err));

        if (!cases[i].error) {
            cr_assert_eq(rc, BWM_OK, "case %zu: %s", i, err);
            cr_assert_eq(out.u.v_long, 1, "case %zu", i);
        } else {
            cr_assert_eq(rc, BWM_ERR_DECODE, "case %zu decoded", i);
            cr_assert(strstr(err, cases[i].error), "case %zu: %s", i, err);
        }
    }
    bwm_decoder_destroy(d);
    bwm_schema_destroy(s);
}

Test(codec, results_encode_and_read_back)
{
    bwm_schema_t *s = fixture_schema();
    bwm_plan_t *p = fixture_plan_ok(s, "CREATE TABLE kpi AS SELECT vin, COUNT(*) AS samples, "
                                       "SUM(km) AS km, SUM(big) AS big FROM r GROUP BY vin;");
    char err[256];
    bwm_result_enc_t *enc = bwm_result_enc_new(p, err, sizeof(err));
    bwm_value_t fields[5];
    bwm_buf_t b, json;
    avro_value_iface_t *iface;
    avro_value_t v, field, branch;
    avro_reader_t rd;
    const char *str;
    size_t len, used;
    int64_t l;
    char extra;

    cr_assert_not_null(enc, "%s", err);
    cr_assert_eq(bwm_result_enc_fields(enc), 5);
    fields[0].v_type = BWM_T_STRING;
    fields[0].u.v_str.p = "K\n1";
    fields[0].u.v_str.n = 3;
    fields[1].v_type = BWM_T_LONG;
    fields[1].u.v_long = 2;
    fields[2].v_type = BWM_T_DOUBLE;
    fields[2].u.v_double = 0.1 + 0.2;
    fields[3].v_type = BWM_T_NULL;
    fields[4].v_type = BWM_T_LONG;
    fields[4].u.v_long = 18;
    bwm_buf_init(&b);
    cr_assert_eq(bwm_result_encode(enc, fields, &b, err, sizeof(err)), BWM_OK, "%s", err);
    /* avro-c, an independent decoder, reads back every byte and the same values. */
    iface = fixture_avro_iface(bwm_result_enc_schema(enc));
    avro_generic_value_new(iface, &v);
    rd = avro_reader_memory((const char *)b.b_data, (int64_t)b.b_len);
    cr_assert_eq(avro_value_read(rd, &v), 0, "%s", avro_strerror());
    cr_assert_neq(avro_read(rd, &extra, 1), 0, "bytes left after the record");
    cr_assert_eq(avro_value_get_by_name(&v, "vin", &field, NULL), 0); /* a key: not nullable */
    cr_assert_eq(avro_value_get_string(&field, &str, &len), 0);
    cr_assert_eq(len, 4); /* avro-c counts the NUL */
    cr_assert_str_eq(str, "K\n1");
    cr_assert_eq(avro_value_get_by_name(&v, "samples", &field, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&field, &branch), 0);
    cr_assert_eq(avro_value_get_long(&branch, &l), 0);
    cr_assert_eq(l, 2);
    cr_assert_eq(avro_value_get_by_name(&v, "big", &field, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&field, &branch), 0);
    cr_assert_eq(avro_value_get_type(&branch), AVRO_NULL);
    cr_assert_eq(avro_value_get_by_name(&v, "version", &field, NULL), 0);
    cr_assert_eq(avro_value_get_long(&field, &l), 0);
    cr_assert_eq(l, 18);
    /* And bwm's own renderer gives the readable JSON. */
    bwm_buf_init(&json);
    cr_assert_eq(bwm_avro_to_json(bwm_schema_root(bwm_result_enc_schema(enc)), b.b_data, b.b_len,
                                  NULL, BWM_AVRO_JSON_READABLE, &json, &used, err, sizeof(err)),
                 BWM_OK, "%s", err);
    cr_assert_eq(used, b.b_len);
    bwm_buf_put_u8(&json, 0);
    cr_assert_str_eq((const char *)json.b_data,
                     "{\"vin\":\"K\\n1\",\"samples\":2,\"km\":0.30000000000000004,\"big\":null,"
                     "\"version\":18}");
    /* The version field is not nullable. */
    fields[4].v_type = BWM_T_NULL;
    cr_assert_eq(bwm_result_encode(enc, fields, &b, err, sizeof(err)), BWM_ERR_TYPE);
    avro_reader_free(rd);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    bwm_buf_free(&json);
    bwm_buf_free(&b);
    bwm_result_enc_destroy(enc);
    bwm_plan_destroy(p);
    bwm_schema_destroy(s);
}

Test(codec, json_numbers_and_strings)
{
    static const struct {
        double d;
        const char *text;
    } doubles[] = {
        {0.1, "0.1"},
        {3.0, "3.0"},
        {-2.5e-8, "-2.5e-08"},
        {1e300, "1e+300"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"},
        {0.0 / 0.0, "\"NaN\""},
        {-1.0 / 0.0, "\"-Infinity\""},
    };
    size_t i;
    bwm_buf_t b;

    bwm_buf_init(&b);
    for (i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
        bwm_buf_reset(&b);
        bwm_json_put_double(&b, doubles[i].d);
        bwm_buf_put_u8(&b, 0);
        cr_assert_str_eq((const char *)b.b_data, doubles[i].text, "case %zu", i);
    }
    /* Exact keeps every byte; text replaces ill-formed UTF-8; bytes are code points. */
    bwm_buf_reset(&b);
    bwm_json_put_exact(&b, "a\"\\\x01\xc3\xa9\xff", 7);
    bwm_buf_put_u8(&b, 0);
    cr_assert_str_eq((const char *)b.b_data, "\"a\\\"\\\\\\u0001\xc3\xa9\xff\"");
    bwm_buf_reset(&b);
    bwm_json_put_text(&b, "a\b\xc3\xa9\xff\xe2\x82", 7);
    bwm_buf_put_u8(&b, 0);
    cr_assert_str_eq((const char *)b.b_data, "\"a\\b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\"");
    bwm_buf_reset(&b);
    bwm_json_put_bytes(&b, "\x00\xe9", 2);
    bwm_buf_put_u8(&b, 0);
    cr_assert_str_eq((const char *)b.b_data, "\"\\u0000\xc3\xa9\"");
    bwm_buf_free(&b);
}
