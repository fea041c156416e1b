/*
 * sql_text.c: SQL text out of the parser's results: expressions rendered
 * back as canonical SQL, and syntax errors formatted with the offending line
 * and a caret under the column.
 */
#include "sql.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Precedence levels, lowest first, as the parser climbs them. */
enum {
    PREC_OR = 1,
    PREC_AND,
    PREC_NOT,
    PREC_CMP, /* comparisons, IS NULL, IN, BETWEEN: they do not chain */
    PREC_CONCAT,
    PREC_ADD,
    PREC_MUL,
    PREC_NEG,
    PREC_PRIMARY,
};

static void put(bwm_buf_t *out, const char *s)
{
    bwm_buf_put_str(out, s);
}

static void terminate(bwm_buf_t *out)
{
    if (bwm_buf_reserve(out, 1) == BWM_OK) {
        out->b_data[out->b_len] = '\0';
    }
}

static int op_prec(bwm_op_t op)
{
    switch (op) {
        case BWM_OP_OR:
            return PREC_OR;
        case BWM_OP_AND:
            return PREC_AND;
        case BWM_OP_NOT:
            return PREC_NOT;
        case BWM_OP_EQ:
        case BWM_OP_NE:
        case BWM_OP_LT:
        case BWM_OP_LE:
        case BWM_OP_GT:
        case BWM_OP_GE:
            return PREC_CMP;
        case BWM_OP_CONCAT:
            return PREC_CONCAT;
        case BWM_OP_ADD:
        case BWM_OP_SUB:
            return PREC_ADD;
        case BWM_OP_MUL:
        case BWM_OP_DIV:
        case BWM_OP_MOD:
            return PREC_MUL;
        case BWM_OP_NEG:
            return PREC_NEG;
    }
    return PREC_PRIMARY;
}

static const char *op_text(bwm_op_t op)
{
    switch (op) {
        case BWM_OP_NEG:
        case BWM_OP_SUB:
            return "-";
        case BWM_OP_NOT:
            return "NOT";
        case BWM_OP_ADD:
            return "+";
        case BWM_OP_MUL:
            return "*";
        case BWM_OP_DIV:
            return "/";
        case BWM_OP_MOD:
            return "%";
        case BWM_OP_CONCAT:
            return "||";
        case BWM_OP_EQ:
            return "=";
        case BWM_OP_NE:
            return "<>";
        case BWM_OP_LT:
            return "<";
        case BWM_OP_LE:
            return "<=";
        case BWM_OP_GT:
            return ">";
        case BWM_OP_GE:
            return ">=";
        case BWM_OP_AND:
            return "AND";
        case BWM_OP_OR:
            return "OR";
    }
    return "?";
}

static int prec(const bwm_ast_t *a)
{
    switch (a->a_kind) {
        case BWM_AST_UNARY:
            return op_prec(a->u.a_un.u_op);
        case BWM_AST_BINARY:
            return op_prec(a->u.a_bin.b_op);
        case BWM_AST_IS_NULL:
        case BWM_AST_IN:
        case BWM_AST_BETWEEN:
            return PREC_CMP;
        default:
            return PREC_PRIMARY;
    }
}

static void render(const bwm_ast_t *a, bwm_buf_t *out);

/* Renders a, in parentheses when its precedence is below min. */
static void render_at(const bwm_ast_t *a, int min, bwm_buf_t *out)
{
    if (a && prec(a) < min) {
        put(out, "(");
        render(a, out);
        put(out, ")");
    } else {
        render(a, out);
    }
}

static void render_ident(const bwm_ident_t *id, bwm_buf_t *out)
{
    const char *s = id->i_name ? id->i_name : "";

    if (!id->i_quoted) {
        put(out, s);
        return;
    }
    put(out, "`");
    for (; *s; s++) {
        bwm_buf_put(out, s, 1);
        if (*s == '`') {
            bwm_buf_put(out, s, 1);
        }
    }
    put(out, "`");
}

/* The shortest decimal text that reads back as the same double, always with '.' or 'e'. */
static void render_double(double d, bwm_buf_t *out)
{
    char s[40];
    int digits;

    for (digits = 15; digits <= 17; digits++) {
        snprintf(s, sizeof(s), "%.*g", digits, d);
        if (strtod(s, NULL) == d) {
            break;
        }
    }
    put(out, s);
    if (isfinite(d) && !strpbrk(s, ".e")) {
        put(out, ".0");
    }
}

static void render_literal(const bwm_ast_t *a, bwm_buf_t *out)
{
    char s[32];
    size_t i;

    switch (a->u.a_lit.l_kind) {
        case BWM_LIT_NULL:
            put(out, "NULL");
            break;
        case BWM_LIT_BOOL:
            put(out, a->u.a_lit.l_bool ? "TRUE" : "FALSE");
            break;
        case BWM_LIT_INT:
            snprintf(s, sizeof(s), "%" PRId64, a->u.a_lit.l_int);
            put(out, s);
            break;
        case BWM_LIT_DOUBLE:
            render_double(a->u.a_lit.l_double, out);
            break;
        case BWM_LIT_STRING:
            put(out, "'");
            for (i = 0; i < a->u.a_lit.l_len; i++) {
                bwm_buf_put(out, &a->u.a_lit.l_str[i], 1);
                if (a->u.a_lit.l_str[i] == '\'') {
                    put(out, "'");
                }
            }
            put(out, "'");
            break;
    }
}

/* Does the rendering of a start with '-'? Then a '-' before it needs a space, or it reads "--". */
static int starts_with_minus(const bwm_ast_t *a)
{
    if (a->a_kind == BWM_AST_UNARY) {
        return a->u.a_un.u_op == BWM_OP_NEG;
    }
    if (a->a_kind == BWM_AST_LITERAL) {
        return (a->u.a_lit.l_kind == BWM_LIT_INT && a->u.a_lit.l_int < 0) ||
               (a->u.a_lit.l_kind == BWM_LIT_DOUBLE && signbit(a->u.a_lit.l_double));
    }
    return 0;
}

static void render_unary(const bwm_ast_t *a, bwm_buf_t *out)
{
    const bwm_ast_t *arg = a->u.a_un.u_arg;

    if (a->u.a_un.u_op == BWM_OP_NOT) {
        put(out, "NOT ");
        render_at(arg, PREC_NOT, out);
        return;
    }
    put(out, "-");
    if (!arg) {
        return;
    }
    if (arg->a_kind == BWM_AST_LITERAL &&
        (arg->u.a_lit.l_kind == BWM_LIT_INT || arg->u.a_lit.l_kind == BWM_LIT_DOUBLE) &&
        !starts_with_minus(arg)) {
        /* "-2" would read back as the literal -2, not as - applied to 2. */
        put(out, "(");
        render(arg, out);
        put(out, ")");
        return;
    }
    if (starts_with_minus(arg)) {
        put(out, " ");
    }
    render_at(arg, PREC_NEG, out);
}

static void render_list(bwm_ast_t *const *list, size_t n, bwm_buf_t *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i > 0) {
            put(out, ", ");
        }
        render(list[i], out);
    }
}

static const char *type_name(bwm_sql_type_t t)
{
    switch (t) {
        case BWM_SQL_BOOLEAN:
            return "BOOLEAN";
        case BWM_SQL_INT:
            return "INT";
        case BWM_SQL_BIGINT:
            return "BIGINT";
        case BWM_SQL_DOUBLE:
            return "DOUBLE";
        case BWM_SQL_STRING:
            return "STRING";
        case BWM_SQL_TIMESTAMP:
            return "TIMESTAMP";
    }
    return "?";
}

static void render(const bwm_ast_t *a, bwm_buf_t *out)
{
    size_t i;

    if (!a) {
        return;
    }
    switch (a->a_kind) {
        case BWM_AST_LITERAL:
            render_literal(a, out);
            break;
        case BWM_AST_COLUMN:
            for (i = 0; i < a->u.a_col.c_n; i++) {
                if (i > 0) {
                    put(out, ".");
                }
                render_ident(&a->u.a_col.c_path[i], out);
            }
            break;
        case BWM_AST_STAR:
            put(out, "*");
            break;
        case BWM_AST_UNARY:
            render_unary(a, out);
            break;
        case BWM_AST_BINARY: {
            int p = op_prec(a->u.a_bin.b_op);

            /* Left-associative: a right operand of the same level keeps its parentheses. */
            render_at(a->u.a_bin.b_left, p == PREC_CMP ? p + 1 : p, out);
            put(out, " ");
            put(out, op_text(a->u.a_bin.b_op));
            put(out, " ");
            render_at(a->u.a_bin.b_right, p + 1, out);
            break;
        }
        case BWM_AST_IS_NULL:
            render_at(a->u.a_isnull.n_arg, PREC_CMP + 1, out);
            put(out, a->u.a_isnull.n_not ? " IS NOT NULL" : " IS NULL");
            break;
        case BWM_AST_IN:
            render_at(a->u.a_in.in_arg, PREC_CMP + 1, out);
            put(out, a->u.a_in.in_not ? " NOT IN (" : " IN (");
            render_list(a->u.a_in.in_list, a->u.a_in.in_n, out);
            put(out, ")");
            break;
        case BWM_AST_BETWEEN:
            render_at(a->u.a_between.bt_arg, PREC_CMP + 1, out);
            put(out, a->u.a_between.bt_not ? " NOT BETWEEN " : " BETWEEN ");
            render_at(a->u.a_between.bt_lo, PREC_CMP + 1, out);
            put(out, " AND ");
            render_at(a->u.a_between.bt_hi, PREC_CMP + 1, out);
            break;
        case BWM_AST_CASE:
            put(out, "CASE");
            if (a->u.a_case.cs_operand) {
                put(out, " ");
                render(a->u.a_case.cs_operand, out);
            }
            for (i = 0; i < a->u.a_case.cs_n; i++) {
                put(out, " WHEN ");
                render(a->u.a_case.cs_when[i], out);
                put(out, " THEN ");
                render(a->u.a_case.cs_then[i], out);
            }
            if (a->u.a_case.cs_else) {
                put(out, " ELSE ");
                render(a->u.a_case.cs_else, out);
            }
            put(out, " END");
            break;
        case BWM_AST_CAST:
            put(out, "CAST(");
            render(a->u.a_cast.ct_arg, out);
            put(out, " AS ");
            put(out, type_name(a->u.a_cast.ct_type));
            put(out, ")");
            break;
        case BWM_AST_CALL:
            render_ident(&a->u.a_call.f_name, out);
            put(out, a->u.a_call.f_distinct ? "(DISTINCT " : "(");
            render_list(a->u.a_call.f_args, a->u.a_call.f_n, out);
            put(out, ")");
            break;
    }
}

void bwm_ast_to_sql(const bwm_ast_t *a, bwm_buf_t *out)
{
    render(a, out);
    terminate(out);
}

/* ------------------------------------------------------------------ errors */

int bwm_sql_fail(bwm_sql_error_t *err, bwm_pos_t pos, const char *fmt, ...)
{
    va_list ap;

    err->se_pos = pos;
    va_start(ap, fmt);
    vsnprintf(err->se_message, sizeof(err->se_message), fmt, ap);
    va_end(ap);
    return -1;
}

#define LINE_WINDOW 120 /* a longer line is shown cut to this many bytes around the column */

static int is_cont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

void bwm_sql_error_format(const bwm_sql_error_t *err, const char *text, size_t len,
                          const char *filename, bwm_buf_t *out)
{
    char head[64];
    size_t off, start, end, from, to, i;

    if (filename) {
        put(out, filename);
        put(out, ":");
    }
    snprintf(head, sizeof(head), "%d:%d: error: ", err->se_pos.p_line, err->se_pos.p_col);
    put(out, head);
    put(out, err->se_message);
    put(out, "\n");
    if (!text || err->se_pos.p_offset > len) {
        terminate(out);
        return;
    }
    off = err->se_pos.p_offset;
    start = off;
    while (start > 0 && text[start - 1] != '\n') {
        start--;
    }
    end = off;
    while (end < len && text[end] != '\n') {
        end++;
    }
    if (end > start && text[end - 1] == '\r' && end - 1 >= off) {
        end--;
    }
    /* A long line is shown as a window around the column, marked with "...". */
    from = start;
    to = end;
    if (to - from > LINE_WINDOW) {
        if (off - from > LINE_WINDOW / 2) {
            from = off - LINE_WINDOW / 2;
        }
        if (to - from > LINE_WINDOW) {
            to = from + LINE_WINDOW;
        }
        while (from > start && from < len && is_cont((unsigned char)text[from])) {
            from++;
        }
        while (to < end && is_cont((unsigned char)text[to])) {
            to++;
        }
    }
    put(out, from > start ? "  ..." : "  ");
    for (i = from; i < to; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
            bwm_buf_put(out, &text[i], 1);
        } else {
            put(out, "?");
        }
    }
    put(out, to < end ? "...\n" : "\n");
    put(out, from > start ? "     " : "  ");
    for (i = from; i < off && i < to; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\t') {
            put(out, "\t");
        } else if (!is_cont(c)) {
            put(out, " ");
        }
    }
    put(out, "^\n");
    terminate(out);
}
