/*
 * client.c: the multi handle, transfers (with a pool of easy handles for
 * reuse), response capture and the classification of libcurl's errors.
 */
#include "connectors/coreview/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/log.h"
#include "core/buf.h"

struct bwm_http_xfer {
    bwm_http_t *x_http;
    CURL *x_easy;
    struct curl_slist *x_headers;
    bwm_buf_t x_body;
    int x_truncated;
    int x_has_retry_after;
    char x_retry_after[128];
    char x_errbuf[CURL_ERROR_SIZE];
    bwm_http_done_cb x_done;
    void *x_opaque;
    bwm_http_xfer_t *x_next; /* in the pool of idle transfers */
};

struct bwm_http {
    bwm_http_conf_t h_conf;
    CURLM *h_multi;
    int h_inflight;
    bwm_http_xfer_t *h_idle;
    bwm_http_xfer_t **h_all; /* every transfer made, idle or not, for destroy */
    size_t h_nall;
};

static int curl_ready;

static void xfer_free(bwm_http_xfer_t *x)
{
    if (x->x_easy) {
        curl_easy_cleanup(x->x_easy);
    }
    curl_slist_free_all(x->x_headers);
    bwm_buf_free(&x->x_body);
    free(x);
}

void bwm_http_destroy(bwm_http_t *h)
{
    size_t i;

    if (!h) {
        return;
    }
    for (i = 0; i < h->h_nall; i++) {
        if (h->h_multi && h->h_all[i]->x_easy) {
            curl_multi_remove_handle(h->h_multi, h->h_all[i]->x_easy);
        }
        xfer_free(h->h_all[i]);
    }
    free(h->h_all);
    if (h->h_multi) {
        curl_multi_cleanup(h->h_multi);
    }
    free(h);
}

bwm_err_t bwm_http_new(const bwm_http_conf_t *conf, bwm_http_t **out, char *errstr,
                       size_t errstr_size)
{
    bwm_http_t *h;

    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "cannot set up libcurl");
        }
        curl_ready = 1;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    h->h_conf = *conf;
    h->h_multi = curl_multi_init();
    if (!h->h_multi) {
        bwm_http_destroy(h);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "cannot set up libcurl");
    }
    curl_multi_setopt(h->h_multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(h->h_multi, CURLMOPT_MAX_HOST_CONNECTIONS, conf->hc_max_connections);
    curl_multi_setopt(h->h_multi, CURLMOPT_MAXCONNECTS, conf->hc_max_connections + 4);
    *out = h;
    return BWM_OK;
}

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    bwm_http_xfer_t *x = opaque;
    size_t len = size * n;
    size_t max = (size_t)x->x_http->h_conf.hc_max_response_bytes;

    if (x->x_body.b_len + len > max) {
        bwm_buf_put(&x->x_body, p, max - x->x_body.b_len);
        x->x_truncated = 1;
        return 0; /* stops the transfer: the cap bounds memory and time */
    }
    bwm_buf_put(&x->x_body, p, len);
    return x->x_body.b_failed ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *opaque)
{
    bwm_http_xfer_t *x = opaque;
    size_t len = size * n, vlen;
    const char *v;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        x->x_has_retry_after = 0; /* a new response (after an interim 1xx) */
    } else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        v = p + 12;
        vlen = len - 12;
        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
            vlen--;
        }
        if (vlen < sizeof(x->x_retry_after)) {
            memcpy(x->x_retry_after, v, vlen);
            x->x_retry_after[vlen] = '\0';
            x->x_has_retry_after = 1;
        }
    }
    return len;
}

/* A transfer from the pool, or a new one. */
static bwm_http_xfer_t *xfer_get(bwm_http_t *h)
{
    bwm_http_xfer_t *x = h->h_idle, **all;

    if (x) {
        h->h_idle = x->x_next;
        curl_easy_reset(x->x_easy);
        return x;
    }
    all = realloc(h->h_all, (h->h_nall + 1) * sizeof(*all));
    if (!all) {
        return NULL;
    }
    h->h_all = all;
    x = calloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    x->x_http = h;
    x->x_easy = curl_easy_init();
    if (!x->x_easy) {
        free(x);
        return NULL;
    }
    h->h_all[h->h_nall++] = x;
    return x;
}

static void xfer_put(bwm_http_t *h, bwm_http_xfer_t *x)
{
    curl_slist_free_all(x->x_headers);
    x->x_headers = NULL;
    bwm_buf_reset(&x->x_body);
    x->x_next = h->h_idle;
    h->h_idle = x;
}

static long curl_version_opt(bwm_http_version_t v)
{
    switch (v) {
        case BWM_HTTP_VERSION_1_1:
            return CURL_HTTP_VERSION_1_1;
        case BWM_HTTP_VERSION_2:
            return CURL_HTTP_VERSION_2_0;
        default:
            return CURL_HTTP_VERSION_2TLS;
    }
}

bwm_http_xfer_t *bwm_http_start(bwm_http_t *h, const bwm_http_req_t *rq)
{
    const bwm_http_conf_t *c = &h->h_conf;
    bwm_http_xfer_t *x = xfer_get(h);
    CURL *e;
    size_t i;

    if (!x) {
        return NULL;
    }
    e = x->x_easy;
    x->x_truncated = 0;
    x->x_has_retry_after = 0;
    x->x_errbuf[0] = '\0';
    x->x_done = rq->rq_done;
    x->x_opaque = rq->rq_opaque;
    for (i = 0; rq->rq_headers && rq->rq_headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(x->x_headers, rq->rq_headers[i]);

        if (!n) {
            xfer_put(h, x);
            return NULL;
        }
        x->x_headers = n;
    }
    /* No "Expect: 100-continue" round trip before large bodies. */
    x->x_headers = curl_slist_append(x->x_headers, "Expect:");
    if (!x->x_headers) {
        xfer_put(h, x);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_URL, rq->rq_url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, curl_version_opt(c->hc_version));
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->hc_connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->hc_timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, (long)c->hc_verify);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->hc_verify ? 2L : 0L);
    if (c->hc_ca) {
        curl_easy_setopt(e, CURLOPT_CAINFO, c->hc_ca);
    }
    if (c->hc_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, c->hc_cert);
    }
    if (c->hc_key) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, c->hc_key);
    }
    if (c->hc_key_password) {
        curl_easy_setopt(e, CURLOPT_KEYPASSWD, c->hc_key_password);
    }
    if (rq->rq_user) {
        curl_easy_setopt(e, CURLOPT_USERNAME, rq->rq_user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, rq->rq_password ? rq->rq_password : "");
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, "bwm-forward");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->rq_body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->rq_body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->x_headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->x_errbuf);
    if (curl_multi_add_handle(h->h_multi, e) != CURLM_OK) {
        xfer_put(h, x);
        return NULL;
    }
    h->h_inflight++;
    return x;
}

void bwm_http_cancel(bwm_http_t *h, bwm_http_xfer_t *x)
{
    curl_multi_remove_handle(h->h_multi, x->x_easy);
    h->h_inflight--;
    xfer_put(h, x);
}

int bwm_http_inflight(const bwm_http_t *h)
{
    return h->h_inflight;
}

/* Errors that come from the configuration or the peer's identity: retrying cannot help. */
static int config_error(CURLcode rc)
{
    switch (rc) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_ISSUER_ERROR:
            return 1;
        default:
            return 0;
    }
}

static void finish(bwm_http_t *h, CURL *e, CURLcode rc)
{
    bwm_http_xfer_t *x = NULL;
    bwm_http_resp_t r;

    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    memset(&r, 0, sizeof(r));
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.hr_status);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r.hr_http_version);
    r.hr_http_version = r.hr_http_version == CURL_HTTP_VERSION_2_0   ? 20
                        : r.hr_http_version == CURL_HTTP_VERSION_1_0 ? 10
                                                                     : 11;
    if (rc == CURLE_OK || (x->x_truncated && r.hr_status > 0)) {
        r.hr_err = BWM_OK;
    } else {
        r.hr_status = 0;
        r.hr_err = rc == CURLE_OPERATION_TIMEDOUT ? BWM_ERR_TIMEOUT
                   : config_error(rc)             ? BWM_ERR_INVALID
                                                  : BWM_ERR_TRANSPORT;
        snprintf(r.hr_error, sizeof(r.hr_error), "%s%s%s", curl_easy_strerror(rc),
                 x->x_errbuf[0] ? ": " : "", x->x_errbuf);
    }
    bwm_buf_put_u8(&x->x_body, 0);
    x->x_body.b_len--;
    r.hr_body = x->x_body.b_data ? x->x_body.b_data : (const uint8_t *)"";
    r.hr_body_len = x->x_body.b_len;
    r.hr_truncated = x->x_truncated;
    r.hr_retry_after = x->x_has_retry_after ? x->x_retry_after : NULL;
    curl_multi_remove_handle(h->h_multi, e);
    h->h_inflight--;
    x->x_done(x->x_opaque, &r);
    xfer_put(h, x);
}

bwm_err_t bwm_http_run(bwm_http_t *h, int timeout_ms, int extra_fd)
{
    struct curl_waitfd wfd = {extra_fd, CURL_WAIT_POLLIN, 0};
    CURLMcode mc;
    CURLMsg *msg;
    int running, left;

    curl_multi_perform(h->h_multi, &running);
    mc = curl_multi_poll(h->h_multi, extra_fd >= 0 ? &wfd : NULL, extra_fd >= 0 ? 1 : 0, timeout_ms,
                         NULL);
    if (mc != CURLM_OK && !(mc == CURLM_UNRECOVERABLE_POLL && errno == EINTR)) {
        return BWM_ERR_IO;
    }
    curl_multi_perform(h->h_multi, &running);
    while ((msg = curl_multi_info_read(h->h_multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            finish(h, msg->easy_handle, msg->data.result);
        }
    }
    return BWM_OK;
}
