/*
 * hash.h: the hashes bwm keeps stable across runs and hosts: XXH64 (for
 * COUNT_DISTINCT and the forwarder's idempotency keys) and the xorshift64*
 * generator (sample data, retry jitter); and a faster hash for the keys of
 * in-memory tables, which nothing stores.
 */
#ifndef BWM_CORE_HASH_H
#define BWM_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 of p[0 .. n) with seed, as the xxHash specification defines it. */
uint64_t bwm_xxh64(const void *p, size_t n, uint64_t seed);

/*
 * A 64-bit hash of p[0 .. n) for in-memory tables: two multiplications for
 * up to 16 bytes, one more per 16 bytes beyond. The same on every run and
 * host, but it may change between versions: never store it.
 */
uint64_t bwm_hash_key(const void *p, size_t n);

/* The next value of a xorshift64* generator; *state must not be 0. */
static inline uint64_t bwm_xorshift64s(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(0x2545F4914F6CDD1D);
}

#endif
