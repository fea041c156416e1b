/*
 * value.h: the scalar values the engine computes with. A decoded record
 * fills one bwm_value_t per field the query reads (its "slots"); strings point
 * into the decoder's memory and stay valid until the next decode.
 */
#ifndef BWM_VALUE_H
#define BWM_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum bwm_type {
    BWM_T_NULL = 0,
    BWM_T_BOOL,
    BWM_T_LONG,
    BWM_T_DOUBLE,
    BWM_T_STRING,
} bwm_type_t;

typedef struct bwm_value {
    bwm_type_t v_type;
    union {
        int v_bool;
        int64_t v_long;
        double v_double;
        struct {
            const char *p;
            size_t n;
        } v_str;
    } u;
} bwm_value_t;

/* Returns the SQL name of a type ("STRING", "BIGINT", ...). */
const char *bwm_type_name(bwm_type_t t);

/*
 * Writes the shortest decimal text of d that reads back as d, with ".0" on
 * integral values ("3.0", "0.1", "1e+300"), or "NaN", "Infinity",
 * "-Infinity". out needs BWM_DOUBLE_TEXT bytes.
 */
#define BWM_DOUBLE_TEXT 32
void bwm_double_text(double d, char *out);

static inline int bwm_type_is_numeric(bwm_type_t t)
{
    return t == BWM_T_LONG || t == BWM_T_DOUBLE;
}

#endif
