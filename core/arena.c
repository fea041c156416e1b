/*
 * arena.c: chunked bump allocation.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#define CHUNK_MIN 4096

struct bwm_arena_chunk {
    bwm_arena_chunk_t *ac_next;
    size_t ac_size;
    size_t ac_used;
    uint64_t ac_data[]; /* 8-byte aligned */
};

void bwm_arena_init(bwm_arena_t *a, size_t limit)
{
    a->ar_head = NULL;
    a->ar_used = 0;
    a->ar_limit = limit;
}

void *bwm_arena_alloc(bwm_arena_t *a, size_t n)
{
    bwm_arena_chunk_t *c = a->ar_head;
    size_t need = (n + 7) & ~(size_t)7;
    void *p;

    if (need < n || (a->ar_limit && a->ar_used + need > a->ar_limit)) {
        return NULL;
    }
    if (!c || c->ac_size - c->ac_used < need) {
        size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;

        if (c && c->ac_size * 2 > size && c->ac_size * 2 <= (1u << 20)) {
            size = c->ac_size * 2;
        }
        c = malloc(sizeof(*c) + size);
        if (!c) {
            return NULL;
        }
        c->ac_next = a->ar_head;
        c->ac_size = size;
        c->ac_used = 0;
        a->ar_head = c;
    }
    p = (char *)c->ac_data + c->ac_used;
    c->ac_used += need;
    a->ar_used += need;
    return p;
}

void bwm_arena_release(bwm_arena_t *a)
{
    bwm_arena_chunk_t *c = a->ar_head;

    while (c && c->ac_next) {
        bwm_arena_chunk_t *next = c->ac_next;

        free(c);
        c = next;
    }
    a->ar_head = c;
    if (c) {
        c->ac_used = 0;
    }
    a->ar_used = 0;
}

void bwm_arena_free(bwm_arena_t *a)
{
    bwm_arena_release(a);
    free(a->ar_head);
    a->ar_head = NULL;
}
