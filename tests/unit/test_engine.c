/*
 * test_engine.c: the engine over windows, as tables of input batches and
 * expected outputs: tumbling and hopping windows with EMIT CHANGES and EMIT
 * FINAL, grace and late records, sessions that extend and merge, HAVING,
 * stateless projections, evaluation errors, and restarts from the store.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define MIN 60000LL

/* One expected output: key, window start, end, first column, version; tombstone when v < 0. */
typedef struct want {
    const char *key;
    int64_t start;
    int64_t end;
    double v0;
    int64_t version;
} want_t;

static void expect_outputs(const harness_t *h, const want_t *w, size_t n)
{
    size_t i;

    cr_assert_eq(h->h_nouts, n, "expected %zu outputs, got %zu", n, h->h_nouts);
    for (i = 0; i < n; i++) {
        const out_t *o = harness_find(h, w[i].key);

        cr_assert_not_null(o, "no output for key %s", w[i].key);
        if (w[i].version < 0) {
            cr_assert(o->o_tombstone, "%s should be a tombstone", w[i].key);
            continue;
        }
        cr_assert(!o->o_tombstone, "%s is a tombstone", w[i].key);
        cr_assert_eq(o->o_start, w[i].start, "%s: start %lld", w[i].key, (long long)o->o_start);
        cr_assert_eq(o->o_end, w[i].end, "%s: end %lld", w[i].key, (long long)o->o_end);
        cr_assert_eq(o->o_vals[0], w[i].v0, "%s: value %g, expected %g", w[i].key, o->o_vals[0],
                     w[i].v0);
        cr_assert_eq(o->o_version, w[i].version, "%s: version %lld", w[i].key,
                     (long long)o->o_version);
    }
}

#define TUMBLING(emit)                                                                             \
    "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(km) AS km FROM r WINDOW TUMBLING "           \
    "(SIZE 10 MINUTES, GRACE 2 MINUTES) GROUP BY vin EMIT " emit ";"

Test(engine, tumbling_emit_changes_per_batch)
{
    harness_t h;
    rec_t b1[] = {
        {"A", 1 * MIN, 1, 0}, {"A", 2 * MIN, 2, 0}, {"B", 3 * MIN, 5, 0}, {"A", 11 * MIN, 1, 0}};
    rec_t b2[] = {{"A", 9 * MIN, 1, 0}, {"A", 12 * MIN, 1, 0}};
    want_t w1[] = {{"A@0", 0, 10 * MIN, 2, 1},
                   {"B@0", 0, 10 * MIN, 1, 2},
                   {"A@600000", 10 * MIN, 20 * MIN, 1, 3}};
    want_t w2[] = {{"A@0", 0, 10 * MIN, 3, 4}, {"A@600000", 10 * MIN, 20 * MIN, 2, 5}};

    harness_init(&h, TUMBLING("CHANGES"));
    harness_batch(&h, b1, 4);
    expect_outputs(&h, w1, 3);
    /* 9 min is within the grace of [0, 10) while the watermark is 11 min. */
    harness_batch(&h, b2, 2);
    cr_assert_eq(h.h_ndead, 0);
    expect_outputs(&h, w2, 2);
    harness_free(&h);
}

Test(engine, tumbling_windows_split_exactly_at_their_bounds)
{
    harness_t h;
    /* Records a millisecond either side of window bounds, one after another. */
    rec_t b1[] = {{"A", -1, 1, 0},           {"A", 0, 1, 0},
                  {"A", 10 * MIN - 1, 1, 0}, {"A", 10 * MIN, 1, 0},
                  {"B", 10 * MIN - 1, 1, 0}, {"A", 20 * MIN - 1, 1, 0},
                  {"A", 20 * MIN, 1, 0}};
    want_t w1[] = {{"A@-600000", -10 * MIN, 0, 1, 0},
                   {"A@0", 0, 10 * MIN, 2, 2},
                   {"A@600000", 10 * MIN, 20 * MIN, 2, 5},
                   {"B@0", 0, 10 * MIN, 1, 4},
                   {"A@1200000", 20 * MIN, 30 * MIN, 1, 6}};

    harness_init(&h, TUMBLING("CHANGES"));
    harness_batch(&h, b1, 7);
    cr_assert_eq(h.h_ndead, 0);
    expect_outputs(&h, w1, 5);
    harness_free(&h);
}

Test(engine, tumbling_emit_final_once_when_the_watermark_passes_end_plus_grace)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 2 * MIN, 1, 0}, {"A", 11 * MIN, 1, 0}};
    rec_t b2[] = {{"A", 9 * MIN, 1, 0}, {"A", 12 * MIN, 1, 0}};
    rec_t b3[] = {{"B", 5 * MIN, 1, 0}, {"A", 25 * MIN, 1, 0}};
    want_t w2[] = {{"A@0", 0, 10 * MIN, 2, 4}, {"B@0", 0, 10 * MIN, 1, 4}};
    want_t w3[] = {{"A@600000", 10 * MIN, 20 * MIN, 2, 6}};

    harness_init(&h, TUMBLING("FINAL"));
    harness_batch(&h, b1, 3);
    cr_assert_eq(h.h_nouts, 0, "nothing is final yet");
    /* The record at 12 min (offset 4) moves the watermark to end + grace of [0, 10). */
    harness_batch(&h, b2, 2);
    expect_outputs(&h, w2, 2);
    /* [0, 10) is closed now: a record for it is late. */
    harness_batch(&h, b3, 2);
    cr_assert_eq(h.h_ndead, 1);
    cr_assert_str_eq(h.h_dead[0], "late");
    cr_assert_eq(h.h_dead_rows[0], 0);
    expect_outputs(&h, w3, 1);
    harness_free(&h);
}

Test(engine, final_results_survive_a_restart_through_the_close_index)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 3 * MIN, 1, 0}};
    rec_t b2[] = {{"C", 30 * MIN, 1, 0}};
    want_t w2[] = {{"A@0", 0, 10 * MIN, 1, 2}, {"B@0", 0, 10 * MIN, 1, 2}};

    harness_init(&h, TUMBLING("FINAL"));
    harness_batch(&h, b1, 2);
    /* A new owner: nothing in memory, A and B known only from the store's close index. */
    harness_start(&h);
    cr_assert_eq(bwm_engine_keys(h.h_engine), 0);
    harness_batch(&h, b2, 1);
    expect_outputs(&h, w2, 2);
    harness_free(&h);
}

Test(engine, hopping_windows_each_count_the_record)
{
    harness_t h;
    rec_t b1[] = {{"A", 7 * MIN, 1, 0}, {"A", 12 * MIN, 1, 0}};
    want_t w1[] = {{"A@0", 0, 10 * MIN, 1, 0},
                   {"A@300000", 5 * MIN, 15 * MIN, 2, 1},
                   {"A@600000", 10 * MIN, 20 * MIN, 1, 1}};

    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n FROM r WINDOW HOPPING (SIZE 10 "
                     "MINUTES, ADVANCE BY 5 MINUTES) GROUP BY vin;");
    harness_batch(&h, b1, 2);
    expect_outputs(&h, w1, 3);
    harness_free(&h);
}

#define SESSION                                                                                    \
    "CREATE TABLE t AS SELECT vin, COUNT(*) AS n FROM r WINDOW SESSION (5 MINUTES, GRACE 20 "      \
    "MINUTES) GROUP BY vin;"

Test(engine, sessions_start_extend_and_merge)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 1, 0}, {"A", 3 * MIN, 1, 0}, {"A", 20 * MIN, 1, 0}};
    rec_t b4[] = {{"A", 60 * MIN, 1, 0}};
    /* 11 min reaches neither session (gap 5), and is within grace: a third session. */
    rec_t b2[] = {{"A", 11 * MIN, 1, 0}};
    /* 16 min bridges [11, 11] and [20, 20]: they merge into [11, 20]. */
    rec_t b3[] = {{"A", 16 * MIN, 1, 0}};
    want_t w1[] = {{"A@0", 0, 3 * MIN, 2, 1}, {"A@1200000", 20 * MIN, 20 * MIN, 1, 2}};
    want_t w2[] = {{"A@660000", 11 * MIN, 11 * MIN, 1, 3}};
    want_t w3[] = {{"A@660000", 11 * MIN, 20 * MIN, 3, 4}, {"A@1200000", 0, 0, 0, -1}};

    harness_init(&h, SESSION);
    harness_batch(&h, b1, 3);
    expect_outputs(&h, w1, 2);
    harness_batch(&h, b2, 1);
    expect_outputs(&h, w2, 1);
    harness_batch(&h, b3, 1);
    expect_outputs(&h, w3, 2);
    /* At 60 min every earlier session has closed; a late record for them is dead. */
    harness_batch(&h, b4, 1);
    {
        rec_t late[] = {{"A", 2 * MIN, 1, 0}};

        harness_batch(&h, late, 1);
        cr_assert_eq(h.h_ndead, 1);
        cr_assert_str_eq(h.h_dead[0], "late");
    }
    harness_free(&h);
}

Test(engine, a_session_extended_backwards_gets_a_new_start)
{
    harness_t h;
    rec_t b1[] = {{"A", 10 * MIN, 1, 0}};
    rec_t b2[] = {{"A", 7 * MIN, 1, 0}};
    want_t w2[] = {{"A@420000", 7 * MIN, 10 * MIN, 2, 1}, {"A@600000", 0, 0, 0, -1}};

    harness_init(&h, SESSION);
    harness_batch(&h, b1, 1);
    harness_batch(&h, b2, 1);
    expect_outputs(&h, w2, 2);
    harness_free(&h);
}

Test(engine, having_hides_keys_with_a_tombstone)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 1, 0}, {"B", 0, 1, 0}, {"B", 0, 1, 0}};
    want_t w1[] = {{"A", 0, 0, 0, -1}, {"B", -1, 0, 2, 2}};

    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n FROM r GROUP BY vin HAVING "
                     "COUNT(*) > 1;");
    harness_batch(&h, b1, 3);
    expect_outputs(&h, w1, 2);
    harness_free(&h);
}

Test(engine, stateless_filters_and_projects_with_the_source_offset)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 150, 0}, {"B", 0, 50, 0}, {"C", 0, 200, 0}};

    harness_init(&h, "CREATE STREAM fast AS SELECT vin, km * 2 AS twice FROM r WHERE km > 100;");
    harness_batch(&h, b1, 3);
    cr_assert_eq(h.h_nouts, 2);
    cr_assert_str_eq(h.h_outs[0].o_vin, "A");
    cr_assert_eq(h.h_outs[0].o_vals[0], 300);
    cr_assert_eq(h.h_outs[0].o_version, 0);
    cr_assert_str_eq(h.h_outs[1].o_vin, "C");
    cr_assert_eq(h.h_outs[1].o_version, 2);
    harness_free(&h);
}

Test(engine, bad_records_are_dead_and_change_nothing)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 1, INT64_MAX}, {"A", 0, 1, 1}, {NULL, 0, 1, 1}, {"A", 0, 1, 0}};
    char longkey[200];

    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(big) AS s FROM r GROUP BY "
                     "vin;");
    harness_batch(&h, b1, 4);
    /* Row 1 overflows SUM, row 2 has a null key. */
    cr_assert_eq(h.h_ndead, 2);
    cr_assert_str_eq(h.h_dead[0], "eval");
    cr_assert_str_eq(h.h_dead[1], "eval");
    cr_assert_eq(h.h_dead_rows[0] + h.h_dead_rows[1], 3);
    cr_assert_neq(h.h_dead_rows[0], h.h_dead_rows[1]);
    cr_assert_eq(h.h_nouts, 1);
    cr_assert_eq(h.h_outs[0].o_vals[0], 2, "COUNT(*) did not count the refused record");
    cr_assert_eq(h.h_outs[0].o_vals[1], (double)INT64_MAX);
    cr_assert_eq(h.h_outs[0].o_version, 3);
    {
        rec_t b2[] = {{longkey, 0, 1, 0}};

        harness_batch(&h, b2, 1);
        cr_assert_eq(h.h_ndead, 1);
        cr_assert_str_eq(h.h_dead[0], "limit");
    }
    harness_free(&h);
}

Test(engine, counts_the_rows_of_each_round_staged_and_filtered)
{
    harness_t h;
    rec_t r1[] = {{"A", 0, 1, 1}, {"B", 0, 0, 1}, {"A", 0, 2, 1}, {"C", 0, -1, 1}};
    rec_t r2[] = {{"B", 0, 0, 1}, {"C", 0, 5, 1}};
    size_t staged, filtered, dead;

    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n FROM r WHERE km > 0 GROUP BY "
                     "vin;");
    harness_batch_start(&h);
    harness_stage(&h, r1, 4);
    bwm_engine_counts(h.h_engine, &staged, &filtered, &dead);
    cr_assert_eq(staged, 4);
    cr_assert_eq(filtered, 2, "%zu filtered", filtered);
    cr_assert_eq(dead, 0);
    harness_load(&h);
    harness_round(&h, 0);
    bwm_engine_counts(h.h_engine, &staged, &filtered, &dead);
    cr_assert_eq(staged + filtered + dead, 0, "the next round starts at zero");
    harness_stage(&h, r2, 2);
    bwm_engine_counts(h.h_engine, &staged, &filtered, &dead);
    cr_assert_eq(staged, 2);
    cr_assert_eq(filtered, 1, "%zu filtered", filtered);
    harness_load(&h);
    harness_round(&h, 1);
    cr_assert_eq(h.h_nouts, 2, "A and C");
    harness_free(&h);
}

/* COUNT, and SUM and AVG of a DOUBLE, across batches: SUM adds in order, AVG compensates. */
Test(engine, count_sum_and_avg_of_doubles_across_batches)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 1.5, 0}, {"B", 0, -4, 0}, {"A", 0, 2.5, 0}};
    rec_t b2[] = {{"A", 0, 0.25, 0}, {"B", 0, 1e300, 0}, {"B", 0, -1e300, 0}};

    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(km) AS s, AVG(km) AS a, "
                     "COUNT(km) AS c, SUM(big) AS b FROM r GROUP BY vin;");
    harness_batch(&h, b1, 3);
    cr_assert_eq(h.h_nouts, 2);
    harness_batch(&h, b2, 3);
    cr_assert_eq(h.h_nouts, 2);
    {
        const out_t *a = harness_find(&h, "A"), *b = harness_find(&h, "B");
        /* B's -4 is lost by SUM's plain sum of 1e300 and -1e300, kept by AVG's compensated one */
        const double want_a[] = {3, 4.25, 4.25 / 3, 3, 0}, want_b[] = {3, 0, -4.0 / 3, 3, 0};
        size_t i;

        cr_assert(a && b);
        for (i = 0; i < 5; i++) {
            cr_assert_eq(a->o_vals[i], want_a[i], "A column %zu: %g", i, a->o_vals[i]);
            cr_assert_eq(b->o_vals[i], want_b[i], "B column %zu: %g", i, b->o_vals[i]);
        }
    }
    harness_free(&h);
}

Test(engine, state_continues_across_restarts)
{
    harness_t h;
    rec_t b1[] = {{"A", 0, 1.5, 0}, {"B", 0, 2, 0}};
    rec_t b2[] = {{"A", 0, 1, 0}};
    want_t w2[] = {{"A", -1, 0, 2, 2}};

    harness_init(&h, "CREATE TABLE t AS SELECT vin, COUNT(*) AS n FROM r GROUP BY vin;");
    harness_batch(&h, b1, 2);
    harness_start(&h);
    harness_batch(&h, b2, 1);
    expect_outputs(&h, w2, 1);
    harness_free(&h);
}
