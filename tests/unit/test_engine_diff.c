/*
 * test_engine_diff.c: differential tests of the engine against a brute-force
 * recomputation. 100,000 random records with bounded disorder go through
 * the engine in random batch sizes, with restarts from the store now and
 * then; every final result must equal what the reference computes from the
 * whole input: exactly for exact aggregates, within the documented bound for
 * the percentile sketch. The same input then goes through engines with tiny
 * cache budgets (10 entries; a few KiB), which must evict and read back
 * from the store, and produce byte for byte the same outputs, dead letters,
 * store changes (closed windows retained too) and final store contents as
 * the unbounded run; a windowed EMIT CHANGES job, with many results per
 * window, is only compared that way. So must a run that applies each batch
 * in rounds of 7 records (commit.round.records). The seed is printed;
 * BWM_TEST_SEED replays a run.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NREC      100000
#define DISORDER  (8 * 60000LL) /* a record is at most 8 minutes behind the newest */
#define RETAIN_MS (24 * 3600000LL)

static uint64_t rng;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t seed(void)
{
    const char *s = getenv("BWM_TEST_SEED");
    uint64_t v = s ? strtoull(s, NULL, 10) : 424242;

    fprintf(stderr, "engine differential tests: BWM_TEST_SEED=%llu\n", (unsigned long long)v);
    return v ? v : 1;
}

typedef struct input {
    char vin[8];
    int64_t ts;
    double km;
    int64_t big;
} input_t;

/* Records about 1.2 s apart, each up to DISORDER behind the running maximum. */
static input_t *make_input(size_t nkeys)
{
    input_t *in = calloc(NREC, sizeof(*in));
    int64_t now = 1767225600000LL;
    size_t i;

    for (i = 0; i < NREC; i++) {
        now += (int64_t)(next_rand() % 2400);
        snprintf(in[i].vin, sizeof(in[i].vin), "K%03d", (int)(next_rand() % nkeys));
        in[i].ts = now - (int64_t)(next_rand() % (uint64_t)DISORDER);
        in[i].km = (double)(next_rand() % 100000) / 100.0 - 100.0;
        in[i].big = (int64_t)(next_rand() % 1000) - 300;
    }
    return in;
}

/* ---- the reference ---- */

typedef struct ref_win {
    char key[8];
    int64_t start;
    int64_t last;
    int closed;
    size_t *recs;
    size_t n;
    size_t cap;
} ref_win_t;

typedef struct ref {
    ref_win_t *w;
    size_t n;
    size_t cap;
    size_t **bykey; /* each key's windows, by index into w */
    size_t *nbykey;
    size_t *capbykey;
    int64_t wm; /* a window is closed when its close time is <= wm */
} ref_t;

static void ref_add_rec(ref_win_t *w, size_t rec)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->recs = realloc(w->recs, w->cap * sizeof(*w->recs));
    }
    w->recs[w->n++] = rec;
}

static int64_t ref_close(const bwm_window_t *w, const ref_win_t *x)
{
    if (w->w_kind == BWM_WINDOW_NONE) {
        return INT64_MAX;
    }
    if (w->w_kind == BWM_WINDOW_SESSION) {
        return x->last + w->w_gap + w->w_grace;
    }
    return x->start + w->w_size + w->w_grace;
}

static int ref_open(const ref_t *r, const bwm_window_t *w, const ref_win_t *x)
{
    return !x->closed && (r->wm == INT64_MIN || ref_close(w, x) > r->wm);
}

static int key_id(const char *vin)
{
    return atoi(vin + 1);
}

static ref_win_t *ref_new(ref_t *r, const char *key, int64_t start)
{
    int k = key_id(key);

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->w = realloc(r->w, r->cap * sizeof(*r->w));
    }
    if (r->nbykey[k] == r->capbykey[k]) {
        r->capbykey[k] = r->capbykey[k] ? r->capbykey[k] * 2 : 64;
        r->bykey[k] = realloc(r->bykey[k], r->capbykey[k] * sizeof(size_t));
    }
    r->bykey[k][r->nbykey[k]++] = r->n;
    memset(&r->w[r->n], 0, sizeof(r->w[r->n]));
    snprintf(r->w[r->n].key, sizeof(r->w[r->n].key), "%s", key);
    r->w[r->n].start = start;
    r->w[r->n].last = start;
    return &r->w[r->n++];
}

/* Forgets the closed windows of key k (they stay in r->w for the final check). */
static void ref_prune(ref_t *r, const bwm_window_t *w, int k)
{
    size_t i = 0;

    while (i < r->nbykey[k]) {
        if (ref_open(r, w, &r->w[r->bykey[k][i]])) {
            i++;
        } else {
            r->bykey[k][i] = r->bykey[k][--r->nbykey[k]];
        }
    }
}

/* The open window of key starting at start, made when there is none. */
static ref_win_t *ref_window(ref_t *r, const bwm_window_t *w, const char *key, int64_t start)
{
    int k = key_id(key);
    size_t i;

    for (i = 0; i < r->nbykey[k]; i++) {
        ref_win_t *x = &r->w[r->bykey[k][i]];

        if (x->start == start && ref_open(r, w, x)) {
            return x;
        }
    }
    return ref_new(r, key, start);
}

/* Runs the whole input through the rules of DESIGN.md, one record at a time. */
static void ref_run(const bwm_window_t *w, const input_t *in, ref_t *r, size_t *late)
{
    size_t i, j;

    r->wm = INT64_MIN;
    *late = 0;
    for (i = 0; i < NREC; i++) {
        int64_t ts = in[i].ts;
        int k = key_id(in[i].vin);

        ref_prune(r, w, k);
        if (w->w_kind == BWM_WINDOW_SESSION) {
            ref_win_t *hit[4];
            size_t nhit = 0;

            for (j = 0; j < r->nbykey[k] && nhit < 4; j++) {
                ref_win_t *x = &r->w[r->bykey[k][j]];

                if (ref_open(r, w, x) && ts >= x->start - w->w_gap && ts <= x->last + w->w_gap) {
                    hit[nhit++] = x;
                }
            }
            if (nhit == 0) {
                if (r->wm != INT64_MIN && ts + w->w_gap + w->w_grace <= r->wm) {
                    (*late)++;
                    continue;
                }
                hit[0] = ref_new(r, in[i].vin, ts);
                nhit = 1;
            }
            /* merge the sessions it reaches into the first */
            for (j = 1; j < nhit; j++) {
                size_t m;

                for (m = 0; m < hit[j]->n; m++) {
                    ref_add_rec(hit[0], hit[j]->recs[m]);
                }
                hit[0]->start = hit[j]->start < hit[0]->start ? hit[j]->start : hit[0]->start;
                hit[0]->last = hit[j]->last > hit[0]->last ? hit[j]->last : hit[0]->last;
                hit[j]->closed = 2; /* replaced */
            }
            hit[0]->start = ts < hit[0]->start ? ts : hit[0]->start;
            hit[0]->last = ts > hit[0]->last ? ts : hit[0]->last;
            ref_add_rec(hit[0], i);
        } else if (w->w_kind == BWM_WINDOW_NONE) {
            ref_add_rec(ref_window(r, w, in[i].vin, 0), i);
        } else {
            int64_t adv = w->w_kind == BWM_WINDOW_HOPPING ? w->w_advance : w->w_size;
            int64_t s = ts - ((ts % adv) + adv) % adv;
            int any = 0;

            for (; s > ts - w->w_size; s -= adv) {
                if (r->wm != INT64_MIN && s + w->w_size + w->w_grace <= r->wm) {
                    continue;
                }
                ref_add_rec(ref_window(r, w, in[i].vin, s), i);
                any = 1;
            }
            if (!any) {
                (*late)++;
                continue;
            }
        }
        r->wm = ts > r->wm ? ts : r->wm;
    }
    /* What the watermark has passed at the end is closed: those have final results. */
    for (j = 0; j < r->n; j++) {
        if (!r->w[j].closed && (w->w_kind == BWM_WINDOW_NONE || ref_close(w, &r->w[j]) <= r->wm)) {
            r->w[j].closed = 1;
        }
    }
}

static int cmp_out(const void *a, const void *b)
{
    return strcmp(((const out_t *)a)->o_key, ((const out_t *)b)->o_key);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The query: COUNT(*), SUM(big), MIN(km), MAX(km), COUNT_DISTINCT(big / 100), PERCENTILE(km, 0.5).
 */
static void check_window(const input_t *in, const ref_win_t *x, const out_t *o)
{
    double sum = 0, mn = INFINITY, mx = -INFINITY, *kms = malloc(x->n * sizeof(double));
    int seen[64] = {0};
    size_t i, distinct = 0;
    double q;

    for (i = 0; i < x->n; i++) {
        const input_t *r = &in[x->recs[i]];
        int bucket = (int)(r->big / 100) + 10;

        sum += (double)r->big;
        mn = r->km < mn ? r->km : mn;
        mx = r->km > mx ? r->km : mx;
        kms[i] = r->km;
        if (!seen[bucket]) {
            seen[bucket] = 1;
            distinct++;
        }
    }
    qsort(kms, x->n, sizeof(double), cmp_double);
    q = kms[(size_t)floor(0.5 * (double)(x->n - 1))];
    cr_assert_eq(o->o_vals[0], (double)x->n, "%s: count", o->o_key);
    cr_assert_eq(o->o_vals[1], sum, "%s: sum", o->o_key);
    cr_assert_eq(o->o_vals[2], mn, "%s: min", o->o_key);
    cr_assert_eq(o->o_vals[3], mx, "%s: max", o->o_key);
    cr_assert_eq(o->o_vals[4], (double)distinct, "%s: distinct", o->o_key);
    cr_assert(fabs(o->o_vals[5] - q) <= 0.01 * fabs(q) + 1e-9, "%s: median %g, exact %g", o->o_key,
              o->o_vals[5], q);
    free(kms);
}

#define AGGS                                                                                       \
    "COUNT(*) AS n, SUM(big) AS s, MIN(km) AS mn, MAX(km) AS mx, COUNT(DISTINCT big / 100) AS "    \
    "d, PERCENTILE(km, 0.5) AS med"

/* What one run through the engine produced. */
typedef struct run {
    size_t r_nkeys;
    size_t r_entries; /* cache budgets */
    size_t r_bytes;
    size_t r_round;      /* records per round of a batch; 0: one round */
    uint64_t *r_digests; /* after each batch: outputs, dead letters and changes so far */
    size_t r_nbatches;
    uint64_t r_store; /* the store's final states and close index */
    size_t r_reads;
    size_t r_evicted;
    size_t r_retained;
    size_t r_dead;
    out_t *r_got; /* every output, decoded */
    size_t r_ngot;
    bwm_window_t r_window;
} run_t;

static bwm_err_t index_digest_cb(const char *key, size_t len, int64_t close, void *opaque)
{
    uint64_t h = 1469598103934665603ULL;

    harness_mix(&h, key, len);
    harness_mix(&h, &close, sizeof(close));
    *(uint64_t *)opaque += h; /* in any order */
    return BWM_OK;
}

static bwm_err_t value_digest_cb(size_t i, const void *val, size_t len, void *opaque)
{
    (void)i;
    harness_mix(opaque, val ? val : "-", val ? len : 1);
    return BWM_OK;
}

/* A digest of the store: every key's state, and the close index. */
static uint64_t store_digest(harness_t *h, size_t nkeys)
{
    uint64_t d = 1469598103934665603ULL, index = 0;
    bwm_keyref_t *keys = calloc(nkeys, sizeof(*keys));
    char(*names)[8] = calloc(nkeys, sizeof(*names));
    char err[256];
    size_t i;

    for (i = 0; i < nkeys; i++) {
        snprintf(names[i], sizeof(names[i]), "K%03d", (int)i);
        keys[i].kr_key = names[i];
        keys[i].kr_len = strlen(names[i]);
    }
    cr_assert_eq(bwm_store_mem_ops.so_get_many(h->h_store, "ns", 0, keys, nkeys, value_digest_cb,
                                               &d, err, sizeof(err)),
                 BWM_OK);
    cr_assert_eq(bwm_store_mem_ops.so_index_get(h->h_store, "ns", 0, index_digest_cb, &index, err,
                                                sizeof(err)),
                 BWM_OK);
    harness_mix(&d, &index, sizeof(index));
    free(keys);
    free(names);
    return d;
}

/* Runs the input through the engine in random batches, restarting every 17th. */
static void run_engine(const char *query, run_t *run)
{
    harness_t h;
    input_t *in;
    size_t i = 0, k, cap = 1024, dcap = 128;

    rng = seed();
    in = make_input(run->r_nkeys);
    harness_init(&h, query);
    h.h_limits.el_cache_entries = run->r_entries;
    h.h_limits.el_cache_bytes = run->r_bytes;
    h.h_limits.el_retention_ms = RETAIN_MS;
    h.h_no_retained = 1;
    h.h_round = run->r_round;
    harness_start(&h);
    run->r_got = malloc(cap * sizeof(*run->r_got));
    run->r_digests = malloc(dcap * sizeof(*run->r_digests));
    while (i < NREC) {
        size_t n = 1 + next_rand() % 2000;
        rec_t *b;

        n = n > NREC - i ? NREC - i : n;
        b = calloc(n, sizeof(*b));
        for (k = 0; k < n; k++) {
            b[k].r_vin = in[i + k].vin;
            b[k].r_ts = in[i + k].ts;
            b[k].r_km = in[i + k].km;
            b[k].r_big = in[i + k].big;
        }
        harness_batch(&h, b, n);
        free(b);
        cr_assert_eq(h.h_nlate_all, h.h_ndead_all, "only late records are dead");
        run->r_dead += h.h_ndead_all;
        for (k = 0; k < h.h_nouts; k++) {
            if (run->r_ngot == cap) {
                cap *= 2;
                run->r_got = realloc(run->r_got, cap * sizeof(*run->r_got));
            }
            run->r_got[run->r_ngot++] = h.h_outs[k];
        }
        if (run->r_nbatches == dcap) {
            dcap *= 2;
            run->r_digests = realloc(run->r_digests, dcap * sizeof(*run->r_digests));
        }
        run->r_digests[run->r_nbatches++] = h.h_digest;
        i += n;
        if (run->r_nbatches % 17 == 0) {
            harness_start(&h); /* a new owner, from the store */
        }
    }
    run->r_store = store_digest(&h, run->r_nkeys);
    run->r_reads = h.h_reads;
    run->r_evicted = h.h_evicted;
    run->r_retained = h.h_retained;
    run->r_window = h.h_plan->p_window;
    fprintf(stderr,
            "engine differential: %zu keys, budgets %zu entries, %zu bytes, rounds of %zu: %zu "
            "batches, %zu reads, %zu evicted, %zu retained\n",
            run->r_nkeys, run->r_entries, run->r_bytes, run->r_round, run->r_nbatches, run->r_reads,
            run->r_evicted, run->r_retained);
    free(in);
    harness_free(&h);
}

static void run_free(run_t *run)
{
    free(run->r_digests);
    free(run->r_got);
}

/* Every closed reference window has exactly one final result, equal to the reference. */
static void check_reference(const char *query, run_t *run)
{
    const bwm_window_t *w = &run->r_window;
    input_t *in;
    ref_t ref = {0};
    size_t late = 0, finals = 0, j;
    out_t *got = run->r_got;
    size_t ngot = run->r_ngot;

    rng = seed();
    in = make_input(run->r_nkeys);
    ref.bykey = calloc(run->r_nkeys, sizeof(*ref.bykey));
    ref.nbykey = calloc(run->r_nkeys, sizeof(*ref.nbykey));
    ref.capbykey = calloc(run->r_nkeys, sizeof(*ref.capbykey));
    ref_run(w, in, &ref, &late);
    cr_assert_eq(run->r_dead, late, "dead-lettered %zu records, the reference finds %zu late",
                 run->r_dead, late);
    qsort(got, ngot, sizeof(*got), cmp_out);
    for (j = 0; j < ref.n; j++) {
        out_t probe;
        const out_t *hit, *newest = NULL;
        size_t hits = 0;

        if (ref.w[j].closed != 1) {
            continue;
        }
        finals++;
        snprintf(probe.o_key, sizeof(probe.o_key), "%s@%lld", ref.w[j].key,
                 (long long)ref.w[j].start);
        if (w->w_kind == BWM_WINDOW_NONE) {
            /* EMIT CHANGES: the key's newest result (highest version) must equal the reference. */
            snprintf(probe.o_key, sizeof(probe.o_key), "%s", ref.w[j].key);
        }
        hit = bsearch(&probe, got, ngot, sizeof(*got), cmp_out);
        while (hit && hit > got && strcmp(hit[-1].o_key, probe.o_key) == 0) {
            hit--;
        }
        for (; hit && hit < got + ngot && strcmp(hit->o_key, probe.o_key) == 0; hit++) {
            if (!hit->o_tombstone) {
                hits++;
                newest = !newest || hit->o_version > newest->o_version ? hit : newest;
            }
        }
        cr_assert(newest, "window %s: no result", probe.o_key);
        check_window(in, &ref.w[j], newest);
        if (w->w_kind == BWM_WINDOW_NONE) {
            cr_assert_eq(newest->o_version, (int64_t)ref.w[j].recs[ref.w[j].n - 1],
                         "%s: version is the offset of the last record applied", probe.o_key);
        } else {
            cr_assert(newest->o_version >= (int64_t)ref.w[j].recs[ref.w[j].n - 1],
                      "%s: a final version comes from the record that closed the window",
                      probe.o_key);
            cr_assert_eq(hits, 1, "window %s: %zu final results", probe.o_key, hits);
        }
    }
    if (w->w_kind != BWM_WINDOW_NONE) {
        size_t results = 0;

        for (j = 0; j < ngot; j++) {
            results += !got[j].o_tombstone;
        }
        cr_assert_eq(results, finals, "no result for a window that is not closed");
        cr_assert_eq(run->r_retained, finals, "each closed window is retained once");
    } else {
        cr_assert_eq(run->r_retained, 0, "nothing to retain without windows");
    }
    fprintf(stderr, "engine differential: %s: %zu records, %zu keys, %zu late, %zu windows\n",
            query, (size_t)NREC, run->r_nkeys, late, finals);
    cr_assert(finals >= run->r_nkeys);
    for (j = 0; j < ref.n; j++) {
        free(ref.w[j].recs);
    }
    for (j = 0; j < run->r_nkeys; j++) {
        free(ref.bykey[j]);
    }
    free(ref.bykey);
    free(ref.nbykey);
    free(ref.capbykey);
    free(ref.w);
    free(in);
}

/* A run did the same as the base run (unbounded, one round per batch), byte for byte. */
static void check_same(const run_t *base, const run_t *run)
{
    size_t i;

    cr_assert_eq(run->r_nbatches, base->r_nbatches);
    for (i = 0; i < base->r_nbatches; i++) {
        cr_assert_eq(run->r_digests[i], base->r_digests[i],
                     "budgets %zu entries, %zu bytes, rounds of %zu: batch %zu differs from the "
                     "base run",
                     run->r_entries, run->r_bytes, run->r_round, i);
    }
    cr_assert_eq(run->r_store, base->r_store, "the final store contents differ");
    cr_assert_eq(run->r_dead, base->r_dead);
    cr_assert_eq(run->r_retained, base->r_retained);
}

/* A run with budgets did the same as the unbounded one and evicted to do it. */
static void check_same_evicting(const run_t *base, const run_t *run)
{
    check_same(base, run);
    cr_assert_gt(run->r_evicted, 0, "the budgets made the engine evict");
    cr_assert_gt(run->r_reads, base->r_reads, "evicted entries were read back from the store");
}

/*
 * The unbounded run (against the reference when asked), then runs with
 * budgets against it: 10 entries over 40 and over 1,000 keys, and a byte
 * budget that holds a few entries; then a run in rounds of 7 records.
 */
static void run_differential(const char *query, int reference)
{
    static const struct {
        size_t nkeys, entries, bytes;
    } budgets[] = {{40, 10, 0}, {40, 0, 8192}, {1000, 10, 0}};
    run_t base[2] = {{.r_nkeys = 40}, {.r_nkeys = 1000}};
    size_t i;

    for (i = 0; i < 2; i++) {
        run_engine(query, &base[i]);
        if (reference) {
            check_reference(query, &base[i]);
        }
    }
    for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
        run_t run = {.r_nkeys = budgets[i].nkeys,
                     .r_entries = budgets[i].entries,
                     .r_bytes = budgets[i].bytes};

        run_engine(query, &run);
        check_same_evicting(&base[budgets[i].nkeys == 1000], &run);
        run_free(&run);
    }
    {
        run_t run = {.r_nkeys = 1000, .r_round = 7};

        run_engine(query, &run);
        check_same(&base[1], &run);
        run_free(&run);
    }
    run_free(&base[0]);
    run_free(&base[1]);
}

Test(engine_diff, tumbling_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW TUMBLING (SIZE 5 "
                     "MINUTES, GRACE 3 MINUTES) GROUP BY vin EMIT FINAL;",
                     1);
}

Test(engine_diff, hopping_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW HOPPING (SIZE 4 "
                     "MINUTES, ADVANCE BY 1 MINUTE, GRACE 30 SECONDS) GROUP BY vin EMIT FINAL;",
                     1);
}

Test(engine_diff, session_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW SESSION (GAP 90 "
                     "SECONDS, GRACE 4 MINUTES) GROUP BY vin EMIT FINAL;",
                     1);
}

Test(engine_diff, unwindowed_changes, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r GROUP BY vin;", 1);
}

/* EMIT CHANGES with windows has many results per window: only the runs are compared. */
Test(engine_diff, session_changes, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW SESSION (GAP 90 "
                     "SECONDS, GRACE 4 MINUTES) GROUP BY vin EMIT CHANGES;",
                     0);
}
