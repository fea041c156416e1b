/*
 * store.c: the Redis state store.
 *
 * Key layout (all keys of one partition share the hash tag, so they live in
 * one Redis Cluster slot and one Lua script can commit them atomically):
 *
 *   {bwm:<namespace>:<partition>}:fence        "<offset>:<watermark>"
 *   {bwm:<namespace>:<partition>}:s:<key>      the key's windows and states (core/table.h)
 *   {bwm:<namespace>:<partition>}:close        sorted set: key -> earliest close time (ms)
 *                                              of its windows (windowed jobs only)
 *   {bwm:<namespace>:<partition>}:c:<key>@<start>  a closed window's final state, kept
 *                                              state.retention.ms (PX) when that is set
 *
 * A namespace's keys are thus exactly those matching "{bwm:<namespace>:"
 * followed by digits and "}": dropping a namespace scans for them.
 *
 * <offset> is the last source offset whose effect the states include;
 * <watermark> the partition's event-time watermark in ms. A commit is one
 * EVALSHA of COMMIT_LUA: compare the fence with what this instance last read
 * or wrote, then write or delete the states, update the close index and set
 * the new fence, or return FENCED.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/log.h"
#include "connectors/redis/redis.h"
#include "connectors/store.h"

/*
 * KEYS[1] fence, KEYS[2] close index, KEYS[3..] states (or retained windows).
 * ARGV[1] expected fence, ARGV[2] new fence, ARGV[3] length of the state
 * keys' prefix; then per key: the operation, "S" (set), "D" (delete) or "R"
 * (set a retained window with an expiry), the value, and for "S" and "D"
 * the index change ("" none, "-" remove, else the close time to add), for
 * "R" the expiry in ms.
 *
 * Runs of sets become one MSET, of deletes one DEL, of index additions one
 * ZADD and of removals one ZREM (at most COMMIT_RUN keys each, within Lua's
 * unpack limit): a batch costs Redis a few commands, not a few per state.
 * A run ends where the operation changes, so each key sees its changes in
 * order.
 */
#define COMMIT_RUN "1000"
static const char COMMIT_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then cur = '' end\n"
    "if cur ~= ARGV[1] then return redis.error_reply('FENCED ' .. cur) end\n"
    "local plen = tonumber(ARGV[3])\n"
    "local sop, sargs, sn = nil, {}, 0\n"
    "local zop, zargs, zn = nil, {}, 0\n"
    "local function flush_states()\n"
    "  if sn == 0 then return end\n"
    "  if sop == 'S' then redis.call('MSET', unpack(sargs))\n"
    "  else redis.call('DEL', unpack(sargs)) end\n"
    "  sargs, sn = {}, 0\n"
    "end\n"
    "local function flush_index()\n"
    "  if zn == 0 then return end\n"
    "  if zop == '-' then redis.call('ZREM', KEYS[2], unpack(zargs))\n"
    "  else redis.call('ZADD', KEYS[2], unpack(zargs)) end\n"
    "  zargs, zn = {}, 0\n"
    "end\n"
    "for i = 3, #KEYS do\n"
    "  local a = 4 + (i - 3) * 3\n"
    "  local op = ARGV[a]\n"
    "  if op == 'R' then redis.call('SET', KEYS[i], ARGV[a + 1], 'PX', ARGV[a + 2])\n"
    "  else\n"
    "    if op ~= sop or sn >= " COMMIT_RUN " then flush_states() sop = op end\n"
    "    sargs[#sargs + 1] = KEYS[i]\n"
    "    if op == 'S' then sargs[#sargs + 1] = ARGV[a + 1] end\n"
    "    sn = sn + 1\n"
    "    local ix = ARGV[a + 2]\n"
    "    if ix ~= '' then\n"
    "      local z = ix == '-' and '-' or '+'\n"
    "      if z ~= zop or zn >= " COMMIT_RUN " then flush_index() zop = z end\n"
    "      if z == '+' then zargs[#zargs + 1] = ix end\n"
    "      zargs[#zargs + 1] = string.sub(KEYS[i], plen + 1)\n"
    "      zn = zn + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "flush_states()\n"
    "flush_index()\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "return 1\n";

/* Keys per MGET; all MGETs of one call are pipelined into one round trip. */
#define MGET_CHUNK 1000

typedef struct redis_store {
    bwm_redis_t *rs_redis;
    char rs_sha[41];
    /* Reused argument vectors. */
    char **rs_argv;
    size_t *rs_lens;
    size_t rs_cap;
} redis_store_t;

static void store_close(void *ctx)
{
    redis_store_t *s = ctx;
    size_t i;

    if (!s) {
        return;
    }
    if (s->rs_argv) {
        for (i = 0; i < s->rs_cap; i++) {
            free(s->rs_argv[i]);
        }
    }
    free(s->rs_argv);
    free(s->rs_lens);
    bwm_redis_destroy(s->rs_redis);
    free(s);
}

static bwm_err_t store_open(const bwm_conf_t *conf, void **ctx, char *errstr, size_t errstr_size)
{
    redis_store_t *s = calloc(1, sizeof(*s));
    bwm_err_t err;

    if (!s) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    err = bwm_redis_new(conf, &s->rs_redis, errstr, errstr_size);
    if (err) {
        store_close(s);
        return err;
    }
    *ctx = s;
    return BWM_OK;
}

/* Makes room for n argument slots (each a separately allocated string). */
static bwm_err_t argv_reserve(redis_store_t *s, size_t n)
{
    char **argv;
    size_t *lens, cap;

    if (n <= s->rs_cap) {
        return BWM_OK;
    }
    cap = s->rs_cap ? s->rs_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    argv = realloc(s->rs_argv, cap * sizeof(*argv));
    if (!argv) {
        return BWM_ERR_NOMEM;
    }
    s->rs_argv = argv;
    memset(argv + s->rs_cap, 0, (cap - s->rs_cap) * sizeof(*argv));
    lens = realloc(s->rs_lens, cap * sizeof(*lens));
    if (!lens) {
        return BWM_ERR_NOMEM;
    }
    s->rs_lens = lens;
    s->rs_cap = cap;
    return BWM_OK;
}

/* Sets argument i to a copy of the n bytes at p. */
static bwm_err_t argv_set(redis_store_t *s, size_t i, const void *p, size_t n)
{
    char *a = realloc(s->rs_argv[i], n ? n : 1);

    if (!a) {
        return BWM_ERR_NOMEM;
    }
    memcpy(a, p, n);
    s->rs_argv[i] = a;
    s->rs_lens[i] = n;
    return BWM_OK;
}

/* Sets argument i to the Redis key "{bwm:<ns>:<part>}<suffix><key>". */
static bwm_err_t argv_key(redis_store_t *s, size_t i, const char *ns, int32_t part,
                          const char *suffix, const char *key, size_t keylen)
{
    char tag[512];
    int n = snprintf(tag, sizeof(tag), "{bwm:%s:%d}%s", ns, (int)part, suffix);
    char *a;

    if (n < 0 || (size_t)n >= sizeof(tag)) {
        return BWM_ERR_LIMIT;
    }
    a = realloc(s->rs_argv[i], (size_t)n + keylen + 1);
    if (!a) {
        return BWM_ERR_NOMEM;
    }
    memcpy(a, tag, (size_t)n);
    if (keylen) {
        memcpy(a + n, key, keylen);
    }
    s->rs_argv[i] = a;
    s->rs_lens[i] = (size_t)n + keylen;
    return BWM_OK;
}

static bwm_err_t store_fence_get(void *ctx, const char *ns, int32_t part, bwm_fence_t *out,
                                 char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    redisReply *rep;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    if (argv_reserve(s, 2) || argv_set(s, 0, "GET", 3) ||
        argv_key(s, 1, ns, part, ":fence", NULL, 0)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    rep = redisCommandArgv(c, 2, (const char **)s->rs_argv, s->rs_lens);
    if (!rep) {
        return bwm_redis_lost(s->rs_redis, "GET fence", errstr, errstr_size);
    }
    if (rep->type == REDIS_REPLY_NIL) {
        out->f_offset = -1;
        out->f_watermark = BWM_WATERMARK_NONE;
    } else if (rep->type == REDIS_REPLY_ERROR) {
        /* LOADING after a restart, a replica's READONLY...: Redis may answer later */
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis GET fence: %s", rep->str);
    } else if (rep->type != REDIS_REPLY_STRING ||
               bwm_fence_parse(rep->str, rep->len, out) != BWM_OK) {
        err = bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                          "fence key {bwm:%s:%d}:fence holds an unexpected value", ns, (int)part);
    }
    freeReplyObject(rep);
    return err;
}

static bwm_err_t store_get_many(void *ctx, const char *ns, int32_t part, const bwm_keyref_t *keys,
                                size_t n, bwm_store_value_cb cb, void *opaque, char *errstr,
                                size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    size_t done, i, nchunks = 0;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    for (done = 0; done < n; done += MGET_CHUNK) {
        size_t m = n - done < MGET_CHUNK ? n - done : MGET_CHUNK;

        if (argv_reserve(s, m + 1) || argv_set(s, 0, "MGET", 4)) {
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (i = 0; i < m; i++) {
            if (argv_key(s, i + 1, ns, part, ":s:", keys[done + i].kr_key, keys[done + i].kr_len)) {
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
        }
        if (redisAppendCommandArgv(c, (int)(m + 1), (const char **)s->rs_argv, s->rs_lens) !=
            REDIS_OK) {
            return bwm_redis_lost(s->rs_redis, "MGET", errstr, errstr_size);
        }
        nchunks++;
    }
    for (done = 0; nchunks > 0; nchunks--, done += MGET_CHUNK) {
        redisReply *rep = NULL;

        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
            return bwm_redis_lost(s->rs_redis, "MGET", errstr, errstr_size);
        }
        if (rep->type != REDIS_REPLY_ARRAY) {
            err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis MGET: %s",
                              rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        }
        for (i = 0; !err && i < rep->elements; i++) {
            redisReply *el = rep->element[i];

            if (el->type == REDIS_REPLY_STRING) {
                err = cb(done + i, el->str, el->len, opaque);
            } else {
                err = cb(done + i, NULL, 0, opaque);
            }
        }
        freeReplyObject(rep);
    }
    return err;
}

/* Loads the commit script and remembers its SHA1. */
static bwm_err_t load_script(redis_store_t *s, redisContext *c, char *errstr, size_t errstr_size)
{
    redisReply *rep = redisCommand(c, "SCRIPT LOAD %s", COMMIT_LUA);
    bwm_err_t err = BWM_OK;

    if (!rep) {
        return bwm_redis_lost(s->rs_redis, "SCRIPT LOAD", errstr, errstr_size);
    }
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        memcpy(s->rs_sha, rep->str, 40);
        s->rs_sha[40] = '\0';
    } else {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis SCRIPT LOAD: %s",
                          rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    }
    freeReplyObject(rep);
    return err;
}

static bwm_err_t store_index_get(void *ctx, const char *ns, int32_t part, bwm_store_index_cb cb,
                                 void *opaque, char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    redisReply *rep;
    size_t i;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    if (argv_reserve(s, 5) || argv_set(s, 0, "ZRANGE", 6) ||
        argv_key(s, 1, ns, part, ":close", NULL, 0) || argv_set(s, 2, "0", 1) ||
        argv_set(s, 3, "-1", 2) || argv_set(s, 4, "WITHSCORES", 10)) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    rep = redisCommandArgv(c, 5, (const char **)s->rs_argv, s->rs_lens);
    if (!rep) {
        return bwm_redis_lost(s->rs_redis, "ZRANGE", errstr, errstr_size);
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis ZRANGE: %s",
                          rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    }
    for (i = 0; !err && i + 1 < rep->elements; i += 2) {
        redisReply *k = rep->element[i], *v = rep->element[i + 1];
        char *end;
        double close;

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis ZRANGE: bad reply");
            break;
        }
        close = strtod(v->str, &end);
        err = cb(k->str, k->len, (int64_t)close, opaque);
    }
    freeReplyObject(rep);
    return err;
}

static bwm_err_t store_commit(void *ctx, const char *ns, int32_t part, const bwm_fence_t *expect,
                              const bwm_fence_t *next, const bwm_change_t *changes, size_t n,
                              char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    size_t argc = 3 + 2 + n + 3 + 3 * n, i, plen;
    char numkeys[24], fexp[64], fnext[64], num[32], prefix[512];
    int attempt;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    if (!s->rs_sha[0] && (err = load_script(s, c, errstr, errstr_size)) != BWM_OK) {
        return err;
    }
    bwm_fence_format(expect, fexp, sizeof(fexp));
    bwm_fence_format(next, fnext, sizeof(fnext));
    snprintf(numkeys, sizeof(numkeys), "%zu", n + 2);
    plen = (size_t)snprintf(prefix, sizeof(prefix), "{bwm:%s:%d}:s:", ns, (int)part);
    snprintf(num, sizeof(num), "%zu", plen);
    /* EVALSHA sha numkeys fence close state... expected next plen (op value index)... */
    if (argv_reserve(s, argc) || argv_set(s, 0, "EVALSHA", 7) || argv_set(s, 1, s->rs_sha, 40) ||
        argv_set(s, 2, numkeys, strlen(numkeys)) || argv_key(s, 3, ns, part, ":fence", NULL, 0) ||
        argv_key(s, 4, ns, part, ":close", NULL, 0) || argv_set(s, 5 + n, fexp, strlen(fexp)) ||
        argv_set(s, 6 + n, fnext, strlen(fnext)) || argv_set(s, 7 + n, num, strlen(num))) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < n; i++) {
        const bwm_change_t *ch = &changes[i];
        size_t a = 8 + n + 3 * i;
        const char *op = ch->ch_retain ? "R" : ch->ch_val ? "S" : "D";
        int bad;

        if (ch->ch_retain) {
            snprintf(num, sizeof(num), "%" PRId64, ch->ch_ttl_ms);
        } else if (ch->ch_index > 0) {
            snprintf(num, sizeof(num), "%" PRId64, ch->ch_close);
        } else {
            snprintf(num, sizeof(num), "%s", ch->ch_index < 0 ? "-" : "");
        }
        bad = argv_key(s, 5 + i, ns, part, ch->ch_retain ? ":c:" : ":s:", ch->ch_key,
                       ch->ch_keylen) ||
              argv_set(s, a, op, 1) ||
              argv_set(s, a + 1, ch->ch_val ? ch->ch_val : "", ch->ch_val ? ch->ch_vallen : 0) ||
              argv_set(s, a + 2, num, strlen(num));
        if (bad) {
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    for (attempt = 0; attempt < 2; attempt++) {
        redisReply *rep = redisCommandArgv(c, (int)argc, (const char **)s->rs_argv, s->rs_lens);

        if (!rep) {
            return bwm_redis_lost(s->rs_redis, "commit", errstr, errstr_size);
        }
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            /* The script cache was flushed (SCRIPT FLUSH, restart): load it again. */
            freeReplyObject(rep);
            err = load_script(s, c, errstr, errstr_size);
            if (err) {
                return err;
            }
            argv_set(s, 1, s->rs_sha, 40);
            continue;
        }
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "FENCED", 6) == 0) {
            err = bwm_err_set(BWM_ERR_FENCED, errstr, errstr_size,
                              "fence of %s/%d moved: expected '%s', found '%s'", ns, (int)part,
                              fexp, rep->str + (rep->len > 7 ? 7 : rep->len));
        } else if (rep->type != REDIS_REPLY_INTEGER || rep->integer != 1) {
            err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis commit of %s/%d: %s",
                              ns, (int)part,
                              rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        }
        freeReplyObject(rep);
        return err;
    }
    return err;
}

/* Appends s to out with Redis glob's special characters escaped. */
static void glob_escape(char *out, size_t size, size_t *len, const char *s)
{
    for (; *s && *len + 2 < size; s++) {
        if (strchr("*?[]\\", *s)) {
            out[(*len)++] = '\\';
        }
        out[(*len)++] = *s;
    }
    out[*len] = '\0';
}

/* One SCAN page: *cursor is updated, rep (freed by the caller) holds the keys. */
static bwm_err_t scan_page(redis_store_t *s, redisContext *c, const char *pattern, char cursor[32],
                           redisReply **keys, char *errstr, size_t errstr_size)
{
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    redisReply *rep = redisCommandArgv(c, 6, argv, NULL);

    *keys = NULL;
    if (!rep) {
        return bwm_redis_lost(s->rs_redis, "SCAN", errstr, errstr_size);
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY) {
        bwm_err_t err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis SCAN: %s",
                                    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        freeReplyObject(rep);
        return err;
    }
    snprintf(cursor, 32, "%s", rep->element[0]->str);
    *keys = rep;
    return BWM_OK;
}

static bwm_err_t store_scan(void *ctx, const char *ns, int32_t part, bwm_store_kind_t kind,
                            bwm_store_scan_cb cb, void *opaque, char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    const char *suffix = kind == BWM_STORE_RETAINED ? ":c:" : ":s:";
    char pattern[600], prefix[512], cursor[32] = "0";
    size_t plen, len = 0, i;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    plen = (size_t)snprintf(prefix, sizeof(prefix), "{bwm:%s:%d}%s", ns, (int)part, suffix);
    pattern[0] = '\0';
    glob_escape(pattern, sizeof(pattern) - 1, &len, prefix);
    pattern[len++] = '*';
    pattern[len] = '\0';
    do {
        redisReply *page, *vals, *keys;

        err = scan_page(s, c, pattern, cursor, &page, errstr, errstr_size);
        if (err) {
            return err;
        }
        keys = page->element[1];
        if (keys->elements == 0) {
            freeReplyObject(page);
            continue;
        }
        if (argv_reserve(s, keys->elements + 1) || argv_set(s, 0, "MGET", 4)) {
            freeReplyObject(page);
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (i = 0; i < keys->elements; i++) {
            if (argv_set(s, i + 1, keys->element[i]->str, keys->element[i]->len)) {
                freeReplyObject(page);
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
        }
        vals = redisCommandArgv(c, (int)keys->elements + 1, (const char **)s->rs_argv, s->rs_lens);
        if (!vals) {
            freeReplyObject(page);
            return bwm_redis_lost(s->rs_redis, "MGET", errstr, errstr_size);
        }
        for (i = 0; !err && vals->type == REDIS_REPLY_ARRAY && i < vals->elements; i++) {
            redisReply *k = keys->element[i], *v = vals->element[i];

            if (v->type == REDIS_REPLY_STRING && k->len >= plen) {
                err = cb(k->str + plen, k->len - plen, v->str, v->len, opaque);
            }
        }
        freeReplyObject(vals);
        freeReplyObject(page);
    } while (!err && strcmp(cursor, "0") != 0);
    return err;
}

/* The partition of a fence key "{bwm:<ns>:<partition>}:fence" of namespace ns, or -1. */
static int32_t fence_partition(const char *key, size_t len, const char *ns)
{
    size_t nlen = strlen(ns);
    long long part = 0;
    size_t i = 5 + nlen + 1;

    if (len < i + 8 || memcmp(key, "{bwm:", 5) != 0 || memcmp(key + 5, ns, nlen) != 0 ||
        key[5 + nlen] != ':' || memcmp(key + len - 7, "}:fence", 7) != 0 || i == len - 7) {
        return -1;
    }
    for (; i < len - 7; i++) {
        if (key[i] < '0' || key[i] > '9' || part > INT32_MAX / 10) {
            return -1;
        }
        part = part * 10 + (key[i] - '0');
    }
    return part <= INT32_MAX ? (int32_t)part : -1;
}

static bwm_err_t store_partitions(void *ctx, const char *ns, int32_t **parts, size_t *n,
                                  char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    char pattern[600], cursor[32] = "0";
    int32_t *out = NULL;
    size_t len = 0, k = 0, cap = 0, i;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    memcpy(pattern, "{bwm:", 6);
    len = 5;
    glob_escape(pattern, sizeof(pattern) - 16, &len, ns);
    snprintf(pattern + len, sizeof(pattern) - len, ":*}:fence");
    do {
        redisReply *page;

        err = scan_page(s, c, pattern, cursor, &page, errstr, errstr_size);
        for (i = 0; !err && i < page->element[1]->elements; i++) {
            redisReply *key = page->element[1]->element[i];
            int32_t p = fence_partition(key->str, key->len, ns);

            if (p < 0) {
                continue;
            }
            if (k == cap) {
                int32_t *grown = realloc(out, (cap = cap ? cap * 2 : 64) * sizeof(*out));

                if (!grown) {
                    err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
                    break;
                }
                out = grown;
            }
            out[k++] = p;
        }
        if (page) {
            freeReplyObject(page);
        }
    } while (!err && strcmp(cursor, "0") != 0);
    if (err) {
        free(out);
        return err;
    }
    bwm_store_sort_partitions(out, &k);
    *parts = out;
    *n = k;
    return BWM_OK;
}

/* Whether key is one of namespace ns: "{bwm:<ns>:<partition>}...". */
static int key_of(const char *key, size_t len, const char *ns)
{
    size_t nlen = strlen(ns), i = 5 + nlen + 1, digits = 0;

    if (len < i || memcmp(key, "{bwm:", 5) != 0 || memcmp(key + 5, ns, nlen) != 0 ||
        key[5 + nlen] != ':') {
        return 0;
    }
    for (; i < len && key[i] >= '0' && key[i] <= '9'; i++) {
        digits++;
    }
    return digits > 0 && i < len && key[i] == '}';
}

/*
 * SCAN MATCH "{bwm:<ns>:*" pages, each page's keys of ns deleted with one
 * UNLINK (DEL where the server has no UNLINK): never KEYS, which would
 * block the server.
 */
static bwm_err_t store_drop(void *ctx, const char *ns, uint64_t *deleted, char *errstr,
                            size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    const char *verb = "UNLINK";
    char pattern[600], cursor[32] = "0";
    size_t len = 5, i, n;
    bwm_err_t err = BWM_OK;

    *deleted = 0;
    if (!c) {
        return BWM_ERR_IO;
    }
    memcpy(pattern, "{bwm:", 6);
    glob_escape(pattern, sizeof(pattern) - 4, &len, ns);
    snprintf(pattern + len, sizeof(pattern) - len, ":*");
    do {
        redisReply *page, *keys, *rep;

        err = scan_page(s, c, pattern, cursor, &page, errstr, errstr_size);
        if (err) {
            return err;
        }
        keys = page->element[1];
        if (argv_reserve(s, keys->elements + 1)) {
            freeReplyObject(page);
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (i = 0, n = 1; i < keys->elements; i++) {
            redisReply *k = keys->element[i];

            if (k->type == REDIS_REPLY_STRING && key_of(k->str, k->len, ns) &&
                argv_set(s, n++, k->str, k->len)) {
                freeReplyObject(page);
                return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            }
        }
        freeReplyObject(page);
        while (n > 1) {
            argv_set(s, 0, verb, strlen(verb));
            rep = redisCommandArgv(c, (int)n, (const char **)s->rs_argv, s->rs_lens);
            if (!rep) {
                return bwm_redis_lost(s->rs_redis, verb, errstr, errstr_size);
            }
            if (rep->type == REDIS_REPLY_INTEGER) {
                *deleted += (uint64_t)rep->integer;
                n = 0;
            } else if (rep->type == REDIS_REPLY_ERROR && strcmp(verb, "UNLINK") == 0 &&
                       strncmp(rep->str, "ERR unknown command", 19) == 0) {
                verb = "DEL";
            } else {
                err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis %s: %s", verb,
                                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
                n = 0;
            }
            freeReplyObject(rep);
        }
    } while (!err && strcmp(cursor, "0") != 0);
    return err;
}

const bwm_store_ops_t bwm_store_redis_ops = {
    .so_name = "redis",
    .so_open = store_open,
    .so_fence_get = store_fence_get,
    .so_get_many = store_get_many,
    .so_index_get = store_index_get,
    .so_commit = store_commit,
    .so_scan = store_scan,
    .so_partitions = store_partitions,
    .so_drop = store_drop,
    .so_close = store_close,
};
