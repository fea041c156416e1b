/*
 * redis.c: URL parsing, connecting with timeouts, AUTH and SELECT.
 */
#include "connectors/redis/redis.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/log.h"
#include "connectors/secret.h"

#define CONF_DEF(name, type, def, min, max, field, desc)                                           \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_redis_conf_t, field), 0, desc                \
    }

static const bwm_conf_def_t redis_defs[] = {
    CONF_DEF("redis.url", BWM_CONF_SECRET, "redis://127.0.0.1:6379/0", 0, 0, rc_url,
             "state store: redis://[user:password@]host:port/db"),
    CONF_DEF("redis.connect.timeout.ms", BWM_CONF_INT, "2000", 1, 600000, rc_connect_timeout_ms,
             "timeout for connecting to Redis"),
    CONF_DEF("redis.command.timeout.ms", BWM_CONF_INT, "5000", 1, 600000, rc_command_timeout_ms,
             "timeout for one Redis reply"),
};

const bwm_conf_table_t bwm_redis_conf_table = {"redis", redis_defs,
                                               sizeof(redis_defs) / sizeof(redis_defs[0])};

struct bwm_redis {
    bwm_redis_conf_t r_conf;
    char r_host[256];
    int r_port;
    int r_db;
    char r_user[128];
    char r_pass[256];
    char r_where[300];
    redisContext *r_ctx;
};

/* Parses redis://[user:pass@]host[:port][/db]. */
static bwm_err_t parse_url(bwm_redis_t *r, const char *url, char *errstr, size_t errstr_size)
{
    const char *p, *at, *slash, *colon;
    size_t n;

    if (strncmp(url, "rediss://", 9) == 0) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                           "redis.url: rediss:// (TLS) is not supported by this build; use "
                           "redis://host:port/db");
    }
    if (strncmp(url, "redis://", 8) != 0) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                           "redis.url must look like redis://[user:password@]host:port/db");
    }
    p = url + 8;
    r->r_port = 6379;
    r->r_db = 0;
    at = strrchr(p, '@');
    if (at) {
        const char *c = memchr(p, ':', (size_t)(at - p));

        if (c) {
            snprintf(r->r_user, sizeof(r->r_user), "%.*s", (int)(c - p), p);
            snprintf(r->r_pass, sizeof(r->r_pass), "%.*s", (int)(at - c - 1), c + 1);
        } else {
            snprintf(r->r_pass, sizeof(r->r_pass), "%.*s", (int)(at - p), p);
        }
        p = at + 1;
    }
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    colon = memchr(p, ':', n);
    if ((colon ? (size_t)(colon - p) : n) == 0 ||
        (colon ? (size_t)(colon - p) : n) >= sizeof(r->r_host)) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "redis.url: missing host");
    }
    snprintf(r->r_host, sizeof(r->r_host), "%.*s", (int)(colon ? colon - p : (ptrdiff_t)n), p);
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);

        if (end != p + n || port < 1 || port > 65535) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "redis.url: bad port '%.*s'",
                               (int)(p + n - colon - 1), colon + 1);
        }
        r->r_port = (int)port;
    }
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);

        if (*end || db < 0 || db > 1000000) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                               "redis.url: bad database number '%s'", slash + 1);
        }
        r->r_db = (int)db;
    }
    snprintf(r->r_where, sizeof(r->r_where), "%s:%d/%d", r->r_host, r->r_port, r->r_db);
    return BWM_OK;
}

static struct timeval ms_tv(int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

    return tv;
}

/* Runs one command during connection set-up; the reply must not be an error. */
static bwm_err_t setup_command(redisContext *c, char *errstr, size_t errstr_size, int argc,
                               const char **argv)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    bwm_err_t err = BWM_OK;

    if (!rep) {
        return bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "Redis %s failed: %s", argv[0],
                           c->errstr);
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis %s refused: %s", argv[0],
                          rep->str);
    }
    freeReplyObject(rep);
    return err;
}

static bwm_err_t do_connect(bwm_redis_t *r, char *errstr, size_t errstr_size)
{
    redisContext *c;
    char db[16];
    bwm_err_t err;

    c = redisConnectWithTimeout(r->r_host, r->r_port, ms_tv(r->r_conf.rc_connect_timeout_ms));
    if (!c || c->err) {
        err = bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "cannot connect to Redis at %s: %s",
                          r->r_where, c ? c->errstr : "out of memory");
        redisFree(c);
        return err;
    }
    if (redisSetTimeout(c, ms_tv(r->r_conf.rc_command_timeout_ms)) != REDIS_OK) {
        redisFree(c);
        return bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "cannot set the Redis timeout");
    }
    if (r->r_pass[0]) {
        const char *argv3[] = {"AUTH", r->r_user, r->r_pass};
        const char *argv2[] = {"AUTH", r->r_pass};

        err = r->r_user[0] ? setup_command(c, errstr, errstr_size, 3, argv3)
                           : setup_command(c, errstr, errstr_size, 2, argv2);
        if (err) {
            redisFree(c);
            return err;
        }
    }
    if (r->r_db != 0) {
        const char *argv[] = {"SELECT", db};

        snprintf(db, sizeof(db), "%d", r->r_db);
        err = setup_command(c, errstr, errstr_size, 2, argv);
        if (err) {
            redisFree(c);
            return err;
        }
    }
    r->r_ctx = c;
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_STATE, "connected to Redis at %s", r->r_where);
    return BWM_OK;
}

bwm_err_t bwm_redis_new(const bwm_conf_t *conf, bwm_redis_t **out, char *errstr, size_t errstr_size)
{
    bwm_redis_t *r = calloc(1, sizeof(*r));
    char *url = NULL;
    bwm_err_t err;

    if (!r) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }

    err = bwm_conf_bind(conf, &bwm_redis_conf_table, &r->r_conf, errstr, errstr_size);
    if (!err) {
        err = bwm_secret_resolve("redis.url", r->r_conf.rc_url, &url, errstr, errstr_size);
    }
    if (!err) {
        err = parse_url(r, url, errstr, errstr_size);
    }
    bwm_secret_free(url);
    if (!err) {
        err = do_connect(r, errstr, errstr_size);
    }
    if (err) {
        bwm_redis_destroy(r);
        return err;
    }
    *out = r;
    return BWM_OK;
}

void bwm_redis_destroy(bwm_redis_t *r)
{
    if (!r) {
        return;
    }
    redisFree(r->r_ctx);
    bwm_conf_unbind(&bwm_redis_conf_table, &r->r_conf);
    memset(r->r_pass, 0, sizeof(r->r_pass));
    free(r);
}

static void drop(bwm_redis_t *r, const char *cause)
{
    if (r->r_ctx) {
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_STATE, "Redis connection to %s lost: %s", r->r_where, cause);
    }
    redisFree(r->r_ctx);
    r->r_ctx = NULL;
}

redisContext *bwm_redis_ctx(bwm_redis_t *r, char *errstr, size_t errstr_size)
{
    if (r->r_ctx && r->r_ctx->err) {
        drop(r, r->r_ctx->errstr);
    }
    if (!r->r_ctx && do_connect(r, errstr, errstr_size) != BWM_OK) {
        return NULL;
    }
    return r->r_ctx;
}

bwm_err_t bwm_redis_lost(bwm_redis_t *r, const char *what, char *errstr, size_t errstr_size)
{
    const char *cause = r->r_ctx && r->r_ctx->err ? r->r_ctx->errstr : "no reply";

    bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "Redis %s failed: %s", what, cause);
    drop(r, cause);
    return BWM_ERR_IO;
}
