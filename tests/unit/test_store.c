/*
 * test_store.c: the state store contract on the memory backend (the Redis
 * backend is held to the same contract by the integration tests): fences,
 * compare-and-set commits, reads of many keys, retained windows, scans.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/store.h"

typedef struct got {
    const char *vals[4];
    size_t lens[4];
} got_t;

static bwm_err_t collect(size_t i, const void *val, size_t len, void *opaque)
{
    got_t *g = opaque;

    g->vals[i] = val;
    g->lens[i] = len;
    return BWM_OK;
}

Test(store, fence_text_round_trip)
{
    bwm_fence_t f = {1234, -5}, back;
    char s[64];

    bwm_fence_format(&f, s, sizeof(s));
    cr_assert_str_eq(s, "1234:-5");
    cr_assert_eq(bwm_fence_parse(s, strlen(s), &back), BWM_OK);
    cr_assert_eq(back.f_offset, 1234);
    cr_assert_eq(back.f_watermark, -5);
    cr_assert_eq(bwm_fence_parse("", 0, &back), BWM_OK);
    cr_assert_eq(back.f_offset, -1, "no fence");
    f.f_offset = -1;
    bwm_fence_format(&f, s, sizeof(s));
    cr_assert_str_eq(s, "");
    cr_assert_eq(bwm_fence_parse("12", 2, &back), BWM_ERR_DECODE);
    cr_assert_eq(bwm_fence_parse("x:1", 3, &back), BWM_ERR_DECODE);
    cr_assert_eq(bwm_fence_parse("-3:1", 4, &back), BWM_ERR_DECODE);
}

Test(store, commit_is_a_compare_and_set_on_the_fence)
{
    const bwm_store_ops_t *ops = bwm_store_find("memory");
    void *st = NULL;
    bwm_fence_t none = {-1, BWM_WATERMARK_NONE}, f1 = {10, 100}, f2 = {20, 200}, cur;
    bwm_change_t puts[] = {{"a", 1, "A1", 2, 1, 500}, {"b", 1, "B1", 2, 0, 0}};
    bwm_change_t later[] = {{"a", 1, "A2", 2, 0, 0}, {"b", 1, NULL, 0, 0, 0}};
    bwm_keyref_t keys[] = {{"a", 1}, {"b", 1}, {"zz", 2}};
    got_t g = {{0}};
    char err[256];

    cr_assert_eq(ops->so_open(NULL, &st, err, sizeof(err)), BWM_OK);
    cr_assert_eq(ops->so_fence_get(st, "ns", 0, &cur, err, sizeof(err)), BWM_OK);
    cr_assert_eq(cur.f_offset, -1);
    cr_assert_eq(ops->so_commit(st, "ns", 0, &none, &f1, puts, 2, err, sizeof(err)), BWM_OK);
    /* A second writer that still believes in the old fence is refused and writes nothing. */
    cr_assert_eq(ops->so_commit(st, "ns", 0, &none, &f2, later, 1, err, sizeof(err)),
                 BWM_ERR_FENCED);
    ops->so_get_many(st, "ns", 0, keys, 3, collect, &g, err, sizeof(err));
    cr_assert_eq(memcmp(g.vals[0], "A1", 2), 0);
    cr_assert_eq(memcmp(g.vals[1], "B1", 2), 0);
    cr_assert_null(g.vals[2]);
    cr_assert_eq(ops->so_commit(st, "ns", 0, &f1, &f2, later, 2, err, sizeof(err)), BWM_OK);
    ops->so_get_many(st, "ns", 0, keys, 2, collect, &g, err, sizeof(err));
    cr_assert_eq(memcmp(g.vals[0], "A2", 2), 0);
    cr_assert_null(g.vals[1], "a change without a value deletes the key");
    ops->so_fence_get(st, "ns", 0, &cur, err, sizeof(err));
    cr_assert_eq(cur.f_offset, 20);
    cr_assert_eq(cur.f_watermark, 200);
    /* Partitions and namespaces are separate. */
    ops->so_fence_get(st, "ns", 1, &cur, err, sizeof(err));
    cr_assert_eq(cur.f_offset, -1);
    ops->so_get_many(st, "other", 0, keys, 1, collect, &g, err, sizeof(err));
    cr_assert_null(g.vals[0]);
    ops->so_close(st);
}

static bwm_err_t count_index(const char *key, size_t len, int64_t close, void *opaque)
{
    int64_t *sum = opaque;

    cr_assert_eq(len, 1);
    sum[0]++;
    sum[1] += close + key[0];
    return BWM_OK;
}

Test(store, the_close_index_follows_the_changes)
{
    const bwm_store_ops_t *ops = bwm_store_find("memory");
    void *st = NULL;
    bwm_fence_t none = {-1, BWM_WATERMARK_NONE}, f1 = {1, 10}, f2 = {2, 20};
    bwm_change_t add[] = {{"a", 1, "x", 1, 1, 100}, {"b", 1, "y", 1, 1, 200}};
    bwm_change_t drop[] = {{"a", 1, NULL, 0, -1, 0}};
    int64_t seen[2] = {0, 0};
    char err[256];

    cr_assert_eq(ops->so_open(NULL, &st, err, sizeof(err)), BWM_OK);
    ops->so_commit(st, "ns", 3, &none, &f1, add, 2, err, sizeof(err));
    ops->so_index_get(st, "ns", 3, count_index, seen, err, sizeof(err));
    cr_assert_eq(seen[0], 2);
    cr_assert_eq(seen[1], 100 + 'a' + 200 + 'b');
    ops->so_commit(st, "ns", 3, &f1, &f2, drop, 1, err, sizeof(err));
    seen[0] = seen[1] = 0;
    ops->so_index_get(st, "ns", 3, count_index, seen, err, sizeof(err));
    cr_assert_eq(seen[0], 1);
    cr_assert_eq(seen[1], 200 + 'b');
    ops->so_close(st);
}

typedef struct scanned {
    size_t n;
    size_t bytes;
    char last[16];
} scanned_t;

static bwm_err_t count_scan(const char *key, size_t keylen, const void *val, size_t len,
                            void *opaque)
{
    scanned_t *sc = opaque;

    (void)val;
    sc->n++;
    sc->bytes += keylen + len;
    snprintf(sc->last, sizeof(sc->last), "%.*s", (int)keylen, key);
    return BWM_OK;
}

Test(store, retained_windows_are_kept_apart_from_states)
{
    const bwm_store_ops_t *ops = bwm_store_find("memory");
    void *st = NULL;
    bwm_fence_t none = {-1, BWM_WATERMARK_NONE}, f1 = {1, 10}, f2 = {2, 20};
    /* a state "k" and, under the same text, a retained window "k" */
    bwm_change_t first[] = {{"k", 1, "S1", 2, 1, 100, 0, 0}, {"k", 1, "W0", 2, 0, 0, 1, 60000}};
    bwm_change_t second[] = {{"k", 1, NULL, 0, -1, 0, 0, 0}, {"k@60", 4, "W60", 3, 0, 0, 1, 60000}};
    bwm_keyref_t keys[] = {{"k", 1}};
    got_t g = {{0}};
    scanned_t states = {0}, kept = {0};
    int64_t seen[2] = {0, 0};
    char err[256];

    cr_assert_eq(ops->so_open(NULL, &st, err, sizeof(err)), BWM_OK);
    cr_assert_eq(ops->so_commit(st, "ns", 0, &none, &f1, first, 2, err, sizeof(err)), BWM_OK);
    ops->so_get_many(st, "ns", 0, keys, 1, collect, &g, err, sizeof(err));
    cr_assert_eq(memcmp(g.vals[0], "S1", 2), 0, "the retained window does not replace the state");
    cr_assert_eq(ops->so_commit(st, "ns", 0, &f1, &f2, second, 2, err, sizeof(err)), BWM_OK);
    ops->so_get_many(st, "ns", 0, keys, 1, collect, &g, err, sizeof(err));
    cr_assert_null(g.vals[0]);
    cr_assert_eq(ops->so_scan(st, "ns", 0, BWM_STORE_STATES, count_scan, &states, err, sizeof(err)),
                 BWM_OK);
    cr_assert_eq(states.n, 0, "deleted states are not visited");
    cr_assert_eq(ops->so_scan(st, "ns", 0, BWM_STORE_RETAINED, count_scan, &kept, err, sizeof(err)),
                 BWM_OK);
    cr_assert_eq(kept.n, 2);
    cr_assert_eq(kept.bytes, 1 + 2 + 4 + 3);
    ops->so_index_get(st, "ns", 0, count_index, seen, err, sizeof(err));
    cr_assert_eq(seen[0], 0, "retained windows are not in the close index");
    ops->so_close(st);
}

Test(store, partitions_with_a_fence_are_listed_in_order)
{
    const bwm_store_ops_t *ops = bwm_store_find("memory");
    void *st = NULL;
    bwm_fence_t none = {-1, BWM_WATERMARK_NONE}, f1 = {1, 10};
    int32_t parts_in[] = {7, 0, 3}, *parts = NULL, dup[] = {5, 1, 5, 1, 2};
    size_t n = 0, i;
    char err[256];

    cr_assert_eq(ops->so_open(NULL, &st, err, sizeof(err)), BWM_OK);
    for (i = 0; i < 3; i++) {
        cr_assert_eq(ops->so_commit(st, "ns", parts_in[i], &none, &f1, NULL, 0, err, sizeof(err)),
                     BWM_OK);
    }
    ops->so_commit(st, "other", 9, &none, &f1, NULL, 0, err, sizeof(err));
    cr_assert_eq(ops->so_partitions(st, "ns", &parts, &n, err, sizeof(err)), BWM_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(parts[0], 0);
    cr_assert_eq(parts[1], 3);
    cr_assert_eq(parts[2], 7);
    free(parts);
    n = 5;
    bwm_store_sort_partitions(dup, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(dup[0], 1);
    cr_assert_eq(dup[1], 2);
    cr_assert_eq(dup[2], 5);
    ops->so_close(st);
}
