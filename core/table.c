/*
 * table.c: an open-addressing hash table of entries with linear probing, and
 * the atomic application of one record to an entry.
 */
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bwm_table {
    const bwm_plan_t *t_plan;
    bwm_entry_t **t_slots;
    size_t t_cap; /* power of two */
    size_t t_count;
    bwm_entry_t **t_touched;
    size_t t_ntouched;
    size_t t_touched_cap;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

bwm_table_t *bwm_table_new(const bwm_plan_t *plan)
{
    bwm_table_t *t = calloc(1, sizeof(*t));

    if (!t) {
        return NULL;
    }
    t->t_plan = plan;
    t->t_cap = 64;
    t->t_slots = calloc(t->t_cap, sizeof(*t->t_slots));
    if (!t->t_slots) {
        bwm_table_destroy(t);
        return NULL;
    }
    return t;
}

/* Frees an entry and whatever its aggregate states point to. */
static void entry_free(const bwm_table_t *t, bwm_entry_t *e)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;

    if (!e) {
        return;
    }
    for (i = 0; i < p->p_naggs; i++) {
        if (p->p_aggs[i].pa_ops->ao_destroy) {
            p->p_aggs[i].pa_ops->ao_destroy((char *)e->e_state + p->p_aggs[i].pa_offset);
        }
    }
    free(e);
}

void bwm_table_destroy(bwm_table_t *t)
{
    size_t i;

    if (!t) {
        return;
    }
    if (t->t_slots) {
        for (i = 0; i < t->t_cap; i++) {
            entry_free(t, t->t_slots[i]);
        }
    }
    free(t->t_slots);
    free(t->t_touched);
    free(t);
}

size_t bwm_table_size(const bwm_table_t *t)
{
    return t->t_count;
}

bwm_err_t bwm_table_key(const bwm_value_t *v, char *buf, size_t cap, size_t *len)
{
    int n;

    switch (v->v_type) {
        case BWM_T_STRING:
            if (v->u.v_str.n + 1 > cap) {
                return BWM_ERR_LIMIT;
            }
            memcpy(buf, v->u.v_str.p, v->u.v_str.n);
            buf[v->u.v_str.n] = '\0';
            *len = v->u.v_str.n;
            return BWM_OK;
        case BWM_T_LONG:
            n = snprintf(buf, cap, "%" PRId64, v->u.v_long);
            break;
        case BWM_T_BOOL:
            n = snprintf(buf, cap, "%s", v->u.v_bool ? "true" : "false");
            break;
        default:
            return BWM_ERR_TYPE;
    }
    if (n < 0 || (size_t)n >= cap) {
        return BWM_ERR_LIMIT;
    }
    *len = (size_t)n;
    return BWM_OK;
}

static size_t probe(const bwm_table_t *t, uint64_t h, const char *key, size_t keylen)
{
    size_t mask = t->t_cap - 1, i = (size_t)h & mask;

    for (;;) {
        const bwm_entry_t *e = t->t_slots[i];

        if (!e || (e->e_hash == h && e->e_keylen == keylen && memcmp(e->e_key, key, keylen) == 0)) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

bwm_entry_t *bwm_table_get(bwm_table_t *t, const char *key, size_t keylen)
{
    return t->t_slots[probe(t, hash_bytes(key, keylen), key, keylen)];
}

static bwm_err_t grow(bwm_table_t *t)
{
    size_t cap = t->t_cap * 2, i, mask = cap - 1;
    bwm_entry_t **slots = calloc(cap, sizeof(*slots));

    if (!slots) {
        return BWM_ERR_NOMEM;
    }
    for (i = 0; i < t->t_cap; i++) {
        bwm_entry_t *e = t->t_slots[i];
        size_t j;

        if (!e) {
            continue;
        }
        for (j = (size_t)e->e_hash & mask; slots[j]; j = (j + 1) & mask) {
        }
        slots[j] = e;
    }
    free(t->t_slots);
    t->t_slots = slots;
    t->t_cap = cap;
    return BWM_OK;
}

bwm_err_t bwm_table_restore(bwm_table_t *t, bwm_entry_t *e, const void *enc, size_t enclen,
                            char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = t->t_plan;
    bwm_cursor_t c;
    size_t i;
    uint8_t fmt, naggs;
    int64_t version;

    bwm_cursor_init(&c, enc, enclen);
    fmt = bwm_cursor_u8(&c);
    version = bwm_cursor_i64le(&c);
    naggs = bwm_cursor_u8(&c);
    if (c.c_failed || fmt != BWM_STATE_FORMAT || naggs != p->p_naggs) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "stored state of key '%s' has format %u with %u aggregates; this job "
                           "has format %u with %zu",
                           e->e_key, fmt, naggs, BWM_STATE_FORMAT, p->p_naggs);
    }
    for (i = 0; i < p->p_naggs; i++) {
        const bwm_plan_agg_t *a = &p->p_aggs[i];
        void *st = (char *)e->e_state + a->pa_offset;

        if (bwm_cursor_u8(&c) != a->pa_ops->ao_id || a->pa_ops->ao_decode(st, &c) != BWM_OK) {
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                               "stored state of key '%s' does not decode as %s (aggregate %zu)",
                               e->e_key, a->pa_ops->ao_name, i + 1);
        }
    }
    if (bwm_cursor_left(&c) != 0) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "stored state of key '%s' has %zu trailing bytes", e->e_key,
                           bwm_cursor_left(&c));
    }
    e->e_version = version;
    return BWM_OK;
}

bwm_err_t bwm_table_put(bwm_table_t *t, const char *key, size_t keylen, bwm_entry_t **out,
                        char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = t->t_plan;
    uint64_t h = hash_bytes(key, keylen);
    bwm_entry_t *e;
    size_t i;

    if ((t->t_count + 1) * 4 > t->t_cap * 3 && grow(t) != BWM_OK) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (keylen > UINT32_MAX) {
        return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size, "key too long");
    }
    i = probe(t, h, key, keylen);
    if (t->t_slots[i]) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "key '%.*s' is already loaded",
                           (int)keylen, key);
    }
    e = calloc(1, sizeof(*e) + p->p_state_size + keylen + 1);
    if (!e) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    e->e_hash = h;
    e->e_version = -1;
    e->e_key = (char *)e->e_state + p->p_state_size;
    memcpy(e->e_key, key, keylen);
    e->e_key[keylen] = '\0';
    e->e_keylen = (uint32_t)keylen;
    for (i = 0; i < p->p_naggs; i++) {
        p->p_aggs[i].pa_ops->ao_init((char *)e->e_state + p->p_aggs[i].pa_offset,
                                     p->p_aggs[i].pa_arg_type, &p->p_aggs[i].pa_params);
    }
    t->t_slots[probe(t, h, key, keylen)] = e;
    t->t_count++;
    *out = e;
    return BWM_OK;
}

/* Makes room to list one more touched entry, so marking it later cannot fail. */
static bwm_err_t reserve_touched(bwm_table_t *t)
{
    if (t->t_ntouched == t->t_touched_cap) {
        size_t cap = t->t_touched_cap ? t->t_touched_cap * 2 : 256;
        bwm_entry_t **n = realloc(t->t_touched, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        t->t_touched = n;
        t->t_touched_cap = cap;
    }
    return BWM_OK;
}

bwm_err_t bwm_table_apply(bwm_table_t *t, bwm_entry_t *e, const bwm_value_t *slots, int64_t offset,
                          char *errstr, size_t errstr_size)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;
    bwm_err_t err;

    if (reserve_touched(t) != BWM_OK) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    /* Every aggregate or none: first ask each whether it can take the record. */
    for (i = 0; i < p->p_naggs; i++) {
        const bwm_plan_agg_t *a = &p->p_aggs[i];
        bwm_agg_input_t in = {a->pa_slot >= 0 ? &slots[a->pa_slot] : NULL, 0, offset};

        if (in.ai_value && in.ai_value->v_type == BWM_T_NULL) {
            continue; /* aggregates skip nulls, as in SQL */
        }
        err = a->pa_ops->ao_check ? a->pa_ops->ao_check((char *)e->e_state + a->pa_offset, &in)
                                  : BWM_OK;
        if (err) {
            return bwm_err_set(err, errstr, errstr_size, "%s in %s(%s) for key '%s'",
                               bwm_err2str(err), a->pa_ops->ao_name,
                               in.ai_value ? p->p_slots[a->pa_slot].ss_name : "*", e->e_key);
        }
    }
    for (i = 0; i < p->p_naggs; i++) {
        const bwm_plan_agg_t *a = &p->p_aggs[i];
        bwm_agg_input_t in = {a->pa_slot >= 0 ? &slots[a->pa_slot] : NULL, 0, offset};

        if (in.ai_value && in.ai_value->v_type == BWM_T_NULL) {
            continue;
        }
        err = a->pa_ops->ao_add((char *)e->e_state + a->pa_offset, &in);
        if (err) {
            return bwm_err_set(err, errstr, errstr_size, "%s in %s for key '%s'",
                               bwm_err2str(err), a->pa_ops->ao_name, e->e_key);
        }
    }
    e->e_version = offset;
    e->e_dirty = 1;
    if (!e->e_touched) {
        e->e_touched = 1;
        t->t_touched[t->t_ntouched++] = e;
    }
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

    for (i = 0; i < t->t_ntouched; i++) {
        t->t_touched[i]->e_touched = 0;
        t->t_touched[i]->e_dirty = 0;
    }
    t->t_ntouched = 0;
}

void bwm_table_result(const bwm_table_t *t, const bwm_entry_t *e, bwm_value_t *out)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;

    for (i = 0; i < p->p_naggs; i++) {
        p->p_aggs[i].pa_ops->ao_result((const char *)e->e_state + p->p_aggs[i].pa_offset, &out[i]);
    }
}

void bwm_table_encode(const bwm_table_t *t, const bwm_entry_t *e, bwm_buf_t *b)
{
    const bwm_plan_t *p = t->t_plan;
    size_t i;

    bwm_buf_put_u8(b, BWM_STATE_FORMAT);
    bwm_buf_put_i64le(b, e->e_version);
    bwm_buf_put_u8(b, (uint8_t)p->p_naggs);
    for (i = 0; i < p->p_naggs; i++) {
        bwm_buf_put_u8(b, p->p_aggs[i].pa_ops->ao_id);
        p->p_aggs[i].pa_ops->ao_encode((const char *)e->e_state + p->p_aggs[i].pa_offset, b);
    }
}
