/*
 * test_http_policy.c: verdicts of statuses, Retry-After in its four forms,
 * full-jitter bounds and the shared endpoint backoff, as tables of inputs.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "connectors/coreview/policy.h"

Test(http_policy, verdicts)
{
    static const struct {
        long status;
        bwm_http_verdict_t want;
    } cases[] = {
        {200, BWM_HTTP_OK},        {201, BWM_HTTP_OK},        {204, BWM_HTTP_OK},
        {0, BWM_HTTP_RETRY},       {408, BWM_HTTP_RETRY},     {429, BWM_HTTP_RETRY},
        {500, BWM_HTTP_RETRY},     {502, BWM_HTTP_RETRY},     {503, BWM_HTTP_RETRY},
        {599, BWM_HTTP_RETRY},     {400, BWM_HTTP_PERMANENT}, {401, BWM_HTTP_PERMANENT},
        {404, BWM_HTTP_PERMANENT}, {409, BWM_HTTP_PERMANENT}, {413, BWM_HTTP_PERMANENT},
        {422, BWM_HTTP_PERMANENT}, {301, BWM_HTTP_PERMANENT}, {100, BWM_HTTP_PERMANENT},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_eq(bwm_http_verdict(cases[i].status), cases[i].want, "status %ld",
                     cases[i].status);
    }
}

Test(http_policy, retry_after_forms)
{
    /* The answer came at 1994-11-06T08:49:30Z; the dates say 08:49:37, 7 s later. */
    int64_t now = bwm_http_civil_ms(1994, 11, 6, 8, 49, 30);
    static const struct {
        const char *value;
        bwm_err_t err;
        int64_t delay_ms;
    } cases[] = {
        {"0", BWM_OK, 0},
        {"2", BWM_OK, 2000},
        {" 120 ", BWM_OK, 120000},
        {"Sun, 06 Nov 1994 08:49:37 GMT", BWM_OK, 7000},  /* IMF-fixdate */
        {"Sunday, 06-Nov-94 08:49:37 GMT", BWM_OK, 7000}, /* RFC 850 */
        {"Sun Nov  6 08:49:37 1994", BWM_OK, 7000},       /* asctime */
        {"Sun, 06 Nov 1994 08:49:00 GMT", BWM_OK, 0},     /* in the past */
        {"Mon, 07 Nov 1994 08:49:30 GMT", BWM_OK, 86400000},
        {"99999999999999999999", BWM_OK, 86400000}, /* clamped to a day */
        {"", BWM_ERR_PARSE, 0},
        {"-1", BWM_ERR_PARSE, 0},
        {"1.5", BWM_ERR_PARSE, 0},
        {"soon", BWM_ERR_PARSE, 0},
        {"Sun, 06 Nov 1994 08:49:37 UTC", BWM_ERR_PARSE, 0},
        {"Sun, 06 Nov 1994 25:49:37 GMT", BWM_ERR_PARSE, 0},
        {"Sun, 06 Foo 1994 08:49:37 GMT", BWM_ERR_PARSE, 0},
        {"Sun, 6 Nov 1994 08:49:37 GMT", BWM_ERR_PARSE, 0},
        {"Sun, 06 Nov 1994 08:49:37 GMT trailing", BWM_ERR_PARSE, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t delay = -1;
        bwm_err_t err = bwm_http_retry_after(cases[i].value, now, &delay);

        cr_expect_eq(err, cases[i].err, "'%s': err %d", cases[i].value, err);
        if (cases[i].err == BWM_OK) {
            cr_expect_eq(delay, cases[i].delay_ms, "'%s': delay %lld", cases[i].value,
                         (long long)delay);
        }
    }
}

Test(http_policy, civil_time_matches_known_epochs)
{
    cr_expect_eq(bwm_http_civil_ms(1970, 1, 1, 0, 0, 0), 0);
    cr_expect_eq(bwm_http_civil_ms(2000, 3, 1, 0, 0, 0), 951868800000LL);
    cr_expect_eq(bwm_http_civil_ms(2026, 1, 1, 10, 0, 0), 1767261600000LL);
}

Test(http_policy, full_jitter_stays_within_the_doubling_ceiling)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    uint32_t attempt;
    int i;

    for (attempt = 1; attempt <= 40; attempt++) {
        int64_t ceiling = 100;
        int64_t seen_max = 0;
        uint32_t k;

        for (k = 1; k < attempt && ceiling < 10000; k++) {
            ceiling *= 2;
        }
        if (ceiling > 10000) {
            ceiling = 10000;
        }
        for (i = 0; i < 2000; i++) {
            int64_t d;

            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            d = bwm_backoff_jitter(100, 10000, attempt, seed);
            cr_assert(d >= 0 && d <= ceiling, "attempt %u: %lld beyond [0, %lld]", attempt,
                      (long long)d, (long long)ceiling);
            if (d > seen_max) {
                seen_max = d;
            }
        }
        /* Full jitter: the draws spread over the whole range, not just its top. */
        cr_expect(seen_max > ceiling * 9 / 10, "attempt %u: largest draw %lld of %lld", attempt,
                  (long long)seen_max, (long long)ceiling);
    }
    cr_expect_eq(bwm_backoff_jitter(100, 10000, 1, 0), 0);
    cr_expect_eq(bwm_backoff_jitter(100, 10000, 1, 100), 100);
}

Test(http_policy, one_failure_holds_back_every_request_and_allows_one_probe)
{
    bwm_backoff_t b;
    int64_t pause;

    bwm_backoff_init(&b, 100, 10000, 60000);
    cr_assert(bwm_backoff_may_start(&b, 0, 0));
    cr_assert(bwm_backoff_may_start(&b, 0, 7), "no failure: any number in flight");

    /* A 429 with Retry-After 2 s at t=1000: nothing before 3000, whatever the jitter drew. */
    pause = bwm_backoff_failed(&b, 1000, 2000, 5);
    cr_assert_eq(pause, 2000);
    cr_assert_not(bwm_backoff_may_start(&b, 2999, 0));
    cr_assert(bwm_backoff_may_start(&b, 3000, 0), "one probe once the wait is over");
    cr_assert_not(bwm_backoff_may_start(&b, 3000, 1), "only one probe at a time");

    /* A later, shorter failure does not shorten the wait. */
    bwm_backoff_failed(&b, 1500, 0, 0);
    cr_assert_not(bwm_backoff_may_start(&b, 2999, 0));

    /* Retry-After beyond the cap is capped. */
    pause = bwm_backoff_failed(&b, 4000, 3600000, 0);
    cr_assert_eq(pause, 60000);

    /* A success of a request sent before the last failure says nothing of the endpoint. */
    bwm_backoff_ok(&b, 3999);
    cr_assert_neq(b.bo_failures, 0);
    cr_assert_not(bwm_backoff_may_start(&b, 64000, 1));

    /* One sent after it ends the probing; the wait already set still holds. */
    bwm_backoff_ok(&b, 4000);
    cr_assert_eq(b.bo_failures, 0);
    cr_assert(bwm_backoff_may_start(&b, 64000, 5));
    cr_assert_not(bwm_backoff_may_start(&b, 63999, 0));
}

Test(http_policy, failures_without_retry_after_double_the_ceiling)
{
    bwm_backoff_t b;
    int64_t now = 0;
    int i;

    bwm_backoff_init(&b, 100, 1000, 60000);
    for (i = 1; i <= 8; i++) {
        /* ceilings 100, 200, 400, 800, then 1000: the same draw lands within each */
        int64_t pause = bwm_backoff_failed(&b, now, -1, UINT64_MAX);
        int64_t want = i == 1 ? 100 : i == 2 ? 200 : i == 3 ? 400 : i == 4 ? 800 : 1000;

        cr_expect_eq(pause, (int64_t)(UINT64_MAX % (uint64_t)(want + 1)), "failure %d", i);
        now += pause;
    }
}
