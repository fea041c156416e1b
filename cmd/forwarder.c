/*
 * forwarder.c: the loop of `bwm forward`.
 *
 * One thread. Each turn takes what the consumer group has (records,
 * partition ends, commit acknowledgements, rebalances), forms a batch for
 * every partition that has none under way and has enough records (or has
 * waited forward.batch.linger.ms), starts requests for batches that may go
 * (forward.concurrency, the endpoint's shared backoff, an OAuth2 token),
 * and then sleeps in bwm_http_run() until the network, the consumer's
 * wake-up pipe or the next deadline needs it.
 *
 * A partition's batch goes through these states:
 *   DECLARING  its range is being committed as the offset's metadata;
 *   WAITING    ready to be sent (first time, retry, or the next half);
 *   SENDING    a request is under way;
 *   FLUSHING   every record is delivered or dead-lettered; the dead letters
 *              wait for Kafka's acknowledgement.
 * Then the partition's offset moves past the batch, and the commit that
 * says so also carries the range of the next batch when one is formed.
 */
#include "cmd/forwarder.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/forward_batch.h"
#include "cmd/forward_render.h"
#include "connectors/coreview/client.h"
#include "connectors/coreview/oauth.h"
#include "connectors/coreview/policy.h"
#include "connectors/kafka/admin.h"
#include "connectors/kafka/group.h"
#include "connectors/kafka/sink.h"
#include "connectors/log.h"
#include "connectors/registry/registry.h"
#include "core/hash.h"

/* Records taken from the consumer in one turn, so the network is served in between. */
#define TAKE_MAX 20000
/* Records asked of the consumer at once. */
#define TAKE_BATCH 1000
/* Longest sleep of one turn, so a signal or a flag is noticed soon. */
#define TURN_MAX_MS 100
/* Pause before a commit that failed is tried again. */
#define COMMIT_RETRY_MS 500

#define REASON_REJECTED "rejected"
#define REASON_RETRIES  "retries"

typedef enum bstate { B_DECLARING, B_WAITING, B_SENDING, B_FLUSHING } bstate_t;

typedef struct range {
    size_t r_from;
    size_t r_to;
} range_t;

typedef struct fbatch {
    bwm_fwd_batch_t b_recs;
    int64_t b_start; /* the partition's offset when it was formed: committed with its range */
    int64_t b_last;  /* the last offset it covers (skipped records included) */
    bstate_t b_state;
    range_t *b_todo; /* a stack of record ranges still to send; the top goes next */
    size_t b_ntodo;
    size_t b_todo_cap;
    bwm_buf_t b_sub; /* the body of a range smaller than the batch */
    char b_key[BWM_FWD_KEY_MAX];
    bwm_http_xfer_t *b_xfer;
    long long b_since;     /* when it last became WAITING: the oldest goes first */
    long long b_first_try; /* 0 before its first request */
    long long b_sent_at;   /* when the request under way (or last answered) started */
    int b_refreshed;       /* the 401 of this range already got a new token */
    uint64_t b_token;      /* which OAuth2 token the request carried */
    uint64_t b_dead;       /* records dead-lettered */
} fbatch_t;

typedef struct fpart {
    struct bwm_forwarder *fp_f;
    size_t fp_topic;
    int32_t fp_id;
    int fp_assigned;
    int fp_eof;
    int fp_paused;
    rd_kafka_message_t **fp_q; /* records read, not yet in a batch: a ring */
    size_t fp_qhead;
    size_t fp_qlen;
    size_t fp_qcap;
    size_t fp_qbytes;
    long long fp_first_at; /* when the oldest of them was waiting since */
    int64_t fp_next;       /* the offset expected next from the consumer */
    int64_t fp_replay;     /* last offset of the batch recorded in the metadata, or -1 */
    int64_t fp_done;       /* every record before it is delivered, dead-lettered or skipped */
    int64_t fp_want_off;   /* the commit wanted: offset and batch range (-1: none) */
    int64_t fp_want_meta;
    int64_t fp_acked_off; /* what the group is known to hold */
    int64_t fp_acked_meta;
    int fp_committing;
    int64_t fp_sent_off;
    int64_t fp_sent_meta;
    long long fp_commit_retry_at;
    int fp_busy; /* fp_b is under way */
    fbatch_t fp_b;
} fpart_t;

typedef struct ftopic {
    char *t_name;
    char t_dlq[256];
    fpart_t **t_parts;
    int32_t t_nparts;
} ftopic_t;

struct bwm_forwarder {
    const bwm_fwd_conf_t *f_conf;
    ftopic_t *f_topics;
    size_t f_ntopics;
    bwm_group_t *f_group;
    bwm_sink_t *f_sink;
    bwm_registry_t *f_registry;
    bwm_http_t *f_http;
    bwm_oauth_t *f_oauth;
    bwm_backoff_t f_backoff;
    uint64_t f_rnd;
    rd_kafka_message_t *f_msgs[TAKE_BATCH];
    int f_inflight; /* requests to Core View under way */
    int f_more;     /* the consumer had more than one turn takes */
    int f_stopping;
    long long f_stop_deadline;
    int f_flush_state; /* of the dead letters this turn: 1 all acknowledged, 0 not yet */
    bwm_buf_t f_scratch;
    bwm_buf_t f_authline;
    long long f_progress_ms;
    bwm_forwarder_stats_t f_stats;
    int f_failed;
    char f_error[600];
};

/* Records the first fatal error; the loop stops on it. */
static void fail(bwm_forwarder_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(bwm_forwarder_t *f, const char *fmt, ...)
{
    va_list ap;

    if (f->f_failed) {
        return;
    }
    f->f_failed = 1;
    va_start(ap, fmt);
    vsnprintf(f->f_error, sizeof(f->f_error), fmt, ap);
    va_end(ap);
    BWM_LOG(BWM_LOG_ERR, BWM_FAC_MAIN, "%s", f->f_error);
}

/* ---- partitions -------------------------------------------------------------------------- */

static int topic_index(const bwm_forwarder_t *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->f_ntopics; i++) {
        if (strcmp(f->f_topics[i].t_name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static fpart_t *part_find(const bwm_forwarder_t *f, const char *topic, int32_t id)
{
    int t = topic_index(f, topic);

    if (t < 0 || id < 0 || id >= f->f_topics[t].t_nparts) {
        return NULL;
    }
    return f->f_topics[t].t_parts[id];
}

static fpart_t *part_get(bwm_forwarder_t *f, const char *topic, int32_t id)
{
    int t = topic_index(f, topic);
    ftopic_t *tp;
    fpart_t *p;

    if (t < 0 || id < 0) {
        return NULL;
    }
    tp = &f->f_topics[t];
    if (id >= tp->t_nparts) {
        fpart_t **n = realloc(tp->t_parts, (size_t)(id + 1) * sizeof(*n));

        if (!n) {
            return NULL;
        }
        memset(n + tp->t_nparts, 0, (size_t)(id + 1 - tp->t_nparts) * sizeof(*n));
        tp->t_parts = n;
        tp->t_nparts = id + 1;
    }
    if (!tp->t_parts[id]) {
        p = calloc(1, sizeof(*p));
        if (!p) {
            return NULL;
        }
        p->fp_f = f;
        p->fp_topic = (size_t)t;
        p->fp_id = id;
        tp->t_parts[id] = p;
    }
    return tp->t_parts[id];
}

static const char *part_topic(const bwm_forwarder_t *f, const fpart_t *p)
{
    return f->f_topics[p->fp_topic].t_name;
}

/* Where a walk over every partition known is. */
typedef struct piter {
    size_t pi_topic;
    int32_t pi_id;
} piter_t;

/* The next partition of the walk, or NULL at its end. */
static fpart_t *part_next(const bwm_forwarder_t *f, piter_t *it)
{
    for (; it->pi_topic < f->f_ntopics; it->pi_topic++, it->pi_id = 0) {
        const ftopic_t *t = &f->f_topics[it->pi_topic];

        while (it->pi_id < t->t_nparts) {
            fpart_t *p = t->t_parts[it->pi_id++];

            if (p) {
                return p;
            }
        }
    }
    return NULL;
}

static rd_kafka_message_t *q_head(const fpart_t *p)
{
    return p->fp_q[p->fp_qhead];
}

static rd_kafka_message_t *q_pop(fpart_t *p)
{
    rd_kafka_message_t *m = p->fp_q[p->fp_qhead];

    p->fp_qhead = (p->fp_qhead + 1) % p->fp_qcap;
    p->fp_qlen--;
    p->fp_qbytes -= m->len;
    return m;
}

static int q_push(fpart_t *p, rd_kafka_message_t *m)
{
    if (p->fp_qlen == p->fp_qcap) {
        size_t cap = p->fp_qcap ? p->fp_qcap * 2 : 1024, i;
        rd_kafka_message_t **n = malloc(cap * sizeof(*n));

        if (!n) {
            return -1;
        }
        for (i = 0; i < p->fp_qlen; i++) {
            n[i] = p->fp_q[(p->fp_qhead + i) % p->fp_qcap];
        }
        free(p->fp_q);
        p->fp_q = n;
        p->fp_qhead = 0;
        p->fp_qcap = cap;
    }
    p->fp_q[(p->fp_qhead + p->fp_qlen) % p->fp_qcap] = m;
    p->fp_qlen++;
    p->fp_qbytes += m->len;
    return 0;
}

static int64_t q_last_offset(const fpart_t *p)
{
    return p->fp_qlen ? p->fp_q[(p->fp_qhead + p->fp_qlen - 1) % p->fp_qcap]->offset : -1;
}

/* Frees the messages the batch holds and empties it. */
static void batch_clear(fpart_t *p)
{
    fbatch_t *b = &p->fp_b;
    size_t i;

    for (i = 0; i < b->b_recs.fb_n; i++) {
        rd_kafka_message_destroy(b->b_recs.fb_recs[i].fr_msg);
    }
    b->b_recs.fb_n = 0;
    b->b_ntodo = 0;
    b->b_xfer = NULL;
    p->fp_busy = 0;
}

/* Forgets everything read from the partition: what is not committed is read again. */
/* Stops the partition's request under way, if any. */
static void cancel(bwm_forwarder_t *f, fpart_t *p)
{
    if (p->fp_busy && p->fp_b.b_state == B_SENDING && p->fp_b.b_xfer) {
        bwm_http_cancel(f->f_http, p->fp_b.b_xfer);
        p->fp_b.b_xfer = NULL;
        p->fp_b.b_state = B_WAITING;
        f->f_inflight--;
    }
}

static void part_drop(bwm_forwarder_t *f, fpart_t *p)
{
    cancel(f, p);
    if (p->fp_busy && p->fp_b.b_recs.fb_n > 0) {
        f->f_stats.fs_abandoned++;
    }
    batch_clear(p);
    while (p->fp_qlen) {
        rd_kafka_message_destroy(q_pop(p));
    }
    p->fp_committing = 0;
    p->fp_paused = 0;
    p->fp_eof = 0;
}

static void part_free(fpart_t *p)
{
    bwm_fwd_batch_free(&p->fp_b.b_recs);
    bwm_buf_free(&p->fp_b.b_sub);
    free(p->fp_b.b_todo);
    free(p->fp_q);
    free(p);
}

/* ---- commits ----------------------------------------------------------------------------- */

static void commit_pump(bwm_forwarder_t *f, fpart_t *p, long long now)
{
    char meta[64] = "";

    if (!p->fp_assigned || p->fp_committing || now < p->fp_commit_retry_at || p->fp_want_off < 0 ||
        (p->fp_want_off == p->fp_acked_off && p->fp_want_meta == p->fp_acked_meta)) {
        return;
    }
    if (p->fp_want_meta >= 0) {
        bwm_fwd_meta_format(p->fp_want_meta, meta, sizeof(meta));
    }
    p->fp_committing = 1;
    p->fp_sent_off = p->fp_want_off;
    p->fp_sent_meta = p->fp_want_meta;
    bwm_group_commit(f->f_group, part_topic(f, p), p->fp_id, p->fp_want_off, meta);
}

static void want_commit(bwm_forwarder_t *f, fpart_t *p, int64_t off, int64_t meta_last)
{
    p->fp_want_off = off;
    p->fp_want_meta = meta_last;
    commit_pump(f, p, bwm_cli_now_ms());
}

/* The batch's range is committed: it may be sent. */
static void declared(fpart_t *p, long long now)
{
    fbatch_t *b = &p->fp_b;

    if (p->fp_busy && b->b_state == B_DECLARING && p->fp_acked_off == b->b_start &&
        p->fp_acked_meta == b->b_last) {
        b->b_state = B_WAITING;
        b->b_since = now;
    }
}

static void on_committed(void *opaque, const char *topic, int32_t id, int64_t off,
                         rd_kafka_resp_err_t err)
{
    bwm_forwarder_t *f = opaque;
    fpart_t *p = part_find(f, topic, id);
    long long now = bwm_cli_now_ms();

    if (!p || !p->fp_committing || off != p->fp_sent_off) {
        return; /* an answer for a partition given up since */
    }
    p->fp_committing = 0;
    if (err) {
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_KAFKA, "commit of offset %" PRId64 " of %s [%d] failed: %s",
                off, topic, (int)id, rd_kafka_err2str(err));
        p->fp_commit_retry_at = now + COMMIT_RETRY_MS;
        return;
    }
    p->fp_acked_off = p->fp_sent_off;
    p->fp_acked_meta = p->fp_sent_meta;
    declared(p, now);
    commit_pump(f, p, now);
}

/* ---- dead letters ------------------------------------------------------------------------ */

/* Why a record is dead-lettered, with the HTTP answer when there was one. */
typedef struct why {
    const char *w_reason;
    const char *w_error;
    long w_status;
    const char *w_key;
    const uint8_t *w_body;
    size_t w_body_len;
} why_t;

static void dead(bwm_forwarder_t *f, fpart_t *p, const rd_kafka_message_t *m, const why_t *w)
{
    const bwm_coreview_conf_t *cv = &f->f_conf->f_cv;
    rd_kafka_headers_t *h;
    char status[16], msg[512];
    size_t excerpt;
    bwm_err_t err;

    if (f->f_failed) {
        return;
    }
    h = bwm_dead_letter_headers(m, w->w_reason, w->w_error);
    if (w->w_status > 0) {
        snprintf(status, sizeof(status), "%ld", w->w_status);
        rd_kafka_header_add(h, "bwm.http.status", -1, status, -1);
    }
    if (w->w_body) {
        excerpt = w->w_body_len < (size_t)cv->cv_excerpt_bytes ? w->w_body_len
                                                               : (size_t)cv->cv_excerpt_bytes;
        rd_kafka_header_add(h, "bwm.http.body", -1, w->w_body, (ssize_t)excerpt);
    }
    if (w->w_key) {
        rd_kafka_header_add(h, "bwm.idempotency.key", -1, w->w_key, -1);
    }
    err = bwm_sink_produce(f->f_sink, f->f_topics[p->fp_topic].t_dlq, RD_KAFKA_PARTITION_UA, m->key,
                           m->key_len, m->payload, m->len, h, msg, sizeof(msg));
    if (err) {
        rd_kafka_headers_destroy(h);
        fail(f, "dead-letter topic %s: %s", f->f_topics[p->fp_topic].t_dlq, msg);
        return;
    }
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_MAIN, "dead-lettered %s [%d] @%" PRId64 " (%s): %s",
            part_topic(f, p), (int)p->fp_id, m->offset, w->w_reason, w->w_error);
    f->f_stats.fs_dead++;
    p->fp_b.b_dead++;
}

/* ---- batches ----------------------------------------------------------------------------- */

static int formable(const bwm_forwarder_t *f, const fpart_t *p, long long now)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;

    if (!p->fp_assigned || p->fp_busy || p->fp_qlen == 0 || f->f_stopping || f->f_failed) {
        return 0;
    }
    if (p->fp_replay >= 0) {
        /* The batch recorded before a crash: all of it, no more. */
        return q_last_offset(p) >= p->fp_replay || p->fp_eof;
    }
    return p->fp_qlen >= (size_t)fw->fc_max_records || p->fp_qbytes >= (size_t)fw->fc_max_bytes ||
           now - p->fp_first_at >= fw->fc_linger_ms;
}

/* Takes the partition's next batch from its queue. */
static void form(bwm_forwarder_t *f, fpart_t *p, long long now)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;
    fbatch_t *b = &p->fp_b;
    int replay = p->fp_replay >= 0;
    size_t max_rec = (size_t)fw->fc_max_bytes - 2;
    char msg[512];

    bwm_fwd_batch_reset(&b->b_recs, replay ? SIZE_MAX : (size_t)fw->fc_max_records,
                        replay ? SIZE_MAX : (size_t)fw->fc_max_bytes, max_rec);
    b->b_start = p->fp_done;
    b->b_last = p->fp_done - 1;
    b->b_dead = 0;
    b->b_first_try = 0;
    b->b_refreshed = 0;
    b->b_ntodo = 0;
    while (p->fp_qlen && !f->f_failed) {
        rd_kafka_message_t *m = q_head(p);
        const char *reason = NULL;
        why_t w = {NULL, msg, 0, NULL, NULL, 0};
        bwm_err_t err;

        if (replay ? m->offset > p->fp_replay : b->b_recs.fb_n >= (size_t)fw->fc_max_records) {
            break;
        }
        if (!m->payload) {
            f->f_stats.fs_tombstones++; /* Core View keeps the highest version: nothing to send */
        } else if (m->len > (size_t)fw->fc_max_record_bytes) {
            snprintf(msg, sizeof(msg),
                     "record of %zu bytes exceeds forward.max.record.bytes (%" PRId64 ")", m->len,
                     fw->fc_max_record_bytes);
            w.w_reason = BWM_FWD_REASON_LIMIT;
            dead(f, p, m, &w);
        } else {
            bwm_buf_t *body = bwm_fwd_batch_begin(&b->b_recs);

            err = bwm_fwd_render(f->f_registry, m->payload, m->len, (size_t)fw->fc_max_record_bytes,
                                 &f->f_scratch, body, &reason, msg, sizeof(msg));
            if (err) {
                bwm_fwd_batch_abort(&b->b_recs);
                if (err == BWM_ERR_NOMEM || bwm_cli_stop ||
                    !(err == BWM_ERR_SCHEMA || err == BWM_ERR_DECODE || err == BWM_ERR_FRAMING ||
                      err == BWM_ERR_LIMIT)) {
                    /* The registry is unreachable: stop; a restart resumes exactly here. */
                    fail(f, "%s [%d] @%" PRId64 ": %s", part_topic(f, p), (int)p->fp_id, m->offset,
                         msg);
                    break;
                }
                w.w_reason = reason;
                dead(f, p, m, &w);
            } else {
                switch (bwm_fwd_batch_end(&b->b_recs, m->offset, m->payload, m->len, m)) {
                    case BWM_FWD_ADDED:
                        q_pop(p);
                        b->b_last = m->offset;
                        continue;
                    case BWM_FWD_FULL:
                        if (b->b_recs.fb_failed) {
                            fail(f, "out of memory");
                        }
                        goto formed;
                    case BWM_FWD_TOO_LARGE:
                        snprintf(msg, sizeof(msg),
                                 "its JSON is larger than forward.batch.max.bytes (%" PRId64 ")",
                                 fw->fc_max_bytes);
                        w.w_reason = BWM_FWD_REASON_LIMIT;
                        dead(f, p, m, &w);
                        break;
                }
            }
        }
        b->b_last = m->offset;
        rd_kafka_message_destroy(q_pop(p));
    }
formed:
    if (replay) {
        p->fp_replay = -1;
    }
    if (b->b_last < b->b_start) {
        return; /* nothing taken */
    }
    p->fp_busy = 1;
    p->fp_first_at = now;
    if (bwm_fwd_batch_close(&b->b_recs) != BWM_OK) {
        fail(f, "out of memory");
        return;
    }
    if (b->b_recs.fb_n == 0) {
        b->b_state = B_FLUSHING; /* only skipped or dead-lettered records */
        return;
    }
    if (!b->b_todo && !(b->b_todo = malloc(16 * sizeof(*b->b_todo)))) {
        fail(f, "out of memory");
        return;
    }
    b->b_todo_cap = b->b_todo_cap ? b->b_todo_cap : 16;
    b->b_todo[0].r_from = 0;
    b->b_todo[0].r_to = b->b_recs.fb_n;
    b->b_ntodo = 1;
    b->b_state = B_DECLARING;
    want_commit(f, p, b->b_start, b->b_last);
    declared(p, now);
}

/* The batch is done: the partition's offset moves past it. */
static void finish(bwm_forwarder_t *f, fpart_t *p, long long now)
{
    p->fp_done = p->fp_b.b_last + 1;
    batch_clear(p);
    f->f_stats.fs_batches++;
    if (formable(f, p, now)) {
        form(f, p, now); /* its range rides on the commit below */
    }
    if (!p->fp_busy || p->fp_b.b_state == B_FLUSHING) {
        want_commit(f, p, p->fp_done, -1);
    }
}

static void dead_range(bwm_forwarder_t *f, fpart_t *p, const range_t *r, const why_t *w)
{
    size_t i;

    for (i = r->r_from; i < r->r_to && !f->f_failed; i++) {
        dead(f, p, p->fp_b.b_recs.fb_recs[i].fr_msg, w);
    }
}

/* Whether the answer says Core View had the batch already. */
static int duplicate(const bwm_http_resp_t *r)
{
    json_t *doc, *d;
    int yes;

    if (!strstr((const char *)r->hr_body, "duplicate")) {
        return 0;
    }
    doc = json_loadb((const char *)r->hr_body, r->hr_body_len, 0, NULL);
    d = json_object_get(doc, "duplicate");
    yes = json_is_true(d);
    json_decref(doc);
    return yes;
}

/* A printable excerpt of an answer body, for logs. */
static void excerpt(const bwm_http_resp_t *r, char *out, size_t size)
{
    size_t i, n = r->hr_body_len < size - 1 ? r->hr_body_len : size - 1;

    for (i = 0; i < n; i++) {
        out[i] = r->hr_body[i] >= 32 && r->hr_body[i] < 127 ? (char)r->hr_body[i] : ' ';
    }
    out[n] = '\0';
}

/* Splits the range on top of the stack in halves, the first half on top. */
static int split(fpart_t *p)
{
    fbatch_t *b = &p->fp_b;
    range_t top = b->b_todo[b->b_ntodo - 1];
    size_t mid = top.r_from + (top.r_to - top.r_from) / 2;

    if (b->b_ntodo == b->b_todo_cap) {
        range_t *n = realloc(b->b_todo, 2 * b->b_todo_cap * sizeof(*n));

        if (!n) {
            return -1;
        }
        b->b_todo = n;
        b->b_todo_cap *= 2;
    }
    b->b_todo[b->b_ntodo - 1].r_from = mid;
    b->b_todo[b->b_ntodo - 1].r_to = top.r_to;
    b->b_todo[b->b_ntodo].r_from = top.r_from;
    b->b_todo[b->b_ntodo].r_to = mid;
    b->b_ntodo++;
    return 0;
}

/* The range on top is done with: the next one waits, or the batch is resolved. */
static void next_range(fpart_t *p, long long now)
{
    fbatch_t *b = &p->fp_b;

    b->b_ntodo--;
    b->b_refreshed = 0;
    if (b->b_ntodo == 0) {
        b->b_state = B_FLUSHING; /* its dead letters, if any, must be acknowledged */
    } else {
        b->b_state = B_WAITING;
        b->b_since = now;
    }
}

static void on_response(void *opaque, const bwm_http_resp_t *r)
{
    fpart_t *p = opaque;
    bwm_forwarder_t *f = p->fp_f;
    const bwm_fwd_conf_t *c = f->f_conf;
    fbatch_t *b = &p->fp_b;
    range_t *top = &b->b_todo[b->b_ntodo - 1];
    size_t n = top->r_to - top->r_from;
    long long now = bwm_cli_now_ms();
    char what[700], text[200];
    int64_t retry_after = -1;
    why_t w;

    b->b_xfer = NULL;
    b->b_state = B_WAITING;
    b->b_since = now;
    f->f_inflight--;
    if (r->hr_err == BWM_ERR_INVALID) {
        fail(f, "POST %s: %s (check coreview.url and coreview.ssl.*)", c->f_cv.cv_url, r->hr_error);
        return;
    }
    if (r->hr_status > 0) {
        f->f_stats.fs_http_version = r->hr_http_version;
    }
    switch (bwm_http_verdict(r->hr_status)) {
        case BWM_HTTP_OK:
            bwm_backoff_ok(&f->f_backoff, b->b_sent_at);
            f->f_stats.fs_delivered += n;
            if (duplicate(r)) {
                f->f_stats.fs_duplicates++;
            }
            BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_HTTP, "%s: HTTP %ld, %zu results", b->b_key,
                    r->hr_status, n);
            next_range(p, now);
            return;
        case BWM_HTTP_RETRY:
            f->f_stats.fs_retries++;
            if (r->hr_status == 429) {
                f->f_stats.fs_throttled++;
            }
            if (r->hr_retry_after) {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                if (bwm_http_retry_after(r->hr_retry_after,
                                         (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                                         &retry_after) != BWM_OK) {
                    retry_after = -1;
                }
            }
            /*
             * now is the clock cut to the millisecond; the answer came at most one later.
             * Counting from the next millisecond, no request starts before the time asked.
             */
            bwm_backoff_failed(&f->f_backoff, now + 1, retry_after, bwm_xorshift64s(&f->f_rnd));
            if (r->hr_status > 0) {
                snprintf(what, sizeof(what), "HTTP %ld%s%s", r->hr_status,
                         r->hr_retry_after ? ", Retry-After " : "",
                         r->hr_retry_after ? r->hr_retry_after : "");
            } else {
                snprintf(what, sizeof(what), "%s", r->hr_error);
            }
            if (now - b->b_first_try >= c->f_cv.cv_retry_budget_ms) {
                BWM_LOG(BWM_LOG_ERR, BWM_FAC_HTTP,
                        "%s: %s; coreview.retry.budget.ms (%" PRId64 ") is spent: %zu results "
                        "go to the dead-letter topic",
                        b->b_key, what, c->f_cv.cv_retry_budget_ms, n);
                w = (why_t){
                    REASON_RETRIES, what, r->hr_status, b->b_key, r->hr_status ? r->hr_body : NULL,
                    r->hr_body_len};
                dead_range(f, p, top, &w);
                next_range(p, now);
                return;
            }
            BWM_LOG(BWM_LOG_WARN, BWM_FAC_HTTP, "%s: %s; no request before %lld ms from now",
                    b->b_key, what, (long long)(f->f_backoff.bo_not_before - now));
            return;
        case BWM_HTTP_PERMANENT:
            break;
    }
    /* A definite answer: the endpoint is well, whatever it thinks of the records. */
    bwm_backoff_ok(&f->f_backoff, b->b_sent_at);
    excerpt(r, text, sizeof(text));
    if (r->hr_status == 401 && f->f_oauth && !b->b_refreshed) {
        BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_HTTP, "%s: HTTP 401; fetching a new OAuth2 token",
                b->b_key);
        bwm_oauth_rejected(f->f_oauth, b->b_token);
        b->b_refreshed = 1;
        return;
    }
    if (r->hr_status < 400 || r->hr_status > 499 || c->f_stop[r->hr_status]) {
        fail(f, "POST %s: HTTP %ld: %s; the forwarder is at fault, not the records%s",
             c->f_cv.cv_url, r->hr_status, text,
             r->hr_status >= 400 && r->hr_status <= 499 ? " (coreview.stop.statuses)" : "");
        return;
    }
    if (n > 1 && c->f_cv.cv_split) {
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_HTTP,
                "%s: HTTP %ld for %zu results: %s; sending each half "
                "on its own",
                b->b_key, r->hr_status, n, text);
        f->f_stats.fs_splits++;
        if (split(p) != 0) {
            fail(f, "out of memory");
        }
        return;
    }
    snprintf(what, sizeof(what), "HTTP %ld: %s", r->hr_status, text);
    BWM_LOG(BWM_LOG_WARN, BWM_FAC_HTTP, "%s: %s; %zu result%s to the dead-letter topic", b->b_key,
            what, n, n == 1 ? " goes" : "s go");
    w = (why_t){REASON_REJECTED, what, r->hr_status, b->b_key, r->hr_body, r->hr_body_len};
    dead_range(f, p, top, &w);
    next_range(p, now);
}

/* Starts the request for the range on top of the partition's batch. */
static void send_range(bwm_forwarder_t *f, fpart_t *p, const char *token, long long now)
{
    const bwm_fwd_conf_t *c = f->f_conf;
    fbatch_t *b = &p->fp_b;
    range_t *top = &b->b_todo[b->b_ntodo - 1];
    const bwm_buf_t *body = &b->b_recs.fb_body;
    const char *headers[5];
    char key_line[BWM_FWD_KEY_MAX + 32];
    bwm_http_req_t rq;
    int h = 0;

    if (top->r_from != 0 || top->r_to != b->b_recs.fb_n) {
        bwm_fwd_batch_body(&b->b_recs, top->r_from, top->r_to, &b->b_sub);
        if (b->b_sub.b_failed) {
            fail(f, "out of memory");
            return;
        }
        body = &b->b_sub;
    }
    bwm_fwd_batch_key(&b->b_recs, part_topic(f, p), p->fp_id, top->r_from, top->r_to, b->b_key);
    snprintf(key_line, sizeof(key_line), "Idempotency-Key: %s", b->b_key);
    headers[h++] = "Content-Type: application/json";
    headers[h++] = "Accept: application/json";
    headers[h++] = key_line;
    bwm_buf_reset(&f->f_authline);
    if (token) {
        bwm_buf_put_str(&f->f_authline, "Authorization: Bearer ");
        bwm_buf_put_str(&f->f_authline, token);
        bwm_buf_put_u8(&f->f_authline, 0);
        headers[h++] = (const char *)f->f_authline.b_data;
        b->b_token = bwm_oauth_fetches(f->f_oauth);
    } else if (c->f_auth_header) {
        headers[h++] = c->f_auth_header;
    }
    headers[h] = NULL;
    memset(&rq, 0, sizeof(rq));
    rq.rq_url = c->f_cv.cv_url;
    rq.rq_headers = headers;
    rq.rq_body = body->b_data;
    rq.rq_body_len = body->b_len;
    rq.rq_done = on_response;
    rq.rq_opaque = p;
    b->b_xfer = bwm_http_start(f->f_http, &rq);
    if (f->f_authline.b_data) {
        memset(f->f_authline.b_data, 0, f->f_authline.b_cap); /* the slist has its copy */
    }
    if (!b->b_xfer) {
        fail(f, "out of memory");
        return;
    }
    b->b_state = B_SENDING;
    b->b_sent_at = now;
    f->f_inflight++;
    if (!b->b_first_try) {
        b->b_first_try = now;
    }
    f->f_stats.fs_requests++;
    f->f_stats.fs_bytes += body->b_len;
}

/* The waiting batch that has waited longest, or NULL. */
static fpart_t *oldest_waiting(bwm_forwarder_t *f)
{
    fpart_t *p, *best = NULL;

    for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
        if (p->fp_assigned && p->fp_busy && p->fp_b.b_state == B_WAITING &&
            (!best || p->fp_b.b_since < best->fp_b.b_since)) {
            best = p;
        }
    }
    return best;
}

/* Starts every request that may start now. */
static void schedule(bwm_forwarder_t *f, long long now)
{
    const char *token = NULL;
    fpart_t *p;

    if (f->f_stopping && now >= f->f_stop_deadline) {
        return;
    }
    while (!f->f_failed && f->f_inflight < f->f_conf->f_fw.fc_concurrency &&
           bwm_backoff_may_start(&f->f_backoff, now, f->f_inflight)) {
        if (!(p = oldest_waiting(f))) {
            return;
        }
        if (f->f_oauth && !(token = bwm_oauth_token(f->f_oauth, now))) {
            return; /* a token is on its way */
        }
        send_range(f, p, token, now);
    }
}

/* ---- the consumer ------------------------------------------------------------------------ */

static void on_assigned(void *opaque, const char *topic, int32_t id, int64_t committed,
                        const char *metadata)
{
    bwm_forwarder_t *f = opaque;
    fpart_t *p = part_get(f, topic, id);
    int64_t last;

    if (!p) {
        fail(f, "out of memory");
        return;
    }
    part_drop(f, p);
    p->fp_assigned = 1;
    p->fp_done = committed;
    p->fp_next = committed;
    p->fp_acked_off = committed;
    p->fp_acked_meta = -1;
    p->fp_want_off = committed;
    p->fp_want_meta = -1;
    p->fp_replay = -1;
    p->fp_commit_retry_at = 0;
    if (committed >= 0 && bwm_fwd_meta_parse(metadata, &last) == 0) {
        p->fp_acked_meta = p->fp_want_meta = last;
        if (last >= committed) {
            p->fp_replay = last;
            BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_MAIN,
                    "%s [%d]: the batch of offsets %" PRId64 "..%" PRId64
                    " was under way when the last owner stopped; it is sent again as it was",
                    topic, (int)id, committed, last);
        }
    }
}

static void on_revoked(void *opaque, const char *topic, int32_t id, int lost)
{
    bwm_forwarder_t *f = opaque;
    fpart_t *p = part_find(f, topic, id);
    int64_t meta;
    char msg[512], text[64] = "";

    if (!p || !p->fp_assigned) {
        return;
    }
    meta = p->fp_busy && p->fp_b.b_recs.fb_n > 0 ? p->fp_b.b_last : -1;
    cancel(f, p);
    /* What was delivered is committed now, so its next owner does not send it again. */
    if (!lost && p->fp_done >= 0 && (p->fp_done != p->fp_acked_off || meta != p->fp_acked_meta)) {
        if (meta >= 0) {
            bwm_fwd_meta_format(meta, text, sizeof(text));
        }
        if (bwm_group_commit_sync(f->f_group, topic, id, p->fp_done, text, msg, sizeof(msg)) ==
            BWM_OK) {
            p->fp_acked_off = p->fp_done;
            p->fp_acked_meta = meta;
        } else {
            BWM_LOG(BWM_LOG_WARN, BWM_FAC_KAFKA, "%s", msg);
        }
    }
    part_drop(f, p);
    p->fp_assigned = 0;
}

/* Takes one consumed message (or event). */
static void take(bwm_forwarder_t *f, rd_kafka_message_t *m, long long now)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;
    fpart_t *p;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if ((p = part_find(f, rd_kafka_topic_name(m->rkt), m->partition))) {
            p->fp_eof = 1;
        }
        rd_kafka_message_destroy(m);
        return;
    }
    if (m->err) {
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_KAFKA, "consumer: %s", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    p = part_find(f, rd_kafka_topic_name(m->rkt), m->partition);
    if (!p || !p->fp_assigned || f->f_stopping || (p->fp_next >= 0 && m->offset < p->fp_next)) {
        rd_kafka_message_destroy(m); /* not ours (any more), or seen already */
        return;
    }
    if (q_push(p, m) != 0) {
        rd_kafka_message_destroy(m);
        fail(f, "out of memory");
        return;
    }
    if (p->fp_done < 0) {
        p->fp_done = m->offset; /* nothing committed: the first record there is is the start */
    }
    if (p->fp_qlen == 1) {
        p->fp_first_at = now;
    }
    p->fp_next = m->offset + 1;
    p->fp_eof = 0;
    f->f_stats.fs_read++;
    /* Read ahead only so far; the batch recorded before a crash is always read whole. */
    if (!p->fp_paused && p->fp_qlen >= (size_t)fw->fc_buffer_records &&
        !(p->fp_replay >= 0 && m->offset < p->fp_replay)) {
        bwm_group_pause(f->f_group, part_topic(f, p), p->fp_id, 1);
        p->fp_paused = 1;
    }
}

static const bwm_group_handler_t handler = {on_assigned, on_revoked, on_committed};

/* ---- the loop ---------------------------------------------------------------------------- */

/* Moves one partition along: finished batches, new batches, commits, read-ahead. */
static void step(bwm_forwarder_t *f, fpart_t *p, long long now)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;

    if (!p->fp_assigned) {
        return;
    }
    if (p->fp_busy && p->fp_b.b_state == B_FLUSHING) {
        char msg[512];

        if (p->fp_b.b_dead > 0 && f->f_flush_state < 0) {
            bwm_err_t err = bwm_sink_flush(f->f_sink, 0, msg, sizeof(msg));

            if (err == BWM_ERR_TRANSPORT) {
                fail(f, "dead letters were not delivered: %s", msg);
                return;
            }
            f->f_flush_state = err == BWM_OK;
        }
        if (f->f_flush_state == 1 || p->fp_b.b_dead == 0) {
            finish(f, p, now);
        }
    }
    while (formable(f, p, now)) {
        form(f, p, now);
        if (p->fp_busy && p->fp_b.b_state == B_FLUSHING && p->fp_b.b_dead == 0) {
            finish(f, p, now); /* only tombstones */
        }
        if (p->fp_busy) {
            break;
        }
    }
    commit_pump(f, p, now);
    if (p->fp_paused && p->fp_qlen <= (size_t)fw->fc_buffer_records / 2) {
        bwm_group_pause(f->f_group, part_topic(f, p), p->fp_id, 0);
        p->fp_paused = 0;
    }
}

/* How long the loop may sleep before something is due. */
static int wait_ms(bwm_forwarder_t *f, long long now)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;
    long long t = TURN_MAX_MS;
    fpart_t *p;

    if (f->f_more) {
        return 0;
    }
    for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
        if (!p->fp_assigned) {
            continue;
        }
        if (!p->fp_busy && p->fp_qlen > 0 && p->fp_first_at + fw->fc_linger_ms - now < t) {
            t = p->fp_first_at + fw->fc_linger_ms - now;
        }
        if (p->fp_busy && p->fp_b.b_state == B_FLUSHING && t > 5) {
            t = 5; /* dead letters: the producer's acknowledgements */
        }
        if (p->fp_busy && p->fp_b.b_state == B_WAITING && f->f_backoff.bo_not_before - now < t) {
            t = f->f_backoff.bo_not_before - now;
        }
        if (p->fp_commit_retry_at > now && p->fp_commit_retry_at - now < t) {
            t = p->fp_commit_retry_at - now;
        }
    }
    return t < 0 ? 0 : (int)t;
}

static int busy_parts(bwm_forwarder_t *f)
{
    fpart_t *p;
    int n = 0;

    for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
        n += p->fp_assigned && p->fp_busy;
    }
    return n;
}

/* Whether every assigned partition is read to its end, delivered and committed. */
static int at_end(bwm_forwarder_t *f)
{
    fpart_t *p;
    int assigned = 0;

    for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
        if (!p->fp_assigned) {
            continue;
        }
        assigned++;
        if (!p->fp_eof || p->fp_qlen || p->fp_busy || p->fp_committing ||
            p->fp_acked_off != p->fp_done || p->fp_acked_meta != -1) {
            return 0;
        }
    }
    return assigned > 0;
}

static void progress(bwm_forwarder_t *f, long long now)
{
    const bwm_forwarder_stats_t *s = &f->f_stats;

    if (now - f->f_progress_ms < f->f_conf->f_fw.fc_progress_ms) {
        return;
    }
    f->f_progress_ms = now;
    BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN,
            "read %" PRIu64 ", delivered %" PRIu64 ", dead-lettered %" PRIu64 ", requests %" PRIu64
            ", retries %" PRIu64 ", batches under way %d",
            s->fs_read, s->fs_delivered, s->fs_dead, s->fs_requests, s->fs_retries, busy_parts(f));
}

/* Leaves the batches under way and commits what was delivered, with their ranges. */
static void wind_up(bwm_forwarder_t *f)
{
    fpart_t *p;
    char meta[64], msg[512];

    for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
        int64_t last;

        if (!p->fp_assigned) {
            continue;
        }
        last = p->fp_busy && p->fp_b.b_recs.fb_n > 0 ? p->fp_b.b_last : -1;
        cancel(f, p);
        if (p->fp_busy && p->fp_b.b_recs.fb_n > 0) {
            f->f_stats.fs_abandoned++;
            BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_MAIN,
                    "%s [%d]: batch of offsets %" PRId64 "..%" PRId64 " left unfinished; the next "
                    "owner sends it again with the same key",
                    part_topic(f, p), (int)p->fp_id, p->fp_b.b_start, p->fp_b.b_last);
        }
        batch_clear(p);
        /* Leaving the group next revokes the partition: it must not commit over this. */
        p->fp_assigned = 0;
        if (p->fp_done < 0 || (p->fp_done == p->fp_acked_off && last == p->fp_acked_meta)) {
            continue;
        }
        meta[0] = '\0';
        if (last >= 0) {
            bwm_fwd_meta_format(last, meta, sizeof(meta));
        }
        if (bwm_group_commit_sync(f->f_group, part_topic(f, p), p->fp_id, p->fp_done, meta, msg,
                                  sizeof(msg)) == BWM_OK) {
            p->fp_acked_off = p->fp_done;
            p->fp_acked_meta = last;
        } else {
            BWM_LOG(BWM_LOG_WARN, BWM_FAC_KAFKA, "%s", msg);
        }
    }
}

bwm_err_t bwm_forwarder_run(bwm_forwarder_t *f, int exit_at_end, char *errstr, size_t errstr_size)
{
    char msg[512];
    fpart_t *p;

    f->f_progress_ms = bwm_cli_now_ms();
    while (!f->f_failed) {
        long long now = bwm_cli_now_ms();
        int n;

        if (bwm_cli_stop && !f->f_stopping) {
            f->f_stopping = 1;
            f->f_stop_deadline = now + f->f_conf->f_fw.fc_shutdown_timeout_ms;
            BWM_LOG(BWM_LOG_NOTICE, BWM_FAC_MAIN,
                    "stopping: %d batches under way get up to %" PRId64 " ms to finish",
                    busy_parts(f), f->f_conf->f_fw.fc_shutdown_timeout_ms);
        }
        if (f->f_stopping && (busy_parts(f) == 0 || now >= f->f_stop_deadline)) {
            break;
        }
        for (n = 0; n < TAKE_MAX;) {
            size_t got = bwm_group_poll(f->f_group, f->f_msgs, TAKE_BATCH), i;

            for (i = 0; i < got; i++) {
                take(f, f->f_msgs[i], now);
            }
            n += (int)got;
            if (got < TAKE_BATCH) {
                break;
            }
        }
        f->f_more = n >= TAKE_MAX;
        if (bwm_group_failed(f->f_group, msg, sizeof(msg))) {
            fail(f, "%s", msg);
            break;
        }
        if (f->f_oauth) {
            bwm_oauth_poll(f->f_oauth, f->f_http, now, bwm_xorshift64s(&f->f_rnd));
            if (bwm_oauth_failed(f->f_oauth, msg, sizeof(msg))) {
                fail(f, "%s", msg);
                break;
            }
        }
        f->f_flush_state = -1;
        for (piter_t it = {0, 0}; (p = part_next(f, &it)) != NULL;) {
            step(f, p, now);
        }
        schedule(f, now);
        if (exit_at_end && at_end(f)) {
            BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN, "every assigned partition is forwarded to its end");
            break;
        }
        progress(f, now);
        if (bwm_http_run(f->f_http, wait_ms(f, now), bwm_group_fd(f->f_group)) != BWM_OK) {
            fail(f, "waiting for the network failed");
        }
    }
    wind_up(f);
    if (f->f_failed) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "%s", f->f_error);
    }
    return BWM_OK;
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Checks the result topics and creates the dead-letter topics. */
static bwm_err_t topics(bwm_forwarder_t *f, char *errstr, size_t errstr_size)
{
    const bwm_forward_conf_t *fw = &f->f_conf->f_fw;
    rd_kafka_t *rk = bwm_sink_handle(f->f_sink);
    int timeout = (int)fw->fc_kafka_timeout_ms, nparts = 0;
    size_t i;
    bwm_err_t err;

    for (i = 0; i < f->f_ntopics; i++) {
        err =
            bwm_admin_partitions(rk, f->f_topics[i].t_name, timeout, &nparts, errstr, errstr_size);
        if (!err && fw->fc_topics_create) {
            err = bwm_admin_create_topic(rk, f->f_topics[i].t_dlq, nparts,
                                         (int)fw->fc_topics_replication, timeout, errstr,
                                         errstr_size);
        }
        if (err) {
            return err;
        }
    }
    return BWM_OK;
}

bwm_err_t bwm_forwarder_new(const bwm_conf_t *conf, const bwm_fwd_conf_t *fc, bwm_forwarder_t **out,
                            char *errstr, size_t errstr_size)
{
    bwm_forwarder_t *f = calloc(1, sizeof(*f));
    struct timespec ts;
    size_t i;
    bwm_err_t err;

    if (!f) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    f->f_conf = fc;
    clock_gettime(CLOCK_REALTIME, &ts);
    f->f_rnd = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    f->f_rnd = f->f_rnd ? f->f_rnd : 1;
    bwm_backoff_init(&f->f_backoff, fc->f_cv.cv_backoff_ms, fc->f_cv.cv_backoff_max_ms,
                     fc->f_cv.cv_retry_after_max_ms);
    f->f_topics = calloc(fc->f_ntopics, sizeof(*f->f_topics));
    if (!f->f_topics) {
        free(f);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    f->f_ntopics = fc->f_ntopics;
    for (i = 0; i < fc->f_ntopics; i++) {
        f->f_topics[i].t_name = fc->f_topics[i];
        bwm_fwd_conf_dlq(fc, fc->f_topics[i], f->f_topics[i].t_dlq, sizeof(f->f_topics[i].t_dlq));
    }
    err = bwm_registry_new(conf, &f->f_registry, errstr, errstr_size);
    if (!err) {
        err =
            bwm_sink_new(conf, (int)fc->f_fw.fc_kafka_timeout_ms, &f->f_sink, errstr, errstr_size);
    }
    if (!err) {
        err = topics(f, errstr, errstr_size);
    }
    if (!err) {
        err = bwm_http_new(&fc->f_http, &f->f_http, errstr, errstr_size);
    }
    if (!err && fc->f_auth == BWM_FWD_AUTH_OAUTH2) {
        err = bwm_oauth_new(&fc->f_oauth, &f->f_oauth, errstr, errstr_size);
    }
    if (!err) {
        err = bwm_group_new(conf, (const char *const *)fc->f_topics, fc->f_ntopics, fc->f_group,
                            (int)fc->f_fw.fc_kafka_timeout_ms, &handler, f, &f->f_group, errstr,
                            errstr_size);
    }
    if (err) {
        bwm_forwarder_destroy(f);
        return err;
    }
    BWM_LOG(BWM_LOG_INFO, BWM_FAC_MAIN, "forwarding %s%s to %s as consumer group %s",
            fc->f_topics[0], fc->f_ntopics > 1 ? " and more" : "", fc->f_cv.cv_url, fc->f_group);
    *out = f;
    return BWM_OK;
}

void bwm_forwarder_get_stats(const bwm_forwarder_t *f, bwm_forwarder_stats_t *out)
{
    *out = f->f_stats;
    out->fs_tokens = f->f_oauth ? bwm_oauth_fetches(f->f_oauth) : 0;
}

void bwm_forwarder_destroy(bwm_forwarder_t *f)
{
    size_t t;
    int32_t i;

    if (!f) {
        return;
    }
    /*
     * Messages first: librdkafka's destroy waits for every message it handed out. Leaving
     * the group then revokes the partitions; wind_up() committed what there was.
     */
    for (t = 0; f->f_topics && t < f->f_ntopics; t++) {
        for (i = 0; i < f->f_topics[t].t_nparts; i++) {
            if (f->f_topics[t].t_parts[i]) {
                part_drop(f, f->f_topics[t].t_parts[i]);
            }
        }
    }
    bwm_group_destroy(f->f_group);
    bwm_oauth_destroy(f->f_oauth, f->f_http);
    for (t = 0; f->f_topics && t < f->f_ntopics; t++) {
        for (i = 0; i < f->f_topics[t].t_nparts; i++) {
            if (f->f_topics[t].t_parts[i]) {
                part_free(f->f_topics[t].t_parts[i]);
            }
        }
        free(f->f_topics[t].t_parts);
    }
    free(f->f_topics);
    bwm_http_destroy(f->f_http);
    bwm_sink_destroy(f->f_sink, (int)f->f_conf->f_fw.fc_kafka_timeout_ms);
    bwm_registry_destroy(f->f_registry);
    bwm_buf_free(&f->f_scratch);
    if (f->f_authline.b_data) {
        memset(f->f_authline.b_data, 0, f->f_authline.b_cap);
    }
    bwm_buf_free(&f->f_authline);
    free(f);
}
