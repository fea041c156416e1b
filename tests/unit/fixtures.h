/*
 * fixtures.h: schemas and helpers shared by the unit suites.
 */
#ifndef BWM_TEST_FIXTURES_H
#define BWM_TEST_FIXTURES_H

#include <criterion/criterion.h>
#include <string.h>

#include "core/plan.h"
#include "core/schema.h"

/* A small input schema with every scalar kind the engine reads. */
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
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}"                       \
    "]}"

static inline bwm_schema_t *fixture_schema(void)
{
    char err[256];
    bwm_schema_t *s = bwm_schema_parse(FIXTURE_SCHEMA, strlen(FIXTURE_SCHEMA), err, sizeof(err));

    cr_assert_not_null(s, "%s", err);
    return s;
}

static inline bwm_plan_t *fixture_plan(const bwm_schema_t *s, const char *group_by,
                                       const char *aggs, char *err, size_t err_size)
{
    bwm_plan_spec_t spec = {"kpi", "in", "out", group_by, aggs, "ts"};

    return bwm_plan_new(&spec, s, err, err_size);
}

#endif
