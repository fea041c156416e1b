/*
 * test_expr.c: typed expressions, as a table of SQL text and expected value:
 * arithmetic, comparison, three-valued logic, IS NULL, IN, BETWEEN, CASE,
 * CAST, the scalar functions, overflow (an error) and division by zero
 * (NULL).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/expr.h"
#include "core/hash.h"
#include "core/sql.h"

/* The columns every expression here may use, and their values. */
enum { C_I, C_D, C_S, C_B, C_N, C_U, NCOLS };
static const char *const names[NCOLS] = {"i", "d", "s", "b", "n", "u"};
static const bwm_type_t types[NCOLS] = {BWM_T_LONG, BWM_T_DOUBLE, BWM_T_STRING,
                                        BWM_T_BOOL, BWM_T_LONG,   BWM_T_STRING};

static int column(void *opaque, const bwm_ast_t *col, bwm_ref_t *ref, bwm_sql_error_t *err)
{
    int i;

    (void)opaque;
    for (i = 0; i < NCOLS; i++) {
        if (strcasecmp(col->u.a_col.c_path[0].i_name, names[i]) == 0) {
            ref->r_index = i;
            ref->r_type = types[i];
            ref->r_nullable = i == C_N;
            ref->r_logical = NULL;
            return 0;
        }
    }
    err->se_pos = col->a_pos;
    snprintf(err->se_message, sizeof(err->se_message), "no column %s",
             col->u.a_col.c_path[0].i_name);
    return -1;
}

static bwm_value_t slots[NCOLS];

static void setup_slots(void)
{
    slots[C_I].v_type = BWM_T_LONG;
    slots[C_I].u.v_long = 7;
    slots[C_D].v_type = BWM_T_DOUBLE;
    slots[C_D].u.v_double = 2.5;
    slots[C_S].v_type = BWM_T_STRING;
    slots[C_S].u.v_str.p = "Hello";
    slots[C_S].u.v_str.n = 5;
    slots[C_B].v_type = BWM_T_BOOL;
    slots[C_B].u.v_bool = 1;
    slots[C_N].v_type = BWM_T_NULL;
    slots[C_U].v_type = BWM_T_STRING;
    slots[C_U].u.v_str.p = "\xc3\xa9t\xc3\xa9!"; /* "été!": 4 code points, 6 bytes */
    slots[C_U].u.v_str.n = 6;
}

/* Expected: a type and a value written as text ("NULL" for null, "ERROR" for an error). */
typedef struct expr_case {
    const char *sql;
    const char *want;
} expr_case_t;

static void render(const bwm_value_t *v, char *out, size_t size)
{
    switch (v->v_type) {
        case BWM_T_NULL:
            snprintf(out, size, "NULL");
            break;
        case BWM_T_BOOL:
            snprintf(out, size, "%s", v->u.v_bool ? "TRUE" : "FALSE");
            break;
        case BWM_T_LONG:
            snprintf(out, size, "%lld", (long long)v->u.v_long);
            break;
        case BWM_T_DOUBLE: {
            char d[BWM_DOUBLE_TEXT];

            bwm_double_text(v->u.v_double, d);
            snprintf(out, size, "%s", d);
            break;
        }
        case BWM_T_STRING:
            snprintf(out, size, "'%.*s'", (int)v->u.v_str.n, v->u.v_str.p);
            break;
    }
}

static void run_case(const expr_case_t *c)
{
    bwm_expr_scope_t scope = {column, NULL, NULL, NULL};
    bwm_sql_error_t err;
    bwm_ast_t *a = bwm_sql_parse_expr(c->sql, strlen(c->sql), &err);
    bwm_expr_t *x = NULL;
    bwm_arena_t arena;
    char error[256] = "", got[128];
    bwm_eval_t ev = {slots, NULL, NULL, &arena, error, sizeof(error)};
    bwm_value_t v;
    bwm_err_t rc;

    cr_assert_not_null(a, "%s: %s", c->sql, err.se_message);
    cr_assert_eq(bwm_expr_compile(a, &scope, &x, &err), BWM_OK, "%s: %s", c->sql, err.se_message);
    bwm_arena_init(&arena, 1 << 16);
    rc = bwm_expr_eval(x, &ev, &v);
    if (rc != BWM_OK) {
        snprintf(got, sizeof(got), "ERROR");
    } else {
        render(&v, got, sizeof(got));
        /* The value has the compiled type, or is NULL. */
        cr_assert(v.v_type == BWM_T_NULL || v.v_type == bwm_expr_type(x), "%s: type", c->sql);
    }
    cr_assert_str_eq(got, c->want, "%s", c->sql);
    bwm_arena_free(&arena);
    bwm_expr_destroy(x);
    bwm_ast_destroy(a);
}

Test(expr, arithmetic_overflow_and_division_by_zero, .init = setup_slots)
{
    static const expr_case_t cases[] = {
        {"i + 1", "8"},
        {"i * d", "17.5"},
        {"i / 2", "3"},
        {"-7 / 2", "-3"},
        {"i % 4", "3"},
        {"d / 2", "1.25"},
        {"i / 0", "NULL"},
        {"d / 0", "NULL"},
        {"i % 0", "NULL"},
        {"9223372036854775807 + 1", "ERROR"},
        {"-9223372036854775807 - 2", "ERROR"},
        {"4611686018427387904 * 2", "ERROR"},
        {"-(-9223372036854775807 - 1)", "ERROR"},
        {"(-9223372036854775807 - 1) / -1", "ERROR"},
        {"(-9223372036854775807 - 1) % -1", "0"},
        {"n + 1", "NULL"},
        {"s || '!'", "'Hello!'"},
        {"s || CAST(n AS STRING)", "NULL"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

Test(expr, three_valued_logic, .init = setup_slots)
{
    static const expr_case_t cases[] = {
        {"i > 5 AND b", "TRUE"},
        {"n > 1 AND FALSE", "FALSE"},
        {"n > 1 AND TRUE", "NULL"},
        {"n > 1 OR TRUE", "TRUE"},
        {"n > 1 OR FALSE", "NULL"},
        {"NOT (n > 1)", "NULL"},
        {"n IS NULL", "TRUE"},
        {"i IS NOT NULL", "TRUE"},
        {"(n = 1) IS NULL", "TRUE"},
        {"i = 7.0", "TRUE"},
        {"s < 'World'", "TRUE"},
        {"s <> 'Hello'", "FALSE"},
        {"s != 'hello'", "TRUE"},
        {"i IN (1, 7, 9)", "TRUE"},
        {"i IN (1, 2)", "FALSE"},
        {"i IN (1, NULL)", "NULL"},
        {"i IN (7, NULL)", "TRUE"},
        {"i NOT IN (1, NULL)", "NULL"},
        {"i NOT IN (1, 2)", "TRUE"},
        {"n IN (1, 2)", "NULL"},
        {"d BETWEEN 2 AND 3", "TRUE"},
        {"d NOT BETWEEN 2 AND 3", "FALSE"},
        {"d BETWEEN 3 AND n", "FALSE"},
        {"d BETWEEN 1 AND n", "NULL"},
        {"'b' BETWEEN 'a' AND 'c'", "TRUE"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

Test(expr, case_cast_and_functions, .init = setup_slots)
{
    static const expr_case_t cases[] = {
        {"CASE WHEN i > 5 THEN 'big' ELSE 'small' END", "'big'"},
        {"CASE WHEN n > 5 THEN 'big' END", "NULL"},
        {"CASE i WHEN 1 THEN 10 WHEN 7 THEN 70 ELSE 0 END", "70"},
        {"CASE n WHEN 1 THEN 10 ELSE 0 END", "0"},
        {"CASE WHEN b THEN 1 ELSE 2.5 END", "1.0"},
        {"CAST(d AS BIGINT)", "2"},
        {"CAST(-2.9 AS INT)", "-2"},
        {"CAST(1e30 AS BIGINT)", "ERROR"},
        {"CAST(4000000000 AS INT)", "ERROR"},
        {"CAST('42' AS BIGINT)", "42"},
        {"CAST('4x2' AS BIGINT)", "NULL"},
        {"CAST('2.5' AS DOUBLE)", "2.5"},
        {"CAST(i AS STRING)", "'7'"},
        {"CAST(d AS VARCHAR)", "'2.5'"},
        {"CAST(b AS STRING)", "'true'"},
        {"CAST('TRUE' AS BOOLEAN)", "TRUE"},
        {"CAST('yes' AS BOOLEAN)", "NULL"},
        {"CAST(i AS TIMESTAMP)", "7"},
        {"ABS(-3)", "3"},
        {"ABS(-9223372036854775807 - 1)", "ERROR"},
        {"ABS(-2.5)", "2.5"},
        {"ROUND(2.567, 2)", "2.57"},
        {"ROUND(d)", "3.0"},
        {"ROUND(1250, -2)", "1300"},
        {"ROUND(-1250, -2)", "-1300"},
        {"FLOOR(-2.5)", "-3.0"},
        {"CEIL(2.1)", "3.0"},
        {"FLOOR(i)", "7"},
        {"COALESCE(n, i)", "7"},
        {"COALESCE(n, 2.5)", "2.5"},
        {"COALESCE(n, n)", "NULL"},
        {"LOWER(s)", "'hello'"},
        {"UPPER(s)", "'HELLO'"},
        {"LEN(s)", "5"},
        {"LEN(u)", "4"},
        {"SUBSTRING(s, 2, 3)", "'ell'"},
        {"SUBSTRING(s, 4)", "'lo'"},
        {"SUBSTRING(s, 0, 2)", "'H'"},
        {"SUBSTRING(s, 10)", "''"},
        {"SUBSTRING(s, 2, -1)", "NULL"},
        {"SUBSTRING(u, 2, 2)", "'t\xc3\xa9'"},
        {"SUBSTR(s, 1, 1)", "'H'"},
        {"LENGTH(LOWER(s || s))", "10"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

Test(expr, compile_errors, .init = setup_slots)
{
    static const struct {
        const char *sql;
        const char *message;
    } cases[] = {
        {"s + 1", "arithmetic needs a number, got STRING"},
        {"i AND b", "AND needs BOOLEAN, got BIGINT"},
        {"s = 1", "cannot compare STRING with BIGINT"},
        {"FOO(i)", "unknown function FOO"},
        {"ROUND(i, 1, 2)", "ROUND takes 1 or 2 arguments, got 3"},
        {"COALESCE()", "COALESCE takes at least 1 argument, got 0"},
        {"COALESCE(i, s)", "COALESCE arguments must have one type: BIGINT and STRING"},
        {"SUM(i)", "aggregate SUM is not allowed here"},
        {"UPPER(i)", "UPPER needs STRING, got BIGINT"},
        {"x + 1", "no column x"},
        {"CASE WHEN i THEN 1 END", "WHEN needs a BOOLEAN condition, got BIGINT"},
        {"i || s", "|| needs STRING, got BIGINT"},
    };
    bwm_expr_scope_t scope = {column, NULL, NULL, NULL};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_sql_error_t err;
        bwm_ast_t *a = bwm_sql_parse_expr(cases[i].sql, strlen(cases[i].sql), &err);
        bwm_expr_t *x = NULL;

        cr_assert_not_null(a, "%s: %s", cases[i].sql, err.se_message);
        cr_assert_eq(bwm_expr_compile(a, &scope, &x, &err), BWM_ERR_PARSE, "%s", cases[i].sql);
        cr_assert_null(x);
        cr_assert(strstr(err.se_message, cases[i].message), "%s: got '%s'", cases[i].sql,
                  err.se_message);
        bwm_ast_destroy(a);
    }
}

Test(expr, arena_limit_is_an_error, .init = setup_slots)
{
    bwm_expr_scope_t scope = {column, NULL, NULL, NULL};
    const char *sql = "s || s || s || s || s || s || s || s";
    bwm_sql_error_t err;
    bwm_ast_t *a = bwm_sql_parse_expr(sql, strlen(sql), &err);
    bwm_expr_t *x = NULL;
    bwm_arena_t arena;
    char error[256] = "";
    bwm_eval_t ev = {slots, NULL, NULL, &arena, error, sizeof(error)};
    bwm_value_t v;

    cr_assert_eq(bwm_expr_compile(a, &scope, &x, &err), BWM_OK);
    bwm_arena_init(&arena, 64);
    cr_assert_eq(bwm_expr_eval(x, &ev, &v), BWM_ERR_LIMIT);
    cr_assert(strstr(error, "memory limit"), "%s", error);
    bwm_arena_free(&arena);
    bwm_expr_destroy(x);
    bwm_ast_destroy(a);
}

/*
 * A condition as WHERE tests it (bwm_expr_test(), which takes a flat way
 * for an AND of column-constant comparisons) against the condition's value
 * from the expression tree, over random rows: nulls, NaN, equal and
 * neighbouring values, either side of the comparison.
 */
Test(expr, where_test_agrees_with_the_tree, .init = setup_slots)
{
    static const char *const conditions[] = {
        "b = true AND d >= 0",
        "i > 5",
        "0 <= d AND 3 > i AND s <> 'Hello'",
        "d < 2.5 AND i >= 7.0 AND n <> 1",
        "'M' <= s AND s < 'm' AND b <> false",
        "i = 7 AND (d > 1 AND (n >= 0 AND 2 = i))",
        "i <= -1 AND 1.5 < d",
        "i > 5 OR d < 0",
        "b AND i > 5",
        "i + 1 > 5 AND d >= 0",
        "i > n AND d >= 0",
        /* every operator, for each kind compared in place: doubles, integers, a mix, booleans */
        "d = 2.5",
        "d <> 2.5",
        "d <= 2.5",
        "d > 0",
        "d >= 2",
        "i = 7",
        "i <> 0",
        "i < 7",
        "i >= 2",
        "i <= 7.5",
        "i = 7.0",
        "i <> 2.0",
        "i < 2.5",
        "i > 0.5",
        "b = false",
        "b <> true",
    };
    static const double doubles[] = {-1.5, 0.0, 2.5, 2.4999, NAN, 1e300};
    static const int64_t longs[] = {-1, 0, 2, 7, 8, INT64_MIN};
    static const char *const strings[] = {"Hello", "Hellp", "M", "m", "", "zz"};
    bwm_expr_scope_t scope = {column, NULL, NULL, NULL};
    uint64_t rng = 505;
    size_t c, k, agreed = 0, held = 0;

    for (c = 0; c < sizeof(conditions) / sizeof(conditions[0]); c++) {
        bwm_sql_error_t err;
        bwm_ast_t *a = bwm_sql_parse_expr(conditions[c], strlen(conditions[c]), &err);
        bwm_expr_t *x = NULL;
        bwm_arena_t arena;
        char error[256] = "";
        bwm_eval_t ev = {slots, NULL, NULL, &arena, error, sizeof(error)};

        cr_assert_not_null(a, "%s: %s", conditions[c], err.se_message);
        cr_assert_eq(bwm_expr_compile(a, &scope, &x, &err), BWM_OK, "%s: %s", conditions[c],
                     err.se_message);
        bwm_arena_init(&arena, 1 << 16);
        for (k = 0; k < 2000; k++) {
            uint64_t r = bwm_xorshift64s(&rng);
            int nulls = (int)(r % 5); /* column left null: none for 0 and 4 */
            bwm_value_t v;
            int tree;

            slots[C_I].v_type = nulls == 1 ? BWM_T_NULL : BWM_T_LONG;
            slots[C_I].u.v_long = longs[(r >> 8) % 6];
            slots[C_D].v_type = nulls == 2 ? BWM_T_NULL : BWM_T_DOUBLE;
            slots[C_D].u.v_double = doubles[(r >> 16) % 6];
            slots[C_S].v_type = nulls == 3 ? BWM_T_NULL : BWM_T_STRING;
            slots[C_S].u.v_str.p = strings[(r >> 24) % 6];
            slots[C_S].u.v_str.n = strlen(strings[(r >> 24) % 6]);
            slots[C_B].v_type = BWM_T_BOOL;
            slots[C_B].u.v_bool = (int)((r >> 32) & 1);
            slots[C_N].v_type = (r >> 33) & 1 ? BWM_T_NULL : BWM_T_LONG;
            slots[C_N].u.v_long = (int64_t)((r >> 34) % 3) - 1;
            cr_assert_eq(bwm_expr_eval(x, &ev, &v), BWM_OK, "%s", conditions[c]);
            tree = v.v_type == BWM_T_BOOL && v.u.v_bool;
            cr_assert_eq(bwm_expr_test(x, &ev), tree, "%s, row %zu", conditions[c], k);
            agreed++;
            held += tree;
        }
        bwm_arena_free(&arena);
        bwm_expr_destroy(x);
        bwm_ast_destroy(a);
    }
    /* The rows reach both outcomes. */
    cr_assert(held > 0 && held < agreed, "%zu of %zu rows held", held, agreed);
}
