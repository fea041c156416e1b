/*
 * test_replay_drop.c: dropping a state namespace (`bwm state drop`,
 * `bwm replay --reset-state`) on the memory backend: every key and fence of
 * the namespace goes, nothing of another namespace does.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "connectors/store.h"

static bwm_err_t count(const char *key, size_t keylen, const void *val, size_t len, void *opaque)
{
    (void)key;
    (void)keylen;
    (void)val;
    (void)len;
    (*(int *)opaque)++;
    return BWM_OK;
}

Test(replay_drop, drops_one_namespace_and_nothing_else)
{
    const bwm_store_ops_t *ops = bwm_store_find("memory");
    bwm_fence_t none = {-1, BWM_WATERMARK_NONE}, f1 = {5, 50}, cur;
    bwm_change_t puts[] = {{"a", 1, "A", 1, 1, 500}, {"b", 1, "B", 1, 0, 0}};
    const char *const names[] = {"kpi.replay.20261126T151300Z", "kpi"};
    int32_t *parts = NULL;
    size_t n = 0, k;
    uint64_t deleted = 0;
    char err[256];
    void *st = NULL;
    int seen;

    cr_assert_eq(ops->so_open(NULL, &st, err, sizeof(err)), BWM_OK);
    for (k = 0; k < 2; k++) {
        cr_assert_eq(ops->so_commit(st, names[k], 0, &none, &f1, puts, 2, err, sizeof(err)),
                     BWM_OK);
        cr_assert_eq(ops->so_commit(st, names[k], 3, &none, &f1, puts, 1, err, sizeof(err)),
                     BWM_OK);
    }
    cr_assert_eq(ops->so_drop(st, names[0], &deleted, err, sizeof(err)), BWM_OK);
    cr_assert_eq(deleted, 5, "three states and two fences");
    cr_assert_eq(ops->so_partitions(st, names[0], &parts, &n, err, sizeof(err)), BWM_OK);
    cr_assert_eq(n, 0, "no fence is left");
    free(parts);
    cr_assert_eq(ops->so_fence_get(st, names[0], 0, &cur, err, sizeof(err)), BWM_OK);
    cr_assert_eq(cur.f_offset, -1, "a dropped namespace starts afresh");
    seen = 0;
    ops->so_scan(st, names[0], 0, BWM_STORE_STATES, count, &seen, err, sizeof(err));
    cr_assert_eq(seen, 0);
    seen = 0;
    ops->so_scan(st, names[1], 0, BWM_STORE_STATES, count, &seen, err, sizeof(err));
    cr_assert_eq(seen, 2, "the other namespace keeps its states");
    cr_assert_eq(ops->so_fence_get(st, names[1], 3, &cur, err, sizeof(err)), BWM_OK);
    cr_assert_eq(cur.f_offset, 5, "and its fences");
    cr_assert_eq(ops->so_drop(st, names[0], &deleted, err, sizeof(err)), BWM_OK);
    cr_assert_eq(deleted, 0, "dropping again deletes nothing");
    ops->so_close(st);
}
