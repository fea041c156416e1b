/*
 * test_plan.c: resolving a job against its input schema, and the result
 * schema derived from it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixtures.h"

Test(plan, resolves_slots_types_and_state_layout)
{
    bwm_schema_t *s = fixture_schema();
    char err[512];
    bwm_plan_t *p = fixture_plan(s, "vin",
                                 "COUNT(*) AS samples, SUM(km), sum(big) AS total, "
                                 "COUNT(fuel) AS with_fuel",
                                 err, sizeof(err));

    cr_assert_not_null(p, "%s", err);
    cr_assert_eq(p->p_naggs, 4);
    cr_assert_str_eq(p->p_aggs[0].pa_name, "samples");
    cr_assert_eq(p->p_aggs[0].pa_slot, -1);
    cr_assert_str_eq(p->p_aggs[1].pa_name, "sum_km", "default names are func_field");
    cr_assert_eq(p->p_aggs[1].pa_result_type, BWM_T_DOUBLE);
    cr_assert_eq(p->p_aggs[2].pa_result_type, BWM_T_LONG);
    cr_assert_eq(p->p_key_type, BWM_T_STRING);
    cr_assert_eq(p->p_nslots, 5, "vin, ts, km, big, fuel");
    cr_assert(p->p_slots[p->p_key_slot].ss_type == BWM_T_STRING);
    cr_assert(p->p_slots[p->p_aggs[3].pa_slot].ss_nullable);
    cr_assert_eq(p->p_aggs[1].pa_offset % 8, 0);
    cr_assert_str_eq(p->p_output_schema,
                     "{\"type\":\"record\",\"name\":\"kpi\",\"namespace\":\"bwm.results\","
                     "\"fields\":[{\"name\":\"vin\",\"type\":\"string\"},"
                     "{\"name\":\"samples\",\"type\":\"long\"},"
                     "{\"name\":\"sum_km\",\"type\":[\"null\",\"double\"],\"default\":null},"
                     "{\"name\":\"total\",\"type\":[\"null\",\"long\"],\"default\":null},"
                     "{\"name\":\"with_fuel\",\"type\":\"long\"},"
                     "{\"name\":\"version\",\"type\":\"long\"}]}");
    bwm_plan_destroy(p);
    bwm_schema_destroy(s);
}

Test(plan, errors_name_what_is_wrong)
{
    static const struct {
        const char *group_by;
        const char *aggs;
        const char *message;
    } cases[] = {
        {"vin", "SUM(kms)", "unknown field 'kms' in input schema t.Reading"},
        {"vim", "COUNT(*)", "unknown field 'vim'"},
        {"vin", "SUM(vin)", "SUM(vin): SUM needs a numeric field, 'vin' is STRING"},
        {"vin", "MEDIAN(km)", "unknown aggregate 'MEDIAN' (known: COUNT, SUM)"},
        {"vin", "SUM(*)", "SUM takes a field, not '*'"},
        {"vin", "SUM(km", "expected ')' after SUM("},
        {"vin", "SUM(km) km2", "expected ',' or the end after an aggregate"},
        {"vin", "SUM(km) AS", "expected a name after AS"},
        {"vin", "", "the job computes 0 aggregates"},
        {"vin", "COUNT(*) AS vin", "result field 'vin' is used twice"},
        {"vin", "COUNT(*) AS version", "result field 'version' is used twice"},
        {"vin", "COUNT(*) AS a, SUM(km) AS a", "result field 'a' is used twice"},
        {"km", "COUNT(*)", "a floating-point field cannot be a key"},
        {"tags", "COUNT(*)", "field 'tags' is not a scalar"},
        {"vin", "(", "expected an aggregate like SUM(field)"},
    };
    bwm_schema_t *s = fixture_schema();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        bwm_plan_t *p = fixture_plan(s, cases[i].group_by, cases[i].aggs, err, sizeof(err));

        cr_assert_null(p, "case %zu should fail", i);
        cr_assert(strstr(err, cases[i].message), "case %zu: got '%s'", i, err);
    }
    bwm_schema_destroy(s);
}

Test(plan, event_time_must_be_a_long)
{
    bwm_schema_t *s = fixture_schema();
    bwm_plan_spec_t spec = {"kpi", "in", "out", "vin", "COUNT(*)", "km"};
    char err[512];

    cr_assert_null(bwm_plan_new(&spec, s, err, sizeof(err)));
    cr_assert(strstr(err, "event time field 'km' must be a long"), "%s", err);
    spec.ps_name = "bad-name";
    spec.ps_time_field = NULL;
    cr_assert_null(bwm_plan_new(&spec, s, err, sizeof(err)));
    cr_assert(strstr(err, "table name 'bad-name' is not a valid Avro name"), "%s", err);
    bwm_schema_destroy(s);
}
