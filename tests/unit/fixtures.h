/*
 * fixtures.h: schemas and helpers shared by the unit suites.
 */
#ifndef BWM_TEST_FIXTURES_H
#define BWM_TEST_FIXTURES_H

#include <avro.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/schema.h"
#include "core/sql.h"

/* A small input schema with every scalar kind the engine reads, and a nested record. */
#define FIXTURE_SCHEMA                                                                             \
    "{\"type\":\"record\",\"name\":\"Reading\",\"namespace\":\"t\",\"fields\":["                   \
    "{\"name\":\"vin\",\"type\":\"string\"},"                                                      \
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"         \
    "{\"name\":\"n\",\"type\":\"int\"},"                                                           \
    "{\"name\":\"big\",\"type\":\"long\"},"                                                        \
    "{\"name\":\"km\",\"type\":\"double\"},"                                                       \
    "{\"name\":\"f\",\"type\":\"float\"},"                                                         \
    "{\"name\":\"on\",\"type\":\"boolean\"},"                                                      \
    "{\"name\":\"fuel\",\"type\":[\"null\",\"double\"],\"default\":null},"                         \
    "{\"name\":\"state\",\"type\":{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"A\",\"B\"]}},"  \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"pos\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Pos\",\"fields\":["      \
    "{\"name\":\"lat\",\"type\":\"double\"},{\"name\":\"lon\",\"type\":\"double\"},"               \
    "{\"name\":\"at\",\"type\":{\"type\":\"record\",\"name\":\"At\",\"fields\":["                  \
    "{\"name\":\"city\",\"type\":\"string\"}]}}]}],\"default\":null}"                              \
    "]}"

/* The stream every fixture query reads. */
#define FIXTURE_STREAM "CREATE STREAM r WITH (topic = 'in', timestamp = 'ts');\n"

static inline bwm_schema_t *fixture_schema(void)
{
    char err[256];
    bwm_schema_t *s = bwm_schema_parse(FIXTURE_SCHEMA, strlen(FIXTURE_SCHEMA), err, sizeof(err));

    cr_assert_not_null(s, "%s", err);
    return s;
}

/* Plans FIXTURE_STREAM followed by query; NULL with *err on failure. */
static inline bwm_plan_t *fixture_plan(const bwm_schema_t *s, const char *query,
                                       bwm_sql_error_t *err)
{
    size_t n = strlen(FIXTURE_STREAM) + strlen(query);
    char *text = malloc(n + 1);
    bwm_script_t *sc;
    bwm_plan_t *p = NULL;

    cr_assert_not_null(text);
    strcpy(text, FIXTURE_STREAM);
    strcat(text, query);
    memset(err, 0, sizeof(*err));
    sc = bwm_sql_parse(text, n, err);
    if (sc) {
        p = bwm_plan_new(sc, s, err);
        bwm_script_destroy(sc);
    }
    free(text);
    return p;
}

/* Plans a query that must be valid. */
static inline bwm_plan_t *fixture_plan_ok(const bwm_schema_t *s, const char *query)
{
    bwm_sql_error_t err;
    bwm_plan_t *p = fixture_plan(s, query, &err);

    cr_assert_not_null(p, "%d:%d: %s", err.se_pos.p_line, err.se_pos.p_col, err.se_message);
    return p;
}

/* An avro-c reader class for a schema, to read what bwm writes with an independent decoder. */
static inline avro_value_iface_t *fixture_avro_iface(const bwm_schema_t *s)
{
    avro_schema_t as;
    avro_value_iface_t *iface;

    cr_assert_eq(avro_schema_from_json_length(bwm_schema_json(s), strlen(bwm_schema_json(s)), &as),
                 0, "%s", avro_strerror());
    iface = avro_generic_class_from_schema(as);
    avro_schema_decref(as);
    return iface;
}

#endif
