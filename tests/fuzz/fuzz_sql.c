/*
 * fuzz_sql.c: libFuzzer target for the job-language parser (`make fuzz`).
 *
 * Each input is parsed as a script and as a lone expression. A failure must
 * carry a position inside the text and a message, and must format. A success
 * must render every expression of the script to SQL that parses back to the
 * same tree and renders to the very same text. Sanitizers catch the rest:
 * leaks on error paths, overflows, stack exhaustion.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sql.h"

static void check(int ok, const char *what, const bwm_buf_t *text)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sql: %s\n", what);
        if (text && text->b_data) {
            fprintf(stderr, "  rendering: %.*s\n", (int)text->b_len, (const char *)text->b_data);
        }
        abort();
    }
}

static void check_error(const bwm_sql_error_t *err, const uint8_t *data, size_t size)
{
    bwm_buf_t b = {0};

    check(err->se_message[0] != '\0', "an error without a message", NULL);
    check(err->se_pos.p_line >= 1 && err->se_pos.p_col >= 1, "an error without a position", NULL);
    check(err->se_pos.p_offset <= size, "an error past the end of the text", NULL);
    bwm_sql_error_format(err, (const char *)data, size, "fuzz.sql", &b);
    check(!b.b_failed && b.b_len > 0, "an error that does not format", NULL);
    bwm_buf_free(&b);
}

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

/* The same tree, positions aside: the rendering must not change what an expression means. */
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

/*
 * Renders a, parses the rendering back and checks that it renders the same,
 * and that it is the same tree.
 */
static void round_trip(const bwm_ast_t *a)
{
    bwm_buf_t first = {0}, second = {0};
    bwm_sql_error_t err;
    bwm_ast_t *back;

    if (!a || a->a_kind == BWM_AST_STAR) {
        return;
    }
    bwm_ast_to_sql(a, &first);
    check(!first.b_failed, "rendering failed", NULL);
    back = bwm_sql_parse_expr((const char *)first.b_data, first.b_len, &err);
    if (!back) {
        fprintf(stderr, "fuzz_sql: %d:%d: %s\n", err.se_pos.p_line, err.se_pos.p_col,
                err.se_message);
    }
    check(back != NULL, "the rendering does not parse", &first);
    bwm_ast_to_sql(back, &second);
    check(second.b_len == first.b_len && memcmp(first.b_data, second.b_data, first.b_len) == 0,
          "the rendering renders differently after a round trip", &first);
    check(ast_eq(a, back), "the rendering parses to another tree", &first);
    bwm_ast_destroy(back);
    bwm_buf_free(&first);
    bwm_buf_free(&second);
}

static void round_trip_stmt(const bwm_stmt_t *st)
{
    size_t i;

    for (i = 0; i < st->s_nprops; i++) {
        check(st->s_props[i].pr_value && st->s_props[i].pr_value->a_kind == BWM_AST_LITERAL,
              "a property value that is not a literal", NULL);
        round_trip(st->s_props[i].pr_value);
    }
    for (i = 0; i < st->s_nitems; i++) {
        round_trip(st->s_items[i].si_expr);
    }
    round_trip(st->s_where);
    for (i = 0; i < st->s_ngroup; i++) {
        round_trip(st->s_group_by[i]);
    }
    round_trip(st->s_having);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bwm_sql_error_t err;
    bwm_script_t *sc;
    bwm_ast_t *a;
    size_t i;

    sc = bwm_sql_parse((const char *)data, size, &err);
    if (sc) {
        for (i = 0; i < sc->sc_n; i++) {
            round_trip_stmt(&sc->sc_stmts[i]);
        }
        bwm_script_destroy(sc);
    } else {
        check_error(&err, data, size);
    }

    a = bwm_sql_parse_expr((const char *)data, size, &err);
    if (a) {
        round_trip(a);
        bwm_ast_destroy(a);
    } else {
        check_error(&err, data, size);
    }
    return 0;
}
