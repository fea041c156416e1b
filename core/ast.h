/*
 * ast.h: the syntax tree of a job file, as the SQL parser (core/sql.c)
 * builds it and the planner (core/plan.c) reads it. Nothing here is
 * resolved: names are as written, types unknown. Every node carries the
 * position of its first token, so later errors can point at it.
 *
 * A job file holds statements separated by ';':
 *   CREATE STREAM name WITH (key = 'value', ...);
 *   CREATE TABLE name WITH (...) AS SELECT ... FROM stream [WHERE e]
 *       [WINDOW TUMBLING|HOPPING|SESSION (...)] [GROUP BY e, ...] [HAVING e]
 *       EMIT CHANGES|FINAL;
 *   CREATE STREAM name WITH (...) AS SELECT ... FROM stream [WHERE e] [EMIT CHANGES];
 */
#ifndef BWM_AST_H
#define BWM_AST_H

#include <stddef.h>
#include <stdint.h>

/* 1-based line and column, and the byte offset of a token in the text. */
typedef struct bwm_pos {
    int p_line;
    int p_col;
    size_t p_offset;
} bwm_pos_t;

typedef enum bwm_ast_kind {
    BWM_AST_LITERAL, /* a_lit */
    BWM_AST_COLUMN,  /* a_col: a, a.b.c */
    BWM_AST_STAR,    /* '*' as in COUNT(*) or SELECT * */
    BWM_AST_UNARY,   /* a_un: -x, NOT x */
    BWM_AST_BINARY,  /* a_bin: arithmetic, comparison, AND, OR, || */
    BWM_AST_IS_NULL, /* a_isnull: x IS [NOT] NULL */
    BWM_AST_IN,      /* a_in: x [NOT] IN (e, ...) */
    BWM_AST_BETWEEN, /* a_between: x [NOT] BETWEEN lo AND hi */
    BWM_AST_CASE,    /* a_case: CASE [operand] WHEN .. THEN .. [ELSE ..] END */
    BWM_AST_CAST,    /* a_cast: CAST(x AS type) */
    BWM_AST_CALL,    /* a_call: f(args), COUNT(*), COUNT(DISTINCT x) */
} bwm_ast_kind_t;

typedef enum bwm_lit_kind {
    BWM_LIT_NULL,
    BWM_LIT_BOOL,
    BWM_LIT_INT,    /* an integer literal that fits int64 */
    BWM_LIT_DOUBLE, /* a literal with a '.' or an exponent */
    BWM_LIT_STRING, /* 'text', with '' as an escaped quote */
} bwm_lit_kind_t;

typedef enum bwm_op {
    BWM_OP_NEG, /* unary - */
    BWM_OP_NOT, /* unary NOT */
    BWM_OP_ADD,
    BWM_OP_SUB,
    BWM_OP_MUL,
    BWM_OP_DIV,
    BWM_OP_MOD,
    BWM_OP_CONCAT, /* || */
    BWM_OP_EQ,     /* = */
    BWM_OP_NE,     /* <> or != */
    BWM_OP_LT,
    BWM_OP_LE,
    BWM_OP_GT,
    BWM_OP_GE,
    BWM_OP_AND,
    BWM_OP_OR,
} bwm_op_t;

/* Types named in CAST. */
typedef enum bwm_sql_type {
    BWM_SQL_BOOLEAN,
    BWM_SQL_INT,    /* INT, INTEGER */
    BWM_SQL_BIGINT, /* BIGINT */
    BWM_SQL_DOUBLE, /* DOUBLE, FLOAT, REAL */
    BWM_SQL_STRING, /* STRING, VARCHAR */
    BWM_SQL_TIMESTAMP,
} bwm_sql_type_t;

/* An identifier as written; quoted ones (`x` or "x") match only exactly. */
typedef struct bwm_ident {
    char *i_name;
    int i_quoted;
    bwm_pos_t i_pos;
} bwm_ident_t;

typedef struct bwm_ast bwm_ast_t;

struct bwm_ast {
    bwm_ast_kind_t a_kind;
    bwm_pos_t a_pos;
    union {
        struct {
            bwm_lit_kind_t l_kind;
            int l_bool;
            int64_t l_int;
            double l_double;
            char *l_str; /* NUL-terminated, escapes resolved */
            size_t l_len;
        } a_lit;
        struct {
            bwm_ident_t *c_path; /* a.b.c: three parts */
            size_t c_n;
        } a_col;
        struct {
            bwm_op_t u_op;
            bwm_ast_t *u_arg;
        } a_un;
        struct {
            bwm_op_t b_op;
            bwm_ast_t *b_left;
            bwm_ast_t *b_right;
        } a_bin;
        struct {
            bwm_ast_t *n_arg;
            int n_not; /* IS NOT NULL */
        } a_isnull;
        struct {
            bwm_ast_t *in_arg;
            bwm_ast_t **in_list;
            size_t in_n;
            int in_not;
        } a_in;
        struct {
            bwm_ast_t *bt_arg;
            bwm_ast_t *bt_lo;
            bwm_ast_t *bt_hi;
            int bt_not;
        } a_between;
        struct {
            bwm_ast_t *cs_operand; /* NULL for a searched CASE */
            bwm_ast_t **cs_when;   /* cs_n conditions (or values to compare the operand to) */
            bwm_ast_t **cs_then;   /* cs_n results */
            size_t cs_n;
            bwm_ast_t *cs_else; /* NULL: ELSE NULL */
        } a_case;
        struct {
            bwm_ast_t *ct_arg;
            bwm_sql_type_t ct_type;
        } a_cast;
        struct {
            bwm_ident_t f_name;
            bwm_ast_t **f_args; /* a BWM_AST_STAR argument for COUNT(*) */
            size_t f_n;
            int f_distinct; /* COUNT(DISTINCT x) */
        } a_call;
    } u;
};

/* WITH (name = literal, ...) */
typedef struct bwm_prop {
    bwm_ident_t pr_name;
    bwm_ast_t *pr_value; /* a BWM_AST_LITERAL */
} bwm_prop_t;

typedef enum bwm_window_kind {
    BWM_WINDOW_NONE,
    BWM_WINDOW_TUMBLING, /* SIZE, GRACE */
    BWM_WINDOW_HOPPING,  /* SIZE, ADVANCE BY, GRACE */
    BWM_WINDOW_SESSION,  /* GAP, GRACE */
} bwm_window_kind_t;

/*
 * Durations are in milliseconds, -1 when not given. Units: MILLISECOND(S),
 * SECOND(S), MINUTE(S), HOUR(S), DAY(S). GRACE may be written GRACE PERIOD,
 * and SESSION's gap may be given bare: SESSION (30 MINUTES).
 */
typedef struct bwm_ast_window {
    bwm_window_kind_t w_kind;
    int64_t w_size_ms;
    int64_t w_advance_ms;
    int64_t w_gap_ms;
    int64_t w_grace_ms;
    bwm_pos_t w_pos;
} bwm_ast_window_t;

typedef struct bwm_select_item {
    bwm_ast_t *si_expr;   /* a BWM_AST_STAR for SELECT * */
    bwm_ident_t si_alias; /* i_name NULL when there is no AS */
} bwm_select_item_t;

typedef enum bwm_emit {
    BWM_EMIT_DEFAULT, /* no EMIT clause */
    BWM_EMIT_CHANGES,
    BWM_EMIT_FINAL,
} bwm_emit_t;

typedef enum bwm_stmt_kind {
    BWM_STMT_STREAM, /* CREATE STREAM name WITH (...) */
    BWM_STMT_QUERY,  /* CREATE TABLE|STREAM name WITH (...) AS SELECT ... */
} bwm_stmt_kind_t;

typedef struct bwm_stmt {
    bwm_stmt_kind_t s_kind;
    bwm_pos_t s_pos;
    int s_table; /* CREATE TABLE (else CREATE STREAM) */
    bwm_ident_t s_name;
    bwm_prop_t *s_props;
    size_t s_nprops;
    /* Queries only: */
    bwm_select_item_t *s_items;
    size_t s_nitems;
    bwm_ident_t s_from;
    bwm_ast_t *s_where; /* NULL when absent */
    bwm_ast_window_t s_window;
    bwm_ast_t **s_group_by;
    size_t s_ngroup;
    bwm_ast_t *s_having; /* NULL when absent */
    bwm_emit_t s_emit;
    bwm_pos_t s_emit_pos;
} bwm_stmt_t;

typedef struct bwm_script {
    bwm_stmt_t *sc_stmts;
    size_t sc_n;
} bwm_script_t;

/* Where and why a text failed to parse, or to plan. */
typedef struct bwm_sql_error {
    bwm_pos_t se_pos;
    char se_message[256]; /* "expected ')' after the arguments of SUM, found ','" */
} bwm_sql_error_t;

#endif
