/*
 * fuzz_decoder.c: libFuzzer target for the compiled slot decoder (`make
 * fuzz`), against avro-c's generic reader.
 *
 * The first two bytes of an input choose which fields of the schema of
 * tests/unit/decoder_xcheck.h the decoder reads (the rest it skips); the
 * remaining bytes are the record body. Whatever the decoder accepts, avro-c
 * must read too, with the very values the decoder gave each slot. What the
 * decoder refuses must come with a message. Sanitizers catch the rest.
 */
#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/decoder_xcheck.h"

static bwm_schema_t *schema;
static avro_value_iface_t *iface;
static avro_value_t datum;

static void setup(void)
{
    char *json = xcheck_schema_json(), err[256];
    avro_schema_t as;

    schema = bwm_schema_parse(json, strlen(json), err, sizeof(err));
    if (!schema || avro_schema_from_json_length(json, strlen(json), &as) != 0) {
        fprintf(stderr, "fuzz_decoder: schema: %s %s\n", err, avro_strerror());
        abort();
    }
    iface = avro_generic_class_from_schema(as);
    avro_generic_value_new(iface, &datum);
    avro_schema_decref(as);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bwm_slot_spec_t specs[XCHECK_NFIELDS];
    bwm_value_t out[XCHECK_NFIELDS];
    size_t cand[XCHECK_NFIELDS], nslots = 0, i;
    unsigned mask;
    bwm_decoder_t *d;
    char err[256];
    bwm_err_t rc;

    if (!schema) {
        setup();
    }
    if (size < 2) {
        return 0;
    }
    mask = (unsigned)data[0] | (unsigned)data[1] << 8;
    for (i = 0; i < XCHECK_NFIELDS; i++) {
        if (mask & (1u << i)) {
            cand[nslots] = i;
            specs[nslots++] = xcheck_spec(i);
        }
    }
    d = bwm_decoder_new(schema, schema, specs, nslots, &bwm_avro_default_limits, err, sizeof(err));
    if (!d) {
        fprintf(stderr, "fuzz_decoder: %s\n", err);
        abort();
    }
    err[0] = '\0';
    rc = bwm_decoder_decode(d, data + 2, size - 2, out, err, sizeof(err));
    if (rc != BWM_OK && err[0] == '\0') {
        fprintf(stderr, "fuzz_decoder: error %d without a message\n", (int)rc);
        abort();
    }
    if (rc == BWM_OK) {
        if (xcheck_avro_c_read(data + 2, size - 2, &datum) != 0) {
            fprintf(stderr, "fuzz_decoder: decoded, but avro-c cannot read it: %s\n",
                    avro_strerror());
            abort();
        }
        for (i = 0; i < nslots; i++) {
            const char *why = xcheck_same(&datum, cand[i], &out[i]);

            if (why) {
                fprintf(stderr, "fuzz_decoder: %s\n", why);
                abort();
            }
        }
    }
    bwm_decoder_destroy(d);
    return 0;
}
