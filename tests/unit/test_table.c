/*
 * test_table.c: per-partition state tables: lookups, growth, atomic apply,
 * touched tracking, versions and the state encoding.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/table.h"
#include "fixtures.h"

typedef struct fixture {
    bwm_schema_t *schema;
    bwm_plan_t *plan;
    bwm_table_t *table;
} fixture_t;

static void setup(fixture_t *f, const char *aggs)
{
    char err[512];

    f->schema = fixture_schema();
    f->plan = fixture_plan(f->schema, "vin", aggs, err, sizeof(err));
    cr_assert_not_null(f->plan, "%s", err);
    f->table = bwm_table_new(f->plan);
    cr_assert_not_null(f->table);
}

static void teardown(fixture_t *f)
{
    bwm_table_destroy(f->table);
    bwm_plan_destroy(f->plan);
    bwm_schema_destroy(f->schema);
}

/* Fills the slots of a plan reading vin, ts, km and big, in that order. */
static void row(bwm_value_t *slots, const char *vin, double km, int64_t big)
{
    memset(slots, 0, 5 * sizeof(*slots));
    slots[0].v_type = BWM_T_STRING;
    slots[0].u.v_str.p = vin;
    slots[0].u.v_str.n = strlen(vin);
    slots[1].v_type = BWM_T_LONG;
    slots[2].v_type = BWM_T_DOUBLE;
    slots[2].u.v_double = km;
    slots[3].v_type = BWM_T_LONG;
    slots[3].u.v_long = big;
}

Test(table, key_text_of_each_type)
{
    bwm_value_t v;
    char buf[8];
    size_t n;

    v.v_type = BWM_T_LONG;
    v.u.v_long = -42;
    cr_assert_eq(bwm_table_key(&v, buf, sizeof(buf), &n), BWM_OK);
    cr_assert_str_eq(buf, "-42");
    v.v_type = BWM_T_BOOL;
    v.u.v_bool = 1;
    cr_assert_eq(bwm_table_key(&v, buf, sizeof(buf), &n), BWM_OK);
    cr_assert_str_eq(buf, "true");
    v.v_type = BWM_T_STRING;
    v.u.v_str.p = "12345678";
    v.u.v_str.n = 8;
    cr_assert_eq(bwm_table_key(&v, buf, sizeof(buf), &n), BWM_ERR_LIMIT, "8 bytes + NUL > 8");
    v.v_type = BWM_T_NULL;
    cr_assert_eq(bwm_table_key(&v, buf, sizeof(buf), &n), BWM_ERR_TYPE);
}

Test(table, apply_tracks_touched_versions_and_results)
{
    fixture_t f;
    bwm_value_t slots[5], res[3];
    bwm_entry_t *a, *b, *const *touched;
    char err[256];
    size_t n;

    setup(&f, "COUNT(*) AS c, SUM(km) AS km, SUM(big) AS big");
    cr_assert_null(bwm_table_get(f.table, "A", 1));
    cr_assert_eq(bwm_table_put(f.table, "A", 1, &a, err, sizeof(err)), BWM_OK);
    cr_assert_eq(bwm_table_put(f.table, "B", 1, &b, err, sizeof(err)), BWM_OK);
    cr_assert_eq(bwm_table_put(f.table, "A", 1, &a, err, sizeof(err)), BWM_ERR_INVALID);
    cr_assert_eq(a->e_version, -1);
    row(slots, "A", 1.5, 10);
    cr_assert_eq(bwm_table_apply(f.table, a, slots, 7, err, sizeof(err)), BWM_OK);
    row(slots, "B", 2.0, 1);
    cr_assert_eq(bwm_table_apply(f.table, b, slots, 8, err, sizeof(err)), BWM_OK);
    row(slots, "A", 0.5, 5);
    slots[3].v_type = BWM_T_NULL; /* SUM skips nulls; COUNT(*) does not */
    cr_assert_eq(bwm_table_apply(f.table, a, slots, 9, err, sizeof(err)), BWM_OK);
    touched = bwm_table_touched(f.table, &n);
    cr_assert_eq(n, 2, "each entry is listed once");
    cr_assert_eq(touched[0], a);
    cr_assert_eq(touched[1], b);
    cr_assert_eq(a->e_version, 9, "version is the offset of the last record applied");
    bwm_table_result(f.table, a, res);
    cr_assert_eq(res[0].u.v_long, 2);
    cr_assert_eq(res[1].u.v_double, 2.0);
    cr_assert_eq(res[2].u.v_long, 10);
    cr_assert(a->e_dirty && a->e_touched);
    bwm_table_clear_touched(f.table);
    bwm_table_touched(f.table, &n);
    cr_assert_eq(n, 0);
    cr_assert(!a->e_dirty && !a->e_touched);
    cr_assert_eq(bwm_table_get(f.table, "A", 1), a);
    teardown(&f);
}

Test(table, a_failing_aggregate_leaves_the_entry_unchanged)
{
    fixture_t f;
    bwm_value_t slots[5], res[3];
    bwm_entry_t *a;
    char err[256];
    size_t n;

    setup(&f, "COUNT(*) AS c, SUM(km) AS km, SUM(big) AS big");
    bwm_table_put(f.table, "A", 1, &a, err, sizeof(err));
    row(slots, "A", 0, INT64_MAX);
    cr_assert_eq(bwm_table_apply(f.table, a, slots, 1, err, sizeof(err)), BWM_OK);
    bwm_table_clear_touched(f.table);
    row(slots, "A", 0, 1);
    cr_assert_eq(bwm_table_apply(f.table, a, slots, 2, err, sizeof(err)), BWM_ERR_OVERFLOW);
    cr_assert(strstr(err, "SUM(big) for key 'A'"), "%s", err);
    bwm_table_result(f.table, a, res);
    cr_assert_eq(res[0].u.v_long, 1, "COUNT(*) rolled back with the failing SUM");
    cr_assert_eq(res[1].u.v_double, 0.0);
    cr_assert_eq(res[2].u.v_long, INT64_MAX);
    cr_assert_eq(a->e_version, 1);
    bwm_table_touched(f.table, &n);
    cr_assert_eq(n, 0, "a failed record touches nothing");
    teardown(&f);
}

Test(table, grows_to_many_keys_and_finds_them_all)
{
    fixture_t f;
    bwm_value_t slots[5];
    bwm_entry_t *e;
    char key[32], err[256];
    int i;

    setup(&f, "COUNT(*) AS c");
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_eq(bwm_table_put(f.table, key, strlen(key), &e, err, sizeof(err)), BWM_OK);
        row(slots, key, 0, 0);
        bwm_table_apply(f.table, e, slots, i, err, sizeof(err));
    }
    cr_assert_eq(bwm_table_size(f.table), 20000);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        e = bwm_table_get(f.table, key, strlen(key));
        cr_assert_not_null(e, "%s", key);
        cr_assert_eq(e->e_version, i);
    }
    teardown(&f);
}

Test(table, encode_restore_round_trip_and_mismatch)
{
    fixture_t f, g;
    bwm_value_t slots[5], res[3];
    bwm_entry_t *a, *b;
    bwm_buf_t enc;
    char err[256];

    setup(&f, "COUNT(*) AS c, SUM(km) AS km, SUM(big) AS big");
    bwm_table_put(f.table, "A", 1, &a, err, sizeof(err));
    row(slots, "A", 3.25, -4);
    bwm_table_apply(f.table, a, slots, 41, err, sizeof(err));
    bwm_buf_init(&enc);
    bwm_table_encode(f.table, a, &enc);
    cr_assert_eq(enc.b_data[0], BWM_STATE_FORMAT);
    bwm_table_put(f.table, "B", 1, &b, err, sizeof(err));
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len, err, sizeof(err)), BWM_OK,
                 "%s", err);
    cr_assert_eq(b->e_version, 41);
    bwm_table_result(f.table, b, res);
    cr_assert_eq(res[0].u.v_long, 1);
    cr_assert_eq(res[1].u.v_double, 3.25);
    cr_assert_eq(res[2].u.v_long, -4);
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len - 1, err, sizeof(err)),
                 BWM_ERR_DECODE, "truncated");
    bwm_table_result(f.table, b, res);
    cr_assert_eq(res[0].u.v_long, 1, "a failed restore leaves the entry as it was");
    /* A job with other aggregates cannot read this state. */
    setup(&g, "COUNT(*) AS c");
    bwm_table_put(g.table, "A", 1, &a, err, sizeof(err));
    cr_assert_eq(bwm_table_restore(g.table, a, enc.b_data, enc.b_len, err, sizeof(err)),
                 BWM_ERR_DECODE);
    cr_assert(strstr(err, "with 3 aggregates; this job has format 1 with 1"), "%s", err);
    bwm_buf_free(&enc);
    teardown(&g);
    teardown(&f);
}
