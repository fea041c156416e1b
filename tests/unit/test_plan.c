/*
 * test_plan.c: resolving queries against the input schema: slots, keys,
 * aggregates, windows, the result schema, and the semantic errors with
 * their positions.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixtures.h"

Test(plan, resolves_slots_keys_aggregates_and_result_schema)
{
    bwm_schema_t *s = fixture_schema();
    bwm_plan_t *p = fixture_plan_ok(
        s, "CREATE TABLE kpi WITH (topic = 'out') AS SELECT vin, COUNT(*) AS samples, SUM(km),\n"
           "  SUM(big) AS total, COUNT(fuel) AS with_fuel, SUM(km) / COUNT(*) AS avg_km\n"
           "FROM r WHERE on AND km >= 0 WINDOW TUMBLING (SIZE 1 HOUR, GRACE 5 MINUTES)\n"
           "GROUP BY vin EMIT FINAL;");

    cr_assert_eq(p->p_naggs, 4, "COUNT(*) and SUM(km) are shared between columns");
    cr_assert_eq(p->p_nkeys, 1);
    cr_assert_str_eq(p->p_keys[0].pk_name, "vin");
    cr_assert_eq(p->p_window.w_kind, BWM_WINDOW_TUMBLING);
    cr_assert_eq(p->p_window.w_size, 3600000);
    cr_assert_eq(p->p_window.w_grace, 300000);
    cr_assert_eq(p->p_emit, BWM_EMIT_FINAL);
    cr_assert_str_eq(p->p_output_topic, "out");
    cr_assert_str_eq(p->p_input_topic, "in");
    cr_assert_eq(p->p_time_slot >= 0, 1);
    cr_assert_str_eq(p->p_slots[p->p_time_slot].ss_name, "ts");
    cr_assert_not_null(p->p_where);
    cr_assert_str_eq(p->p_output_schema,
                     "{\"type\":\"record\",\"name\":\"kpi\",\"namespace\":\"bwm.results\","
                     "\"fields\":[{\"name\":\"vin\",\"type\":\"string\"},"
                     "{\"name\":\"window_start\",\"type\":{\"type\":\"long\",\"logicalType\":"
                     "\"timestamp-millis\"}},"
                     "{\"name\":\"window_end\",\"type\":{\"type\":\"long\",\"logicalType\":"
                     "\"timestamp-millis\"}},"
                     "{\"name\":\"samples\",\"type\":[\"null\",\"long\"],\"default\":null},"
                     "{\"name\":\"sum_km\",\"type\":[\"null\",\"double\"],\"default\":null},"
                     "{\"name\":\"total\",\"type\":[\"null\",\"long\"],\"default\":null},"
                     "{\"name\":\"with_fuel\",\"type\":[\"null\",\"long\"],\"default\":null},"
                     "{\"name\":\"avg_km\",\"type\":[\"null\",\"double\"],\"default\":null},"
                     "{\"name\":\"version\",\"type\":\"long\"}]}");
    bwm_plan_destroy(p);
    bwm_schema_destroy(s);
}

Test(plan, nested_fields_composite_keys_and_stateless_projections)
{
    bwm_schema_t *s = fixture_schema();
    bwm_plan_t *p = fixture_plan_ok(s, "CREATE TABLE t AS SELECT pos.at.city AS city, "
                                       "UPPER(vin) AS v, MAX(pos.lat) AS north FROM r "
                                       "GROUP BY pos.at.city, UPPER(vin);");

    cr_assert_eq(p->p_nkeys, 2);
    cr_assert_str_eq(p->p_keys[0].pk_name, "city");
    cr_assert_str_eq(p->p_keys[1].pk_name, "v");
    cr_assert_eq(p->p_window.w_kind, BWM_WINDOW_NONE);
    cr_assert_eq(p->p_emit, BWM_EMIT_CHANGES);
    {
        size_t i, found = 0;

        for (i = 0; i < p->p_nslots; i++) {
            if (strcmp(p->p_slots[i].ss_name, "pos.at.city") == 0) {
                found = 1;
                cr_assert_eq(p->p_slots[i].ss_depth, 3);
                cr_assert(p->p_slots[i].ss_nullable, "pos is a nullable record");
            }
        }
        cr_assert(found);
    }
    bwm_plan_destroy(p);
    p = fixture_plan_ok(s, "CREATE STREAM fast WITH (topic = 'fast') AS SELECT vin, km * 1.6 AS "
                           "mi, ts FROM r WHERE km > 100 EMIT CHANGES;");
    cr_assert(p->p_stateless);
    cr_assert_eq(p->p_ncols, 3);
    cr_assert_str_eq(p->p_cols[1].pc_name, "mi");
    cr_assert_eq(p->p_cols[1].pc_type, BWM_T_DOUBLE);
    cr_assert_str_eq(p->p_cols[2].pc_logical, "timestamp-millis");
    bwm_plan_destroy(p);
    p = fixture_plan_ok(s, "CREATE TABLE h AS SELECT vin, COUNT(*) AS c FROM r WINDOW HOPPING "
                           "(SIZE 10 MINUTES, ADVANCE BY 5 MINUTES) GROUP BY vin HAVING "
                           "COUNT(*) > 2;");
    cr_assert_eq(p->p_window.w_advance, 300000);
    cr_assert_not_null(p->p_having);
    bwm_plan_destroy(p);
    bwm_schema_destroy(s);
}

typedef struct bad_query {
    const char *query;  /* written after FIXTURE_STREAM, on line 2 */
    const char *marker; /* where the error must point: its first occurrence in query */
    const char *message;
} bad_query_t;

Test(plan, semantic_errors_point_at_the_cause)
{
    static const bad_query_t cases[] = {
        {"CREATE TABLE t AS SELECT vin, SUM(kms) AS s FROM r GROUP BY vin;", "kms",
         "unknown field 'kms' in t.Reading (did you mean 'km'?)"},
        {"CREATE TABLE t AS SELECT vim, COUNT(*) AS c FROM r GROUP BY vim;", "vim;",
         "unknown field 'vim' in t.Reading (did you mean 'vin'?)"},
        {"CREATE TABLE t AS SELECT vin, SUM(vin) AS s FROM r GROUP BY vin;", "vin)",
         "SUM cannot aggregate STRING values"},
        {"CREATE TABLE t AS SELECT vin, AVG(state) AS s FROM r GROUP BY vin;", "state",
         "AVG cannot aggregate STRING values"},
        {"CREATE TABLE t AS SELECT vin, km, COUNT(*) AS c FROM r GROUP BY vin;", "km",
         "column km must appear in GROUP BY or be used inside an aggregate"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE km GROUP BY vin;", "km",
         "WHERE needs a BOOLEAN condition, got DOUBLE"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE vin > 3 GROUP BY vin;",
         "vin > 3", "cannot compare STRING with BIGINT"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE SUM(km) > 1 GROUP BY vin;",
         "SUM(km) > 1", "aggregate SUM is not allowed here"},
        {"CREATE TABLE t AS SELECT vin, SUM(COUNT(*)) AS c FROM r GROUP BY vin;", "COUNT(*))",
         "aggregate COUNT is not allowed here"},
        {"CREATE TABLE t AS SELECT vin, MEDIAN(km) AS c FROM r GROUP BY vin;", "MEDIAN",
         "unknown function MEDIAN"},
        {"CREATE TABLE t AS SELECT vin, ABS(km, 2) AS c FROM r GROUP BY vin;", "ABS",
         "ABS takes 1 argument, got 2"},
        {"CREATE TABLE t AS SELECT vin, km, LOWER(km) AS c, COUNT(*) AS n FROM r GROUP BY vin, "
         "km;",
         "km) AS", "LOWER needs STRING, got DOUBLE"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin EMIT FINAL;", "EMIT",
         "EMIT FINAL needs a WINDOW"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM q GROUP BY vin;", "q GROUP",
         "unknown stream 'q'"},
        {"CREATE TABLE t AS SELECT COUNT(*) AS c FROM r;", "CREATE",
         "CREATE TABLE ... AS SELECT aggregates: add GROUP BY"},
        {"CREATE STREAM t AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin;", "CREATE",
         "CREATE STREAM ... AS SELECT filters and projects"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS vin FROM r GROUP BY vin;", "vin FROM",
         "result field 'vin' is used twice"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS version FROM r GROUP BY vin;", "version",
         "result field 'version' is reserved"},
        {"CREATE TABLE t AS SELECT vin, km * 2 FROM r GROUP BY vin;", "km * 2",
         "column km must appear in GROUP BY"},
        {"CREATE TABLE t AS SELECT vin, SUM(km) * 2 FROM r GROUP BY vin;", "SUM(km) * 2",
         "this expression needs a name: add AS name"},
        {"CREATE TABLE t AS SELECT UPPER(vin), COUNT(*) AS c FROM r GROUP BY UPPER(vin);",
         "UPPER(vin);", "this GROUP BY expression needs a name"},
        {"CREATE TABLE t AS SELECT vin, PERCENTILE(km, 1.5) AS p FROM r GROUP BY vin;", "1.5",
         "quantile must be between 0 and 1"},
        {"CREATE TABLE t AS SELECT vin, PERCENTILE(km, q) AS p FROM r GROUP BY vin;", "q)",
         "second argument must be a number between 0 and 1"},
        {"CREATE TABLE t AS SELECT vin, SUM(*) AS s FROM r GROUP BY vin;", "*",
         "SUM takes a field, not '*'"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin HAVING km > 1;", "km > 1",
         "column km must appear in GROUP BY"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin HAVING COUNT(*);",
         "COUNT(*);", "HAVING needs a BOOLEAN condition, got BIGINT"},
        {"CREATE TABLE t AS SELECT tags, COUNT(*) AS c FROM r GROUP BY tags;", "tags;",
         "field 'tags' is not a scalar"},
        {"CREATE TABLE t AS SELECT vin, MAX(pos.lat.x) AS c FROM r GROUP BY vin;", "x)",
         "lat is not a record, so it has no field 'x'"},
        {"CREATE TABLE t AS SELECT vin, MAX(pos.lonn) AS c FROM r GROUP BY vin;", "lonn",
         "unknown field 'lonn' in pos (did you mean 'lon'?)"},
        {"CREATE TABLE t WITH (topik = 'x') AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin;",
         "topik", "unknown property 'topik' of a table (known: topic, namespace)"},
        {"CREATE TABLE t AS SELECT vin, COUNT(DISTINCT km, n) AS c FROM r GROUP BY vin;",
         "COUNT(DISTINCT", "COUNT_DISTINCT takes one argument, got 2"},
        {"CREATE TABLE t AS SELECT vin, CASE WHEN km > 1 THEN 'a' ELSE 2 END AS c, COUNT(*) "
         "AS n FROM r GROUP BY vin, km;",
         "2 END", "CASE results must have one type: STRING and BIGINT"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE vin IN ('a', 3) GROUP BY "
         "vin;",
         "3)", "cannot compare STRING with BIGINT"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE n BETWEEN 'a' AND 3 GROUP BY "
         "vin;",
         "'a'", "cannot compare BIGINT with STRING"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WHERE CAST(vin AS TIMESTAMP) > 0 "
         "GROUP BY vin;",
         "CAST", "CAST AS TIMESTAMP needs milliseconds (BIGINT), got STRING"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WINDOW HOPPING (SIZE 1 MINUTE, "
         "ADVANCE BY 2 MINUTES) GROUP BY vin;",
         "WINDOW", "must not exceed SIZE"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r WINDOW HOPPING (SIZE 1 DAY, "
         "ADVANCE BY 1 SECOND) GROUP BY vin;",
         "WINDOW", "more than 1000 windows"},
        {"CREATE TABLE t AS SELECT vin, NOT km AS c, COUNT(*) AS n FROM r GROUP BY vin, km;",
         "km AS", "NOT needs BOOLEAN, got DOUBLE"},
        {"CREATE TABLE t AS SELECT vin, SUBSTRING(vin, 'x') AS c, COUNT(*) AS n FROM r GROUP BY "
         "vin;",
         "'x'", "SUBSTRING's position and length needs BIGINT, got STRING"},
        {"CREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM r GROUP BY NULL;", "NULL",
         "cannot GROUP BY NULL"},
        {"CREATE TABLE `bad-name` AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin;", "`bad",
         "'bad-name' cannot name the result record"},
        {"CREATE TABLE t AS SELECT * FROM r GROUP BY vin;", "*",
         "SELECT * is only for CREATE STREAM ... AS SELECT"},
    };
    bwm_schema_t *s = fixture_schema();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_sql_error_t err;
        bwm_plan_t *p = fixture_plan(s, cases[i].query, &err);
        const char *at = strstr(cases[i].query, cases[i].marker);

        cr_assert_null(p, "case %zu should fail: %s", i, cases[i].query);
        cr_assert(strstr(err.se_message, cases[i].message), "case %zu: got '%s'", i,
                  err.se_message);
        cr_assert_not_null(at, "case %zu: marker", i);
        cr_assert_eq(err.se_pos.p_line, 2, "case %zu: line %d (%s)", i, err.se_pos.p_line,
                     err.se_message);
        cr_assert_eq(err.se_pos.p_col, (int)(at - cases[i].query) + 1,
                     "case %zu: column %d, expected %d (%s)", i, err.se_pos.p_col,
                     (int)(at - cases[i].query) + 1, err.se_message);
    }
    bwm_schema_destroy(s);
}

Test(plan, stream_properties_are_checked)
{
    static const char *const cases[][2] = {
        {"CREATE STREAM r2 WITH (topik = 'x');\nCREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM "
         "r2 GROUP BY vin;",
         "unknown property 'topik' of a stream (known: topic, format, timestamp, schema, "
         "subject, framing)"},
        {"CREATE STREAM r2 WITH (format = 'json', topic = 'x');\nCREATE TABLE t AS SELECT vin, "
         "COUNT(*) AS c FROM r2 GROUP BY vin;",
         "format 'json' is not supported (supported: avro)"},
        {"CREATE STREAM r2 WITH (timestamp = 'ts');\nCREATE TABLE t AS SELECT vin, COUNT(*) AS c "
         "FROM r2 GROUP BY vin;",
         "stream r2 needs WITH (topic = '...')"},
        {"CREATE STREAM r2 WITH (topic = 'x', timestamp = 'vin');\nCREATE TABLE t AS SELECT vin, "
         "COUNT(*) AS c FROM r2 GROUP BY vin;",
         "timestamp field 'vin' must be a long"},
        {"CREATE STREAM r2 WITH (topic = 'x');\n", "the job has no query"},
        {"CREATE STREAM r2 WITH (topic = 'x');\nCREATE TABLE t AS SELECT vin, COUNT(*) AS c FROM "
         "r2 WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY vin;",
         "a WINDOW needs event time: declare it in CREATE STREAM r2 WITH (..., timestamp"},
    };
    bwm_schema_t *s = fixture_schema();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_sql_error_t err;
        bwm_script_t *sc = bwm_sql_parse(cases[i][0], strlen(cases[i][0]), &err);
        bwm_plan_t *p;

        cr_assert_not_null(sc, "case %zu: %s", i, err.se_message);
        p = bwm_plan_new(sc, s, &err);
        cr_assert_null(p, "case %zu should fail", i);
        cr_assert(strstr(err.se_message, cases[i][1]), "case %zu: got '%s'", i, err.se_message);
        bwm_script_destroy(sc);
    }
    bwm_schema_destroy(s);
}
