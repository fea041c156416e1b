/*
 * expr.c: compiling syntax trees into typed expressions, and evaluating them.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agg.h"
#include "sql.h"

typedef enum xop {
    X_CONST,
    X_SLOT,
    X_AGG,
    X_KEY,
    X_NEG,
    X_NOT,
    X_ARITH,
    X_CONCAT,
    X_CMP,
    X_AND,
    X_OR,
    X_ISNULL,
    X_IN,      /* args: x, v1, v2, ...; x_sub: NOT IN */
    X_BETWEEN, /* args: x, lo, hi; x_sub: NOT BETWEEN */
    X_CASE,    /* args: [operand,] when0, then0, when1, then1, ..., [else] */
    X_CAST,
    X_FUNC,
} xop_t;

typedef enum xfn {
    FN_ABS,
    FN_ROUND,
    FN_FLOOR,
    FN_CEIL,
    FN_COALESCE,
    FN_LOWER,
    FN_UPPER,
    FN_SUBSTRING,
    FN_LEN,
} xfn_t;

/* One comparison of a column with a constant, in a condition flattened for bwm_expr_test(). */
typedef struct term {
    int t_slot;
    int t_op; /* bwm_op_t, the column on the left */
    const bwm_value_t *t_const;
} term_t;

struct bwm_expr {
    xop_t x_op;
    int x_sub;            /* bwm_op_t of ARITH and CMP, xfn_t of FUNC, IS NOT NULL, NOT IN */
    bwm_type_t x_type;    /* result */
    bwm_type_t x_operand; /* type the operands are compared or computed in */
    int x_nullable;
    const char *x_logical;
    int x_index;
    bwm_value_t x_const;
    char *x_const_str; /* owned copy of a string constant */
    int x_has_else;    /* CASE */
    int x_has_operand; /* CASE x WHEN ... */
    bwm_expr_t **x_args;
    size_t x_nargs;
    term_t *x_terms; /* the root of an AND of column-constant comparisons, flattened */
    size_t x_nterms;
};

static const struct {
    const char *name;
    xfn_t fn;
    int min_args;
    int max_args; /* -1: any number */
} functions[] = {
    {"ABS", FN_ABS, 1, 1},          {"ROUND", FN_ROUND, 1, 2},  {"FLOOR", FN_FLOOR, 1, 1},
    {"CEIL", FN_CEIL, 1, 1},        {"CEILING", FN_CEIL, 1, 1}, {"COALESCE", FN_COALESCE, 1, -1},
    {"LOWER", FN_LOWER, 1, 1},      {"UPPER", FN_UPPER, 1, 1},  {"SUBSTRING", FN_SUBSTRING, 2, 3},
    {"SUBSTR", FN_SUBSTRING, 2, 3}, {"LEN", FN_LEN, 1, 1},      {"LENGTH", FN_LEN, 1, 1},
};

static const char *function_names =
    "ABS, ROUND, FLOOR, CEIL, COALESCE, LOWER, UPPER, SUBSTRING, LEN";

/* ---- compiling ---- */

void bwm_expr_destroy(bwm_expr_t *x)
{
    size_t i;

    if (!x) {
        return;
    }
    for (i = 0; i < x->x_nargs; i++) {
        bwm_expr_destroy(x->x_args[i]);
    }
    free(x->x_args);
    free(x->x_const_str);
    free(x->x_terms);
    free(x);
}

static bwm_expr_t *node(xop_t op, bwm_type_t type, size_t nargs)
{
    bwm_expr_t *x = calloc(1, sizeof(*x));

    if (!x) {
        return NULL;
    }
    x->x_op = op;
    x->x_type = type;
    x->x_index = -1;
    if (nargs) {
        x->x_args = calloc(nargs, sizeof(*x->x_args));
        if (!x->x_args) {
            free(x);
            return NULL;
        }
        x->x_nargs = nargs;
    }
    return x;
}

bwm_type_t bwm_sql_type_value(bwm_sql_type_t t)
{
    switch (t) {
        case BWM_SQL_BOOLEAN:
            return BWM_T_BOOL;
        case BWM_SQL_INT:
        case BWM_SQL_BIGINT:
        case BWM_SQL_TIMESTAMP:
            return BWM_T_LONG;
        case BWM_SQL_DOUBLE:
            return BWM_T_DOUBLE;
        case BWM_SQL_STRING:
            return BWM_T_STRING;
    }
    return BWM_T_NULL;
}

/* The type two operands meet in: NULL meets anything; BIGINT and DOUBLE meet as DOUBLE. */
static int common_type(bwm_type_t a, bwm_type_t b, bwm_type_t *out)
{
    if (a == BWM_T_NULL || a == b) {
        *out = b;
        return 0;
    }
    if (b == BWM_T_NULL) {
        *out = a;
        return 0;
    }
    if (bwm_type_is_numeric(a) && bwm_type_is_numeric(b)) {
        *out = BWM_T_DOUBLE;
        return 0;
    }
    return -1;
}

static int compile(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                   bwm_sql_error_t *err);

/* Compiles the n children into x->x_args; x->x_nullable is their union. */
static int compile_args(bwm_ast_t *const *args, size_t n, const bwm_expr_scope_t *sc, bwm_expr_t *x,
                        bwm_sql_error_t *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (compile(args[i], sc, &x->x_args[i], err)) {
            return -1;
        }
        x->x_nullable |= x->x_args[i]->x_nullable;
    }
    return 0;
}

static int want_type(const bwm_expr_t *x, const bwm_ast_t *a, int numeric, bwm_type_t t,
                     const char *what, bwm_sql_error_t *err)
{
    bwm_type_t have = x->x_type;

    if (have == BWM_T_NULL || (numeric ? bwm_type_is_numeric(have) : have == t)) {
        return 0;
    }
    return bwm_sql_fail(err, a->a_pos, "%s needs %s, got %s", what,
                        numeric ? "a number" : bwm_type_name(t), bwm_type_name(have));
}

static int compile_literal(const bwm_ast_t *a, bwm_expr_t **out, bwm_sql_error_t *err)
{
    bwm_expr_t *x = node(X_CONST, BWM_T_NULL, 0);

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    switch (a->u.a_lit.l_kind) {
        case BWM_LIT_NULL:
            x->x_nullable = 1;
            break;
        case BWM_LIT_BOOL:
            x->x_type = BWM_T_BOOL;
            x->x_const.u.v_bool = a->u.a_lit.l_bool;
            break;
        case BWM_LIT_INT:
            x->x_type = BWM_T_LONG;
            x->x_const.u.v_long = a->u.a_lit.l_int;
            break;
        case BWM_LIT_DOUBLE:
            x->x_type = BWM_T_DOUBLE;
            x->x_const.u.v_double = a->u.a_lit.l_double;
            break;
        case BWM_LIT_STRING:
            x->x_type = BWM_T_STRING;
            x->x_const_str = malloc(a->u.a_lit.l_len + 1);
            if (!x->x_const_str) {
                bwm_expr_destroy(x);
                return bwm_sql_fail(err, a->a_pos, "out of memory");
            }
            memcpy(x->x_const_str, a->u.a_lit.l_str, a->u.a_lit.l_len);
            x->x_const_str[a->u.a_lit.l_len] = '\0';
            x->x_const.u.v_str.p = x->x_const_str;
            x->x_const.u.v_str.n = a->u.a_lit.l_len;
            break;
    }
    x->x_const.v_type = x->x_type;
    *out = x;
    return 0;
}

static int compile_ref(const bwm_ast_t *a, xop_t op, const bwm_ref_t *ref, bwm_expr_t **out,
                       bwm_sql_error_t *err)
{
    bwm_expr_t *x = node(op, ref->r_type, 0);

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    x->x_index = ref->r_index;
    x->x_nullable = ref->r_nullable;
    x->x_logical = ref->r_logical;
    *out = x;
    return 0;
}

static int compile_binary(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                          bwm_sql_error_t *err)
{
    bwm_op_t op = a->u.a_bin.b_op;
    bwm_ast_t *kids[2] = {a->u.a_bin.b_left, a->u.a_bin.b_right};
    bwm_expr_t *x = node(X_ARITH, BWM_T_NULL, 2);
    bwm_type_t lt, rt, ct = BWM_T_NULL;

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    *out = x;
    x->x_sub = (int)op;
    if (compile_args(kids, 2, sc, x, err)) {
        return -1;
    }
    lt = x->x_args[0]->x_type;
    rt = x->x_args[1]->x_type;
    switch (op) {
        case BWM_OP_AND:
        case BWM_OP_OR:
            x->x_op = op == BWM_OP_AND ? X_AND : X_OR;
            x->x_type = BWM_T_BOOL;
            if (want_type(x->x_args[0], kids[0], 0, BWM_T_BOOL, op == BWM_OP_AND ? "AND" : "OR",
                          err) ||
                want_type(x->x_args[1], kids[1], 0, BWM_T_BOOL, op == BWM_OP_AND ? "AND" : "OR",
                          err)) {
                return -1;
            }
            return 0;
        case BWM_OP_CONCAT:
            x->x_op = X_CONCAT;
            x->x_type = BWM_T_STRING;
            if (want_type(x->x_args[0], kids[0], 0, BWM_T_STRING, "||", err) ||
                want_type(x->x_args[1], kids[1], 0, BWM_T_STRING, "||", err)) {
                return -1;
            }
            return 0;
        case BWM_OP_EQ:
        case BWM_OP_NE:
        case BWM_OP_LT:
        case BWM_OP_LE:
        case BWM_OP_GT:
        case BWM_OP_GE:
            x->x_op = X_CMP;
            x->x_type = BWM_T_BOOL;
            if (common_type(lt, rt, &ct)) {
                return bwm_sql_fail(err, a->a_pos, "cannot compare %s with %s", bwm_type_name(lt),
                                    bwm_type_name(rt));
            }
            x->x_operand = ct;
            return 0;
        default:
            break;
    }
    /* + - * / % */
    if (want_type(x->x_args[0], kids[0], 1, BWM_T_NULL, "arithmetic", err) ||
        want_type(x->x_args[1], kids[1], 1, BWM_T_NULL, "arithmetic", err)) {
        return -1;
    }
    common_type(lt, rt, &ct);
    x->x_type = ct == BWM_T_NULL ? BWM_T_LONG : ct;
    x->x_operand = x->x_type;
    if (op == BWM_OP_DIV || op == BWM_OP_MOD) {
        x->x_nullable = 1; /* by zero */
    }
    return 0;
}

static int compile_cast(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                        bwm_sql_error_t *err)
{
    bwm_expr_t *x = node(X_CAST, bwm_sql_type_value(a->u.a_cast.ct_type), 1);

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    *out = x;
    if (compile_args(&a->u.a_cast.ct_arg, 1, sc, x, err)) {
        return -1;
    }
    x->x_operand = x->x_args[0]->x_type;
    x->x_nullable = 1; /* a string that does not parse casts to NULL */
    x->x_sub = (int)a->u.a_cast.ct_type;
    if (a->u.a_cast.ct_type == BWM_SQL_TIMESTAMP) {
        x->x_logical = "timestamp-millis";
        if (x->x_operand != BWM_T_LONG && x->x_operand != BWM_T_NULL) {
            return bwm_sql_fail(err, a->a_pos,
                                "CAST AS TIMESTAMP needs milliseconds (BIGINT), got %s",
                                bwm_type_name(x->x_operand));
        }
    }
    return 0;
}

/* "takes 1 argument", "takes 1 or 2 arguments", "takes at least 1 argument" */
static void arity_text(int min, int max, char *out, size_t size)
{
    if (max < 0) {
        snprintf(out, size, "at least %d argument%s", min, min == 1 ? "" : "s");
    } else if (min == max) {
        snprintf(out, size, "%d argument%s", min, min == 1 ? "" : "s");
    } else {
        snprintf(out, size, "%d or %d arguments", min, max);
    }
}

static int compile_call(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                        bwm_sql_error_t *err)
{
    const char *name = a->u.a_call.f_name.i_name;
    size_t i, n = a->u.a_call.f_n, f, nf = sizeof(functions) / sizeof(functions[0]);
    bwm_expr_t *x;
    bwm_ref_t ref;
    char arity[64];

    if (bwm_agg_find(name)) {
        if (!sc->xs_aggregate) {
            return bwm_sql_fail(err, a->a_pos, "aggregate %s is not allowed here", name);
        }
        if (sc->xs_aggregate(sc->xs_opaque, a, &ref, err)) {
            return -1;
        }
        return compile_ref(a, X_AGG, &ref, out, err);
    }
    for (f = 0; f < nf && strcasecmp(functions[f].name, name) != 0; f++) {
    }
    if (f == nf) {
        return bwm_sql_fail(err, a->a_pos, "unknown function %s (functions: %s; aggregates: %s)",
                            name, function_names, bwm_agg_names());
    }
    if ((int)n < functions[f].min_args ||
        (functions[f].max_args >= 0 && (int)n > functions[f].max_args)) {
        arity_text(functions[f].min_args, functions[f].max_args, arity, sizeof(arity));
        return bwm_sql_fail(err, a->a_pos, "%s takes %s, got %zu", functions[f].name, arity, n);
    }
    if (a->u.a_call.f_distinct) {
        return bwm_sql_fail(err, a->a_pos, "DISTINCT is only allowed in COUNT(DISTINCT x)");
    }
    x = node(X_FUNC, BWM_T_NULL, n);
    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    *out = x;
    x->x_sub = (int)functions[f].fn;
    if (compile_args(a->u.a_call.f_args, n, sc, x, err)) {
        return -1;
    }
    switch (functions[f].fn) {
        case FN_ABS:
        case FN_FLOOR:
        case FN_CEIL:
        case FN_ROUND:
            if (want_type(x->x_args[0], a->u.a_call.f_args[0], 1, BWM_T_NULL, functions[f].name,
                          err)) {
                return -1;
            }
            if (n == 2 && want_type(x->x_args[1], a->u.a_call.f_args[1], 0, BWM_T_LONG,
                                    "ROUND's number of digits", err)) {
                return -1;
            }
            x->x_type = x->x_args[0]->x_type == BWM_T_NULL ? BWM_T_LONG : x->x_args[0]->x_type;
            return 0;
        case FN_COALESCE:
            x->x_type = BWM_T_NULL;
            x->x_nullable = 1;
            for (i = 0; i < n; i++) {
                bwm_type_t ct;

                if (common_type(x->x_type, x->x_args[i]->x_type, &ct)) {
                    return bwm_sql_fail(err, a->u.a_call.f_args[i]->a_pos,
                                        "COALESCE arguments must have one type: %s and %s",
                                        bwm_type_name(x->x_type),
                                        bwm_type_name(x->x_args[i]->x_type));
                }
                x->x_type = ct;
                if (!x->x_args[i]->x_nullable) {
                    x->x_nullable = 0;
                }
            }
            return 0;
        case FN_LOWER:
        case FN_UPPER:
        case FN_LEN:
            if (want_type(x->x_args[0], a->u.a_call.f_args[0], 0, BWM_T_STRING, functions[f].name,
                          err)) {
                return -1;
            }
            x->x_type = functions[f].fn == FN_LEN ? BWM_T_LONG : BWM_T_STRING;
            return 0;
        case FN_SUBSTRING:
            if (want_type(x->x_args[0], a->u.a_call.f_args[0], 0, BWM_T_STRING, "SUBSTRING", err)) {
                return -1;
            }
            for (i = 1; i < n; i++) {
                if (want_type(x->x_args[i], a->u.a_call.f_args[i], 0, BWM_T_LONG,
                              "SUBSTRING's position and length", err)) {
                    return -1;
                }
            }
            x->x_type = BWM_T_STRING;
            x->x_nullable = 1; /* a negative length gives NULL */
            return 0;
    }
    return 0;
}

/* Compiles x IN (list) and x BETWEEN lo AND hi: every operand must compare with x. */
static int compile_membership(const bwm_ast_t *a, xop_t op, bwm_ast_t *arg, bwm_ast_t *const *list,
                              size_t n, int negated, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                              bwm_sql_error_t *err)
{
    bwm_expr_t *x = node(op, BWM_T_BOOL, n + 1);
    size_t i;

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    *out = x;
    x->x_sub = negated;
    if (compile_args(&arg, 1, sc, x, err)) {
        return -1;
    }
    x->x_operand = x->x_args[0]->x_type;
    for (i = 0; i < n; i++) {
        bwm_type_t ct;

        if (compile(list[i], sc, &x->x_args[i + 1], err)) {
            return -1;
        }
        x->x_nullable |= x->x_args[i + 1]->x_nullable;
        if (common_type(x->x_operand, x->x_args[i + 1]->x_type, &ct)) {
            return bwm_sql_fail(err, list[i]->a_pos, "cannot compare %s with %s",
                                bwm_type_name(x->x_args[0]->x_type),
                                bwm_type_name(x->x_args[i + 1]->x_type));
        }
        x->x_operand = ct;
    }
    return 0;
}

static int compile_case(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                        bwm_sql_error_t *err)
{
    size_t i, n = a->u.a_case.cs_n, k = 0;
    int has_op = a->u.a_case.cs_operand != NULL, has_else = a->u.a_case.cs_else != NULL;
    bwm_expr_t *x = node(X_CASE, BWM_T_NULL, (size_t)has_op + 2 * n + (size_t)has_else);
    bwm_type_t ct, operand = BWM_T_NULL;

    if (!x) {
        return bwm_sql_fail(err, a->a_pos, "out of memory");
    }
    *out = x;
    x->x_has_operand = has_op;
    x->x_has_else = has_else;
    x->x_nullable = !has_else;
    if (has_op) {
        if (compile(a->u.a_case.cs_operand, sc, &x->x_args[k++], err)) {
            return -1;
        }
        operand = x->x_args[0]->x_type;
    }
    for (i = 0; i < n; i++) {
        bwm_expr_t *w, *t;

        if (compile(a->u.a_case.cs_when[i], sc, &x->x_args[k++], err)) {
            return -1;
        }
        w = x->x_args[k - 1];
        if (has_op && common_type(operand, w->x_type, &operand)) {
            return bwm_sql_fail(err, a->u.a_case.cs_when[i]->a_pos, "cannot compare %s with %s",
                                bwm_type_name(x->x_args[0]->x_type), bwm_type_name(w->x_type));
        }
        if (!has_op && w->x_type != BWM_T_BOOL && w->x_type != BWM_T_NULL) {
            return bwm_sql_fail(err, a->u.a_case.cs_when[i]->a_pos,
                                "WHEN needs a BOOLEAN condition, got %s", bwm_type_name(w->x_type));
        }
        if (compile(a->u.a_case.cs_then[i], sc, &x->x_args[k++], err)) {
            return -1;
        }
        t = x->x_args[k - 1];
        if (common_type(x->x_type, t->x_type, &ct)) {
            return bwm_sql_fail(err, a->u.a_case.cs_then[i]->a_pos,
                                "CASE results must have one type: %s and %s",
                                bwm_type_name(x->x_type), bwm_type_name(t->x_type));
        }
        x->x_type = ct;
        x->x_nullable |= t->x_nullable;
    }
    if (has_else) {
        if (compile(a->u.a_case.cs_else, sc, &x->x_args[k], err)) {
            return -1;
        }
        if (common_type(x->x_type, x->x_args[k]->x_type, &ct)) {
            return bwm_sql_fail(err, a->u.a_case.cs_else->a_pos,
                                "CASE results must have one type: %s and %s",
                                bwm_type_name(x->x_type), bwm_type_name(x->x_args[k]->x_type));
        }
        x->x_type = ct;
        x->x_nullable |= x->x_args[k]->x_nullable;
    }
    x->x_operand = operand;
    return 0;
}

static int compile(const bwm_ast_t *a, const bwm_expr_scope_t *sc, bwm_expr_t **out,
                   bwm_sql_error_t *err)
{
    bwm_expr_t *x;
    bwm_ref_t ref;
    int r;

    *out = NULL;
    if (sc->xs_key && sc->xs_key(sc->xs_opaque, a, &ref) == 0) {
        return compile_ref(a, X_KEY, &ref, out, err);
    }
    switch (a->a_kind) {
        case BWM_AST_LITERAL:
            return compile_literal(a, out, err);
        case BWM_AST_COLUMN:
            if (sc->xs_column(sc->xs_opaque, a, &ref, err)) {
                return -1;
            }
            return compile_ref(a, X_SLOT, &ref, out, err);
        case BWM_AST_STAR:
            return bwm_sql_fail(err, a->a_pos, "'*' is only allowed in COUNT(*) and SELECT *");
        case BWM_AST_UNARY:
            x = node(a->u.a_un.u_op == BWM_OP_NOT ? X_NOT : X_NEG, BWM_T_NULL, 1);
            if (!x) {
                return bwm_sql_fail(err, a->a_pos, "out of memory");
            }
            *out = x;
            if (compile_args(&a->u.a_un.u_arg, 1, sc, x, err)) {
                return -1;
            }
            if (x->x_op == X_NOT) {
                x->x_type = BWM_T_BOOL;
                return want_type(x->x_args[0], a->u.a_un.u_arg, 0, BWM_T_BOOL, "NOT", err);
            }
            x->x_type = x->x_args[0]->x_type == BWM_T_NULL ? BWM_T_LONG : x->x_args[0]->x_type;
            return want_type(x->x_args[0], a->u.a_un.u_arg, 1, BWM_T_NULL, "unary -", err);
        case BWM_AST_BINARY:
            return compile_binary(a, sc, out, err);
        case BWM_AST_IS_NULL:
            x = node(X_ISNULL, BWM_T_BOOL, 1);
            if (!x) {
                return bwm_sql_fail(err, a->a_pos, "out of memory");
            }
            *out = x;
            x->x_sub = a->u.a_isnull.n_not;
            r = compile_args(&a->u.a_isnull.n_arg, 1, sc, x, err);
            x->x_nullable = 0;
            return r;
        case BWM_AST_IN:
            return compile_membership(a, X_IN, a->u.a_in.in_arg, a->u.a_in.in_list, a->u.a_in.in_n,
                                      a->u.a_in.in_not, sc, out, err);
        case BWM_AST_BETWEEN: {
            bwm_ast_t *bounds[2] = {a->u.a_between.bt_lo, a->u.a_between.bt_hi};

            return compile_membership(a, X_BETWEEN, a->u.a_between.bt_arg, bounds, 2,
                                      a->u.a_between.bt_not, sc, out, err);
        }
        case BWM_AST_CASE:
            return compile_case(a, sc, out, err);
        case BWM_AST_CAST:
            return compile_cast(a, sc, out, err);
        case BWM_AST_CALL:
            return compile_call(a, sc, out, err);
    }
    return bwm_sql_fail(err, a->a_pos, "unsupported expression");
}

/* The comparison a column-constant comparison makes with its operands swapped. */
static int mirrored(int op)
{
    switch (op) {
        case BWM_OP_LT:
            return BWM_OP_GT;
        case BWM_OP_LE:
            return BWM_OP_GE;
        case BWM_OP_GT:
            return BWM_OP_LT;
        case BWM_OP_GE:
            return BWM_OP_LE;
        default:
            return op;
    }
}

/*
 * Counts (terms NULL) or writes the comparisons of x, when x is an AND of
 * comparisons of a column with a non-null constant. Returns -1 when it is
 * anything else.
 */
static int flatten(const bwm_expr_t *x, term_t *terms, size_t *n)
{
    const bwm_expr_t *l, *r;

    if (x->x_op == X_AND) {
        return flatten(x->x_args[0], terms, n) || flatten(x->x_args[1], terms, n) ? -1 : 0;
    }
    if (x->x_op != X_CMP) {
        return -1;
    }
    l = x->x_args[0];
    r = x->x_args[1];
    if (l->x_op == X_SLOT && r->x_op == X_CONST && r->x_const.v_type != BWM_T_NULL) {
        if (terms) {
            terms[*n] = (term_t){l->x_index, x->x_sub, &r->x_const};
        }
    } else if (r->x_op == X_SLOT && l->x_op == X_CONST && l->x_const.v_type != BWM_T_NULL) {
        if (terms) {
            terms[*n] = (term_t){r->x_index, mirrored(x->x_sub), &l->x_const};
        }
    } else {
        return -1;
    }
    (*n)++;
    return 0;
}

bwm_err_t bwm_expr_compile(const bwm_ast_t *a, const bwm_expr_scope_t *scope, bwm_expr_t **out,
                           bwm_sql_error_t *err)
{
    bwm_expr_t *x = NULL;
    size_t n = 0;

    if (compile(a, scope, &x, err)) {
        bwm_expr_destroy(x);
        *out = NULL;
        return BWM_ERR_PARSE;
    }
    if (flatten(x, NULL, &n) == 0 && (x->x_terms = calloc(n, sizeof(*x->x_terms))) != NULL) {
        flatten(x, x->x_terms, &x->x_nterms);
    }
    *out = x;
    return BWM_OK;
}

bwm_type_t bwm_expr_type(const bwm_expr_t *x)
{
    return x->x_type;
}

int bwm_expr_slot(const bwm_expr_t *x)
{
    return x->x_op == X_SLOT ? x->x_index : -1;
}

int bwm_expr_nullable(const bwm_expr_t *x)
{
    return x->x_nullable;
}

const char *bwm_expr_logical(const bwm_expr_t *x)
{
    return x->x_logical;
}

/* ---- evaluating ---- */

#define VNULL(out) ((out)->v_type = BWM_T_NULL, BWM_OK)

static bwm_err_t eval_fail(bwm_eval_t *ev, bwm_err_t err, const char *fmt, const char *what)
{
    if (ev->ev_error && ev->ev_error_size) {
        snprintf(ev->ev_error, ev->ev_error_size, fmt, what);
    }
    return err;
}

static double as_double(const bwm_value_t *v)
{
    return v->v_type == BWM_T_LONG ? (double)v->u.v_long : v->u.v_double;
}

/* Compares two non-null values of comparable types: <0, 0, >0; NaN compares unordered (2). */
static int compare(const bwm_value_t *a, const bwm_value_t *b)
{
    if (a->v_type == BWM_T_LONG && b->v_type == BWM_T_LONG) {
        return (a->u.v_long > b->u.v_long) - (a->u.v_long < b->u.v_long);
    }
    if (bwm_type_is_numeric(a->v_type)) {
        double x = as_double(a), y = as_double(b);

        if (isnan(x) || isnan(y)) {
            return 2;
        }
        return (x > y) - (x < y);
    }
    if (a->v_type == BWM_T_BOOL) {
        return (a->u.v_bool > b->u.v_bool) - (a->u.v_bool < b->u.v_bool);
    }
    {
        size_t n = a->u.v_str.n < b->u.v_str.n ? a->u.v_str.n : b->u.v_str.n;
        int c = n ? memcmp(a->u.v_str.p, b->u.v_str.p, n) : 0;

        if (c) {
            return c < 0 ? -1 : 1;
        }
        return (a->u.v_str.n > b->u.v_str.n) - (a->u.v_str.n < b->u.v_str.n);
    }
}

static int cmp_holds(int op, int c)
{
    if (c == 2) {
        return op == BWM_OP_NE;
    }
    switch (op) {
        case BWM_OP_EQ:
            return c == 0;
        case BWM_OP_NE:
            return c != 0;
        case BWM_OP_LT:
            return c < 0;
        case BWM_OP_LE:
            return c <= 0;
        case BWM_OP_GT:
            return c > 0;
        default:
            return c >= 0;
    }
}

/*
 * Whether x op y holds, compared with C's operators: for numbers of one
 * type, and for doubles with IEEE's answers, which are compare()'s (NaN
 * holds only for <>).
 */
#define HOLDS(op, x, y)                                                                            \
    ((op) == BWM_OP_EQ   ? (x) == (y)                                                              \
     : (op) == BWM_OP_NE ? (x) != (y)                                                              \
     : (op) == BWM_OP_LT ? (x) < (y)                                                               \
     : (op) == BWM_OP_LE ? (x) <= (y)                                                              \
     : (op) == BWM_OP_GT ? (x) > (y)                                                               \
                         : (x) >= (y))

/*
 * Whether a term holds for its column's non-null value v: cmp_holds() over
 * compare(), with numbers and booleans compared in place, as a WHERE tests
 * every record.
 */
static inline int term_holds(const term_t *t, const bwm_value_t *v)
{
    const bwm_value_t *k = t->t_const;

    if (v->v_type == BWM_T_LONG && k->v_type == BWM_T_LONG) {
        return HOLDS(t->t_op, v->u.v_long, k->u.v_long);
    }
    if (bwm_type_is_numeric(v->v_type)) {
        return HOLDS(t->t_op, as_double(v), as_double(k));
    }
    if (v->v_type == BWM_T_BOOL) {
        return HOLDS(t->t_op, v->u.v_bool, k->u.v_bool);
    }
    return cmp_holds(t->t_op, compare(v, k));
}

static void set_bool(bwm_value_t *out, int b)
{
    out->v_type = BWM_T_BOOL;
    out->u.v_bool = b != 0;
}

static bwm_err_t eval_arith(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *out)
{
    bwm_value_t l, r;
    bwm_err_t err;

    if ((err = bwm_expr_eval(x->x_args[0], ev, &l)) ||
        (err = bwm_expr_eval(x->x_args[1], ev, &r))) {
        return err;
    }
    if (l.v_type == BWM_T_NULL || r.v_type == BWM_T_NULL) {
        return VNULL(out);
    }
    if (x->x_type == BWM_T_LONG) {
        int64_t a = l.u.v_long, b = r.u.v_long, v = 0;
        int ovf = 0;

        switch (x->x_sub) {
            case BWM_OP_ADD:
                ovf = __builtin_add_overflow(a, b, &v);
                break;
            case BWM_OP_SUB:
                ovf = __builtin_sub_overflow(a, b, &v);
                break;
            case BWM_OP_MUL:
                ovf = __builtin_mul_overflow(a, b, &v);
                break;
            case BWM_OP_DIV:
            case BWM_OP_MOD:
                if (b == 0) {
                    return VNULL(out);
                }
                if (a == INT64_MIN && b == -1) {
                    ovf = x->x_sub == BWM_OP_DIV;
                    v = 0;
                } else {
                    v = x->x_sub == BWM_OP_DIV ? a / b : a % b;
                }
                break;
        }
        if (ovf) {
            return eval_fail(ev, BWM_ERR_OVERFLOW, "BIGINT overflow in %s", "arithmetic");
        }
        out->v_type = BWM_T_LONG;
        out->u.v_long = v;
        return BWM_OK;
    }
    {
        double a = as_double(&l), b = as_double(&r), v = 0;

        switch (x->x_sub) {
            case BWM_OP_ADD:
                v = a + b;
                break;
            case BWM_OP_SUB:
                v = a - b;
                break;
            case BWM_OP_MUL:
                v = a * b;
                break;
            case BWM_OP_DIV:
                if (b == 0) {
                    return VNULL(out);
                }
                v = a / b;
                break;
            case BWM_OP_MOD:
                if (b == 0) {
                    return VNULL(out);
                }
                v = fmod(a, b);
                break;
        }
        out->v_type = BWM_T_DOUBLE;
        out->u.v_double = v;
        return BWM_OK;
    }
}

static bwm_err_t new_string(bwm_eval_t *ev, size_t n, char **p)
{
    *p = bwm_arena_alloc(ev->ev_arena, n ? n : 1);
    if (!*p) {
        return eval_fail(ev, BWM_ERR_LIMIT, "%s",
                         "string result exceeds the evaluation memory limit");
    }
    return BWM_OK;
}

/* Number of UTF-8 code points (continuation bytes are not counted). */
static size_t utf8_len(const char *s, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i < n; i++) {
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return c;
}

/* Byte offset of code point number cp (0-based), or n when past the end. */
static size_t utf8_offset(const char *s, size_t n, int64_t cp)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && cp-- == 0) {
            return i;
        }
    }
    return n;
}

static bwm_err_t cast_value(const bwm_expr_t *x, const bwm_value_t *v, bwm_eval_t *ev,
                            bwm_value_t *out)
{
    char buf[64], *p, *end;
    size_t n;
    bwm_err_t err;

    if (v->v_type == BWM_T_NULL) {
        return VNULL(out);
    }
    switch (x->x_type) {
        case BWM_T_BOOL:
            if (v->v_type == BWM_T_STRING) {
                if (v->u.v_str.n == 4 && strncasecmp(v->u.v_str.p, "true", 4) == 0) {
                    set_bool(out, 1);
                } else if (v->u.v_str.n == 5 && strncasecmp(v->u.v_str.p, "false", 5) == 0) {
                    set_bool(out, 0);
                } else {
                    return VNULL(out);
                }
                return BWM_OK;
            }
            set_bool(out, v->v_type == BWM_T_BOOL ? v->u.v_bool : as_double(v) != 0);
            return BWM_OK;
        case BWM_T_LONG: {
            int64_t r;

            if (v->v_type == BWM_T_BOOL) {
                r = v->u.v_bool;
            } else if (v->v_type == BWM_T_LONG) {
                r = v->u.v_long;
            } else if (v->v_type == BWM_T_DOUBLE) {
                double d = trunc(v->u.v_double);

                if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
                    return eval_fail(ev, BWM_ERR_OVERFLOW, "%s",
                                     "CAST of a DOUBLE outside the BIGINT range");
                }
                r = (int64_t)d;
            } else {
                if (v->u.v_str.n == 0 || v->u.v_str.n >= sizeof(buf)) {
                    return VNULL(out);
                }
                memcpy(buf, v->u.v_str.p, v->u.v_str.n);
                buf[v->u.v_str.n] = '\0';
                errno = 0;
                r = strtoll(buf, &end, 10);
                if (errno || *end) {
                    return VNULL(out);
                }
            }
            if (x->x_sub == BWM_SQL_INT && (r < INT32_MIN || r > INT32_MAX)) {
                return eval_fail(ev, BWM_ERR_OVERFLOW, "%s", "CAST to INT out of range");
            }
            out->v_type = BWM_T_LONG;
            out->u.v_long = r;
            return BWM_OK;
        }
        case BWM_T_DOUBLE:
            if (v->v_type == BWM_T_STRING) {
                if (v->u.v_str.n == 0 || v->u.v_str.n >= sizeof(buf)) {
                    return VNULL(out);
                }
                memcpy(buf, v->u.v_str.p, v->u.v_str.n);
                buf[v->u.v_str.n] = '\0';
                out->u.v_double = strtod(buf, &end);
                if (*end) {
                    return VNULL(out);
                }
            } else {
                out->u.v_double = v->v_type == BWM_T_BOOL ? v->u.v_bool : as_double(v);
            }
            out->v_type = BWM_T_DOUBLE;
            return BWM_OK;
        case BWM_T_STRING:
            if (v->v_type == BWM_T_STRING) {
                *out = *v;
                return BWM_OK;
            }
            if (v->v_type == BWM_T_BOOL) {
                snprintf(buf, sizeof(buf), "%s", v->u.v_bool ? "true" : "false");
            } else if (v->v_type == BWM_T_LONG) {
                snprintf(buf, sizeof(buf), "%" PRId64, v->u.v_long);
            } else {
                bwm_double_text(v->u.v_double, buf);
            }
            n = strlen(buf);
            if ((err = new_string(ev, n, &p))) {
                return err;
            }
            memcpy(p, buf, n);
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = p;
            out->u.v_str.n = n;
            return BWM_OK;
        default:
            return VNULL(out);
    }
}

static bwm_err_t eval_round(int fn, const bwm_value_t *v, int64_t digits, bwm_eval_t *ev,
                            bwm_value_t *out)
{
    if (v->v_type == BWM_T_LONG) {
        int64_t x = v->u.v_long, p = 1, r;
        int64_t i;

        if (fn == FN_ABS) {
            if (x == INT64_MIN) {
                return eval_fail(ev, BWM_ERR_OVERFLOW, "BIGINT overflow in %s", "ABS");
            }
            out->v_type = BWM_T_LONG;
            out->u.v_long = x < 0 ? -x : x;
            return BWM_OK;
        }
        *out = *v;
        if (fn != FN_ROUND || digits >= 0) {
            return BWM_OK;
        }
        for (i = 0; i < -digits; i++) {
            if (p > INT64_MAX / 10) {
                out->u.v_long = 0;
                return BWM_OK;
            }
            p *= 10;
        }
        r = x % p;
        x -= r;
        if ((r < 0 ? -r : r) * 2 >= p && __builtin_add_overflow(x, r < 0 ? -p : p, &x)) {
            return eval_fail(ev, BWM_ERR_OVERFLOW, "BIGINT overflow in %s", "ROUND");
        }
        out->u.v_long = x;
        return BWM_OK;
    }
    out->v_type = BWM_T_DOUBLE;
    switch (fn) {
        case FN_ABS:
            out->u.v_double = fabs(v->u.v_double);
            break;
        case FN_FLOOR:
            out->u.v_double = floor(v->u.v_double);
            break;
        case FN_CEIL:
            out->u.v_double = ceil(v->u.v_double);
            break;
        default: {
            double scale = pow(10.0, (double)(digits < -308 ? -308 : digits > 308 ? 308 : digits));
            double y = round(v->u.v_double * scale) / scale;

            out->u.v_double = isfinite(y) ? y : v->u.v_double;
        }
    }
    return BWM_OK;
}

static bwm_err_t eval_func(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *out)
{
    bwm_value_t a, b, c;
    size_t i;
    char *p;
    bwm_err_t err;

    if (x->x_sub == FN_COALESCE) {
        for (i = 0; i < x->x_nargs; i++) {
            if ((err = bwm_expr_eval(x->x_args[i], ev, out))) {
                return err;
            }
            if (out->v_type != BWM_T_NULL) {
                if (x->x_type == BWM_T_DOUBLE && out->v_type == BWM_T_LONG) {
                    out->u.v_double = (double)out->u.v_long;
                    out->v_type = BWM_T_DOUBLE;
                }
                return BWM_OK;
            }
        }
        return VNULL(out);
    }
    if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
        return err;
    }
    if (a.v_type == BWM_T_NULL) {
        return VNULL(out);
    }
    switch (x->x_sub) {
        case FN_ABS:
        case FN_FLOOR:
        case FN_CEIL:
            return eval_round(x->x_sub, &a, 0, ev, out);
        case FN_ROUND:
            b.v_type = BWM_T_LONG;
            b.u.v_long = 0;
            if (x->x_nargs == 2 && (err = bwm_expr_eval(x->x_args[1], ev, &b))) {
                return err;
            }
            if (b.v_type == BWM_T_NULL) {
                return VNULL(out);
            }
            return eval_round(FN_ROUND, &a, b.u.v_long, ev, out);
        case FN_LEN:
            out->v_type = BWM_T_LONG;
            out->u.v_long = (int64_t)utf8_len(a.u.v_str.p, a.u.v_str.n);
            return BWM_OK;
        case FN_LOWER:
        case FN_UPPER:
            if ((err = new_string(ev, a.u.v_str.n, &p))) {
                return err;
            }
            for (i = 0; i < a.u.v_str.n; i++) {
                p[i] = (char)(x->x_sub == FN_LOWER ? tolower((unsigned char)a.u.v_str.p[i])
                                                   : toupper((unsigned char)a.u.v_str.p[i]));
            }
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = p;
            out->u.v_str.n = a.u.v_str.n;
            return BWM_OK;
        case FN_SUBSTRING: {
            int64_t start, len, first, last, cps = (int64_t)utf8_len(a.u.v_str.p, a.u.v_str.n);
            size_t from, to;

            if ((err = bwm_expr_eval(x->x_args[1], ev, &b))) {
                return err;
            }
            c.v_type = BWM_T_LONG;
            c.u.v_long = INT64_MAX;
            if (x->x_nargs == 3 && (err = bwm_expr_eval(x->x_args[2], ev, &c))) {
                return err;
            }
            if (b.v_type == BWM_T_NULL || c.v_type == BWM_T_NULL || c.u.v_long < 0) {
                return VNULL(out);
            }
            start = b.u.v_long;
            len = c.u.v_long;
            /* Code points [start, start + len) of 1 .. cps, as in SQL. */
            first = start < 1 ? 1 : start;
            last = __builtin_add_overflow(start, len, &last) ? INT64_MAX : last;
            if (last > cps + 1) {
                last = cps + 1;
            }
            out->v_type = BWM_T_STRING;
            if (first >= last) {
                out->u.v_str.p = "";
                out->u.v_str.n = 0;
                return BWM_OK;
            }
            from = utf8_offset(a.u.v_str.p, a.u.v_str.n, first - 1);
            to = utf8_offset(a.u.v_str.p, a.u.v_str.n, last - 1);
            out->u.v_str.p = a.u.v_str.p + from;
            out->u.v_str.n = to - from;
            return BWM_OK;
        }
    }
    return VNULL(out);
}

static bwm_err_t eval_case(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *out)
{
    size_t k = (size_t)x->x_has_operand, end = x->x_nargs - (size_t)x->x_has_else;
    bwm_value_t op, w;
    bwm_err_t err;

    if (x->x_has_operand && (err = bwm_expr_eval(x->x_args[0], ev, &op))) {
        return err;
    }
    for (; k < end; k += 2) {
        int hit;

        if ((err = bwm_expr_eval(x->x_args[k], ev, &w))) {
            return err;
        }
        if (x->x_has_operand) {
            hit = op.v_type != BWM_T_NULL && w.v_type != BWM_T_NULL && compare(&op, &w) == 0;
        } else {
            hit = w.v_type == BWM_T_BOOL && w.u.v_bool;
        }
        if (hit) {
            err = bwm_expr_eval(x->x_args[k + 1], ev, out);
            goto widen;
        }
    }
    if (!x->x_has_else) {
        return VNULL(out);
    }
    err = bwm_expr_eval(x->x_args[x->x_nargs - 1], ev, out);
widen:
    if (!err && x->x_type == BWM_T_DOUBLE && out->v_type == BWM_T_LONG) {
        out->u.v_double = (double)out->u.v_long;
        out->v_type = BWM_T_DOUBLE;
    }
    return err;
}

/* The value of a reference (column, constant, aggregate, key); NULL for any other node. */
static inline const bwm_value_t *ref_value(const bwm_expr_t *x, const bwm_eval_t *ev)
{
    switch (x->x_op) {
        case X_CONST:
            return &x->x_const;
        case X_SLOT:
            return &ev->ev_slots[x->x_index];
        case X_AGG:
            return &ev->ev_aggs[x->x_index];
        case X_KEY:
            return &ev->ev_keys[x->x_index];
        default:
            return NULL;
    }
}

bwm_err_t bwm_expr_value(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *tmp,
                         const bwm_value_t **out)
{
    *out = ref_value(x, ev);
    if (*out) {
        return BWM_OK;
    }
    *out = tmp;
    return bwm_expr_eval(x, ev, tmp);
}

bwm_err_t bwm_expr_eval(const bwm_expr_t *x, bwm_eval_t *ev, bwm_value_t *out)
{
    const bwm_value_t *pa, *pb;
    bwm_value_t a, b;
    size_t i;
    int unknown;
    bwm_err_t err;

    switch (x->x_op) {
        case X_CONST:
        case X_SLOT:
        case X_AGG:
        case X_KEY:
            *out = *ref_value(x, ev);
            return BWM_OK;
        case X_NEG:
            if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
                return err;
            }
            if (a.v_type == BWM_T_LONG) {
                if (a.u.v_long == INT64_MIN) {
                    return eval_fail(ev, BWM_ERR_OVERFLOW, "BIGINT overflow in %s", "unary -");
                }
                a.u.v_long = -a.u.v_long;
            } else if (a.v_type == BWM_T_DOUBLE) {
                a.u.v_double = -a.u.v_double;
            }
            *out = a;
            return BWM_OK;
        case X_NOT:
            if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
                return err;
            }
            if (a.v_type == BWM_T_NULL) {
                return VNULL(out);
            }
            set_bool(out, !a.u.v_bool);
            return BWM_OK;
        case X_ARITH:
            return eval_arith(x, ev, out);
        case X_CONCAT: {
            char *p;

            if ((err = bwm_expr_eval(x->x_args[0], ev, &a)) ||
                (err = bwm_expr_eval(x->x_args[1], ev, &b))) {
                return err;
            }
            if (a.v_type == BWM_T_NULL || b.v_type == BWM_T_NULL) {
                return VNULL(out);
            }
            if ((err = new_string(ev, a.u.v_str.n + b.u.v_str.n, &p))) {
                return err;
            }
            memcpy(p, a.u.v_str.p, a.u.v_str.n);
            memcpy(p + a.u.v_str.n, b.u.v_str.p, b.u.v_str.n);
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = p;
            out->u.v_str.n = a.u.v_str.n + b.u.v_str.n;
            return BWM_OK;
        }
        case X_CMP:
            if ((err = bwm_expr_value(x->x_args[0], ev, &a, &pa)) ||
                (err = bwm_expr_value(x->x_args[1], ev, &b, &pb))) {
                return err;
            }
            if (pa->v_type == BWM_T_NULL || pb->v_type == BWM_T_NULL) {
                return VNULL(out);
            }
            set_bool(out, cmp_holds(x->x_sub, compare(pa, pb)));
            return BWM_OK;
        case X_AND:
        case X_OR:
            /* Three-valued: FALSE decides AND, TRUE decides OR, else NULL wins over the rest. */
            unknown = 0;
            for (i = 0; i < 2; i++) {
                if ((err = bwm_expr_value(x->x_args[i], ev, &a, &pa))) {
                    return err;
                }
                if (pa->v_type == BWM_T_NULL) {
                    unknown = 1;
                } else if (pa->u.v_bool == (x->x_op == X_OR)) {
                    set_bool(out, x->x_op == X_OR);
                    return BWM_OK;
                }
            }
            if (unknown) {
                return VNULL(out);
            }
            set_bool(out, x->x_op == X_AND);
            return BWM_OK;
        case X_ISNULL:
            if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
                return err;
            }
            set_bool(out, (a.v_type == BWM_T_NULL) != x->x_sub);
            return BWM_OK;
        case X_IN:
            if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
                return err;
            }
            if (a.v_type == BWM_T_NULL) {
                return VNULL(out);
            }
            unknown = 0;
            for (i = 1; i < x->x_nargs; i++) {
                if ((err = bwm_expr_eval(x->x_args[i], ev, &b))) {
                    return err;
                }
                if (b.v_type == BWM_T_NULL) {
                    unknown = 1;
                } else if (compare(&a, &b) == 0) {
                    set_bool(out, !x->x_sub);
                    return BWM_OK;
                }
            }
            if (unknown) {
                return VNULL(out);
            }
            set_bool(out, x->x_sub);
            return BWM_OK;
        case X_BETWEEN: {
            bwm_value_t lo, hi;
            int ge, le; /* 1 true, 0 false, -1 unknown */

            if ((err = bwm_expr_eval(x->x_args[0], ev, &a)) ||
                (err = bwm_expr_eval(x->x_args[1], ev, &lo)) ||
                (err = bwm_expr_eval(x->x_args[2], ev, &hi))) {
                return err;
            }
            ge = a.v_type == BWM_T_NULL || lo.v_type == BWM_T_NULL
                     ? -1
                     : cmp_holds(BWM_OP_GE, compare(&a, &lo));
            le = a.v_type == BWM_T_NULL || hi.v_type == BWM_T_NULL
                     ? -1
                     : cmp_holds(BWM_OP_LE, compare(&a, &hi));
            if (ge == 0 || le == 0) {
                set_bool(out, x->x_sub);
            } else if (ge < 0 || le < 0) {
                return VNULL(out);
            } else {
                set_bool(out, !x->x_sub);
            }
            return BWM_OK;
        }
        case X_CASE:
            return eval_case(x, ev, out);
        case X_CAST:
            if ((err = bwm_expr_eval(x->x_args[0], ev, &a))) {
                return err;
            }
            return cast_value(x, &a, ev, out);
        case X_FUNC:
            return eval_func(x, ev, out);
    }
    return VNULL(out);
}

int bwm_expr_test(const bwm_expr_t *x, bwm_eval_t *ev)
{
    bwm_value_t tmp;
    const bwm_value_t *v;
    size_t i;

    if (x->x_nterms) {
        /* TRUE only when every comparison is: a null column makes it NULL, not TRUE. */
        for (i = 0; i < x->x_nterms; i++) {
            const term_t *t = &x->x_terms[i];

            v = &ev->ev_slots[t->t_slot];
            if (v->v_type == BWM_T_NULL || !term_holds(t, v)) {
                return 0;
            }
        }
        return 1;
    }
    if (bwm_expr_value(x, ev, &tmp, &v) != BWM_OK) {
        return -1;
    }
    return v->v_type == BWM_T_BOOL && v->u.v_bool;
}
