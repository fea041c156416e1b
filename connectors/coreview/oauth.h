/*
 * oauth.h: an OAuth 2.0 client-credentials token (RFC 6749 section 4.4)
 * for requests to one endpoint, fetched asynchronously through a
 * bwm_http_t, kept until shortly before it expires and fetched again then,
 * or at once when the endpoint answered 401 to it. A token endpoint that
 * fails in transport or with 5xx/429 is asked again after a full-jitter
 * pause; one that refuses the client (any other 4xx) is a fatal
 * configuration error. Neither the client secret nor a token is ever logged.
 */
#ifndef BWM_HTTP_OAUTH_H
#define BWM_HTTP_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "connectors/coreview/client.h"
#include "core/buf.h"
#include "core/err.h"

typedef struct bwm_oauth_conf {
    const char *oc_url;
    const char *oc_client_id;
    const char *oc_client_secret;
    const char *oc_scope;  /* or NULL */
    int oc_basic;          /* client credentials in HTTP basic auth, else in the body */
    int64_t oc_margin_ms;  /* fetch a new token this long before the old one expires */
    int64_t oc_backoff_ms; /* pauses after a failed fetch: full jitter from here */
    int64_t oc_backoff_max_ms;
} bwm_oauth_conf_t;

typedef struct bwm_oauth bwm_oauth_t;

/* conf's strings must outlive the cache. Caller frees with bwm_oauth_destroy(). */
bwm_err_t bwm_oauth_new(const bwm_oauth_conf_t *conf, bwm_oauth_t **out, char *errstr,
                        size_t errstr_size);

/* Cancels a fetch under way (h is the client it was started on) and wipes the token. */
void bwm_oauth_destroy(bwm_oauth_t *o, bwm_http_t *h);

/*
 * Times are monotonic milliseconds (CLOCK_MONOTONIC), as the caller's loop
 * keeps them.
 */

/* The token, while it is valid at now; NULL otherwise. */
const char *bwm_oauth_token(const bwm_oauth_t *o, int64_t now);

/*
 * Starts fetching a token through h when one is due (none, or close to its
 * expiry) and none is being fetched and no pause after a failure runs.
 * rnd draws the pause of a failure.
 */
void bwm_oauth_poll(bwm_oauth_t *o, bwm_http_t *h, int64_t now, uint64_t rnd);

/*
 * A request sent with token number `fetch` (bwm_oauth_fetches() when it was
 * sent) was answered 401: drop that token if it is still the one held.
 */
void bwm_oauth_rejected(bwm_oauth_t *o, uint64_t fetch);

/* Non-zero once the token endpoint refused the client; errstr then says why. */
int bwm_oauth_failed(const bwm_oauth_t *o, char *errstr, size_t errstr_size);

/* Tokens fetched so far; the token held is the last of them. */
uint64_t bwm_oauth_fetches(const bwm_oauth_t *o);

/*
 * Parses a token endpoint's JSON answer: access_token (required),
 * token_type (Bearer, in any case, when present), expires_in (seconds;
 * without it *expires_in_ms is -1: the token is kept until rejected). On
 * success *token is a new string the caller frees with bwm_secret_free().
 */
bwm_err_t bwm_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_in_ms,
                          char *errstr, size_t errstr_size);

/* Appends s to b as application/x-www-form-urlencoded text. */
void bwm_oauth_form_escape(bwm_buf_t *b, const char *s);

#endif
