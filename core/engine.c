/*
 * engine.c: the batch execution of a plan over one partition.
 *
 * Windows close in order of their close time: a min-heap holds each entry
 * with windows once, at the earliest close time of its windows (kept exact
 * as windows change, the entry knowing its place), ties broken by key so
 * that the order never depends on the heap's history. A second heap holds
 * keys known only from the store, by close time, until their state is read:
 * those of the store's close index at start, and those of entries dropped
 * from memory by bwm_engine_evict(). When a record raises the watermark,
 * every window whose close time it reaches is closed: EMIT FINAL produces
 * its one result with the version of that record, EMIT CHANGES its last
 * change if still unsent; then the window's state is dropped (and, with a
 * retention, written once more under its own key).
 *
 * The cache: the table keeps the recency and the bytes of its entries;
 * bwm_engine_evict() drops its oldest clean entries, those without windows
 * first. A dropped entry with windows leaves its key in the second heap at
 * the close time it had, so it is read again when the batch that closes its
 * windows is missing it, as after a restart; a key seen again before that
 * is simply missing. Since entries close in (time, key) order and a restored
 * entry equals the one dropped, outputs and store writes do not change.
 */
#include "engine.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "result.h"
#include "table.h"

/* Expected keys held before duplicates are first looked for. */
#define EXPECT_TIDY_MIN 1024

/* How many rows ahead lookups and applying ask for memory (twice that for table slots). */
#define PREFETCH_ROWS 16

typedef enum row_state {
    ROW_STAGED,
    ROW_FILTERED,
    ROW_DEAD,
} row_state_t;

typedef struct row {
    int64_t r_offset;
    int64_t r_time;
    size_t r_slot0;
    const char *r_key; /* in the round's arena, or the lent string itself */
    size_t r_keylen;
    uint64_t r_hash; /* bwm_table_hash() of the key */
    bwm_entry_t *r_entry;
    row_state_t r_state;
} row_t;

/*
 * One aggregate as applying a record needs it, set up once per engine: its
 * operations and state offset at hand, and a bare column argument read from
 * its slot without evaluating anything.
 */
typedef struct agg_step {
    bwm_err_t (*as_check)(const void *st, const bwm_agg_input_t *in); /* NULL: cannot refuse */
    bwm_err_t (*as_add)(void *st, const bwm_agg_input_t *in);
    size_t as_offset;         /* of its state in a window's state block */
    int as_slot;              /* the slot its argument is, or -1 */
    const bwm_expr_t *as_arg; /* an argument to compute; NULL for a slot or '*' */
    const char *as_sql;       /* for messages */
} agg_step_t;

/* Entries with windows by (e_close, hash, key); an entry's e_pos is its place. */
typedef struct close_heap {
    bwm_entry_t **cq_items;
    size_t cq_n;
    size_t cq_cap;
} close_heap_t;

/* A key known only from the store, and when its earliest window closes. */
typedef struct expect_item {
    int64_t x_close;
    char *x_key; /* owned */
    size_t x_keylen;
} expect_item_t;

typedef struct expect_heap {
    expect_item_t *xh_items;
    size_t xh_n;
    size_t xh_cap;
    size_t xh_tidy; /* size at which evicting next removes duplicates */
} expect_heap_t;

/* A closed window kept for the retention: bytes in e_retain_data. */
typedef struct retained {
    size_t rt_key_off;
    size_t rt_key_len;
    size_t rt_val_off;
    size_t rt_val_len;
} retained_t;

struct bwm_engine {
    const bwm_plan_t *e_plan;
    bwm_engine_limits_t e_limits;
    bwm_table_t *e_table;
    bwm_result_enc_t *e_enc;
    int64_t e_wm;
    int64_t e_stage_wm;     /* the watermark the staged records will reach */
    close_heap_t e_close;   /* entries by earliest close */
    expect_heap_t e_expect; /* stored keys by close, not read yet */
    /* the batch */
    row_t *e_rows;
    size_t e_nrows;
    size_t e_nfiltered; /* rows WHERE dropped */
    size_t e_rows_cap;
    bwm_value_t *e_slots;     /* e_rows_cap rows of values */
    bwm_arena_t e_arena;      /* staged strings and keys */
    bwm_arena_t e_eval_arena; /* strings made by expressions; reset per record */
    bwm_entry_t **e_missing;
    bwm_keyref_t *e_missing_keys;
    size_t e_nmissing;
    size_t e_missing_cap;
    bwm_output_t *e_outs;
    size_t e_nouts;
    size_t e_outs_cap;
    bwm_buf_t e_out_data;
    bwm_dead_t *e_dead;
    size_t e_ndead;
    size_t e_dead_cap;
    bwm_change_t *e_changes;
    size_t e_changes_cap;
    bwm_buf_t e_change_data;
    retained_t *e_retained;
    size_t e_nretained;
    size_t e_retained_cap;
    bwm_buf_t e_retain_data;
    /* scratch */
    bwm_value_t *e_fields;  /* one result record's fields */
    bwm_value_t *e_aggvals; /* aggregate results of one window */
    agg_step_t *e_steps;    /* one per aggregate */
    size_t *e_checks;       /* the steps with an as_check, by index */
    size_t e_nchecks;
    size_t *e_computed; /* the steps with an as_arg, by index */
    size_t e_ncomputed;
    /* per aggregate, one record's computed argument; NULL for a column or '*' */
    const bwm_value_t **e_args;
    bwm_value_t *e_keyvals; /* key values of one entry */
    bwm_win_t **e_targets;  /* windows one record goes into */
    int64_t *e_starts;
    /* The tumbling window of the last record: [start, end), closing at close. The records
     * of a round mostly share it, and finding it afresh takes a division. */
    int64_t e_tumble_start, e_tumble_end, e_tumble_close;
    bwm_buf_t e_keybuf;
};

/* ---- the close heap ---- */

static int close_before(const bwm_entry_t *a, const bwm_entry_t *b)
{
    int c;

    if (a->e_close != b->e_close) {
        return a->e_close < b->e_close;
    }
    if (a->e_hash != b->e_hash) {
        return a->e_hash < b->e_hash;
    }
    c = memcmp(a->e_key, b->e_key, a->e_keylen < b->e_keylen ? a->e_keylen : b->e_keylen);
    return c ? c < 0 : a->e_keylen < b->e_keylen;
}

static void cq_set(close_heap_t *h, size_t i, bwm_entry_t *en)
{
    h->cq_items[i] = en;
    en->e_pos = (uint32_t)i;
}

static void cq_up(close_heap_t *h, size_t i)
{
    bwm_entry_t *en = h->cq_items[i];

    while (i > 0 && close_before(en, h->cq_items[(i - 1) / 2])) {
        cq_set(h, i, h->cq_items[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    cq_set(h, i, en);
}

static void cq_down(close_heap_t *h, size_t i)
{
    bwm_entry_t *en = h->cq_items[i];

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= h->cq_n) {
            break;
        }
        if (c + 1 < h->cq_n && close_before(h->cq_items[c + 1], h->cq_items[c])) {
            c++;
        }
        if (!close_before(h->cq_items[c], en)) {
            break;
        }
        cq_set(h, i, h->cq_items[c]);
        i = c;
    }
    cq_set(h, i, en);
}

static int cq_push(close_heap_t *h, bwm_entry_t *en)
{
    if (h->cq_n == h->cq_cap) {
        size_t cap = h->cq_cap ? h->cq_cap * 2 : 64;
        bwm_entry_t **n = realloc(h->cq_items, cap * sizeof(*n));

        if (!n) {
            return -1;
        }
        h->cq_items = n;
        h->cq_cap = cap;
    }
    h->cq_items[h->cq_n++] = en;
    cq_up(h, h->cq_n - 1);
    return 0;
}

/* Takes en out of the heap. */
static void cq_remove(close_heap_t *h, bwm_entry_t *en)
{
    size_t i = en->e_pos;
    bwm_entry_t *last = h->cq_items[--h->cq_n];

    if (i < h->cq_n) {
        cq_set(h, i, last);
        cq_up(h, i);
        cq_down(h, last->e_pos);
    }
}

/* ---- the heap of expected keys ---- */

static void xh_down(expect_heap_t *h, size_t i)
{
    expect_item_t it = h->xh_items[i];

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= h->xh_n) {
            break;
        }
        if (c + 1 < h->xh_n && h->xh_items[c + 1].x_close < h->xh_items[c].x_close) {
            c++;
        }
        if (h->xh_items[c].x_close >= it.x_close) {
            break;
        }
        h->xh_items[i] = h->xh_items[c];
        i = c;
    }
    h->xh_items[i] = it;
}

/* Takes a copy of key. */
static int xh_push(expect_heap_t *h, const char *key, size_t keylen, int64_t close)
{
    expect_item_t it = {close, malloc(keylen + 1), keylen};
    size_t i;

    if (!it.x_key) {
        return -1;
    }
    memcpy(it.x_key, key, keylen);
    it.x_key[keylen] = '\0';
    if (h->xh_n == h->xh_cap) {
        size_t cap = h->xh_cap ? h->xh_cap * 2 : 64;
        expect_item_t *n = realloc(h->xh_items, cap * sizeof(*n));

        if (!n) {
            free(it.x_key);
            return -1;
        }
        h->xh_items = n;
        h->xh_cap = cap;
    }
    i = h->xh_n++;
    while (i > 0 && h->xh_items[(i - 1) / 2].x_close > it.x_close) {
        h->xh_items[i] = h->xh_items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->xh_items[i] = it;
    return 0;
}

/* Takes the earliest item out; the caller frees its key. */
static expect_item_t xh_pop(expect_heap_t *h)
{
    expect_item_t top = h->xh_items[0];

    h->xh_items[0] = h->xh_items[--h->xh_n];
    if (h->xh_n > 0) {
        xh_down(h, 0);
    }
    return top;
}

static void xh_free(expect_heap_t *h)
{
    size_t i;

    for (i = 0; i < h->xh_n; i++) {
        free(h->xh_items[i].x_key);
    }
    free(h->xh_items);
    memset(h, 0, sizeof(*h));
}

static int same_key(const expect_item_t *x, const expect_item_t *y)
{
    return x->x_keylen == y->x_keylen && memcmp(x->x_key, y->x_key, x->x_keylen) == 0;
}

/* By key, then close time. */
static int expect_cmp(const void *a, const void *b)
{
    const expect_item_t *x = a, *y = b;
    int c = memcmp(x->x_key, y->x_key, x->x_keylen < y->x_keylen ? x->x_keylen : y->x_keylen);

    if (c == 0 && x->x_keylen != y->x_keylen) {
        c = x->x_keylen < y->x_keylen ? -1 : 1;
    }
    return c ? c : (x->x_close > y->x_close) - (x->x_close < y->x_close);
}

/*
 * Removes the items that change nothing: all but the earliest of one key
 * (an entry dropped again before its windows closed), and those of keys held
 * in memory (the close heap has them). Amortised O(log n) per item.
 */
static void expect_tidy(bwm_engine_t *e)
{
    expect_heap_t *h = &e->e_expect;
    size_t i, n = 0;

    for (i = 0; i < h->xh_n; i++) {
        expect_item_t *it = &h->xh_items[i];

        if (bwm_table_get(e->e_table, it->x_key, it->x_keylen)) {
            free(it->x_key);
        } else {
            h->xh_items[n++] = *it;
        }
    }
    qsort(h->xh_items, n, sizeof(*h->xh_items), expect_cmp);
    h->xh_n = n;
    for (i = 0, n = 0; i < h->xh_n; i++) {
        if (n > 0 && same_key(&h->xh_items[i], &h->xh_items[n - 1])) {
            free(h->xh_items[i].x_key);
        } else {
            h->xh_items[n++] = h->xh_items[i];
        }
    }
    h->xh_n = n;
    for (i = n / 2; i-- > 0;) {
        xh_down(h, i);
    }
    h->xh_tidy = 2 * n > EXPECT_TIDY_MIN ? 2 * n : EXPECT_TIDY_MIN;
}

/* ---- construction ---- */

void bwm_engine_destroy(bwm_engine_t *e)
{
    if (!e) {
        return;
    }
    bwm_table_destroy(e->e_table);
    bwm_result_enc_destroy(e->e_enc);
    free(e->e_close.cq_items);
    xh_free(&e->e_expect);
    free(e->e_rows);
    free(e->e_slots);
    bwm_arena_free(&e->e_arena);
    bwm_arena_free(&e->e_eval_arena);
    free(e->e_missing);
    free(e->e_missing_keys);
    free(e->e_outs);
    bwm_buf_free(&e->e_out_data);
    free(e->e_dead);
    free(e->e_changes);
    bwm_buf_free(&e->e_change_data);
    free(e->e_retained);
    bwm_buf_free(&e->e_retain_data);
    free(e->e_fields);
    free(e->e_aggvals);
    free(e->e_steps);
    free(e->e_checks);
    free(e->e_computed);
    free(e->e_args);
    free(e->e_keyvals);
    free(e->e_targets);
    free(e->e_starts);
    bwm_buf_free(&e->e_keybuf);
    free(e);
}

/* The plan's aggregates as steps (agg_step_t). */
static void set_steps(bwm_engine_t *e)
{
    const bwm_plan_t *p = e->e_plan;
    size_t a;

    for (a = 0; a < p->p_naggs; a++) {
        const bwm_plan_agg_t *pa = &p->p_aggs[a];
        agg_step_t *s = &e->e_steps[a];

        s->as_check = pa->pa_ops->ao_check;
        s->as_add = pa->pa_ops->ao_add;
        s->as_offset = pa->pa_offset;
        s->as_slot = pa->pa_arg ? bwm_expr_slot(pa->pa_arg) : -1;
        s->as_arg = s->as_slot < 0 ? pa->pa_arg : NULL;
        s->as_sql = pa->pa_sql;
        if (s->as_check) {
            e->e_checks[e->e_nchecks++] = a;
        }
        if (s->as_arg) {
            e->e_computed[e->e_ncomputed++] = a;
        }
    }
}

bwm_engine_t *bwm_engine_new(const bwm_plan_t *plan, int64_t watermark,
                             const bwm_engine_limits_t *limits, char *errstr, size_t errstr_size)
{
    bwm_engine_t *e = calloc(1, sizeof(*e));
    size_t nfields;

    if (!e) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    e->e_plan = plan;
    e->e_limits = *limits;
    e->e_wm = watermark;
    e->e_stage_wm = watermark;
    e->e_expect.xh_tidy = EXPECT_TIDY_MIN;
    bwm_arena_init(&e->e_arena, 0);
    bwm_arena_init(&e->e_eval_arena, limits->el_eval_bytes);
    e->e_table = bwm_table_new(plan);
    e->e_enc = bwm_result_enc_new(plan, errstr, errstr_size);
    if (!e->e_enc) {
        goto err;
    }
    nfields = bwm_result_enc_fields(e->e_enc);
    e->e_fields = calloc(nfields, sizeof(*e->e_fields));
    e->e_aggvals = calloc(plan->p_naggs + 1, sizeof(*e->e_aggvals));
    e->e_steps = calloc(plan->p_naggs + 1, sizeof(*e->e_steps));
    e->e_checks = calloc(plan->p_naggs + 1, sizeof(*e->e_checks));
    e->e_computed = calloc(plan->p_naggs + 1, sizeof(*e->e_computed));
    e->e_args = calloc(plan->p_naggs + 1, sizeof(*e->e_args));
    e->e_keyvals = calloc(plan->p_nkeys + 1, sizeof(*e->e_keyvals));
    e->e_targets = calloc(BWM_WINDOW_MAX_HOPS + 1, sizeof(*e->e_targets));
    e->e_starts = calloc(BWM_WINDOW_MAX_HOPS + 1, sizeof(*e->e_starts));
    if (!e->e_table || !e->e_fields || !e->e_aggvals || !e->e_steps || !e->e_checks ||
        !e->e_computed || !e->e_args || !e->e_keyvals || !e->e_targets || !e->e_starts) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    set_steps(e);
    return e;
err:
    bwm_engine_destroy(e);
    return NULL;
}

size_t bwm_engine_keys(const bwm_engine_t *e)
{
    return bwm_table_size(e->e_table);
}

int64_t bwm_engine_watermark(const bwm_engine_t *e)
{
    return e->e_wm;
}

size_t bwm_engine_bytes(const bwm_engine_t *e)
{
    return bwm_table_bytes(e->e_table);
}

bwm_err_t bwm_engine_expect(bwm_engine_t *e, const char *key, size_t keylen, int64_t close_ms)
{
    return xh_push(&e->e_expect, key, keylen, close_ms) ? BWM_ERR_NOMEM : BWM_OK;
}

/* ---- keys ---- */

static void put_key_value(bwm_buf_t *b, const bwm_value_t *v, int quoted)
{
    char num[BWM_DOUBLE_TEXT];

    switch (v->v_type) {
        case BWM_T_STRING:
            if (quoted) {
                bwm_json_put_exact(b, v->u.v_str.p, v->u.v_str.n);
            } else {
                bwm_buf_put(b, v->u.v_str.p, v->u.v_str.n);
            }
            return;
        case BWM_T_LONG:
            bwm_buf_put_dec(b, v->u.v_long);
            return;
        case BWM_T_DOUBLE:
            bwm_double_text(v->u.v_double, num);
            bwm_buf_put_str(b, num);
            return;
        case BWM_T_BOOL:
            bwm_buf_put_str(b, v->u.v_bool ? "true" : "false");
            return;
        default:
            bwm_buf_put_str(b, "null");
            return;
    }
}

/*
 * Key text: one key column as its text ("BWM001", "42"); several as a JSON
 * array (["BWM001",42]) so that no separator can be confused with data.
 */
static void key_text(const bwm_engine_t *e, const bwm_value_t *keys, bwm_buf_t *b)
{
    size_t i, n = e->e_plan->p_nkeys;

    if (n == 1) {
        put_key_value(b, &keys[0], 0);
        return;
    }
    bwm_buf_put_u8(b, '[');
    for (i = 0; i < n; i++) {
        if (i) {
            bwm_buf_put_u8(b, ',');
        }
        put_key_value(b, &keys[i], 1);
    }
    bwm_buf_put_u8(b, ']');
}

static int parse_scalar(bwm_type_t t, const char *s, size_t n, bwm_value_t *v)
{
    char tmp[64], *end;

    v->v_type = t;
    if (t == BWM_T_STRING) {
        v->u.v_str.p = s;
        v->u.v_str.n = n;
        return 0;
    }
    if (n == 0 || n >= sizeof(tmp)) {
        return -1;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    switch (t) {
        case BWM_T_LONG:
            v->u.v_long = strtoll(tmp, &end, 10);
            return *end ? -1 : 0;
        case BWM_T_DOUBLE:
            v->u.v_double = strtod(tmp, &end);
            return *end ? -1 : 0;
        case BWM_T_BOOL:
            v->u.v_bool = strcmp(tmp, "true") == 0;
            return 0;
        default:
            return -1;
    }
}

/* Key values from key text; strings point into the text or into the eval arena. */
static bwm_err_t key_values(bwm_engine_t *e, const bwm_entry_t *en, bwm_value_t *out)
{
    const bwm_plan_t *p = e->e_plan;
    json_t *doc, *el;
    size_t i;
    bwm_err_t err = BWM_OK;

    if (p->p_nkeys == 1) {
        return parse_scalar(p->p_keys[0].pk_type, en->e_key, en->e_keylen, &out[0]) ? BWM_ERR_DECODE
                                                                                    : BWM_OK;
    }
    doc = json_loadb(en->e_key, en->e_keylen, JSON_ALLOW_NUL, NULL);
    if (!json_is_array(doc) || json_array_size(doc) != p->p_nkeys) {
        json_decref(doc);
        return BWM_ERR_DECODE;
    }
    for (i = 0; i < p->p_nkeys && !err; i++) {
        el = json_array_get(doc, i);
        out[i].v_type = p->p_keys[i].pk_type;
        if (json_is_string(el)) {
            char *copy = bwm_arena_alloc(&e->e_eval_arena, json_string_length(el) + 1);

            if (!copy) {
                err = BWM_ERR_NOMEM;
                break;
            }
            memcpy(copy, json_string_value(el), json_string_length(el));
            out[i].u.v_str.p = copy;
            out[i].u.v_str.n = json_string_length(el);
        } else if (json_is_integer(el)) {
            out[i].u.v_long = json_integer_value(el);
            if (out[i].v_type == BWM_T_DOUBLE) {
                out[i].u.v_double = (double)json_integer_value(el);
            }
        } else if (json_is_real(el)) {
            out[i].u.v_double = json_real_value(el);
        } else if (json_is_boolean(el)) {
            out[i].u.v_bool = json_is_true(el);
        } else {
            err = BWM_ERR_DECODE;
        }
    }
    json_decref(doc);
    return err;
}

/* ---- staging ---- */

static bwm_err_t dead(bwm_engine_t *e, size_t row, const char *reason, const char *error)
{
    bwm_dead_t *d;

    if (e->e_ndead == e->e_dead_cap) {
        size_t cap = e->e_dead_cap ? e->e_dead_cap * 2 : 64;
        bwm_dead_t *n = realloc(e->e_dead, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        e->e_dead = n;
        e->e_dead_cap = cap;
    }
    d = &e->e_dead[e->e_ndead++];
    d->d_row = row;
    d->d_reason = reason;
    snprintf(d->d_error, sizeof(d->d_error), "%s", error);
    e->e_rows[row].r_state = ROW_DEAD;
    return BWM_OK;
}

static bwm_eval_t row_eval(bwm_engine_t *e, const row_t *r, char *error, size_t size)
{
    bwm_eval_t ev = {&e->e_slots[r->r_slot0], e->e_aggvals, e->e_keyvals,
                     &e->e_eval_arena,        error,        size};

    return ev;
}

/* Room for one more row and its slots. */
static bwm_err_t grow_rows(bwm_engine_t *e)
{
    size_t ns = e->e_plan->p_nslots, cap;
    row_t *nr;
    bwm_value_t *nsl;

    if (e->e_nrows < e->e_rows_cap) {
        return BWM_OK;
    }
    cap = e->e_rows_cap ? e->e_rows_cap * 2 : 256;
    nr = realloc(e->e_rows, cap * sizeof(*nr));
    if (!nr) {
        return BWM_ERR_NOMEM;
    }
    e->e_rows = nr;
    nsl = realloc(e->e_slots, (cap * ns + 1) * sizeof(*nsl));
    if (!nsl) {
        return BWM_ERR_NOMEM;
    }
    e->e_slots = nsl;
    e->e_rows_cap = cap;
    return BWM_OK;
}

bwm_value_t *bwm_engine_next_slots(bwm_engine_t *e)
{
    return grow_rows(e) ? NULL : &e->e_slots[e->e_nrows * e->e_plan->p_nslots];
}

bwm_err_t bwm_engine_stage(bwm_engine_t *e, int64_t offset, int64_t kafka_ts,
                           const bwm_value_t *slots, int lent, size_t *rowp)
{
    const bwm_plan_t *p = e->e_plan;
    size_t ns = p->p_nslots, i;
    row_t *r;
    bwm_value_t *copy;
    char error[256];
    bwm_eval_t ev;
    char *key;
    int ok, held = 0;

    error[0] = '\0';
    if (grow_rows(e)) {
        return BWM_ERR_NOMEM;
    }
    *rowp = e->e_nrows;
    r = &e->e_rows[e->e_nrows++];
    memset(r, 0, sizeof(*r));
    r->r_offset = offset;
    r->r_slot0 = *rowp * ns;
    copy = &e->e_slots[r->r_slot0];
    for (i = 0; i < ns && (copy != slots || !lent); i++) {
        copy[i] = slots[i];
        if (!lent && slots[i].v_type == BWM_T_STRING && slots[i].u.v_str.n) {
            char *s = bwm_arena_alloc(&e->e_arena, slots[i].u.v_str.n);

            if (!s) {
                return BWM_ERR_NOMEM;
            }
            memcpy(s, slots[i].u.v_str.p, slots[i].u.v_str.n);
            copy[i].u.v_str.p = s;
        }
    }
    /* event time */
    r->r_time = kafka_ts;
    if (p->p_time_slot >= 0) {
        const bwm_value_t *t = &copy[p->p_time_slot];

        r->r_time = t->v_type == BWM_T_LONG ? (p->p_time_micros ? t->u.v_long / 1000 : t->u.v_long)
                                            : BWM_TIME_NONE;
    }
    if (r->r_time == BWM_TIME_NONE && p->p_window.w_kind != BWM_WINDOW_NONE) {
        return dead(e, *rowp, "eval", "the record has no event time");
    }
    bwm_arena_reset(&e->e_eval_arena);
    ev = row_eval(e, r, error, sizeof(error));
    if (p->p_where) {
        ok = bwm_expr_test(p->p_where, &ev);
        if (ok < 0) {
            return dead(e, *rowp, "eval", error);
        }
        if (!ok) {
            r->r_state = ROW_FILTERED;
            e->e_nfiltered++;
            goto time;
        }
    }
    if (p->p_stateless) {
        goto time;
    }
    for (i = 0; i < p->p_nkeys; i++) {
        const bwm_value_t *v;

        if (bwm_expr_value(p->p_keys[i].pk_expr, &ev, &e->e_keyvals[i], &v) != BWM_OK) {
            return dead(e, *rowp, "eval", error);
        }
        held = v != &e->e_keyvals[i]; /* a column or constant: it lives as long as the round */
        if (held) {
            e->e_keyvals[i] = *v;
        }
        if (e->e_keyvals[i].v_type == BWM_T_NULL) {
            snprintf(error, sizeof(error), "group key %s is null", p->p_keys[i].pk_name);
            return dead(e, *rowp, "eval", error);
        }
        if (e->e_keyvals[i].v_type == BWM_T_DOUBLE && !isfinite(e->e_keyvals[i].u.v_double)) {
            snprintf(error, sizeof(error), "group key %s is not a finite number",
                     p->p_keys[i].pk_name);
            return dead(e, *rowp, "eval", error);
        }
    }
    if (p->p_nkeys == 1 && held && e->e_keyvals[0].v_type == BWM_T_STRING) {
        /* One string key's text is the string itself, copied or lent for the round: no copy. */
        size_t n = e->e_keyvals[0].u.v_str.n;

        if (n > e->e_limits.el_max_key_bytes) {
            snprintf(error, sizeof(error), "group key of %zu bytes exceeds the limit of %zu", n,
                     e->e_limits.el_max_key_bytes);
            return dead(e, *rowp, "limit", error);
        }
        r->r_key = n ? e->e_keyvals[0].u.v_str.p : "";
        r->r_keylen = n;
        r->r_hash = bwm_table_hash(r->r_key, n);
        goto time;
    }
    bwm_buf_reset(&e->e_keybuf);
    key_text(e, e->e_keyvals, &e->e_keybuf);
    if (e->e_keybuf.b_failed) {
        return BWM_ERR_NOMEM;
    }
    if (e->e_keybuf.b_len > e->e_limits.el_max_key_bytes) {
        snprintf(error, sizeof(error), "group key of %zu bytes exceeds the limit of %zu",
                 e->e_keybuf.b_len, e->e_limits.el_max_key_bytes);
        return dead(e, *rowp, "limit", error);
    }
    key = bwm_arena_alloc(&e->e_arena, e->e_keybuf.b_len + 1);
    if (!key) {
        return BWM_ERR_NOMEM;
    }
    memcpy(key, e->e_keybuf.b_data, e->e_keybuf.b_len);
    key[e->e_keybuf.b_len] = '\0';
    r->r_key = key;
    r->r_keylen = e->e_keybuf.b_len;
    r->r_hash = bwm_table_hash(key, r->r_keylen);
time:
    if (r->r_time != BWM_TIME_NONE && r->r_time > e->e_stage_wm) {
        e->e_stage_wm = r->r_time;
    }
    return BWM_OK;
}

/* ---- loading ---- */

static bwm_err_t add_missing(bwm_engine_t *e, bwm_entry_t *en)
{
    if (e->e_nmissing == e->e_missing_cap) {
        size_t cap = e->e_missing_cap ? e->e_missing_cap * 2 : 256;
        bwm_entry_t **m = realloc(e->e_missing, cap * sizeof(*m));
        bwm_keyref_t *k;

        if (!m) {
            return BWM_ERR_NOMEM;
        }
        e->e_missing = m;
        k = realloc(e->e_missing_keys, cap * sizeof(*k));
        if (!k) {
            return BWM_ERR_NOMEM;
        }
        e->e_missing_keys = k;
        e->e_missing_cap = cap;
    }
    e->e_missing[e->e_nmissing] = en;
    e->e_missing_keys[e->e_nmissing].kr_key = en->e_key;
    e->e_missing_keys[e->e_nmissing].kr_len = en->e_keylen;
    e->e_nmissing++;
    return BWM_OK;
}

/* The entry for key: held, or added unloaded and listed as missing. */
static bwm_err_t entry_for(bwm_engine_t *e, uint64_t h, const char *key, size_t keylen,
                           bwm_entry_t **out)
{
    bwm_entry_t *en = bwm_table_get_hashed(e->e_table, h, key, keylen);
    bwm_err_t err;

    if (en) {
        bwm_table_use(e->e_table, en);
    } else {
        err = bwm_table_put(e->e_table, key, keylen, &en);
        if (err) {
            return err;
        }
        err = add_missing(e, en);
        if (err) {
            return err;
        }
    }
    *out = en;
    return BWM_OK;
}

bwm_err_t bwm_engine_missing(bwm_engine_t *e, const bwm_keyref_t **keys, size_t *n)
{
    size_t i;
    bwm_err_t err;

    e->e_nmissing = 0;
    for (i = 0; i < e->e_nrows; i++) {
        row_t *r = &e->e_rows[i];

        /* The slots, then the entries, of the rows ahead: lookups wait on memory. */
        if (i + PREFETCH_ROWS * 2 < e->e_nrows && e->e_rows[i + PREFETCH_ROWS * 2].r_key) {
            bwm_table_prefetch(e->e_table, e->e_rows[i + PREFETCH_ROWS * 2].r_hash, 0);
        }
        if (i + PREFETCH_ROWS < e->e_nrows && e->e_rows[i + PREFETCH_ROWS].r_key) {
            bwm_table_prefetch(e->e_table, e->e_rows[i + PREFETCH_ROWS].r_hash, 1);
        }
        if (r->r_state == ROW_STAGED && r->r_key &&
            (err = entry_for(e, r->r_hash, r->r_key, r->r_keylen, &r->r_entry)) != BWM_OK) {
            return err;
        }
    }
    /* Stored keys whose windows this batch will close must be read too. */
    while (e->e_expect.xh_n > 0 && e->e_expect.xh_items[0].x_close <= e->e_stage_wm) {
        expect_item_t it = xh_pop(&e->e_expect);
        bwm_entry_t *en;

        err = entry_for(e, bwm_table_hash(it.x_key, it.x_keylen), it.x_key, it.x_keylen, &en);
        free(it.x_key);
        if (err) {
            return err;
        }
    }
    *keys = e->e_missing_keys;
    *n = e->e_nmissing;
    return BWM_OK;
}

void bwm_engine_counts(const bwm_engine_t *e, size_t *staged, size_t *filtered, size_t *dead)
{
    *staged = e->e_nrows;
    *filtered = e->e_nfiltered;
    *dead = e->e_ndead;
}

/* The earliest close time of e's windows, INT64_MAX when none. */
static int64_t earliest_close(const bwm_engine_t *e, const bwm_entry_t *en)
{
    const bwm_window_t *w = &e->e_plan->p_window;
    int64_t c = INT64_MAX;
    uint32_t i;

    if (w->w_kind == BWM_WINDOW_NONE) {
        return INT64_MAX;
    }
    for (i = 0; i < en->e_nwins; i++) {
        int64_t ci = bwm_window_close(w, en->e_wins[i]->w_start, en->e_wins[i]->w_last);

        c = ci < c ? ci : c;
    }
    return c;
}

/* Keeps en in the close heap at the earliest close of its windows; out of it without windows. */
static bwm_err_t queue_close(bwm_engine_t *e, bwm_entry_t *en)
{
    int64_t c = earliest_close(e, en);

    if (c == en->e_close) {
        return BWM_OK;
    }
    if (en->e_close == INT64_MAX) {
        en->e_close = c;
        if (cq_push(&e->e_close, en)) {
            en->e_close = INT64_MAX;
            return BWM_ERR_NOMEM;
        }
        return BWM_OK;
    }
    if (c == INT64_MAX) {
        cq_remove(&e->e_close, en);
        en->e_close = INT64_MAX;
        return BWM_OK;
    }
    en->e_close = c;
    cq_up(&e->e_close, en->e_pos);
    cq_down(&e->e_close, en->e_pos);
    return BWM_OK;
}

bwm_err_t bwm_engine_load(bwm_engine_t *e, size_t i, const void *val, size_t len, char *errstr,
                          size_t errstr_size)
{
    bwm_entry_t *en;
    bwm_err_t err;

    if (i >= e->e_nmissing) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "no missing key %zu", i);
    }
    en = e->e_missing[i];
    if (!val) {
        return BWM_OK;
    }
    err = bwm_table_restore(e->e_table, en, val, len, errstr, errstr_size);
    if (err) {
        return err;
    }
    return queue_close(e, en) ? bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory")
                              : BWM_OK;
}

/* ---- outputs ---- */

static bwm_err_t add_output(bwm_engine_t *e, bwm_output_t **out)
{
    if (e->e_nouts == e->e_outs_cap) {
        size_t cap = e->e_outs_cap ? e->e_outs_cap * 2 : 256;
        bwm_output_t *n = realloc(e->e_outs, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        e->e_outs = n;
        e->e_outs_cap = cap;
    }
    *out = &e->e_outs[e->e_nouts++];
    memset(*out, 0, sizeof(**out));
    return BWM_OK;
}

/* Appends the Kafka key of (entry, window start) to the output data. */
static void put_out_key(bwm_engine_t *e, const bwm_entry_t *en, int64_t start, bwm_output_t *o)
{
    o->o_key_off = e->e_out_data.b_len;
    bwm_buf_put(&e->e_out_data, en->e_key, en->e_keylen);
    if (e->e_plan->p_window.w_kind != BWM_WINDOW_NONE) {
        bwm_buf_put_u8(&e->e_out_data, '@');
        bwm_buf_put_dec(&e->e_out_data, start);
    }
    o->o_key_len = e->e_out_data.b_len - o->o_key_off;
}

static bwm_err_t emit_tombstone(bwm_engine_t *e, const bwm_entry_t *en, int64_t start)
{
    bwm_output_t *o;

    if (add_output(e, &o)) {
        return BWM_ERR_NOMEM;
    }
    o->o_kind = BWM_OUT_TOMBSTONE;
    put_out_key(e, en, start, o);
    return e->e_out_data.b_failed ? BWM_ERR_NOMEM : BWM_OK;
}

/* Emits the result of window w of en with this version, or a tombstone when HAVING rejects it. */
static bwm_err_t emit_window(bwm_engine_t *e, const bwm_entry_t *en, const bwm_win_t *w,
                             int64_t version, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = e->e_plan;
    char error[256];
    bwm_eval_t ev = {NULL, e->e_aggvals, e->e_keyvals, &e->e_eval_arena, error, sizeof(error)};
    bwm_output_t *o;
    size_t f = 0, i;
    int ok;
    bwm_err_t err;

    error[0] = '\0';
    bwm_arena_reset(&e->e_eval_arena);
    if (key_values(e, en, e->e_keyvals) != BWM_OK) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "key text '%s' does not parse",
                           en->e_key);
    }
    bwm_table_results(e->e_table, w, e->e_aggvals);
    if (p->p_having) {
        ok = bwm_expr_test(p->p_having, &ev);
        if (ok <= 0) {
            /* A HAVING that fails or errs hides the (key, window). */
            return emit_tombstone(e, en, w->w_start);
        }
    }
    for (i = 0; i < p->p_nkeys; i++) {
        e->e_fields[f++] = e->e_keyvals[i];
    }
    if (p->p_window.w_kind != BWM_WINDOW_NONE) {
        e->e_fields[f].v_type = BWM_T_LONG;
        e->e_fields[f++].u.v_long = w->w_start;
        e->e_fields[f].v_type = BWM_T_LONG;
        e->e_fields[f++].u.v_long = bwm_window_end(&p->p_window, w->w_start, w->w_last);
    }
    for (i = 0; i < p->p_ncols; i++) {
        if (bwm_expr_eval(p->p_cols[i].pc_expr, &ev, &e->e_fields[f]) != BWM_OK) {
            /* A column that cannot be computed (overflow) is NULL; result columns are nullable. */
            e->e_fields[f].v_type = BWM_T_NULL;
        }
        f++;
    }
    e->e_fields[f].v_type = BWM_T_LONG;
    e->e_fields[f].u.v_long = version;
    if (add_output(e, &o)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    o->o_kind = BWM_OUT_RESULT;
    put_out_key(e, en, w->w_start, o);
    o->o_val_off = e->e_out_data.b_len;
    err = bwm_result_encode(e->e_enc, e->e_fields, &e->e_out_data, errstr, errstr_size);
    if (err) {
        return err;
    }
    o->o_val_len = e->e_out_data.b_len - o->o_val_off;
    return e->e_out_data.b_failed ? BWM_ERR_NOMEM : BWM_OK;
}

bwm_err_t bwm_engine_inspect(bwm_engine_t *e, const char *key, size_t keylen, const void *val,
                             size_t len, char *errstr, size_t errstr_size)
{
    bwm_entry_t *en;
    uint32_t i;
    bwm_err_t err;

    if (bwm_table_get(e->e_table, key, keylen)) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "key '%.*s' inspected twice",
                           (int)keylen, key);
    }
    if (bwm_table_put(e->e_table, key, keylen, &en) != BWM_OK) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    err = bwm_table_restore(e->e_table, en, val, len, errstr, errstr_size);
    for (i = 0; !err && i < en->e_nwins; i++) {
        err = emit_window(e, en, en->e_wins[i], en->e_wins[i]->w_version, errstr, errstr_size);
    }
    bwm_table_del(e->e_table, en);
    return err;
}

static bwm_err_t emit_row(bwm_engine_t *e, size_t row, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = e->e_plan;
    row_t *r = &e->e_rows[row];
    char error[256];
    bwm_eval_t ev = row_eval(e, r, error, sizeof(error));
    bwm_output_t *o;
    size_t i;
    bwm_err_t err;

    error[0] = '\0';
    bwm_arena_reset(&e->e_eval_arena);
    for (i = 0; i < p->p_ncols; i++) {
        err = bwm_expr_eval(p->p_cols[i].pc_expr, &ev, &e->e_fields[i]);
        if (err) {
            return dead(e, row, "eval", error);
        }
        if (e->e_fields[i].v_type == BWM_T_NULL && !p->p_cols[i].pc_nullable) {
            snprintf(error, sizeof(error), "column %s is NULL", p->p_cols[i].pc_name);
            return dead(e, row, "eval", error);
        }
    }
    e->e_fields[p->p_ncols].v_type = BWM_T_LONG;
    e->e_fields[p->p_ncols].u.v_long = r->r_offset;
    if (add_output(e, &o)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    o->o_kind = BWM_OUT_RESULT;
    o->o_row = row;
    o->o_val_off = e->e_out_data.b_len;
    err = bwm_result_encode(e->e_enc, e->e_fields, &e->e_out_data, errstr, errstr_size);
    o->o_val_len = e->e_out_data.b_len - o->o_val_off;
    return err;
}

/* ---- applying ---- */

/* Keeps closed window w of en for the retention: a change of its own in this batch. */
static bwm_err_t retain_window(bwm_engine_t *e, const bwm_entry_t *en, const bwm_win_t *w)
{
    bwm_buf_t *b = &e->e_retain_data;
    retained_t *rt;

    if (e->e_nretained == e->e_retained_cap) {
        size_t cap = e->e_retained_cap ? e->e_retained_cap * 2 : 64;
        retained_t *n = realloc(e->e_retained, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        e->e_retained = n;
        e->e_retained_cap = cap;
    }
    rt = &e->e_retained[e->e_nretained++];
    rt->rt_key_off = b->b_len;
    bwm_buf_put(b, en->e_key, en->e_keylen);
    bwm_buf_put_u8(b, '@');
    bwm_buf_put_dec(b, w->w_start);
    rt->rt_key_len = b->b_len - rt->rt_key_off;
    rt->rt_val_off = b->b_len;
    bwm_table_encode_window(e->e_table, w, b);
    rt->rt_val_len = b->b_len - rt->rt_val_off;
    return b->b_failed ? BWM_ERR_NOMEM : BWM_OK;
}

/* Closes every window whose close time the watermark reached; version: the record that did it. */
static bwm_err_t close_windows(bwm_engine_t *e, int64_t version, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = e->e_plan;
    bwm_err_t err;

    while (e->e_close.cq_n > 0 && e->e_close.cq_items[0]->e_close <= e->e_wm) {
        bwm_entry_t *en = e->e_close.cq_items[0];
        uint32_t k;

        cq_remove(&e->e_close, en);
        en->e_close = INT64_MAX;
        for (k = 0; k < en->e_nwins;) {
            bwm_win_t *w = en->e_wins[k];

            if (bwm_window_close(&p->p_window, w->w_start, w->w_last) > e->e_wm) {
                k++;
                continue;
            }
            if (p->p_emit == BWM_EMIT_FINAL || w->w_touched) {
                err = emit_window(e, en, w, p->p_emit == BWM_EMIT_FINAL ? version : w->w_version,
                                  errstr, errstr_size);
                if (err) {
                    return err;
                }
            }
            if (e->e_limits.el_retention_ms > 0 && retain_window(e, en, w)) {
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
            bwm_table_window_drop(e->e_table, en, w);
            if (bwm_table_touch(e->e_table, en)) {
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
        }
        if (queue_close(e, en)) {
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    return BWM_OK;
}

/*
 * The windows a staged row goes into: 0 targets and late set when every
 * window of its time is closed. Sessions are merged here; their windows
 * are then detached from the entry until the row is applied (see apply_row).
 */
static bwm_err_t find_targets(bwm_engine_t *e, row_t *r, size_t *ntargets, int *late)
{
    const bwm_plan_t *p = e->e_plan;
    const bwm_window_t *w = &p->p_window;
    bwm_entry_t *en = r->r_entry;
    int64_t end;
    size_t n, i;

    *ntargets = 0;
    *late = 0;
    switch (w->w_kind) {
        case BWM_WINDOW_NONE:
            e->e_targets[0] = bwm_table_window(e->e_table, en, 0, 1);
            if (!e->e_targets[0]) {
                return BWM_ERR_NOMEM;
            }
            *ntargets = 1;
            return BWM_OK;
        case BWM_WINDOW_TUMBLING:
            if (r->r_time < e->e_tumble_start || r->r_time >= e->e_tumble_end) {
                if (bwm_window_starts(w, r->r_time, e->e_starts, 1) != 1) {
                    *late = 1;
                    return BWM_OK;
                }
                e->e_tumble_start = e->e_starts[0];
                e->e_tumble_close = bwm_window_close(w, e->e_tumble_start, 0);
                if (__builtin_add_overflow(e->e_tumble_start, w->w_size, &end)) {
                    end = e->e_tumble_start; /* at the end of time: found afresh each time */
                }
                e->e_tumble_end = end;
            }
            if (e->e_wm != BWM_TIME_NONE && e->e_tumble_close <= e->e_wm) {
                *late = 1; /* closed */
                return BWM_OK;
            }
            e->e_targets[0] = bwm_table_window(e->e_table, en, e->e_tumble_start, 1);
            if (!e->e_targets[0]) {
                return BWM_ERR_NOMEM;
            }
            *ntargets = 1;
            return BWM_OK;
        case BWM_WINDOW_HOPPING:
            n = bwm_window_starts(w, r->r_time, e->e_starts, BWM_WINDOW_MAX_HOPS);
            for (i = 0; i < n; i++) {
                bwm_win_t *win;

                if (e->e_wm != BWM_TIME_NONE && bwm_window_close(w, e->e_starts[i], 0) <= e->e_wm) {
                    continue; /* closed */
                }
                win = bwm_table_window(e->e_table, en, e->e_starts[i], 1);
                if (!win) {
                    return BWM_ERR_NOMEM;
                }
                e->e_targets[(*ntargets)++] = win;
            }
            *late = *ntargets == 0;
            return BWM_OK;
        case BWM_WINDOW_SESSION:
            for (i = 0; i < en->e_nwins; i++) {
                bwm_win_t *s = en->e_wins[i];

                if (bwm_window_session_reaches(w, s->w_start, s->w_last, r->r_time) &&
                    (e->e_wm == BWM_TIME_NONE ||
                     bwm_window_close(w, s->w_start, s->w_last) > e->e_wm) &&
                    *ntargets < BWM_WINDOW_MAX_HOPS) {
                    e->e_targets[(*ntargets)++] = s;
                }
            }
            if (*ntargets == 0 && e->e_wm != BWM_TIME_NONE &&
                bwm_window_close(w, r->r_time, r->r_time) <= e->e_wm) {
                *late = 1;
            }
            return BWM_OK;
    }
    return BWM_OK;
}

/* Step a's argument for a row: its slot, what add_to_windows() computed, or NULL for '*'. */
static inline const bwm_value_t *step_arg(const bwm_engine_t *e, size_t a, const bwm_value_t *slots)
{
    const agg_step_t *s = &e->e_steps[a];

    return s->as_slot >= 0 ? &slots[s->as_slot] : e->e_args[a];
}

/*
 * Checks, then adds, the row to every target; all or nothing. An aggregate
 * whose argument is null skips the row, as in SQL. Only arguments that are
 * expressions are computed first; a column is read from its slot.
 */
static bwm_err_t add_to_windows(bwm_engine_t *e, row_t *r, size_t ntargets, char *error,
                                size_t error_size, int *refused)
{
    const bwm_value_t *slots = &e->e_slots[r->r_slot0];
    size_t naggs = e->e_plan->p_naggs, a, c, t;
    bwm_value_t *tmp = e->e_aggvals; /* computed arguments, reused as scratch */
    bwm_agg_input_t in;
    bwm_eval_t ev;
    bwm_err_t err;

    *refused = 0;
    if (e->e_ncomputed) {
        ev = row_eval(e, r, error, error_size);
        for (c = 0; c < e->e_ncomputed; c++) {
            a = e->e_computed[c];
            if (bwm_expr_value(e->e_steps[a].as_arg, &ev, &tmp[a], &e->e_args[a]) != BWM_OK) {
                *refused = 1;
                return BWM_OK;
            }
        }
    }
    in.ai_time = r->r_time;
    in.ai_offset = r->r_offset;
    for (t = 0; t < ntargets && e->e_nchecks; t++) {
        char *state = (char *)e->e_targets[t]->w_state;

        for (c = 0; c < e->e_nchecks; c++) {
            const agg_step_t *s = &e->e_steps[e->e_checks[c]];

            in.ai_value = step_arg(e, e->e_checks[c], slots);
            if (in.ai_value && in.ai_value->v_type == BWM_T_NULL) {
                continue;
            }
            if ((err = s->as_check(state + s->as_offset, &in))) {
                snprintf(error, error_size, "%s in %s", bwm_err2str(err), s->as_sql);
                *refused = 1;
                return BWM_OK;
            }
        }
    }
    for (t = 0; t < ntargets; t++) {
        bwm_win_t *w = e->e_targets[t];
        char *state = (char *)w->w_state;

        for (a = 0; a < naggs; a++) {
            const agg_step_t *s = &e->e_steps[a];

            in.ai_value = step_arg(e, a, slots);
            if (in.ai_value && in.ai_value->v_type == BWM_T_NULL) {
                continue;
            }
            if ((err = s->as_add(state + s->as_offset, &in))) {
                return err;
            }
        }
        w->w_version = r->r_offset;
        w->w_touched = 1;
    }
    return BWM_OK;
}

/*
 * A record for a session: it starts a session, extends one, or bridges
 * several, which merge into one new window (the old ones get tombstones).
 * The merge is built detached and only attached when the record applies.
 */
static bwm_err_t apply_session(bwm_engine_t *e, row_t *r, size_t ntargets, char *error,
                               size_t error_size, int *refused)
{
    bwm_entry_t *en = r->r_entry;
    bwm_win_t *merged;
    int64_t first = r->r_time, last = first;
    size_t i, a;
    bwm_err_t err;

    for (i = 0; i < ntargets; i++) {
        first = e->e_targets[i]->w_start < first ? e->e_targets[i]->w_start : first;
        last = e->e_targets[i]->w_last > last ? e->e_targets[i]->w_last : last;
    }
    if (ntargets == 1 && e->e_targets[0]->w_start == first) {
        /* The session keeps its start: extend it in place. */
        err = add_to_windows(e, r, 1, error, error_size, refused);
        if (!err && !*refused) {
            e->e_targets[0]->w_last = last;
        }
        return err;
    }
    merged = bwm_table_window_new(e->e_table, first);
    if (!merged) {
        return BWM_ERR_NOMEM;
    }
    merged->w_last = last;
    for (i = 0; i < ntargets; i++) {
        for (a = 0; a < e->e_plan->p_naggs; a++) {
            const bwm_plan_agg_t *pa = &e->e_plan->p_aggs[a];

            err = pa->pa_ops->ao_merge((char *)merged->w_state + pa->pa_offset,
                                       (char *)e->e_targets[i]->w_state + pa->pa_offset);
            if (err) {
                bwm_table_window_free(e->e_table, merged);
                if (err == BWM_ERR_NOMEM) {
                    return err;
                }
                snprintf(error, error_size, "%s when merging sessions in %s", bwm_err2str(err),
                         pa->pa_sql);
                *refused = 1;
                return BWM_OK;
            }
        }
    }
    {
        bwm_win_t *old[BWM_WINDOW_MAX_HOPS + 1];
        size_t nold = ntargets;

        memcpy(old, e->e_targets, ntargets * sizeof(*old));
        e->e_targets[0] = merged;
        err = add_to_windows(e, r, 1, error, error_size, refused);
        if (err || *refused) {
            bwm_table_window_free(e->e_table, merged);
            return err;
        }
        for (i = 0; i < nold; i++) {
            int64_t start = old[i]->w_start;

            bwm_table_window_drop(e->e_table, en, old[i]);
            if (start != first && (err = emit_tombstone(e, en, start))) {
                bwm_table_window_free(e->e_table, merged);
                return err;
            }
        }
        return bwm_table_window_attach(e->e_table, en, merged);
    }
}

static bwm_err_t apply_row(bwm_engine_t *e, size_t row, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = e->e_plan;
    row_t *r = &e->e_rows[row];
    char error[256];
    size_t ntargets;
    uint32_t nwins;
    int late, refused = 0;
    bwm_err_t err;

    error[0] = '\0';
    if (p->p_stateless) {
        return emit_row(e, row, errstr, errstr_size);
    }
    nwins = r->r_entry->e_nwins;
    bwm_arena_reset(&e->e_eval_arena);
    err = find_targets(e, r, &ntargets, &late);
    if (err) {
        return bwm_err_set(err, errstr, errstr_size, "out of memory");
    }
    if (late) {
        snprintf(error, sizeof(error),
                 "event time %" PRId64 " is behind the watermark %" PRId64
                 " by more than the window and its grace",
                 r->r_time, e->e_wm);
        return dead(e, row, "late", error);
    }
    if (p->p_window.w_kind == BWM_WINDOW_SESSION) {
        if (ntargets == 0) {
            e->e_targets[0] = bwm_table_window(e->e_table, r->r_entry, r->r_time, 1);
            if (!e->e_targets[0]) {
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
            ntargets = 1;
        }
        err = apply_session(e, r, ntargets, error, sizeof(error), &refused);
    } else {
        err = add_to_windows(e, r, ntargets, error, sizeof(error), &refused);
    }
    if (err) {
        return bwm_err_set(err, errstr, errstr_size, "%s", bwm_err2str(err));
    }
    if (refused) {
        /* Drop windows this row created but could not fill. */
        uint32_t k;

        for (k = 0; k < r->r_entry->e_nwins;) {
            if (r->r_entry->e_wins[k]->w_version < 0) {
                bwm_table_window_drop(e->e_table, r->r_entry, r->r_entry->e_wins[k]);
            } else {
                k++;
            }
        }
        return dead(e, row, "eval", error);
    }
    if (bwm_table_touch(e->e_table, r->r_entry)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    /* Fixed windows close as they started: only a new window can move the entry's close. */
    if ((p->p_window.w_kind == BWM_WINDOW_SESSION || r->r_entry->e_nwins != nwins) &&
        queue_close(e, r->r_entry)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}

bwm_err_t bwm_engine_apply(bwm_engine_t *e, int last, char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = e->e_plan;
    bwm_entry_t *const *touched;
    size_t i, n;
    uint32_t k;
    bwm_err_t err;

    for (i = 0; i < e->e_nrows; i++) {
        row_t *r = &e->e_rows[i];

        if (i + PREFETCH_ROWS < e->e_nrows && e->e_rows[i + PREFETCH_ROWS].r_entry) {
            bwm_table_prefetch_hot(e->e_table, e->e_rows[i + PREFETCH_ROWS].r_entry);
        }
        if (r->r_state == ROW_STAGED) {
            err = apply_row(e, i, errstr, errstr_size);
            if (err) {
                return err;
            }
        }
        if (r->r_state != ROW_DEAD && r->r_time != BWM_TIME_NONE &&
            (e->e_wm == BWM_TIME_NONE || r->r_time > e->e_wm)) {
            e->e_wm = r->r_time;
            err = close_windows(e, r->r_offset, errstr, errstr_size);
            if (err) {
                return err;
            }
        }
    }
    if (last && p->p_emit == BWM_EMIT_CHANGES && !p->p_stateless) {
        touched = bwm_table_touched(e->e_table, &n);
        for (i = 0; i < n; i++) {
            for (k = 0; k < touched[i]->e_nwins; k++) {
                bwm_win_t *w = touched[i]->e_wins[k];

                if (w->w_touched) {
                    err = emit_window(e, touched[i], w, w->w_version, errstr, errstr_size);
                    if (err) {
                        return err;
                    }
                }
            }
        }
    }
    return BWM_OK;
}

const bwm_output_t *bwm_engine_outputs(const bwm_engine_t *e, size_t *n)
{
    *n = e->e_nouts;
    return e->e_outs;
}

const uint8_t *bwm_engine_output_data(const bwm_engine_t *e)
{
    return e->e_out_data.b_data;
}

const bwm_dead_t *bwm_engine_dead(const bwm_engine_t *e, size_t *n)
{
    *n = e->e_ndead;
    return e->e_dead;
}

/* The closed windows kept for the retention, as changes from c on. */
static void retained_changes(const bwm_engine_t *e, bwm_change_t *c)
{
    size_t i;

    for (i = 0; i < e->e_nretained; i++, c++) {
        const retained_t *rt = &e->e_retained[i];

        memset(c, 0, sizeof(*c));
        c->ch_key = (const char *)e->e_retain_data.b_data + rt->rt_key_off;
        c->ch_keylen = rt->rt_key_len;
        c->ch_val = e->e_retain_data.b_data + rt->rt_val_off;
        c->ch_vallen = rt->rt_val_len;
        c->ch_retain = 1;
        c->ch_ttl_ms = e->e_limits.el_retention_ms;
    }
}

bwm_err_t bwm_engine_changes(bwm_engine_t *e, const bwm_change_t **out, size_t *n)
{
    bwm_entry_t *const *touched;
    size_t i, nt, *offs;
    int windowed = e->e_plan->p_window.w_kind != BWM_WINDOW_NONE;

    touched = bwm_table_touched(e->e_table, &nt);
    if (nt + e->e_nretained > e->e_changes_cap) {
        bwm_change_t *c = realloc(e->e_changes, (nt + e->e_nretained) * sizeof(*c));

        if (!c) {
            return BWM_ERR_NOMEM;
        }
        e->e_changes = c;
        e->e_changes_cap = nt + e->e_nretained;
    }
    offs = calloc(nt + 1, sizeof(*offs));
    if (!offs) {
        return BWM_ERR_NOMEM;
    }
    bwm_buf_reset(&e->e_change_data);
    for (i = 0; i < nt; i++) {
        offs[i] = e->e_change_data.b_len;
        if (touched[i]->e_nwins > 0) {
            bwm_table_encode(e->e_table, touched[i], &e->e_change_data);
            bwm_table_account(e->e_table, touched[i]); /* the states are in cache now */
        }
    }
    offs[nt] = e->e_change_data.b_len;
    if (e->e_change_data.b_failed) {
        free(offs);
        return BWM_ERR_NOMEM;
    }
    for (i = 0; i < nt; i++) {
        bwm_change_t *c = &e->e_changes[i];
        const bwm_entry_t *en = touched[i];

        c->ch_key = en->e_key;
        c->ch_keylen = en->e_keylen;
        c->ch_val = en->e_nwins ? e->e_change_data.b_data + offs[i] : NULL;
        c->ch_vallen = offs[i + 1] - offs[i];
        c->ch_index = windowed ? (en->e_nwins ? 1 : -1) : 0;
        c->ch_close = earliest_close(e, en);
        c->ch_retain = 0;
        c->ch_ttl_ms = 0;
    }
    free(offs);
    retained_changes(e, e->e_changes + nt);
    *out = e->e_changes;
    *n = nt + e->e_nretained;
    return BWM_OK;
}

/* Whether an array of cap items of size, n of them used in the batch, is to be freed (buf.h). */
static int trim(size_t cap, size_t n, size_t size)
{
    return cap * size > BWM_TRIM_MIN_BYTES && n < cap / 4;
}

/* Frees the batch's arrays it used under a quarter of (buf.h). */
static void trim_batch(bwm_engine_t *e)
{
    if (trim(e->e_rows_cap, e->e_nrows,
             sizeof(row_t) + e->e_plan->p_nslots * sizeof(bwm_value_t))) {
        free(e->e_rows);
        free(e->e_slots);
        e->e_rows = NULL;
        e->e_slots = NULL;
        e->e_rows_cap = 0;
    }
    if (trim(e->e_outs_cap, e->e_nouts, sizeof(bwm_output_t))) {
        free(e->e_outs);
        e->e_outs = NULL;
        e->e_outs_cap = 0;
    }
    bwm_buf_reset_trim(&e->e_out_data);
}

void bwm_engine_next_round(bwm_engine_t *e)
{
    e->e_nrows = 0;
    e->e_nfiltered = 0;
    e->e_nouts = 0;
    e->e_ndead = 0;
    e->e_nmissing = 0;
    bwm_buf_reset(&e->e_out_data);
    bwm_arena_reset(&e->e_arena);
    bwm_arena_reset(&e->e_eval_arena);
}

void bwm_engine_committed(bwm_engine_t *e)
{
    /*
     * Entries left without windows were deleted from the store; they stay in
     * memory, empty, until bwm_engine_evict() drops them, first of all.
     */
    bwm_table_clear_touched(e->e_table);
    trim_batch(e);
    bwm_engine_next_round(e); /* the staged records and what they produced */
    e->e_nretained = 0;
    bwm_buf_reset(&e->e_retain_data);
    e->e_stage_wm = e->e_wm;
}

/* ---- the cache ---- */

static int over_budget(const bwm_engine_t *e)
{
    const bwm_engine_limits_t *l = &e->e_limits;

    return (l->el_cache_entries && bwm_table_size(e->e_table) > l->el_cache_entries) ||
           (l->el_cache_bytes && bwm_table_bytes(e->e_table) > l->el_cache_bytes);
}

/* Drops en from memory; its open windows stay scheduled as an expected key. */
static bwm_err_t evict_entry(bwm_engine_t *e, bwm_entry_t *en)
{
    if (en->e_close != INT64_MAX) {
        if (e->e_expect.xh_n >= e->e_expect.xh_tidy) {
            expect_tidy(e);
        }
        if (xh_push(&e->e_expect, en->e_key, en->e_keylen, en->e_close)) {
            return BWM_ERR_NOMEM;
        }
        cq_remove(&e->e_close, en);
    }
    bwm_table_del(e->e_table, en);
    return BWM_OK;
}

void bwm_engine_set_budget(bwm_engine_t *e, size_t entries, size_t bytes)
{
    e->e_limits.el_cache_entries = entries;
    e->e_limits.el_cache_bytes = bytes;
}

size_t bwm_engine_evict(bwm_engine_t *e)
{
    size_t n = 0;
    bwm_entry_t *en;

    while (over_budget(e) && (en = bwm_table_victim(e->e_table)) && evict_entry(e, en) == BWM_OK) {
        n++;
    }
    return n;
}
