/*
 * test_replay_range.c: the bounds of `bwm replay` (--from/--to), its
 * --partitions lists and derived names, as tables of inputs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/replay_range.h"

/* 2026-11-26T15:13:00Z */
#define NOW_MS 1795705980000LL

typedef struct time_case {
    const char *tc_text;
    int64_t tc_ms;
} time_case_t;

Test(replay_range, times_iso_and_relative)
{
    static const time_case_t cases[] = {
        {"2026-11-26T15:13:00Z", NOW_MS},
        {"2026-11-26T15:13:00.250Z", NOW_MS + 250},
        {"2026-11-26T16:13:00+01:00", NOW_MS},
        {"2026-11-26T10:43:00-04:30", NOW_MS},
        {"2026-11-26T16:13:00.5+01:00", NOW_MS + 500},
        {"2026-11-26", NOW_MS - (15 * 3600 + 13 * 60) * 1000LL},
        {"1970-01-01T00:00:00Z", 0},
        {"-10s", NOW_MS - 10000},
        {"-30m", NOW_MS - 30 * 60000LL},
        {"-2h", NOW_MS - 2 * 3600000LL},
        {"-7d", NOW_MS - 7 * 86400000LL},
        {"-0s", NOW_MS},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bwm_bound_t b;
        char err[512] = "";

        cr_assert_eq(bwm_bound_parse(cases[i].tc_text, NOW_MS, &b, err, sizeof(err)), BWM_OK,
                     "%s: %s", cases[i].tc_text, err);
        cr_assert_eq(b.b_kind, BWM_BOUND_TIME, "%s", cases[i].tc_text);
        cr_assert_eq(b.b_time_ms, cases[i].tc_ms, "%s: %lld, want %lld", cases[i].tc_text,
                     (long long)b.b_time_ms, (long long)cases[i].tc_ms);
        bwm_bound_free(&b);
    }
}

Test(replay_range, earliest_end_and_offsets)
{
    bwm_bound_t b;
    char err[512] = "";
    int64_t off = -1;

    cr_assert_eq(bwm_bound_parse("earliest", NOW_MS, &b, err, sizeof(err)), BWM_OK);
    cr_assert_eq(b.b_kind, BWM_BOUND_EARLIEST);
    cr_assert(bwm_bound_covers(&b, 7, &off));
    cr_assert_eq(bwm_bound_parse("end", NOW_MS, &b, err, sizeof(err)), BWM_OK);
    cr_assert_eq(b.b_kind, BWM_BOUND_END);
    cr_assert_eq(bwm_bound_parse("latest", NOW_MS, &b, err, sizeof(err)), BWM_OK);
    cr_assert_eq(b.b_kind, BWM_BOUND_END);

    cr_assert_eq(bwm_bound_parse("1200", NOW_MS, &b, err, sizeof(err)), BWM_OK);
    cr_assert_eq(b.b_kind, BWM_BOUND_OFFSET);
    cr_assert(bwm_bound_covers(&b, 3, &off));
    cr_assert_eq(off, 1200);

    cr_assert_eq(bwm_bound_parse("2:5,0:1200,1:900", NOW_MS, &b, err, sizeof(err)), BWM_OK, "%s",
                 err);
    cr_assert_eq(b.b_kind, BWM_BOUND_OFFSETS);
    cr_assert_eq(b.b_n, 3);
    cr_assert_eq(b.b_offsets[0].bo_partition, 0, "sorted by partition");
    cr_assert(bwm_bound_covers(&b, 1, &off));
    cr_assert_eq(off, 900);
    cr_assert(bwm_bound_covers(&b, 2, &off));
    cr_assert_eq(off, 5);
    cr_assert_not(bwm_bound_covers(&b, 3, &off), "a list names its partitions");
    bwm_bound_free(&b);
    bwm_bound_free(&b);
}

Test(replay_range, bad_bounds_are_refused_with_a_reason)
{
    static const char *const bad[] = {
        "",
        "bogus",
        "-2",
        "-2w",
        "-h",
        "-1.5h",
        "--2h",
        "-99999999999d",
        "0:",
        ":5",
        "0:5,",
        "0:5,0:6",
        "a:1",
        "0:-1",
        "0:1:2",
        "99999999999:1",
        "2026-13-01T00:00:00Z",
        "2026-11-26T25:00:00Z",
        "2026-11-26T15:13:00+1",
        "2026-11-26T15:13:00Zjunk",
        "99999999999999999999",
        "12ab",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bwm_bound_t b;
        char err[512] = "";

        cr_assert_eq(bwm_bound_parse(bad[i], NOW_MS, &b, err, sizeof(err)), BWM_ERR_PARSE, "'%s'",
                     bad[i]);
        cr_assert_neq(err[0], '\0', "'%s' has a message", bad[i]);
    }
}

Test(replay_range, partition_lists)
{
    static const char *const bad[] = {"", ",", "1,", "a", "-1", "1,,2", "99999999999", "1 2"};
    int32_t *parts = NULL;
    size_t n = 0, i;
    char err[512] = "";

    cr_assert_eq(bwm_partitions_parse("3,0,2,3", &parts, &n, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_eq(n, 3);
    cr_assert(parts[0] == 0 && parts[1] == 2 && parts[2] == 3);
    free(parts);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(bwm_partitions_parse(bad[i], &parts, &n, err, sizeof(err)), BWM_ERR_PARSE,
                     "'%s'", bad[i]);
    }
}

Test(replay_range, derived_names_are_valid_and_bounded)
{
    char stamp[17], name[512];

    bwm_replay_stamp(NOW_MS / 1000, stamp);
    cr_assert_str_eq(stamp, "20261126T151300Z");
    bwm_replay_stamp(0, stamp);
    cr_assert_str_eq(stamp, "19700101T000000Z");
    cr_assert_eq(bwm_replay_name("kpi_hourly", "20261126T151300Z", 200, name, sizeof(name)),
                 BWM_OK);
    cr_assert_str_eq(name, "kpi_hourly.replay.20261126T151300Z");
    cr_assert(bwm_replay_name_ok(name, 200));
    memset(name, 'a', 190);
    name[190] = '\0';
    {
        char base[191], out[512];

        memcpy(base, name, sizeof(base));
        cr_assert_eq(bwm_replay_name(base, "20261126T151300Z", 200, out, sizeof(out)),
                     BWM_ERR_LIMIT, "longer than the limit");
        cr_assert_eq(bwm_replay_name(base, "20261126T151300Z", 249, out, sizeof(out)), BWM_OK);
    }
    cr_assert_not(bwm_replay_name_ok("", 200));
    cr_assert_not(bwm_replay_name_ok(".", 200));
    cr_assert_not(bwm_replay_name_ok("..", 200));
    cr_assert_not(bwm_replay_name_ok("a b", 200));
    cr_assert_not(bwm_replay_name_ok("a:b", 200), "':' would break the key layout");
    cr_assert_not(bwm_replay_name_ok("a*", 200), "glob characters would widen a SCAN");
    cr_assert_not(bwm_replay_name_ok("abc", 2));
    cr_assert(bwm_replay_name_ok("Ab-9_.x", 200));
}
