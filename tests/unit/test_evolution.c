/*
 * test_evolution.c: schema resolution as a table of writer and reader
 * schemas: a writer datum (given as JSON, encoded with the writer schema) is
 * decoded into the reader's field, or refused, by Avro's rules.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/avro.h"
#include "core/decoder.h"
#include "core/schema.h"

typedef struct evo_case {
    const char *writer_fields; /* the "fields" array of writer record R */
    const char *reader_fields; /* ... and of the reader's */
    const char *datum;         /* a writer record, in Avro's JSON encoding */
    const char *field;         /* the reader field decoded ("a" or "a.b") */
    bwm_type_t type;           /* as the engine reads it */
    int nullable;
    const char *want; /* "value", "NULL", or "!compile: message" / "!decode: message" */
} evo_case_t;

static const evo_case_t cases[] = {
    /* the same schema */
    {"[{\"name\":\"a\",\"type\":\"long\"}]", "[{\"name\":\"a\",\"type\":\"long\"}]", "{\"a\":5}",
     "a", BWM_T_LONG, 0, "5"},
    /* promotions */
    {"[{\"name\":\"a\",\"type\":\"int\"}]", "[{\"name\":\"a\",\"type\":\"long\"}]", "{\"a\":-7}",
     "a", BWM_T_LONG, 0, "-7"},
    {"[{\"name\":\"a\",\"type\":\"long\"}]", "[{\"name\":\"a\",\"type\":\"double\"}]",
     "{\"a\":9007199254740993}", "a", BWM_T_DOUBLE, 0, "9007199254740992.0"},
    {"[{\"name\":\"a\",\"type\":\"float\"}]", "[{\"name\":\"a\",\"type\":\"double\"}]",
     "{\"a\":0.1}", "a", BWM_T_DOUBLE, 0, "0.10000000149011612"},
    {"[{\"name\":\"a\",\"type\":\"int\"}]", "[{\"name\":\"a\",\"type\":\"float\"}]", "{\"a\":3}",
     "a", BWM_T_DOUBLE, 0, "3.0"},
    {"[{\"name\":\"a\",\"type\":\"bytes\"}]", "[{\"name\":\"a\",\"type\":\"string\"}]",
     "{\"a\":\"xy\"}", "a", BWM_T_STRING, 0, "xy"},
    {"[{\"name\":\"a\",\"type\":\"string\"}]", "[{\"name\":\"a\",\"type\":\"bytes\"}]",
     "{\"a\":\"xy\"}", "a", BWM_T_STRING, 0, "xy"},
    /* no demotions */
    {"[{\"name\":\"a\",\"type\":\"long\"}]", "[{\"name\":\"a\",\"type\":\"int\"}]", "{\"a\":1}",
     "a", BWM_T_LONG, 0, "!compile: the writer's long cannot be read as the reader's int"},
    {"[{\"name\":\"a\",\"type\":\"double\"}]", "[{\"name\":\"a\",\"type\":\"float\"}]", "{\"a\":1}",
     "a", BWM_T_DOUBLE, 0, "!compile: cannot be read as the reader's float"},
    {"[{\"name\":\"a\",\"type\":\"string\"}]", "[{\"name\":\"a\",\"type\":\"long\"}]",
     "{\"a\":\"1\"}", "a", BWM_T_LONG, 0, "!compile: the writer's string cannot be read"},
    /* fields added with defaults, removed, reordered, renamed by alias */
    {"[{\"name\":\"x\",\"type\":\"string\"}]",
     "[{\"name\":\"x\",\"type\":\"string\"},{\"name\":\"a\",\"type\":\"long\",\"default\":42}]",
     "{\"x\":\"q\"}", "a", BWM_T_LONG, 0, "42"},
    {"[{\"name\":\"x\",\"type\":\"string\"}]",
     "[{\"name\":\"a\",\"type\":[\"null\",\"string\"],\"default\":null}]", "{\"x\":\"q\"}", "a",
     BWM_T_STRING, 1, "NULL"},
    {"[{\"name\":\"x\",\"type\":\"string\"}]", "[{\"name\":\"a\",\"type\":\"long\"}]",
     "{\"x\":\"q\"}", "a", BWM_T_LONG, 0,
     "!compile: has no field 'a' and the reader gives no default"},
    {"[{\"name\":\"gone\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
     "{\"name\":\"b\",\"type\":\"long\"},{\"name\":\"a\",\"type\":\"string\"}]",
     "[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\",\"type\":\"long\"}]",
     "{\"gone\":{\"k\":\"v\"},\"b\":1,\"a\":\"after a skipped map\"}", "a", BWM_T_STRING, 0,
     "after a skipped map"},
    {"[{\"name\":\"old_name\",\"type\":\"long\"}]",
     "[{\"name\":\"a\",\"type\":\"long\",\"aliases\":[\"old_name\"]}]", "{\"old_name\":3}", "a",
     BWM_T_LONG, 0, "3"},
    /* nested records, and a default for a whole record */
    {"[{\"name\":\"p\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"q\","
     "\"type\":\"int\"}]}}]",
     "[{\"name\":\"p\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"q\","
     "\"type\":\"long\"}]}}]",
     "{\"p\":{\"q\":8}}", "p.q", BWM_T_LONG, 0, "8"},
    {"[{\"name\":\"x\",\"type\":\"int\"}]",
     "[{\"name\":\"p\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"q\","
     "\"type\":\"long\"}]},\"default\":{\"q\":11}}]",
     "{\"x\":1}", "p.q", BWM_T_LONG, 0, "11"},
    /* enums: symbols by name, the reader's default for unknown ones */
    {"[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\"]}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"Y\",\"X\"]}}]",
     "{\"a\":\"X\"}", "a", BWM_T_STRING, 0, "X"},
    {"[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"NEW\"]}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"OTHER\"],"
     "\"default\":\"OTHER\"}}]",
     "{\"a\":\"NEW\"}", "a", BWM_T_STRING, 0, "OTHER"},
    {"[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"NEW\"]}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}}]",
     "{\"a\":\"NEW\"}", "a", BWM_T_STRING, 0, "!decode: enum symbol unknown to the reader"},
    {"[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"NEW\"]}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}}]",
     "{\"a\":\"X\"}", "a", BWM_T_STRING, 0, "X"},
    /* unions: reordered, added, removed, null */
    {"[{\"name\":\"a\",\"type\":[\"long\",\"null\"]}]",
     "[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]", "{\"a\":{\"long\":4}}", "a", BWM_T_LONG, 1,
     "4"},
    {"[{\"name\":\"a\",\"type\":[\"long\",\"null\"]}]",
     "[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]", "{\"a\":null}", "a", BWM_T_LONG, 1, "NULL"},
    {"[{\"name\":\"a\",\"type\":\"int\"}]", "[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]",
     "{\"a\":6}", "a", BWM_T_LONG, 1, "6"},
    {"[{\"name\":\"a\",\"type\":[\"null\",\"int\"]}]", "[{\"name\":\"a\",\"type\":\"long\"}]",
     "{\"a\":{\"int\":9}}", "a", BWM_T_LONG, 0, "9"},
    {"[{\"name\":\"a\",\"type\":[\"null\",\"int\"]}]", "[{\"name\":\"a\",\"type\":\"long\"}]",
     "{\"a\":null}", "a", BWM_T_LONG, 0, "!decode: is null but the reader does not allow null"},
    {"[{\"name\":\"a\",\"type\":[\"null\",\"string\",\"int\"]}]",
     "[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]", "{\"a\":{\"int\":2}}", "a", BWM_T_LONG, 1,
     "2"},
    {"[{\"name\":\"a\",\"type\":[\"null\",\"string\",\"int\"]}]",
     "[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]", "{\"a\":{\"string\":\"no\"}}", "a",
     BWM_T_LONG, 1, "!decode: fits no branch of the reader's union"},
    {"[{\"name\":\"p\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"P\",\"fields\":[{"
     "\"name\":\"q\",\"type\":\"long\"}]}]}]",
     "[{\"name\":\"p\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"P\",\"fields\":[{"
     "\"name\":\"q\",\"type\":\"long\"}]}]}]",
     "{\"p\":null}", "p.q", BWM_T_LONG, 1, "NULL"},
    /* decimals must agree on scale and precision */
    {"[{\"name\":\"a\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,"
     "\"scale\":2}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,"
     "\"scale\":2}}]",
     "{\"a\":\"\\u0004\\u00ce\"}", "a", BWM_T_DOUBLE, 0, "12.3"},
    {"[{\"name\":\"a\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,"
     "\"scale\":2}}]",
     "[{\"name\":\"a\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,"
     "\"scale\":3}}]",
     "{\"a\":\"\\u0001\"}", "a", BWM_T_DOUBLE, 0, "!compile: cannot be read"},
};

static char *record(const char *fields)
{
    static char buf[4][2048];
    static int next;
    char *out = buf[next++ % 4];

    snprintf(out, 2048, "{\"type\":\"record\",\"name\":\"R\",\"fields\":%s}", fields);
    return out;
}

static void render(const bwm_value_t *v, char *out, size_t size)
{
    switch (v->v_type) {
        case BWM_T_NULL:
            snprintf(out, size, "NULL");
            break;
        case BWM_T_LONG:
            snprintf(out, size, "%lld", (long long)v->u.v_long);
            break;
        case BWM_T_DOUBLE:
            bwm_double_text(v->u.v_double, out);
            break;
        case BWM_T_STRING:
            snprintf(out, size, "%.*s", (int)v->u.v_str.n, v->u.v_str.p);
            break;
        case BWM_T_BOOL:
            snprintf(out, size, "%s", v->u.v_bool ? "true" : "false");
            break;
    }
}

Test(evolution, writer_and_reader_pairs)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const evo_case_t *c = &cases[i];
        char err[512] = "", got[128], *w_text = record(c->writer_fields);
        char *r_text = record(c->reader_fields), path_copy[64], *dot;
        bwm_schema_t *w = bwm_schema_parse(w_text, strlen(w_text), err, sizeof(err));
        bwm_schema_t *r = bwm_schema_parse(r_text, strlen(r_text), err, sizeof(err));
        const char *path[2];
        bwm_slot_spec_t spec;
        bwm_decoder_t *d;
        json_t *datum;
        bwm_buf_t bytes;
        bwm_value_t v;
        bwm_err_t rc;

        cr_assert(w && r, "case %zu: %s", i, err);
        snprintf(path_copy, sizeof(path_copy), "%s", c->field);
        dot = strchr(path_copy, '.');
        path[0] = path_copy;
        path[1] = dot ? dot + 1 : NULL;
        if (dot) {
            *dot = '\0';
        }
        spec = (bwm_slot_spec_t){c->field, path, dot ? 2 : 1, c->type, c->nullable, 1, NULL};
        d = bwm_decoder_new(w, r, &spec, 1, &bwm_avro_default_limits, err, sizeof(err));
        if (strncmp(c->want, "!compile: ", 10) == 0) {
            cr_assert_null(d, "case %zu should not compile", i);
            cr_assert(strstr(err, c->want + 10), "case %zu: %s", i, err);
            bwm_schema_destroy(w);
            bwm_schema_destroy(r);
            continue;
        }
        cr_assert_not_null(d, "case %zu: %s", i, err);
        datum = json_loads(c->datum, 0, NULL);
        cr_assert_not_null(datum, "case %zu: datum", i);
        bwm_buf_init(&bytes);
        cr_assert_eq(bwm_avro_from_json(bwm_schema_root(w), datum, &bytes, err, sizeof(err)),
                     BWM_OK, "case %zu: %s", i, err);
        rc = bwm_decoder_decode(d, bytes.b_data, bytes.b_len, &v, err, sizeof(err));
        if (strncmp(c->want, "!decode: ", 9) == 0) {
            cr_assert_eq(rc, BWM_ERR_SCHEMA, "case %zu should fail", i);
            cr_assert(strstr(err, c->want + 9), "case %zu: %s", i, err);
        } else {
            cr_assert_eq(rc, BWM_OK, "case %zu: %s", i, err);
            render(&v, got, sizeof(got));
            cr_assert_str_eq(got, c->want, "case %zu", i);
        }
        json_decref(datum);
        bwm_buf_free(&bytes);
        bwm_decoder_destroy(d);
        bwm_schema_destroy(w);
        bwm_schema_destroy(r);
    }
}
