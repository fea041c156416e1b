/*
 * plan.h: what a job computes, resolved against the input's Avro schema.
 * The planner reads the script's one query and the stream it reads from, and
 * checks every name and type: the fields each record must yield (slots), the
 * filter, the group key, the event time, the window, the aggregates with the
 * layout of their states, HAVING, the output columns and the Avro schema of
 * the results. The runtime executes a plan and never looks at SQL.
 */
#ifndef BWM_PLAN_H
#define BWM_PLAN_H

#include <stddef.h>

#include "agg.h"
#include "ast.h"
#include "buf.h"
#include "decoder.h"
#include "expr.h"
#include "schema.h"
#include "window.h"

/* Most aggregates one query may compute (the state encoding counts them in a byte). */
#define BWM_PLAN_MAX_AGGS 64
/* Most GROUP BY expressions. */
#define BWM_PLAN_MAX_KEYS 16
/* Deepest nested field path (a.b.c has depth 3). */
#define BWM_PLAN_MAX_DEPTH 16

/* The properties of the stream a query reads: CREATE STREAM name WITH (...). */
typedef struct bwm_stream_info {
    const char *si_name;
    const char *si_topic;
    const char *si_schema;    /* schema = 'file.avsc', or NULL: the registry's latest */
    const char *si_timestamp; /* timestamp = 'field' or 'kafka', or NULL */
    const char *si_subject;   /* subject = '...': the registry subject of its schema, or NULL */
    int si_raw;               /* framing = 'raw': bare Avro bodies written with si_schema */
    bwm_pos_t si_pos;
} bwm_stream_info_t;

typedef struct bwm_plan_key {
    bwm_expr_t *pk_expr;
    char *pk_name; /* result field */
    bwm_type_t pk_type;
    const char *pk_logical;
    char *pk_sql; /* canonical text, to match SELECT items to it */
} bwm_plan_key_t;

typedef struct bwm_plan_agg {
    const bwm_agg_ops_t *pa_ops;
    bwm_expr_t *pa_arg; /* NULL for '*' */
    bwm_type_t pa_arg_type;
    bwm_type_t pa_result_type;
    bwm_agg_params_t pa_params;
    size_t pa_offset; /* of its state inside an entry's state block */
    char *pa_sql;     /* canonical text, to share one state between equal calls */
} bwm_plan_agg_t;

/* An output field besides keys, window bounds and version. */
typedef struct bwm_plan_col {
    char *pc_name;
    bwm_expr_t *pc_expr; /* over slots (stateless) or over keys and aggregates */
    bwm_type_t pc_type;
    int pc_nullable;
    const char *pc_logical;
} bwm_plan_col_t;

typedef struct bwm_plan {
    char *p_name;    /* the query's table or stream */
    int p_stateless; /* CREATE STREAM ... AS SELECT: filter and project */
    char *p_input_stream;
    char *p_input_topic;
    char *p_output_topic;
    char *p_namespace;        /* of the result record */
    bwm_slot_spec_t *p_slots; /* fields read from each record */
    size_t p_nslots;
    int p_time_slot;     /* event time field, or -1: the Kafka timestamp */
    int p_time_micros;   /* the field is timestamp-micros: divide by 1000 */
    bwm_expr_t *p_where; /* NULL: every record */
    bwm_plan_key_t *p_keys;
    size_t p_nkeys;
    bwm_window_t p_window;
    bwm_plan_agg_t *p_aggs;
    size_t p_naggs;
    size_t p_state_size;  /* bytes of all aggregate states of one window */
    bwm_expr_t *p_having; /* NULL: every result */
    bwm_plan_col_t *p_cols;
    size_t p_ncols;
    bwm_emit_t p_emit;     /* CHANGES or FINAL for tables */
    char *p_output_schema; /* Avro JSON of the result record */
} bwm_plan_t;

/*
 * Finds the script's one query and the stream it reads (for the caller to
 * load that stream's schema). Errors point at the statement at fault.
 */
int bwm_plan_stream(const bwm_script_t *sc, bwm_stream_info_t *out, bwm_sql_error_t *err);

/*
 * Resolves the script's query against the input's reader schema. Errors
 * point at the offending node with a message that says what is wrong and,
 * for unknown fields, what was probably meant. Caller frees with
 * bwm_plan_destroy().
 */
bwm_plan_t *bwm_plan_new(const bwm_script_t *sc, const bwm_schema_t *input, bwm_sql_error_t *err);
void bwm_plan_destroy(bwm_plan_t *p);

/* Appends a readable description of the plan to b. */
void bwm_plan_describe(const bwm_plan_t *p, bwm_buf_t *b);

#endif
