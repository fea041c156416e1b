/*
 * test_avro_xcheck.c: bwm's Avro codecs against avro-c's generic writer.
 * Random datums of a schema with every type are written by avro-c; bwm
 * must accept each with the same length, render it (Avro's JSON) to the
 * values avro-c holds, and encode that JSON back to avro-c's very bytes.
 * The seed is printed; BWM_TEST_SEED replays a run.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/avro.h"

#define EVERYTHING                                                                                 \
    "{'type':'record','name':'Everything','namespace':'bwm.test','fields':["                       \
    "{'name':'n','type':'null'},"                                                                  \
    "{'name':'b','type':'boolean'},"                                                               \
    "{'name':'i','type':'int'},"                                                                   \
    "{'name':'l','type':'long'},"                                                                  \
    "{'name':'f','type':'float'},"                                                                 \
    "{'name':'d','type':'double'},"                                                                \
    "{'name':'by','type':'bytes'},"                                                                \
    "{'name':'s','type':'string'},"                                                                \
    "{'name':'e','type':{'type':'enum','name':'Color','symbols':['RED','GREEN','BLUE']}},"         \
    "{'name':'fx','type':{'type':'fixed','name':'Four','size':4}},"                                \
    "{'name':'a','type':{'type':'array','items':'long'}},"                                         \
    "{'name':'m','type':{'type':'map','values':['null','string']}},"                               \
    "{'name':'u','type':['null','int','string',{'type':'record','name':'Point','fields':["         \
    "{'name':'x','type':'double'},{'name':'y','type':'float'}]}]},"                                \
    "{'name':'pts','type':{'type':'array','items':'Point'}},"                                      \
    "{'name':'dec','type':{'type':'bytes','logicalType':'decimal','precision':20,'scale':4}},"     \
    "{'name':'decf','type':{'type':'fixed','name':'Dec16','size':16,'logicalType':'decimal',"      \
    "'precision':38,'scale':2}},"                                                                  \
    "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"                       \
    "{'name':'tsu','type':{'type':'long','logicalType':'timestamp-micros'}},"                      \
    "{'name':'date','type':{'type':'int','logicalType':'date'}},"                                  \
    "{'name':'tm','type':{'type':'int','logicalType':'time-millis'}},"                             \
    "{'name':'id','type':{'type':'string','logicalType':'uuid'}},"                                 \
    "{'name':'list','type':['null',{'type':'record','name':'Node','fields':["                      \
    "{'name':'v','type':'int'},{'name':'next','type':['null','Node']}]}]},"                        \
    "{'name':'nested','type':{'type':'record','name':'Outer','fields':[{'name':'inner','type':"    \
    "{'type':'record','name':'Inner','fields':[{'name':'tags','type':{'type':'map','values':"      \
    "{'type':'array','items':'Color'}}},{'name':'opt','type':['null','Four','Color']}]}}]}}]}"

static uint64_t rng;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t seed(void)
{
    const char *s = getenv("BWM_TEST_SEED");
    uint64_t v = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);

    fprintf(stderr, "avro cross-check with avro-c: BWM_TEST_SEED=%llu\n", (unsigned long long)v);
    return v;
}

static int64_t any_long(void)
{
    static const int64_t edges[] = {0,         1,         -1,        INT64_MAX,   INT64_MIN,
                                    INT32_MAX, INT32_MIN, 1LL << 53, -(1LL << 53)};

    switch (next() % 4) {
        case 0:
            return edges[next() % (sizeof(edges) / sizeof(edges[0]))];
        case 1:
            return (int64_t)(next() % 2001) - 1000;
        default:
            return (int64_t)next() >> (next() % 64);
    }
}

/* Valid UTF-8 of 0 to 12 characters: ASCII, controls, 2-, 3- and 4-byte characters. */
static size_t any_text(char *out)
{
    size_t n = next() % 13, len = 0, i;

    for (i = 0; i < n; i++) {
        uint32_t cp;

        switch (next() % 5) {
            case 0:
                cp = (uint32_t)(next() % 0x20);
                break;
            case 1:
                cp = 0x80 + (uint32_t)(next() % 0x780);
                break;
            case 2:
                cp = 0x800 + (uint32_t)(next() % 0xf800);
                if (cp >= 0xd800 && cp < 0xe000) {
                    cp = 0xe000;
                }
                break;
            case 3:
                cp = 0x10000 + (uint32_t)(next() % 0x100000);
                break;
            default:
                cp = 0x20 + (uint32_t)(next() % 0x5f);
        }
        if (cp < 0x80) {
            out[len++] = (char)cp;
        } else if (cp < 0x800) {
            out[len++] = (char)(0xc0 | (cp >> 6));
            out[len++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[len++] = (char)(0xe0 | (cp >> 12));
            out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[len++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[len++] = (char)(0xf0 | (cp >> 18));
            out[len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[len++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[len] = '\0';
    return len;
}

/* Whether bytes read as decimal text, which bwm_avro_from_json() takes as a number. */
static int looks_decimal(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!strchr("0123456789+-.eE", p[i]) || p[i] == 0) {
            return 0;
        }
    }
    return 1;
}

/* The shortest two's complement of v, big-endian. */
static size_t twos(int64_t v, uint8_t *out)
{
    size_t n = 8, i;

    for (i = 0; i < 8; i++) {
        out[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    }
    i = 0;
    while (n - i > 1 &&
           ((out[i] == 0 && !(out[i + 1] & 0x80)) || (out[i] == 0xff && (out[i + 1] & 0x80)))) {
        i++;
    }
    memmove(out, out + i, n - i);
    return n - i;
}

static void fill(avro_value_t *v, const bwm_avro_node_t *n, int depth)
{
    avro_value_t e;
    uint8_t buf[64];
    char text[64];
    size_t i, count;

    switch (n->an_type) {
        case BWM_AVRO_NULL:
            cr_assert_eq(avro_value_set_null(v), 0);
            break;
        case BWM_AVRO_BOOLEAN:
            avro_value_set_boolean(v, (int)(next() & 1));
            break;
        case BWM_AVRO_INT:
            avro_value_set_int(v, (int32_t)any_long());
            break;
        case BWM_AVRO_LONG:
            avro_value_set_long(v, any_long());
            break;
        case BWM_AVRO_FLOAT: {
            uint32_t u = (uint32_t)next();
            float f;

            memcpy(&f, &u, 4);
            /* Avro's JSON has one NaN: payloads do not survive it */
            avro_value_set_float(v, isnan(f) ? NAN : next() % 4 ? f : (float)any_long());
            break;
        }
        case BWM_AVRO_DOUBLE: {
            uint64_t u = next();
            double d;

            memcpy(&d, &u, 8);
            avro_value_set_double(v, isnan(d) ? NAN : next() % 4 ? d : (double)any_long() / 7);
            break;
        }
        case BWM_AVRO_BYTES:
            do {
                count = n->an_logical == BWM_LOGICAL_DECIMAL ? twos(any_long(), buf) : next() % 20;
                if (n->an_logical != BWM_LOGICAL_DECIMAL) {
                    for (i = 0; i < count; i++) {
                        buf[i] = (uint8_t)next();
                    }
                }
            } while (n->an_logical == BWM_LOGICAL_DECIMAL && looks_decimal(buf, count));
            avro_value_set_bytes(v, buf, count);
            break;
        case BWM_AVRO_STRING:
            if (n->an_logical == BWM_LOGICAL_UUID) {
                snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx", (unsigned)next(),
                         (unsigned)(next() & 0xffff), (unsigned)(next() & 0xffff),
                         (unsigned)(next() & 0xffff),
                         (unsigned long long)(next() & 0xffffffffffffull));
                count = strlen(text);
            } else {
                count = any_text(text);
            }
            /* avro-c string sizes include the NUL */
            avro_value_set_string_len(v, text, count + 1);
            break;
        case BWM_AVRO_FIXED:
            do {
                for (i = 0; i < n->an_size; i++) {
                    buf[i] = (uint8_t)next();
                }
            } while (n->an_logical == BWM_LOGICAL_DECIMAL && looks_decimal(buf, n->an_size));
            avro_value_set_fixed(v, buf, n->an_size);
            break;
        case BWM_AVRO_ENUM:
            avro_value_set_enum(v, (int)(next() % n->an_nsymbols));
            break;
        case BWM_AVRO_ARRAY:
            count = depth > 6 ? 0 : next() % 4;
            for (i = 0; i < count; i++) {
                cr_assert_eq(avro_value_append(v, &e, NULL), 0);
                fill(&e, n->an_items, depth + 1);
            }
            break;
        case BWM_AVRO_MAP:
            count = depth > 6 ? 0 : next() % 4;
            for (i = 0; i < count; i++) {
                size_t len = any_text(text);

                snprintf(text + len, sizeof(text) - len, "#%zu", i); /* unique keys */
                cr_assert_eq(avro_value_add(v, text, &e, NULL, NULL), 0);
                fill(&e, n->an_values, depth + 1);
            }
            break;
        case BWM_AVRO_UNION: {
            size_t b = next() % n->an_nbranches;

            if (depth > 6) {
                b = 0; /* the null branch ends recursion */
            }
            cr_assert_eq(avro_value_set_branch(v, (int)b, &e), 0);
            fill(&e, n->an_branches[b], depth + 1);
            break;
        }
        case BWM_AVRO_RECORD:
            for (i = 0; i < n->an_nfields; i++) {
                cr_assert_eq(avro_value_get_by_index(v, i, &e, NULL), 0);
                fill(&e, n->an_fields[i].af_type, depth + 1);
            }
            break;
    }
}

/* Avro's JSON form of bytes back to bytes. */
static size_t code_points(const json_t *j, uint8_t *out)
{
    const unsigned char *s = (const unsigned char *)json_string_value(j);
    size_t n = json_string_length(j), i = 0, k = 0;

    while (i < n) {
        if (s[i] < 0x80) {
            out[k++] = s[i++];
        } else {
            cr_assert(s[i] == 0xc2 || s[i] == 0xc3);
            out[k++] = (uint8_t)(((s[i] & 3) << 6) | (s[i + 1] & 0x3f));
            i += 2;
        }
    }
    return k;
}

static void same_double(double want, const json_t *j, const char *what)
{
    if (isnan(want) || isinf(want)) {
        cr_assert(json_is_string(j), "%s", what);
        cr_assert_str_eq(json_string_value(j), isnan(want) ? "NaN"
                                               : want > 0  ? "Infinity"
                                                           : "-Infinity");
    } else {
        double got = json_number_value(j);

        cr_assert(json_is_real(j), "%s", what);
        cr_assert(memcmp(&got, &want, sizeof(got)) == 0, "%s: %.17g and %.17g", what, got, want);
    }
}

/* avro-c's value v and bwm's JSON j (Avro's form) say the same. */
static void same(avro_value_t *v, const bwm_avro_node_t *n, const json_t *j)
{
    avro_value_t e;
    const void *p;
    const char *str, *key;
    uint8_t buf[64];
    size_t size, i, count;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    int b;

    switch (n->an_type) {
        case BWM_AVRO_NULL:
            cr_assert(json_is_null(j));
            break;
        case BWM_AVRO_BOOLEAN:
            avro_value_get_boolean(v, &b);
            cr_assert(json_is_boolean(j) && json_is_true(j) == !!b);
            break;
        case BWM_AVRO_INT:
            avro_value_get_int(v, &i32);
            cr_assert(json_is_integer(j) && json_integer_value(j) == i32);
            break;
        case BWM_AVRO_LONG:
            avro_value_get_long(v, &i64);
            cr_assert(json_is_integer(j) && json_integer_value(j) == i64);
            break;
        case BWM_AVRO_FLOAT:
            avro_value_get_float(v, &f);
            if (isfinite(f)) {
                float got = (float)json_number_value(j);

                cr_assert(memcmp(&got, &f, 4) == 0, "float %.9g and %.9g", (double)got, (double)f);
            } else {
                same_double(f, j, "float");
            }
            break;
        case BWM_AVRO_DOUBLE:
            avro_value_get_double(v, &d);
            same_double(d, j, "double");
            break;
        case BWM_AVRO_BYTES:
        case BWM_AVRO_FIXED:
            if (n->an_type == BWM_AVRO_BYTES) {
                avro_value_get_bytes(v, &p, &size);
            } else {
                avro_value_get_fixed(v, &p, &size);
            }
            cr_assert(json_is_string(j));
            cr_assert_eq(code_points(j, buf), size);
            cr_assert(size == 0 || memcmp(buf, p, size) == 0);
            break;
        case BWM_AVRO_STRING:
            avro_value_get_string(v, &str, &size);
            cr_assert(json_is_string(j));
            cr_assert_eq(json_string_length(j), size - 1);
            cr_assert(memcmp(json_string_value(j), str, size - 1) == 0);
            break;
        case BWM_AVRO_ENUM:
            avro_value_get_enum(v, &b);
            cr_assert_str_eq(json_string_value(j), n->an_symbols[b]);
            break;
        case BWM_AVRO_ARRAY:
            avro_value_get_size(v, &count);
            cr_assert(json_is_array(j) && json_array_size(j) == count);
            for (i = 0; i < count; i++) {
                avro_value_get_by_index(v, i, &e, NULL);
                same(&e, n->an_items, json_array_get(j, i));
            }
            break;
        case BWM_AVRO_MAP:
            avro_value_get_size(v, &count);
            cr_assert(json_is_object(j) && json_object_size(j) == count);
            for (i = 0; i < count; i++) {
                avro_value_get_by_index(v, i, &e, &key);
                cr_assert_not_null(json_object_get(j, key), "no key %s", key);
                same(&e, n->an_values, json_object_get(j, key));
            }
            break;
        case BWM_AVRO_UNION: {
            const bwm_avro_node_t *br;

            avro_value_get_discriminant(v, &b);
            avro_value_get_current_branch(v, &e);
            br = n->an_branches[b];
            if (br->an_type == BWM_AVRO_NULL) {
                cr_assert(json_is_null(j));
            } else {
                const char *name = br->an_name ? br->an_name : bwm_avro_type_name(br->an_type);

                cr_assert(json_is_object(j) && json_object_size(j) == 1);
                cr_assert_not_null(json_object_get(j, name), "branch %s", name);
                same(&e, br, json_object_get(j, name));
            }
            break;
        }
        case BWM_AVRO_RECORD:
            cr_assert(json_is_object(j) && json_object_size(j) == n->an_nfields);
            for (i = 0; i < n->an_nfields; i++) {
                avro_value_get_by_index(v, i, &e, &key);
                cr_assert_str_eq(key, n->an_fields[i].af_name);
                same(&e, n->an_fields[i].af_type, json_object_get(j, key));
            }
            break;
    }
}

Test(avro_xcheck, avro_c_datums_read_render_and_encode_back)
{
    char *json = strdup(EVERYTHING), *c, err[256];
    avro_schema_t as;
    avro_value_iface_t *iface;
    avro_value_t v;
    bwm_avro_schema_t *bs;
    const bwm_avro_node_t *n;
    int round;

    for (c = json; *c; c++) {
        if (*c == '\'') {
            *c = '"';
        }
    }
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &as), 0, "%s", avro_strerror());
    bs = bwm_avro_schema_parse(json, strlen(json), err, sizeof(err));
    cr_assert_not_null(bs, "%s", err);
    n = bwm_avro_schema_root(bs);
    iface = avro_generic_class_from_schema(as);
    cr_assert_not_null(iface);
    cr_assert_eq(avro_generic_value_new(iface, &v), 0);
    rng = seed();
    for (round = 0; round < 400; round++) {
        bwm_buf_t readable = {0}, avro = {0}, back = {0};
        size_t size, used;
        char *bytes;
        avro_writer_t w;
        json_error_t je;
        json_t *j;

        avro_value_reset(&v);
        fill(&v, n, 0);
        cr_assert_eq(avro_value_sizeof(&v, &size), 0);
        bytes = malloc(size);
        w = avro_writer_memory(bytes, (int64_t)size);
        cr_assert_eq(avro_value_write(w, &v), 0, "%s", avro_strerror());
        avro_writer_free(w);

        cr_assert_eq(bwm_avro_check(n, bytes, size, NULL, &used, err, sizeof(err)), BWM_OK,
                     "round %d: %s", round, err);
        cr_assert_eq(used, size);
        cr_assert_eq(bwm_avro_to_json(n, bytes, size, NULL, BWM_AVRO_JSON_READABLE, &readable,
                                      &used, err, sizeof(err)),
                     BWM_OK, "%s", err);
        j = json_loadb((char *)readable.b_data, readable.b_len, JSON_ALLOW_NUL, &je);
        cr_assert_not_null(j, "round %d: readable JSON does not parse: %s", round, je.text);
        json_decref(j);
        cr_assert_eq(bwm_avro_to_json(n, bytes, size, NULL, BWM_AVRO_JSON_AVRO, &avro, &used, err,
                                      sizeof(err)),
                     BWM_OK, "%s", err);
        j = json_loadb((char *)avro.b_data, avro.b_len, JSON_ALLOW_NUL, &je);
        cr_assert_not_null(j, "round %d: JSON does not parse: %s", round, je.text);
        same(&v, n, j);
        cr_assert_eq(bwm_avro_from_json(n, j, &back, err, sizeof(err)), BWM_OK, "round %d: %s",
                     round, err);
        cr_assert(back.b_len == size && memcmp(back.b_data, bytes, size) == 0,
                  "round %d: %.*s does not encode to avro-c's bytes", round, (int)avro.b_len,
                  avro.b_data);
        json_decref(j);
        free(bytes);
        bwm_buf_free(&readable);
        bwm_buf_free(&avro);
        bwm_buf_free(&back);
    }
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(as);
    bwm_avro_schema_destroy(bs);
    free(json);
}
