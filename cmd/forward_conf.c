/*
 * forward_conf.c: the coreview.* and forward.* tables, and the checks that
 * span several keys (what each kind of authentication needs, URLs, topic
 * names, status lists, bounds relative to each other).
 */
#include "cmd/forward_conf.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/log.h"
#include "connectors/secret.h"

#define CV(name, type, def, min, max, field, desc)                                                 \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_coreview_conf_t, field), 0, desc             \
    }
#define CV_ENUM(name, def, words, field, desc)                                                     \
    {                                                                                              \
        name, BWM_CONF_ENUM, def, 0, 0, words, offsetof(bwm_coreview_conf_t, field), 0, desc       \
    }
#define FW(name, type, def, min, max, field, req, desc)                                            \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_forward_conf_t, field), req, desc            \
    }

/* The contract's body limit (deploy/local/README.md, "Core View contract"). */
#define CONTRACT_MAX_BODY "10485760"

static const bwm_conf_def_t coreview_defs[] = {
    CV("coreview.url", BWM_CONF_STR, "http://127.0.0.1:8082/v1/results", 0, 0, cv_url,
       "Core View endpoint that results are POSTed to (http:// or https://)"),
    CV_ENUM("coreview.auth", "bearer", "none|bearer|api-key|oauth2", cv_auth,
            "how requests authenticate: Authorization: Bearer coreview.token, an API key header, "
            "an OAuth2 client-credentials token, or nothing"),
    CV("coreview.token", BWM_CONF_SECRET, NULL, 0, 0, cv_token,
       "bearer token for coreview.auth = bearer"),
    CV("coreview.api.key", BWM_CONF_SECRET, NULL, 0, 0, cv_api_key,
       "API key for coreview.auth = api-key"),
    CV("coreview.api.key.header", BWM_CONF_STR, "X-API-Key", 0, 0, cv_api_key_header,
       "header that carries the API key"),
    CV("coreview.oauth2.token.url", BWM_CONF_STR, NULL, 0, 0, cv_oauth_url,
       "OAuth2 token endpoint for coreview.auth = oauth2 (client-credentials grant)"),
    CV("coreview.oauth2.client.id", BWM_CONF_STR, NULL, 0, 0, cv_oauth_client_id,
       "OAuth2 client id"),
    CV("coreview.oauth2.client.secret", BWM_CONF_SECRET, NULL, 0, 0, cv_oauth_client_secret,
       "OAuth2 client secret"),
    CV("coreview.oauth2.scope", BWM_CONF_STR, NULL, 0, 0, cv_oauth_scope,
       "OAuth2 scope to ask for (space-separated); default: none"),
    CV_ENUM("coreview.oauth2.client.auth", "basic", "basic|body", cv_oauth_client_auth,
            "client id and secret in HTTP basic auth, or in the form body"),
    CV("coreview.oauth2.refresh.margin.ms", BWM_CONF_INT, "60000", 0, 86400000, cv_oauth_margin_ms,
       "fetch a new token this long before the old one expires (at most half its life)"),
    CV("coreview.ssl.verify", BWM_CONF_BOOL, "true", 0, 0, cv_ssl_verify,
       "verify Core View's TLS certificate and host name"),
    CV("coreview.ssl.ca.location", BWM_CONF_STR, NULL, 0, 0, cv_ssl_ca,
       "CA bundle (PEM) to verify Core View's certificate; default: the system's"),
    CV("coreview.ssl.certificate.location", BWM_CONF_STR, NULL, 0, 0, cv_ssl_cert,
       "client certificate (PEM) for mutual TLS"),
    CV("coreview.ssl.key.location", BWM_CONF_STR, NULL, 0, 0, cv_ssl_key,
       "the client certificate's private key (PEM)"),
    CV("coreview.ssl.key.password", BWM_CONF_SECRET, NULL, 0, 0, cv_ssl_key_password,
       "password of the private key"),
    CV_ENUM("coreview.http.version", "auto", "auto|1.1|2", cv_http_version,
            "auto: HTTP/2 when the server offers it over TLS, else HTTP/1.1; 2: also over "
            "cleartext (h2c upgrade)"),
    CV("coreview.connect.timeout.ms", BWM_CONF_INT, "5000", 1, 600000, cv_connect_timeout_ms,
       "longest wait for a connection (TCP and TLS)"),
    CV("coreview.request.timeout.ms", BWM_CONF_INT, "30000", 1, 3600000, cv_timeout_ms,
       "longest time one request may take, from start to the last byte of the answer"),
    CV("coreview.max.response.bytes", BWM_CONF_INT, "65536", 256, 67108864, cv_max_response_bytes,
       "largest answer body read; the request is cut off there"),
    CV("coreview.retry.backoff.ms", BWM_CONF_INT, "100", 1, 600000, cv_backoff_ms,
       "ceiling of the first pause after a failure to retry (full jitter: the pause is drawn "
       "from 0 to the ceiling); it doubles with each failure in a row"),
    CV("coreview.retry.backoff.max.ms", BWM_CONF_INT, "10000", 1, 3600000, cv_backoff_max_ms,
       "largest ceiling of the pause"),
    CV("coreview.retry.budget.ms", BWM_CONF_INT, "300000", 0, 604800000, cv_retry_budget_ms,
       "how long a batch may keep failing with errors worth a retry (counted from its first "
       "attempt) before its records go to the dead-letter topic (reason retries)"),
    CV("coreview.retry.after.max.ms", BWM_CONF_INT, "300000", 0, 86400000, cv_retry_after_max_ms,
       "longest Retry-After honoured; a longer one waits this long"),
    CV("coreview.stop.statuses", BWM_CONF_STR, "401,403,404,405,415", 0, 0, cv_stop_statuses,
       "4xx answers that say the forwarder, not the records, is at fault: the forwarder stops "
       "(exit 1) instead of dead-lettering (comma-separated; empty: none)"),
    CV("coreview.split.rejected", BWM_CONF_BOOL, "true", 0, 0, cv_split,
       "on any other 4xx, send each half of the batch on its own, down to single records, so "
       "only the records at fault are dead-lettered; false: dead-letter the whole batch"),
    CV("coreview.error.excerpt.bytes", BWM_CONF_INT, "512", 0, 65536, cv_excerpt_bytes,
       "most bytes of an error answer's body kept in a dead letter's bwm.http.body header"),
};

const bwm_conf_table_t bwm_coreview_conf_table = {"coreview", coreview_defs,
                                                  sizeof(coreview_defs) / sizeof(coreview_defs[0])};

static const bwm_conf_def_t forward_defs[] = {
    FW("forward.topics", BWM_CONF_STR, NULL, 0, 0, fc_topics, 1,
       "result topics to forward, comma-separated"),
    FW("forward.group.id", BWM_CONF_STR, NULL, 0, 0, fc_group, 0,
       "consumer group of the forwarders of these topics; default: bwm-forward-<topics joined "
       "by +> (kafka.group.id, passed to librdkafka, would override it)"),
    FW("forward.dlq.topic", BWM_CONF_STR, NULL, 0, 0, fc_dlq_topic, 0,
       "dead-letter topic; default: <result topic>.coreview.dlq"),
    FW("forward.batch.max.records", BWM_CONF_INT, "500", 1, 1000000, fc_max_records, 0,
       "most results in one request"),
    FW("forward.batch.max.bytes", BWM_CONF_INT, "1048576", 1024, 67108864, fc_max_bytes, 0,
       "largest request body; a result whose JSON alone is larger goes to the dead-letter "
       "topic (reason limit)"),
    FW("forward.batch.linger.ms", BWM_CONF_INT, "100", 0, 600000, fc_linger_ms, 0,
       "longest time a result waits for its batch to fill before it is sent anyway"),
    FW("forward.concurrency", BWM_CONF_INT, "8", 1, 1024, fc_concurrency, 0,
       "most requests in flight (one per partition at a time, so order is kept)"),
    FW("forward.buffer.max.records", BWM_CONF_INT, "20000", 1, 100000000, fc_buffer_records, 0,
       "results read ahead per partition; beyond it the partition is paused"),
    FW("forward.max.record.bytes", BWM_CONF_INT, "1048576", 16, 1073741824, fc_max_record_bytes, 0,
       "larger result records (Avro) go to the dead-letter topic (reason limit)"),
    FW("forward.shutdown.timeout.ms", BWM_CONF_INT, "30000", 0, 3600000, fc_shutdown_timeout_ms, 0,
       "on SIGTERM, how long batches under way may take to finish before they are abandoned"),
    FW("forward.kafka.timeout.ms", BWM_CONF_INT, "30000", 100, 3600000, fc_kafka_timeout_ms, 0,
       "timeout of Kafka metadata, committed-offset and dead-letter waits"),
    FW("forward.topics.create", BWM_CONF_BOOL, "true", 0, 0, fc_topics_create, 0,
       "create the dead-letter topics when missing (with the result topic's partitions)"),
    FW("forward.topics.replication.factor", BWM_CONF_INT, "-1", -1, 32, fc_topics_replication, 0,
       "replication factor of created topics; -1: the broker's default"),
    FW("forward.progress.interval.ms", BWM_CONF_INT, "10000", 100, 3600000, fc_progress_ms, 0,
       "how often progress is logged"),
};

const bwm_conf_table_t bwm_forward_conf_table = {"forward", forward_defs,
                                                 sizeof(forward_defs) / sizeof(forward_defs[0])};

/* "file:line: " for a key's origin, or "" for a default. */
static void where(const bwm_conf_t *conf, const char *key, char *out, size_t size)
{
    const char *origin = NULL;

    bwm_conf_get(conf, key, &origin);
    snprintf(out, size, "%s%s", origin ? origin : "", origin ? ": " : "");
}

static bwm_err_t bad(const bwm_conf_t *conf, const char *key, char *errstr, size_t errstr_size,
                     const char *what)
{
    char at[512];

    where(conf, key, at, sizeof(at));
    return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s%s %s", at, key, what);
}

static int http_url(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           strchr(u, ' ') == NULL && strchr(u, '\n') == NULL;
}

/* Kafka's topic name rule: 1 to 249 of [a-zA-Z0-9._-]. */
static int topic_ok(const char *t, size_t n)
{
    size_t i;

    if (n == 0 || n > 249) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)t[i]) && t[i] != '.' && t[i] != '_' && t[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* An HTTP header name: a token (RFC 9110). */
static int header_name_ok(const char *h)
{
    size_t i;

    if (!h[0]) {
        return 0;
    }
    for (i = 0; h[i]; i++) {
        if (!isalnum((unsigned char)h[i]) && !strchr("!#$%&'*+-.^_`|~", h[i])) {
            return 0;
        }
    }
    return 1;
}

/* Resolves a secret key; the value must fit in a header line. */
static bwm_err_t secret(const bwm_conf_t *conf, const char *key, const char *spec, char **out,
                        char *errstr, size_t errstr_size)
{
    char at[512], msg[600];
    bwm_err_t err;

    err = bwm_secret_resolve(key, spec, out, msg, sizeof(msg));
    if (err) {
        where(conf, key, at, sizeof(at));
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s%s", at, msg);
    }
    if (!(*out)[0] || strpbrk(*out, "\r\n")) {
        return bad(conf, key, errstr, errstr_size,
                   "is empty or holds a line break once resolved (it goes into a header)");
    }
    return BWM_OK;
}

static bwm_err_t parse_topics(const bwm_conf_t *conf, bwm_fwd_conf_t *c, char *errstr,
                              size_t errstr_size)
{
    const char *p = c->f_fw.fc_topics;

    while (*p) {
        const char *comma = strchr(p, ','), *e = comma ? comma : p + strlen(p), *s = p;
        char **n;

        while (s < e && isspace((unsigned char)*s)) {
            s++;
        }
        while (e > s && isspace((unsigned char)e[-1])) {
            e--;
        }
        if (!topic_ok(s, (size_t)(e - s))) {
            return bad(conf, "forward.topics", errstr, errstr_size,
                       "must be topic names (1 to 249 of a-z A-Z 0-9 . _ -), comma-separated");
        }
        n = realloc(c->f_topics, (c->f_ntopics + 1) * sizeof(*n));
        if (!n) {
            return BWM_ERR_NOMEM;
        }
        c->f_topics = n;
        if (!(c->f_topics[c->f_ntopics] = strndup(s, (size_t)(e - s)))) {
            return BWM_ERR_NOMEM;
        }
        c->f_ntopics++;
        p = comma ? comma + 1 : p + strlen(p);
    }
    if (c->f_ntopics == 0) {
        return bad(conf, "forward.topics", errstr, errstr_size, "names no topic");
    }
    return BWM_OK;
}

static bwm_err_t parse_statuses(const bwm_conf_t *conf, bwm_fwd_conf_t *c, char *errstr,
                                size_t errstr_size)
{
    const char *p = c->f_cv.cv_stop_statuses;

    while (*p) {
        char *end;
        long v;

        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (!*p) {
            break;
        }
        v = strtol(p, &end, 10);
        if (end == p || v < 400 || v > 499 || v == 408 || v == 429) {
            return bad(conf, "coreview.stop.statuses", errstr, errstr_size,
                       "must be 4xx statuses other than 408 and 429 (which are retried), "
                       "comma-separated");
        }
        c->f_stop[v] = 1;
        p = end;
        while (*p == ' ') {
            p++;
        }
        if (*p && *p != ',') {
            return bad(conf, "coreview.stop.statuses", errstr, errstr_size,
                       "must be 4xx statuses, comma-separated");
        }
    }
    return BWM_OK;
}

/* The authentication the endpoint needs, and the secrets it takes. */
static bwm_err_t check_auth(const bwm_conf_t *conf, bwm_fwd_conf_t *c, char *errstr,
                            size_t errstr_size)
{
    bwm_coreview_conf_t *cv = &c->f_cv;
    char *value = NULL;
    bwm_err_t err;

    if (strcmp(cv->cv_auth, "bearer") == 0) {
        c->f_auth = BWM_FWD_AUTH_BEARER;
        if (!cv->cv_token) {
            return bad(conf, "coreview.token", errstr, errstr_size,
                       "is required with coreview.auth = bearer (a token, env:NAME or file:/path)");
        }
        err = secret(conf, "coreview.token", cv->cv_token, &value, errstr, errstr_size);
        if (err) {
            return err;
        }
        c->f_auth_header = malloc(strlen(value) + 32);
        if (c->f_auth_header) {
            sprintf(c->f_auth_header, "Authorization: Bearer %s", value);
        }
    } else if (strcmp(cv->cv_auth, "api-key") == 0) {
        c->f_auth = BWM_FWD_AUTH_API_KEY;
        if (!cv->cv_api_key) {
            return bad(conf, "coreview.api.key", errstr, errstr_size,
                       "is required with coreview.auth = api-key");
        }
        if (!header_name_ok(cv->cv_api_key_header)) {
            return bad(conf, "coreview.api.key.header", errstr, errstr_size,
                       "must be a header name (letters, digits and !#$%&'*+-.^_`|~)");
        }
        err = secret(conf, "coreview.api.key", cv->cv_api_key, &value, errstr, errstr_size);
        if (err) {
            return err;
        }
        c->f_auth_header = malloc(strlen(value) + strlen(cv->cv_api_key_header) + 4);
        if (c->f_auth_header) {
            sprintf(c->f_auth_header, "%s: %s", cv->cv_api_key_header, value);
        }
    } else if (strcmp(cv->cv_auth, "oauth2") == 0) {
        c->f_auth = BWM_FWD_AUTH_OAUTH2;
        if (!http_url(cv->cv_oauth_url)) {
            return bad(conf, "coreview.oauth2.token.url", errstr, errstr_size,
                       "must be an http:// or https:// URL with coreview.auth = oauth2");
        }
        if (!cv->cv_oauth_client_id || !cv->cv_oauth_client_id[0]) {
            return bad(conf, "coreview.oauth2.client.id", errstr, errstr_size,
                       "is required with coreview.auth = oauth2");
        }
        if (!cv->cv_oauth_client_secret) {
            return bad(conf, "coreview.oauth2.client.secret", errstr, errstr_size,
                       "is required with coreview.auth = oauth2");
        }
        err = secret(conf, "coreview.oauth2.client.secret", cv->cv_oauth_client_secret,
                     &c->f_oauth_secret, errstr, errstr_size);
        if (err) {
            return err;
        }
        c->f_oauth.oc_url = cv->cv_oauth_url;
        c->f_oauth.oc_client_id = cv->cv_oauth_client_id;
        c->f_oauth.oc_client_secret = c->f_oauth_secret;
        c->f_oauth.oc_scope = cv->cv_oauth_scope;
        c->f_oauth.oc_basic = strcmp(cv->cv_oauth_client_auth, "basic") == 0;
        c->f_oauth.oc_margin_ms = cv->cv_oauth_margin_ms;
        c->f_oauth.oc_backoff_ms = cv->cv_backoff_ms;
        c->f_oauth.oc_backoff_max_ms = cv->cv_backoff_max_ms;
    } else {
        c->f_auth = BWM_FWD_AUTH_NONE;
    }
    bwm_secret_free(value);
    if ((c->f_auth == BWM_FWD_AUTH_BEARER || c->f_auth == BWM_FWD_AUTH_API_KEY) &&
        !c->f_auth_header) {
        return BWM_ERR_NOMEM;
    }
    return BWM_OK;
}

static bwm_err_t check(const bwm_conf_t *conf, bwm_fwd_conf_t *c, char *errstr, size_t errstr_size)
{
    bwm_coreview_conf_t *cv = &c->f_cv;
    bwm_forward_conf_t *fw = &c->f_fw;
    const char *level = bwm_conf_get(conf, "log.level", NULL);
    const char *debug = bwm_conf_get(conf, "log.debug", NULL);
    bwm_err_t err;
    size_t i, n;

    if (level && bwm_log_set_level(level) != 0) {
        return bad(conf, "log.level", errstr, errstr_size,
                   "is not valid (allowed: err|warn|notice|info|debug)");
    }
    if (debug && bwm_log_set_debug(debug) != 0) {
        return bad(conf, "log.debug", errstr, errstr_size,
                   "is not valid (allowed: main,kafka,state,registry,http or all)");
    }
    if (!http_url(cv->cv_url)) {
        return bad(conf, "coreview.url", errstr, errstr_size, "must be an http:// or https:// URL");
    }
    if (cv->cv_backoff_max_ms < cv->cv_backoff_ms) {
        return bad(conf, "coreview.retry.backoff.max.ms", errstr, errstr_size,
                   "must be at least coreview.retry.backoff.ms");
    }
    if (cv->cv_excerpt_bytes > cv->cv_max_response_bytes) {
        return bad(conf, "coreview.error.excerpt.bytes", errstr, errstr_size,
                   "must be at most coreview.max.response.bytes");
    }
    if (cv->cv_ssl_key_password && !cv->cv_ssl_key) {
        return bad(conf, "coreview.ssl.key.password", errstr, errstr_size,
                   "needs coreview.ssl.key.location");
    }
    if (cv->cv_ssl_key && !cv->cv_ssl_cert) {
        return bad(conf, "coreview.ssl.key.location", errstr, errstr_size,
                   "needs coreview.ssl.certificate.location");
    }
    if (fw->fc_buffer_records < fw->fc_max_records) {
        return bad(conf, "forward.buffer.max.records", errstr, errstr_size,
                   "must be at least forward.batch.max.records");
    }
    if (fw->fc_dlq_topic && !topic_ok(fw->fc_dlq_topic, strlen(fw->fc_dlq_topic))) {
        return bad(conf, "forward.dlq.topic", errstr, errstr_size,
                   "must be a topic name (1 to 249 of a-z A-Z 0-9 . _ -)");
    }
    err = parse_topics(conf, c, errstr, errstr_size);
    if (!err) {
        err = parse_statuses(conf, c, errstr, errstr_size);
    }
    if (!err) {
        err = check_auth(conf, c, errstr, errstr_size);
    }
    if (!err && cv->cv_ssl_key_password) {
        err = secret(conf, "coreview.ssl.key.password", cv->cv_ssl_key_password, &c->f_key_password,
                     errstr, errstr_size);
    }
    if (err) {
        return err;
    }
    if (fw->fc_group && !fw->fc_group[0]) {
        return bad(conf, "forward.group.id", errstr, errstr_size, "must not be empty");
    }
    if (fw->fc_group) {
        c->f_group = strdup(fw->fc_group);
    } else {
        for (i = 0, n = 16; i < c->f_ntopics; i++) {
            n += strlen(c->f_topics[i]) + 1;
        }
        c->f_group = malloc(n);
        if (c->f_group) {
            strcpy(c->f_group, "bwm-forward-");
            for (i = 0; i < c->f_ntopics; i++) {
                strcat(c->f_group, i ? "+" : "");
                strcat(c->f_group, c->f_topics[i]);
            }
        }
    }
    if (!c->f_group) {
        return BWM_ERR_NOMEM;
    }
    c->f_http.hc_connect_timeout_ms = cv->cv_connect_timeout_ms;
    c->f_http.hc_timeout_ms = cv->cv_timeout_ms;
    c->f_http.hc_max_response_bytes = cv->cv_max_response_bytes;
    c->f_http.hc_verify = cv->cv_ssl_verify;
    c->f_http.hc_ca = cv->cv_ssl_ca;
    c->f_http.hc_cert = cv->cv_ssl_cert;
    c->f_http.hc_key = cv->cv_ssl_key;
    c->f_http.hc_key_password = c->f_key_password;
    c->f_http.hc_version = strcmp(cv->cv_http_version, "1.1") == 0 ? BWM_HTTP_VERSION_1_1
                           : strcmp(cv->cv_http_version, "2") == 0 ? BWM_HTTP_VERSION_2
                                                                   : BWM_HTTP_VERSION_AUTO;
    c->f_http.hc_max_connections = (long)fw->fc_concurrency;
    return BWM_OK;
}

void bwm_fwd_conf_destroy(bwm_fwd_conf_t *c)
{
    size_t i;

    if (!c) {
        return;
    }
    for (i = 0; i < c->f_ntopics; i++) {
        free(c->f_topics[i]);
    }
    free(c->f_topics);
    free(c->f_group);
    bwm_secret_free(c->f_auth_header);
    bwm_secret_free(c->f_oauth_secret);
    bwm_secret_free(c->f_key_password);
    bwm_conf_unbind(&bwm_coreview_conf_table, &c->f_cv);
    bwm_conf_unbind(&bwm_forward_conf_table, &c->f_fw);
    free(c);
}

bwm_err_t bwm_fwd_conf_new(const bwm_conf_t *conf, bwm_fwd_conf_t **out, char *errstr,
                           size_t errstr_size)
{
    bwm_fwd_conf_t *c = calloc(1, sizeof(*c));
    bwm_err_t err;

    if (!c) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    err = bwm_conf_bind(conf, &bwm_coreview_conf_table, &c->f_cv, errstr, errstr_size);
    if (!err) {
        err = bwm_conf_bind(conf, &bwm_forward_conf_table, &c->f_fw, errstr, errstr_size);
    }
    if (!err) {
        err = check(conf, c, errstr, errstr_size);
    }
    if (err == BWM_ERR_NOMEM) {
        bwm_err_set(err, errstr, errstr_size, "out of memory");
    }
    if (err) {
        bwm_fwd_conf_destroy(c);
        return err;
    }
    *out = c;
    return BWM_OK;
}

void bwm_fwd_conf_dlq(const bwm_fwd_conf_t *c, const char *topic, char *out, size_t size)
{
    if (c->f_fw.fc_dlq_topic) {
        snprintf(out, size, "%s", c->f_fw.fc_dlq_topic);
    } else {
        snprintf(out, size, "%s.coreview.dlq", topic);
    }
}

/* Where a secret comes from, never the secret: "env:NAME", "file:/path" or "a literal". */
static const char *secret_source(const char *spec, char *out, size_t size)
{
    if (!spec) {
        return "(not set)";
    }
    if (strncmp(spec, "env:", 4) == 0 || strncmp(spec, "file:", 5) == 0) {
        snprintf(out, size, "%s", spec);
    } else {
        snprintf(out, size, "a literal value");
    }
    return out;
}

void bwm_fwd_conf_print(const bwm_fwd_conf_t *c, FILE *out)
{
    const bwm_coreview_conf_t *cv = &c->f_cv;
    const bwm_forward_conf_t *fw = &c->f_fw;
    char dlq[512], src[512];
    size_t i;
    int s;

    fprintf(out, "forward  topics");
    for (i = 0; i < c->f_ntopics; i++) {
        bwm_fwd_conf_dlq(c, c->f_topics[i], dlq, sizeof(dlq));
        fprintf(out, "%s %s (dead letters to %s)", i ? "," : "", c->f_topics[i], dlq);
    }
    fprintf(out, "\n         consumer group %s\n", c->f_group);
    fprintf(out,
            "         batches of at most %lld results and %lld bytes, linger %lld ms, %lld "
            "requests in flight\n",
            (long long)fw->fc_max_records, (long long)fw->fc_max_bytes, (long long)fw->fc_linger_ms,
            (long long)fw->fc_concurrency);
    fprintf(out, "coreview POST %s, HTTP %s, timeouts %lld ms (connect) and %lld ms (request)\n",
            cv->cv_url, cv->cv_http_version, (long long)cv->cv_connect_timeout_ms,
            (long long)cv->cv_timeout_ms);
    switch (c->f_auth) {
        case BWM_FWD_AUTH_BEARER:
            fprintf(out, "         auth: bearer token from %s\n",
                    secret_source(cv->cv_token, src, sizeof(src)));
            break;
        case BWM_FWD_AUTH_API_KEY:
            fprintf(out, "         auth: %s header from %s\n", cv->cv_api_key_header,
                    secret_source(cv->cv_api_key, src, sizeof(src)));
            break;
        case BWM_FWD_AUTH_OAUTH2:
            fprintf(out, "         auth: OAuth2 client %s at %s, secret from %s\n",
                    cv->cv_oauth_client_id, cv->cv_oauth_url,
                    secret_source(cv->cv_oauth_client_secret, src, sizeof(src)));
            break;
        default:
            fprintf(out, "         auth: none\n");
            break;
    }
    fprintf(out, "         TLS verification %s%s%s\n", cv->cv_ssl_verify ? "on" : "OFF",
            cv->cv_ssl_ca ? ", CA " : "", cv->cv_ssl_ca ? cv->cv_ssl_ca : "");
    fprintf(out,
            "         retries: backoff %lld..%lld ms with full jitter, Retry-After up to %lld ms, "
            "budget %lld ms per batch\n",
            (long long)cv->cv_backoff_ms, (long long)cv->cv_backoff_max_ms,
            (long long)cv->cv_retry_after_max_ms, (long long)cv->cv_retry_budget_ms);
    fprintf(out, "         stop on");
    for (s = 400, i = 0; s < 500; s++) {
        if (c->f_stop[s]) {
            fprintf(out, "%s %d", i++ ? "," : "", s);
        }
    }
    fprintf(out, "%s; other 4xx: %s\n", i ? "" : " nothing",
            cv->cv_split ? "split down to the records at fault" : "dead-letter the batch");
}
