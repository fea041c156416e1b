/*
 * value.c: names of the engine's scalar types.
 */
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bwm_type_name(bwm_type_t t)
{
    switch (t) {
        case BWM_T_NULL:
            return "NULL";
        case BWM_T_BOOL:
            return "BOOLEAN";
        case BWM_T_LONG:
            return "BIGINT";
        case BWM_T_DOUBLE:
            return "DOUBLE";
        case BWM_T_STRING:
            return "STRING";
    }
    return "UNKNOWN";
}

void bwm_double_text(double d, char *out)
{
    int prec;

    if (isnan(d)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(d)) {
        strcpy(out, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (prec = 15; prec <= 17; prec++) {
        snprintf(out, BWM_DOUBLE_TEXT, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    if (!strpbrk(out, ".eEn")) {
        strcat(out, ".0");
    }
}
