/*
 * engine.h: executes a plan over one input partition, a batch at a time,
 * with time as an argument (the partition's watermark) and no I/O. The
 * runtime drives it through the steps of the contract (DESIGN.md):
 *
 *   1. bwm_engine_stage() each decoded record, in offset order: WHERE, key
 *      and event time are evaluated, values copied into the batch;
 *   2. bwm_engine_missing() lists the keys whose state must be read from the
 *      store (keys of this batch not in memory, and stored keys whose windows
 *      close in this batch); the runtime reads them in one round trip and
 *      hands each to bwm_engine_load();
 *   3. bwm_engine_apply() applies the batch: windows, late records,
 *      aggregates, closing windows as the watermark passes them; it leaves
 *      the results to produce (encoded) and the records to dead-letter.
 *      A long batch may go in rounds, so that only a round's records are
 *      held: once a round's outputs are produced, bwm_engine_next_round()
 *      forgets them and its staged records, and steps 1 to 3 go on. Only
 *      the batch's last round emits its changes (EMIT CHANGES: one result
 *      per changed window and batch, whatever the rounds);
 *   4. after Kafka acknowledged them, bwm_engine_changes() lists the entries
 *      to write (or delete) and the close index updates for the store
 *      commit, and bwm_engine_committed() starts the next batch;
 *   5. bwm_engine_evict() then drops clean entries until the cache budgets
 *      hold; they are read again from the store when a batch needs them.
 * After any failure the runtime destroys the engine and starts again from
 * the fence.
 */
#ifndef BWM_ENGINE_H
#define BWM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "plan.h"
#include "value.h"

/* A key to read from the store. */
typedef struct bwm_keyref {
    const char *kr_key;
    size_t kr_len;
} bwm_keyref_t;

typedef enum bwm_out_kind {
    BWM_OUT_RESULT,    /* a result record */
    BWM_OUT_TOMBSTONE, /* a null value: the (key, window) no longer has a result */
} bwm_out_kind_t;

/* One record to produce. Bytes are in bwm_engine_output_data(). */
typedef struct bwm_output {
    bwm_out_kind_t o_kind;
    size_t o_key_off; /* Kafka key: key text, "@<window start>" when windowed */
    size_t o_key_len;
    size_t o_val_off; /* Avro body without framing; none for a tombstone */
    size_t o_val_len;
    size_t o_row; /* stateless plans: the staged row, whose Kafka key the result keeps */
} bwm_output_t;

/* A staged record to send to the dead-letter topic. */
typedef struct bwm_dead {
    size_t d_row;
    const char *d_reason; /* "eval", "late", "limit" */
    char d_error[256];
} bwm_dead_t;

/*
 * A store write of the commit: a key's state (set, or deleted), or with
 * ch_retain a closed window's final state, kept for ch_ttl_ms under its own
 * key "<key text>@<window start>" and never read back by the engine.
 */
typedef struct bwm_change {
    const char *ch_key;
    size_t ch_keylen;
    const void *ch_val; /* NULL: delete the key */
    size_t ch_vallen;
    int ch_index;      /* +1: add to the close index with ch_close; -1: remove; 0: no index */
    int64_t ch_close;  /* earliest close time of the entry's windows */
    int ch_retain;     /* a closed window kept for state.retention.ms (ch_index is 0) */
    int64_t ch_ttl_ms; /* with ch_retain: how long the store keeps it */
} bwm_change_t;

typedef struct bwm_engine_limits {
    size_t el_max_key_bytes; /* longer group keys are dead-lettered (reason limit) */
    size_t el_eval_bytes;    /* memory for strings made while evaluating one batch */
    size_t el_cache_entries; /* most entries bwm_engine_evict() leaves; 0: no limit */
    size_t el_cache_bytes;   /* most bytes (bwm_engine_bytes()) it leaves; 0: no limit */
    int64_t el_retention_ms; /* > 0: each closed window is also written, kept this long */
} bwm_engine_limits_t;

typedef struct bwm_engine bwm_engine_t;

/*
 * An engine for plan (which must outlive it) on a partition whose stored
 * watermark is watermark (BWM_TIME_NONE when none). Caller frees with
 * bwm_engine_destroy().
 */
bwm_engine_t *bwm_engine_new(const bwm_plan_t *plan, int64_t watermark,
                             const bwm_engine_limits_t *limits, char *errstr, size_t errstr_size);
void bwm_engine_destroy(bwm_engine_t *e);

/* "No time": a watermark before any event, or a record without a timestamp. */
#define BWM_TIME_NONE INT64_MIN

/*
 * Queues a stored key whose windows close at close_ms (from the store's close
 * index), so its state is read when the watermark reaches that time.
 */
bwm_err_t bwm_engine_expect(bwm_engine_t *e, const char *key, size_t keylen, int64_t close_ms);

/*
 * Where the next record's plan->p_nslots slot values may be decoded, so that
 * staging them copies nothing; valid until the next call into the engine
 * other than bwm_engine_stage(). NULL when out of memory.
 */
bwm_value_t *bwm_engine_next_slots(bwm_engine_t *e);

/*
 * Stages one decoded record. slots holds plan->p_nslots values, copied
 * unless slots is what bwm_engine_next_slots() gave. Their strings are
 * copied too, unless lent is set: the caller then keeps what they point into
 * (the record's message) until this round is applied. *row gets its row
 * number in this batch. A record that fails here (null key, evaluation
 * error) is listed among the dead after apply; only a lack of memory is an
 * error.
 */
bwm_err_t bwm_engine_stage(bwm_engine_t *e, int64_t offset, int64_t kafka_ts,
                           const bwm_value_t *slots, int lent, size_t *row);

/* Lists the keys to read from the store before apply; valid until apply. */
bwm_err_t bwm_engine_missing(bwm_engine_t *e, const bwm_keyref_t **keys, size_t *n);

/* Hands the stored value of missing key i (NULL when the store has none). */
bwm_err_t bwm_engine_load(bwm_engine_t *e, size_t i, const void *val, size_t len, char *errstr,
                          size_t errstr_size);

/*
 * Applies the staged records: the whole batch, or a round of it. last is
 * non-zero for the batch's last round (or the batch in one round), which
 * also emits the batch's changes. Errors are fatal (memory, result encoding).
 */
bwm_err_t bwm_engine_apply(bwm_engine_t *e, int last, char *errstr, size_t errstr_size);

/*
 * After a round that was not the last and whose outputs and dead letters
 * were taken: forgets them and the staged records (row numbers start again
 * at 0), and keeps the batch open.
 */
void bwm_engine_next_round(bwm_engine_t *e);

/* What apply produced; valid until bwm_engine_next_round() or bwm_engine_committed(). */
const bwm_output_t *bwm_engine_outputs(const bwm_engine_t *e, size_t *n);
const uint8_t *bwm_engine_output_data(const bwm_engine_t *e);
const bwm_dead_t *bwm_engine_dead(const bwm_engine_t *e, size_t *n);

/*
 * The store writes of this batch; valid until bwm_engine_committed(). First
 * one per touched entry, then, when el_retention_ms > 0, one per window
 * closed by the batch (ch_retain set, ch_ttl_ms = el_retention_ms, no index):
 * key "<key text>@<window start>", value the encoding of an entry holding
 * only that window (bwm_table_restore() reads it).
 */
bwm_err_t bwm_engine_changes(bwm_engine_t *e, const bwm_change_t **out, size_t *n);

/* Rows of this batch or round: staged, dropped by WHERE, and dead (after apply). */
void bwm_engine_counts(const bwm_engine_t *e, size_t *staged, size_t *filtered, size_t *dead);

/* The partition's watermark after the batch. */
int64_t bwm_engine_watermark(const bwm_engine_t *e);

/* The batch is committed: clear it and keep the states. */
void bwm_engine_committed(bwm_engine_t *e);

/* Number of keys (entries) held in memory. */
size_t bwm_engine_keys(const bwm_engine_t *e);

/*
 * Bytes the entries held in memory account for: keys, entry and window
 * structs with their aggregate states, and the heap memory of the states
 * (see bwm_table_bytes()). Exact once bwm_engine_changes() has encoded the
 * batch's writes, and between batches; before, the states the batch changed
 * count as they were. O(1).
 */
size_t bwm_engine_bytes(const bwm_engine_t *e);

/*
 * Drops clean entries, least recently used first but entries without
 * windows before all others, until both cache budgets hold; returns how many
 * it dropped. An entry that is dirty or used by the current batch (staged
 * for, loaded or touched) is never dropped: called right after
 * bwm_engine_committed(), it can drop any. A dropped entry with open windows
 * stays scheduled: its key is read from the store again when they are due
 * to close, as after a restart. What the engine produces does not depend on
 * what it dropped. Lack of memory stops it early, changing nothing else.
 */
size_t bwm_engine_evict(bwm_engine_t *e);

/*
 * For inspection (`bwm state`), on an engine used for nothing else: decodes
 * val, a key's state as stored, and lists one output per window as
 * bwm_engine_outputs() then gives them (the result the window has now, its
 * version the window's; a tombstone when HAVING hides it). Clear them with
 * bwm_engine_committed(). BWM_ERR_DECODE when val does not match the plan.
 */
bwm_err_t bwm_engine_inspect(bwm_engine_t *e, const char *key, size_t keylen, const void *val,
                             size_t len, char *errstr, size_t errstr_size);

/*
 * Replaces the cache budgets (el_cache_entries, el_cache_bytes; 0: no
 * limit), for a runtime that shares one budget among its partitions' engines
 * as partitions come and go. Takes effect at the next bwm_engine_evict().
 */
void bwm_engine_set_budget(bwm_engine_t *e, size_t entries, size_t bytes);

#endif
