/*
 * store.h: the state store, as a table of operations with two backends:
 * Redis for production (connectors/redis/store.c) and memory for unit tests.
 *
 * A store holds, per (namespace, partition), one value per key and a fence:
 * the offset of the last record whose effect the stored states include, and
 * the partition's watermark. Commits are compare-and-set on the fence, so an
 * instance that lost a partition can never overwrite its new owner's work.
 */
#ifndef BWM_STORE_H
#define BWM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/engine.h"
#include "core/err.h"

/* Watermark of a partition that has seen no event time yet. */
#define BWM_WATERMARK_NONE INT64_MIN

typedef struct bwm_fence {
    int64_t f_offset;    /* last applied source offset; -1 when nothing was ever committed */
    int64_t f_watermark; /* BWM_WATERMARK_NONE when no event time was seen */
} bwm_fence_t;

/* Called once per requested key, in order; val is NULL when the store has no value. */
typedef bwm_err_t (*bwm_store_value_cb)(size_t i, const void *val, size_t len, void *opaque);

/* Called once per key of a partition's close index. */
typedef bwm_err_t (*bwm_store_index_cb)(const char *key, size_t len, int64_t close, void *opaque);

/* Called once per key a scan visits, with its value. */
typedef bwm_err_t (*bwm_store_scan_cb)(const char *key, size_t keylen, const void *val, size_t len,
                                       void *opaque);

/* What a scan visits: the keys' states, or the closed windows kept by state.retention.ms. */
typedef enum bwm_store_kind { BWM_STORE_STATES, BWM_STORE_RETAINED } bwm_store_kind_t;

typedef struct bwm_store_ops {
    const char *so_name;
    /*
     * Opens the backend with its keys from conf into *ctx. BWM_ERR_INVALID
     * for bad configuration, BWM_ERR_IO when the backend cannot be reached.
     */
    bwm_err_t (*so_open)(const bwm_conf_t *conf, void **ctx, char *errstr, size_t errstr_size);
    bwm_err_t (*so_fence_get)(void *ctx, const char *ns, int32_t part, bwm_fence_t *out,
                              char *errstr, size_t errstr_size);
    /* Reads many keys of one partition in one round trip. */
    bwm_err_t (*so_get_many)(void *ctx, const char *ns, int32_t part, const bwm_keyref_t *keys,
                             size_t n, bwm_store_value_cb cb, void *opaque, char *errstr,
                             size_t errstr_size);
    /* Reads the partition's close index: the keys with open windows and when they close. */
    bwm_err_t (*so_index_get)(void *ctx, const char *ns, int32_t part, bwm_store_index_cb cb,
                              void *opaque, char *errstr, size_t errstr_size);
    /*
     * Atomically: if the partition's fence equals *expect, applies the
     * changes (set or delete each key, add it to or remove it from the close
     * index; a retained window is set with its expiry, apart from the
     * states) and sets the fence to *next; otherwise changes nothing and
     * returns BWM_ERR_FENCED.
     */
    bwm_err_t (*so_commit)(void *ctx, const char *ns, int32_t part, const bwm_fence_t *expect,
                           const bwm_fence_t *next, const bwm_change_t *changes, size_t n,
                           char *errstr, size_t errstr_size);
    /*
     * For inspection (`bwm state`), not for the hot path: visits every key of
     * the given kind in the partition, in no particular order. A key changed
     * during the scan may be visited with either value, or twice.
     */
    bwm_err_t (*so_scan)(void *ctx, const char *ns, int32_t part, bwm_store_kind_t kind,
                         bwm_store_scan_cb cb, void *opaque, char *errstr, size_t errstr_size);
    /* The partitions of ns that have a fence, ascending, into a new array (free()). */
    bwm_err_t (*so_partitions)(void *ctx, const char *ns, int32_t **parts, size_t *n, char *errstr,
                               size_t errstr_size);
    /*
     * Deletes every key of ns (states, fences, close indexes, retained
     * windows) and nothing of another namespace; *deleted counts the keys.
     * Not atomic: a namespace must not be in use while it is dropped.
     */
    bwm_err_t (*so_drop)(void *ctx, const char *ns, uint64_t *deleted, char *errstr,
                         size_t errstr_size);
    void (*so_close)(void *ctx);
} bwm_store_ops_t;

extern const bwm_store_ops_t bwm_store_mem_ops;
extern const bwm_store_ops_t bwm_store_redis_ops;

/* The backends, for lookups by name: memory, redis. */
const bwm_store_ops_t *bwm_store_find(const char *name);

/* Sorts a list of partitions and drops repeats (a Redis SCAN may return a key twice). */
void bwm_store_sort_partitions(int32_t *parts, size_t *n);

/* Formats a fence as stored: "<offset>:<watermark>", or "" for no fence. */
void bwm_fence_format(const bwm_fence_t *f, char *out, size_t size);
/* Parses the stored form; BWM_ERR_DECODE when malformed. */
bwm_err_t bwm_fence_parse(const char *s, size_t len, bwm_fence_t *f);

#endif
