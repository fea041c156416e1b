/*
 * avrojson.h: Avro values rendered as JSON for people and scripts: records
 * as objects, unions unwrapped to their value, enums as their symbol, bytes
 * as Avro's JSON encoding (one code point per byte), doubles in the shortest
 * form that reads back to the same value.
 */
#ifndef BWM_AVROJSON_H
#define BWM_AVROJSON_H

#include <avro.h>

#include "buf.h"
#include "err.h"

/* Appends the JSON text of v to b (no trailing newline). */
bwm_err_t bwm_avrojson_render(avro_value_t *v, bwm_buf_t *b);

/* Appends a JSON string literal of the n bytes at s (UTF-8 passed through, controls escaped). */
void bwm_json_put_string(bwm_buf_t *b, const char *s, size_t n);

/* Appends the shortest decimal form of d that parses back to d; NaN and infinities as strings. */
void bwm_json_put_double(bwm_buf_t *b, double d);

#endif
