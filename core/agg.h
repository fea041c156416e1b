/*
 * agg.h: aggregate functions as tables of operations. Every aggregate state is
 * mergeable (two partial states combine into one, which hopping windows,
 * session merges and pre-aggregation need) and has a versioned little-endian
 * encoding, so it can live in Redis.
 *
 * A state is a block of ao_state_size bytes (8-byte aligned) inside its
 * (key, window) entry. A state that needs more memory keeps a pointer there
 * and sets ao_destroy. The engine applies a record to all aggregates of an
 * entry or to none: it first calls ao_check for each (which may refuse, e.g.
 * on integer overflow), then ao_add for each, which can only fail for lack of
 * memory.
 */
#ifndef BWM_AGG_H
#define BWM_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "value.h"

/* One record's contribution. */
typedef struct bwm_agg_input {
    const bwm_value_t *ai_value; /* the argument, never of type NULL (nulls are skipped);
                                    NULL for COUNT(*) */
    int64_t ai_time;             /* event time of the record, ms */
    int64_t ai_offset;           /* source offset; breaks ties of equal times */
} bwm_agg_input_t;

/* Constant arguments given in the query. */
typedef struct bwm_agg_params {
    double ap_q; /* PERCENTILE(x, q): the quantile, 0 <= q <= 1 */
} bwm_agg_params_t;

typedef struct bwm_agg_ops {
    const char *ao_name; /* SQL name, upper case */
    uint8_t ao_id;       /* stable id written into state encodings; never reuse one */
    size_t ao_state_size;
    int ao_star;  /* may take '*' instead of a field (COUNT(*)) */
    int ao_param; /* takes a constant second argument (PERCENTILE's q) */
    /* Checks the argument type and returns the result type; BWM_T_NULL when not accepted. */
    bwm_type_t (*ao_result_type)(bwm_type_t arg);
    /* Whether the result can be null (SUM of no values is null; COUNT is never null). */
    int ao_result_nullable;
    /* Sets up an empty state for arguments of type arg. */
    void (*ao_init)(void *st, bwm_type_t arg, const bwm_agg_params_t *params);
    /* Whether ao_add would succeed; NULL when it can fail only for lack of memory. */
    bwm_err_t (*ao_check)(const void *st, const bwm_agg_input_t *in);
    /* Adds one record. Fails only with BWM_ERR_NOMEM (or what ao_check refuses). */
    bwm_err_t (*ao_add)(void *st, const bwm_agg_input_t *in);
    /* Merges src into dst (both initialised for the same argument type and params). */
    bwm_err_t (*ao_merge)(void *dst, const void *src);
    /* The current result. Strings point into the state and live as long as it does. */
    void (*ao_result)(const void *st, bwm_value_t *out);
    /* Appends the encoding: a format version byte, then little-endian fields. */
    void (*ao_encode)(const void *st, bwm_buf_t *b);
    /*
     * Replaces an initialised state with a decoded one. BWM_ERR_DECODE for
     * bytes that are not a valid encoding of this aggregate (they come from
     * Redis, so they are checked like any input); st is then left valid.
     */
    bwm_err_t (*ao_decode)(void *st, bwm_cursor_t *c);
    /* Frees what the state points to; NULL when it points to nothing. */
    void (*ao_destroy)(void *st);
    /*
     * Bytes of heap memory the state owns now (what ao_destroy would free),
     * for the engine's memory accounting; NULL when it never owns any.
     */
    size_t (*ao_heap)(const void *st);
} bwm_agg_ops_t;

/* Finds an aggregate by SQL name or alias, case-insensitively; NULL when unknown. */
const bwm_agg_ops_t *bwm_agg_find(const char *name);

/* The known aggregates' names, comma-separated, for messages. */
const char *bwm_agg_names(void);

#endif
