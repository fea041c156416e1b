/*
 * test_engine_cache.c: the engine's bounded state cache and the retention of
 * closed windows, as tables of batches: what eviction may drop and when, an
 * evicted entry read back and closed on time, entries without windows
 * dropped first, the accounted bytes against sizes counted by hand, and the
 * retained windows read back with bwm_table_restore().
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/table.h"
#include "harness.h"

#define MIN 60000LL

#define TUMBLING_FINAL                                                                             \
    "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(km) AS km FROM r WINDOW TUMBLING "           \
    "(SIZE 10 MINUTES, GRACE 2 MINUTES) GROUP BY vin EMIT FINAL;"

/* A harness for query with these budgets (entries, bytes) and retention. */
static void start(harness_t *h, const char *query, size_t entries, size_t bytes, int64_t retain)
{
    harness_init(h, query);
    h->h_limits.el_cache_entries = entries;
    h->h_limits.el_cache_bytes = bytes;
    h->h_limits.el_retention_ms = retain;
    harness_start(h);
}

/* The output of the last batch with this Kafka key: a result of count n and this version. */
static void expect_final(const harness_t *h, const char *key, double n, int64_t version)
{
    const out_t *o = harness_find(h, key);
    size_t i, hits = 0;

    cr_assert_not_null(o, "no result for %s", key);
    cr_assert(!o->o_tombstone);
    cr_assert_eq(o->o_vals[0], n, "%s: count %g, expected %g", key, o->o_vals[0], n);
    cr_assert_eq(o->o_version, version, "%s: version %lld", key, (long long)o->o_version);
    for (i = 0; i < h->h_nouts; i++) {
        hits += strcmp(h->h_outs[i].o_key, key) == 0;
    }
    cr_assert_eq(hits, 1, "%s: %zu results", key, hits);
}

Test(engine_cache, dirty_or_used_entries_are_never_evicted)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 1 * MIN, 1, 0}};
    rec_t b2[] = {{"C", 2 * MIN, 1, 0}};
    rec_t b3[] = {{"D", 20 * MIN, 1, 0}};

    start(&h, TUMBLING_FINAL, 0, 1, 0); /* 1 byte: drop everything that may go */
    harness_stage(&h, b1, 2);
    harness_load(&h);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 0, "staged for and loaded by this batch");
    harness_apply(&h);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 0, "dirty");
    harness_commit(&h);
    cr_assert_eq(bwm_engine_keys(h.h_engine), 2);
    /* In the next batch A and B are clean and unused, C is staged for. */
    harness_stage(&h, b2, 1);
    cr_assert_eq(harness_load(&h), 1);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 2, "A and B go, C stays");
    cr_assert_eq(bwm_engine_keys(h.h_engine), 1);
    harness_apply(&h);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 0);
    harness_commit(&h);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 1);
    cr_assert_eq(bwm_engine_keys(h.h_engine), 0);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), 0);
    /* D moves the watermark past [0, 10) + grace: A, B and C are read back and closed. */
    harness_stage(&h, b3, 1);
    cr_assert_eq(harness_load(&h), 4, "D, and the three keys whose window closes");
    harness_apply(&h);
    cr_assert_eq(h.h_nouts, 3);
    expect_final(&h, "A@0", 1, 3);
    expect_final(&h, "B@0", 1, 3);
    expect_final(&h, "C@0", 1, 3);
    harness_commit(&h);
    harness_free(&h);
}

/* The same batches with one entry of cache and without a budget: the same bytes out. */
Test(engine_cache, an_evicted_window_closes_once_as_if_it_had_stayed)
{
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 2 * MIN, 2, 0}};
    rec_t b2[] = {{"C", 3 * MIN, 4, 0}, {"A", 4 * MIN, 8, 0}};
    rec_t b3[] = {{"D", 20 * MIN, 1, 0}};
    rec_t b4[] = {{"B", 25 * MIN, 1, 0}, {"E", 40 * MIN, 1, 0}};
    harness_t small, big;

    start(&small, TUMBLING_FINAL, 1, 0, 0);
    start(&big, TUMBLING_FINAL, 0, 0, 0);
    harness_batch(&small, b1, 2);
    harness_batch(&big, b1, 2);
    cr_assert_eq(bwm_engine_keys(small.h_engine), 1);
    cr_assert_eq(small.h_evicted, 1, "A was used first");
    harness_batch(&small, b2, 2);
    harness_batch(&big, b2, 2);
    cr_assert_eq(small.h_nouts, 0, "nothing is final yet");
    harness_batch(&small, b3, 1);
    harness_batch(&big, b3, 1);
    cr_assert_eq(small.h_nouts, 3);
    expect_final(&small, "A@0", 2, 4);
    expect_final(&small, "B@0", 1, 4);
    expect_final(&small, "C@0", 1, 4);
    harness_batch(&small, b4, 2);
    harness_batch(&big, b4, 2);
    cr_assert_eq(small.h_nouts, 2, "only D and B of [20, 30) close; [0, 10) did already");
    expect_final(&small, "D@1200000", 1, 6);
    expect_final(&small, "B@1200000", 1, 6);
    cr_assert_eq(small.h_digest, big.h_digest, "outputs and store changes are the same");
    cr_assert_gt(small.h_reads, big.h_reads);
    harness_free(&small);
    harness_free(&big);
}

Test(engine_cache, entries_without_windows_go_first)
{
    harness_t h;
    rec_t b1[] = {{"E", 1 * MIN, 1, 0}};
    rec_t b2[] = {{"L", 20 * MIN, 1, 0}};
    rec_t b3[] = {{"L", 21 * MIN, 1, 0}};
    size_t reads;

    start(&h, TUMBLING_FINAL, 1, 0, 0);
    harness_batch(&h, b1, 1);
    cr_assert_eq(h.h_evicted, 0);
    /* L closes E's window, so E was used after L, but it has no window left: E goes. */
    harness_batch(&h, b2, 1);
    expect_final(&h, "E@0", 1, 1);
    cr_assert_eq(h.h_evicted, 1);
    reads = h.h_reads;
    harness_batch(&h, b3, 1);
    cr_assert_eq(h.h_reads, reads, "L stayed in memory");
    harness_free(&h);
}

/* A key dropped again and again before its window closes is read back and closed once. */
Test(engine_cache, keys_evicted_many_times_close_once)
{
    harness_t h;
    rec_t b[1] = {{"A", 0, 1, 0}}, last[] = {{"C", 200 * MIN, 1, 0}};
    int i;

    start(&h, TUMBLING_FINAL, 1, 0, 0);
    for (i = 0; i < 3000; i++) {
        b[0].r_vin = i % 2 ? "B" : "A";
        b[0].r_ts = 60 * MIN + i; /* all in [60, 70) */
        harness_batch(&h, b, 1);
        cr_assert_eq(h.h_nouts, 0);
    }
    cr_assert_eq(h.h_evicted, 2999);
    harness_batch(&h, last, 1);
    cr_assert_eq(h.h_nouts, 2);
    expect_final(&h, "A@3600000", 1500, 3000);
    expect_final(&h, "B@3600000", 1500, 3000);
    harness_free(&h);
}

#define KEYED_SKETCHES                                                                             \
    "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, MAX(vin) AS top, COUNT(DISTINCT big) AS d, "     \
    "PERCENTILE(km, 0.5) AS p FROM r WINDOW TUMBLING (SIZE 10 MINUTES, GRACE 1 HOUR) GROUP BY "    \
    "vin;"

/* Power-of-two block of a kept string of n bytes (and its NUL), at least 16. */
static size_t str_block(size_t n)
{
    size_t b = 16;

    while (b < n + 1) {
        b *= 2;
    }
    return b;
}

/*
 * What a key with nwins windows of one record each (km > 0) accounts for, by
 * hand: entry and key, window pointers (capacity 2, 4, ...), windows with
 * the states inline, and their heap: the string MAX keeps, one sparse
 * COUNT_DISTINCT entry (capacity 4 of 4 bytes) and a sketch with one
 * positive bucket (a 112-byte header, capacity 4 of 12 bytes).
 */
static size_t key_bytes(const harness_t *h, const char *key, size_t nwins)
{
    size_t cap = 2, heap = str_block(strlen(key)) + 16 + 112 + 48;

    while (cap < nwins) {
        cap *= 2;
    }
    return sizeof(bwm_entry_t) + strlen(key) + 1 + cap * sizeof(bwm_win_t *) +
           nwins * (sizeof(bwm_win_t) + h->h_plan->p_state_size + heap);
}

Test(engine_cache, bytes_are_what_the_keys_windows_and_states_hold)
{
    harness_t h;
    const char *lg = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    rec_t b1[] = {
        {"A", 1 * MIN, 1, 0}, {lg, 1 * MIN, 1, 0}, {lg, 11 * MIN, 1, 0}, {lg, 21 * MIN, 1, 0}};
    rec_t b2[] = {{"A", 2 * MIN, 1, 0}};
    /* five more distinct values for COUNT_DISTINCT: its sparse list grows to capacity 8 */
    rec_t b3[] = {{lg, 2 * MIN, 1, 1},
                  {lg, 2 * MIN, 1, 2},
                  {lg, 2 * MIN, 1, 3},
                  {lg, 2 * MIN, 1, 4},
                  {lg, 2 * MIN, 1, 5}};
    size_t want = 0;

    start(&h, KEYED_SKETCHES, 0, 1, 0);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), 0);
    harness_stage(&h, b1, 4);
    harness_load(&h);
    harness_apply(&h);
    harness_commit(&h);
    want = key_bytes(&h, "A", 1) + key_bytes(&h, lg, 3);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), want, "%zu bytes, counted %zu",
                 bwm_engine_bytes(h.h_engine), want);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 2);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), 0, "back to the baseline");
    /* A comes back from the store: the same sizes (the second record hits the same buckets). */
    harness_stage(&h, b2, 1);
    cr_assert_eq(harness_load(&h), 1);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), key_bytes(&h, "A", 1), "restored");
    harness_apply(&h);
    cr_assert_eq(h.h_outs[0].o_vals[0], 2);
    harness_commit(&h);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), key_bytes(&h, "A", 1));
    harness_evict(&h);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), 0);
    /* the states grow in a batch: measured again when it ends */
    harness_stage(&h, b3, 5);
    harness_load(&h);
    harness_apply(&h);
    harness_commit(&h);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), key_bytes(&h, lg, 3) + 16);
    harness_evict(&h);
    cr_assert_eq(bwm_engine_bytes(h.h_engine), 0);
    harness_free(&h);
}

/* The last batch's retained change with this key, or NULL. */
static const chg_t *retained(const harness_t *h, const char *key)
{
    size_t i;

    for (i = 0; i < h->h_nchgs; i++) {
        if (h->h_chgs[i].c_retain && strcmp(h->h_chgs[i].c_key, key) == 0) {
            return &h->h_chgs[i];
        }
    }
    return NULL;
}

static size_t count_retained(const harness_t *h)
{
    size_t i, n = 0;

    for (i = 0; i < h->h_nchgs; i++) {
        n += h->h_chgs[i].c_retain != 0;
    }
    return n;
}

/* Restores a retained value and checks its one window: start, version, COUNT, SUM. */
static void expect_window(const harness_t *h, const chg_t *c, int64_t start_ms, int64_t version,
                          int64_t n, double km)
{
    bwm_table_t *t = bwm_table_new(h->h_plan);
    bwm_entry_t *en;
    bwm_value_t res[2];
    char err[256];

    cr_assert_not_null(c);
    cr_assert_eq(c->c_ttl, 3600000);
    cr_assert_eq(c->c_index, 0);
    cr_assert_not_null(c->c_val);
    cr_assert_eq(bwm_table_put(t, c->c_key, strlen(c->c_key), &en), BWM_OK);
    cr_assert_eq(bwm_table_restore(t, en, c->c_val, c->c_vallen, err, sizeof(err)), BWM_OK, "%s",
                 err);
    cr_assert_eq(en->e_nwins, 1);
    cr_assert_eq(en->e_wins[0]->w_start, start_ms);
    cr_assert_eq(en->e_wins[0]->w_version, version);
    bwm_table_results(t, en->e_wins[0], res);
    cr_assert_eq(res[0].u.v_long, n);
    cr_assert_eq(res[1].u.v_double, km);
    bwm_table_destroy(t);
}

Test(engine_cache, closed_windows_are_retained_under_their_own_key)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"A", 2 * MIN, 2, 0}, {"B", 3 * MIN, 5, 0}};
    rec_t b2[] = {{"C", 20 * MIN, 1, 0}};
    size_t i;

    start(&h, TUMBLING_FINAL, 0, 0, 3600000);
    harness_batch(&h, b1, 3);
    cr_assert_eq(count_retained(&h), 0, "nothing closed");
    harness_batch(&h, b2, 1);
    cr_assert_eq(count_retained(&h), 2);
    expect_window(&h, retained(&h, "A@0"), 0, 1, 2, 3.0);
    expect_window(&h, retained(&h, "B@0"), 0, 2, 1, 5.0);
    /* the entries' own changes are there as before: A and B deleted, C set */
    for (i = 0; i < h.h_nchgs; i++) {
        const chg_t *c = &h.h_chgs[i];

        if (!c->c_retain) {
            cr_assert_eq(c->c_val == NULL, strcmp(c->c_key, "C") != 0, "%s", c->c_key);
            cr_assert_eq(c->c_index, strcmp(c->c_key, "C") == 0 ? 1 : -1);
        }
    }
    cr_assert_eq(h.h_nchgs, 5);
    harness_free(&h);
}

Test(engine_cache, no_retained_windows_without_a_retention_or_windows)
{
    static const char *const queries[] = {
        TUMBLING_FINAL,
        "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(km) AS km FROM r GROUP BY vin;",
    };
    static const int64_t retain[] = {0, 3600000};
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 3 * MIN, 5, 0}};
    rec_t b2[] = {{"C", 20 * MIN, 1, 0}};
    harness_t h;
    size_t i;

    for (i = 0; i < 2; i++) {
        start(&h, queries[i], 0, 0, retain[i]);
        harness_batch(&h, b1, 2);
        harness_batch(&h, b2, 1);
        cr_assert_eq(count_retained(&h), 0, "%s", queries[i]);
        cr_assert_eq(h.h_retained, 0);
        cr_assert_eq(h.h_nchgs, i == 0 ? 3 : 1);
        harness_free(&h);
    }
}

Test(engine_cache, emit_changes_retains_closed_windows_too)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"A", 12 * MIN, 2, 0}};
    rec_t b2[] = {{"A", 30 * MIN, 4, 0}};

    start(&h,
          "CREATE TABLE t AS SELECT vin, COUNT(*) AS n, SUM(km) AS km FROM r WINDOW TUMBLING "
          "(SIZE 10 MINUTES, GRACE 2 MINUTES) GROUP BY vin EMIT CHANGES;",
          0, 0, 3600000);
    harness_batch(&h, b1, 2);
    /* 12 min closes [0, 10) in the batch that also opened it */
    cr_assert_eq(count_retained(&h), 1);
    expect_window(&h, retained(&h, "A@0"), 0, 0, 1, 1.0);
    harness_batch(&h, b2, 1);
    cr_assert_eq(count_retained(&h), 1);
    expect_window(&h, retained(&h, "A@600000"), 10 * MIN, 1, 1, 2.0);
    harness_free(&h);
}

Test(engine_cache, a_budget_set_later_applies_at_the_next_eviction)
{
    harness_t h;
    rec_t b1[] = {{"A", 1 * MIN, 1, 0}, {"B", 1 * MIN, 1, 0}, {"C", 1 * MIN, 1, 0}};

    start(&h, TUMBLING_FINAL, 0, 0, 0); /* no limit */
    harness_stage(&h, b1, 3);
    harness_load(&h);
    harness_apply(&h);
    harness_commit(&h);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 0);
    bwm_engine_set_budget(h.h_engine, 1, 0);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 2);
    cr_assert_eq(bwm_engine_keys(h.h_engine), 1);
    bwm_engine_set_budget(h.h_engine, 0, 0);
    cr_assert_eq(bwm_engine_evict(h.h_engine), 0);
    harness_free(&h);
}
