/*
 * fuzz_avro.c: libFuzzer target for the Avro codecs (`make fuzz`).
 *
 * Each input is a record value as it arrives on Kafka: its framing is
 * parsed (a value no framing matches is taken as a raw body), and the body
 * is read against a fixed schema with every type: nested records, arrays,
 * maps, unions, enums, fixed, decimals, every logical type and a recursive
 * list.
 *
 * bwm_avro_check() and both modes of bwm_avro_to_json() must agree on the
 * verdict, the length and the message; an error must name a path. What
 * to_json writes must be JSON. Avro's JSON of a datum must encode back
 * with bwm_avro_from_json() to bytes that render the same JSON, and encode
 * again to the very same bytes: the input bytes themselves may differ, as
 * Avro writes some values in more than one way (block sizes, long varints,
 * NaN payloads, invalid UTF-8 replaced). The readable JSON, where it
 * encodes at all (a bare value may fit several branches of a union), must
 * encode to the same value.
 *
 * An input that is JSON text is also given to bwm_avro_from_json(): it
 * must refuse it with a message naming a path, or write a datum that
 * renders and encodes back to itself. Sanitizers catch the rest.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/avro.h"
#include "core/framing.h"

#define SCHEMA                                                                                     \
    "{'type':'record','name':'Vehicle','namespace':'bwm.fuzz','fields':["                          \
    "{'name':'n','type':'null'},"                                                                  \
    "{'name':'b','type':'boolean'},"                                                               \
    "{'name':'i','type':'int'},"                                                                   \
    "{'name':'l','type':'long'},"                                                                  \
    "{'name':'f','type':'float'},"                                                                 \
    "{'name':'d','type':'double'},"                                                                \
    "{'name':'by','type':'bytes'},"                                                                \
    "{'name':'s','type':'string'},"                                                                \
    "{'name':'status','type':{'type':'enum','name':'Status','symbols':['PARKED','IDLE',"           \
    "'DRIVING','CHARGING'],'default':'IDLE'}},"                                                    \
    "{'name':'code','type':{'type':'fixed','name':'Code','size':4}},"                              \
    "{'name':'location','type':['null',{'type':'record','name':'Location','fields':["              \
    "{'name':'lat','type':'double'},{'name':'lon','type':'double'},"                               \
    "{'name':'fix','type':{'type':'record','name':'Fix','fields':["                                \
    "{'name':'at','type':{'type':'long','logicalType':'timestamp-micros'}},"                       \
    "{'name':'sats','type':['null','int']}]}}]}],'default':null},"                                 \
    "{'name':'tags','type':{'type':'array','items':'string'}},"                                    \
    "{'name':'nulls','type':{'type':'array','items':'null'}},"                                     \
    "{'name':'trail','type':{'type':'array','items':'Location'}},"                                 \
    "{'name':'attrs','type':{'type':'map','values':['null','long','string','Status']}},"           \
    "{'name':'groups','type':{'type':'map','values':{'type':'array','items':'Code'}}},"            \
    "{'name':'u','type':['null','boolean','int','long','float','double','bytes','string',"         \
    "'Code',{'type':'array','items':'int'},{'type':'map','values':'double'}]},"                    \
    "{'name':'price','type':{'type':'bytes','logicalType':'decimal','precision':20,'scale':4}},"   \
    "{'name':'total','type':{'type':'fixed','name':'Dec16','size':16,'logicalType':'decimal',"     \
    "'precision':38,'scale':2}},"                                                                  \
    "{'name':'maybe_price','type':['null',{'type':'bytes','logicalType':'decimal',"                \
    "'precision':9,'scale':0}]},"                                                                  \
    "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"                       \
    "{'name':'local','type':{'type':'long','logicalType':'local-timestamp-millis'}},"              \
    "{'name':'local_us','type':{'type':'long','logicalType':'local-timestamp-micros'}},"           \
    "{'name':'day','type':{'type':'int','logicalType':'date'}},"                                   \
    "{'name':'tm','type':{'type':'int','logicalType':'time-millis'}},"                             \
    "{'name':'tu','type':{'type':'long','logicalType':'time-micros'}},"                            \
    "{'name':'id','type':{'type':'string','logicalType':'uuid'}},"                                 \
    "{'name':'trip','type':['null',{'type':'record','name':'Leg','fields':["                       \
    "{'name':'km','type':'float'},{'name':'next','type':['null','Leg']}]}]}]}"

/* Smaller than the defaults, so a few bytes cannot ask for a million items. */
static const bwm_avro_limits_t limits = {64, 1 << 16, 20000};

static bwm_avro_schema_t *schema;
static const bwm_avro_node_t *root;

static void check(int ok, const char *what, const void *text, size_t len)
{
    if (!ok) {
        fprintf(stderr, "fuzz_avro: %s\n", what);
        if (text) {
            fprintf(stderr, "  %.*s\n", (int)len, (const char *)text);
        }
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char json[] = SCHEMA, *c, err[256];

    (void)argc;
    (void)argv;
    for (c = json; *c; c++) {
        if (*c == '\'') {
            *c = '"';
        }
    }
    schema = bwm_avro_schema_parse(json, strlen(json), err, sizeof(err));
    check(schema != NULL, err, NULL, 0);
    root = bwm_avro_schema_root(schema);
    return 0;
}

/* Whether a string could read as decimal text, which from_json prefers to Avro's bytes form. */
static int decimal_like(const json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j), i;

    for (i = 0; i < n; i++) {
        if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0') {
            return 0;
        }
    }
    return n > 0;
}

static int uuid_like(const json_t *j)
{
    const char *s = json_string_value(j);
    size_t i;

    if (json_string_length(j) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23
                ? s[i] != '-'
                : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
            return 0;
        }
    }
    return 1;
}

/*
 * Whether Avro's JSON j of node holds a value bwm_avro_from_json() reads
 * otherwise: a decimal whose bytes spell decimal text (taken as the number),
 * or a uuid string not in the 8-4-4-4-12 form (refused).
 */
static int read_otherwise(const bwm_avro_node_t *n, const json_t *j)
{
    const char *key;
    json_t *v;
    size_t i;

    switch (n->an_type) {
        case BWM_AVRO_RECORD:
            for (i = 0; i < n->an_nfields; i++) {
                if (read_otherwise(n->an_fields[i].af_type,
                                   json_object_get(j, n->an_fields[i].af_name))) {
                    return 1;
                }
            }
            return 0;
        case BWM_AVRO_ARRAY:
            json_array_foreach(j, i, v)
            {
                if (read_otherwise(n->an_items, v)) {
                    return 1;
                }
            }
            return 0;
        case BWM_AVRO_MAP:
            json_object_foreach((json_t *)j, key, v)
            {
                if (read_otherwise(n->an_values, v)) {
                    return 1;
                }
            }
            return 0;
        case BWM_AVRO_UNION:
            if (!json_is_object(j)) {
                return 0;
            }
            json_object_foreach((json_t *)j, key, v)
            {
                for (i = 0; i < n->an_nbranches; i++) {
                    const bwm_avro_node_t *b = n->an_branches[i];

                    if (strcmp(key, b->an_name ? b->an_name : bwm_avro_type_name(b->an_type)) ==
                            0 &&
                        read_otherwise(b, v)) {
                        return 1;
                    }
                }
            }
            return 0;
        case BWM_AVRO_BYTES:
        case BWM_AVRO_FIXED:
            return n->an_logical == BWM_LOGICAL_DECIMAL && decimal_like(j);
        case BWM_AVRO_STRING:
            return n->an_logical == BWM_LOGICAL_UUID && !uuid_like(j);
        default:
            return 0;
    }
}

/* Parses JSON text bwm wrote; NULL only where jansson cannot hold it (NUL in a key). */
static json_t *parse(const bwm_buf_t *text)
{
    json_error_t je;
    json_t *v =
        json_loadb((const char *)text->b_data, text->b_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

    check(v || strstr(je.text, "NUL byte in object key"), "to_json wrote text that is not JSON",
          text->b_data, text->b_len);
    return v;
}

/* jansson's own compact text of v, to compare values whatever their spelling. */
static char *canon(const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);

    check(s != NULL, "json_dumps failed", NULL, 0);
    return s;
}

/* Encodes v, then requires the bytes to render back to the same value. */
static void encode_back(const json_t *v, bwm_avro_json_mode_t mode, bwm_buf_t *bin, int must)
{
    bwm_buf_t again = {0}, bin2 = {0};
    char err[512];
    size_t used;
    json_t *v2;
    char *a, *b;

    if (bwm_avro_from_json(root, v, bin, err, sizeof(err)) != BWM_OK) {
        check(!must, err, NULL, 0);
        return;
    }
    check(bwm_avro_check(root, bin->b_data, bin->b_len, NULL, &used, err, sizeof(err)) == BWM_OK,
          err, NULL, 0);
    check(used == bin->b_len, "from_json wrote bytes past the datum", NULL, 0);
    check(bwm_avro_to_json(root, bin->b_data, bin->b_len, NULL, mode, &again, &used, err,
                           sizeof(err)) == BWM_OK,
          err, NULL, 0);
    v2 = parse(&again);
    if (v2) {
        a = canon(v);
        b = canon(v2);
        check(strcmp(a, b) == 0, "the encoding renders another value", again.b_data, again.b_len);
        free(a);
        free(b);
        /* and bwm's own encoding is a fixed point */
        check(bwm_avro_from_json(root, v2, &bin2, err, sizeof(err)) == BWM_OK, err, NULL, 0);
        check(bin2.b_len == bin->b_len && memcmp(bin2.b_data, bin->b_data, bin->b_len) == 0,
              "encoding the rendering again gives other bytes", again.b_data, again.b_len);
        json_decref(v2);
    }
    bwm_buf_free(&again);
    bwm_buf_free(&bin2);
}

/* Any JSON: a clean refusal, or bytes that are a fixed point of rendering and encoding. */
static void from_any_json(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    bwm_buf_t bin = {0}, text = {0}, again = {0};
    char err[512];
    size_t used;
    json_t *v2;

    if (!v) {
        return;
    }
    bwm_buf_put(&bin, "x", 1);
    if (bwm_avro_from_json(root, v, &bin, err, sizeof(err)) != BWM_OK) {
        check(err[0] == '$', "a refusal without a path", err, strlen(err));
        check(bin.b_len == 1, "a refusal left output", NULL, 0);
    } else {
        check(bwm_avro_check(root, bin.b_data + 1, bin.b_len - 1, NULL, &used, err, sizeof(err)) ==
                      BWM_OK &&
                  used == bin.b_len - 1,
              "from_json wrote what check refuses", err, strlen(err));
        check(bwm_avro_to_json(root, bin.b_data + 1, bin.b_len - 1, NULL, BWM_AVRO_JSON_AVRO, &text,
                               &used, err, sizeof(err)) == BWM_OK,
              err, NULL, 0);
        v2 = parse(&text);
        if (v2 && !read_otherwise(root, v2)) {
            check(bwm_avro_from_json(root, v2, &again, err, sizeof(err)) == BWM_OK, err, NULL, 0);
            check(again.b_len == bin.b_len - 1 &&
                      memcmp(again.b_data, bin.b_data + 1, again.b_len) == 0,
                  "JSON encodes to bytes whose rendering encodes otherwise", text.b_data,
                  text.b_len);
        }
        json_decref(v2);
    }
    json_decref(v);
    bwm_buf_free(&bin);
    bwm_buf_free(&text);
    bwm_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bwm_avro_json_mode_t modes[2] = {BWM_AVRO_JSON_READABLE, BWM_AVRO_JSON_AVRO};
    bwm_frame_t frame;
    bwm_buf_t text[2] = {{0}, {0}}, bin = {0}, bin_readable = {0};
    json_t *v[2] = {NULL, NULL};
    char err[512], err2[512];
    size_t used = 0, used2;
    bwm_err_t e, e2;
    int m;

    if (bwm_frame_parse(data, size, 0, &frame, err, sizeof(err)) != BWM_OK) {
        check(bwm_frame_parse(data, size, 1, &frame, err, sizeof(err)) == BWM_OK,
              "raw framing failed", NULL, 0);
    }
    e = bwm_avro_check(root, frame.f_body, frame.f_body_len, &limits, &used, err, sizeof(err));
    check(e == BWM_OK || e == BWM_ERR_DECODE || e == BWM_ERR_LIMIT, "an unexpected error code", err,
          strlen(err));
    check(e != BWM_OK || used <= frame.f_body_len, "used beyond the body", NULL, 0);
    check(e == BWM_OK || err[0] == '$', "an error without a path", err, strlen(err));
    for (m = 0; m < 2; m++) {
        used2 = 0;
        e2 = bwm_avro_to_json(root, frame.f_body, frame.f_body_len, &limits, modes[m], &text[m],
                              &used2, err2, sizeof(err2));
        check(e2 == e, "check and to_json disagree", err2, strlen(err2));
        if (e != BWM_OK) {
            check(strcmp(err, err2) == 0, "check and to_json say different things", err2,
                  strlen(err2));
            check(text[m].b_len == 0, "a failed rendering left output", NULL, 0);
            continue;
        }
        check(used2 == used, "check and to_json disagree on the length", NULL, 0);
        v[m] = parse(&text[m]);
    }
    if (v[1] && !read_otherwise(root, v[1])) {
        /* Avro's JSON always encodes, and back to the same value */
        encode_back(v[1], BWM_AVRO_JSON_AVRO, &bin, 1);
    }
    if (v[0] && (!v[1] || !read_otherwise(root, v[1]))) {
        /* the readable form, where a union can tell its branch */
        encode_back(v[0], BWM_AVRO_JSON_READABLE, &bin_readable, 0);
    }
    for (m = 0; m < 2; m++) {
        json_decref(v[m]);
        bwm_buf_free(&text[m]);
    }
    bwm_buf_free(&bin);
    bwm_buf_free(&bin_readable);
    from_any_json(data, size);
    return 0;
}
