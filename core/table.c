/*
 * table.c: an open-addressing hash table of entries with linear probing
 * (deletion by backward shift), the windows of each entry kept sorted by
 * start, and the entry encoding:
 *
 *   u8  format (2)
 *   u32 number of windows
 *   per window: i64 start, i64 last, i64 version, u8 number of aggregates,
 *               per aggregate: u8 aggregate id, then its own encoding
 *
 * Recency: two intrusive doubly linked lists, oldest first, one of entries
 * without windows and one of entries with windows. The first use of an entry
 * in a batch moves it to the newest end of its list, in O(1); entries whose
 * last window closes, or that get their first, move to the newest end of the
 * other list. So the entries used by the current batch are the newest of
 * each list, and the oldest entry of a list is the one to drop first.
 *
 * Accounting: t_bytes is kept up to date by every function that adds or
 * frees an entry, a window or a window array slot; the heap memory of a
 * window's states is measured (ao_heap of the aggregates that have one) when
 * the window is restored and, for the windows a batch changed, when the
 * engine encodes them for the store (bwm_table_account(), while they are in
 * cache), and kept in w_heap so that exactly what was added is taken off
 * again.
 *
 * Memory reads: a slot holds its entry's hash beside the pointer, so a
 * lookup reads only the entry it finds; an entry remembers the window it
 * gave last (e_hot), so the next record of the same window reads no window
 * array. With many keys each of those reads is a cache miss.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* A slot of the hash table: empty when s_entry is NULL. */
typedef struct slot {
    uint64_t s_hash;
    bwm_entry_t *s_entry;
} slot_t;

struct bwm_table {
    const bwm_plan_t *t_plan;
    slot_t *t_slots;
    size_t t_cap; /* power of two */
    size_t t_count;
    bwm_entry_t **t_touched;
    size_t t_ntouched;
    size_t t_touched_cap;
    size_t t_bytes;
    size_t *t_heap_aggs; /* the plan's aggregates that own heap memory */
    size_t t_nheap;
    uint32_t t_batch;         /* the current batch, counted by bwm_table_clear_touched() */
    bwm_entry_t *t_oldest[2]; /* recency lists: [0] entries without windows, [1] with */
    bwm_entry_t *t_newest[2];
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    return bwm_hash_key(p, n);
}

bwm_win_t *bwm_table_window_new(bwm_table_t *t, int64_t start)
{
    const bwm_plan_t *p = t->t_plan;
    bwm_win_t *w = calloc(1, sizeof(*w) + p->p_state_size);
    size_t i;

    if (!w) {
        return NULL;
    }
    w->w_start = start;
    w->w_last = start;
    w->w_version = -1;
    for (i = 0; i < p->p_naggs; i++) {
        p->p_aggs[i].pa_ops->ao_init((char *)w->w_state + p->p_aggs[i].pa_offset,
                                     p->p_aggs[i].pa_arg_type, &p->p_aggs[i].pa_params);
    }
    return w;
}

void bwm_table_window_free(bwm_table_t *t, bwm_win_t *w)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;

    if (!w) {
        return;
    }
    for (i = 0; i < p->p_naggs; i++) {
        if (p->p_aggs[i].pa_ops->ao_destroy) {
            p->p_aggs[i].pa_ops->ao_destroy((char *)w->w_state + p->p_aggs[i].pa_offset);
        }
    }
    free(w);
}

/* ---- recency ---- */

static void lru_unlink(bwm_table_t *t, bwm_entry_t *e)
{
    int l = !e->e_empty;

    if (e->e_older) {
        e->e_older->e_newer = e->e_newer;
    } else {
        t->t_oldest[l] = e->e_newer;
    }
    if (e->e_newer) {
        e->e_newer->e_older = e->e_older;
    } else {
        t->t_newest[l] = e->e_older;
    }
    e->e_older = NULL;
    e->e_newer = NULL;
}

/* Puts e at the newest end of the list its windows put it in. */
static void lru_append(bwm_table_t *t, bwm_entry_t *e)
{
    int l;

    e->e_empty = e->e_nwins == 0;
    l = !e->e_empty;
    e->e_older = t->t_newest[l];
    if (t->t_newest[l]) {
        t->t_newest[l]->e_newer = e;
    } else {
        t->t_oldest[l] = e;
    }
    t->t_newest[l] = e;
}

/* Moves e to the other list when it got its first window or lost its last. */
static void lru_relist(bwm_table_t *t, bwm_entry_t *e)
{
    if (e->e_empty != (e->e_nwins == 0)) {
        lru_unlink(t, e);
        lru_append(t, e);
    }
}

void bwm_table_use(bwm_table_t *t, bwm_entry_t *e)
{
    if (e->e_batch == t->t_batch) {
        return;
    }
    e->e_batch = t->t_batch;
    lru_unlink(t, e);
    lru_append(t, e);
}

bwm_entry_t *bwm_table_victim(const bwm_table_t *t)
{
    int l;

    for (l = 0; l < 2; l++) {
        bwm_entry_t *e = t->t_oldest[l];

        if (e && !e->e_dirty && e->e_batch != t->t_batch) {
            return e;
        }
    }
    return NULL;
}

/* ---- accounting ---- */

size_t bwm_table_bytes(const bwm_table_t *t)
{
    return t->t_bytes;
}

/* What a window counts for; the same when it is added and when it is taken off. */
static size_t win_bytes(const bwm_table_t *t, const bwm_win_t *w)
{
    return sizeof(*w) + t->t_plan->p_state_size + w->w_heap;
}

/* What an entry counts for apart from its windows. */
static size_t entry_bytes(const bwm_entry_t *e)
{
    return sizeof(*e) + e->e_keylen + 1 + (size_t)e->e_cap * sizeof(*e->e_wins);
}

/* Measures again the heap memory of w's states (w is in an entry). */
static void win_account(bwm_table_t *t, bwm_win_t *w)
{
    const bwm_plan_t *p = t->t_plan;
    size_t heap = 0, i;

    for (i = 0; i < t->t_nheap; i++) {
        const bwm_plan_agg_t *a = &p->p_aggs[t->t_heap_aggs[i]];

        heap += a->pa_ops->ao_heap((const char *)w->w_state + a->pa_offset);
    }
    heap = heap > UINT32_MAX ? UINT32_MAX : heap;
    t->t_bytes = t->t_bytes - w->w_heap + heap;
    w->w_heap = (uint32_t)heap;
}

void bwm_table_account(bwm_table_t *t, bwm_entry_t *e)
{
    uint32_t k;

    for (k = 0; t->t_nheap && k < e->e_nwins; k++) {
        if (e->e_wins[k]->w_touched) {
            win_account(t, e->e_wins[k]);
        }
    }
}

/* ---- entries ---- */

/* Frees e's windows, taking them off the count. */
static void entry_clear(bwm_table_t *t, bwm_entry_t *e)
{
    uint32_t i;

    for (i = 0; i < e->e_nwins; i++) {
        t->t_bytes -= win_bytes(t, e->e_wins[i]);
        bwm_table_window_free(t, e->e_wins[i]);
    }
    e->e_nwins = 0;
    e->e_hot = NULL;
    lru_relist(t, e);
}

/* Frees e and its windows, with no accounting: the table goes too. */
static void entry_free(bwm_table_t *t, bwm_entry_t *e)
{
    uint32_t i;

    if (!e) {
        return;
    }
    for (i = 0; i < e->e_nwins; i++) {
        bwm_table_window_free(t, e->e_wins[i]);
    }
    free(e->e_wins);
    free(e);
}

bwm_table_t *bwm_table_new(const bwm_plan_t *plan)
{
    bwm_table_t *t = calloc(1, sizeof(*t));
    size_t i;

    if (!t) {
        return NULL;
    }
    t->t_plan = plan;
    t->t_cap = 64;
    t->t_batch = 1;
    t->t_slots = calloc(t->t_cap, sizeof(*t->t_slots));
    t->t_heap_aggs = calloc(plan->p_naggs + 1, sizeof(*t->t_heap_aggs));
    if (!t->t_slots || !t->t_heap_aggs) {
        bwm_table_destroy(t);
        return NULL;
    }
    for (i = 0; i < plan->p_naggs; i++) {
        if (plan->p_aggs[i].pa_ops->ao_heap) {
            t->t_heap_aggs[t->t_nheap++] = i;
        }
    }
    return t;
}

void bwm_table_destroy(bwm_table_t *t)
{
    size_t i;

    if (!t) {
        return;
    }
    for (i = 0; t->t_slots && i < t->t_cap; i++) {
        entry_free(t, t->t_slots[i].s_entry);
    }
    free(t->t_slots);
    free(t->t_touched);
    free(t->t_heap_aggs);
    free(t);
}

size_t bwm_table_size(const bwm_table_t *t)
{
    return t->t_count;
}

static size_t probe(const bwm_table_t *t, uint64_t h, const char *key, size_t keylen)
{
    size_t mask = t->t_cap - 1, i = (size_t)h & mask;

    for (;;) {
        const slot_t *sl = &t->t_slots[i];

        if (!sl->s_entry || (sl->s_hash == h && sl->s_entry->e_keylen == keylen &&
                             memcmp(sl->s_entry->e_key, key, keylen) == 0)) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

bwm_entry_t *bwm_table_get(bwm_table_t *t, const char *key, size_t keylen)
{
    return bwm_table_get_hashed(t, hash_bytes(key, keylen), key, keylen);
}

uint64_t bwm_table_hash(const char *key, size_t keylen)
{
    return hash_bytes(key, keylen);
}

bwm_entry_t *bwm_table_get_hashed(bwm_table_t *t, uint64_t h, const char *key, size_t keylen)
{
    return t->t_slots[probe(t, h, key, keylen)].s_entry;
}

_Static_assert(offsetof(bwm_entry_t, e_key) == 64, "an entry's hot part starts a cache line");

/* Each 64-byte cache line the n bytes at p lie in. */
static void prefetch_bytes(const void *p, size_t n)
{
    uintptr_t c = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + n;

    for (; c < end; c += 64) {
        __builtin_prefetch((const void *)c);
    }
}

void bwm_table_prefetch(const bwm_table_t *t, uint64_t h, int entry)
{
    const slot_t *sl = &t->t_slots[(size_t)h & (t->t_cap - 1)];

    if (!entry) {
        __builtin_prefetch(sl);
    } else if (sl->s_entry && sl->s_hash == h) {
        /* the entry's hot part and the start of its key, without reading the entry */
        prefetch_bytes(&sl->s_entry->e_key,
                       sizeof(*sl->s_entry) - offsetof(bwm_entry_t, e_key) + 32);
    }
}

void bwm_table_prefetch_hot(const bwm_table_t *t, const bwm_entry_t *e)
{
    if (e->e_hot) {
        prefetch_bytes(e->e_hot, sizeof(*e->e_hot) + t->t_plan->p_state_size);
    }
}

static bwm_err_t grow(bwm_table_t *t)
{
    size_t cap = t->t_cap * 2, i, mask = cap - 1;
    slot_t *slots = calloc(cap, sizeof(*slots));

    if (!slots) {
        return BWM_ERR_NOMEM;
    }
    for (i = 0; i < t->t_cap; i++) {
        size_t j;

        if (!t->t_slots[i].s_entry) {
            continue;
        }
        for (j = (size_t)t->t_slots[i].s_hash & mask; slots[j].s_entry; j = (j + 1) & mask) {
        }
        slots[j] = t->t_slots[i];
    }
    free(t->t_slots);
    t->t_slots = slots;
    t->t_cap = cap;
    return BWM_OK;
}

bwm_err_t bwm_table_put(bwm_table_t *t, const char *key, size_t keylen, bwm_entry_t **out)
{
    uint64_t h = hash_bytes(key, keylen);
    bwm_entry_t *e;
    size_t i;

    if (keylen > UINT32_MAX) {
        return BWM_ERR_LIMIT;
    }
    if ((t->t_count + 1) * 4 > t->t_cap * 3 && grow(t) != BWM_OK) {
        return BWM_ERR_NOMEM;
    }
    i = probe(t, h, key, keylen);
    if (t->t_slots[i].s_entry) {
        return BWM_ERR_INVALID;
    }
    e = calloc(1, sizeof(*e) + keylen + 1);
    if (!e) {
        return BWM_ERR_NOMEM;
    }
    e->e_hash = h;
    e->e_key = (char *)(e + 1);
    memcpy(e->e_key, key, keylen);
    e->e_key[keylen] = '\0';
    e->e_keylen = (uint32_t)keylen;
    e->e_close = INT64_MAX;
    e->e_batch = t->t_batch;
    lru_append(t, e);
    t->t_slots[i].s_hash = h;
    t->t_slots[i].s_entry = e;
    t->t_count++;
    t->t_bytes += entry_bytes(e);
    *out = e;
    return BWM_OK;
}

void bwm_table_del(bwm_table_t *t, bwm_entry_t *e)
{
    size_t mask = t->t_cap - 1, i = probe(t, e->e_hash, e->e_key, e->e_keylen), j;

    /* Backward shift: move up each later entry of the run that may sit in the hole. */
    t->t_slots[i].s_entry = NULL;
    for (j = (i + 1) & mask; t->t_slots[j].s_entry; j = (j + 1) & mask) {
        size_t home = (size_t)t->t_slots[j].s_hash & mask;

        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->t_slots[i] = t->t_slots[j];
            t->t_slots[j].s_entry = NULL;
            i = j;
        }
    }
    t->t_count--;
    entry_clear(t, e);
    lru_unlink(t, e);
    t->t_bytes -= entry_bytes(e);
    entry_free(t, e);
}

/* Position of the first window of e whose start is >= start. */
static uint32_t window_pos(const bwm_entry_t *e, int64_t start)
{
    uint32_t lo = 0, hi = e->e_nwins;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (e->e_wins[mid]->w_start < start) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bwm_err_t bwm_table_window_attach(bwm_table_t *t, bwm_entry_t *e, bwm_win_t *w)
{
    uint32_t pos = window_pos(e, w->w_start);

    if (pos < e->e_nwins && e->e_wins[pos]->w_start == w->w_start) {
        return BWM_ERR_INVALID;
    }
    if (e->e_nwins == e->e_cap) {
        uint32_t cap = e->e_cap ? e->e_cap * 2 : 2;
        bwm_win_t **n = realloc(e->e_wins, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        t->t_bytes += (size_t)(cap - e->e_cap) * sizeof(*n);
        e->e_wins = n;
        e->e_cap = cap;
    }
    memmove(&e->e_wins[pos + 1], &e->e_wins[pos], (e->e_nwins - pos) * sizeof(*e->e_wins));
    e->e_wins[pos] = w;
    e->e_nwins++;
    t->t_bytes += win_bytes(t, w);
    lru_relist(t, e);
    return BWM_OK;
}

bwm_win_t *bwm_table_window(bwm_table_t *t, bwm_entry_t *e, int64_t start, int create)
{
    uint32_t pos;
    bwm_win_t *w;

    if (e->e_hot && e->e_hot->w_start == start) {
        return e->e_hot;
    }
    pos = window_pos(e, start);
    if (pos < e->e_nwins && e->e_wins[pos]->w_start == start) {
        return e->e_hot = e->e_wins[pos];
    }
    if (!create) {
        return NULL;
    }
    w = bwm_table_window_new(t, start);
    if (!w || bwm_table_window_attach(t, e, w) != BWM_OK) {
        bwm_table_window_free(t, w);
        return NULL;
    }
    return e->e_hot = w;
}

void bwm_table_window_drop(bwm_table_t *t, bwm_entry_t *e, bwm_win_t *w)
{
    uint32_t pos = window_pos(e, w->w_start);

    if (e->e_hot == w) {
        e->e_hot = NULL;
    }
    if (pos < e->e_nwins && e->e_wins[pos] == w) {
        memmove(&e->e_wins[pos], &e->e_wins[pos + 1], (e->e_nwins - pos - 1) * sizeof(*e->e_wins));
        e->e_nwins--;
        t->t_bytes -= win_bytes(t, w);
        lru_relist(t, e);
    }
    bwm_table_window_free(t, w);
}

bwm_err_t bwm_table_restore(bwm_table_t *t, bwm_entry_t *e, const void *enc, size_t enclen,
                            char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = t->t_plan;
    bwm_cursor_t c;
    uint32_t nwins, k;
    uint8_t fmt;
    size_t i;

    entry_clear(t, e);
    bwm_cursor_init(&c, enc, enclen);
    fmt = bwm_cursor_u8(&c);
    nwins = bwm_cursor_u32le(&c);
    if (c.c_failed || fmt != BWM_STATE_FORMAT || nwins > bwm_cursor_left(&c) / 25) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "stored state of key '%s' has format %u (this version reads %u)",
                           e->e_key, fmt, BWM_STATE_FORMAT);
    }
    for (k = 0; k < nwins; k++) {
        int64_t start = bwm_cursor_i64le(&c), last = bwm_cursor_i64le(&c);
        int64_t version = bwm_cursor_i64le(&c);
        uint8_t naggs = bwm_cursor_u8(&c);
        bwm_win_t *w;

        if (c.c_failed || naggs != p->p_naggs) {
            entry_clear(t, e);
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                               "stored state of key '%s' has %u aggregates; this job has %zu",
                               e->e_key, naggs, p->p_naggs);
        }
        w = bwm_table_window_new(t, start);
        if (!w || bwm_table_window_attach(t, e, w) != BWM_OK) {
            bwm_table_window_free(t, w);
            entry_clear(t, e);
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                               "stored state of key '%s' is corrupt (window %u)", e->e_key, k);
        }
        w->w_last = last;
        w->w_version = version;
        for (i = 0; i < p->p_naggs; i++) {
            const bwm_plan_agg_t *a = &p->p_aggs[i];

            if (bwm_cursor_u8(&c) != a->pa_ops->ao_id ||
                a->pa_ops->ao_decode((char *)w->w_state + a->pa_offset, &c) != BWM_OK) {
                entry_clear(t, e);
                return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                                   "stored state of key '%s' does not decode as %s", e->e_key,
                                   a->pa_sql);
            }
        }
        win_account(t, w);
    }
    if (bwm_cursor_left(&c) != 0) {
        entry_clear(t, e);
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "stored state of key '%s' has %zu trailing bytes", e->e_key,
                           bwm_cursor_left(&c));
    }
    return BWM_OK;
}

static void encode_window(const bwm_plan_t *p, const bwm_win_t *w, bwm_buf_t *b)
{
    size_t i;

    bwm_buf_put_i64le(b, w->w_start);
    bwm_buf_put_i64le(b, w->w_last);
    bwm_buf_put_i64le(b, w->w_version);
    bwm_buf_put_u8(b, (uint8_t)p->p_naggs);
    for (i = 0; i < p->p_naggs; i++) {
        bwm_buf_put_u8(b, p->p_aggs[i].pa_ops->ao_id);
        p->p_aggs[i].pa_ops->ao_encode((const char *)w->w_state + p->p_aggs[i].pa_offset, b);
    }
}

void bwm_table_encode(const bwm_table_t *t, const bwm_entry_t *e, bwm_buf_t *b)
{
    uint32_t k;

    bwm_buf_put_u8(b, BWM_STATE_FORMAT);
    bwm_buf_put_u32le(b, e->e_nwins);
    for (k = 0; k < e->e_nwins; k++) {
        encode_window(t->t_plan, e->e_wins[k], b);
    }
}

void bwm_table_encode_window(const bwm_table_t *t, const bwm_win_t *w, bwm_buf_t *b)
{
    bwm_buf_put_u8(b, BWM_STATE_FORMAT);
    bwm_buf_put_u32le(b, 1);
    encode_window(t->t_plan, w, b);
}

void bwm_table_results(const bwm_table_t *t, const bwm_win_t *w, bwm_value_t *out)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;

    for (i = 0; i < p->p_naggs; i++) {
        p->p_aggs[i].pa_ops->ao_result((const char *)w->w_state + p->p_aggs[i].pa_offset, &out[i]);
    }
}

bwm_err_t bwm_table_touch(bwm_table_t *t, bwm_entry_t *e)
{
    bwm_table_use(t, e);
    e->e_dirty = 1;
    if (e->e_touched) {
        return BWM_OK;
    }
    if (t->t_ntouched == t->t_touched_cap) {
        size_t cap = t->t_touched_cap ? t->t_touched_cap * 2 : 256;
        bwm_entry_t **n = realloc(t->t_touched, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        t->t_touched = n;
        t->t_touched_cap = cap;
    }
    t->t_touched[t->t_ntouched++] = e;
    e->e_touched = 1;
    return BWM_OK;
}

bwm_entry_t *const *bwm_table_touched(const bwm_table_t *t, size_t *n)
{
    *n = t->t_ntouched;
    return t->t_touched;
}

void bwm_table_clear_touched(bwm_table_t *t)
{
    size_t i;
    uint32_t k;

    for (i = 0; i < t->t_ntouched; i++) {
        bwm_entry_t *e = t->t_touched[i];

        e->e_touched = 0;
        e->e_dirty = 0;
        for (k = 0; k < e->e_nwins; k++) {
            e->e_wins[k]->w_touched = 0;
        }
    }
    t->t_ntouched = 0;
    t->t_batch++;
}
