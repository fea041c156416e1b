/*
 * err.h: the one error type of bwm. 0 is success, failures are negative.
 * Functions that can say more take `char *errstr, size_t errstr_size`.
 */
#ifndef BWM_ERR_H
#define BWM_ERR_H

#include <stddef.h>

typedef enum bwm_err {
    BWM_OK = 0,
    BWM_ERR_NOMEM = -1,      /* allocation failed */
    BWM_ERR_INVALID = -2,    /* invalid argument or configuration */
    BWM_ERR_PARSE = -3,      /* malformed input text */
    BWM_ERR_DECODE = -4,     /* undecodable record bytes */
    BWM_ERR_FRAMING = -5,    /* unknown wire framing */
    BWM_ERR_SCHEMA = -6,     /* schema missing, invalid or incompatible */
    BWM_ERR_TYPE = -7,       /* value of the wrong type */
    BWM_ERR_LIMIT = -8,      /* a configured limit was exceeded */
    BWM_ERR_NOT_FOUND = -9,  /* no such key, id or file */
    BWM_ERR_IO = -10,        /* I/O with another process failed */
    BWM_ERR_TIMEOUT = -11,   /* a deadline passed */
    BWM_ERR_FENCED = -12,    /* the fence moved: another instance owns the partition */
    BWM_ERR_TRANSPORT = -13, /* a remote service failed or refused */
    BWM_ERR_OVERFLOW = -14,  /* arithmetic overflow */
} bwm_err_t;

/* Returns a static description of err; never NULL. */
const char *bwm_err2str(bwm_err_t err);

/* Formats into errstr (when not NULL) and returns err, for one-line error paths. */
bwm_err_t bwm_err_set(bwm_err_t err, char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
