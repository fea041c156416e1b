/*
 * test_engine_diff.c: differential tests of the engine against a brute-force
 * recomputation. 100,000 random records with bounded disorder go through
 * the engine in random batch sizes, with restarts from the store now and
 * then; every final result must equal what the reference computes from the
 * whole input: exactly for exact aggregates, within the documented bound for
 * the percentile sketch. The seed is printed; BWM_TEST_SEED replays a run.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NREC     100000
#define NKEYS    40
#define DISORDER (8 * 60000LL) /* a record is at most 8 minutes behind the newest */

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
static input_t *make_input(void)
{
    input_t *in = calloc(NREC, sizeof(*in));
    int64_t now = 1767225600000LL;
    size_t i;

    for (i = 0; i < NREC; i++) {
        now += (int64_t)(next_rand() % 2400);
        snprintf(in[i].vin, sizeof(in[i].vin), "K%02d", (int)(next_rand() % NKEYS));
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
    size_t *bykey[NKEYS]; /* each key's windows, by index into w */
    size_t nbykey[NKEYS];
    size_t capbykey[NKEYS];
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

static void run_differential(const char *query)
{
    harness_t h;
    input_t *in;
    ref_t ref = {0};
    size_t i = 0, late = 0, dead = 0, finals = 0, batches = 0, j;
    out_t *got;
    size_t ngot = 0, cap = 1024;

    rng = seed();
    in = make_input();
    harness_init(&h, query);
    got = malloc(cap * sizeof(*got));
    while (i < NREC) {
        size_t n = 1 + next_rand() % 2000, k;
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
        dead += h.h_ndead_all;
        for (k = 0; k < h.h_nouts; k++) {
            if (ngot == cap) {
                cap *= 2;
                got = realloc(got, cap * sizeof(*got));
            }
            got[ngot++] = h.h_outs[k];
        }
        i += n;
        if (++batches % 17 == 0) {
            harness_start(&h); /* a new owner, from the store */
        }
    }
    ref_run(&h.h_plan->p_window, in, &ref, &late);
    cr_assert_eq(dead, late, "dead-lettered %zu records, the reference finds %zu late", dead, late);
    /* Every closed reference window has exactly one final result, equal to the reference. */
    qsort(got, ngot, sizeof(*got), cmp_out);
    for (j = 0; j < ref.n; j++) {
        out_t probe;
        const out_t *hit;
        size_t hits = 0;

        if (ref.w[j].closed != 1) {
            continue;
        }
        finals++;
        snprintf(probe.o_key, sizeof(probe.o_key), "%s@%lld", ref.w[j].key,
                 (long long)ref.w[j].start);
        if (h.h_plan->p_window.w_kind == BWM_WINDOW_NONE) {
            /* EMIT CHANGES: the key's newest result (highest version) must equal the reference. */
            snprintf(probe.o_key, sizeof(probe.o_key), "%s", ref.w[j].key);
        }
        hit = bsearch(&probe, got, ngot, sizeof(*got), cmp_out);
        while (hit && hit > got && strcmp(hit[-1].o_key, probe.o_key) == 0) {
            hit--;
        }
        {
            const out_t *newest = NULL;

            for (; hit && hit < got + ngot && strcmp(hit->o_key, probe.o_key) == 0; hit++) {
                if (!hit->o_tombstone) {
                    hits++;
                    newest = !newest || hit->o_version > newest->o_version ? hit : newest;
                }
            }
            cr_assert(newest, "window %s: no result", probe.o_key);
            check_window(in, &ref.w[j], newest);
            if (h.h_plan->p_window.w_kind == BWM_WINDOW_NONE) {
                cr_assert_eq(newest->o_version, (int64_t)ref.w[j].recs[ref.w[j].n - 1],
                             "%s: version is the offset of the last record applied", probe.o_key);
            } else {
                cr_assert(newest->o_version >= (int64_t)ref.w[j].recs[ref.w[j].n - 1],
                          "%s: a final version comes from the record that closed the window",
                          probe.o_key);
            }
        }
        if (h.h_plan->p_window.w_kind != BWM_WINDOW_NONE) {
            cr_assert_eq(hits, 1, "window %s: %zu final results", probe.o_key, hits);
        }
    }
    if (h.h_plan->p_window.w_kind != BWM_WINDOW_NONE) {
        size_t results = 0;

        for (j = 0; j < ngot; j++) {
            results += !got[j].o_tombstone;
        }
        cr_assert_eq(results, finals, "no result for a window that is not closed");
    }
    fprintf(stderr, "engine differential: %s: %zu records, %zu batches, %zu late, %zu windows\n",
            query, (size_t)NREC, batches, late, finals);
    cr_assert(finals >= NKEYS);
    for (j = 0; j < ref.n; j++) {
        free(ref.w[j].recs);
    }
    for (j = 0; j < NKEYS; j++) {
        free(ref.bykey[j]);
    }
    free(ref.w);
    free(got);
    free(in);
    harness_free(&h);
}

Test(engine_diff, tumbling_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW TUMBLING (SIZE 5 "
                     "MINUTES, GRACE 3 MINUTES) GROUP BY vin EMIT FINAL;");
}

Test(engine_diff, hopping_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW HOPPING (SIZE 4 "
                     "MINUTES, ADVANCE BY 1 MINUTE, GRACE 30 SECONDS) GROUP BY vin EMIT FINAL;");
}

Test(engine_diff, session_final, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r WINDOW SESSION (GAP 90 "
                     "SECONDS, GRACE 4 MINUTES) GROUP BY vin EMIT FINAL;");
}

Test(engine_diff, unwindowed_changes, .timeout = 120)
{
    run_differential("CREATE TABLE t AS SELECT vin, " AGGS " FROM r GROUP BY vin;");
}
