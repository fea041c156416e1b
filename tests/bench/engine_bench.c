/*
 * engine_bench.c: how fast the calculation core runs a windowed job on
 * records that are already decoded (no Kafka, no Redis, no Avro): WHERE, the
 * group key, a tumbling window and five aggregates, batch after batch, with
 * results encoded as EMIT CHANGES asks. Prints what it measured and how.
 *
 * With a cache budget (most entries held), evicted states are read back from
 * an in-process map of committed values, standing in for Redis: the time
 * then includes eviction and decoding states again.
 *
 * Usage: build/bench-engine [records] [keys] [batch] [cache entries]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/plan.h"
#include "core/schema.h"
#include "core/sql.h"

static const char *const job =
    "CREATE STREAM telemetry WITH (topic = 'in', timestamp = 'ts');\n"
    "CREATE TABLE kpi AS SELECT vin, COUNT(*) AS samples, SUM(distance_km) AS distance_km,\n"
    "  AVG(speed) AS avg_speed, MAX(speed) AS max_speed, COUNT_DISTINCT(trip_id) AS trips\n"
    "FROM telemetry WHERE ignition = true AND speed >= 0\n"
    "WINDOW TUMBLING (SIZE 1 HOUR, GRACE 5 MINUTES) GROUP BY vin EMIT CHANGES;";

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The committed value of each key, by the key's number (its text is "BWM%014zu"). */
typedef struct bench_store {
    uint8_t **bs_vals;
    size_t *bs_lens;
} bench_store_t;

static size_t key_number(const char *key)
{
    return (size_t)strtoull(key + 3, NULL, 10);
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

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) {
        buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    size_t nrec = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    size_t nkeys = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000;
    size_t batch = argc > 3 ? strtoull(argv[3], NULL, 10) : 10000;
    size_t budget = argc > 4 ? strtoull(argv[4], NULL, 10) : 0, reads = 0, evicted = 0;
    bench_store_t store;
    char *avsc = read_all("schemas/telemetry.avsc"), err[256];
    bwm_schema_t *schema;
    bwm_script_t *sc;
    bwm_plan_t *plan;
    bwm_engine_t *eng;
    bwm_sql_error_t se;
    bwm_engine_limits_t limits = {1024, 1 << 20, budget, 0, 0};
    bwm_value_t *slots;
    char(*vins)[18], (*trips)[24];
    size_t i, s, nslots, outputs = 0;
    double t0, c0, wall = 0, cpu = 0;
    enum { VIN, TRIP, TS, IGNITION, NUMBER } * role;
    uint64_t rng = 88172645463325252ULL;

    if (!avsc) {
        fprintf(stderr, "run from the repository root (schemas/telemetry.avsc)\n");
        return 1;
    }
    schema = bwm_schema_parse(avsc, strlen(avsc), err, sizeof(err));
    sc = bwm_sql_parse(job, strlen(job), &se);
    plan = sc && schema ? bwm_plan_new(sc, schema, &se) : NULL;
    if (!plan) {
        fprintf(stderr, "bench: %s\n", se.se_message);
        return 1;
    }
    nslots = plan->p_nslots;
    vins = calloc(nkeys, sizeof(*vins));
    trips = calloc(nkeys * 4, sizeof(*trips));
    slots = calloc(nslots * batch, sizeof(*slots));
    for (i = 0; i < nkeys; i++) {
        snprintf(vins[i], sizeof(vins[i]), "BWM%014zu", i);
    }
    for (i = 0; i < nkeys * 4; i++) {
        snprintf(trips[i], sizeof(trips[i]), "%s-%zu", vins[i / 4], i % 4);
    }
    store.bs_vals = calloc(nkeys, sizeof(*store.bs_vals));
    store.bs_lens = calloc(nkeys, sizeof(*store.bs_lens));
    role = calloc(nslots, sizeof(*role));
    for (s = 0; s < nslots; s++) {
        const char *name = plan->p_slots[s].ss_name;

        role[s] = strcmp(name, "vin") == 0        ? VIN
                  : strcmp(name, "trip_id") == 0  ? TRIP
                  : strcmp(name, "ts") == 0       ? TS
                  : strcmp(name, "ignition") == 0 ? IGNITION
                                                  : NUMBER;
    }
    eng = bwm_engine_new(plan, INT64_MIN, &limits, err, sizeof(err));
    for (i = 0; i < nrec; i += batch) {
        size_t n = nrec - i < batch ? nrec - i : batch, j, nmiss, nout, row;
        const bwm_keyref_t *miss;
        const bwm_change_t *changes;

        for (j = 0; j < n; j++) {
            bwm_value_t *v = &slots[j * nslots];
            size_t key;

            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            key = rng % nkeys;
            for (s = 0; s < nslots; s++) {
                switch (role[s]) {
                    case VIN:
                        v[s].v_type = BWM_T_STRING;
                        v[s].u.v_str.p = vins[key];
                        v[s].u.v_str.n = 17;
                        break;
                    case TRIP:
                        v[s].v_type = BWM_T_STRING;
                        v[s].u.v_str.p = trips[key * 4 + (rng >> 20) % 4];
                        v[s].u.v_str.n = strlen(v[s].u.v_str.p);
                        break;
                    case TS:
                        v[s].v_type = BWM_T_LONG;
                        v[s].u.v_long = 1767225600000LL + (int64_t)(i + j) * 10;
                        break;
                    case IGNITION:
                        v[s].v_type = BWM_T_BOOL;
                        v[s].u.v_bool = (rng >> 30) % 10 != 0;
                        break;
                    default:
                        v[s].v_type = BWM_T_DOUBLE;
                        v[s].u.v_double = (double)((rng >> 33) % 16000) / 100.0;
                        break;
                }
            }
        }
        /* The slots above stand for the decoder's output; only the engine is timed. */
        t0 = now_s();
        c0 = cpu_s();
        for (j = 0; j < n; j++) {
            bwm_engine_stage(eng, (int64_t)(i + j), INT64_MIN, &slots[j * nslots], &row);
        }
        bwm_engine_missing(eng, &miss, &nmiss);
        for (j = 0; j < nmiss; j++) {
            size_t k = key_number(miss[j].kr_key);

            bwm_engine_load(eng, j, store.bs_vals[k], store.bs_lens[k], err, sizeof(err));
        }
        reads += nmiss;
        if (bwm_engine_apply(eng, err, sizeof(err)) != BWM_OK) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        bwm_engine_outputs(eng, &nout);
        outputs += nout;
        bwm_engine_changes(eng, &changes, &nout);
        if (budget) {
            store_commit(&store, changes, nout);
        }
        bwm_engine_committed(eng);
        evicted += bwm_engine_evict(eng);
        wall += now_s() - t0;
        cpu += cpu_s() - c0;
    }
    printf("engine bench: %zu records, %zu keys, batches of %zu, pre-decoded slots\n", nrec, nkeys,
           batch);
    if (budget) {
        printf("  cache of %zu entries: %zu evicted, %zu read back (%zu bytes held at the end)\n",
               budget, evicted, reads, bwm_engine_bytes(eng));
    }
    printf("  job: WHERE (2 conditions), GROUP BY vin, TUMBLING 1 h, COUNT, SUM, AVG, MAX, "
           "COUNT_DISTINCT; EMIT CHANGES with results encoded and state encoded per batch\n");
    printf("  wall %.3f s, cpu %.3f s, %.0f ns/record, %.2f M records/s/core, %zu results\n", wall,
           cpu, cpu * 1e9 / (double)nrec, (double)nrec / cpu / 1e6, outputs);
    bwm_engine_destroy(eng);
    bwm_plan_destroy(plan);
    bwm_script_destroy(sc);
    bwm_schema_destroy(schema);
    for (i = 0; i < nkeys; i++) {
        free(store.bs_vals[i]);
    }
    free(store.bs_vals);
    free(store.bs_lens);
    free(slots);
    free(vins);
    free(trips);
    free(role);
    free(avsc);
    return 0;
}
