/*
 * json.h: JSON literals appended to a buffer, shared by the Avro renderer,
 * the engine's key text and `bwm consume`.
 */
#ifndef BWM_JSON_H
#define BWM_JSON_H

#include <stddef.h>

#include "buf.h"

/*
 * A string literal of UTF-8 text for display: valid sequences pass
 * through, each maximal ill-formed subpart becomes U+FFFD (as Python's
 * 'replace' does), controls, '"' and '\' are escaped. Always valid JSON.
 */
void bwm_json_put_text(bwm_buf_t *b, const void *s, size_t n);

/*
 * A string literal that keeps every byte: controls, '"' and '\' are
 * escaped, all other bytes pass through as they are, so distinct inputs
 * give distinct literals (the engine's key text relies on it). Valid JSON
 * when s is valid UTF-8.
 */
void bwm_json_put_exact(bwm_buf_t *b, const void *s, size_t n);

/* Avro's JSON form of bytes: a string whose code points are the byte values. */
void bwm_json_put_bytes(bwm_buf_t *b, const void *s, size_t n);

/* bwm_double_text(d); NaN and the infinities as the strings "NaN", "Infinity", "-Infinity". */
void bwm_json_put_double(bwm_buf_t *b, double d);

#endif
