/*
 * sql.h: the parser of the job language (a ksqlDB-flavoured SQL subset), the
 * renderer of expressions back to SQL text, and the formatting of syntax
 * errors with the offending line and a caret. The parser checks syntax only:
 * it knows no functions, columns or types; the planner (core/plan.c) checks
 * meaning. The tree it builds is described in core/ast.h.
 *
 * Keywords are case-insensitive. These words are reserved and must be quoted
 * (`from` or "from") to serve as names: AND AS BETWEEN CASE CAST CREATE
 * DISTINCT ELSE EMIT END FALSE FROM GROUP HAVING IN IS NOT NULL OR SELECT
 * THEN TRUE WHEN WHERE WINDOW WITH. Other words (SIZE, HOUR, TUMBLING,
 * TIMESTAMP, ...) have a meaning only where the grammar expects them.
 */
#ifndef BWM_SQL_H
#define BWM_SQL_H

#include <stddef.h>

#include "ast.h"
#include "buf.h"

/*
 * Limits, so that hostile text can exhaust neither the stack nor memory.
 * Each one is reported as a syntax error at the token that crossed it.
 */
#define BWM_SQL_MAX_TEXT        (1024 * 1024) /* bytes of job text */
#define BWM_SQL_MAX_DEPTH       200   /* nesting of an expression (parentheses, operators) */
#define BWM_SQL_MAX_NAME        65536 /* bytes of an identifier, after unquoting */
#define BWM_SQL_MAX_STRING      65536 /* bytes of a string literal, after unescaping */
#define BWM_SQL_MAX_LIST        10000 /* statements, select items, arguments, IN values, ... */
#define BWM_SQL_MAX_DURATION_MS (365000LL * 86400000LL) /* 365000 days, about 1000 years */

/*
 * Parses a job script of len bytes (it need not be NUL-terminated). Returns
 * the script, which the caller frees with bwm_script_destroy(); it may hold
 * no statement (empty text, or only comments). Returns NULL on a syntax error,
 * out of memory or a limit crossed, and fills *err (when err is not NULL)
 * with the position of the offending token (for a missing token at the end,
 * just after the last token; for an unterminated string or comment, its
 * start) and a message saying what was expected and what was found.
 */
bwm_script_t *bwm_sql_parse(const char *text, size_t len, bwm_sql_error_t *err);

/*
 * Parses text holding one expression and nothing else, as in a WHERE clause.
 * The caller frees the result with bwm_ast_destroy(). NULL and *err as for
 * bwm_sql_parse().
 */
bwm_ast_t *bwm_sql_parse_expr(const char *text, size_t len, bwm_sql_error_t *err);

/* Frees a script and everything in it. NULL does nothing. */
void bwm_script_destroy(bwm_script_t *sc);

/* Frees an expression tree and everything in it. NULL does nothing. */
void bwm_ast_destroy(bwm_ast_t *a);

/*
 * Sets err to pos and the formatted message (cut to fit), for the checks
 * that follow parsing (planner, expressions). Returns -1, so that checks
 * can `return bwm_sql_fail(...)`.
 */
int bwm_sql_fail(bwm_sql_error_t *err, bwm_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Appends to out a message for a user, in the form compilers use:
 *   job.sql:3:29: error: expected ',' or ')' in the arguments of SUM, found 'speed'
 *     SELECT vin, SUM(distance_km speed)
 *                                 ^
 * text and len are the parsed text: the line the error points at is shown as
 * written (tabs kept, and copied into the caret line so the caret lines up;
 * a UTF-8 character takes one column; other control bytes are shown as '?';
 * a long line is cut to a window around the column). With a NULL filename
 * the first line starts at the line number; with a NULL text only the first
 * line is written. out holds a NUL after its b_len bytes (b_failed is set when
 * memory ran out).
 */
void bwm_sql_error_format(const bwm_sql_error_t *err, const char *text, size_t len,
                          const char *filename, bwm_buf_t *out);

/*
 * Appends to out the expression as canonical SQL text: keywords in upper
 * case, one space around binary operators, names as written (quoted ones in
 * backticks), literals in a form that parses back to the same value, and only
 * the parentheses the precedence needs (and those of -(2), which differs from
 * the literal -2). Parsing the text back yields the same tree. For messages
 * and default column names. out holds a NUL after its b_len bytes (b_failed
 * is set when memory ran out).
 */
void bwm_ast_to_sql(const bwm_ast_t *a, bwm_buf_t *out);

#endif
