/*
 * table.h: the states of one input partition, one entry per (key, window),
 * held in memory in front of the state store. The runtime loads entries
 * (from their encoding, or fresh), applies records in offset order, reads
 * the touched entries to emit results, and clears the marks once the batch
 * is committed.
 */
#ifndef BWM_TABLE_H
#define BWM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "plan.h"
#include "value.h"

/* Version byte of the state encoding written by bwm_table_encode(). */
#define BWM_STATE_FORMAT 1

typedef struct bwm_entry {
    uint64_t e_hash;
    int64_t e_version; /* source offset of the last record applied; -1 for none */
    char *e_key;       /* key text, NUL-terminated, stored with the entry */
    uint32_t e_keylen;
    uint8_t e_dirty;   /* changed since the last state commit */
    uint8_t e_touched; /* listed among this batch's touched entries */
    /* Aggregate states follow at plan offsets, 8-byte aligned. */
    uint64_t e_state[];
} bwm_entry_t;

typedef struct bwm_table bwm_table_t;

/* Returns an empty table for plan (which must outlive it). Free with bwm_table_destroy(). */
bwm_table_t *bwm_table_new(const bwm_plan_t *plan);
void bwm_table_destroy(bwm_table_t *t);

/* Number of entries held. */
size_t bwm_table_size(const bwm_table_t *t);

/*
 * Formats the group key value v as the key text ("WBA123", "42", "true").
 * BWM_ERR_TYPE for null, BWM_ERR_LIMIT when longer than cap-1 bytes.
 */
bwm_err_t bwm_table_key(const bwm_value_t *v, char *buf, size_t cap, size_t *len);

/* Returns the entry for key, or NULL when the table does not hold it. */
bwm_entry_t *bwm_table_get(bwm_table_t *t, const char *key, size_t keylen);

/*
 * Adds a fresh entry for key (no records applied, version -1), which must not
 * be present. The entry stays valid until the table is destroyed.
 */
bwm_err_t bwm_table_put(bwm_table_t *t, const char *key, size_t keylen, bwm_entry_t **out,
                        char *errstr, size_t errstr_size);

/*
 * Replaces e's state with a bwm_table_encode() encoding, as loaded from the
 * state store. BWM_ERR_DECODE (e unchanged) when enc does not match the
 * plan's aggregates.
 */
bwm_err_t bwm_table_restore(bwm_table_t *t, bwm_entry_t *e, const void *enc, size_t enclen,
                            char *errstr, size_t errstr_size);

/*
 * Applies one record's slots to e as source offset `offset`: every aggregate
 * or none (an aggregate error leaves e unchanged and returns it). Marks e
 * dirty and touched and sets its version to offset.
 */
bwm_err_t bwm_table_apply(bwm_table_t *t, bwm_entry_t *e, const bwm_value_t *slots, int64_t offset,
                          char *errstr, size_t errstr_size);

/* The entries touched since bwm_table_clear_touched(), in first-touch order. */
bwm_entry_t *const *bwm_table_touched(const bwm_table_t *t, size_t *n);

/* Clears the touched and dirty marks: call after the batch is committed. */
void bwm_table_clear_touched(bwm_table_t *t);

/* Writes e's result values, one per aggregate, into out[0 .. naggs-1]. */
void bwm_table_result(const bwm_table_t *t, const bwm_entry_t *e, bwm_value_t *out);

/* Appends e's state encoding (format byte, version, aggregate states) to b. */
void bwm_table_encode(const bwm_table_t *t, const bwm_entry_t *e, bwm_buf_t *b);

#endif
