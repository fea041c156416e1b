/*
 * core_bench.c: how fast bwm's core turns Avro records into aggregates, in
 * one process with no Kafka and no Redis. It encodes sample telemetry
 * (cmd/telemetry.c, one shared clock so no record is late) into one buffer,
 * Confluent-framed or raw, then times three passes over the same bytes:
 *
 *   avro-c    the baseline: avro-c 1.11 generic values, avro_value_read() of
 *             each body into one reused value (the framing skipped);
 *   decode    bwm_frame_parse() and bwm_decoder_decode() into the slots the
 *             job reads;
 *   job       decode, then the engine: WHERE, the group key, a tumbling
 *             window and five aggregates, batch after batch, with results
 *             and states encoded as a commit asks (EMIT CHANGES).
 *
 * Times are CPU seconds of this process; records/s/core is records over CPU
 * seconds. The three passes run --repeat times in turn (3 by default), and
 * each pass reports the median of its runs, with the fastest and slowest:
 * on a shared machine one run can be a third slower than the next.
 *
 * With --cache N the engine holds at most N keys and reads evicted states
 * back from an in-process map of committed values, standing in for Redis:
 * the job pass then includes eviction and decoding states again.
 *
 * Usage: build/bench-core [-n records] [-k keys] [-b batch] [-r round] [--raw]
 *                         [--cache entries] [--repeat runs] [--json FILE]
 */
#include <avro.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/allocator.h"
#include "cmd/telemetry.h"
#include "core/buf.h"
#include "core/decoder.h"
#include "core/engine.h"
#include "core/framing.h"
#include "core/plan.h"
#include "core/schema.h"
#include "core/sql.h"

/* Read by jemalloc, as in bwm (cmd/allocator.h). */
const char *malloc_conf = BWM_MALLOC_CONF;

static const char *const job =
    "CREATE STREAM telemetry WITH (topic = 'in', timestamp = 'ts');\n"
    "CREATE TABLE kpi AS SELECT vin, COUNT(*) AS samples, SUM(distance_km) AS distance_km,\n"
    "  AVG(speed) AS avg_speed, MAX(speed) AS max_speed, COUNT_DISTINCT(trip_id) AS trips\n"
    "FROM telemetry WHERE ignition = true AND speed >= 0\n"
    "WINDOW TUMBLING (SIZE 1 HOUR, GRACE 5 MINUTES) GROUP BY vin EMIT CHANGES;";

#define SCHEMA_ID  1
#define MAX_REPEAT 99

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The encoded records: record i is data[off[i] .. off[i + 1]). */
typedef struct corpus {
    bwm_buf_t c_data;
    size_t *c_off;
    size_t c_n;
} corpus_t;

/* What one pass measured: its last run (then the medians), and every run's times. */
typedef struct pass {
    const char *ps_name;
    double ps_cpu;
    double ps_wall;
    size_t ps_errors;
    double ps_cpus[MAX_REPEAT];
    double ps_walls[MAX_REPEAT];
    size_t ps_runs;
} pass_t;

/* Keeps the times of the run just made. */
static void pass_keep(pass_t *ps)
{
    ps->ps_cpus[ps->ps_runs] = ps->ps_cpu;
    ps->ps_walls[ps->ps_runs] = ps->ps_wall;
    ps->ps_runs++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double s[MAX_REPEAT];

    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Sets the pass's times to the medians of its runs. */
static void pass_settle(pass_t *ps)
{
    ps->ps_cpu = median(ps->ps_cpus, ps->ps_runs);
    ps->ps_wall = median(ps->ps_walls, ps->ps_runs);
}

/* The fastest or the slowest run's CPU seconds. */
static double pass_extreme(const pass_t *ps, int slowest)
{
    double x = ps->ps_cpus[0];
    size_t i;

    for (i = 1; i < ps->ps_runs; i++) {
        if (slowest ? ps->ps_cpus[i] > x : ps->ps_cpus[i] < x) {
            x = ps->ps_cpus[i];
        }
    }
    return x;
}

/* The committed state of each key, by the key's number (its text is "BWM%014d", from 1). */
typedef struct bench_store {
    uint8_t **bs_vals;
    size_t *bs_lens;
} bench_store_t;

static size_t key_number(const char *key)
{
    return (size_t)strtoull(key + 3, NULL, 10) - 1;
}

/* Forgets every committed state, for the next run of the job. */
static void store_clear(bench_store_t *st, size_t nkeys)
{
    size_t i;

    for (i = 0; st->bs_vals && i < nkeys; i++) {
        free(st->bs_vals[i]);
        st->bs_vals[i] = NULL;
    }
}

static void store_commit(bench_store_t *st, const bwm_change_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++, c++) {
        size_t k = key_number(c->ch_key);

        free(st->bs_vals[k]);
        st->bs_vals[k] = NULL;
        if (c->ch_val) {
            st->bs_vals[k] = malloc(c->ch_vallen);
            memcpy(st->bs_vals[k], c->ch_val, c->ch_vallen);
            st->bs_lens[k] = c->ch_vallen;
        }
    }
}

static int corpus_build(corpus_t *c, size_t n, int keys, int raw)
{
    bwm_telemetry_t *g;
    const char *vin;
    char err[256];
    size_t i;

    g = bwm_telemetry_new(1, keys, err, sizeof(err));
    c->c_off = malloc((n + 1) * sizeof(*c->c_off));
    if (!g || !c->c_off) {
        fprintf(stderr, "bench-core: %s\n", g ? "out of memory" : err);
        bwm_telemetry_destroy(g);
        return -1;
    }
    bwm_telemetry_in_order(g);
    bwm_buf_init(&c->c_data);
    for (i = 0; i < n; i++) {
        c->c_off[i] = c->c_data.b_len;
        if (!raw) {
            bwm_frame_put_confluent(&c->c_data, SCHEMA_ID);
        }
        if (bwm_telemetry_next(g, &c->c_data, &vin, err, sizeof(err)) != BWM_OK) {
            fprintf(stderr, "bench-core: %s\n", err);
            bwm_telemetry_destroy(g);
            return -1;
        }
    }
    c->c_off[n] = c->c_data.b_len;
    c->c_n = n;
    bwm_telemetry_destroy(g);
    return 0;
}

/* Record i's Avro body, the framing parsed as the runtime does. */
static int body_of(const corpus_t *c, size_t i, int raw, bwm_frame_t *f)
{
    char err[128];

    return bwm_frame_parse(c->c_data.b_data + c->c_off[i], c->c_off[i + 1] - c->c_off[i], raw, f,
                           err, sizeof(err)) == BWM_OK
               ? 0
               : -1;
}

static int pass_avro_c(const corpus_t *c, int raw, pass_t *ps)
{
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    avro_reader_t reader;
    bwm_frame_t f;
    double c0, w0;
    size_t i;

    if (avro_schema_from_json_length(bwm_telemetry_avsc, strlen(bwm_telemetry_avsc), &schema)) {
        fprintf(stderr, "bench-core: avro-c: %s\n", avro_strerror());
        return -1;
    }
    iface = avro_generic_class_from_schema(schema);
    avro_generic_value_new(iface, &value);
    reader = avro_reader_memory(NULL, 0);
    c0 = cpu_s();
    w0 = wall_s();
    for (i = 0; i < c->c_n; i++) {
        if (body_of(c, i, raw, &f) != 0) {
            ps->ps_errors++;
            continue;
        }
        avro_reader_memory_set_source(reader, (const char *)f.f_body, (int64_t)f.f_body_len);
        if (avro_value_read(reader, &value) != 0) {
            ps->ps_errors++;
        }
    }
    ps->ps_cpu = cpu_s() - c0;
    ps->ps_wall = wall_s() - w0;
    avro_reader_free(reader);
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    return 0;
}

static void pass_decode(const corpus_t *c, int raw, bwm_decoder_t *dec, bwm_value_t *slots,
                        pass_t *ps)
{
    bwm_frame_t f;
    char err[256];
    double c0 = cpu_s(), w0 = wall_s();
    size_t i;

    for (i = 0; i < c->c_n; i++) {
        if (body_of(c, i, raw, &f) != 0 ||
            bwm_decoder_decode(dec, f.f_body, f.f_body_len, slots, err, sizeof(err)) != BWM_OK) {
            ps->ps_errors++;
        }
    }
    ps->ps_cpu = cpu_s() - c0;
    ps->ps_wall = wall_s() - w0;
}

/* Counts of the job pass. */
typedef struct job_counts {
    size_t jc_outputs;
    size_t jc_filtered;
    size_t jc_reads;
    size_t jc_evicted;
} job_counts_t;

/* Reads the states of the keys a round needs from the store, as the runtime reads Redis. */
static size_t load_missing(bwm_engine_t *eng, const bench_store_t *store)
{
    const bwm_keyref_t *miss;
    size_t j, nmiss;
    char err[256];

    bwm_engine_missing(eng, &miss, &nmiss);
    for (j = 0; j < nmiss; j++) {
        size_t k = key_number(miss[j].kr_key);

        bwm_engine_load(eng, j, store->bs_vals[k], store->bs_lens[k], err, sizeof(err));
    }
    return nmiss;
}

/*
 * Decodes and stages a batch in rounds of round records, as bwm's processor
 * does (commit.max.records, commit.round.records): each round's states are
 * loaded and its records applied; the last round emits the changes.
 */
static int pass_job(const corpus_t *c, int raw, const bwm_plan_t *plan, bwm_decoder_t *dec,
                    size_t batch, size_t round, size_t budget, bench_store_t *store, pass_t *ps,
                    job_counts_t *jc)
{
    bwm_engine_limits_t limits = {1024, 1 << 20, budget, 0, 0};
    size_t i, j, r, n, nr, nout, row, staged, filtered, dead;
    const bwm_change_t *changes;
    bwm_engine_t *eng;
    bwm_frame_t f;
    char err[256];
    double c0, w0;

    eng = bwm_engine_new(plan, BWM_TIME_NONE, &limits, err, sizeof(err));
    if (!eng) {
        fprintf(stderr, "bench-core: engine: %s\n", err);
        return -1;
    }
    c0 = cpu_s();
    w0 = wall_s();
    for (i = 0; i < c->c_n; i += batch) {
        n = c->c_n - i < batch ? c->c_n - i : batch;
        for (r = i; r < i + n; r += round) {
            nr = i + n - r < round ? i + n - r : round;
            for (j = r; j < r + nr; j++) {
                bwm_value_t *slots = bwm_engine_next_slots(eng);

                if (!slots || body_of(c, j, raw, &f) != 0 ||
                    bwm_decoder_decode(dec, f.f_body, f.f_body_len, slots, err, sizeof(err)) !=
                        BWM_OK ||
                    bwm_engine_stage(eng, (int64_t)j, BWM_TIME_NONE, slots, 1, &row) != BWM_OK) {
                    ps->ps_errors++;
                }
            }
            jc->jc_reads += load_missing(eng, store);
            if (bwm_engine_apply(eng, r + nr == i + n, err, sizeof(err)) != BWM_OK) {
                fprintf(stderr, "bench-core: %s\n", err);
                bwm_engine_destroy(eng);
                return -1;
            }
            bwm_engine_counts(eng, &staged, &filtered, &dead);
            jc->jc_filtered += filtered;
            ps->ps_errors += dead;
            bwm_engine_outputs(eng, &nout);
            jc->jc_outputs += nout;
            if (r + nr < i + n) {
                bwm_engine_next_round(eng);
            }
        }
        bwm_engine_changes(eng, &changes, &nout);
        if (budget) {
            store_commit(store, changes, nout);
        }
        bwm_engine_committed(eng);
        jc->jc_evicted += bwm_engine_evict(eng);
    }
    ps->ps_cpu = cpu_s() - c0;
    ps->ps_wall = wall_s() - w0;
    bwm_engine_destroy(eng);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-core [-n records] [-k keys] [-b batch] [-r round] [--raw] "
                    "[--cache entries] [--repeat runs] [--json FILE]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"raw", no_argument, NULL, 'R'},
        {"cache", required_argument, NULL, 'c'},
        {"json", required_argument, NULL, 'j'},
        {"repeat", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    size_t nrec = 10000000, nkeys = 10000, batch = 10000, round = 10000, budget = 0, repeat = 3, i,
           run;
    const char *json_path = NULL;
    int raw = 0, opt, rc = 1;
    corpus_t corpus = {0};
    bench_store_t store = {0};
    job_counts_t jc = {0};
    pass_t passes[3] = {{.ps_name = "avro-c"}, {.ps_name = "decode"}, {.ps_name = "job"}};
    bwm_schema_t *schema = NULL;
    bwm_script_t *sc = NULL;
    bwm_plan_t *plan = NULL;
    bwm_decoder_t *dec = NULL;
    bwm_value_t *slots = NULL;
    bwm_sql_error_t se = {0};
    char err[256];
    double t0;
    FILE *out;

    while ((opt = getopt_long(argc, argv, "n:k:b:r:", opts, NULL)) != -1) {
        switch (opt) {
            case 'n':
                nrec = strtoull(optarg, NULL, 10);
                break;
            case 'k':
                nkeys = strtoull(optarg, NULL, 10);
                break;
            case 'b':
                batch = strtoull(optarg, NULL, 10);
                break;
            case 'r':
                round = strtoull(optarg, NULL, 10);
                break;
            case 'R':
                raw = 1;
                break;
            case 'c':
                budget = strtoull(optarg, NULL, 10);
                break;
            case 'j':
                json_path = optarg;
                break;
            case 't':
                repeat = strtoull(optarg, NULL, 10);
                break;
            default:
                usage();
                return 2;
        }
    }
    if (optind != argc || nrec < 1 || nkeys < 1 || nkeys > 10000000 || batch < 1 || round < 1 ||
        repeat < 1 || repeat > MAX_REPEAT) {
        usage();
        return 2;
    }
    t0 = wall_s();
    if (corpus_build(&corpus, nrec, (int)nkeys, raw) != 0) {
        goto done;
    }
    printf("core bench: %zu telemetry records (%s, %.1f bytes each on average, %.0f MB), "
           "%zu keys, encoded in %.1f s\n",
           nrec, raw ? "raw Avro" : "Confluent-framed Avro",
           (double)corpus.c_data.b_len / (double)nrec, (double)corpus.c_data.b_len / 1e6, nkeys,
           wall_s() - t0);
    schema = bwm_schema_parse(bwm_telemetry_avsc, strlen(bwm_telemetry_avsc), err, sizeof(err));
    sc = bwm_sql_parse(job, strlen(job), &se);
    plan = sc && schema ? bwm_plan_new(sc, schema, &se) : NULL;
    if (!plan) {
        fprintf(stderr, "bench-core: %s\n", schema ? se.se_message : err);
        goto done;
    }
    dec = bwm_decoder_new(schema, schema, plan->p_slots, plan->p_nslots, &bwm_avro_default_limits,
                          err, sizeof(err));
    slots = calloc(plan->p_nslots, sizeof(*slots));
    store.bs_vals = calloc(nkeys, sizeof(*store.bs_vals));
    store.bs_lens = calloc(nkeys, sizeof(*store.bs_lens));
    if (!dec || !slots || !store.bs_vals || !store.bs_lens) {
        fprintf(stderr, "bench-core: decoder: %s\n", dec ? "out of memory" : err);
        goto done;
    }
    for (run = 0; run < repeat; run++) {
        if (pass_avro_c(&corpus, raw, &passes[0]) != 0) {
            goto done;
        }
        pass_keep(&passes[0]);
        pass_decode(&corpus, raw, dec, slots, &passes[1]);
        pass_keep(&passes[1]);
        store_clear(&store, nkeys);
        memset(&jc, 0, sizeof(jc));
        if (pass_job(&corpus, raw, plan, dec, batch, round, budget, &store, &passes[2], &jc) != 0) {
            goto done;
        }
        pass_keep(&passes[2]);
    }
    for (i = 0; i < 3; i++) {
        pass_settle(&passes[i]);
    }
    printf("  job: WHERE (2 conditions), GROUP BY vin, TUMBLING 1 h (grace 5 min), COUNT, SUM, "
           "AVG, MAX, COUNT_DISTINCT; EMIT CHANGES; batches of %zu in rounds of %zu; results and "
           "states "
           "encoded\n",
           batch, round);
    printf("  job: %zu filtered out, %zu results", jc.jc_filtered, jc.jc_outputs);
    if (budget) {
        printf(", cache of %zu keys: %zu evicted, %zu read back", budget, jc.jc_evicted,
               jc.jc_reads);
    }
    printf("\n  medians of %zu runs of each pass, in turn\n", repeat);
    printf("  %-8s %10s %10s %12s %18s %17s %8s\n", "pass", "cpu s", "wall s", "ns/record",
           "records/s/core", "ns/record min-max", "errors");
    for (i = 0; i < 3; i++) {
        printf("  %-8s %10.3f %10.3f %12.1f %18.0f %8.1f-%-8.1f %8zu\n", passes[i].ps_name,
               passes[i].ps_cpu, passes[i].ps_wall, passes[i].ps_cpu * 1e9 / (double)nrec,
               (double)nrec / passes[i].ps_cpu, pass_extreme(&passes[i], 0) * 1e9 / (double)nrec,
               pass_extreme(&passes[i], 1) * 1e9 / (double)nrec, passes[i].ps_errors);
    }
    if (json_path) {
        out = fopen(json_path, "w");
        if (!out) {
            perror(json_path);
            goto done;
        }
        fprintf(out,
                "{\"records\": %zu, \"keys\": %zu, \"batch\": %zu, \"round\": %zu, "
                "\"framing\": \"%s\", \"bytes\": %zu, \"filtered\": %zu, \"outputs\": %zu, "
                "\"repeat\": %zu, \"passes\": {",
                nrec, nkeys, batch, round, raw ? "raw" : "confluent", corpus.c_data.b_len,
                jc.jc_filtered, jc.jc_outputs, repeat);
        for (i = 0; i < 3; i++) {
            fprintf(out,
                    "%s\"%s\": {\"cpu_s\": %.6f, \"wall_s\": %.6f, \"errors\": %zu, "
                    "\"runs_cpu_s\": [",
                    i ? ", " : "", passes[i].ps_name, passes[i].ps_cpu, passes[i].ps_wall,
                    passes[i].ps_errors);
            for (run = 0; run < passes[i].ps_runs; run++) {
                fprintf(out, "%s%.6f", run ? ", " : "", passes[i].ps_cpus[run]);
            }
            fprintf(out, "]}");
        }
        fprintf(out, "}}\n");
        fclose(out);
    }
    rc = passes[0].ps_errors || passes[1].ps_errors || passes[2].ps_errors ? 1 : 0;
    if (rc) {
        fprintf(stderr, "bench-core: some records failed; the figures are not valid\n");
    }
done:
    store_clear(&store, nkeys);
    free(store.bs_vals);
    free(store.bs_lens);
    free(slots);
    bwm_decoder_destroy(dec);
    bwm_plan_destroy(plan);
    bwm_script_destroy(sc);
    bwm_schema_destroy(schema);
    bwm_buf_free(&corpus.c_data);
    free(corpus.c_off);
    return rc;
}
