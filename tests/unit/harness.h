/*
 * harness.h: runs the engine the way the runtime does, in memory: stage a
 * batch, read the missing states from the memory store, apply, collect the
 * outputs (decoded back from Avro) and the dead letters, commit the changes
 * and the fence, and evict what the cache budgets ask. A restart builds a
 * new engine from the store, as a new owner of the partition would. Each
 * batch also folds its raw outputs, dead letters and store changes into
 * digests, so that two runs can be compared byte for byte. With h_round set,
 * a batch is staged and applied in rounds of that many records, as the
 * runtime does with commit.round.records.
 */
#ifndef BWM_TEST_HARNESS_H
#define BWM_TEST_HARNESS_H

#include <avro.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/store.h"
#include "core/engine.h"
#include "core/result.h"
#include "fixtures.h"

/* One produced record, decoded. */
typedef struct out {
    int o_tombstone;
    char o_key[128]; /* the Kafka key */
    char o_vin[64];  /* the first key field */
    int64_t o_start; /* window_start, or -1 */
    int64_t o_end;
    int64_t o_version;
    double o_vals[8]; /* the columns, in order (BIGINT as double) */
    int o_null[8];
    size_t o_nvals;
} out_t;

/* One store change of the last batch, copied. */
typedef struct chg {
    char c_key[128];
    uint8_t *c_val; /* NULL: a delete */
    size_t c_vallen;
    int c_index;
    int64_t c_close;
    int c_retain;
    int64_t c_ttl;
} chg_t;

typedef struct harness {
    bwm_schema_t *h_schema;
    bwm_plan_t *h_plan;
    bwm_engine_t *h_engine;
    bwm_engine_limits_t h_limits;
    void *h_store;
    bwm_fence_t h_fence;
    int64_t h_next_offset;
    out_t *h_outs; /* of the last batch */
    size_t h_nouts;
    char h_dead[64][64]; /* reasons of the last batch's first 64 dead letters */
    size_t h_dead_rows[64];
    size_t h_ndead;     /* how many of them are listed */
    size_t h_ndead_all; /* the last batch's dead letters */
    size_t h_nlate_all; /* of which late */
    chg_t *h_chgs;      /* the last batch's store changes */
    size_t h_nchgs;
    int h_no_retained;   /* keep retained windows out of the (linear) memory store */
    size_t h_round;      /* records per round of a batch; 0: a batch in one round */
    size_t h_row_base;   /* batch row number of the round's first row */
    uint64_t h_dead_sum; /* the batch's dead letters, summed: their order is the rounds' */
    /* over all batches */
    uint64_t h_digest; /* outputs, dead letters and store changes, in order */
    size_t h_reads;    /* keys read from the store */
    size_t h_evicted;  /* entries evicted */
    size_t h_retained; /* retained windows written */
    avro_value_iface_t *h_iface;
    avro_value_t h_value;
} harness_t;

static inline bwm_err_t harness_index_cb(const char *key, size_t len, int64_t close, void *opaque)
{
    return bwm_engine_expect(opaque, key, len, close);
}

static inline void harness_start(harness_t *h)
{
    char err[256];

    bwm_engine_destroy(h->h_engine);
    cr_assert_eq(bwm_store_mem_ops.so_fence_get(h->h_store, "ns", 0, &h->h_fence, err, sizeof(err)),
                 BWM_OK);
    h->h_engine = bwm_engine_new(h->h_plan, h->h_fence.f_watermark, &h->h_limits, err, sizeof(err));
    cr_assert_not_null(h->h_engine, "%s", err);
    cr_assert_eq(bwm_store_mem_ops.so_index_get(h->h_store, "ns", 0, harness_index_cb, h->h_engine,
                                                err, sizeof(err)),
                 BWM_OK);
}

static inline void harness_init(harness_t *h, const char *query)
{
    char err[256];
    bwm_result_enc_t *enc;

    memset(h, 0, sizeof(*h));
    h->h_schema = fixture_schema();
    h->h_plan = fixture_plan_ok(h->h_schema, query);
    h->h_limits.el_max_key_bytes = 100;
    h->h_limits.el_eval_bytes = 1 << 20;
    cr_assert_eq(bwm_store_mem_ops.so_open(NULL, &h->h_store, err, sizeof(err)), BWM_OK);
    enc = bwm_result_enc_new(h->h_plan, err, sizeof(err));
    cr_assert_not_null(enc, "%s", err);
    h->h_iface = fixture_avro_iface(bwm_result_enc_schema(enc));
    avro_generic_value_new(h->h_iface, &h->h_value);
    bwm_result_enc_destroy(enc);
    harness_start(h);
}

static inline void harness_free_chgs(harness_t *h)
{
    size_t i;

    for (i = 0; i < h->h_nchgs; i++) {
        free(h->h_chgs[i].c_val);
    }
    free(h->h_chgs);
    h->h_chgs = NULL;
    h->h_nchgs = 0;
}

static inline void harness_free(harness_t *h)
{
    harness_free_chgs(h);
    bwm_engine_destroy(h->h_engine);
    bwm_store_mem_ops.so_close(h->h_store);
    avro_value_decref(&h->h_value);
    avro_value_iface_decref(h->h_iface);
    bwm_plan_destroy(h->h_plan);
    bwm_schema_destroy(h->h_schema);
    free(h->h_outs);
}

/* The slots of a fixture plan reading vin, ts, km and big (whichever it reads). */
typedef struct rec {
    const char *r_vin; /* NULL: a null key */
    int64_t r_ts;
    double r_km;
    int64_t r_big;
} rec_t;

static inline void harness_slots(const harness_t *h, const rec_t *r, bwm_value_t *slots)
{
    size_t i;

    for (i = 0; i < h->h_plan->p_nslots; i++) {
        const char *name = h->h_plan->p_slots[i].ss_name;

        memset(&slots[i], 0, sizeof(slots[i]));
        if (strcmp(name, "vin") == 0 && r->r_vin) {
            slots[i].v_type = BWM_T_STRING;
            slots[i].u.v_str.p = r->r_vin;
            slots[i].u.v_str.n = strlen(r->r_vin);
        } else if (strcmp(name, "ts") == 0) {
            slots[i].v_type = BWM_T_LONG;
            slots[i].u.v_long = r->r_ts;
        } else if (strcmp(name, "km") == 0) {
            slots[i].v_type = BWM_T_DOUBLE;
            slots[i].u.v_double = r->r_km;
        } else if (strcmp(name, "big") == 0) {
            slots[i].v_type = BWM_T_LONG;
            slots[i].u.v_long = r->r_big;
        }
    }
}

static inline bwm_err_t harness_load_cb(size_t i, const void *val, size_t len, void *opaque)
{
    char err[256];
    bwm_err_t e = bwm_engine_load(opaque, i, val, len, err, sizeof(err));

    cr_assert_eq(e, BWM_OK, "%s", err);
    return e;
}

static inline void harness_decode(harness_t *h, const bwm_output_t *o, const uint8_t *data,
                                  out_t *out)
{
    avro_reader_t rd;
    size_t i, n, c = 0;

    memset(out, 0, sizeof(*out));
    snprintf(out->o_key, sizeof(out->o_key), "%.*s", (int)o->o_key_len, data + o->o_key_off);
    out->o_start = -1;
    if (o->o_kind == BWM_OUT_TOMBSTONE) {
        out->o_tombstone = 1;
        return;
    }
    rd = avro_reader_memory((const char *)data + o->o_val_off, (int64_t)o->o_val_len);
    avro_value_reset(&h->h_value);
    cr_assert_eq(avro_value_read(rd, &h->h_value), 0, "%s", avro_strerror());
    avro_reader_free(rd);
    avro_value_get_size(&h->h_value, &n);
    for (i = 0; i < n; i++) {
        avro_value_t f, b;
        const char *name;
        int64_t l;
        double d;

        avro_value_get_by_index(&h->h_value, i, &f, &name);
        if (avro_value_get_type(&f) == AVRO_UNION) {
            avro_value_get_current_branch(&f, &b);
            f = b;
        }
        if (i == 0 && avro_value_get_type(&f) == AVRO_STRING) {
            const char *s;
            size_t len;

            avro_value_get_string(&f, &s, &len);
            snprintf(out->o_vin, sizeof(out->o_vin), "%s", s);
        } else if (strcmp(name, "window_start") == 0) {
            avro_value_get_long(&f, &out->o_start);
        } else if (strcmp(name, "window_end") == 0) {
            avro_value_get_long(&f, &out->o_end);
        } else if (strcmp(name, "version") == 0) {
            avro_value_get_long(&f, &out->o_version);
        } else if (i > 0 && c < 8) {
            if (avro_value_get_type(&f) == AVRO_NULL) {
                out->o_null[c] = 1;
            } else if (avro_value_get_type(&f) == AVRO_INT64) {
                avro_value_get_long(&f, &l);
                out->o_vals[c] = (double)l;
            } else if (avro_value_get_type(&f) == AVRO_DOUBLE) {
                avro_value_get_double(&f, &d);
                out->o_vals[c] = d;
            }
            c++;
        }
    }
    out->o_nvals = c;
}

/* FNV-1a over n bytes, then over n itself, so that (a, bc) and (ab, c) differ. */
static inline void harness_mix(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        *h = (*h ^ b[i]) * 1099511628211ULL;
    }
    for (i = 0; i < sizeof(n); i++) {
        *h = (*h ^ ((n >> (8 * i)) & 0xff)) * 1099511628211ULL;
    }
}

/*
 * Stages n records with consecutive offsets, every other one with its
 * strings lent (they live in the caller's records for the whole batch), and
 * every other pair written straight into the engine's next slots.
 */
static inline void harness_stage(harness_t *h, const rec_t *recs, size_t n)
{
    bwm_value_t own[16], *slots;
    size_t i, row;

    for (i = 0; i < n; i++) {
        slots = h->h_next_offset & 2 ? bwm_engine_next_slots(h->h_engine) : own;
        cr_assert_not_null(slots);
        harness_slots(h, &recs[i], slots);
        cr_assert_eq(bwm_engine_stage(h->h_engine, h->h_next_offset, BWM_TIME_NONE, slots,
                                      (int)(h->h_next_offset & 1), &row),
                     BWM_OK);
        h->h_next_offset++;
    }
}

/* Reads the missing keys from the store; returns how many. */
static inline size_t harness_load(harness_t *h)
{
    const bwm_keyref_t *missing;
    size_t nmissing;
    char err[256];

    cr_assert_eq(bwm_engine_missing(h->h_engine, &missing, &nmissing), BWM_OK);
    if (nmissing) {
        cr_assert_eq(bwm_store_mem_ops.so_get_many(h->h_store, "ns", 0, missing, nmissing,
                                                   harness_load_cb, h->h_engine, err, sizeof(err)),
                     BWM_OK);
    }
    h->h_reads += nmissing;
    return nmissing;
}

/* Starts a batch's outputs and dead letters. */
static inline void harness_batch_start(harness_t *h)
{
    h->h_nouts = 0;
    h->h_ndead = 0;
    h->h_ndead_all = 0;
    h->h_nlate_all = 0;
    h->h_row_base = 0;
    h->h_dead_sum = 0;
}

/*
 * Applies the staged records as a round of the batch (the last one when
 * last is set) and adds its outputs and dead letters, decoded and digested,
 * with row numbers counted from the batch's start.
 */
static inline void harness_round(harness_t *h, int last)
{
    const bwm_output_t *outs;
    const bwm_dead_t *dead;
    const uint8_t *data;
    size_t i, nouts, ndead, staged, filtered, ndeadrows;
    char err[256];

    cr_assert_eq(bwm_engine_apply(h->h_engine, last, err, sizeof(err)), BWM_OK, "%s", err);
    outs = bwm_engine_outputs(h->h_engine, &nouts);
    data = bwm_engine_output_data(h->h_engine);
    h->h_outs = realloc(h->h_outs, (h->h_nouts + nouts + 1) * sizeof(*h->h_outs));
    for (i = 0; i < nouts; i++) {
        size_t row = outs[i].o_row + (h->h_plan->p_stateless ? h->h_row_base : 0);

        harness_decode(h, &outs[i], data, &h->h_outs[h->h_nouts++]);
        harness_mix(&h->h_digest, &outs[i].o_kind, sizeof(outs[i].o_kind));
        harness_mix(&h->h_digest, data + outs[i].o_key_off, outs[i].o_key_len);
        harness_mix(&h->h_digest, data + outs[i].o_val_off, outs[i].o_val_len);
        harness_mix(&h->h_digest, &row, sizeof(row));
    }
    dead = bwm_engine_dead(h->h_engine, &ndead);
    for (i = 0; i < ndead; i++) {
        size_t row = dead[i].d_row + h->h_row_base;
        uint64_t one = 14695981039346656037ULL;

        h->h_nlate_all += strcmp(dead[i].d_reason, "late") == 0;
        harness_mix(&one, &row, sizeof(row));
        harness_mix(&one, dead[i].d_reason, strlen(dead[i].d_reason));
        harness_mix(&one, dead[i].d_error, strlen(dead[i].d_error));
        h->h_dead_sum += one;
        if (h->h_ndead < 64) {
            snprintf(h->h_dead[h->h_ndead], sizeof(h->h_dead[0]), "%s", dead[i].d_reason);
            h->h_dead_rows[h->h_ndead++] = row;
        }
    }
    h->h_ndead_all += ndead;
    if (last) {
        harness_mix(&h->h_digest, &h->h_dead_sum, sizeof(h->h_dead_sum));
        return;
    }
    bwm_engine_counts(h->h_engine, &staged, &filtered, &ndeadrows);
    h->h_row_base += staged;
    bwm_engine_next_round(h->h_engine);
}

/* Applies the batch in one round and keeps its outputs and dead letters, decoded and digested. */
static inline void harness_apply(harness_t *h)
{
    harness_batch_start(h);
    harness_round(h, 1);
}

/* Copies and digests one store change. */
static inline void harness_keep_change(harness_t *h, const bwm_change_t *c, chg_t *k)
{
    int64_t num[3] = {c->ch_index, c->ch_retain, c->ch_retain ? c->ch_ttl_ms : 0};

    cr_assert_lt(c->ch_keylen, sizeof(k->c_key));
    memcpy(k->c_key, c->ch_key, c->ch_keylen);
    k->c_key[c->ch_keylen] = '\0';
    k->c_val = NULL;
    if (c->ch_val) {
        k->c_val = malloc(c->ch_vallen + 1);
        memcpy(k->c_val, c->ch_val, c->ch_vallen);
    }
    k->c_vallen = c->ch_vallen;
    k->c_index = c->ch_index;
    k->c_close = c->ch_close;
    k->c_retain = c->ch_retain;
    k->c_ttl = c->ch_ttl_ms;
    harness_mix(&h->h_digest, c->ch_key, c->ch_keylen);
    harness_mix(&h->h_digest, c->ch_val ? c->ch_val : "", c->ch_val ? c->ch_vallen : 0);
    harness_mix(&h->h_digest, num, sizeof(num));
    if (c->ch_index > 0) {
        harness_mix(&h->h_digest, &c->ch_close, sizeof(c->ch_close));
    }
    h->h_retained += c->ch_retain != 0;
}

/* Commits the batch's changes and fence to the store, and ends the batch. */
static inline void harness_commit(harness_t *h)
{
    const bwm_change_t *changes;
    bwm_change_t *kept;
    size_t i, n, nkept = 0;
    bwm_fence_t next;
    char err[256];

    cr_assert_eq(bwm_engine_changes(h->h_engine, &changes, &n), BWM_OK);
    harness_free_chgs(h);
    h->h_chgs = calloc(n + 1, sizeof(*h->h_chgs));
    kept = calloc(n + 1, sizeof(*kept));
    h->h_nchgs = n;
    for (i = 0; i < n; i++) {
        harness_keep_change(h, &changes[i], &h->h_chgs[i]);
        if (!changes[i].ch_retain || !h->h_no_retained) {
            kept[nkept++] = changes[i];
        }
    }
    next.f_offset = h->h_next_offset - 1;
    next.f_watermark = bwm_engine_watermark(h->h_engine);
    cr_assert_eq(bwm_store_mem_ops.so_commit(h->h_store, "ns", 0, &h->h_fence, &next, kept, nkept,
                                             err, sizeof(err)),
                 BWM_OK, "%s", err);
    free(kept);
    h->h_fence = next;
    bwm_engine_committed(h->h_engine);
}

/* Evicts what the budgets ask, as the runtime does after each commit; then they hold. */
static inline void harness_evict(harness_t *h)
{
    h->h_evicted += bwm_engine_evict(h->h_engine);
    if (h->h_limits.el_cache_entries) {
        cr_assert_leq(bwm_engine_keys(h->h_engine), h->h_limits.el_cache_entries);
    }
    if (h->h_limits.el_cache_bytes) {
        cr_assert_leq(bwm_engine_bytes(h->h_engine), h->h_limits.el_cache_bytes);
    }
}

/*
 * Runs one batch of n records with consecutive offsets (in rounds of
 * h_round records when set), commits it and evicts.
 */
static inline void harness_batch(harness_t *h, const rec_t *recs, size_t n)
{
    size_t done = 0, step = h->h_round ? h->h_round : n;

    harness_batch_start(h);
    do {
        size_t k = n - done < step ? n - done : step;

        harness_stage(h, recs + done, k);
        harness_load(h);
        done += k;
        harness_round(h, done == n);
    } while (done < n);
    harness_commit(h);
    harness_evict(h);
}

/* The output with this Kafka key in the last batch, or NULL. */
static inline const out_t *harness_find(const harness_t *h, const char *key)
{
    size_t i;

    for (i = 0; i < h->h_nouts; i++) {
        if (strcmp(h->h_outs[i].o_key, key) == 0) {
            return &h->h_outs[i];
        }
    }
    return NULL;
}

#endif
