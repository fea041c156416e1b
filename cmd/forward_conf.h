/*
 * forward_conf.h: the configuration of `bwm forward`: the coreview.* keys
 * (the endpoint: URL, authentication, TLS, timeouts, retries, what is
 * fatal) and the forward.* keys (source topics, batches, concurrency,
 * buffers, dead letters, shutdown), bound and checked together, with the
 * secrets resolved. Every error names the key, where it was set and what is
 * allowed.
 */
#ifndef BWM_FORWARD_CONF_H
#define BWM_FORWARD_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "connectors/coreview/client.h"
#include "connectors/coreview/oauth.h"
#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_coreview_conf {
    char *cv_url;
    char *cv_auth;
    char *cv_token;
    char *cv_api_key;
    char *cv_api_key_header;
    char *cv_oauth_url;
    char *cv_oauth_client_id;
    char *cv_oauth_client_secret;
    char *cv_oauth_scope;
    char *cv_oauth_client_auth;
    int64_t cv_oauth_margin_ms;
    int cv_ssl_verify;
    char *cv_ssl_ca;
    char *cv_ssl_cert;
    char *cv_ssl_key;
    char *cv_ssl_key_password;
    char *cv_http_version;
    int64_t cv_connect_timeout_ms;
    int64_t cv_timeout_ms;
    int64_t cv_max_response_bytes;
    int64_t cv_backoff_ms;
    int64_t cv_backoff_max_ms;
    int64_t cv_retry_budget_ms;
    int64_t cv_retry_after_max_ms;
    char *cv_stop_statuses;
    int cv_split;
    int64_t cv_excerpt_bytes;
} bwm_coreview_conf_t;

typedef struct bwm_forward_conf {
    char *fc_topics;
    char *fc_group;
    char *fc_dlq_topic;
    int64_t fc_max_records;
    int64_t fc_max_bytes;
    int64_t fc_linger_ms;
    int64_t fc_concurrency;
    int64_t fc_buffer_records;
    int64_t fc_max_record_bytes;
    int64_t fc_shutdown_timeout_ms;
    int64_t fc_kafka_timeout_ms;
    int fc_topics_create;
    int64_t fc_topics_replication;
    int64_t fc_progress_ms;
} bwm_forward_conf_t;

/* The coreview.* and forward.* keys. */
extern const bwm_conf_table_t bwm_coreview_conf_table;
extern const bwm_conf_table_t bwm_forward_conf_table;

typedef enum bwm_fwd_auth {
    BWM_FWD_AUTH_NONE,
    BWM_FWD_AUTH_BEARER,
    BWM_FWD_AUTH_API_KEY,
    BWM_FWD_AUTH_OAUTH2,
} bwm_fwd_auth_t;

/* Everything `bwm forward` was told, checked, with secrets resolved. */
typedef struct bwm_fwd_conf {
    bwm_coreview_conf_t f_cv;
    bwm_forward_conf_t f_fw;
    char **f_topics;
    size_t f_ntopics;
    char *f_group; /* the consumer group: forward.group.id or bwm-forward-<topics> */
    bwm_fwd_auth_t f_auth;
    char *f_auth_header;       /* "Authorization: Bearer ..." or "<header>: <key>"; a secret */
    char *f_oauth_secret;      /* a secret */
    char *f_key_password;      /* a secret */
    unsigned char f_stop[600]; /* statuses that stop the forwarder */
    bwm_http_conf_t f_http;
    bwm_oauth_conf_t f_oauth;
} bwm_fwd_conf_t;

/*
 * Binds and checks the coreview.*, forward.* and log.* keys of conf and
 * resolves the secrets. BWM_ERR_INVALID (exit 2) with the key named. Caller
 * frees with bwm_fwd_conf_destroy(), which wipes the secrets.
 */
bwm_err_t bwm_fwd_conf_new(const bwm_conf_t *conf, bwm_fwd_conf_t **out, char *errstr,
                           size_t errstr_size);
void bwm_fwd_conf_destroy(bwm_fwd_conf_t *c);

/* The dead-letter topic for records of topic (written into out). */
void bwm_fwd_conf_dlq(const bwm_fwd_conf_t *c, const char *topic, char *out, size_t size);

/* Prints what the forwarder would do, secrets named by where they come from only. */
void bwm_fwd_conf_print(const bwm_fwd_conf_t *c, FILE *out);

#endif
