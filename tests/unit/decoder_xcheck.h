/*
 * decoder_xcheck.h: what the decoder cross-checks share (the unit test
 * test_decoder_xcheck.c and the fuzz target fuzz_decoder.c): a writer
 * schema with scalars, an enum, nested records, nullable unions and fields
 * no query reads; the fields a query may read; and the comparison of a
 * decoded slot with what avro-c's generic reader holds at its path.
 */
#ifndef BWM_TEST_DECODER_XCHECK_H
#define BWM_TEST_DECODER_XCHECK_H

#include <avro.h>
#include <stdio.h>
#include <string.h>

#include "core/decoder.h"

#define XCHECK_WRITER                                                                              \
    "{'type':'record','name':'Reading','namespace':'bwm.test','fields':["                          \
    "{'name':'vin','type':'string'},"                                                              \
    "{'name':'skip_arr','type':{'type':'array','items':'long'}},"                                  \
    "{'name':'on','type':'boolean'},"                                                              \
    "{'name':'n','type':'int'},"                                                                   \
    "{'name':'skip_map','type':{'type':'map','values':['null','string']}},"                        \
    "{'name':'big','type':'long'},"                                                                \
    "{'name':'f','type':'float'},"                                                                 \
    "{'name':'km','type':'double'},"                                                               \
    "{'name':'skip_fx','type':{'type':'fixed','name':'Four','size':4}},"                           \
    "{'name':'state','type':{'type':'enum','name':'S','symbols':['PARKED','IDLE','DRIVING']}},"    \
    "{'name':'raw','type':'bytes'},"                                                               \
    "{'name':'fuel','type':['null','double']},"                                                    \
    "{'name':'note','type':['null','string']},"                                                    \
    "{'name':'pos','type':['null',{'type':'record','name':'Pos','fields':["                        \
    "{'name':'lat','type':'double'},{'name':'skip_b','type':'bytes'},"                             \
    "{'name':'at','type':{'type':'record','name':'At','fields':["                                  \
    "{'name':'city','type':'string'},{'name':'zip','type':['null','int']}]}}]}]},"                 \
    "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"                       \
    "{'name':'tail','type':'string'}]}"

/* The fields a query may read: path, depth, slot type, whether some level is nullable. */
static const struct {
    const char *path[3];
    size_t depth;
    bwm_type_t type;
    int nullable;
} xcheck_fields[] = {
    {{"vin"}, 1, BWM_T_STRING, 0},
    {{"on"}, 1, BWM_T_BOOL, 0},
    {{"n"}, 1, BWM_T_LONG, 0},
    {{"big"}, 1, BWM_T_LONG, 0},
    {{"f"}, 1, BWM_T_DOUBLE, 0},
    {{"km"}, 1, BWM_T_DOUBLE, 0},
    {{"state"}, 1, BWM_T_STRING, 0},
    {{"raw"}, 1, BWM_T_STRING, 0},
    {{"fuel"}, 1, BWM_T_DOUBLE, 1},
    {{"note"}, 1, BWM_T_STRING, 1},
    {{"pos", "lat"}, 2, BWM_T_DOUBLE, 1},
    {{"pos", "at", "city"}, 3, BWM_T_STRING, 1},
    {{"pos", "at", "zip"}, 3, BWM_T_LONG, 1},
    {{"ts"}, 1, BWM_T_LONG, 0},
    {{"tail"}, 1, BWM_T_STRING, 0},
};
#define XCHECK_NFIELDS (sizeof(xcheck_fields) / sizeof(xcheck_fields[0]))

/* The writer schema as JSON (the macro quotes with '); caller frees. */
static inline char *xcheck_schema_json(void)
{
    char *json = strdup(XCHECK_WRITER), *c;

    for (c = json; c && *c; c++) {
        *c = *c == '\'' ? '"' : *c;
    }
    return json;
}

/* The slot spec of candidate c. */
static inline bwm_slot_spec_t xcheck_spec(size_t c)
{
    return (bwm_slot_spec_t){
        .ss_name = xcheck_fields[c].path[xcheck_fields[c].depth - 1],
        .ss_path = (const char **)xcheck_fields[c].path,
        .ss_depth = xcheck_fields[c].depth,
        .ss_type = xcheck_fields[c].type,
        .ss_nullable = xcheck_fields[c].nullable,
    };
}

/* avro-c's value at candidate c's path; 0 when a nullable level is null. */
static inline int xcheck_at_path(avro_value_t *rec, size_t c, avro_value_t *out)
{
    avro_value_t cur = *rec, next_value;
    size_t i;

    for (i = 0; i < xcheck_fields[c].depth; i++) {
        if (avro_value_get_by_name(&cur, xcheck_fields[c].path[i], &next_value, NULL) != 0) {
            return -1;
        }
        cur = next_value;
        if (avro_value_get_type(&cur) == AVRO_UNION) {
            int disc = 0;

            avro_value_get_discriminant(&cur, &disc);
            if (disc == 0) {
                return 0;
            }
            avro_value_get_current_branch(&cur, &next_value);
            cur = next_value;
        }
    }
    *out = cur;
    return 1;
}

static inline int xcheck_text_eq(const bwm_value_t *got, const void *p, size_t n)
{
    return got->u.v_str.n == n && (n == 0 || memcmp(got->u.v_str.p, p, n) == 0);
}

/* Doubles compare by their bits, so NaNs and signed zeros count too. */
static inline int xcheck_double_eq(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * NULL when slot value got (of candidate c) is what avro-c read into rec;
 * otherwise why not, in a static buffer.
 */
static inline const char *xcheck_same(avro_value_t *rec, size_t c, const bwm_value_t *got)
{
    static char why[160];
    const char *name = xcheck_fields[c].path[xcheck_fields[c].depth - 1], *s = NULL;
    avro_value_t v;
    const void *b = NULL;
    size_t n = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    float fl = 0;
    double d = 0;
    int bo = 0, sym = 0, ok, at = xcheck_at_path(rec, c, &v);

    if (at <= 0) {
        ok = at == 0 && got->v_type == BWM_T_NULL;
        snprintf(why, sizeof(why), "%s: avro-c holds null, the slot type %d", name,
                 (int)got->v_type);
        return ok ? NULL : why;
    }
    if (got->v_type != xcheck_fields[c].type) {
        snprintf(why, sizeof(why), "%s: slot type %d, not %d", name, (int)got->v_type,
                 (int)xcheck_fields[c].type);
        return why;
    }
    switch (avro_value_get_type(&v)) {
        case AVRO_STRING:
            avro_value_get_string(&v, &s, &n);
            ok = xcheck_text_eq(got, s, n - 1);
            break;
        case AVRO_BYTES:
            avro_value_get_bytes(&v, &b, &n);
            ok = xcheck_text_eq(got, b, n);
            break;
        case AVRO_BOOLEAN:
            avro_value_get_boolean(&v, &bo);
            ok = got->u.v_bool == bo;
            break;
        case AVRO_INT32:
            avro_value_get_int(&v, &i32);
            ok = got->u.v_long == i32;
            break;
        case AVRO_INT64:
            avro_value_get_long(&v, &i64);
            ok = got->u.v_long == i64;
            break;
        case AVRO_FLOAT:
            avro_value_get_float(&v, &fl);
            ok = xcheck_double_eq(got->u.v_double, (double)fl);
            break;
        case AVRO_DOUBLE:
            avro_value_get_double(&v, &d);
            ok = xcheck_double_eq(got->u.v_double, d);
            break;
        case AVRO_ENUM:
            avro_value_get_enum(&v, &sym);
            s = avro_schema_enum_get(avro_value_get_schema(&v), sym);
            ok = s && xcheck_text_eq(got, s, strlen(s));
            break;
        default:
            ok = 0;
    }
    snprintf(why, sizeof(why), "%s: the slot differs from avro-c's value", name);
    return ok ? NULL : why;
}

/* avro-c's generic reader over bytes[0 .. n): 0 when it reads a whole datum. */
static inline int xcheck_avro_c_read(const void *bytes, size_t n, avro_value_t *out)
{
    avro_reader_t r = avro_reader_memory(bytes, (int64_t)n);
    int rc;

    avro_value_reset(out);
    rc = avro_value_read(r, out);
    avro_reader_free(r);
    return rc;
}

#endif
