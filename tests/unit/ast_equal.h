/*
 * ast_equal.h: structural equality of job-language expression trees,
 * positions aside, for the parser's round-trip checks (test_sql.c and the
 * fuzz target): the rendering must not change what an expression means.
 */
#ifndef BWM_TEST_AST_EQUAL_H
#define BWM_TEST_AST_EQUAL_H

#include <string.h>

#include "core/sql.h"

static int ident_eq(const bwm_ident_t *a, const bwm_ident_t *b)
{
    return a->i_quoted == b->i_quoted && strcmp(a->i_name, b->i_name) == 0;
}

static int ast_eq(const bwm_ast_t *a, const bwm_ast_t *b);

static int list_eq(bwm_ast_t *const *a, bwm_ast_t *const *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!ast_eq(a[i], b[i])) {
            return 0;
        }
    }
    return 1;
}

static int ast_eq(const bwm_ast_t *a, const bwm_ast_t *b)
{
    size_t i;

    if (!a || !b) {
        return a == b;
    }
    if (a->a_kind != b->a_kind) {
        return 0;
    }
    switch (a->a_kind) {
        case BWM_AST_LITERAL:
            if (a->u.a_lit.l_kind != b->u.a_lit.l_kind) {
                return 0;
            }
            switch (a->u.a_lit.l_kind) {
                case BWM_LIT_NULL:
                    return 1;
                case BWM_LIT_BOOL:
                    return a->u.a_lit.l_bool == b->u.a_lit.l_bool;
                case BWM_LIT_INT:
                    return a->u.a_lit.l_int == b->u.a_lit.l_int;
                case BWM_LIT_DOUBLE:
                    return memcmp(&a->u.a_lit.l_double, &b->u.a_lit.l_double, sizeof(double)) == 0;
                case BWM_LIT_STRING:
                    return a->u.a_lit.l_len == b->u.a_lit.l_len &&
                           memcmp(a->u.a_lit.l_str, b->u.a_lit.l_str, a->u.a_lit.l_len) == 0;
            }
            return 0;
        case BWM_AST_COLUMN:
            if (a->u.a_col.c_n != b->u.a_col.c_n) {
                return 0;
            }
            for (i = 0; i < a->u.a_col.c_n; i++) {
                if (!ident_eq(&a->u.a_col.c_path[i], &b->u.a_col.c_path[i])) {
                    return 0;
                }
            }
            return 1;
        case BWM_AST_STAR:
            return 1;
        case BWM_AST_UNARY:
            return a->u.a_un.u_op == b->u.a_un.u_op && ast_eq(a->u.a_un.u_arg, b->u.a_un.u_arg);
        case BWM_AST_BINARY:
            return a->u.a_bin.b_op == b->u.a_bin.b_op &&
                   ast_eq(a->u.a_bin.b_left, b->u.a_bin.b_left) &&
                   ast_eq(a->u.a_bin.b_right, b->u.a_bin.b_right);
        case BWM_AST_IS_NULL:
            return a->u.a_isnull.n_not == b->u.a_isnull.n_not &&
                   ast_eq(a->u.a_isnull.n_arg, b->u.a_isnull.n_arg);
        case BWM_AST_IN:
            return a->u.a_in.in_not == b->u.a_in.in_not && a->u.a_in.in_n == b->u.a_in.in_n &&
                   ast_eq(a->u.a_in.in_arg, b->u.a_in.in_arg) &&
                   list_eq(a->u.a_in.in_list, b->u.a_in.in_list, a->u.a_in.in_n);
        case BWM_AST_BETWEEN:
            return a->u.a_between.bt_not == b->u.a_between.bt_not &&
                   ast_eq(a->u.a_between.bt_arg, b->u.a_between.bt_arg) &&
                   ast_eq(a->u.a_between.bt_lo, b->u.a_between.bt_lo) &&
                   ast_eq(a->u.a_between.bt_hi, b->u.a_between.bt_hi);
        case BWM_AST_CASE:
            return a->u.a_case.cs_n == b->u.a_case.cs_n &&
                   ast_eq(a->u.a_case.cs_operand, b->u.a_case.cs_operand) &&
                   list_eq(a->u.a_case.cs_when, b->u.a_case.cs_when, a->u.a_case.cs_n) &&
                   list_eq(a->u.a_case.cs_then, b->u.a_case.cs_then, a->u.a_case.cs_n) &&
                   ast_eq(a->u.a_case.cs_else, b->u.a_case.cs_else);
        case BWM_AST_CAST:
            return a->u.a_cast.ct_type == b->u.a_cast.ct_type &&
                   ast_eq(a->u.a_cast.ct_arg, b->u.a_cast.ct_arg);
        case BWM_AST_CALL:
            return ident_eq(&a->u.a_call.f_name, &b->u.a_call.f_name) &&
                   a->u.a_call.f_distinct == b->u.a_call.f_distinct &&
                   a->u.a_call.f_n == b->u.a_call.f_n &&
                   list_eq(a->u.a_call.f_args, b->u.a_call.f_args, a->u.a_call.f_n);
    }
    return 0;
}

#endif
