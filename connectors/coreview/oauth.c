/*
 * oauth.c: the client-credentials grant, its answer, and the token's life.
 */
#include "connectors/coreview/oauth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "connectors/coreview/policy.h"
#include "connectors/log.h"
#include "connectors/secret.h"

struct bwm_oauth {
    bwm_oauth_conf_t o_conf;
    char *o_token;
    int64_t o_expires_at; /* INT64_MAX: kept until rejected */
    int64_t o_refresh_at;
    bwm_http_xfer_t *o_xfer; /* the fetch under way */
    int64_t o_started;
    bwm_backoff_t o_backoff;
    uint64_t o_rnd;
    bwm_buf_t o_body;
    uint64_t o_fetches;
    int o_failed;
    char o_error[512];
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wipes and empties the request body: it may hold the client secret. */
static void body_wipe(bwm_oauth_t *o)
{
    if (o->o_body.b_data) {
        memset(o->o_body.b_data, 0, o->o_body.b_cap);
    }
    bwm_buf_reset(&o->o_body);
}

bwm_err_t bwm_oauth_new(const bwm_oauth_conf_t *conf, bwm_oauth_t **out, char *errstr,
                        size_t errstr_size)
{
    bwm_oauth_t *o = calloc(1, sizeof(*o));

    if (!o) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    o->o_conf = *conf;
    bwm_backoff_init(&o->o_backoff, conf->oc_backoff_ms, conf->oc_backoff_max_ms, 0);
    *out = o;
    return BWM_OK;
}

void bwm_oauth_destroy(bwm_oauth_t *o, bwm_http_t *h)
{
    if (!o) {
        return;
    }
    if (o->o_xfer && h) {
        bwm_http_cancel(h, o->o_xfer);
    }
    body_wipe(o);
    bwm_buf_free(&o->o_body);
    bwm_secret_free(o->o_token);
    free(o);
}

const char *bwm_oauth_token(const bwm_oauth_t *o, int64_t now)
{
    return o->o_token && now < o->o_expires_at ? o->o_token : NULL;
}

void bwm_oauth_form_escape(bwm_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '*') {
            bwm_buf_put_u8(b, c);
        } else if (c == ' ') {
            bwm_buf_put_u8(b, '+');
        } else {
            bwm_buf_put_u8(b, '%');
            bwm_buf_put_u8(b, (uint8_t)hex[c >> 4]);
            bwm_buf_put_u8(b, (uint8_t)hex[c & 15]);
        }
    }
}

bwm_err_t bwm_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_in_ms,
                          char *errstr, size_t errstr_size)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *tok = json_object_get(doc, "access_token");
    json_t *type = json_object_get(doc, "token_type");
    json_t *exp = json_object_get(doc, "expires_in");
    bwm_err_t err = BWM_OK;

    if (!json_is_object(doc)) {
        err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "the answer is not a JSON object");
    } else if (!json_is_string(tok) || json_string_length(tok) == 0) {
        err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "the answer has no access_token");
    } else if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), "bearer"))) {
        err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                          "token_type is not Bearer: only bearer tokens are supported");
    } else if (exp && !(json_is_integer(exp) && json_integer_value(exp) > 0)) {
        err = bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                          "expires_in is not a positive number of seconds");
    } else if (!(*token = strdup(json_string_value(tok)))) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    } else {
        *expires_in_ms = exp ? (json_integer_value(exp) > 86400LL * 366
                                    ? 86400LL * 366 * 1000
                                    : (int64_t)json_integer_value(exp) * 1000)
                             : -1;
    }
    json_decref(doc);
    return err;
}

/* The "error" and "error_description" of an OAuth error answer (RFC 6749 5.2), for messages. */
static void oauth_error(const bwm_http_resp_t *r, char *out, size_t size)
{
    json_t *doc = json_loadb((const char *)r->hr_body, r->hr_body_len, 0, NULL);
    json_t *e = json_object_get(doc, "error"), *d = json_object_get(doc, "error_description");

    snprintf(out, size, "%s%s%s", json_is_string(e) ? json_string_value(e) : "(no OAuth error)",
             json_is_string(d) ? ": " : "", json_is_string(d) ? json_string_value(d) : "");
    json_decref(doc);
}

static void on_token(void *opaque, const bwm_http_resp_t *r)
{
    bwm_oauth_t *o = opaque;
    int64_t now = now_ms(), expires_in = -1, pause;
    char msg[300];
    char *token = NULL;

    o->o_xfer = NULL;
    body_wipe(o);
    if (r->hr_err == BWM_OK && r->hr_status >= 200 && r->hr_status <= 299) {
        if (bwm_oauth_parse((const char *)r->hr_body, r->hr_body_len, &token, &expires_in, msg,
                            sizeof(msg)) == BWM_OK) {
            bwm_secret_free(o->o_token);
            o->o_token = token;
            o->o_fetches++;
            bwm_backoff_ok(&o->o_backoff, o->o_started);
            if (expires_in < 0) {
                o->o_expires_at = o->o_refresh_at = INT64_MAX;
            } else {
                int64_t margin = o->o_conf.oc_margin_ms < expires_in / 2 ? o->o_conf.oc_margin_ms
                                                                         : expires_in / 2;

                /* Counted from when the request started: the token may be older than its answer. */
                o->o_expires_at = o->o_started + expires_in;
                o->o_refresh_at = o->o_expires_at - margin;
            }
            BWM_LOG(BWM_LOG_INFO, BWM_FAC_HTTP,
                    "OAuth2 token fetched from %s (expires in %s%lld s)", o->o_conf.oc_url,
                    expires_in < 0 ? "? " : "",
                    (long long)(expires_in < 0 ? 0 : expires_in / 1000));
            return;
        }
        snprintf(o->o_error, sizeof(o->o_error), "OAuth2 token endpoint %s: %s", o->o_conf.oc_url,
                 msg);
        o->o_failed = 1;
        BWM_LOG(BWM_LOG_ERR, BWM_FAC_HTTP, "%s", o->o_error);
        return;
    }
    if (r->hr_err == BWM_ERR_INVALID ||
        (r->hr_err == BWM_OK && bwm_http_verdict(r->hr_status) == BWM_HTTP_PERMANENT)) {
        if (r->hr_err == BWM_OK) {
            oauth_error(r, msg, sizeof(msg));
        }
        snprintf(o->o_error, sizeof(o->o_error), "OAuth2 token endpoint %s refused the client: %s",
                 o->o_conf.oc_url, r->hr_err == BWM_OK ? msg : r->hr_error);
        if (r->hr_err == BWM_OK) {
            size_t n = strlen(o->o_error);

            snprintf(o->o_error + n, sizeof(o->o_error) - n, " (HTTP %ld)", r->hr_status);
        }
        o->o_failed = 1;
        BWM_LOG(BWM_LOG_ERR, BWM_FAC_HTTP, "%s", o->o_error);
        return;
    }
    pause = bwm_backoff_failed(&o->o_backoff, now, -1, o->o_rnd);
    if (r->hr_err == BWM_OK) {
        snprintf(msg, sizeof(msg), "HTTP %ld", r->hr_status);
    }
    BWM_LOG(BWM_LOG_WARN, BWM_FAC_HTTP, "OAuth2 token endpoint %s: %s; asking again in %lld ms",
            o->o_conf.oc_url, r->hr_err == BWM_OK ? msg : r->hr_error, (long long)pause);
}

void bwm_oauth_poll(bwm_oauth_t *o, bwm_http_t *h, int64_t now, uint64_t rnd)
{
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    bwm_http_req_t rq;

    if (o->o_failed || o->o_xfer || (o->o_token && now < o->o_refresh_at) ||
        !bwm_backoff_may_start(&o->o_backoff, now, 0)) {
        return;
    }
    body_wipe(o);
    bwm_buf_put_str(&o->o_body, "grant_type=client_credentials");
    if (o->o_conf.oc_scope && o->o_conf.oc_scope[0]) {
        bwm_buf_put_str(&o->o_body, "&scope=");
        bwm_oauth_form_escape(&o->o_body, o->o_conf.oc_scope);
    }
    if (!o->o_conf.oc_basic) {
        bwm_buf_put_str(&o->o_body, "&client_id=");
        bwm_oauth_form_escape(&o->o_body, o->o_conf.oc_client_id);
        bwm_buf_put_str(&o->o_body, "&client_secret=");
        bwm_oauth_form_escape(&o->o_body, o->o_conf.oc_client_secret);
    }
    if (o->o_body.b_failed) {
        return; /* out of memory: try again on the next poll */
    }
    memset(&rq, 0, sizeof(rq));
    rq.rq_url = o->o_conf.oc_url;
    rq.rq_headers = headers;
    rq.rq_body = o->o_body.b_data;
    rq.rq_body_len = o->o_body.b_len;
    if (o->o_conf.oc_basic) {
        rq.rq_user = o->o_conf.oc_client_id;
        rq.rq_password = o->o_conf.oc_client_secret;
    }
    rq.rq_done = on_token;
    rq.rq_opaque = o;
    o->o_rnd = rnd;
    o->o_started = now;
    o->o_xfer = bwm_http_start(h, &rq);
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_HTTP, "fetching an OAuth2 token from %s", o->o_conf.oc_url);
}

void bwm_oauth_rejected(bwm_oauth_t *o, uint64_t fetch)
{
    if (o->o_token && fetch == o->o_fetches) {
        bwm_secret_free(o->o_token);
        o->o_token = NULL;
    }
}

int bwm_oauth_failed(const bwm_oauth_t *o, char *errstr, size_t errstr_size)
{
    if (o->o_failed) {
        snprintf(errstr, errstr_size, "%s", o->o_error);
    }
    return o->o_failed;
}

uint64_t bwm_oauth_fetches(const bwm_oauth_t *o)
{
    return o->o_fetches;
}
