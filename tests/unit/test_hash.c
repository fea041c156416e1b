/*
 * test_hash.c: XXH64 against the published vectors and the reference, the table's key
 * hash for spread, and the xorshift64* generator against its definition.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * Every length from 0 to 63 bytes, so every mix of 32-byte stripes, words,
 * half-word and bytes in the tail, with a seed (the HyperLogLog's). The
 * values come from the reference implementation (python-xxhash 4.1, which
 * wraps xxHash's C code).
 */
Test(hash, xxh64_matches_the_reference_at_every_length)
{
    static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";
    static const uint64_t want[64] = {
        UINT64_C(0xA24B465D160806A6), UINT64_C(0xD7F0834AB0682661), UINT64_C(0x01C2AD5264FE66A5),
        UINT64_C(0xC37B0454D3FFC534), UINT64_C(0xE615337D1BBF5155), UINT64_C(0xE8AE01B10B9F8C73),
        UINT64_C(0xEC8A82C0D1FAE790), UINT64_C(0x2A73DFA85FEAE148), UINT64_C(0x3269B1D7493D4359),
        UINT64_C(0x2E8A2E3FC9C20985), UINT64_C(0x23AEF15DC47F56CA), UINT64_C(0x54210BDB8F13F0D1),
        UINT64_C(0x1CCA0F2ABF4C3E66), UINT64_C(0x4C286E1DCD5F0E40), UINT64_C(0x71603029B5891EBD),
        UINT64_C(0xBC4FA049132D63F5), UINT64_C(0xB4B054BBFF68DC40), UINT64_C(0x8113039E8908F139),
        UINT64_C(0x2AADB1DEC4F34CC1), UINT64_C(0xEC94A4FDC1532449), UINT64_C(0xA2FB7CDCE33BF757),
        UINT64_C(0x31AF67ADC5F8FD40), UINT64_C(0x6092D751962E88A3), UINT64_C(0xA17946956F40B758),
        UINT64_C(0x7607FAB562DD7629), UINT64_C(0xE727086AF6942AE9), UINT64_C(0xDCF2AAD42904201C),
        UINT64_C(0x704BE0C2F672D37B), UINT64_C(0xC9A98834C0C3A33D), UINT64_C(0x92D637536ECDA786),
        UINT64_C(0x058DF5D34AD3489C), UINT64_C(0x31595141BFF8C1A6), UINT64_C(0x595C6BB031108C48),
        UINT64_C(0x43DBE6BF2BF00F9E), UINT64_C(0xCE17CFEF01166C2E), UINT64_C(0x99A0326C00650AC7),
        UINT64_C(0x03182F20358480C1), UINT64_C(0x6C7332E91C7033CA), UINT64_C(0xC126909564D8FC05),
        UINT64_C(0x850878D92260FC5A), UINT64_C(0xB16B82ECAC1AC9B2), UINT64_C(0x214C309D8852A89E),
        UINT64_C(0x4C4418C367579DD2), UINT64_C(0x212E986FEFC3B9AC), UINT64_C(0x96D8E1039A5EF86D),
        UINT64_C(0xF54AD6FDF345B1C8), UINT64_C(0xEB55470322E46193), UINT64_C(0xBDC628D0E7CC2131),
        UINT64_C(0xADF4563BFA8A9049), UINT64_C(0x982753E603FD4C4A), UINT64_C(0x5D47D0EC110CBBF0),
        UINT64_C(0xA60750D2970CC6BB), UINT64_C(0x523645B49BFC42F7), UINT64_C(0x281DD681194540B1),
        UINT64_C(0xB3F47B92ACCD7FB8), UINT64_C(0x9ED5830A9CCACF6A), UINT64_C(0x5563BC79ABBEFE60),
        UINT64_C(0x48C5B180B88BB01D), UINT64_C(0xE6E29E5E85CFD16B), UINT64_C(0xDCEB49B2FBBAA38F),
        UINT64_C(0x79CFA8706FF493E1), UINT64_C(0x43DE956C833E2716), UINT64_C(0x37DD6BC1D3CCDC1D),
        UINT64_C(0x432177E7BE112BC9),
    };
    size_t n;

    for (n = 0; n < 64; n++) {
        cr_expect_eq(bwm_xxh64(text, n, UINT64_C(0x62776d2d686c6c31)), want[n], "length %zu", n);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/*
 * The table's key hash spreads keys that differ in a digit or two, as
 * vehicle numbers do, over the low bits that pick a slot, and tells every
 * one of them apart; and every length and every flipped bit changes it.
 */
Test(hash, hash_key_spreads_similar_keys)
{
    enum { NKEYS = 200000, NBUCKETS = 16384 };
    uint64_t *h = malloc(NKEYS * sizeof(*h));
    uint32_t *count = calloc(NBUCKETS, sizeof(*count));
    uint32_t most = 0, empty = 0;
    char key[64];
    size_t i, n, bit;

    cr_assert(h && count);
    for (i = 0; i < NKEYS; i++) {
        n = (size_t)snprintf(key, sizeof(key), "BWM%014zu", i);
        h[i] = bwm_hash_key(key, n);
        count[h[i] % NBUCKETS]++;
    }
    for (i = 0; i < NBUCKETS; i++) {
        most = count[i] > most ? count[i] : most;
        empty += count[i] == 0;
    }
    /* About 12.2 keys per bucket: a fair spread has no bucket over 40 and next to none empty. */
    cr_expect_lt(most, 40, "fullest bucket %u", most);
    cr_expect_lt(empty, 5, "%u empty buckets", empty);
    qsort(h, NKEYS, sizeof(*h), cmp_u64);
    for (i = 1; i < NKEYS; i++) {
        cr_expect_neq(h[i], h[i - 1], "two keys share a hash");
    }
    /* every prefix length of one text, and every bit flipped in a 17-byte key */
    memset(key, 'a', sizeof(key));
    for (n = 0; n < sizeof(key); n++) {
        h[n] = bwm_hash_key(key, n);
    }
    qsort(h, sizeof(key), sizeof(*h), cmp_u64);
    for (n = 1; n < sizeof(key); n++) {
        cr_expect_neq(h[n], h[n - 1], "two lengths share a hash");
    }
    memcpy(key, "BWM00000000000042", 17);
    for (bit = 0; bit < 17 * 8; bit++) {
        uint64_t before = bwm_hash_key(key, 17);

        key[bit / 8] ^= (char)(1 << (bit % 8));
        cr_expect_neq(bwm_hash_key(key, 17), before, "bit %zu", bit);
        key[bit / 8] ^= (char)(1 << (bit % 8));
    }
    free(h);
    free(count);
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
