/*
 * test_decoder_xcheck.c: the compiled slot decoder against avro-c's generic
 * reader. Random datums of a schema with scalars, an enum, nested records,
 * nullable unions and fields no query reads (arrays, maps, fixed, bytes) are
 * written by avro-c and read back by avro-c's generic reader; bwm's decoder,
 * compiled for a random subset of the fields (the rest skipped), must give
 * each slot the value avro-c holds. A datum cut short must fail (avro-c is
 * not asked: its reader leaks what it read of a cut datum). The seed is
 * printed; BWM_TEST_SEED replays a run.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "decoder_xcheck.h"

static uint64_t rng;

static uint64_t next(void)
{
    return bwm_xorshift64s(&rng);
}

static int64_t any_long(void)
{
    static const int64_t edges[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT32_MAX, INT32_MIN};

    if (next() % 4 == 0) {
        return edges[next() % (sizeof(edges) / sizeof(edges[0]))];
    }
    return (int64_t)next() >> (next() % 64);
}

static void any_text(char *out, size_t size)
{
    size_t n = next() % (size - 1), i;

    for (i = 0; i < n; i++) {
        out[i] = (char)(0x20 + next() % 0x5f);
    }
    out[n] = '\0';
}

static void field(avro_value_t *rec, const char *name, avro_value_t *out)
{
    cr_assert_eq(avro_value_get_by_name(rec, name, out, NULL), 0, "no field %s", name);
}

/* Sets a nullable union to null (branch 0) or to its other branch, returned in *b. */
static int maybe(avro_value_t *u, avro_value_t *b)
{
    int some = next() % 3 != 0;

    avro_value_set_branch(u, some, b);
    if (!some) {
        avro_value_set_null(b);
    }
    return some;
}

static void fill(avro_value_t *r)
{
    avro_value_t f, e, g, h;
    char text[24];
    size_t i, n;

    any_text(text, sizeof(text));
    field(r, "vin", &f);
    avro_value_set_string(&f, text);
    field(r, "skip_arr", &f);
    for (i = 0, n = next() % 5; i < n; i++) {
        avro_value_append(&f, &e, NULL);
        avro_value_set_long(&e, any_long());
    }
    field(r, "on", &f);
    avro_value_set_boolean(&f, (int)(next() & 1));
    field(r, "n", &f);
    avro_value_set_int(&f, (int32_t)any_long());
    field(r, "skip_map", &f);
    for (i = 0, n = next() % 4; i < n; i++) {
        snprintf(text, sizeof(text), "k%zu", i);
        avro_value_add(&f, text, &e, NULL, NULL);
        if (maybe(&e, &g)) {
            avro_value_set_string(&g, "v");
        }
    }
    field(r, "big", &f);
    avro_value_set_long(&f, any_long());
    field(r, "f", &f);
    avro_value_set_float(&f, (float)any_long() / 7.0f);
    field(r, "km", &f);
    avro_value_set_double(&f, (double)any_long() / 3.0);
    field(r, "skip_fx", &f);
    avro_value_set_fixed(&f, "abcd", 4);
    field(r, "state", &f);
    avro_value_set_enum(&f, (int)(next() % 3));
    any_text(text, sizeof(text));
    field(r, "raw", &f);
    avro_value_set_bytes(&f, text, strlen(text));
    field(r, "fuel", &f);
    if (maybe(&f, &e)) {
        avro_value_set_double(&e, (double)(next() % 10000) / 100.0);
    }
    field(r, "note", &f);
    if (maybe(&f, &e)) {
        any_text(text, sizeof(text));
        avro_value_set_string(&e, text);
    }
    field(r, "pos", &f);
    if (maybe(&f, &e)) {
        field(&e, "lat", &g);
        avro_value_set_double(&g, (double)any_long() / 1e15);
        field(&e, "skip_b", &g);
        avro_value_set_bytes(&g, "\x00\x01", 2);
        field(&e, "at", &g);
        field(&g, "city", &h);
        any_text(text, sizeof(text));
        avro_value_set_string(&h, text);
        field(&g, "zip", &h);
        if (maybe(&h, &e)) {
            avro_value_set_int(&e, (int32_t)(next() % 100000));
        }
    }
    field(r, "ts", &f);
    avro_value_set_long(&f, any_long());
    any_text(text, sizeof(text));
    field(r, "tail", &f);
    avro_value_set_string(&f, text);
}

Test(decoder_xcheck, decodes_what_avro_cs_generic_reader_reads)
{
    const char *env = getenv("BWM_TEST_SEED");
    char *json = xcheck_schema_json(), err[256];
    avro_schema_t as;
    avro_value_iface_t *iface;
    avro_value_t written, read;
    bwm_schema_t *bs;
    int round, truncations = 0;

    rng = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "decoder cross-check with avro-c: BWM_TEST_SEED=%llu\n",
            (unsigned long long)rng);
    rng = rng ? rng : 1; /* xorshift64* stays at 0 */
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &as), 0, "%s", avro_strerror());
    bs = bwm_schema_parse(json, strlen(json), err, sizeof(err));
    cr_assert_not_null(bs, "%s", err);
    iface = avro_generic_class_from_schema(as);
    cr_assert_eq(avro_generic_value_new(iface, &written), 0);
    cr_assert_eq(avro_generic_value_new(iface, &read), 0);
    for (round = 0; round < 2000; round++) {
        bwm_slot_spec_t specs[XCHECK_NFIELDS];
        size_t cand[XCHECK_NFIELDS], nslots = 0, size, i, cut;
        bwm_value_t out[XCHECK_NFIELDS];
        bwm_decoder_t *d;
        avro_writer_t w;
        char *bytes;

        avro_value_reset(&written);
        fill(&written);
        cr_assert_eq(avro_value_sizeof(&written, &size), 0);
        bytes = malloc(size);
        w = avro_writer_memory(bytes, (int64_t)size);
        cr_assert_eq(avro_value_write(w, &written), 0, "%s", avro_strerror());
        avro_writer_free(w);
        cr_assert_eq(xcheck_avro_c_read(bytes, size, &read), 0, "%s", avro_strerror());

        for (i = 0; i < XCHECK_NFIELDS; i++) {
            if (next() % 2 || (i == XCHECK_NFIELDS - 1 && nslots == 0)) {
                cand[nslots] = i;
                specs[nslots] = xcheck_spec(i);
                nslots++;
            }
        }
        d = bwm_decoder_new(bs, bs, specs, nslots, &bwm_avro_default_limits, err, sizeof(err));
        cr_assert_not_null(d, "%s", err);
        cr_assert_eq(bwm_decoder_decode(d, bytes, size, out, err, sizeof(err)), BWM_OK,
                     "round %d: %s", round, err);
        for (i = 0; i < nslots; i++) {
            const char *why = xcheck_same(&read, cand[i], &out[i]);

            cr_assert_null(why, "round %d, %s", round, why);
        }
        /* A datum cut short is an error. */
        cut = (size_t)(next() % size);
        cr_assert_neq(bwm_decoder_decode(d, bytes, cut, out, err, sizeof(err)), BWM_OK,
                      "round %d: %zu of %zu bytes decoded", round, cut, size);
        truncations++;
        bwm_decoder_destroy(d);
        free(bytes);
    }
    fprintf(stderr, "decoder cross-check: %d datums, %d truncations\n", round, truncations);
    avro_value_decref(&written);
    avro_value_decref(&read);
    avro_value_iface_decref(iface);
    avro_schema_decref(as);
    bwm_schema_destroy(bs);
    free(json);
}

Test(decoder_xcheck, a_skipped_int_out_of_range_is_an_error_as_in_avro_c)
{
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"n\",\"type\":\"int\"},{\"name\":\"s\",\"type\":\"string\"}]}";
    /* n = 2^40 (zigzag 2^41: 0x80 x5, 0x40), then s = "a" */
    static const uint8_t body[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x02, 'a'};
    bwm_slot_spec_t spec = {"s", (const char *[]){"s"}, 1, BWM_T_STRING, 0, 0, NULL};
    bwm_value_t out;
    char err[256];
    bwm_schema_t *s = bwm_schema_parse(schema, strlen(schema), err, sizeof(err));
    bwm_decoder_t *d;

    cr_assert_not_null(s, "%s", err);
    d = bwm_decoder_new(s, s, &spec, 1, &bwm_avro_default_limits, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    cr_assert_eq(bwm_decoder_decode(d, body, sizeof(body), &out, err, sizeof(err)), BWM_ERR_DECODE);
    cr_assert(strstr(err, "'n'") && strstr(err, "int out of range"), "%s", err);
    bwm_decoder_destroy(d);
    bwm_schema_destroy(s);
}
