/*
 * hash.c: XXH64, as published by Yann Collet (BSD-2-Clause), for one buffer;
 * and bwm_hash_key(), a multiply-and-fold hash for the keys of in-memory
 * tables.
 */
#include "core/hash.h"

#include <string.h>

#define XXH_P1 UINT64_C(0x9E3779B185EBCA87)
#define XXH_P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define XXH_P3 UINT64_C(0x165667B19E3779F9)
#define XXH_P4 UINT64_C(0x85EBCA77C2B2AE63)
#define XXH_P5 UINT64_C(0x27D4EB2F165667C5)

static uint64_t xxh_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* Little-endian reads of unaligned bytes, one load each. */
static inline uint64_t xxh_read64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t xxh_read32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static uint64_t xxh_round(uint64_t acc, uint64_t in)
{
    acc += in * XXH_P2;
    acc = xxh_rotl(acc, 31);
    return acc * XXH_P1;
}

static uint64_t xxh_merge_round(uint64_t acc, uint64_t v)
{
    acc ^= xxh_round(0, v);
    return acc * XXH_P1 + XXH_P4;
}

/* One 8-byte word of the tail into h. */
static inline uint64_t xxh_word(uint64_t h, const uint8_t *b)
{
    h ^= xxh_round(0, xxh_read64(b));
    return xxh_rotl(h, 27) * XXH_P1 + XXH_P4;
}

/* One byte of the tail into h. */
static inline uint64_t xxh_byte(uint64_t h, uint8_t c)
{
    h ^= (uint64_t)c * XXH_P5;
    return xxh_rotl(h, 11) * XXH_P1;
}

uint64_t bwm_xxh64(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    size_t left = n;
    uint64_t h;

    if (left >= 32) {
        uint64_t v1 = seed + XXH_P1 + XXH_P2, v2 = seed + XXH_P2, v3 = seed, v4 = seed - XXH_P1;

        do {
            v1 = xxh_round(v1, xxh_read64(b));
            v2 = xxh_round(v2, xxh_read64(b + 8));
            v3 = xxh_round(v3, xxh_read64(b + 16));
            v4 = xxh_round(v4, xxh_read64(b + 24));
            b += 32;
            left -= 32;
        } while (left >= 32);
        h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) + xxh_rotl(v4, 18);
        h = xxh_merge_round(h, v1);
        h = xxh_merge_round(h, v2);
        h = xxh_merge_round(h, v3);
        h = xxh_merge_round(h, v4);
    } else {
        h = seed + XXH_P5;
    }
    h += (uint64_t)n;
    /* Under 32 bytes left: up to three words, a half-word, up to three bytes, unrolled. */
    switch (left >> 3) {
        case 3:
            h = xxh_word(h, b);
            b += 8;
            /* fall through */
        case 2:
            h = xxh_word(h, b);
            b += 8;
            /* fall through */
        case 1:
            h = xxh_word(h, b);
            b += 8;
            break;
        default:
            break;
    }
    if (left & 4) {
        h ^= xxh_read32(b) * XXH_P1;
        h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;
        b += 4;
    }
    switch (left & 3) {
        case 3:
            h = xxh_byte(h, *b++);
            /* fall through */
        case 2:
            h = xxh_byte(h, *b++);
            /* fall through */
        case 1:
            h = xxh_byte(h, *b);
            break;
        default:
            break;
    }
    h ^= h >> 33;
    h *= XXH_P2;
    h ^= h >> 29;
    h *= XXH_P3;
    h ^= h >> 32;
    return h;
}

/* The 128-bit product of a and b, its halves folded together by xor. */
static inline uint64_t key_fold(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Odd constants with about half their bits set: wyhash's (public domain), as is the fold. */
#define KEY_K0 UINT64_C(0xa0761d6478bd642f)
#define KEY_K1 UINT64_C(0xe7037ed1a0b428db)

/*
 * Up to 16 bytes are read as two overlapping words (or half-words, or three
 * bytes), which with the length stand for every byte; longer keys fold 16
 * bytes at a time into h first. The last two folds mix every bit of the
 * words into the low bits that pick a table slot.
 */
uint64_t bwm_hash_key(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t x, y, h = KEY_K0 ^ (uint64_t)n;
    size_t left = n;

    if (left <= 16) {
        if (left >= 8) {
            x = xxh_read64(b);
            y = xxh_read64(b + left - 8);
        } else if (left >= 4) {
            x = xxh_read32(b);
            y = xxh_read32(b + left - 4);
        } else if (left > 0) {
            x = (uint64_t)b[0] << 16 | (uint64_t)b[left / 2] << 8 | b[left - 1];
            y = 0;
        } else {
            x = y = 0;
        }
    } else {
        while (left > 16) {
            h = key_fold(xxh_read64(b) ^ KEY_K1, xxh_read64(b + 8) ^ h);
            b += 16;
            left -= 16;
        }
        x = xxh_read64(b + left - 16);
        y = xxh_read64(b + left - 8);
    }
    /* x and y once more, so that a zero product does not forget the other word */
    return key_fold(KEY_K1 ^ (uint64_t)n, key_fold(x ^ KEY_K1, y ^ h) ^ x ^ y);
}
