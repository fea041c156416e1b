/*
 * agg.h: aggregate functions as tables of operations. Every aggregate state is
 * mergeable (two partial states combine into one) and has a versioned
 * little-endian encoding, so it can live in Redis and be combined across
 * windows or instances.
 */
#ifndef BWM_AGG_H
#define BWM_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "value.h"

typedef struct bwm_agg_ops {
    const char *ao_name; /* SQL name, upper case */
    uint8_t ao_id;       /* stable id written into encodings; never reuse one */
    size_t ao_state_size;
    int ao_star; /* may take '*' instead of a field (COUNT(*)) */
    /* Checks the argument type and returns the result type; BWM_T_NULL when not accepted. */
    bwm_type_t (*ao_result_type)(bwm_type_t arg);
    /* Whether the result can be null (SUM of no values is null; COUNT is never null). */
    int ao_result_nullable;
    void (*ao_init)(void *st, bwm_type_t arg);
    /*
     * Adds one value: the field's value, never null (nulls are skipped), or
     * NULL for '*'. Leaves st unchanged on error.
     */
    bwm_err_t (*ao_add)(void *st, const bwm_value_t *v);
    /* Merges src into dst. Leaves dst unchanged on error. */
    bwm_err_t (*ao_merge)(void *dst, const void *src);
    void (*ao_result)(const void *st, bwm_value_t *out);
    void (*ao_encode)(const void *st, bwm_buf_t *b);
    bwm_err_t (*ao_decode)(void *st, bwm_cursor_t *c);
} bwm_agg_ops_t;

/* Finds an aggregate by SQL name, case-insensitively; NULL when unknown. */
const bwm_agg_ops_t *bwm_agg_find(const char *name);

/* Lists the known aggregates' names, comma-separated, for messages. */
const char *bwm_agg_names(void);

#endif
