/*
 * client.h: an asynchronous HTTP client on libcurl's multi interface. Many
 * requests run at once in one thread; the caller's loop calls
 * bwm_http_run(), which waits for network activity (or one extra file
 * descriptor, e.g. a Kafka queue's wake-up pipe), moves every transfer along
 * and calls each finished request's callback. Connections are kept alive
 * and reused, HTTP/2 is used when the server offers it (ALPN over TLS) and
 * then multiplexes the requests on one connection; libcurl never raises
 * signals (CURLOPT_NOSIGNAL). Response bodies are capped; the Retry-After
 * header is kept for the caller. Nothing is logged that could hold a secret:
 * request headers never are.
 */
#ifndef BWM_HTTP_CLIENT_H
#define BWM_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum bwm_http_version {
    BWM_HTTP_VERSION_AUTO, /* HTTP/2 over TLS when the server offers it, else HTTP/1.1 */
    BWM_HTTP_VERSION_1_1,
    BWM_HTTP_VERSION_2, /* HTTP/2, also over cleartext (h2c upgrade) */
} bwm_http_version_t;

typedef struct bwm_http_conf {
    int64_t hc_connect_timeout_ms;
    int64_t hc_timeout_ms;         /* the whole request, from start to the last byte */
    int64_t hc_max_response_bytes; /* of a body; the transfer stops there */
    int hc_verify;                 /* verify the server's certificate and host name */
    const char *hc_ca;             /* CA bundle (PEM); NULL: the system's */
    const char *hc_cert;           /* client certificate (PEM) or NULL */
    const char *hc_key;            /* its private key (PEM) or NULL */
    const char *hc_key_password;   /* or NULL */
    bwm_http_version_t hc_version;
    long hc_max_connections; /* per host */
} bwm_http_conf_t;

/* How a request ended. */
typedef struct bwm_http_resp {
    /*
     * BWM_OK: an answer came (hr_status); BWM_ERR_TIMEOUT or
     * BWM_ERR_TRANSPORT: none came, in time or at all (worth a retry);
     * BWM_ERR_INVALID: the request cannot work as configured (TLS files,
     * certificate verification, URL): no retry can help.
     */
    bwm_err_t hr_err;
    long hr_status;             /* 0 without an answer */
    char hr_error[256];         /* what went wrong, for logs, when hr_err is set */
    const char *hr_retry_after; /* the Retry-After header, or NULL */
    const uint8_t *hr_body;     /* the body, NUL-terminated, at most hc_max_response_bytes */
    size_t hr_body_len;
    int hr_truncated;     /* the body was longer and the transfer was stopped */
    long hr_http_version; /* 11 or 20 once answered */
} bwm_http_resp_t;

/* Called once per finished request, from bwm_http_run(); resp is valid only during the call. */
typedef void (*bwm_http_done_cb)(void *opaque, const bwm_http_resp_t *resp);

typedef struct bwm_http_req {
    const char *rq_url;
    const char *const *rq_headers; /* "Name: value" lines, NULL-terminated; copied */
    const void *rq_body;           /* POST body; must stay valid until done or cancelled */
    size_t rq_body_len;
    const char *rq_user; /* HTTP basic auth, or NULL; copied */
    const char *rq_password;
    bwm_http_done_cb rq_done;
    void *rq_opaque;
} bwm_http_req_t;

typedef struct bwm_http bwm_http_t;
typedef struct bwm_http_xfer bwm_http_xfer_t;

/* Caller frees with bwm_http_destroy(). conf's strings must outlive the client. */
bwm_err_t bwm_http_new(const bwm_http_conf_t *conf, bwm_http_t **out, char *errstr,
                       size_t errstr_size);

/* Stops every transfer (without callbacks) and frees the client. */
void bwm_http_destroy(bwm_http_t *h);

/*
 * Starts a POST (rq_body set). It runs in bwm_http_run(); its callback
 * comes from there, never from here. Returns the transfer (owned by the
 * client until its callback returns or it is cancelled), or NULL when out
 * of memory.
 */
bwm_http_xfer_t *bwm_http_start(bwm_http_t *h, const bwm_http_req_t *rq);

/* Stops a transfer that has not finished; its callback is not called. */
void bwm_http_cancel(bwm_http_t *h, bwm_http_xfer_t *x);

/* Transfers under way. */
int bwm_http_inflight(const bwm_http_t *h);

/*
 * Waits up to timeout_ms for network activity or for extra_fd (when >= 0)
 * to become readable, moves every transfer along and calls the callbacks
 * of those that finished. BWM_ERR_IO when waiting failed for another reason
 * than a signal.
 */
bwm_err_t bwm_http_run(bwm_http_t *h, int timeout_ms, int extra_fd);

#endif
