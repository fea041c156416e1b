/*
 * redis.h: one Redis connection from a redis:// URL, with connect and
 * command timeouts, AUTH and SELECT, reconnecting lazily after an I/O error.
 */
#ifndef BWM_REDIS_H
#define BWM_REDIS_H

#include <hiredis.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_redis_conf {
    char *rc_url;
    int64_t rc_connect_timeout_ms;
    int64_t rc_command_timeout_ms;
} bwm_redis_conf_t;

/* The redis.* keys. */
extern const bwm_conf_table_t bwm_redis_conf_table;

typedef struct bwm_redis bwm_redis_t;

/*
 * Binds the redis.* keys from conf and connects. Fails with BWM_ERR_INVALID
 * for a bad URL (message names redis.url) and BWM_ERR_IO when the server
 * cannot be reached. Caller frees with bwm_redis_destroy().
 */
bwm_err_t bwm_redis_new(const bwm_conf_t *conf, bwm_redis_t **out, char *errstr,
                        size_t errstr_size);
void bwm_redis_destroy(bwm_redis_t *r);

/* The connected context, reconnecting first when the last call failed; NULL on failure. */
redisContext *bwm_redis_ctx(bwm_redis_t *r, char *errstr, size_t errstr_size);

/*
 * Notes that a reply to what ("GET fence", ...) could not be read (timeout,
 * reset): formats "Redis <what> failed: <cause>" into errstr, drops the
 * connection (rebuilt on the next bwm_redis_ctx()) and returns BWM_ERR_IO.
 */
bwm_err_t bwm_redis_lost(bwm_redis_t *r, const char *what, char *errstr, size_t errstr_size);

#endif
