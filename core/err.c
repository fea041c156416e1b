/*
 * err.c: descriptions of bwm_err_t values and the errstr helper.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *bwm_err2str(bwm_err_t err)
{
    switch (err) {
        case BWM_OK:
            return "success";
        case BWM_ERR_NOMEM:
            return "out of memory";
        case BWM_ERR_INVALID:
            return "invalid argument";
        case BWM_ERR_PARSE:
            return "parse error";
        case BWM_ERR_DECODE:
            return "undecodable record";
        case BWM_ERR_FRAMING:
            return "unknown framing";
        case BWM_ERR_SCHEMA:
            return "schema error";
        case BWM_ERR_TYPE:
            return "type mismatch";
        case BWM_ERR_LIMIT:
            return "limit exceeded";
        case BWM_ERR_NOT_FOUND:
            return "not found";
        case BWM_ERR_IO:
            return "I/O error";
        case BWM_ERR_TIMEOUT:
            return "timed out";
        case BWM_ERR_FENCED:
            return "fenced by another owner";
        case BWM_ERR_TRANSPORT:
            return "remote service error";
        case BWM_ERR_OVERFLOW:
            return "arithmetic overflow";
    }
    return "unknown error";
}

bwm_err_t bwm_err_set(bwm_err_t err, char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    if (errstr && errstr_size > 0) {
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}
