/*
 * table.h: the states of one input partition, held in memory in front of the
 * state store. One entry per group key; an entry holds the key's open windows
 * (one window with start 0 when the query has no WINDOW), each with its
 * aggregate states and version. An entry is also the unit of storage: its
 * encoding is one value in the store.
 *
 * The table is a cache: it keeps the bytes its entries hold (see
 * bwm_table_bytes()) and the order in which batches used them, so that the
 * engine can drop the least recently used clean entries and read them again
 * from the store when needed.
 */
#ifndef BWM_TABLE_H
#define BWM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "plan.h"
#include "value.h"

/* Version byte of the entry encoding written by bwm_table_encode(). */
#define BWM_STATE_FORMAT 2

typedef struct bwm_win {
    int64_t w_start;    /* window start; a session's first event time; 0 without WINDOW */
    int64_t w_last;     /* a session's last event time (fixed windows: unused, = w_start) */
    int64_t w_version;  /* source offset of the last record applied; -1 for none */
    uint8_t w_touched;  /* changed in this batch */
    uint32_t w_heap;    /* heap bytes of its states as last accounted (saturated) */
    uint64_t w_state[]; /* aggregate states at plan offsets */
} bwm_win_t;

/*
 * An entry's fields come in two parts. The first 64 bytes hold what closing
 * windows, recency and new windows use. The rest, from e_key on, holds what
 * finding a key and applying a record read, and the key text follows it:
 * a lookup and a record's update then touch one cache line for a key of up
 * to 31 bytes, not three (such an entry is a 128-byte allocation, which
 * jemalloc aligns to 128 bytes).
 */
typedef struct bwm_entry {
    uint64_t e_hash;
    int64_t e_close;    /* the engine's: earliest close of its windows; INT64_MAX: not queued */
    bwm_win_t **e_wins; /* open windows, by start */
    struct bwm_entry *e_older; /* recency list: the entry used before it */
    struct bwm_entry *e_newer;
    uint32_t e_cap;
    uint32_t e_pos;  /* the engine's: its place in the close heap */
    uint8_t e_empty; /* on the recency list of entries without windows */
    /* aligned(16) takes the hot part to offset 64: see the static assertion in table.c */
    char *e_key __attribute__((aligned(16))); /* key text, NUL-terminated, stored after the entry */
    bwm_win_t *e_hot; /* the window bwm_table_window() gave last; NULL: none */
    uint32_t e_keylen;
    uint32_t e_nwins;
    uint32_t e_batch;  /* the batch that used it last (see bwm_table_use()) */
    uint8_t e_dirty;   /* changed since the last state commit */
    uint8_t e_touched; /* listed among this batch's touched entries */
} bwm_entry_t;

typedef struct bwm_table bwm_table_t;

/* Returns an empty table for plan (which must outlive it). Free with bwm_table_destroy(). */
bwm_table_t *bwm_table_new(const bwm_plan_t *plan);
void bwm_table_destroy(bwm_table_t *t);

/* Number of entries held. */
size_t bwm_table_size(const bwm_table_t *t);

/*
 * Bytes the entries hold: per entry its struct, key and window array, per
 * window its struct with the aggregate states inline, and the heap memory
 * the states own (ao_heap) as last measured: when the window was restored,
 * or by bwm_table_account(). A running total, O(1).
 */
size_t bwm_table_bytes(const bwm_table_t *t);

/*
 * Measures again the heap memory of the states of e's touched windows (those
 * whose states a batch changed, marked w_touched); call it for each touched
 * entry before bwm_table_clear_touched().
 */
void bwm_table_account(bwm_table_t *t, bwm_entry_t *e);

/* Returns the entry for key, or NULL when the table does not hold it. */
bwm_entry_t *bwm_table_get(bwm_table_t *t, const char *key, size_t keylen);

/* The hash a key is filed under, and bwm_table_get() given it. */
uint64_t bwm_table_hash(const char *key, size_t keylen);
bwm_entry_t *bwm_table_get_hashed(bwm_table_t *t, uint64_t h, const char *key, size_t keylen);

/*
 * Asks the CPU to start loading what a lookup of hash h reads, a few
 * lookups ahead: the slot; with entry set, the entry the slot holds and the
 * start of its key (the slot should have been asked for earlier). Changes
 * nothing.
 */
void bwm_table_prefetch(const bwm_table_t *t, uint64_t h, int entry);

/* The same for e's hot window (the one bwm_table_window() gave last) and its states. */
void bwm_table_prefetch_hot(const bwm_table_t *t, const bwm_entry_t *e);

/* Adds an entry for key with no windows, used by this batch; the key must not be present. */
bwm_err_t bwm_table_put(bwm_table_t *t, const char *key, size_t keylen, bwm_entry_t **out);

/* Removes entry e (not touched in this batch) from the table and frees it with its windows. */
void bwm_table_del(bwm_table_t *t, bwm_entry_t *e);

/* Marks e used by the current batch: it becomes the most recently used. */
void bwm_table_use(bwm_table_t *t, bwm_entry_t *e);

/*
 * The entry to drop next from the cache: the least recently used entry
 * without windows, else the least recently used one with windows; NULL when
 * that one is dirty or used by the current batch (so are all more recent).
 */
bwm_entry_t *bwm_table_victim(const bwm_table_t *t);

/*
 * Replaces e's windows with those of a bwm_table_encode() encoding, as read
 * from the store. BWM_ERR_DECODE (e left without windows) when enc does not
 * match the plan's aggregates.
 */
bwm_err_t bwm_table_restore(bwm_table_t *t, bwm_entry_t *e, const void *enc, size_t enclen,
                            char *errstr, size_t errstr_size);

/* Appends e's encoding (format byte, windows, aggregate states) to b. */
void bwm_table_encode(const bwm_table_t *t, const bwm_entry_t *e, bwm_buf_t *b);

/* Appends the encoding of an entry holding only window w, as bwm_table_encode() writes it. */
void bwm_table_encode_window(const bwm_table_t *t, const bwm_win_t *w, bwm_buf_t *b);

/*
 * The window of e starting at start: found, or (with create) added with
 * empty states and last = start. NULL when absent, or out of memory.
 */
bwm_win_t *bwm_table_window(bwm_table_t *t, bwm_entry_t *e, int64_t start, int create);

/* Removes and frees window w of e. */
void bwm_table_window_drop(bwm_table_t *t, bwm_entry_t *e, bwm_win_t *w);

/* Allocates a detached window with empty states; free with bwm_table_window_free(). */
bwm_win_t *bwm_table_window_new(bwm_table_t *t, int64_t start);
void bwm_table_window_free(bwm_table_t *t, bwm_win_t *w);
/* Puts a detached window into e (which must not have one with its start). */
bwm_err_t bwm_table_window_attach(bwm_table_t *t, bwm_entry_t *e, bwm_win_t *w);

/* Writes w's aggregate results, one per plan aggregate, into out. */
void bwm_table_results(const bwm_table_t *t, const bwm_win_t *w, bwm_value_t *out);

/* Marks e touched (dirty, and used): listed once in bwm_table_touched() until cleared. */
bwm_err_t bwm_table_touch(bwm_table_t *t, bwm_entry_t *e);

/* The entries touched since bwm_table_clear_touched(), in first-touch order. */
bwm_entry_t *const *bwm_table_touched(const bwm_table_t *t, size_t *n);

/* Ends the batch, after it is committed: clears every touched, dirty and window mark. */
void bwm_table_clear_touched(bwm_table_t *t);

#endif
