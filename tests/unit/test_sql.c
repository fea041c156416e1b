/*
 * test_sql.c: the job-language parser on valid text: the example job of the
 * design exactly as written there, every expression form, precedence and
 * associativity (checked through the canonical rendering), windows, names,
 * comments, EMIT, and the round trip parse -> render -> parse.
 * Malformed text and error messages are in test_sql_errors.c.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast_equal.h"
#include "core/sql.h"

static bwm_script_t *parse(const char *text)
{
    bwm_sql_error_t err;
    bwm_script_t *sc = bwm_sql_parse(text, strlen(text), &err);

    cr_assert_not_null(sc, "%s: %d:%d: %s", text, err.se_pos.p_line, err.se_pos.p_col,
                       err.se_message);
    return sc;
}

static bwm_ast_t *parse_expr(const char *text)
{
    bwm_sql_error_t err;
    bwm_ast_t *a = bwm_sql_parse_expr(text, strlen(text), &err);

    cr_assert_not_null(a, "%s: %d:%d: %s", text, err.se_pos.p_line, err.se_pos.p_col,
                       err.se_message);
    return a;
}

/* The canonical rendering of a, in a static buffer. */
static const char *sql_of(const bwm_ast_t *a)
{
    static char s[4096];
    bwm_buf_t b = {0};

    bwm_ast_to_sql(a, &b);
    cr_assert(!b.b_failed);
    cr_assert_lt(b.b_len, sizeof(s));
    memcpy(s, b.b_data, b.b_len + 1);
    bwm_buf_free(&b);
    return s;
}

/* The rendering of the expression parsed from text. */
static const char *canon(const char *text)
{
    bwm_ast_t *a = parse_expr(text);
    const char *s = sql_of(a);

    bwm_ast_destroy(a);
    return s;
}

static void assert_pos(bwm_pos_t p, int line, int col)
{
    cr_assert_eq(p.p_line, line, "line %d, expected %d", p.p_line, line);
    cr_assert_eq(p.p_col, col, "column %d, expected %d", p.p_col, col);
}

static void assert_column(const bwm_ast_t *a, const char *name)
{
    cr_assert_eq(a->a_kind, BWM_AST_COLUMN);
    cr_assert_eq(a->u.a_col.c_n, 1);
    cr_assert_str_eq(a->u.a_col.c_path[0].i_name, name);
}

static void assert_string_prop(const bwm_prop_t *pr, const char *name, const char *value)
{
    cr_assert_str_eq(pr->pr_name.i_name, name);
    cr_assert_eq(pr->pr_value->a_kind, BWM_AST_LITERAL);
    cr_assert_eq(pr->pr_value->u.a_lit.l_kind, BWM_LIT_STRING);
    cr_assert_str_eq(pr->pr_value->u.a_lit.l_str, value);
    cr_assert_eq(pr->pr_value->u.a_lit.l_len, strlen(value));
}

/* The example job of DESIGN.md, character for character. */
static const char design_job[] =
    "CREATE STREAM telemetry WITH (topic = 'vehicle.telemetry', format = 'avro', timestamp = "
    "'ts');\n"
    "\n"
    "CREATE TABLE vehicle_kpi_hourly WITH (topic = 'vehicle.kpi.hourly') AS\n"
    "SELECT vin,\n"
    "       COUNT(*)                AS samples,\n"
    "       SUM(distance_km)        AS distance_km,\n"
    "       AVG(speed)              AS avg_speed,\n"
    "       MAX(speed)              AS max_speed,\n"
    "       STDDEV(speed)           AS speed_stddev,\n"
    "       COUNT_DISTINCT(trip_id) AS trips,\n"
    "       PERCENTILE(speed, 0.95) AS p95_speed\n"
    "FROM telemetry\n"
    "WHERE ignition = true AND speed >= 0\n"
    "WINDOW TUMBLING (SIZE 1 HOUR, GRACE 5 MINUTES)\n"
    "GROUP BY vin\n"
    "EMIT CHANGES;\n";

Test(sql, design_example)
{
    static const struct {
        const char *fn, *arg, *alias;
        int line;
    } calls[] = {
        {"COUNT", NULL, "samples", 5},
        {"SUM", "distance_km", "distance_km", 6},
        {"AVG", "speed", "avg_speed", 7},
        {"MAX", "speed", "max_speed", 8},
        {"STDDEV", "speed", "speed_stddev", 9},
        {"COUNT_DISTINCT", "trip_id", "trips", 10},
        {"PERCENTILE", "speed", "p95_speed", 11},
    };
    bwm_script_t *sc = parse(design_job);
    const bwm_stmt_t *s0, *s1;
    const bwm_ast_t *w, *pct;
    size_t i;

    cr_assert_eq(sc->sc_n, 2);
    s0 = &sc->sc_stmts[0];
    cr_assert_eq(s0->s_kind, BWM_STMT_STREAM);
    cr_assert_eq(s0->s_table, 0);
    cr_assert_str_eq(s0->s_name.i_name, "telemetry");
    cr_assert_eq(s0->s_name.i_quoted, 0);
    assert_pos(s0->s_pos, 1, 1);
    cr_assert_eq(s0->s_nprops, 3);
    assert_string_prop(&s0->s_props[0], "topic", "vehicle.telemetry");
    assert_string_prop(&s0->s_props[1], "format", "avro");
    assert_string_prop(&s0->s_props[2], "timestamp", "ts");
    assert_pos(s0->s_props[2].pr_name.i_pos, 1, 77);
    cr_assert_eq(s0->s_nitems, 0);
    cr_assert_null(s0->s_where);
    cr_assert_eq(s0->s_window.w_kind, BWM_WINDOW_NONE);

    s1 = &sc->sc_stmts[1];
    cr_assert_eq(s1->s_kind, BWM_STMT_QUERY);
    cr_assert_eq(s1->s_table, 1);
    cr_assert_str_eq(s1->s_name.i_name, "vehicle_kpi_hourly");
    assert_pos(s1->s_pos, 3, 1);
    assert_pos(s1->s_name.i_pos, 3, 14);
    cr_assert_eq(s1->s_nprops, 1);
    assert_string_prop(&s1->s_props[0], "topic", "vehicle.kpi.hourly");

    cr_assert_eq(s1->s_nitems, 8);
    assert_column(s1->s_items[0].si_expr, "vin");
    assert_pos(s1->s_items[0].si_expr->a_pos, 4, 8);
    cr_assert_null(s1->s_items[0].si_alias.i_name);
    for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        const bwm_select_item_t *it = &s1->s_items[i + 1];
        const bwm_ast_t *c = it->si_expr;

        cr_assert_eq(c->a_kind, BWM_AST_CALL, "item %zu", i + 1);
        cr_assert_str_eq(c->u.a_call.f_name.i_name, calls[i].fn);
        cr_assert_eq(c->u.a_call.f_distinct, 0);
        assert_pos(c->a_pos, calls[i].line, 8);
        cr_assert_str_eq(it->si_alias.i_name, calls[i].alias);
        assert_pos(it->si_alias.i_pos, calls[i].line, 35);
        if (calls[i].arg) {
            cr_assert_geq(c->u.a_call.f_n, 1);
            assert_column(c->u.a_call.f_args[0], calls[i].arg);
        } else {
            cr_assert_eq(c->u.a_call.f_n, 1);
            cr_assert_eq(c->u.a_call.f_args[0]->a_kind, BWM_AST_STAR);
            assert_pos(c->u.a_call.f_args[0]->a_pos, 5, 14);
        }
    }
    pct = s1->s_items[7].si_expr;
    cr_assert_eq(pct->u.a_call.f_n, 2);
    cr_assert_eq(pct->u.a_call.f_args[1]->u.a_lit.l_kind, BWM_LIT_DOUBLE);
    cr_assert_eq(pct->u.a_call.f_args[1]->u.a_lit.l_double, 0.95);

    cr_assert_str_eq(s1->s_from.i_name, "telemetry");
    assert_pos(s1->s_from.i_pos, 12, 6);

    w = s1->s_where;
    cr_assert_not_null(w);
    assert_pos(w->a_pos, 13, 7);
    cr_assert_eq(w->a_kind, BWM_AST_BINARY);
    cr_assert_eq(w->u.a_bin.b_op, BWM_OP_AND);
    cr_assert_eq(w->u.a_bin.b_left->u.a_bin.b_op, BWM_OP_EQ);
    assert_column(w->u.a_bin.b_left->u.a_bin.b_left, "ignition");
    cr_assert_eq(w->u.a_bin.b_left->u.a_bin.b_right->u.a_lit.l_kind, BWM_LIT_BOOL);
    cr_assert_eq(w->u.a_bin.b_left->u.a_bin.b_right->u.a_lit.l_bool, 1);
    cr_assert_eq(w->u.a_bin.b_right->u.a_bin.b_op, BWM_OP_GE);
    assert_pos(w->u.a_bin.b_right->a_pos, 13, 27);
    cr_assert_eq(w->u.a_bin.b_right->u.a_bin.b_right->u.a_lit.l_kind, BWM_LIT_INT);
    cr_assert_eq(w->u.a_bin.b_right->u.a_bin.b_right->u.a_lit.l_int, 0);
    cr_assert_str_eq(sql_of(w), "ignition = TRUE AND speed >= 0");

    cr_assert_eq(s1->s_window.w_kind, BWM_WINDOW_TUMBLING);
    cr_assert_eq(s1->s_window.w_size_ms, 3600000);
    cr_assert_eq(s1->s_window.w_grace_ms, 300000);
    cr_assert_eq(s1->s_window.w_advance_ms, -1);
    cr_assert_eq(s1->s_window.w_gap_ms, -1);
    assert_pos(s1->s_window.w_pos, 14, 1);

    cr_assert_eq(s1->s_ngroup, 1);
    assert_column(s1->s_group_by[0], "vin");
    assert_pos(s1->s_group_by[0]->a_pos, 15, 10);
    cr_assert_null(s1->s_having);
    cr_assert_eq(s1->s_emit, BWM_EMIT_CHANGES);
    assert_pos(s1->s_emit_pos, 16, 1);
    bwm_script_destroy(sc);
}

/* One query around an expression, to check its place in a statement. */
static bwm_script_t *query(const char *select_and_rest)
{
    static char text[1024];

    snprintf(text, sizeof(text), "CREATE TABLE t AS SELECT %s", select_and_rest);
    return parse(text);
}

Test(sql, literals)
{
    static const struct {
        const char *text;
        bwm_lit_kind_t kind;
        int64_t i;
        double d;
    } cases[] = {
        {"0", BWM_LIT_INT, 0, 0},
        {"42", BWM_LIT_INT, 42, 0},
        {"-42", BWM_LIT_INT, -42, 0},
        {"9223372036854775807", BWM_LIT_INT, INT64_MAX, 0},
        {"-9223372036854775808", BWM_LIT_INT, INT64_MIN, 0},
        {"- 7", BWM_LIT_INT, -7, 0},
        {"0.5", BWM_LIT_DOUBLE, 0, 0.5},
        {".25", BWM_LIT_DOUBLE, 0, 0.25},
        {"3.", BWM_LIT_DOUBLE, 0, 3.0},
        {"1e3", BWM_LIT_DOUBLE, 0, 1000.0},
        {"2.5E-2", BWM_LIT_DOUBLE, 0, 0.025},
        {"-1.5e+2", BWM_LIT_DOUBLE, 0, -150.0},
        {"TRUE", BWM_LIT_BOOL, 1, 0},
        {"false", BWM_LIT_BOOL, 0, 0},
        {"Null", BWM_LIT_NULL, 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_ast_t *a = parse_expr(cases[i].text);

        cr_assert_eq(a->a_kind, BWM_AST_LITERAL, "%s", cases[i].text);
        cr_assert_eq(a->u.a_lit.l_kind, cases[i].kind, "%s", cases[i].text);
        assert_pos(a->a_pos, 1, 1);
        if (cases[i].kind == BWM_LIT_INT || cases[i].kind == BWM_LIT_BOOL) {
            int64_t v = cases[i].kind == BWM_LIT_INT ? a->u.a_lit.l_int : a->u.a_lit.l_bool;

            cr_assert_eq(v, cases[i].i, "%s", cases[i].text);
        } else if (cases[i].kind == BWM_LIT_DOUBLE) {
            cr_assert_eq(a->u.a_lit.l_double, cases[i].d, "%s", cases[i].text);
        }
        bwm_ast_destroy(a);
    }
}

Test(sql, string_literals)
{
    bwm_ast_t *a = parse_expr("'it''s' || '' || 'two\nlines'");
    const bwm_ast_t *l = a->u.a_bin.b_left->u.a_bin.b_left;
    const bwm_ast_t *e = a->u.a_bin.b_left->u.a_bin.b_right;
    const bwm_ast_t *r = a->u.a_bin.b_right;

    cr_assert_str_eq(l->u.a_lit.l_str, "it's");
    cr_assert_eq(l->u.a_lit.l_len, 4);
    cr_assert_str_eq(e->u.a_lit.l_str, "");
    cr_assert_eq(e->u.a_lit.l_len, 0);
    cr_assert_str_eq(r->u.a_lit.l_str, "two\nlines");
    assert_pos(r->a_pos, 1, 18);
    bwm_ast_destroy(a);

    /* A NUL byte inside a string is kept, and counted by l_len. */
    a = bwm_sql_parse_expr("'a\0b'", 5, NULL);
    cr_assert_not_null(a);
    cr_assert_eq(a->u.a_lit.l_len, 3);
    cr_assert_eq(memcmp(a->u.a_lit.l_str, "a\0b", 4), 0);
    bwm_ast_destroy(a);
}

Test(sql, columns_and_quoted_names)
{
    bwm_ast_t *a = parse_expr("a.`b c`.\"D\"\"q\"");
    const bwm_ident_t *p;

    cr_assert_eq(a->a_kind, BWM_AST_COLUMN);
    cr_assert_eq(a->u.a_col.c_n, 3);
    p = a->u.a_col.c_path;
    cr_assert_str_eq(p[0].i_name, "a");
    cr_assert_eq(p[0].i_quoted, 0);
    cr_assert_str_eq(p[1].i_name, "b c");
    cr_assert_eq(p[1].i_quoted, 1);
    assert_pos(p[1].i_pos, 1, 3);
    cr_assert_str_eq(p[2].i_name, "D\"q");
    cr_assert_eq(p[2].i_quoted, 1);
    assert_pos(p[2].i_pos, 1, 9);
    cr_assert_str_eq(sql_of(a), "a.`b c`.`D\"q`");
    bwm_ast_destroy(a);

    /* Quoting lets reserved words serve as names; `` is an escaped backtick. */
    a = parse_expr("`from` + \"select\" + `a``b`");
    cr_assert_str_eq(a->u.a_bin.b_left->u.a_bin.b_left->u.a_col.c_path[0].i_name, "from");
    cr_assert_str_eq(a->u.a_bin.b_right->u.a_col.c_path[0].i_name, "a`b");
    cr_assert_str_eq(sql_of(a), "`from` + `select` + `a``b`");
    bwm_ast_destroy(a);

    /* Unquoted names keep their spelling; the planner compares them case-insensitively. */
    a = parse_expr("Vehicle_ID2");
    cr_assert_str_eq(a->u.a_col.c_path[0].i_name, "Vehicle_ID2");
    cr_assert_eq(a->u.a_col.c_path[0].i_quoted, 0);
    bwm_ast_destroy(a);

    /* Words with a meaning only in some places are plain names elsewhere. */
    a = parse_expr("size + hour + tumbling + timestamp + stream + by + gap");
    cr_assert_str_eq(sql_of(a), "size + hour + tumbling + timestamp + stream + by + gap");
    bwm_ast_destroy(a);
}

Test(sql, calls)
{
    bwm_ast_t *a = parse_expr("count(DISTINCT trip_id)");

    cr_assert_eq(a->a_kind, BWM_AST_CALL);
    cr_assert_str_eq(a->u.a_call.f_name.i_name, "count");
    cr_assert_eq(a->u.a_call.f_distinct, 1);
    cr_assert_eq(a->u.a_call.f_n, 1);
    assert_column(a->u.a_call.f_args[0], "trip_id");
    assert_pos(a->u.a_call.f_args[0]->a_pos, 1, 16);
    bwm_ast_destroy(a);

    a = parse_expr("now()");
    cr_assert_eq(a->a_kind, BWM_AST_CALL);
    cr_assert_eq(a->u.a_call.f_n, 0);
    cr_assert_null(a->u.a_call.f_args);
    cr_assert_str_eq(sql_of(a), "now()");
    bwm_ast_destroy(a);

    a = parse_expr("`my fn`(1, 'x', a.b, f(g(2)))");
    cr_assert_eq(a->u.a_call.f_name.i_quoted, 1);
    cr_assert_eq(a->u.a_call.f_n, 4);
    cr_assert_eq(a->u.a_call.f_args[3]->a_kind, BWM_AST_CALL);
    cr_assert_str_eq(sql_of(a), "`my fn`(1, 'x', a.b, f(g(2)))");
    bwm_ast_destroy(a);
}

Test(sql, predicates)
{
    bwm_ast_t *a = parse_expr("x IS NOT NULL");

    cr_assert_eq(a->a_kind, BWM_AST_IS_NULL);
    cr_assert_eq(a->u.a_isnull.n_not, 1);
    assert_column(a->u.a_isnull.n_arg, "x");
    bwm_ast_destroy(a);

    a = parse_expr("fuel is null");
    cr_assert_eq(a->a_kind, BWM_AST_IS_NULL);
    cr_assert_eq(a->u.a_isnull.n_not, 0);
    cr_assert_str_eq(sql_of(a), "fuel IS NULL");
    bwm_ast_destroy(a);

    a = parse_expr("state NOT IN ('A', 'B', 'C')");
    cr_assert_eq(a->a_kind, BWM_AST_IN);
    cr_assert_eq(a->u.a_in.in_not, 1);
    cr_assert_eq(a->u.a_in.in_n, 3);
    cr_assert_str_eq(a->u.a_in.in_list[2]->u.a_lit.l_str, "C");
    assert_pos(a->u.a_in.in_list[2]->a_pos, 1, 25);
    bwm_ast_destroy(a);

    a = parse_expr("n in (1)");
    cr_assert_eq(a->u.a_in.in_not, 0);
    cr_assert_eq(a->u.a_in.in_n, 1);
    bwm_ast_destroy(a);

    a = parse_expr("speed NOT BETWEEN 10 AND limit + 5");
    cr_assert_eq(a->a_kind, BWM_AST_BETWEEN);
    cr_assert_eq(a->u.a_between.bt_not, 1);
    cr_assert_eq(a->u.a_between.bt_lo->u.a_lit.l_int, 10);
    cr_assert_eq(a->u.a_between.bt_hi->u.a_bin.b_op, BWM_OP_ADD);
    bwm_ast_destroy(a);

    /* The AND after BETWEEN's upper bound is a conjunction. */
    a = parse_expr("x BETWEEN 1 AND 2 AND y");
    cr_assert_eq(a->a_kind, BWM_AST_BINARY);
    cr_assert_eq(a->u.a_bin.b_op, BWM_OP_AND);
    cr_assert_eq(a->u.a_bin.b_left->a_kind, BWM_AST_BETWEEN);
    cr_assert_eq(a->u.a_bin.b_left->u.a_between.bt_not, 0);
    bwm_ast_destroy(a);
}

Test(sql, case_and_cast)
{
    bwm_ast_t *a = parse_expr("CASE WHEN speed > 100 THEN 'fast' WHEN speed > 50 THEN 'ok' END");

    cr_assert_eq(a->a_kind, BWM_AST_CASE);
    cr_assert_null(a->u.a_case.cs_operand);
    cr_assert_eq(a->u.a_case.cs_n, 2);
    cr_assert_eq(a->u.a_case.cs_when[1]->u.a_bin.b_op, BWM_OP_GT);
    cr_assert_str_eq(a->u.a_case.cs_then[1]->u.a_lit.l_str, "ok");
    cr_assert_null(a->u.a_case.cs_else);
    bwm_ast_destroy(a);

    a = parse_expr("case gear when 1 then 'low' else 'high' end");
    cr_assert_not_null(a->u.a_case.cs_operand);
    assert_column(a->u.a_case.cs_operand, "gear");
    cr_assert_eq(a->u.a_case.cs_n, 1);
    cr_assert_eq(a->u.a_case.cs_when[0]->u.a_lit.l_int, 1);
    cr_assert_str_eq(a->u.a_case.cs_else->u.a_lit.l_str, "high");
    cr_assert_str_eq(sql_of(a), "CASE gear WHEN 1 THEN 'low' ELSE 'high' END");
    bwm_ast_destroy(a);

    {
        static const struct {
            const char *name;
            bwm_sql_type_t type;
            const char *canon;
        } types[] = {
            {"BOOLEAN", BWM_SQL_BOOLEAN, "BOOLEAN"}, {"int", BWM_SQL_INT, "INT"},
            {"Integer", BWM_SQL_INT, "INT"},         {"BIGINT", BWM_SQL_BIGINT, "BIGINT"},
            {"DOUBLE", BWM_SQL_DOUBLE, "DOUBLE"},    {"float", BWM_SQL_DOUBLE, "DOUBLE"},
            {"REAL", BWM_SQL_DOUBLE, "DOUBLE"},      {"STRING", BWM_SQL_STRING, "STRING"},
            {"varchar", BWM_SQL_STRING, "STRING"},   {"TIMESTAMP", BWM_SQL_TIMESTAMP, "TIMESTAMP"},
        };
        size_t i;

        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            char text[64], want[64];

            snprintf(text, sizeof(text), "cast(x + 1 as %s)", types[i].name);
            snprintf(want, sizeof(want), "CAST(x + 1 AS %s)", types[i].canon);
            a = parse_expr(text);
            cr_assert_eq(a->a_kind, BWM_AST_CAST);
            cr_assert_eq(a->u.a_cast.ct_type, types[i].type, "%s", text);
            cr_assert_eq(a->u.a_cast.ct_arg->u.a_bin.b_op, BWM_OP_ADD);
            cr_assert_str_eq(sql_of(a), want);
            bwm_ast_destroy(a);
        }
    }
}

Test(sql, unary)
{
    bwm_ast_t *a = parse_expr("-x");

    cr_assert_eq(a->a_kind, BWM_AST_UNARY);
    cr_assert_eq(a->u.a_un.u_op, BWM_OP_NEG);
    bwm_ast_destroy(a);

    a = parse_expr("NOT NOT on");
    cr_assert_eq(a->u.a_un.u_op, BWM_OP_NOT);
    cr_assert_eq(a->u.a_un.u_arg->u.a_un.u_op, BWM_OP_NOT);
    assert_pos(a->u.a_un.u_arg->a_pos, 1, 5);
    bwm_ast_destroy(a);

    /* '-' before a parenthesised number stays an operator. */
    a = parse_expr("-(2)");
    cr_assert_eq(a->a_kind, BWM_AST_UNARY);
    cr_assert_eq(a->u.a_un.u_arg->u.a_lit.l_int, 2);
    cr_assert_str_eq(sql_of(a), "-(2)");
    bwm_ast_destroy(a);
}

/* Precedence and associativity, seen through the minimal parentheses of the rendering. */
Test(sql, precedence)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a + b * c", "a + b * c"},
        {"(a + b) * c", "(a + b) * c"},
        {"a + (b * c)", "a + b * c"},
        {"(a * b) + c", "a * b + c"},
        {"a - b - c", "a - b - c"},
        {"(a - b) - c", "a - b - c"},
        {"a - (b - c)", "a - (b - c)"},
        {"a / b * c % d", "a / b * c % d"},
        {"a / (b * c)", "a / (b * c)"},
        {"a || b + c", "a || b + c"},
        {"(a || b) + c", "(a || b) + c"},
        {"a || (b || c)", "a || (b || c)"},
        {"-a * b", "-a * b"},
        {"-(a * b)", "-(a * b)"},
        {"- -a", "- -a"},
        {"-(-a)", "- -a"},
        {"a - -1", "a - -1"},
        {"a * -b", "a * -b"},
        {"NOT a = b AND c", "NOT a = b AND c"},
        {"(NOT a = b) AND c", "NOT a = b AND c"},
        {"NOT (a = b AND c)", "NOT (a = b AND c)"},
        {"(NOT a) = b", "(NOT a) = b"},
        {"NOT a OR b", "NOT a OR b"},
        {"a OR b AND c", "a OR b AND c"},
        {"(a OR b) AND c", "(a OR b) AND c"},
        {"a AND b AND c", "a AND b AND c"},
        {"a AND (b AND c)", "a AND (b AND c)"},
        {"a OR (b OR c)", "a OR (b OR c)"},
        {"a = b OR c <> d", "a = b OR c <> d"},
        {"a != b", "a <> b"},
        {"a + 1 < b * 2", "a + 1 < b * 2"},
        {"a<=b", "a <= b"},
        {"a>b", "a > b"},
        {"(a < b) = c", "(a < b) = c"},
        {"a < (b = c)", "a < (b = c)"},
        {"(a = b) IS NULL", "(a = b) IS NULL"},
        {"a + b IS NOT NULL", "a + b IS NOT NULL"},
        {"(a IN (1)) = TRUE", "(a IN (1)) = TRUE"},
        {"a IN (b = c, d OR e)", "a IN (b = c, d OR e)"},
        {"x BETWEEN (a = b) AND c", "x BETWEEN (a = b) AND c"},
        {"x BETWEEN a || b AND c - 1", "x BETWEEN a || b AND c - 1"},
        {"NOT x BETWEEN 1 AND 2", "NOT x BETWEEN 1 AND 2"},
        {"((((a))))", "a"},
        {"f((a + b)) * (c)", "f(a + b) * c"},
        {"CASE WHEN a OR b THEN c + d END * 2", "CASE WHEN a OR b THEN c + d END * 2"},
        {"CAST(a OR b AS BOOLEAN) AND c", "CAST(a OR b AS BOOLEAN) AND c"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_str_eq(canon(cases[i].in), cases[i].out, "%s", cases[i].in);
    }
}

Test(sql, associativity_in_the_tree)
{
    bwm_ast_t *a = parse_expr("a - b - c");

    /* (a - b) - c */
    cr_assert_eq(a->u.a_bin.b_op, BWM_OP_SUB);
    cr_assert_eq(a->u.a_bin.b_left->a_kind, BWM_AST_BINARY);
    assert_column(a->u.a_bin.b_right, "c");
    assert_pos(a->a_pos, 1, 1);
    bwm_ast_destroy(a);

    /* A parenthesised expression starts at its '('. */
    a = parse_expr("x * (a + b)");
    assert_pos(a->u.a_bin.b_right->a_pos, 1, 5);
    bwm_ast_destroy(a);
    a = parse_expr("(a + b) * x");
    assert_pos(a->a_pos, 1, 1);
    assert_pos(a->u.a_bin.b_left->u.a_bin.b_right->a_pos, 1, 6);
    bwm_ast_destroy(a);
}

Test(sql, windows)
{
    static const struct {
        const char *window;
        bwm_window_kind_t kind;
        int64_t size, advance, gap, grace;
    } cases[] = {
        {"WINDOW TUMBLING (SIZE 1 HOUR)", BWM_WINDOW_TUMBLING, 3600000, -1, -1, -1},
        {"window tumbling (size 30 seconds, grace period 0 seconds)", BWM_WINDOW_TUMBLING, 30000,
         -1, -1, 0},
        {"WINDOW TUMBLING (SIZE 1 DAY, GRACE 2 HOURS)", BWM_WINDOW_TUMBLING, 86400000, -1, -1,
         7200000},
        {"WINDOW TUMBLING (SIZE 250 MILLISECONDS)", BWM_WINDOW_TUMBLING, 250, -1, -1, -1},
        {"WINDOW TUMBLING (SIZE 1 MILLISECOND)", BWM_WINDOW_TUMBLING, 1, -1, -1, -1},
        {"WINDOW HOPPING (SIZE 10 MINUTES, ADVANCE BY 1 MINUTE)", BWM_WINDOW_HOPPING, 600000, 60000,
         -1, -1},
        {"WINDOW HOPPING (SIZE 2 DAYS, ADVANCE BY 6 HOURS, GRACE PERIOD 1 SECOND)",
         BWM_WINDOW_HOPPING, 172800000, 21600000, -1, 1000},
        {"WINDOW SESSION (30 MINUTES)", BWM_WINDOW_SESSION, -1, -1, 1800000, -1},
        {"WINDOW SESSION (GAP 5 SECONDS, GRACE 1 MINUTE)", BWM_WINDOW_SESSION, -1, -1, 5000, 60000},
        {"WINDOW SESSION (365000 DAYS)", BWM_WINDOW_SESSION, -1, -1, BWM_SQL_MAX_DURATION_MS, -1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        bwm_script_t *sc;
        const bwm_ast_window_t *w;

        snprintf(text, sizeof(text), "COUNT(*) FROM s %s GROUP BY k", cases[i].window);
        sc = query(text);
        w = &sc->sc_stmts[0].s_window;
        cr_assert_eq(w->w_kind, cases[i].kind, "%s", cases[i].window);
        cr_assert_eq(w->w_size_ms, cases[i].size, "%s", cases[i].window);
        cr_assert_eq(w->w_advance_ms, cases[i].advance, "%s", cases[i].window);
        cr_assert_eq(w->w_gap_ms, cases[i].gap, "%s", cases[i].window);
        cr_assert_eq(w->w_grace_ms, cases[i].grace, "%s", cases[i].window);
        assert_pos(w->w_pos, 1, 42);
        bwm_script_destroy(sc);
    }
}

Test(sql, no_window)
{
    bwm_script_t *sc = query("k, COUNT(*) FROM s GROUP BY k");
    const bwm_ast_window_t *w = &sc->sc_stmts[0].s_window;

    cr_assert_eq(w->w_kind, BWM_WINDOW_NONE);
    cr_assert_eq(w->w_size_ms, -1);
    cr_assert_eq(w->w_advance_ms, -1);
    cr_assert_eq(w->w_gap_ms, -1);
    cr_assert_eq(w->w_grace_ms, -1);
    bwm_script_destroy(sc);
}

Test(sql, emit)
{
    static const struct {
        const char *rest;
        bwm_emit_t emit;
        int col;
    } cases[] = {
        {"a FROM s", BWM_EMIT_DEFAULT, 0},
        {"a FROM s EMIT CHANGES", BWM_EMIT_CHANGES, 35},
        {"a FROM s emit final", BWM_EMIT_FINAL, 35},
        {"a FROM s GROUP BY a Emit Final;", BWM_EMIT_FINAL, 46},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_script_t *sc = query(cases[i].rest);

        cr_assert_eq(sc->sc_stmts[0].s_emit, cases[i].emit, "%s", cases[i].rest);
        cr_assert_eq(sc->sc_stmts[0].s_emit_pos.p_col, cases[i].col, "%s", cases[i].rest);
        bwm_script_destroy(sc);
    }
}

Test(sql, all_clauses)
{
    bwm_script_t *sc = query("k, SUM(x) AS total FROM s WHERE x > 0 WINDOW HOPPING (SIZE 1 "
                             "MINUTE, ADVANCE BY 10 SECONDS) GROUP BY k, UPPER(j) HAVING "
                             "SUM(x) > 10 EMIT FINAL");
    const bwm_stmt_t *st = &sc->sc_stmts[0];

    cr_assert_eq(st->s_nitems, 2);
    cr_assert_str_eq(sql_of(st->s_where), "x > 0");
    cr_assert_eq(st->s_window.w_kind, BWM_WINDOW_HOPPING);
    cr_assert_eq(st->s_ngroup, 2);
    cr_assert_str_eq(sql_of(st->s_group_by[1]), "UPPER(j)");
    cr_assert_str_eq(sql_of(st->s_having), "SUM(x) > 10");
    cr_assert_eq(st->s_emit, BWM_EMIT_FINAL);
    bwm_script_destroy(sc);
}

Test(sql, stateless_stream_query)
{
    bwm_script_t *sc = parse("CREATE STREAM fast WITH (topic = 'fast') AS\n"
                             "  SELECT vin, speed * 3.6 AS kmh FROM telemetry WHERE speed > 30;");
    const bwm_stmt_t *st;

    cr_assert_eq(sc->sc_n, 1);
    st = &sc->sc_stmts[0];
    cr_assert_eq(st->s_kind, BWM_STMT_QUERY);
    cr_assert_eq(st->s_table, 0);
    cr_assert_str_eq(st->s_name.i_name, "fast");
    cr_assert_eq(st->s_nitems, 2);
    cr_assert_str_eq(sql_of(st->s_items[1].si_expr), "speed * 3.6");
    cr_assert_str_eq(st->s_items[1].si_alias.i_name, "kmh");
    cr_assert_eq(st->s_ngroup, 0);
    cr_assert_eq(st->s_window.w_kind, BWM_WINDOW_NONE);
    cr_assert_eq(st->s_emit, BWM_EMIT_DEFAULT);
    bwm_script_destroy(sc);

    /* Without WITH. */
    sc = parse("create stream s2 as select * from s");
    st = &sc->sc_stmts[0];
    cr_assert_eq(st->s_kind, BWM_STMT_QUERY);
    cr_assert_eq(st->s_nprops, 0);
    cr_assert_null(st->s_props);
    cr_assert_eq(st->s_nitems, 1);
    cr_assert_eq(st->s_items[0].si_expr->a_kind, BWM_AST_STAR);
    bwm_script_destroy(sc);
}

Test(sql, select_items)
{
    bwm_script_t *sc = query("*, a b, c AS `d e`, f \"g\", 1 + 2 FROM s");
    const bwm_stmt_t *st = &sc->sc_stmts[0];

    cr_assert_eq(st->s_nitems, 5);
    cr_assert_eq(st->s_items[0].si_expr->a_kind, BWM_AST_STAR);
    assert_pos(st->s_items[0].si_expr->a_pos, 1, 26);
    cr_assert_null(st->s_items[0].si_alias.i_name);
    cr_assert_str_eq(st->s_items[1].si_alias.i_name, "b");
    cr_assert_str_eq(st->s_items[2].si_alias.i_name, "d e");
    cr_assert_eq(st->s_items[2].si_alias.i_quoted, 1);
    cr_assert_str_eq(st->s_items[3].si_alias.i_name, "g");
    cr_assert_null(st->s_items[4].si_alias.i_name);
    bwm_script_destroy(sc);
}

Test(sql, properties)
{
    bwm_script_t *sc = parse("CREATE STREAM s WITH (topic = 's', partitions = 12, "
                             "replicas = -1, ratio = 0.5, `key.format` = 'kafka', compact = TRUE, "
                             "\"x\" = false)");
    const bwm_stmt_t *st = &sc->sc_stmts[0];

    cr_assert_eq(st->s_nprops, 7);
    cr_assert_eq(st->s_props[1].pr_value->u.a_lit.l_int, 12);
    cr_assert_eq(st->s_props[2].pr_value->u.a_lit.l_int, -1);
    assert_pos(st->s_props[2].pr_value->a_pos, 1, 64);
    cr_assert_eq(st->s_props[3].pr_value->u.a_lit.l_double, 0.5);
    cr_assert_str_eq(st->s_props[4].pr_name.i_name, "key.format");
    cr_assert_eq(st->s_props[4].pr_name.i_quoted, 1);
    cr_assert_eq(st->s_props[5].pr_value->u.a_lit.l_kind, BWM_LIT_BOOL);
    cr_assert_eq(st->s_props[5].pr_value->u.a_lit.l_bool, 1);
    cr_assert_eq(st->s_props[6].pr_value->u.a_lit.l_bool, 0);
    bwm_script_destroy(sc);
}

Test(sql, comments_and_case)
{
    bwm_script_t *sc = parse("-- a job\n"
                             "create /* inline */ table T as\n"
                             "select /* a\n"
                             "   multi-line comment */ Vin, count(*) as N -- trailing\n"
                             "from S where X = 1 -- ; not a separator\n"
                             "window tumbling (size 1 hour) group by Vin emit changes;\n"
                             "/* done */ -- end");
    const bwm_stmt_t *st;

    cr_assert_eq(sc->sc_n, 1);
    st = &sc->sc_stmts[0];
    assert_pos(st->s_pos, 2, 1);
    cr_assert_eq(st->s_table, 1);
    cr_assert_str_eq(st->s_name.i_name, "T");
    assert_pos(st->s_items[0].si_expr->a_pos, 4, 26);
    cr_assert_str_eq(st->s_items[1].si_alias.i_name, "N");
    cr_assert_str_eq(st->s_from.i_name, "S");
    cr_assert_eq(st->s_window.w_kind, BWM_WINDOW_TUMBLING);
    cr_assert_eq(st->s_emit, BWM_EMIT_CHANGES);
    bwm_script_destroy(sc);

    /* "--" ends a comment at a newline only; "/" and "-" alone are operators. */
    sc = parse("CREATE TABLE t AS SELECT a/b, a-b, a - -b FROM s--x");
    st = &sc->sc_stmts[0];
    cr_assert_eq(st->s_nitems, 3);
    cr_assert_str_eq(sql_of(st->s_items[0].si_expr), "a / b");
    cr_assert_str_eq(sql_of(st->s_items[1].si_expr), "a - b");
    cr_assert_str_eq(sql_of(st->s_items[2].si_expr), "a - -b");
    cr_assert_str_eq(st->s_from.i_name, "s");
    bwm_script_destroy(sc);
}

Test(sql, statements_and_separators)
{
    static const struct {
        const char *text;
        size_t n;
    } cases[] = {
        {"", 0},
        {"  \n\t ", 0},
        {"-- nothing\n/* at all */", 0},
        {";;;", 0},
        {"CREATE STREAM s WITH (topic = 't')", 1},
        {"CREATE STREAM s WITH (topic = 't');", 1},
        {";CREATE STREAM s WITH (topic = 't');;", 1},
        {"CREATE STREAM s WITH (topic = 't'); CREATE STREAM u WITH (topic = 'u')", 2},
        {"CREATE STREAM s WITH (topic='t');CREATE TABLE x AS SELECT a FROM s;", 2},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_script_t *sc = parse(cases[i].text);

        cr_assert_eq(sc->sc_n, cases[i].n, "%s", cases[i].text);
        bwm_script_destroy(sc);
    }
}

Test(sql, positions_count_bytes_and_lines)
{
    /* A tab and a CR count as one column each; a multi-byte character as its bytes. */
    bwm_script_t *sc = parse("CREATE TABLE t AS\r\n"
                             "\tSELECT 'é' AS e,\r\n"
                             "\t\tb\r\n"
                             "FROM s");
    const bwm_stmt_t *st = &sc->sc_stmts[0];

    assert_pos(st->s_items[0].si_expr->a_pos, 2, 9);
    cr_assert_eq(st->s_items[0].si_expr->a_pos.p_offset, 27);
    assert_pos(st->s_items[0].si_alias.i_pos, 2, 17);
    assert_pos(st->s_items[1].si_expr->a_pos, 3, 3);
    assert_pos(st->s_from.i_pos, 4, 6);
    bwm_script_destroy(sc);
}

Test(sql, limits_at_the_edge)
{
    size_t n = BWM_SQL_MAX_DEPTH, i, len;
    char *text = malloc(8 * BWM_SQL_MAX_LIST + 64);
    bwm_ast_t *a;
    bwm_script_t *sc;

    /* BWM_SQL_MAX_DEPTH - 1 parentheses around a name. */
    len = 0;
    for (i = 0; i + 1 < n; i++) {
        text[len++] = '(';
    }
    text[len++] = 'x';
    for (i = 0; i + 1 < n; i++) {
        text[len++] = ')';
    }
    a = bwm_sql_parse_expr(text, len, NULL);
    cr_assert_not_null(a);
    bwm_ast_destroy(a);

    /* A chain of BWM_SQL_MAX_DEPTH - 1 additions: the tree is that high. */
    len = 0;
    text[len++] = 'x';
    for (i = 0; i + 1 < n; i++) {
        memcpy(text + len, "+x", 2);
        len += 2;
    }
    a = bwm_sql_parse_expr(text, len, NULL);
    cr_assert_not_null(a);
    bwm_ast_destroy(a);

    /* BWM_SQL_MAX_LIST select items. */
    len = (size_t)sprintf(text, "CREATE TABLE t AS SELECT x");
    for (i = 1; i < BWM_SQL_MAX_LIST; i++) {
        memcpy(text + len, ",x", 2);
        len += 2;
    }
    len += (size_t)sprintf(text + len, " FROM s");
    sc = bwm_sql_parse(text, len, NULL);
    cr_assert_not_null(sc);
    cr_assert_eq(sc->sc_stmts[0].s_nitems, BWM_SQL_MAX_LIST);
    bwm_script_destroy(sc);
    free(text);

    /* Names and strings of the largest size. */
    text = malloc(BWM_SQL_MAX_STRING + 8);
    memset(text, 'n', BWM_SQL_MAX_NAME);
    a = bwm_sql_parse_expr(text, BWM_SQL_MAX_NAME, NULL);
    cr_assert_not_null(a);
    cr_assert_eq(strlen(a->u.a_col.c_path[0].i_name), BWM_SQL_MAX_NAME);
    bwm_ast_destroy(a);
    text[0] = '\'';
    memset(text + 1, 's', BWM_SQL_MAX_STRING);
    text[BWM_SQL_MAX_STRING + 1] = '\'';
    a = bwm_sql_parse_expr(text, BWM_SQL_MAX_STRING + 2, NULL);
    cr_assert_not_null(a);
    cr_assert_eq(a->u.a_lit.l_len, BWM_SQL_MAX_STRING);
    bwm_ast_destroy(a);
    free(text);
}

/* ---------------------------------------------------------------- round trip */

Test(sql_roundtrip, render_parse_render)
{
    static const char *const exprs[] = {
        "a",
        "`weird name`.\"x\"\"y\"",
        "a + b * c - d / e % f",
        "(a + b) * (c - d)",
        "a - (b - (c - d))",
        "a || 'x' || (b || c)",
        "NOT (a OR b) AND NOT c = d",
        "(NOT a) = (NOT b)",
        "x IS NULL OR y IS NOT NULL",
        "(x IS NULL) = FALSE",
        "x NOT IN (1, 2.5, 'three', NULL, TRUE, -4)",
        "x BETWEEN -1 AND 1 AND y NOT BETWEEN a * 2 AND (b OR c)",
        "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
        "CASE x + 1 WHEN 1 THEN 'a' END || 'b'",
        "CAST(CAST(x AS STRING) AS BIGINT) + CAST('1' AS double)",
        "COUNT(*) + count(DISTINCT x) + f() + g(a, b, h(c))",
        "-9223372036854775808",
        "- -9223372036854775807",
        "-(1)",
        "-(-(1))",
        "--comment\n-x",
        "- - -x",
        "-0.0 + 0.1 + 1e300 + 1e-300 + 123456789.123456789 + 5e-324",
        "1.0 * 100 / 3.",
        "'it''s' = 'it' || '''s'",
        "'multi\nline'",
        "((a < b) = (c >= d)) <> (e != f)",
        "a.b.c.d = x.`y`.z",
        "NOT NOT NOT a",
        "f(NOT a, -b, CASE WHEN c THEN d END)",
    };
    size_t i;

    for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        bwm_ast_t *a = parse_expr(exprs[i]), *b;
        char first[4096];

        snprintf(first, sizeof(first), "%s", sql_of(a));
        b = parse_expr(first);
        cr_expect_str_eq(sql_of(b), first, "%s", exprs[i]);
        cr_expect(ast_eq(a, b), "%s -> %s parses to another tree", exprs[i], first);
        bwm_ast_destroy(a);
        bwm_ast_destroy(b);
    }
}

Test(sql_roundtrip, doubles_render_to_the_same_value)
{
    static const double values[] = {
        0.1, 0.95, 1.0 / 3, 2.5e-8, 1e21, 123.0, 1.7976931348623157e308, 4.9e-324};
    size_t i;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        bwm_ast_t lit = {.a_kind = BWM_AST_LITERAL};
        bwm_ast_t *b;

        lit.u.a_lit.l_kind = BWM_LIT_DOUBLE;
        lit.u.a_lit.l_double = values[i];
        b = parse_expr(sql_of(&lit));
        cr_assert_eq(b->u.a_lit.l_kind, BWM_LIT_DOUBLE, "%s", sql_of(&lit));
        cr_assert_eq(b->u.a_lit.l_double, values[i], "%s", sql_of(&lit));
        bwm_ast_destroy(b);
    }
    cr_assert_str_eq(canon("0.10"), "0.1");
    cr_assert_str_eq(canon("100.000"), "100.0");
    cr_assert_str_eq(canon("1e21"), "1e+21");
}

Test(sql, destroy_null)
{
    bwm_ast_destroy(NULL);
    bwm_script_destroy(NULL);
}
