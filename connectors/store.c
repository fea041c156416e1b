/*
 * store.c: the backend list, the fence's stored form, and the in-memory
 * backend (same contract as Redis, for unit tests).
 */
#include "connectors/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const bwm_store_ops_t *bwm_store_find(const char *name)
{
    static const bwm_store_ops_t *const backends[] = {&bwm_store_redis_ops, &bwm_store_mem_ops};
    size_t i;

    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (strcmp(backends[i]->so_name, name) == 0) {
            return backends[i];
        }
    }
    return NULL;
}

static int cmp_part(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

void bwm_store_sort_partitions(int32_t *parts, size_t *n)
{
    size_t i, k = 0;

    if (*n == 0) {
        return;
    }
    qsort(parts, *n, sizeof(*parts), cmp_part);
    for (i = 1; i < *n; i++) {
        if (parts[i] != parts[k]) {
            parts[++k] = parts[i];
        }
    }
    *n = k + 1;
}

void bwm_fence_format(const bwm_fence_t *f, char *out, size_t size)
{
    if (f->f_offset < 0) {
        snprintf(out, size, "%s", "");
        return;
    }
    snprintf(out, size, "%" PRId64 ":%" PRId64, f->f_offset, f->f_watermark);
}

bwm_err_t bwm_fence_parse(const char *s, size_t len, bwm_fence_t *f)
{
    char tmp[64], *end, *colon;
    long long off, wm;

    if (len == 0) {
        f->f_offset = -1;
        f->f_watermark = BWM_WATERMARK_NONE;
        return BWM_OK;
    }
    if (len >= sizeof(tmp)) {
        return BWM_ERR_DECODE;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    colon = strchr(tmp, ':');
    if (!colon) {
        return BWM_ERR_DECODE;
    }
    *colon = '\0';
    errno = 0;
    off = strtoll(tmp, &end, 10);
    if (errno || *end || end == tmp || off < 0) {
        return BWM_ERR_DECODE;
    }
    wm = strtoll(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1) {
        return BWM_ERR_DECODE;
    }
    f->f_offset = off;
    f->f_watermark = wm;
    return BWM_OK;
}

/*
 * In-memory backend: a flat list of (namespace, partition, kind, key) ->
 * value, and of fences. Retained windows are kept without expiry.
 */
typedef struct mem_item {
    char *mi_ns;
    int32_t mi_part;
    bwm_store_kind_t mi_kind;
    char *mi_key; /* NULL for the partition's fence */
    size_t mi_keylen;
    void *mi_val; /* NULL: deleted */
    size_t mi_vallen;
    int mi_indexed; /* in the close index */
    int64_t mi_close;
    bwm_fence_t mi_fence;
} mem_item_t;

typedef struct mem_store {
    mem_item_t **ms_items; /* each allocated apart, so pointers stay valid as the list grows */
    size_t ms_count;
    size_t ms_cap;
} mem_store_t;

static bwm_err_t mem_open(const bwm_conf_t *conf, void **ctx, char *errstr, size_t errstr_size)
{
    (void)conf;
    *ctx = calloc(1, sizeof(mem_store_t));
    if (!*ctx) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}

static void mem_close(void *ctx)
{
    mem_store_t *m = ctx;
    size_t i;

    if (!m) {
        return;
    }
    for (i = 0; i < m->ms_count; i++) {
        free(m->ms_items[i]->mi_ns);
        free(m->ms_items[i]->mi_key);
        free(m->ms_items[i]->mi_val);
        free(m->ms_items[i]);
    }
    free(m->ms_items);
    free(m);
}

static mem_item_t *mem_find(mem_store_t *m, const char *ns, int32_t part, bwm_store_kind_t kind,
                            const char *key, size_t keylen)
{
    size_t i;

    for (i = 0; i < m->ms_count; i++) {
        mem_item_t *it = m->ms_items[i];

        if (it->mi_part == part && it->mi_kind == kind && strcmp(it->mi_ns, ns) == 0 &&
            !it->mi_key == !key &&
            (!key || (it->mi_keylen == keylen && memcmp(it->mi_key, key, keylen) == 0))) {
            return it;
        }
    }
    return NULL;
}

static mem_item_t *mem_add(mem_store_t *m, const char *ns, int32_t part, bwm_store_kind_t kind,
                           const char *key, size_t keylen)
{
    mem_item_t *it;

    if (m->ms_count == m->ms_cap) {
        size_t cap = m->ms_cap ? m->ms_cap * 2 : 64;
        mem_item_t **n = realloc(m->ms_items, cap * sizeof(*n));

        if (!n) {
            return NULL;
        }
        m->ms_items = n;
        m->ms_cap = cap;
    }
    it = calloc(1, sizeof(*it));
    if (!it) {
        return NULL;
    }
    it->mi_ns = strdup(ns);
    it->mi_part = part;
    it->mi_kind = kind;
    if (key) {
        it->mi_key = malloc(keylen ? keylen : 1);
        if (it->mi_key) {
            memcpy(it->mi_key, key, keylen);
        }
        it->mi_keylen = keylen;
    }
    if (!it->mi_ns || (key && !it->mi_key)) {
        free(it->mi_ns);
        free(it->mi_key);
        free(it);
        return NULL;
    }
    it->mi_fence.f_offset = -1;
    it->mi_fence.f_watermark = BWM_WATERMARK_NONE;
    m->ms_items[m->ms_count++] = it;
    return it;
}

static bwm_err_t mem_fence_get(void *ctx, const char *ns, int32_t part, bwm_fence_t *out,
                               char *errstr, size_t errstr_size)
{
    mem_item_t *it = mem_find(ctx, ns, part, BWM_STORE_STATES, NULL, 0);

    (void)errstr;
    (void)errstr_size;
    out->f_offset = it ? it->mi_fence.f_offset : -1;
    out->f_watermark = it ? it->mi_fence.f_watermark : BWM_WATERMARK_NONE;
    return BWM_OK;
}

static bwm_err_t mem_get_many(void *ctx, const char *ns, int32_t part, const bwm_keyref_t *keys,
                              size_t n, bwm_store_value_cb cb, void *opaque, char *errstr,
                              size_t errstr_size)
{
    size_t i;
    bwm_err_t err;

    (void)errstr;
    (void)errstr_size;
    for (i = 0; i < n; i++) {
        mem_item_t *it = mem_find(ctx, ns, part, BWM_STORE_STATES, keys[i].kr_key, keys[i].kr_len);

        err = cb(i, it ? it->mi_val : NULL, it ? it->mi_vallen : 0, opaque);
        if (err) {
            return err;
        }
    }
    return BWM_OK;
}

static bwm_err_t mem_index_get(void *ctx, const char *ns, int32_t part, bwm_store_index_cb cb,
                               void *opaque, char *errstr, size_t errstr_size)
{
    mem_store_t *m = ctx;
    size_t i;
    bwm_err_t err;

    (void)errstr;
    (void)errstr_size;
    for (i = 0; i < m->ms_count; i++) {
        mem_item_t *it = m->ms_items[i];

        if (it->mi_indexed && it->mi_part == part && strcmp(it->mi_ns, ns) == 0) {
            err = cb(it->mi_key, it->mi_keylen, it->mi_close, opaque);
            if (err) {
                return err;
            }
        }
    }
    return BWM_OK;
}

static bwm_err_t mem_commit(void *ctx, const char *ns, int32_t part, const bwm_fence_t *expect,
                            const bwm_fence_t *next, const bwm_change_t *changes, size_t n,
                            char *errstr, size_t errstr_size)
{
    mem_store_t *m = ctx;
    mem_item_t *fence = mem_find(m, ns, part, BWM_STORE_STATES, NULL, 0);
    bwm_fence_t cur = {-1, BWM_WATERMARK_NONE};
    size_t i;

    if (fence) {
        cur = fence->mi_fence;
    }
    if (cur.f_offset != expect->f_offset ||
        (cur.f_offset >= 0 && cur.f_watermark != expect->f_watermark)) {
        return bwm_err_set(BWM_ERR_FENCED, errstr, errstr_size,
                           "fence of %s/%d is at offset %" PRId64 ", expected %" PRId64, ns,
                           (int)part, cur.f_offset, expect->f_offset);
    }
    for (i = 0; i < n; i++) {
        const bwm_change_t *c = &changes[i];
        bwm_store_kind_t kind = c->ch_retain ? BWM_STORE_RETAINED : BWM_STORE_STATES;
        mem_item_t *it = mem_find(m, ns, part, kind, c->ch_key, c->ch_keylen);
        void *v = NULL;

        if (!it) {
            it = mem_add(m, ns, part, kind, c->ch_key, c->ch_keylen);
        }
        if (c->ch_val) {
            v = malloc(c->ch_vallen ? c->ch_vallen : 1);
            if (v) {
                memcpy(v, c->ch_val, c->ch_vallen);
            }
        }
        if (!it || (c->ch_val && !v)) {
            free(v);
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        free(it->mi_val);
        it->mi_val = v;
        it->mi_vallen = v ? c->ch_vallen : 0;
        if (c->ch_index) {
            it->mi_indexed = c->ch_index > 0;
            it->mi_close = c->ch_close;
        }
    }
    if (!fence) {
        fence = mem_add(m, ns, part, BWM_STORE_STATES, NULL, 0);
        if (!fence) {
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    fence->mi_fence = *next;
    return BWM_OK;
}

static bwm_err_t mem_scan(void *ctx, const char *ns, int32_t part, bwm_store_kind_t kind,
                          bwm_store_scan_cb cb, void *opaque, char *errstr, size_t errstr_size)
{
    mem_store_t *m = ctx;
    size_t i;
    bwm_err_t err;

    (void)errstr;
    (void)errstr_size;
    for (i = 0; i < m->ms_count; i++) {
        mem_item_t *it = m->ms_items[i];

        if (it->mi_key && it->mi_val && it->mi_part == part && it->mi_kind == kind &&
            strcmp(it->mi_ns, ns) == 0) {
            err = cb(it->mi_key, it->mi_keylen, it->mi_val, it->mi_vallen, opaque);
            if (err) {
                return err;
            }
        }
    }
    return BWM_OK;
}

static bwm_err_t mem_partitions(void *ctx, const char *ns, int32_t **parts, size_t *n, char *errstr,
                                size_t errstr_size)
{
    mem_store_t *m = ctx;
    size_t i, k = 0;
    int32_t *out = malloc((m->ms_count + 1) * sizeof(*out));

    if (!out) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < m->ms_count; i++) {
        if (!m->ms_items[i]->mi_key && strcmp(m->ms_items[i]->mi_ns, ns) == 0) {
            out[k++] = m->ms_items[i]->mi_part;
        }
    }
    bwm_store_sort_partitions(out, &k);
    *parts = out;
    *n = k;
    return BWM_OK;
}

static bwm_err_t mem_drop(void *ctx, const char *ns, uint64_t *deleted, char *errstr,
                          size_t errstr_size)
{
    mem_store_t *m = ctx;
    size_t i, k = 0;

    (void)errstr;
    (void)errstr_size;
    *deleted = 0;
    for (i = 0; i < m->ms_count; i++) {
        mem_item_t *it = m->ms_items[i];

        if (strcmp(it->mi_ns, ns) != 0) {
            m->ms_items[k++] = it;
            continue;
        }
        *deleted += it->mi_key ? it->mi_val != NULL : 1;
        free(it->mi_ns);
        free(it->mi_key);
        free(it->mi_val);
        free(it);
    }
    m->ms_count = k;
    return BWM_OK;
}

const bwm_store_ops_t bwm_store_mem_ops = {
    .so_name = "memory",
    .so_open = mem_open,
    .so_fence_get = mem_fence_get,
    .so_get_many = mem_get_many,
    .so_index_get = mem_index_get,
    .so_commit = mem_commit,
    .so_scan = mem_scan,
    .so_partitions = mem_partitions,
    .so_drop = mem_drop,
    .so_close = mem_close,
};
