/*
 * agg_impl.h: what the aggregate sources share inside core/: the operation
 * tables defined outside agg.c (agg_value.c, agg_hll.c, agg_sketch.c), the
 * conversion of a numeric argument, and the hash of COUNT_DISTINCT, declared
 * here so that its unit suite can check it against published test vectors.
 * The engine uses only agg.h.
 */
#ifndef BWM_AGG_IMPL_H
#define BWM_AGG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"

/* MIN, MAX, FIRST, LAST (agg_value.c). */
extern const bwm_agg_ops_t bwm_agg_min;
extern const bwm_agg_ops_t bwm_agg_max;
extern const bwm_agg_ops_t bwm_agg_first;
extern const bwm_agg_ops_t bwm_agg_last;
/* COUNT_DISTINCT (agg_hll.c). */
extern const bwm_agg_ops_t bwm_agg_count_distinct;
/* PERCENTILE (agg_sketch.c). */
extern const bwm_agg_ops_t bwm_agg_percentile;

/* PERCENTILE's relative accuracy alpha (agg_sketch.c). */
#define BWM_AGG_PERCENTILE_ALPHA 0.01

/* HyperLogLog precision of COUNT_DISTINCT: 2^14 registers (agg_hll.c). */
#define BWM_AGG_HLL_P 14

/* A numeric argument as a double (a BIGINT value may reach a DOUBLE argument). */
static inline double bwm_agg_num(const bwm_value_t *v)
{
    return v->v_type == BWM_T_LONG ? (double)v->u.v_long : v->u.v_double;
}

#endif
