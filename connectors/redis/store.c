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
#include "core/buf.h"

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
    bwm_buf_t rs_cmd; /* the command being built, reused */
    int rs_long_ns;   /* the command names a key whose prefix does not fit TAG_SIZE */
} redis_store_t;

static void store_close(void *ctx)
{
    redis_store_t *s = ctx;

    if (!s) {
        return;
    }
    bwm_buf_free(&s->rs_cmd);
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

/*
 * Commands are written straight in Redis's wire format (RESP) into rs_cmd
 * and queued with redisAppendFormattedCommand(): a commit of 100,000 states
 * is then one buffer of copies, with no allocation or formatting per key.
 */

/* Starts a command of argc arguments. */
static void cmd_start(redis_store_t *s, size_t argc)
{
    bwm_buf_reset(&s->rs_cmd);
    s->rs_long_ns = 0;
    bwm_buf_put_u8(&s->rs_cmd, '*');
    bwm_buf_put_dec(&s->rs_cmd, (int64_t)argc);
    bwm_buf_put(&s->rs_cmd, "\r\n", 2);
}

/* Appends an argument made of the n1 bytes at p1 and the n2 at p2. */
static void cmd_arg2(redis_store_t *s, const void *p1, size_t n1, const void *p2, size_t n2)
{
    bwm_buf_put_u8(&s->rs_cmd, '$');
    bwm_buf_put_dec(&s->rs_cmd, (int64_t)(n1 + n2));
    bwm_buf_put(&s->rs_cmd, "\r\n", 2);
    bwm_buf_put(&s->rs_cmd, p1, n1);
    bwm_buf_put(&s->rs_cmd, p2, n2);
    bwm_buf_put(&s->rs_cmd, "\r\n", 2);
}

static void cmd_arg(redis_store_t *s, const void *p, size_t n)
{
    cmd_arg2(s, p, n, NULL, 0);
}

static void cmd_str(redis_store_t *s, const char *str)
{
    cmd_arg2(s, str, strlen(str), NULL, 0);
}

/* Size of a key prefix buffer; a namespace that does not fit fails the command. */
#define TAG_SIZE 512

/*
 * Writes the key prefix "{bwm:<ns>:<part>}<suffix>" into tag and returns its
 * length; when it does not fit, the command being built fails.
 */
static size_t key_tag(redis_store_t *s, char tag[TAG_SIZE], const char *ns, int32_t part,
                      const char *suffix)
{
    int n = snprintf(tag, TAG_SIZE, "{bwm:%s:%d}%s", ns, (int)part, suffix);

    if (n < 0 || n >= TAG_SIZE) {
        s->rs_long_ns = 1;
        tag[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* Queues the command built; a reply follows with redisGetReply(). */
static bwm_err_t cmd_append(redis_store_t *s, redisContext *c, const char *what, char *errstr,
                            size_t errstr_size)
{
    if (s->rs_long_ns) {
        return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size,
                           "state.namespace is too long: the Redis key prefix "
                           "{bwm:<namespace>:<partition>}:... must fit in %d bytes",
                           TAG_SIZE - 1);
    }
    if (s->rs_cmd.b_failed) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (redisAppendFormattedCommand(c, (const char *)s->rs_cmd.b_data, s->rs_cmd.b_len) !=
        REDIS_OK) {
        return bwm_redis_lost(s->rs_redis, what, errstr, errstr_size);
    }
    return BWM_OK;
}

/* Sends the command built and waits for its reply (*rep, freed by the caller). */
static bwm_err_t cmd_call(redis_store_t *s, redisContext *c, const char *what, redisReply **rep,
                          char *errstr, size_t errstr_size)
{
    bwm_err_t err = cmd_append(s, c, what, errstr, errstr_size);

    *rep = NULL;
    if (err) {
        return err;
    }
    if (redisGetReply(c, (void **)rep) != REDIS_OK || !*rep) {
        return bwm_redis_lost(s->rs_redis, what, errstr, errstr_size);
    }
    return BWM_OK;
}

static bwm_err_t store_fence_get(void *ctx, const char *ns, int32_t part, bwm_fence_t *out,
                                 char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    redisReply *rep;
    char tag[TAG_SIZE];
    bwm_err_t err;

    if (!c) {
        return BWM_ERR_IO;
    }
    cmd_start(s, 2);
    cmd_str(s, "GET");
    cmd_arg(s, tag, key_tag(s, tag, ns, part, ":fence"));
    err = cmd_call(s, c, "GET fence", &rep, errstr, errstr_size);
    if (err) {
        return err;
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
    char tag[TAG_SIZE];
    size_t tlen, done, i, nchunks = 0;
    bwm_err_t err = BWM_OK;

    if (!c) {
        return BWM_ERR_IO;
    }
    for (done = 0; done < n; done += MGET_CHUNK) {
        size_t m = n - done < MGET_CHUNK ? n - done : MGET_CHUNK;

        cmd_start(s, m + 1);
        cmd_str(s, "MGET");
        tlen = key_tag(s, tag, ns, part, ":s:");
        for (i = 0; i < m; i++) {
            cmd_arg2(s, tag, tlen, keys[done + i].kr_key, keys[done + i].kr_len);
        }
        err = cmd_append(s, c, "MGET", errstr, errstr_size);
        if (err) {
            return err;
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
    char tag[TAG_SIZE];
    size_t i;
    bwm_err_t err;

    if (!c) {
        return BWM_ERR_IO;
    }
    cmd_start(s, 5);
    cmd_str(s, "ZRANGE");
    cmd_arg(s, tag, key_tag(s, tag, ns, part, ":close"));
    cmd_str(s, "0");
    cmd_str(s, "-1");
    cmd_str(s, "WITHSCORES");
    err = cmd_call(s, c, "ZRANGE", &rep, errstr, errstr_size);
    if (err) {
        return err;
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

/* Builds the commit's EVALSHA (see COMMIT_LUA). */
static void commit_cmd(redis_store_t *s, const char *ns, int32_t part, const char *fexp,
                       const char *fnext, const bwm_change_t *changes, size_t n)
{
    char tag[TAG_SIZE], ctag[TAG_SIZE], num[32];
    size_t tlen, clen, i;
    int len;

    cmd_start(s, 3 + 2 + n + 3 + 3 * n);
    tlen = key_tag(s, tag, ns, part, ":s:");
    clen = key_tag(s, ctag, ns, part, ":c:");
    cmd_str(s, "EVALSHA");
    cmd_arg(s, s->rs_sha, 40);
    len = snprintf(num, sizeof(num), "%zu", n + 2);
    cmd_arg(s, num, (size_t)len);
    /* the fence and close keys: the state prefix's "s:" becomes "fence" and "close" */
    cmd_arg2(s, tag, tlen >= 2 ? tlen - 2 : 0, "fence", 5);
    cmd_arg2(s, tag, tlen >= 2 ? tlen - 2 : 0, "close", 5);
    for (i = 0; i < n; i++) {
        if (changes[i].ch_retain) {
            cmd_arg2(s, ctag, clen, changes[i].ch_key, changes[i].ch_keylen);
        } else {
            cmd_arg2(s, tag, tlen, changes[i].ch_key, changes[i].ch_keylen);
        }
    }
    cmd_str(s, fexp);
    cmd_str(s, fnext);
    len = snprintf(num, sizeof(num), "%zu", tlen);
    cmd_arg(s, num, (size_t)len);
    for (i = 0; i < n; i++) {
        const bwm_change_t *ch = &changes[i];

        cmd_str(s, ch->ch_retain ? "R" : ch->ch_val ? "S" : "D");
        cmd_arg(s, ch->ch_val ? ch->ch_val : "", ch->ch_val ? ch->ch_vallen : 0);
        if (ch->ch_retain || ch->ch_index > 0) {
            len = snprintf(num, sizeof(num), "%" PRId64,
                           ch->ch_retain ? ch->ch_ttl_ms : ch->ch_close);
            cmd_arg(s, num, (size_t)len);
        } else {
            cmd_str(s, ch->ch_index < 0 ? "-" : "");
        }
    }
}

static bwm_err_t store_commit(void *ctx, const char *ns, int32_t part, const bwm_fence_t *expect,
                              const bwm_fence_t *next, const bwm_change_t *changes, size_t n,
                              char *errstr, size_t errstr_size)
{
    redis_store_t *s = ctx;
    redisContext *c = bwm_redis_ctx(s->rs_redis, errstr, errstr_size);
    char fexp[64], fnext[64];
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
    for (attempt = 0; attempt < 2; attempt++) {
        redisReply *rep;

        commit_cmd(s, ns, part, fexp, fnext, changes, n);
        err = cmd_call(s, c, "commit", &rep, errstr, errstr_size);
        if (err) {
            return err;
        }
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            /* The script cache was flushed (SCRIPT FLUSH, restart): load it again. */
            freeReplyObject(rep);
            err = load_script(s, c, errstr, errstr_size);
            if (err) {
                return err;
            }
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
    redisReply *rep;
    bwm_err_t err;

    *keys = NULL;
    cmd_start(s, 6);
    cmd_str(s, "SCAN");
    cmd_str(s, cursor);
    cmd_str(s, "MATCH");
    cmd_str(s, pattern);
    cmd_str(s, "COUNT");
    cmd_str(s, "1000");
    err = cmd_call(s, c, "SCAN", &rep, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "Redis SCAN: %s",
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
        cmd_start(s, keys->elements + 1);
        cmd_str(s, "MGET");
        for (i = 0; i < keys->elements; i++) {
            cmd_arg(s, keys->element[i]->str, keys->element[i]->len);
        }
        err = cmd_call(s, c, "MGET", &vals, errstr, errstr_size);
        if (err) {
            freeReplyObject(page);
            return err;
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
        for (i = 0, n = 0; i < keys->elements; i++) {
            n += keys->element[i]->type == REDIS_REPLY_STRING &&
                 key_of(keys->element[i]->str, keys->element[i]->len, ns);
        }
        while (!err && n > 0) {
            cmd_start(s, n + 1);
            cmd_str(s, verb);
            for (i = 0; i < keys->elements; i++) {
                redisReply *k = keys->element[i];

                if (k->type == REDIS_REPLY_STRING && key_of(k->str, k->len, ns)) {
                    cmd_arg(s, k->str, k->len);
                }
            }
            err = cmd_call(s, c, verb, &rep, errstr, errstr_size);
            if (err) {
                break;
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
        freeReplyObject(page);
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
