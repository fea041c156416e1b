/*
 * value.c: names of the engine's scalar types.
 */
#include "value.h"

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
