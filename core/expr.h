/*
 * expr.h: typed expressions. The planner compiles syntax trees (core/ast.h)
 * into bwm_expr_t with every type resolved, every column bound to a slot,
 * every aggregate call bound to an aggregate and every GROUP BY expression
 * bound to a key column; evaluation then needs no lookups.
 *
 * Semantics: SQL three-valued logic (NULL propagates; AND, OR, IN, CASE and
 * WHERE treat NULL as unknown). BIGINT arithmetic that overflows is an error
 * (the record goes to the dead-letter topic, reason eval); division or modulo
 * by zero gives NULL. BIGINT mixes with DOUBLE as DOUBLE. Strings compare
 * bytewise; LOWER and UPPER change ASCII letters only; LEN and SUBSTRING
 * count UTF-8 code points, SUBSTRING from 1 as in SQL.
 */
#ifndef BWM_EXPR_H
#define BWM_EXPR_H

#include <stddef.h>

#include "arena.h"
#include "ast.h"
#include "err.h"
#include "value.h"

typedef struct bwm_expr bwm_expr_t;

/* What compiling a column, aggregate or key reference resolves to. */
typedef struct bwm_ref {
    int r_index; /* slot, aggregate or key index */
    bwm_type_t r_type;
    int r_nullable;
    const char *r_logical; /* Avro logical type of a column ("timestamp-millis") or NULL */
} bwm_ref_t;

/*
 * Name resolution while compiling. A callback returns 0 and fills ref, 1 when
 * it does not apply (xs_key only), or -1 with err set. A NULL xs_aggregate
 * means aggregates are not allowed where the expression stands.
 */
typedef struct bwm_expr_scope {
    int (*xs_column)(void *opaque, const bwm_ast_t *col, bwm_ref_t *ref, bwm_sql_error_t *err);
    int (*xs_aggregate)(void *opaque, const bwm_ast_t *call, bwm_ref_t *ref, bwm_sql_error_t *err);
    int (*xs_key)(void *opaque, const bwm_ast_t *a, bwm_ref_t *ref);
    void *xs_opaque;
} bwm_expr_scope_t;

/*
 * Compiles a into *out. Errors (unknown function, wrong argument types or
 * counts, ...) point at the offending node. Caller frees with
 * bwm_expr_destroy().
 */
bwm_err_t bwm_expr_compile(const bwm_ast_t *a, const bwm_expr_scope_t *scope, bwm_expr_t **out,
                           bwm_sql_error_t *err);
void bwm_expr_destroy(bwm_expr_t *x);

/* The result type; BWM_T_NULL only for the literal NULL. */
bwm_type_t bwm_expr_type(const bwm_expr_t *x);
/* Whether the result may be NULL. */
int bwm_expr_nullable(const bwm_expr_t *x);
/* The slot x reads when it is a bare column, else -1. */
int bwm_expr_slot(const bwm_expr_t *x);
/* The Avro logical type the result carries (a timestamp column, CAST AS TIMESTAMP), or NULL. */
const char *bwm_expr_logical(const bwm_expr_t *x);

/* What evaluation reads. Strings made during evaluation live in ev_arena. */
typedef struct bwm_eval {
    const bwm_value_t *ev_slots;
    const bwm_value_t *ev_aggs;
    const bwm_value_t *ev_keys;
    bwm_arena_t *ev_arena;
    char *ev_error; /* set on failure */
    size_t ev_error_size;
} bwm_eval_t;

/*
 * Evaluates x. BWM_ERR_OVERFLOW for BIGINT overflow, BWM_ERR_LIMIT when the
 * arena refuses a string; ev_error then says where.
 */
bwm_err_t bwm_expr_eval(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *out);

/*
 * The value of x, as bwm_expr_eval() gives it, without a copy or a call when
 * x is a column, constant, aggregate or key: *out then points at that value
 * (valid while ev is). Otherwise x is evaluated into *tmp, and *out is tmp.
 */
bwm_err_t bwm_expr_value(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *tmp,
                         const bwm_value_t **out);

/* Evaluates a condition: 1 only when it is TRUE (NULL and FALSE give 0), -1 on error. */
int bwm_expr_test(const bwm_expr_t *x, bwm_eval_t *ev);

/* Maps a CAST type to the engine's type. */
bwm_type_t bwm_sql_type_value(bwm_sql_type_t t);

#endif
