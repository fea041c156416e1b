/*
 * arena.h: a bump allocator for values that live as long as one record or
 * one batch (strings made by LOWER, SUBSTRING, CAST ...). Memory comes in
 * chunks that never move, so pointers stay valid until bwm_arena_reset().
 */
#ifndef BWM_ARENA_H
#define BWM_ARENA_H

#include <stddef.h>

typedef struct bwm_arena_chunk bwm_arena_chunk_t;

typedef struct bwm_arena {
    bwm_arena_chunk_t *ar_head; /* newest chunk */
    size_t ar_used;             /* bytes handed out since the last reset */
    size_t ar_limit;            /* most bytes between resets; 0: no limit */
} bwm_arena_t;

/* A zeroed bwm_arena_t is an empty arena without a limit. */
void bwm_arena_init(bwm_arena_t *a, size_t limit);
/* Returns n bytes aligned to 8, or NULL when out of memory or over the limit. */
void *bwm_arena_alloc(bwm_arena_t *a, size_t n);
/* bwm_arena_reset()'s work, when something was handed out since the last reset. */
void bwm_arena_release(bwm_arena_t *a);

/*
 * Frees everything but the first chunk, which is kept for reuse. Inline, as
 * the engine resets an arena for every record and most records take nothing
 * from it: with nothing handed out since the last reset, that reset left the
 * one chunk at most, empty.
 */
static inline void bwm_arena_reset(bwm_arena_t *a)
{
    if (a->ar_used) {
        bwm_arena_release(a);
    }
}
void bwm_arena_free(bwm_arena_t *a);

#endif
