/*
 * test_sql_errors.c: the job-language parser on malformed text: a table of
 * scripts with the exact message and line:column of each error, the limits
 * that protect the stack and memory, and the formatting of errors with the
 * offending line and a caret.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sql.h"

static const struct {
    const char *text;
    int line, col;
    const char *message;
} bad[] = {
    {"SELECT a FROM s", 1, 1,
     "expected CREATE STREAM or CREATE TABLE at the start of a statement, found SELECT"},
    {"CREATE VIEW v AS SELECT a FROM s", 1, 8,
     "expected TABLE or STREAM after CREATE, found 'VIEW'"},
    {"CREATE TABLE select AS SELECT a FROM s", 1, 14,
     "expected a name after CREATE TABLE, found SELECT (a reserved word: write `select` to use it "
     "as a name)"},
    {"CREATE TABLE t", 1, 15, "expected WITH or AS after CREATE TABLE t, found end of input"},
    {"CREATE TABLE t WITH (topic = 'x');", 1, 34,
     "expected AS after CREATE TABLE t WITH (...), found ';'"},
    {"CREATE STREAM s;", 1, 16, "expected WITH or AS after CREATE STREAM s, found ';'"},
    {"CREATE STREAM s WITH topic = 'x'", 1, 22, "expected '(' after WITH, found 'topic'"},
    {"CREATE STREAM s WITH ()", 1, 23, "expected a property name in WITH (...), found ')'"},
    {"CREATE STREAM s WITH (topic 'x')", 1, 29,
     "expected '=' after the property name 'topic', found string 'x'"},
    {"CREATE STREAM s WITH (topic = \"x\")", 1, 31,
     "expected a string, number, TRUE or FALSE as the value of 'topic', found \"x\" (a string "
     "takes single quotes: 'text')"},
    {"CREATE STREAM s WITH (topic = x)", 1, 31,
     "expected a string, number, TRUE or FALSE as the value of 'topic', found 'x'"},
    {"CREATE STREAM s WITH (topic = 'x' format = 'avro')", 1, 35,
     "expected ',' or ')' in WITH (...), found 'format'"},
    {"CREATE STREAM s WITH (topic = 'x',)", 1, 35,
     "expected a property name in WITH (...), found ')'"},
    {"CREATE STREAM s WITH (topic = 'x';", 1, 34, "expected ',' or ')' in WITH (...), found ';'"},
    {"CREATE STREAM s WITH (topic = 'x')\nCREATE STREAM u WITH (topic = 'y')", 2, 1,
     "expected ';' after the statement, found CREATE"},
    {"CREATE TABLE t AS a FROM s", 1, 19, "expected SELECT after AS, found 'a'"},
    {"CREATE TABLE t AS SELECT FROM s", 1, 26, "expected an expression, found FROM"},
    {"CREATE TABLE t AS SELECT a, FROM s", 1, 29, "expected an expression, found FROM"},
    {"CREATE TABLE t AS SELECT a b c FROM s", 1, 30,
     "expected FROM after the select list, found 'c'"},
    {"CREATE TABLE t AS SELECT vin, COUNT(*)\nGROUP BY vin", 2, 1,
     "expected FROM after the select list, found GROUP"},
    {"CREATE TABLE t AS SELECT a AS FROM s", 1, 31,
     "expected a name after AS, found FROM (a reserved word: write `FROM` to use it as a name)"},
    {"CREATE TABLE t AS SELECT a FROM;", 1, 32, "expected a stream name after FROM, found ';'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE", 1, 40,
     "expected an expression, found end of input"},
    {"CREATE TABLE t AS SELECT a FROM s GROUP a", 1, 41, "expected BY after GROUP, found 'a'"},
    {"CREATE TABLE t AS SELECT a FROM s\nGROUP BY a\nWHERE a > 1", 3, 1,
     "WHERE must come before GROUP BY"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a > 1 WHERE b > 1", 1, 47, "duplicate WHERE"},
    {"CREATE TABLE t AS SELECT a FROM s GROUP BY a WINDOW TUMBLING (SIZE 1 HOUR)", 1, 46,
     "WINDOW must come before GROUP BY"},
    {"CREATE TABLE t AS SELECT a FROM s EMIT LATEST", 1, 40,
     "expected CHANGES or FINAL after EMIT, found 'LATEST'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW SLIDING (SIZE 1 HOUR)", 1, 42,
     "expected TUMBLING, HOPPING or SESSION after WINDOW, found 'SLIDING'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING SIZE 1 HOUR", 1, 51,
     "expected '(' after WINDOW TUMBLING, found 'SIZE'"},
    {"CREATE TABLE t AS SELECT a FROM s\nWINDOW TUMBLING (SIZE 1 HOURZ)", 2, 25,
     "expected a duration unit (MILLISECOND, SECOND, MINUTE, HOUR, DAY), found 'HOURZ'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE HOUR)", 1, 57,
     "expected a duration after SIZE, as in 5 MINUTES, found 'HOUR'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1.5 HOURS)", 1, 57,
     "a duration must be a whole number of units, found 1.5"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 0 HOURS)", 1, 57,
     "SIZE must be greater than 0"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 99999999999999999999 HOURS)", 1, 57,
     "integer literal out of range"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 365001 DAYS)", 1, 57,
     "duration out of range (the limit is 365000 days)"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (GRACE 5 MINUTES)", 1, 42,
     "WINDOW TUMBLING needs SIZE"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR, GRACE 1 MINUTE, GRACE 2 "
     "MINUTES)",
     1, 81, "duplicate GRACE"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR, SIZE 2 HOURS)", 1, 65,
     "duplicate SIZE"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR, ADVANCE BY 1 MINUTE)", 1, 65,
     "ADVANCE BY belongs to WINDOW HOPPING, not WINDOW TUMBLING"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR GRACE 1 MINUTE)", 1, 64,
     "expected ',' or ')' in WINDOW TUMBLING (...), found 'GRACE'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (1 HOUR)", 1, 52,
     "expected SIZE or GRACE in WINDOW TUMBLING (...), found 1"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW HOPPING (SIZE 1 HOUR)", 1, 42,
     "WINDOW HOPPING needs ADVANCE BY"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW HOPPING (SIZE 1 HOUR, ADVANCE 5 MINUTES)", 1, 72,
     "expected BY after ADVANCE, found 5"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW HOPPING (SIZE 1 HOUR, ADVANCE BY 0 MINUTES)", 1, 75,
     "ADVANCE BY must be greater than 0"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW SESSION (SIZE 1 HOUR)", 1, 51,
     "WINDOW SESSION takes a gap, not SIZE, as in SESSION (30 MINUTES)"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW SESSION (GRACE 1 HOUR)", 1, 42,
     "WINDOW SESSION needs a gap, as in SESSION (30 MINUTES)"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW SESSION (GAP 0 SECONDS)", 1, 55,
     "the session gap must be greater than 0"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW SESSION (5 MINUTES, GAP 1 MINUTE)", 1, 62,
     "duplicate gap"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR, GAP 1 MINUTE)", 1, 65,
     "GAP belongs to WINDOW SESSION, not WINDOW TUMBLING"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW TUMBLING (SIZE 1 HOUR, GRACE PERIOD -1 MINUTE)", 1,
     78, "expected a duration after GRACE, as in 5 MINUTES, found '-'"},
    {"CREATE TABLE t AS\n  SELECT vin, SUM(distance_km speed)\n  FROM s", 2, 31,
     "expected ',' or ')' in the arguments of SUM, found 'speed'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 'unterminated\n", 1, 45,
     "unterminated string literal"},
    {"CREATE TABLE t AS SELECT a FROM s /* never closed", 1, 35,
     "unterminated comment: '/*' without '*/'"},
    {"CREATE TABLE t AS SELECT CAST(a AS TEXT) FROM s", 1, 36,
     "expected a type (BOOLEAN, INT, INTEGER, BIGINT, DOUBLE, FLOAT, REAL, STRING, VARCHAR, "
     "TIMESTAMP), found 'TEXT'"},
    {"CREATE TABLE t AS SELECT CAST a AS INT FROM s", 1, 31, "expected '(' after CAST, found 'a'"},
    {"CREATE TABLE t AS SELECT CAST(a INT) FROM s", 1, 33,
     "expected AS and a type in CAST, found 'INT'"},
    {"CREATE TABLE t AS SELECT CAST(a AS INT FROM s", 1, 40,
     "expected ')' after the type in CAST, found FROM"},
    {"CREATE TABLE t AS SELECT CASE WHEN a 1 END FROM s", 1, 38,
     "expected THEN after the WHEN condition, found 1"},
    {"CREATE TABLE t AS SELECT CASE a WHEN 1 'x' END FROM s", 1, 40,
     "expected THEN after the WHEN value, found string 'x'"},
    {"CREATE TABLE t AS SELECT CASE WHEN a THEN 1 FROM s", 1, 45,
     "expected WHEN, ELSE or END in CASE, found FROM"},
    {"CREATE TABLE t AS SELECT CASE ELSE 1 END FROM s", 1, 31, "expected WHEN in CASE, found ELSE"},
    {"CREATE TABLE t AS SELECT (a + 1 FROM s", 1, 33,
     "expected ')' to close the '(' at 1:26, found FROM"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a IS 1", 1, 46,
     "expected NULL or NOT NULL after IS, found 1"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a IS NOT TRUE", 1, 50,
     "expected NULL after IS NOT, found TRUE"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a NOT LIKE 'x'", 1, 47,
     "expected IN or BETWEEN after NOT, found 'LIKE'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a IN 1, 2", 1, 46, "expected '(' after IN, found 1"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a IN (1 2)", 1, 49,
     "expected ',' or ')' in the IN list, found 2"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a IN ()", 1, 47, "expected an expression, found ')'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a BETWEEN 1 OR 2", 1, 53,
     "expected AND in BETWEEN ... AND ..., found OR"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 1 = 2", 1, 47,
     "'=' cannot follow a comparison; add parentheses"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a < b IS NULL", 1, 47,
     "IS cannot follow a comparison; add parentheses"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = NOT b", 1, 45,
     "expected an expression, found NOT (write (NOT ...) here)"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 9223372036854775808", 1, 45,
     "integer literal out of range"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 1e999", 1, 45, "decimal literal out of range"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 12abc", 1, 45, "malformed number '12abc'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a == 1", 1, 44, "expected an expression, found '='"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = $1", 1, 45, "unexpected character '$'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a = 1 b", 1, 47,
     "expected ';' after the statement, found 'b'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a ! b", 1, 43,
     "unexpected character '!' (did you mean '!='?)"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a | b", 1, 43,
     "unexpected character '|' (did you mean '||'?)"},
    {"CREATE TABLE t AS SELECT a. FROM s", 1, 29,
     "expected a field name after '.', found FROM (a reserved word: write `FROM` to use it as a "
     "name)"},
    {"CREATE TABLE t AS SELECT a.b(1) FROM s", 1, 29, "a function name cannot contain '.'"},
    {"CREATE TABLE t AS SELECT `` FROM s", 1, 26, "empty quoted name"},
    {"CREATE TABLE t AS SELECT \"abc FROM s", 1, 26, "unterminated quoted name"},
    {"CREATE TABLE t AS SELECT COUNT(*, a) FROM s", 1, 33,
     "expected ')' after '*' in COUNT(*), found ','"},
    {"CREATE TABLE t AS SELECT COUNT(DISTINCT) FROM s", 1, 40, "expected an expression, found ')'"},
    {"CREATE TABLE t AS SELECT f(a;", 1, 29,
     "expected ',' or ')' in the arguments of f, found ';'"},
    {"CREATE TABLE t AS SELECT a FROM s HAVING", 1, 41,
     "expected an expression, found end of input"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE x = 'é' + é", 1, 52, "unexpected character 'é'"},
    {"CREATE TABLE t AS SELECT -- comment\n\ta FROM s WHERE;", 2, 16,
     "expected an expression, found ';'"},
    {"CREATE TABLE t AS SELECT CASE x END FROM s", 1, 33, "expected WHEN in CASE, found END"},
    {"CREATE TABLE t AS SELECT a b xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx FROM s", 1,
     30, "expected FROM after the select list, found 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"},
    {"CREATE STREAM s WITH (n = -'x')", 1, 28, "expected a number after '-', found string 'x'"},
    {"CREATE TABLE t AS SELECT a FROM s WINDOW HOPPING (SIZE 1 HOUR, ADVANCE BY 1 MINUTE, "
     "ADVANCE BY 2 MINUTES)",
     1, 85, "duplicate ADVANCE BY"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE a <= 1 <= 2", 1, 48,
     "'<=' cannot follow a comparison; add parentheses"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE x = '€' + €", 1, 53, "unexpected character '€'"},
    {"CREATE TABLE t AS SELECT a FROM s WHERE x = ''''\n  OR 'abc\ndef' = y z", 3, 10,
     "expected ';' after the statement, found 'z'"},
};

Test(sql_errors, table)
{
    size_t i;

    cr_assert_geq(sizeof(bad) / sizeof(bad[0]), 45);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bwm_sql_error_t err;
        bwm_script_t *sc = bwm_sql_parse(bad[i].text, strlen(bad[i].text), &err);

        cr_expect_null(sc, "parsed: %s", bad[i].text);
        bwm_script_destroy(sc);
        cr_expect_str_eq(err.se_message, bad[i].message, "%s", bad[i].text);
        cr_expect_eq(err.se_pos.p_line, bad[i].line, "%s: line %d", bad[i].text, err.se_pos.p_line);
        cr_expect_eq(err.se_pos.p_col, bad[i].col, "%s: column %d", bad[i].text, err.se_pos.p_col);
    }
}

/* The byte offset points at the same token as the line and column. */
Test(sql_errors, offset)
{
    static const char text[] = "CREATE TABLE t AS\n  SELECT vin, SUM(distance_km speed)\n  FROM s";
    bwm_sql_error_t err;

    cr_assert_null(bwm_sql_parse(text, strlen(text), &err));
    cr_assert_eq(err.se_pos.p_offset, (size_t)(strstr(text, "speed") - text));
}

/* The first error wins, and a NULL err is allowed. */
Test(sql_errors, null_error_and_text)
{
    bwm_script_t *sc;

    cr_assert_null(bwm_sql_parse("CREATE", 6, NULL));
    cr_assert_null(bwm_sql_parse_expr("1 +", 3, NULL));
    sc = bwm_sql_parse(NULL, 0, NULL);
    cr_assert_not_null(sc);
    cr_assert_eq(sc->sc_n, 0);
    bwm_script_destroy(sc);
}

static void expect_expr_error(const char *text, size_t len, int line, int col, const char *msg)
{
    bwm_sql_error_t err;
    bwm_ast_t *a = bwm_sql_parse_expr(text, len, &err);

    cr_expect_null(a, "parsed: %.40s", text);
    bwm_ast_destroy(a);
    cr_expect_str_eq(err.se_message, msg, "%.40s", text);
    cr_expect_eq(err.se_pos.p_line, line, "%.40s: line %d", text, err.se_pos.p_line);
    cr_expect_eq(err.se_pos.p_col, col, "%.40s: column %d", text, err.se_pos.p_col);
}

Test(sql_errors, expressions_alone)
{
    expect_expr_error("", 0, 1, 1, "expected an expression, found end of input");
    expect_expr_error("a b", 3, 1, 3, "expected the end of the expression, found 'b'");
    expect_expr_error("a;", 2, 1, 2, "expected the end of the expression, found ';'");
    expect_expr_error("'a' 'b'", 7, 1, 5, "expected the end of the expression, found string 'b'");
    expect_expr_error("x\n  + 'abc\n\ndef", 15, 2, 5, "unterminated string literal");
    expect_expr_error("x /* a\n b * / c", 14, 1, 3, "unterminated comment: '/*' without '*/'");
    expect_expr_error("a = \x01", 5, 1, 5, "unexpected byte 0x01");
    expect_expr_error("a = \0", 5, 1, 5, "unexpected byte 0x00");
    expect_expr_error("a = \xff", 5, 1, 5, "unexpected byte 0xFF");
    expect_expr_error("a = \xe2\x82", 6, 1, 5, "unexpected byte 0xE2");
    expect_expr_error("\"a\0b\"", 5, 1, 1, "a quoted name cannot hold a NUL byte");
    expect_expr_error("1e", 2, 1, 1, "malformed number '1e'");
    expect_expr_error("1.2.3", 5, 1, 1, "malformed number '1.2.3'");
    expect_expr_error("CASE END", 8, 1, 6, "expected WHEN in CASE, found END");
    expect_expr_error("CASE WHEN a THEN b ELSE c", 25, 1, 26,
                      "expected END to close CASE, found end of input");
    expect_expr_error("-9223372036854775809", 20, 1, 2, "integer literal out of range");
    expect_expr_error("18446744073709551616", 20, 1, 1, "integer literal out of range");
    expect_expr_error("f(*", 3, 1, 4, "expected ')' after '*' in f(*), found end of input");
    expect_expr_error("a.`b`.", 6, 1, 7, "expected a field name after '.', found end of input");
}

/* Limits: each is an error at the token that crossed it, never a crash. */
Test(sql_errors, nesting_depth)
{
    size_t n = BWM_SQL_MAX_DEPTH, i, len = 0;
    char *text = malloc(4 * n + 16);
    char msg[128];

    snprintf(msg, sizeof(msg), "expression nested too deeply (the limit is %d levels)",
             BWM_SQL_MAX_DEPTH);

    /* One parenthesis too many. */
    for (i = 0; i < n; i++) {
        text[len++] = '(';
    }
    text[len++] = 'x';
    for (i = 0; i < n; i++) {
        text[len++] = ')';
    }
    expect_expr_error(text, len, 1, (int)n + 1, msg);

    /* One unary operator too many. */
    len = 0;
    for (i = 0; i < n; i++) {
        memcpy(text + len, "NOT ", 4);
        len += 4;
    }
    text[len++] = 'x';
    expect_expr_error(text, len, 1, 4 * (int)n + 1, msg);
    len = 0;
    for (i = 0; i < n; i++) {
        memcpy(text + len, "- ", 2);
        len += 2;
    }
    text[len++] = 'x';
    expect_expr_error(text, len, 1, 2 * (int)n + 1, msg);

    /* A chain of n additions makes a tree n + 1 high: the error is at the last '+'. */
    len = 0;
    text[len++] = 'x';
    for (i = 0; i < n; i++) {
        memcpy(text + len, "+x", 2);
        len += 2;
    }
    expect_expr_error(text, len, 1, 2 * (int)n, msg);
    free(text);
}

Test(sql_errors, deep_nesting_of_hostile_size)
{
    /* 100,000 opening parentheses: refused early, with no deep recursion. */
    size_t n = 100000;
    char *text = malloc(n);
    bwm_sql_error_t err;

    memset(text, '(', n);
    cr_assert_null(bwm_sql_parse_expr(text, n, &err));
    cr_assert_eq(strncmp(err.se_message, "expression nested too deeply", 28), 0);
    free(text);
}

Test(sql_errors, list_sizes)
{
    char *text = malloc(32 * (BWM_SQL_MAX_LIST + 1));
    char msg[128];
    size_t len, i;
    int col;

    len = (size_t)sprintf(text, "CREATE TABLE t AS SELECT x");
    for (i = 0; i < BWM_SQL_MAX_LIST; i++) {
        memcpy(text + len, ",x", 2);
        len += 2;
    }
    col = (int)len;
    len += (size_t)sprintf(text + len, " FROM s");
    snprintf(msg, sizeof(msg), "too many items in the select list (the limit is %d)",
             BWM_SQL_MAX_LIST);
    {
        bwm_sql_error_t err;

        cr_assert_null(bwm_sql_parse(text, len, &err));
        cr_assert_str_eq(err.se_message, msg);
        cr_assert_eq(err.se_pos.p_col, col);
    }

    len = (size_t)sprintf(text, "f(1");
    for (i = 0; i < BWM_SQL_MAX_LIST; i++) {
        memcpy(text + len, ",1", 2);
        len += 2;
    }
    text[len++] = ')';
    snprintf(msg, sizeof(msg), "too many arguments (the limit is %d)", BWM_SQL_MAX_LIST);
    expect_expr_error(text, len, 1, 3 + 2 * BWM_SQL_MAX_LIST, msg);

    len = 0;
    for (i = 0; i <= BWM_SQL_MAX_LIST; i++) {
        len += (size_t)sprintf(text + len, "CREATE STREAM s WITH (t=1);");
    }
    {
        bwm_sql_error_t err;

        cr_assert_null(bwm_sql_parse(text, len, &err));
        snprintf(msg, sizeof(msg), "too many statements (the limit is %d)", BWM_SQL_MAX_LIST);
        cr_assert_str_eq(err.se_message, msg);
    }
    free(text);
}

Test(sql_errors, text_sizes)
{
    size_t big = BWM_SQL_MAX_STRING + 8;
    char *text = malloc(BWM_SQL_MAX_TEXT + 1);
    char msg[128];

    memset(text, 'n', BWM_SQL_MAX_NAME + 1);
    snprintf(msg, sizeof(msg), "name longer than %d bytes", BWM_SQL_MAX_NAME);
    expect_expr_error(text, BWM_SQL_MAX_NAME + 1, 1, 1, msg);

    text[0] = '`';
    memset(text + 1, 'n', BWM_SQL_MAX_NAME + 1);
    text[BWM_SQL_MAX_NAME + 2] = '`';
    snprintf(msg, sizeof(msg), "quoted name longer than %d bytes", BWM_SQL_MAX_NAME);
    expect_expr_error(text, BWM_SQL_MAX_NAME + 3, 1, 1, msg);

    /* Escaped quotes count once: 2 * limit bytes of '' are a string of the largest size... */
    memcpy(text, "x = ", 4);
    text[4] = '\'';
    memset(text + 5, '\'', 2 * BWM_SQL_MAX_STRING);
    text[5 + 2 * BWM_SQL_MAX_STRING] = '\'';
    {
        bwm_ast_t *a = bwm_sql_parse_expr(text, 6 + 2 * BWM_SQL_MAX_STRING, NULL);

        cr_assert_not_null(a);
        cr_assert_eq(a->u.a_bin.b_right->u.a_lit.l_len, BWM_SQL_MAX_STRING);
        bwm_ast_destroy(a);
    }
    /* ... and one more is too long. */
    memset(text + 5, 's', big);
    text[5 + big] = '\'';
    snprintf(msg, sizeof(msg), "string literal longer than %d bytes", BWM_SQL_MAX_STRING);
    expect_expr_error(text, 6 + big, 1, 5, msg);

    memset(text, ' ', BWM_SQL_MAX_TEXT + 1);
    snprintf(msg, sizeof(msg), "the text is longer than %d bytes", BWM_SQL_MAX_TEXT);
    {
        bwm_sql_error_t err;

        cr_assert_null(bwm_sql_parse(text, BWM_SQL_MAX_TEXT + 1, &err));
        cr_assert_str_eq(err.se_message, msg);
        cr_assert_eq(err.se_pos.p_line, 1);
        cr_assert_eq(err.se_pos.p_col, 1);
    }
    free(text);
}

/* ------------------------------------------------------------- formatting */

/* Parses text, which must fail, and returns the formatted error (a static buffer). */
static const char *formatted(const char *text, size_t len, const char *filename)
{
    static char s[1024];
    bwm_sql_error_t err;
    bwm_buf_t b = {0};

    cr_assert_null(bwm_sql_parse(text, len, &err));
    bwm_sql_error_format(&err, text, len, filename, &b);
    cr_assert(!b.b_failed);
    cr_assert_lt(b.b_len, sizeof(s));
    cr_assert_eq(strlen((const char *)b.b_data), b.b_len);
    memcpy(s, b.b_data, b.b_len + 1);
    bwm_buf_free(&b);
    return s;
}

#define FORMATTED(text, filename) formatted((text), strlen(text), (filename))

Test(sql_format, caret_under_the_column)
{
    cr_assert_str_eq(FORMATTED("CREATE TABLE t AS SELECT a FROM s GROUP a", "job.sql"),
                     "job.sql:1:41: error: expected BY after GROUP, found 'a'\n"
                     "  CREATE TABLE t AS SELECT a FROM s GROUP a\n"
                     "                                          ^\n");
}

Test(sql_format, multi_line_script)
{
    cr_assert_str_eq(FORMATTED("CREATE STREAM s WITH (topic = 's');\n"
                               "CREATE TABLE t AS\n"
                               "  SELECT vin, SUM(distance_km speed)\n"
                               "  FROM s;\n",
                               "job.sql"),
                     "job.sql:3:31: error: expected ',' or ')' in the arguments of SUM, found "
                     "'speed'\n"
                     "    SELECT vin, SUM(distance_km speed)\n"
                     "                                ^\n");
}

Test(sql_format, tabs_are_kept_in_the_caret_line)
{
    cr_assert_str_eq(FORMATTED("CREATE TABLE t AS\n\tSELECT\tvin,\tSUM(x y)\n\tFROM s", "job.sql"),
                     "job.sql:2:20: error: expected ',' or ')' in the arguments of SUM, found "
                     "'y'\n"
                     "  \tSELECT\tvin,\tSUM(x y)\n"
                     "  \t      \t    \t      ^\n");
}

Test(sql_format, crlf_and_multi_byte_characters)
{
    /* The CR is not shown; 'é' is two bytes but one column on a terminal. */
    cr_assert_str_eq(FORMATTED("CREATE TABLE t AS SELECT 'é' AS e\r\nFROM s WHERE é\r\n", "j.sql"),
                     "j.sql:2:14: error: unexpected character 'é'\n"
                     "  FROM s WHERE é\n"
                     "               ^\n");
    cr_assert_str_eq(FORMATTED("CREATE TABLE t AS SELECT 'é', x y z", "j.sql"),
                     "j.sql:1:36: error: expected FROM after the select list, found 'z'\n"
                     "  CREATE TABLE t AS SELECT 'é', x y z\n"
                     "                                    ^\n");
}

Test(sql_format, end_of_input_points_after_the_last_token)
{
    cr_assert_str_eq(FORMATTED("CREATE TABLE t AS SELECT a FROM s WHERE a =   -- why\n\n", NULL),
                     "1:44: error: expected an expression, found end of input\n"
                     "  CREATE TABLE t AS SELECT a FROM s WHERE a =   -- why\n"
                     "                                             ^\n");
}

Test(sql_format, unterminated_string_points_at_its_start)
{
    cr_assert_str_eq(
        FORMATTED("CREATE STREAM s WITH (\n  topic = 'abc,\n  format = avro)", "job.sql"),
        "job.sql:2:11: error: unterminated string literal\n"
        "    topic = 'abc,\n"
        "            ^\n");
}

Test(sql_format, long_lines_are_cut_around_the_column)
{
    char text[1024];
    const char *s;
    size_t len = 0, i;

    len += (size_t)sprintf(text + len, "CREATE TABLE t AS SELECT ");
    for (i = 0; i < 40; i++) {
        len += (size_t)sprintf(text + len, "c%02zu, ", i);
    }
    len += (size_t)sprintf(text + len, "# FROM s");
    for (i = 0; i < 40; i++) {
        len += (size_t)sprintf(text + len, " -- %02zu", i);
    }
    s = formatted(text, len, "job.sql");
    /* 60 bytes before the column and 60 from it, "..." marking each cut end. */
    cr_assert_str_eq(s, "job.sql:1:226: error: unexpected character '#'\n"
                        "  ...c28, c29, c30, c31, c32, c33, c34, c35, c36, c37, c38, c39, "
                        "# FROM s -- 00 -- 01 -- 02 -- 03 -- 04 -- 05 -- 06 -- 07 -- ...\n"
                        "                                                                 ^\n");
}

Test(sql_format, without_text_and_control_bytes)
{
    bwm_sql_error_t err = {{2, 5, 40}, "something went wrong"};
    static const char text[] = "line one\nab\x01\x7f"
                               "cd\n";
    bwm_buf_t b = {0};

    bwm_sql_error_format(&err, NULL, 0, "job.sql", &b);
    cr_assert_str_eq((const char *)b.b_data, "job.sql:2:5: error: something went wrong\n");
    bwm_buf_reset(&b);
    err.se_pos.p_offset = 13;
    bwm_sql_error_format(&err, text, strlen(text), "job.sql", &b);
    cr_assert_str_eq((const char *)b.b_data, "job.sql:2:5: error: something went wrong\n"
                                             "  ab??cd\n"
                                             "      ^\n");
    bwm_buf_free(&b);
}
