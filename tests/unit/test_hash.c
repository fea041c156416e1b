/*
 * test_hash.c: XXH64 against the published vectors, and the xorshift64*
 * generator against its definition.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/hash.h"

Test(hash, xxh64_matches_the_published_vectors)
{
    static const struct {
        const char *in;
        uint64_t seed;
        uint64_t want;
    } cases[] = {
        {"", 0, UINT64_C(0xEF46DB3751D8E999)},
        {"a", 0, UINT64_C(0xD24EC4F1A98C6E5B)},
        {"abc", 0, UINT64_C(0x44BC2CF5AD770999)},
        {"Nobody inspects the spammish repetition", 0, UINT64_C(0xFBCEA83C8A378BF1)},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_eq(bwm_xxh64(cases[i].in, strlen(cases[i].in), cases[i].seed), cases[i].want,
                     "'%s'", cases[i].in);
    }
    cr_expect_eq(bwm_xxh64(NULL, 0, 0), UINT64_C(0xEF46DB3751D8E999));
    /* the 32-byte stripes and the seed change the hash */
    cr_expect_neq(bwm_xxh64("0123456789abcdef0123456789abcdef!", 33, 0),
                  bwm_xxh64("0123456789abcdef0123456789abcdef?", 33, 0));
    cr_expect_neq(bwm_xxh64("abc", 3, 1), bwm_xxh64("abc", 3, 0));
}

Test(hash, xorshift64s_follows_its_definition)
{
    uint64_t s = 1, x = 1;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    cr_expect_eq(bwm_xorshift64s(&s), x * UINT64_C(0x2545F4914F6CDD1D));
    cr_expect_eq(s, x);
}
