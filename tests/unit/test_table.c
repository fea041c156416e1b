/*
 * test_table.c: per-partition state tables: lookups, growth, deletion,
 * windows kept in order, touched marks, the entry encoding, the accounted
 * bytes and the order in which entries are dropped from the cache.
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

static void setup(fixture_t *f, const char *query)
{
    f->schema = fixture_schema();
    f->plan = fixture_plan_ok(f->schema, query);
    f->table = bwm_table_new(f->plan);
    cr_assert_not_null(f->table);
}

static void teardown(fixture_t *f)
{
    bwm_table_destroy(f->table);
    bwm_plan_destroy(f->plan);
    bwm_schema_destroy(f->schema);
}

#define KPI "CREATE TABLE kpi AS SELECT vin, COUNT(*) AS c, SUM(km) AS km FROM r GROUP BY vin;"

/* Adds one record (km) to window w as source offset off. */
static void add(fixture_t *f, bwm_win_t *w, double km, int64_t off)
{
    bwm_value_t v = {.v_type = BWM_T_DOUBLE, .u.v_double = km};
    bwm_agg_input_t star = {NULL, 0, off}, in = {&v, 0, off};
    const bwm_plan_agg_t *a = f->plan->p_aggs;

    cr_assert_eq(a[0].pa_ops->ao_add((char *)w->w_state + a[0].pa_offset, &star), BWM_OK);
    cr_assert_eq(a[1].pa_ops->ao_add((char *)w->w_state + a[1].pa_offset, &in), BWM_OK);
    w->w_version = off;
}

Test(table, windows_stay_sorted_and_are_found)
{
    fixture_t f;
    bwm_entry_t *e;
    bwm_win_t *w;
    int64_t starts[] = {300, 100, 200, -50};
    size_t i;

    setup(&f, KPI);
    cr_assert_eq(bwm_table_put(f.table, "A", 1, &e), BWM_OK);
    cr_assert_eq(bwm_table_put(f.table, "A", 1, &e), BWM_ERR_INVALID);
    cr_assert_null(bwm_table_window(f.table, e, 100, 0));
    for (i = 0; i < 4; i++) {
        cr_assert_not_null(bwm_table_window(f.table, e, starts[i], 1));
    }
    cr_assert_eq(e->e_nwins, 4);
    cr_assert_eq(e->e_wins[0]->w_start, -50);
    cr_assert_eq(e->e_wins[3]->w_start, 300);
    w = bwm_table_window(f.table, e, 200, 0);
    cr_assert_not_null(w);
    cr_assert_eq(bwm_table_window(f.table, e, 200, 1), w, "found, not created twice");
    bwm_table_window_drop(f.table, e, w);
    cr_assert_eq(e->e_nwins, 3);
    cr_assert_null(bwm_table_window(f.table, e, 200, 0));
    teardown(&f);
}

Test(table, touched_marks_and_results)
{
    fixture_t f;
    bwm_entry_t *a, *b, *const *touched;
    bwm_value_t res[2];
    size_t n;

    setup(&f, KPI);
    bwm_table_put(f.table, "A", 1, &a);
    bwm_table_put(f.table, "B", 1, &b);
    add(&f, bwm_table_window(f.table, a, 0, 1), 1.5, 7);
    add(&f, bwm_table_window(f.table, a, 0, 1), 0.5, 9);
    cr_assert_eq(bwm_table_touch(f.table, b), BWM_OK);
    cr_assert_eq(bwm_table_touch(f.table, a), BWM_OK);
    cr_assert_eq(bwm_table_touch(f.table, b), BWM_OK);
    touched = bwm_table_touched(f.table, &n);
    cr_assert_eq(n, 2, "each entry is listed once");
    cr_assert_eq(touched[0], b);
    cr_assert(a->e_dirty && a->e_touched);
    bwm_table_results(f.table, a->e_wins[0], res);
    cr_assert_eq(res[0].u.v_long, 2);
    cr_assert_eq(res[1].u.v_double, 2.0);
    bwm_table_clear_touched(f.table);
    bwm_table_touched(f.table, &n);
    cr_assert_eq(n, 0);
    cr_assert(!a->e_dirty && !a->e_touched);
    teardown(&f);
}

Test(table, grows_to_many_keys_and_finds_them_all)
{
    fixture_t f;
    bwm_entry_t *e;
    char key[32];
    int i;

    setup(&f, KPI);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_eq(bwm_table_put(f.table, key, strlen(key), &e), BWM_OK);
        bwm_table_window(f.table, e, i, 1)->w_version = i;
    }
    cr_assert_eq(bwm_table_size(f.table), 20000);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        e = bwm_table_get(f.table, key, strlen(key));
        cr_assert_not_null(e, "%s", key);
        cr_assert_eq(e->e_wins[0]->w_version, i);
    }
    teardown(&f);
}

Test(table, encode_restore_round_trip_and_mismatch)
{
    fixture_t f, g;
    bwm_entry_t *a, *b;
    bwm_win_t *w;
    bwm_value_t res[2];
    bwm_buf_t enc;
    char err[256];

    setup(&f, KPI);
    bwm_table_put(f.table, "A", 1, &a);
    add(&f, bwm_table_window(f.table, a, 1000, 1), 3.25, 41);
    w = bwm_table_window(f.table, a, 2000, 1);
    add(&f, w, 1.0, 42);
    w->w_last = 2500;
    bwm_buf_init(&enc);
    bwm_table_encode(f.table, a, &enc);
    cr_assert_eq(enc.b_data[0], BWM_STATE_FORMAT);
    bwm_table_put(f.table, "B", 1, &b);
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len, err, sizeof(err)), BWM_OK,
                 "%s", err);
    cr_assert_eq(b->e_nwins, 2);
    cr_assert_eq(b->e_wins[0]->w_start, 1000);
    cr_assert_eq(b->e_wins[0]->w_version, 41);
    cr_assert_eq(b->e_wins[1]->w_last, 2500);
    bwm_table_results(f.table, b->e_wins[0], res);
    cr_assert_eq(res[0].u.v_long, 1);
    cr_assert_eq(res[1].u.v_double, 3.25);
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len - 1, err, sizeof(err)),
                 BWM_ERR_DECODE, "truncated");
    cr_assert_eq(b->e_nwins, 0, "a failed restore leaves no half state");
    enc.b_data[0] = 1;
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len, err, sizeof(err)),
                 BWM_ERR_DECODE);
    cr_assert(strstr(err, "format 1 (this version reads 2)"), "%s", err);
    enc.b_data[0] = BWM_STATE_FORMAT;
    /* A job with other aggregates cannot read this state. */
    setup(&g, "CREATE TABLE kpi AS SELECT vin, COUNT(*) AS c FROM r GROUP BY vin;");
    bwm_table_put(g.table, "A", 1, &a);
    cr_assert_eq(bwm_table_restore(g.table, a, enc.b_data, enc.b_len, err, sizeof(err)),
                 BWM_ERR_DECODE);
    cr_assert(strstr(err, "has 2 aggregates; this job has 1"), "%s", err);
    bwm_buf_free(&enc);
    teardown(&g);
    teardown(&f);
}

Test(table, deleted_keys_are_gone_and_the_others_still_found)
{
    fixture_t f;
    bwm_entry_t *e;
    char key[32];
    int i;

    setup(&f, KPI);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_eq(bwm_table_put(f.table, key, strlen(key), &e), BWM_OK);
        bwm_table_window(f.table, e, 0, 1)->w_version = i;
    }
    for (i = 0; i < 5000; i += 3) {
        snprintf(key, sizeof(key), "k%d", i);
        bwm_table_del(f.table, bwm_table_get(f.table, key, strlen(key)));
    }
    cr_assert_eq(bwm_table_size(f.table), 5000 - 1667);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        e = bwm_table_get(f.table, key, strlen(key));
        if (i % 3 == 0) {
            cr_assert_null(e, "%s was deleted", key);
        } else {
            cr_assert_not_null(e, "%s", key);
            cr_assert_eq(e->e_wins[0]->w_version, i);
        }
    }
    /* deleted keys can come back */
    cr_assert_eq(bwm_table_put(f.table, "k0", 2, &e), BWM_OK);
    cr_assert_eq(bwm_table_get(f.table, "k0", 2), e);
    teardown(&f);
}

Test(table, bytes_count_keys_entries_window_arrays_and_windows)
{
    fixture_t f;
    bwm_entry_t *a, *b;
    size_t win = sizeof(bwm_win_t), entry = sizeof(bwm_entry_t), i;

    setup(&f, KPI);
    win += f.plan->p_state_size; /* COUNT and SUM own no heap memory */
    cr_assert_eq(bwm_table_bytes(f.table), 0);
    bwm_table_put(f.table, "A", 1, &a);
    cr_assert_eq(bwm_table_bytes(f.table), entry + 2);
    bwm_table_window(f.table, a, 0, 1);
    cr_assert_eq(bwm_table_bytes(f.table), entry + 2 + 2 * sizeof(bwm_win_t *) + win);
    for (i = 1; i < 3; i++) {
        bwm_table_window(f.table, a, (int64_t)i, 1);
    }
    cr_assert_eq(bwm_table_bytes(f.table), entry + 2 + 4 * sizeof(bwm_win_t *) + 3 * win);
    bwm_table_put(f.table, "BB", 2, &b);
    bwm_table_window(f.table, b, 0, 1);
    bwm_table_window_drop(f.table, a, a->e_wins[0]);
    cr_assert_eq(bwm_table_bytes(f.table), entry + 2 + 4 * sizeof(bwm_win_t *) + 2 * win + entry +
                                               3 + 2 * sizeof(bwm_win_t *) + win);
    bwm_table_del(f.table, a);
    cr_assert_eq(bwm_table_bytes(f.table), entry + 3 + 2 * sizeof(bwm_win_t *) + win);
    bwm_table_del(f.table, b);
    cr_assert_eq(bwm_table_bytes(f.table), 0);
    teardown(&f);
}

/* Entries without windows go first; then the least recently used; never dirty or used ones. */
Test(table, victims_come_oldest_first_and_empty_before_all)
{
    fixture_t f;
    bwm_entry_t *a, *b, *c;

    setup(&f, KPI);
    bwm_table_put(f.table, "A", 1, &a);
    bwm_table_put(f.table, "B", 1, &b);
    bwm_table_put(f.table, "C", 1, &c);
    bwm_table_window(f.table, a, 0, 1);
    bwm_table_window(f.table, c, 0, 1);
    cr_assert_null(bwm_table_victim(f.table), "all three are used by this batch");
    bwm_table_clear_touched(f.table);
    cr_assert_eq(bwm_table_victim(f.table), b, "B has no windows");
    bwm_table_use(f.table, b);
    cr_assert_eq(bwm_table_victim(f.table), a, "B is used again; A is the oldest");
    bwm_table_use(f.table, a);
    cr_assert_eq(bwm_table_victim(f.table), c);
    cr_assert_eq(bwm_table_touch(f.table, c), BWM_OK);
    cr_assert_null(bwm_table_victim(f.table), "C is dirty, the others used");
    bwm_table_clear_touched(f.table);
    cr_assert_eq(bwm_table_victim(f.table), b);
    bwm_table_del(f.table, b);
    cr_assert_eq(bwm_table_victim(f.table), a, "A was used before C");
    bwm_table_window_drop(f.table, c, c->e_wins[0]);
    cr_assert_eq(bwm_table_victim(f.table), c, "C lost its last window");
    teardown(&f);
}

Test(table, a_single_window_encodes_as_an_entry_holding_it)
{
    fixture_t f;
    bwm_entry_t *a, *b;
    bwm_win_t *w;
    bwm_value_t res[2];
    bwm_buf_t enc;
    char err[256];

    setup(&f, KPI);
    bwm_table_put(f.table, "A", 1, &a);
    add(&f, bwm_table_window(f.table, a, 1000, 1), 3.25, 41);
    w = bwm_table_window(f.table, a, 2000, 1);
    add(&f, w, 1.5, 42);
    add(&f, w, 1.0, 43);
    bwm_buf_init(&enc);
    bwm_table_encode_window(f.table, w, &enc);
    bwm_table_put(f.table, "B", 1, &b);
    cr_assert_eq(bwm_table_restore(f.table, b, enc.b_data, enc.b_len, err, sizeof(err)), BWM_OK,
                 "%s", err);
    cr_assert_eq(b->e_nwins, 1);
    cr_assert_eq(b->e_wins[0]->w_start, 2000);
    cr_assert_eq(b->e_wins[0]->w_version, 43);
    bwm_table_results(f.table, b->e_wins[0], res);
    cr_assert_eq(res[0].u.v_long, 2);
    cr_assert_eq(res[1].u.v_double, 2.5);
    bwm_buf_free(&enc);
    teardown(&f);
}
