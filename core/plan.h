/*
 * plan.h: what a job computes, resolved against the input schema: the fields
 * it reads (slots), the group key, the event time, the aggregates with their
 * state layout, and the Avro schema of its results. The runtime executes a
 * plan; it never looks at the job text.
 */
#ifndef BWM_PLAN_H
#define BWM_PLAN_H

#include <stddef.h>

#include "agg.h"
#include "buf.h"
#include "decoder.h"
#include "err.h"
#include "schema.h"

/* Most aggregates one job may compute (the state encoding counts them in a byte). */
#define BWM_PLAN_MAX_AGGS 64

/* The job as configured: names only, nothing resolved yet. */
typedef struct bwm_plan_spec {
    const char *ps_name; /* table name */
    const char *ps_input_topic;
    const char *ps_output_topic;
    const char *ps_group_by;   /* field name */
    const char *ps_aggregates; /* "COUNT(*) AS samples, SUM(distance_km) AS distance_km" */
    const char *ps_time_field; /* event time field, or NULL for the Kafka timestamp */
} bwm_plan_spec_t;

typedef struct bwm_plan_agg {
    const bwm_agg_ops_t *pa_ops;
    char *pa_name; /* result field name */
    int pa_slot;   /* argument slot, or -1 for '*' */
    bwm_type_t pa_arg_type;
    bwm_type_t pa_result_type;
    bwm_agg_params_t pa_params;
    size_t pa_offset; /* of its state inside an entry's state block */
} bwm_plan_agg_t;

typedef struct bwm_plan {
    char *p_name;
    char *p_input_topic;
    char *p_output_topic;
    bwm_slot_spec_t *p_slots; /* fields read from each record; names owned */
    size_t p_nslots;
    int p_key_slot;
    char *p_key_name;
    bwm_type_t p_key_type;
    int p_time_slot; /* -1: the Kafka timestamp */
    bwm_plan_agg_t *p_aggs;
    size_t p_naggs;
    size_t p_state_size;   /* bytes of all aggregate states of one entry */
    char *p_output_schema; /* Avro JSON of the result record */
} bwm_plan_t;

/*
 * Resolves spec against the reader schema of the input. Errors name the
 * offending field or aggregate. Caller frees with bwm_plan_destroy().
 */
bwm_plan_t *bwm_plan_new(const bwm_plan_spec_t *spec, const bwm_schema_t *input, char *errstr,
                         size_t errstr_size);
void bwm_plan_destroy(bwm_plan_t *p);

/* Appends a readable description of the plan to b. */
void bwm_plan_describe(const bwm_plan_t *p, bwm_buf_t *b);

#endif
