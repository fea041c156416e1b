/*
 * hash.h: the hashes bwm keeps stable across runs and hosts: XXH64 (for
 * COUNT_DISTINCT, the forwarder's idempotency keys and the state table's
 * keys) and the xorshift64* generator (sample data, retry jitter).
 */
#ifndef BWM_CORE_HASH_H
#define BWM_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 of p[0 .. n) with seed, as the xxHash specification defines it. */
uint64_t bwm_xxh64(const void *p, size_t n, uint64_t seed);

/* The next value of a xorshift64* generator; *state must not be 0. */
static inline uint64_t bwm_xorshift64s(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(0x2545F4914F6CDD1D);
}

#endif
