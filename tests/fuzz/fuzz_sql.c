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
#include "tests/unit/ast_equal.h"

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
