/*
 * processor.c: the batch loop of `bwm run` and `bwm replay`.
 *
 * A batch gathers records of the assigned partitions until commit.max.records
 * or commit.interval.ms. Each record is decoded and staged in its partition's
 * engine (core/engine.h) as it is taken from the consumer; its message is
 * kept until its round (below) is done (cmd/kept.h). When the batch is
 * due, the states each partition needs are read from the store in one round
 * trip, and the engine applies the staged records. Its results and the
 * dead-letter records are produced; then the producer is flushed (all must be
 * acknowledged), each partition's changed states, close index and new fence
 * are committed in one compare-and-set, and finally the Kafka offset is
 * committed. Any failure before the state commit leaves the fence where it
 * was, so reprocessing the batch produces the same results again.
 *
 * Rounds: a partition that stages commit.round.records records in a batch
 * applies them at once (states read, applied, closed windows and dead
 * letters produced) and forgets them, so memory holds one round, not the
 * batch. The batch's changes are still emitted and committed once, at its
 * end.
 *
 * Faults: when Redis, Kafka or the registry fails (a transient error), the
 * batch is dropped, every partition's cached states too, and after a pause
 * (cmd/retry.h) each partition starts again from its fence; after
 * retry.max.ms of failures the run ends with an error. Before producing a
 * partition's outputs the fence is read again: if another instance moved it
 * (this one was paused past its session, a zombie), nothing is produced and
 * the partition starts again from the new fence.
 *
 * Replay: the partitions of fixed ranges are assigned manually. A partition
 * starts at its range's start, or after its fence when that is further on,
 * drops what it reads at or beyond its range's end, and is paused once it
 * got there; the run ends when every partition got there and committed.
 */
#include "cmd/processor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/kept.h"
#include "cmd/retry.h"
#include "connectors/kafka/admin.h"
#include "connectors/kafka/kconf.h"
#include "connectors/kafka/sink.h"
#include "connectors/kafka/source.h"
#include "connectors/log.h"
#include "connectors/registry/registry.h"
#include "connectors/inflate.h"
#include "connectors/store.h"
#include "core/decoder.h"
#include "core/engine.h"
#include "core/framing.h"

/* Seconds between progress lines in the log. */
#define PROGRESS_INTERVAL_MS 10000
/* Messages taken from the consumer in one call (and one clock read). */
#define TAKE_MAX 256

/* How many messages ahead the payload is asked for. */
#define PREFETCH_MSGS 2

/* Why an input record goes to the dead-letter topic (header bwm.reason). */
#define REASON_FRAMING "framing"
#define REASON_SCHEMA  "schema"
#define REASON_DECODE  "decode"
#define REASON_LIMIT   "limit"

typedef struct part {
    int pt_assigned;
    int pt_eof;
    bwm_engine_t *pt_engine;
    bwm_fence_t pt_fence; /* as this instance last read or wrote it */
    size_t pt_n;          /* records in the open batch: staged, or dead-lettered when taken */
    size_t pt_bytes;      /* of their values */
    int64_t pt_last;      /* offset of the last of them */
    bwm_kept_t pt_kept;   /* the message of each staged record, by engine row */
    int pt_in_batch;      /* processed, waiting for the flush and commit */
    int pt_rewound;       /* read again from the fence: drop what was polled before */
    int64_t pt_next_off;  /* fence offset to commit */
    int pt_ranged;        /* a replay's partition: reads [pt_first, pt_end) */
    int pt_done;          /* ranged, and read to pt_end */
    int64_t pt_first;
    int64_t pt_end;
} part_t;

typedef struct decoder_slot {
    bwm_framing_t ds_framing;
    int32_t ds_id;         /* Confluent */
    uint8_t ds_uuid[16];   /* Glue */
    bwm_decoder_t *ds_dec; /* NULL when the schema cannot be read as the job's input */
    char ds_error[256];
} decoder_slot_t;

struct bwm_processor {
    const bwm_job_t *p_job;
    const bwm_processor_replay_t *p_replay; /* NULL for `bwm run` */
    const char *p_ns;                       /* state namespace */
    const char *p_out;                      /* result topic */
    const char *p_dlq;                      /* dead-letter topic */
    const bwm_job_conf_t *p_jc;
    const bwm_plan_t *p_plan;
    bwm_engine_limits_t p_limits;
    bwm_avro_limits_t p_avro_limits;
    const bwm_store_ops_t *p_store_ops;
    void *p_store;
    bwm_registry_t *p_registry;
    bwm_sink_t *p_sink;
    bwm_source_t *p_source;
    int32_t p_result_schema_id;
    decoder_slot_t *p_decoders;
    size_t p_ndecoders;
    part_t *p_parts;
    int32_t p_nparts;
    size_t p_pending;
    size_t p_pending_bytes;
    long long p_batch_start_ms;
    int p_flush_timeout_ms; /* runtime.timeout.ms; shutdown.timeout.ms for the last batch */
    bwm_retry_t p_retry;
    int p_recover; /* a fault dropped the cached states: start again from the fences */
    long long p_progress_ms;
    long long p_report_ms; /* last call of the replay's progress callback */
    bwm_buf_t p_inflated;  /* a Glue body, decompressed */
    bwm_buf_t p_enc;       /* one framed result */
    bwm_processor_stats_t p_stats;
    int p_failed;
    char p_error[512];
};

/* Records the first fatal error; the run loop stops on it. */
static void fail(bwm_processor_t *p, const char *fmt, const char *msg)
{
    if (!p->p_failed) {
        p->p_failed = 1;
        snprintf(p->p_error, sizeof(p->p_error), fmt, msg);
        BWM_LOG(BWM_LOG_ERR, BWM_FAC_MAIN, "%s", p->p_error);
    }
}

static void part_reset(bwm_processor_t *p, struct part *pt);

/*
 * A failure of step err: transient ones (a service unreachable or failing)
 * drop the batch and every cached state, and the run loop starts again
 * from the fences after a pause; others are fatal. Returns err.
 */
static bwm_err_t fault(bwm_processor_t *p, bwm_err_t err, const char *fmt, const char *msg)
{
    int32_t id;
    char text[600];

    if (!bwm_retry_transient(err)) {
        fail(p, fmt, msg);
        return err;
    }
    snprintf(text, sizeof(text), fmt, msg);
    BWM_LOG(BWM_LOG_WARN, BWM_FAC_MAIN, "%s; the batch is dropped", text);
    snprintf(p->p_error, sizeof(p->p_error), "%s", text);
    for (id = 0; id < p->p_nparts; id++) {
        part_reset(p, &p->p_parts[id]);
    }
    p->p_batch_start_ms = 0;
    p->p_recover = 1;
    return err;
}

static part_t *part_get(bwm_processor_t *p, int32_t id)
{
    if (id < 0) {
        return NULL;
    }
    if (id >= p->p_nparts) {
        part_t *n = realloc(p->p_parts, (size_t)(id + 1) * sizeof(*n));

        if (!n) {
            return NULL;
        }
        memset(n + p->p_nparts, 0, (size_t)(id + 1 - p->p_nparts) * sizeof(*n));
        p->p_parts = n;
        p->p_nparts = id + 1;
    }
    return &p->p_parts[id];
}

static void part_drop_pending(bwm_processor_t *p, part_t *pt)
{
    bwm_kept_reset(&pt->pt_kept);
    p->p_pending -= pt->pt_n;
    p->p_pending_bytes -= pt->pt_bytes;
    pt->pt_n = 0;
    pt->pt_bytes = 0;
}

/* Forgets a partition's states and pending records. */
static void part_reset(bwm_processor_t *p, struct part *pt)
{
    part_drop_pending(p, pt);
    bwm_engine_destroy(pt->pt_engine);
    pt->pt_engine = NULL;
    pt->pt_in_batch = 0;
}

static bwm_err_t on_index(const char *key, size_t len, int64_t close, void *opaque)
{
    return bwm_engine_expect(opaque, key, len, close);
}

/*
 * Reads the partition's fence and close index and builds its engine: where a
 * partition starts, on assignment and after a rewind.
 */
static bwm_err_t part_start(bwm_processor_t *p, int32_t id, part_t *pt, char *errstr,
                            size_t errstr_size)
{
    bwm_err_t err;

    part_reset(p, pt);
    err = p->p_store_ops->so_fence_get(p->p_store, p->p_ns, id, &pt->pt_fence, errstr, errstr_size);
    if (err) {
        return err;
    }
    pt->pt_engine =
        bwm_engine_new(p->p_plan, pt->pt_fence.f_watermark, &p->p_limits, errstr, errstr_size);
    if (!pt->pt_engine) {
        return BWM_ERR_NOMEM;
    }
    if (p->p_plan->p_window.w_kind != BWM_WINDOW_NONE) {
        err = p->p_store_ops->so_index_get(p->p_store, p->p_ns, id, on_index, pt->pt_engine, errstr,
                                           errstr_size);
    }
    pt->pt_eof = 0;
    return err;
}

/* Whether a cached decoder is the one for this frame's writer schema. */
static int decoder_matches(const decoder_slot_t *ds, const bwm_frame_t *f)
{
    if (ds->ds_framing != f->f_framing) {
        return 0;
    }
    switch (f->f_framing) {
        case BWM_FRAMING_CONFLUENT:
            return ds->ds_id == f->f_schema_id;
        case BWM_FRAMING_GLUE:
            return memcmp(ds->ds_uuid, f->f_uuid, 16) == 0;
        default:
            return 1;
    }
}

/*
 * The decoder for a frame's writer schema: from the cache, or built from the
 * registry's schema (the stream's own for raw records).
 */
static bwm_err_t decoder_for(bwm_processor_t *p, const bwm_frame_t *f, decoder_slot_t **out,
                             char *errstr, size_t errstr_size)
{
    const bwm_schema_t *writer = p->p_job->j_input_schema;
    decoder_slot_t *ds;
    char what[64];
    size_t i;
    bwm_err_t err = BWM_OK;

    for (i = 0; i < p->p_ndecoders; i++) {
        if (decoder_matches(&p->p_decoders[i], f)) {
            *out = &p->p_decoders[i];
            return BWM_OK;
        }
    }
    if (f->f_framing == BWM_FRAMING_CONFLUENT) {
        err = bwm_registry_get(p->p_registry, f->f_schema_id, &writer, errstr, errstr_size);
        snprintf(what, sizeof(what), "schema id %d", (int)f->f_schema_id);
    } else if (f->f_framing == BWM_FRAMING_GLUE) {
        err = bwm_registry_get_glue(p->p_registry, f->f_uuid, &writer, errstr, errstr_size);
        snprintf(what, sizeof(what), "Glue schema version ");
        bwm_uuid_text(f->f_uuid, what + strlen(what));
    } else {
        snprintf(what, sizeof(what), "the stream's schema");
    }
    if (err == BWM_ERR_SCHEMA) {
        writer = NULL;
    } else if (err) {
        return err;
    }
    ds = realloc(p->p_decoders, (p->p_ndecoders + 1) * sizeof(*ds));
    if (!ds) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    p->p_decoders = ds;
    ds = &p->p_decoders[p->p_ndecoders++];
    memset(ds, 0, sizeof(*ds));
    ds->ds_framing = f->f_framing;
    ds->ds_id = f->f_schema_id;
    memcpy(ds->ds_uuid, f->f_uuid, 16);
    if (!writer) {
        snprintf(ds->ds_error, sizeof(ds->ds_error), "%s: %s", what, errstr);
    } else {
        ds->ds_dec = bwm_decoder_new(writer, p->p_job->j_input_schema, p->p_plan->p_slots,
                                     p->p_plan->p_nslots, &p->p_avro_limits, ds->ds_error,
                                     sizeof(ds->ds_error));
        if (!ds->ds_dec) {
            BWM_LOG(BWM_LOG_WARN, BWM_FAC_REGISTRY, "records with %s will be dead-lettered: %s",
                    what, ds->ds_error);
        }
    }
    *out = ds;
    return BWM_OK;
}

static bwm_err_t produce_dead(bwm_processor_t *p, const rd_kafka_message_t *m, const char *reason,
                              const char *error)
{
    rd_kafka_headers_t *h = bwm_dead_letter_headers(m, reason, error);
    char msg[512];
    bwm_err_t err;

    err = bwm_sink_produce(p->p_sink, p->p_dlq, RD_KAFKA_PARTITION_UA, m->key, m->key_len,
                           m->payload, m->len, h, msg, sizeof(msg));
    if (err) {
        /* The record is not dropped: the partition stops and starts again from its fence. */
        rd_kafka_headers_destroy(h);
        return fault(p, err, "dead-letter topic: %s", msg);
    }
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_MAIN, "dead-lettered %s [%d] @%" PRId64 " (%s): %s",
            rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, reason, error);
    p->p_stats.ps_dead++;
    return BWM_OK;
}

/*
 * Step 1 for one record: framing, schema and slots, then staging in the
 * engine, which keeps m (*kept set). A record that cannot be decoded is
 * dead-lettered at once.
 */
static bwm_err_t stage_record(bwm_processor_t *p, part_t *pt, rd_kafka_message_t *m, int *kept)
{
    bwm_frame_t frame;
    decoder_slot_t *ds = NULL;
    bwm_value_t *slots; /* decoded straight into the engine's next row */
    char msg[512];
    size_t row;
    int64_t ts;
    int lent = 1; /* the strings decoded point into m, kept until the round is applied */
    bwm_err_t err;

    if (m->len > (size_t)p->p_jc->jc_max_record_bytes) {
        snprintf(msg, sizeof(msg),
                 "record of %zu bytes exceeds source.max.record.bytes (%" PRId64 ")", m->len,
                 p->p_jc->jc_max_record_bytes);
        return produce_dead(p, m, REASON_LIMIT, msg);
    }
    if (bwm_frame_parse(m->payload, m->len, p->p_job->j_raw, &frame, msg, sizeof(msg)) != BWM_OK) {
        return produce_dead(p, m, REASON_FRAMING, msg);
    }
    if (frame.f_framing == BWM_FRAMING_GLUE && frame.f_compression == BWM_GLUE_ZLIB) {
        err = bwm_inflate(frame.f_body, frame.f_body_len, (size_t)p->p_jc->jc_max_record_bytes,
                          &p->p_inflated, msg, sizeof(msg));
        if (err) {
            return produce_dead(p, m, err == BWM_ERR_LIMIT ? REASON_LIMIT : REASON_DECODE, msg);
        }
        frame.f_body = p->p_inflated.b_data;
        frame.f_body_len = p->p_inflated.b_len;
        lent = 0; /* into a buffer the next record reuses */
    }
    err = decoder_for(p, &frame, &ds, msg, sizeof(msg));
    if (err == BWM_ERR_NOT_FOUND) {
        return produce_dead(p, m, REASON_SCHEMA, msg);
    }
    if (err) {
        /* The registry could not be asked: the record may be good. Do not dead-letter it. */
        return fault(p, err, "schema registry: %s", msg);
    }
    if (!ds->ds_dec) {
        return produce_dead(p, m, REASON_SCHEMA, ds->ds_error);
    }
    slots = bwm_engine_next_slots(pt->pt_engine);
    if (!slots) {
        fail(p, "%s", "out of memory");
        return BWM_ERR_NOMEM;
    }
    err = bwm_decoder_decode(ds->ds_dec, frame.f_body, frame.f_body_len, slots, msg, sizeof(msg));
    if (err) {
        return produce_dead(p, m,
                            err == BWM_ERR_LIMIT    ? REASON_LIMIT
                            : err == BWM_ERR_SCHEMA ? REASON_SCHEMA
                                                    : REASON_DECODE,
                            msg);
    }
    ts = rd_kafka_message_timestamp(m, NULL);
    if (bwm_engine_stage(pt->pt_engine, m->offset, ts >= 0 ? ts : BWM_TIME_NONE, slots, lent,
                         &row) != BWM_OK) {
        fail(p, "%s", "out of memory");
        return BWM_ERR_NOMEM;
    }
    if (row != bwm_kept_count(&pt->pt_kept)) {
        fail(p, "%s", "internal error: the kept messages and the engine's rows disagree");
        return BWM_ERR_INVALID;
    }
    if (bwm_kept_add(&pt->pt_kept, m) != BWM_OK) {
        fail(p, "%s", "out of memory");
        return BWM_ERR_NOMEM;
    }
    *kept = 1;
    return BWM_OK;
}

typedef struct load_ctx {
    bwm_processor_t *lc_p;
    part_t *lc_pt;
} load_ctx_t;

static bwm_err_t on_loaded(size_t i, const void *val, size_t len, void *opaque)
{
    load_ctx_t *lc = opaque;
    char msg[512];

    if (bwm_engine_load(lc->lc_pt->pt_engine, i, val, len, msg, sizeof(msg)) != BWM_OK) {
        fail(lc->lc_p, "state store: %s", msg);
        return BWM_ERR_DECODE;
    }
    return BWM_OK;
}

/*
 * Where a started partition reads from: just after its fence, or from the
 * start of its range when that is further on.
 */
static int64_t part_offset(const part_t *pt)
{
    int64_t next = pt->pt_fence.f_offset >= 0 ? pt->pt_fence.f_offset + 1 : -1;

    if (pt->pt_ranged) {
        return next > pt->pt_first ? next : pt->pt_first;
    }
    return next >= 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
}

/*
 * Re-reads the fence and moves the partition's read position to just after
 * it; the partition's pending records and cached states are dropped.
 */
static bwm_err_t part_rewind(bwm_processor_t *p, int32_t id, part_t *pt)
{
    char msg[512];
    bwm_err_t err;

    err = part_start(p, id, pt, msg, sizeof(msg));
    if (!err) {
        err = bwm_source_seek(p->p_source, id, part_offset(pt), msg, sizeof(msg));
    }
    pt->pt_rewound = 1;
    if (err) {
        return fault(p, err, "cannot start again from the fence: %s", msg);
    }
    if (pt->pt_ranged) {
        pt->pt_done = part_offset(pt) >= pt->pt_end;
        bwm_source_pause(p->p_source, id, pt->pt_done);
    }
    return BWM_OK;
}

/*
 * Before anything of the batch is produced: whether the fence is still the
 * one this instance last read or wrote. If another instance moved it, this
 * one lost the partition (it was paused past its session timeout, say):
 * BWM_ERR_FENCED, nothing produced, the partition started again from the
 * new fence.
 */
static bwm_err_t still_owner(bwm_processor_t *p, int32_t id, part_t *pt)
{
    bwm_fence_t cur;
    char msg[512];
    bwm_err_t err;

    err = p->p_store_ops->so_fence_get(p->p_store, p->p_ns, id, &cur, msg, sizeof(msg));
    if (err) {
        return fault(p, err, "state store: %s", msg);
    }
    if (cur.f_offset == pt->pt_fence.f_offset &&
        (cur.f_offset < 0 || cur.f_watermark == pt->pt_fence.f_watermark)) {
        return BWM_OK;
    }
    BWM_LOG(BWM_LOG_WARN, BWM_FAC_STATE,
            "partition %d: another instance moved the fence to offset %" PRId64
            " (this one expected %" PRId64 "); its batch is dropped",
            (int)id, cur.f_offset, pt->pt_fence.f_offset);
    p->p_stats.ps_fenced++;
    pt->pt_in_batch = 0;
    err = part_rewind(p, id, pt);
    return err ? err : BWM_ERR_FENCED;
}

/* Produces what the engine made: results, tombstones and dead letters. */
static bwm_err_t produce_outputs(bwm_processor_t *p, part_t *pt)
{
    const bwm_output_t *outs;
    const bwm_dead_t *dead;
    const uint8_t *data = bwm_engine_output_data(pt->pt_engine);
    size_t n, i;
    char msg[512];
    bwm_err_t err;

    outs = bwm_engine_outputs(pt->pt_engine, &n);
    for (i = 0; i < n; i++) {
        const bwm_output_t *o = &outs[i];
        const void *key = data + o->o_key_off;
        size_t keylen = o->o_key_len;

        if (p->p_plan->p_stateless) {
            const rd_kafka_message_t *in = bwm_kept_get(&pt->pt_kept, o->o_row);

            key = in->key;
            keylen = in->key_len;
        }
        bwm_buf_reset(&p->p_enc);
        if (o->o_kind == BWM_OUT_RESULT) {
            bwm_frame_put_confluent(&p->p_enc, p->p_result_schema_id);
            bwm_buf_put(&p->p_enc, data + o->o_val_off, o->o_val_len);
        }
        if (p->p_enc.b_failed) {
            fail(p, "%s", "out of memory");
            return BWM_ERR_NOMEM;
        }
        err = bwm_sink_produce(p->p_sink, p->p_out, RD_KAFKA_PARTITION_UA, key, keylen,
                               o->o_kind == BWM_OUT_RESULT ? p->p_enc.b_data : NULL, p->p_enc.b_len,
                               NULL, msg, sizeof(msg));
        if (err) {
            return fault(p, err, "results: %s", msg);
        }
        p->p_stats.ps_results++;
    }
    dead = bwm_engine_dead(pt->pt_engine, &n);
    for (i = 0; i < n; i++) {
        err = produce_dead(p, bwm_kept_get(&pt->pt_kept, dead[i].d_row), dead[i].d_reason,
                           dead[i].d_error);
        if (err) {
            return err;
        }
    }
    return BWM_OK;
}

/*
 * Steps 2 and 3 for a partition's staged records: a round of the batch, or
 * its last. BWM_ERR_FENCED when another instance took the partition (it
 * starts again from the new fence).
 */
static bwm_err_t apply_round(bwm_processor_t *p, int32_t id, part_t *pt, int last)
{
    const bwm_keyref_t *missing = NULL;
    size_t nmissing = 0, nouts, ndead, staged, filtered, dead;
    char msg[512];
    load_ctx_t lc = {p, pt};
    bwm_err_t err;

    if (bwm_engine_missing(pt->pt_engine, &missing, &nmissing) != BWM_OK) {
        fail(p, "%s", "out of memory");
        return BWM_ERR_NOMEM;
    }
    if (nmissing > 0) {
        err = p->p_store_ops->so_get_many(p->p_store, p->p_ns, id, missing, nmissing, on_loaded,
                                          &lc, msg, sizeof(msg));
        if (err) {
            return fault(p, err, "state store: %s", msg);
        }
    }
    err = bwm_engine_apply(pt->pt_engine, last, msg, sizeof(msg));
    if (err) {
        fail(p, "engine: %s", msg);
        return err;
    }
    bwm_engine_outputs(pt->pt_engine, &nouts);
    bwm_engine_dead(pt->pt_engine, &ndead);
    if (last || nouts > 0 || ndead > 0) {
        /* The fence is read before anything is produced; a round that produces nothing skips it. */
        err = still_owner(p, id, pt);
        if (err) {
            return err;
        }
        err = produce_outputs(p, pt);
        if (err) {
            return err;
        }
    }
    bwm_engine_counts(pt->pt_engine, &staged, &filtered, &dead);
    p->p_stats.ps_applied += staged - filtered - dead;
    p->p_stats.ps_filtered += filtered;
    if (!last) {
        bwm_engine_next_round(pt->pt_engine);
        bwm_kept_reset(&pt->pt_kept);
    }
    return BWM_OK;
}

/* Steps 2 and 3 for the last round of a partition's batch. */
static bwm_err_t process_part(bwm_processor_t *p, int32_t id, part_t *pt)
{
    bwm_err_t err = apply_round(p, id, pt, 1);

    if (err) {
        return err == BWM_ERR_FENCED ? BWM_OK : err;
    }
    pt->pt_in_batch = 1;
    pt->pt_next_off = pt->pt_last;
    return BWM_OK;
}

/* Step 4: one compare-and-set of the partition's changed states and new fence. */
static bwm_err_t commit_part(bwm_processor_t *p, int32_t id, part_t *pt)
{
    const bwm_change_t *changes;
    bwm_fence_t next = {pt->pt_next_off, bwm_engine_watermark(pt->pt_engine)};
    size_t n;
    char msg[512];
    bwm_err_t err;

    if (bwm_engine_changes(pt->pt_engine, &changes, &n) != BWM_OK) {
        fail(p, "%s", "out of memory");
        return BWM_ERR_NOMEM;
    }
    err = p->p_store_ops->so_commit(p->p_store, p->p_ns, id, &pt->pt_fence, &next, changes, n, msg,
                                    sizeof(msg));
    if (err == BWM_ERR_FENCED) {
        /* Another instance owns the partition now: drop what we hold and start from its fence. */
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_STATE, "partition %d: %s; dropping its cache", (int)id, msg);
        p->p_stats.ps_fenced++;
        return part_rewind(p, id, pt);
    }
    if (err) {
        /*
         * The reply was lost, or Redis refused: the script may have run or
         * not. Starting again from the fence, re-read, is right either way.
         */
        return fault(p, err, "state commit: %s", msg);
    }
    pt->pt_fence = next;
    bwm_engine_committed(pt->pt_engine);
    bwm_source_commit(p->p_source, id, next.f_offset + 1);
    p->p_stats.ps_batches++;
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_STATE, "partition %d committed: %zu keys, fence %" PRId64,
            (int)id, n, next.f_offset);
    return BWM_OK;
}

/*
 * Shares the cache budget (state.cache.max.entries and .bytes) equally among
 * the partitions' engines and drops the clean states beyond each share.
 */
static void evict(bwm_processor_t *p)
{
    size_t engines = 0, entries, bytes;
    int32_t id;

    for (id = 0; id < p->p_nparts; id++) {
        engines += p->p_parts[id].pt_engine != NULL;
    }
    if (engines == 0) {
        return;
    }
    entries = (size_t)p->p_jc->jc_cache_entries;
    bytes = (size_t)p->p_jc->jc_cache_bytes;
    entries = entries ? (entries + engines - 1) / engines : 0;
    bytes = bytes ? (bytes + engines - 1) / engines : 0;
    for (id = 0; id < p->p_nparts; id++) {
        bwm_engine_t *e = p->p_parts[id].pt_engine;

        if (e) {
            bwm_engine_set_budget(e, entries, bytes);
            p->p_stats.ps_evicted += bwm_engine_evict(e);
        }
    }
}

/* Runs one batch over every partition with pending records. */
static bwm_err_t process_batch(bwm_processor_t *p)
{
    int32_t id;
    char msg[512];
    bwm_err_t err;

    if (p->p_failed) {
        return BWM_ERR_TRANSPORT;
    }
    for (id = 0; id < p->p_nparts; id++) {
        part_t *pt = &p->p_parts[id];

        pt->pt_in_batch = 0;
        if (pt->pt_n == 0 || !pt->pt_assigned) {
            continue;
        }
        err = process_part(p, id, pt);
        if (err) {
            return err;
        }
    }
    err = bwm_sink_flush(p->p_sink, p->p_flush_timeout_ms, msg, sizeof(msg));
    if (err) {
        /* Nothing of this batch is committed: it is processed again from the fences. */
        return fault(p, err, "Kafka did not acknowledge the batch: %s", msg);
    }
    for (id = 0; id < p->p_nparts; id++) {
        part_t *pt = &p->p_parts[id];

        part_drop_pending(p, pt);
        if (pt->pt_in_batch) {
            pt->pt_in_batch = 0;
            err = commit_part(p, id, pt);
            if (err) {
                return err;
            }
        }
    }
    evict(p);
    p->p_batch_start_ms = 0;
    bwm_retry_ok(&p->p_retry);
    return BWM_OK;
}

typedef struct start_ctx {
    bwm_processor_t *sc_p;
    int32_t sc_id;
    part_t *sc_pt;
} start_ctx_t;

static bwm_err_t try_start(void *opaque, char *errstr, size_t errstr_size)
{
    start_ctx_t *sc = opaque;

    return part_start(sc->sc_p, sc->sc_id, sc->sc_pt, errstr, errstr_size);
}

/*
 * A replay's partition, its fence just read: where in its range it starts.
 * What the fence covers of the range is skipped. In a namespace whose fence
 * is short of the range, the replay starts right after the fence, so that
 * the fence never passes a record that was not applied.
 */
static void replay_start(bwm_processor_t *p, int32_t id, part_t *pt)
{
    const bwm_processor_replay_t *rp = p->p_replay;
    int64_t fence = pt->pt_fence.f_offset;
    size_t i;

    for (i = 0; i < rp->rp_nranges && rp->rp_ranges[i].rg_partition != id; i++) {
    }
    pt->pt_ranged = 1;
    pt->pt_first = i < rp->rp_nranges ? rp->rp_ranges[i].rg_start : 0;
    pt->pt_end = i < rp->rp_nranges ? rp->rp_ranges[i].rg_end : 0;
    if (fence >= pt->pt_first) {
        int64_t covered = (fence < pt->pt_end ? fence + 1 : pt->pt_end) - pt->pt_first;

        p->p_stats.ps_skipped += covered > 0 ? (uint64_t)covered : 0;
    } else if (fence >= 0 && fence + 1 < pt->pt_first) {
        BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_MAIN,
                "partition %d: the fence of namespace %s is at offset %" PRId64
                ", before the range: reading from offset %" PRId64 " so that none is missed",
                (int)id, p->p_ns, fence, fence + 1);
        pt->pt_first = fence + 1;
    }
    pt->pt_done = part_offset(pt) >= pt->pt_end;
}

static bwm_err_t on_assigned(void *opaque, int32_t id, int64_t *offset, char *errstr,
                             size_t errstr_size)
{
    bwm_processor_t *p = opaque;
    part_t *pt = part_get(p, id);
    start_ctx_t sc = {p, id, pt};
    char what[64];
    bwm_err_t err;

    if (!pt) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }

    snprintf(what, sizeof(what), "reading the fence of partition %d", (int)id);
    err = bwm_retry_until(&p->p_retry, what, try_start, &sc, errstr, errstr_size);
    if (err) {
        return err;
    }
    pt->pt_assigned = 1;
    if (p->p_replay) {
        replay_start(p, id, pt);
    }
    *offset = part_offset(pt);
    return BWM_OK;
}

static void on_revoked(void *opaque, int32_t id, int lost)
{
    bwm_processor_t *p = opaque;
    part_t *pt = part_get(p, id);

    /*
     * Finish what was read before letting the partition go: results acked,
     * state committed. Not when it is lost: its new owner may be writing.
     */
    if (p->p_pending > 0 && !lost) {
        process_batch(p);
    }
    if (pt) {
        part_reset(p, pt);
        pt->pt_assigned = 0;
    }
}

static const bwm_source_handler_t handler = {on_assigned, on_revoked};

/* Creates the result and dead-letter topics with the input's partition count. */
static bwm_err_t ensure_topics(bwm_processor_t *p, char *errstr, size_t errstr_size)
{
    rd_kafka_t *rk = bwm_sink_handle(p->p_sink);
    int timeout = (int)p->p_jc->jc_timeout_ms, nparts = 0;
    bwm_err_t err;

    err = bwm_admin_partitions(rk, p->p_plan->p_input_topic, timeout, &nparts, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (!p->p_jc->jc_topics_create) {
        return BWM_OK;
    }
    err = bwm_admin_create_topic(rk, p->p_out, nparts, (int)p->p_jc->jc_topics_replication, timeout,
                                 errstr, errstr_size);
    if (!err) {
        err = bwm_admin_create_topic(rk, p->p_dlq, nparts, (int)p->p_jc->jc_topics_replication,
                                     timeout, errstr, errstr_size);
    }
    return err;
}

/* The steps of starting that wait for Redis, Kafka and the registry to be reachable. */
typedef struct setup {
    bwm_processor_t *su_p;
    const bwm_conf_t *su_conf;
    const char *su_subject;
} setup_t;

static bwm_err_t try_open_store(void *opaque, char *errstr, size_t errstr_size)
{
    setup_t *su = opaque;

    return su->su_p->p_store_ops->so_open(su->su_conf, &su->su_p->p_store, errstr, errstr_size);
}

static bwm_err_t try_topics(void *opaque, char *errstr, size_t errstr_size)
{
    return ensure_topics(((setup_t *)opaque)->su_p, errstr, errstr_size);
}

static bwm_err_t try_register(void *opaque, char *errstr, size_t errstr_size)
{
    setup_t *su = opaque;
    bwm_processor_t *p = su->su_p;

    return bwm_registry_register(p->p_registry, su->su_subject, p->p_plan->p_output_schema,
                                 &p->p_result_schema_id, errstr, errstr_size);
}

/* Joins the job's consumer group, or for a replay assigns its ranges' partitions. */
static bwm_err_t open_source(bwm_processor_t *p, const bwm_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
    const bwm_processor_replay_t *rp = p->p_replay;
    char group[512];
    const char *gid;
    int32_t *ids;
    size_t i;
    bwm_err_t err;

    if (!rp) {
        snprintf(group, sizeof(group), "bwm-%s", p->p_jc->jc_namespace);
        gid = bwm_kconf_get(conf, "group.id", group);
        BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN,
                "job %s: %s -> %s, state namespace %s, consumer group %s, dead letters to %s",
                p->p_plan->p_name, p->p_plan->p_input_topic, p->p_out, p->p_ns, gid, p->p_dlq);
        return bwm_source_new(conf, p->p_plan->p_input_topic, gid, (int)p->p_jc->jc_fetch_wake_ms,
                              &handler, p, &p->p_source, errstr, errstr_size);
    }
    ids = calloc(rp->rp_nranges + 1, sizeof(*ids));
    if (!ids) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < rp->rp_nranges; i++) {
        ids[i] = rp->rp_ranges[i].rg_partition;
    }
    BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN,
            "replay of job %s: %s -> %s, state namespace %s, dead letters to %s, %zu partitions",
            p->p_plan->p_name, p->p_plan->p_input_topic, p->p_out, p->p_ns, p->p_dlq,
            rp->rp_nranges);
    err = bwm_source_new_assigned(conf, p->p_plan->p_input_topic, ids, rp->rp_nranges,
                                  (int)p->p_jc->jc_fetch_wake_ms, &handler, p, &p->p_source, errstr,
                                  errstr_size);
    free(ids);
    for (i = 0; !err && i < rp->rp_nranges; i++) {
        part_t *pt = part_get(p, rp->rp_ranges[i].rg_partition);

        if (pt && pt->pt_done) {
            bwm_source_pause(p->p_source, rp->rp_ranges[i].rg_partition, 1);
        }
    }
    return err;
}

bwm_err_t bwm_processor_new(const bwm_conf_t *conf, const bwm_job_t *job, bwm_processor_t **out,
                            char *errstr, size_t errstr_size)
{
    return bwm_processor_new_replay(conf, job, NULL, out, errstr, errstr_size);
}

bwm_err_t bwm_processor_new_replay(const bwm_conf_t *conf, const bwm_job_t *job,
                                   const bwm_processor_replay_t *rp, bwm_processor_t **out,
                                   char *errstr, size_t errstr_size)
{
    bwm_processor_t *p = calloc(1, sizeof(*p));
    char subject[512];
    setup_t su = {p, conf, subject};
    bwm_err_t err;

    if (!p) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    p->p_job = job;
    p->p_jc = &job->j_conf;
    p->p_plan = job->j_plan;
    p->p_replay = rp;
    p->p_ns = rp ? rp->rp_namespace : p->p_jc->jc_namespace;
    p->p_out = rp ? rp->rp_output_topic : p->p_plan->p_output_topic;
    p->p_dlq = rp ? rp->rp_dlq_topic : p->p_jc->jc_dlq_topic;
    p->p_limits.el_max_key_bytes = (size_t)p->p_jc->jc_max_key_bytes;
    p->p_limits.el_eval_bytes = (size_t)p->p_jc->jc_eval_bytes;
    p->p_limits.el_retention_ms = p->p_jc->jc_retention_ms;
    p->p_avro_limits.al_max_bytes = (size_t)p->p_jc->jc_max_string_bytes;
    p->p_avro_limits.al_max_items = (size_t)p->p_jc->jc_max_items;
    p->p_avro_limits.al_max_depth = (size_t)p->p_jc->jc_max_depth;
    p->p_flush_timeout_ms = (int)p->p_jc->jc_timeout_ms;
    bwm_retry_init(&p->p_retry, p->p_jc->jc_retry_backoff_ms, p->p_jc->jc_retry_backoff_max_ms,
                   p->p_jc->jc_retry_max_ms);
    p->p_store_ops = bwm_store_find("redis");
    err = bwm_retry_until(&p->p_retry, "connecting to Redis", try_open_store, &su, errstr,
                          errstr_size);
    if (!err) {
        err = bwm_registry_new(conf, &p->p_registry, errstr, errstr_size);
    }
    if (!err) {
        err = bwm_sink_new(conf, (int)p->p_jc->jc_timeout_ms, &p->p_sink, errstr, errstr_size);
    }
    if (!err) {
        err = bwm_retry_until(&p->p_retry, "asking Kafka for the topics", try_topics, &su, errstr,
                              errstr_size);
    }
    if (err) {
        goto err;
    }
    snprintf(subject, sizeof(subject), "%s.%s", p->p_plan->p_namespace, p->p_plan->p_name);
    bwm_registry_subject(p->p_registry, p->p_out, subject, subject, sizeof(subject));
    err = bwm_retry_until(&p->p_retry, "registering the result schema", try_register, &su, errstr,
                          errstr_size);
    if (err) {
        goto err;
    }
    BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN, "results go to %s as schema id %d (subject %s)", p->p_out,
            (int)p->p_result_schema_id, subject);
    err = open_source(p, conf, errstr, errstr_size);
    if (err) {
        goto err;
    }
    *out = p;
    return BWM_OK;
err:
    bwm_processor_destroy(p);
    return err;
}

static void log_progress(bwm_processor_t *p, long long now)
{
    const bwm_processor_stats_t *s = &p->p_stats;

    if (now - p->p_progress_ms < PROGRESS_INTERVAL_MS) {
        return;
    }
    p->p_progress_ms = now;
    BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN,
            "read %" PRIu64 ", applied %" PRIu64 ", dead-lettered %" PRIu64 ", results %" PRIu64
            ", batches %" PRIu64,
            s->ps_read, s->ps_applied, s->ps_dead, s->ps_results, s->ps_batches);
}

/* Hands a replay's counters to its progress callback, every rp_progress_ms. */
static void report_progress(bwm_processor_t *p, long long now)
{
    const bwm_processor_replay_t *rp = p->p_replay;
    bwm_processor_stats_t st;

    if (!rp || !rp->rp_progress || now - p->p_report_ms < rp->rp_progress_ms) {
        return;
    }
    p->p_report_ms = now;
    bwm_processor_get_stats(p, &st);
    rp->rp_progress(rp->rp_opaque, &st);
}

/* Whether every assigned partition has been read to its end (or its range's end). */
static int parts_at_end(const bwm_processor_t *p)
{
    int32_t id;
    int assigned = 0;

    for (id = 0; id < p->p_nparts; id++) {
        const part_t *pt = &p->p_parts[id];

        if (pt->pt_assigned) {
            assigned++;
            if (pt->pt_ranged ? !pt->pt_done : !pt->pt_eof) {
                return 0;
            }
        }
    }
    return assigned > 0;
}

/* Whether every assigned partition has been read to its end and nothing is pending. */
static int at_end(const bwm_processor_t *p)
{
    return p->p_pending == 0 && parts_at_end(p);
}

/* Whether every partition of a replay is read to its range's end. */
static int ranges_read(const bwm_processor_t *p)
{
    int32_t id;

    if (!p->p_replay) {
        return 0;
    }
    for (id = 0; id < p->p_nparts; id++) {
        if (p->p_parts[id].pt_ranged && !p->p_parts[id].pt_done) {
            return 0;
        }
    }
    return 1;
}

/* A replay's partition is read to its range's end: stop fetching it. */
static void range_done(bwm_processor_t *p, part_t *pt)
{
    pt->pt_done = 1;
    bwm_source_pause(p->p_source, (int32_t)(pt - p->p_parts), 1);
}

/*
 * Takes one consumed message (or event) into the open batch: staged in its
 * partition's engine, or dead-lettered; skipped when the fence covers it.
 * Returns 1 when the partition keeps the message; the caller releases it
 * otherwise.
 */
static int take(bwm_processor_t *p, rd_kafka_message_t *m)
{
    part_t *pt = part_get(p, m->partition);
    int kept = 0;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (pt) {
            pt->pt_eof = 1;
            if (pt->pt_ranged && m->offset >= pt->pt_end) {
                range_done(p, pt);
            }
        }
        return 0;
    }
    if (m->err) {
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_KAFKA, "consumer: %s", rd_kafka_message_errstr(m));
        return 0;
    }
    if (!pt || !pt->pt_assigned || !pt->pt_engine || pt->pt_rewound ||
        (pt->pt_ranged && (pt->pt_done || m->offset >= pt->pt_end))) {
        /*
         * not ours, dropped by a fault or a rewind (read again from the
         * fence), or beyond the range
         */
        if (pt && pt->pt_ranged && !pt->pt_done && m->offset >= pt->pt_end) {
            range_done(p, pt);
        }
        return 0;
    }
    pt->pt_eof = 0;
    p->p_stats.ps_read++;
    if (pt->pt_ranged && m->offset == pt->pt_end - 1) {
        range_done(p, pt);
    }
    if (m->offset <= pt->pt_fence.f_offset) {
        p->p_stats.ps_skipped++;
    } else if (stage_record(p, pt, m, &kept) == BWM_OK) {
        pt->pt_n++;
        pt->pt_bytes += m->len;
        pt->pt_last = m->offset;
        p->p_pending++;
        p->p_pending_bytes += m->len;
        if (p->p_batch_start_ms == 0) {
            p->p_batch_start_ms = bwm_cli_now_ms();
        }
        if (bwm_kept_count(&pt->pt_kept) >= (size_t)p->p_jc->jc_round_records) {
            apply_round(p, (int32_t)(pt - p->p_parts), pt, 0); /* releases m */
        }
    }
    return kept;
}

/*
 * After a fault: pauses, then starts every assigned partition again from its
 * fence, until that works or retry.max.ms has passed since the fault.
 */
static void recover(bwm_processor_t *p)
{
    int32_t id;
    bwm_err_t err = BWM_OK;

    while (p->p_recover && !p->p_failed) {
        long long pause = bwm_retry_failed(&p->p_retry, bwm_cli_now_ms());

        if (pause < 0) {
            char last[sizeof(p->p_error)];

            snprintf(last, sizeof(last), "%s", p->p_error);
            fail(p, "%s; giving up after retry.max.ms", last);
            return;
        }
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_MAIN, "starting again from the fences in %lld ms", pause);
        if (bwm_retry_sleep(pause)) {
            return; /* stopping: nothing is pending, the fences are where they were */
        }
        p->p_recover = 0;
        for (id = 0; id < p->p_nparts && !p->p_recover && !p->p_failed; id++) {
            if (p->p_parts[id].pt_assigned) {
                err = part_rewind(p, id, &p->p_parts[id]);
            }
        }
    }
    if (!err && !p->p_failed) {
        BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_MAIN, "every partition started again from its fence");
    }
}

/* Whether the batch has commit.max.records or commit.max.bytes of input. */
static int batch_full(const bwm_processor_t *p)
{
    return p->p_pending >= (size_t)p->p_jc->jc_commit_max_records ||
           p->p_pending_bytes >= (size_t)p->p_jc->jc_commit_max_bytes;
}

bwm_err_t bwm_processor_run(bwm_processor_t *p, int exit_at_end, char *errstr, size_t errstr_size)
{
    char msg[512];

    p->p_progress_ms = bwm_cli_now_ms();
    while (!bwm_cli_stop && !p->p_failed) {
        rd_kafka_message_t *msgs[TAKE_MAX];
        size_t n, i;
        long long now;
        int due;

        if (p->p_recover) {
            recover(p);
            continue;
        }
        for (i = 0; i < (size_t)p->p_nparts; i++) {
            p->p_parts[i].pt_rewound = 0; /* polled from here on: after the seek */
        }
        n = bwm_source_poll(p->p_source, 100, msgs, TAKE_MAX);
        now = bwm_cli_now_ms();
        for (i = 0; i < n; i++) {
            if (i + PREFETCH_MSGS < n && msgs[i + PREFETCH_MSGS]->payload) {
                /* decoding waits on the payload, written by librdkafka's thread */
                const char *ahead = msgs[i + PREFETCH_MSGS]->payload;

                __builtin_prefetch(ahead);
                if (msgs[i + PREFETCH_MSGS]->len > 64) {
                    __builtin_prefetch(ahead + 64);
                }
            }
            if (p->p_recover || p->p_failed) {
                continue;
            }
            if (take(p, msgs[i])) {
                msgs[i] = NULL;
            }
            if (batch_full(p)) {
                process_batch(p);
            }
        }
        for (i = 0; i < n; i++) {
            if (msgs[i]) {
                rd_kafka_message_destroy(msgs[i]);
            }
        }
        if (bwm_source_failed(p->p_source, msg, sizeof(msg))) {
            fail(p, "%s", msg);
            break;
        }
        due = p->p_pending > 0 && now - p->p_batch_start_ms >= p->p_jc->jc_commit_interval_ms;
        /*
         * A run that exits at the end, or a replay, ends its last batch early once its
         * partitions are read; not on a poll that found nothing, which a slow fetch gives too.
         */
        if (due || (p->p_pending > 0 && ((exit_at_end && parts_at_end(p)) || ranges_read(p)))) {
            process_batch(p);
        }
        log_progress(p, now);
        report_progress(p, now);
        if (exit_at_end && at_end(p)) {
            BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN, "every assigned partition is read to its end");
            break;
        }
    }
    if (!p->p_failed && p->p_pending > 0) {
        p->p_flush_timeout_ms = (int)p->p_jc->jc_shutdown_timeout_ms;
        process_batch(p);
    }
    if (p->p_failed) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "%s", p->p_error);
    }
    return BWM_OK;
}

void bwm_processor_get_stats(const bwm_processor_t *p, bwm_processor_stats_t *out)
{
    *out = p->p_stats;
    out->ps_retries = p->p_retry.rt_failures;
}

void bwm_processor_destroy(bwm_processor_t *p)
{
    int32_t id;
    size_t i;

    if (!p) {
        return;
    }
    /* Leaving the group revokes the partitions, which finishes the pending batch. */
    bwm_source_destroy(p->p_source);
    for (id = 0; id < p->p_nparts; id++) {
        part_reset(p, &p->p_parts[id]);
        bwm_kept_free(&p->p_parts[id].pt_kept);
    }
    free(p->p_parts);
    bwm_sink_destroy(p->p_sink, (int)p->p_jc->jc_shutdown_timeout_ms);
    for (i = 0; i < p->p_ndecoders; i++) {
        bwm_decoder_destroy(p->p_decoders[i].ds_dec);
    }
    free(p->p_decoders);
    bwm_registry_destroy(p->p_registry);
    if (p->p_store) {
        p->p_store_ops->so_close(p->p_store);
    }
    bwm_buf_free(&p->p_inflated);
    bwm_buf_free(&p->p_enc);
    free(p);
}
