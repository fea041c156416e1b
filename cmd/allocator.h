/*
 * allocator.h: how bwm's programs configure jemalloc, which release builds
 * link (see the Makefile and the README's "Allocator"). Each program defines
 *
 *     const char *malloc_conf = BWM_MALLOC_CONF;
 *
 * which jemalloc reads when it starts; the MALLOC_CONF environment variable
 * overrides it key by key. Builds with libc's allocator ignore the symbol.
 *
 * One arena: bwm has one thread that allocates most and one (librdkafka's
 * broker thread) that allocates messages it then frees, so more arenas only
 * hold more memory. Freed pages go back to the system after a quarter of a
 * second (dirty_decay_ms) and at once after that (muzzy_decay_ms 0):
 * jemalloc's defaults keep them ten seconds, which raised bwm's peak memory
 * by a fifth. A quarter of a second holds 2 MB less at the peak of the S2
 * bench job than a second, for the same CPU; returning them at once cost
 * the job 1.18 CPU s per million records instead of 0.81, in madvise().
 */
#ifndef BWM_ALLOCATOR_H
#define BWM_ALLOCATOR_H

#define BWM_MALLOC_CONF "narenas:1,dirty_decay_ms:250,muzzy_decay_ms:0"

#endif
