/*
 * registry.c: the Confluent REST calls (GET /schemas/ids/{id}, GET
 * /subjects/{s}/versions/latest, POST /subjects/{s}/versions) and Glue's
 * GetSchemaVersion (POST with X-Amz-Target, signed by libcurl's SigV4), with
 * bounded retries on transport errors and 5xx, a cap on the response size,
 * basic auth and TLS verification against a configurable CA.
 */
#include "connectors/registry/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/aws/aws.h"
#include "connectors/log.h"
#include "connectors/secret.h"
#include "core/buf.h"
#include "core/framing.h"

#define CONF_DEF(name, type, def, min, max, field, desc)                                           \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_registry_conf_t, field), 0, desc             \
    }

static const bwm_conf_def_t registry_defs[] = {
    CONF_DEF("registry.url", BWM_CONF_STR, "http://127.0.0.1:8081", 0, 0, rg_url,
             "schema registry base URL (Confluent REST API)"),
    CONF_DEF("registry.basic.auth.user", BWM_CONF_STR, NULL, 0, 0, rg_user,
             "user for HTTP basic auth"),
    CONF_DEF("registry.basic.auth.password", BWM_CONF_SECRET, NULL, 0, 0, rg_password,
             "password for HTTP basic auth"),
    CONF_DEF("registry.ssl.ca.location", BWM_CONF_STR, NULL, 0, 0, rg_ca,
             "CA bundle (PEM) to verify the registry's certificate; default: the system's"),
    CONF_DEF("registry.ssl.verify", BWM_CONF_BOOL, "true", 0, 0, rg_verify,
             "verify the registry's TLS certificate and host name"),
    {"registry.subject.strategy", BWM_CONF_ENUM, "topic", 0, 0, "topic|record|topic_record",
     offsetof(bwm_registry_conf_t, rg_strategy), 0,
     "subject of a topic's schemas: <topic>-value, <record name> or <topic>-<record name>"},
    CONF_DEF("registry.glue.endpoint", BWM_CONF_STR, NULL, 0, 0, rg_glue_endpoint,
             "AWS Glue endpoint for Glue-framed records; default https://glue.<aws.region>."
             "amazonaws.com"),
    CONF_DEF("registry.timeout.ms", BWM_CONF_INT, "10000", 1, 600000, rg_timeout_ms,
             "timeout of one registry request"),
    CONF_DEF("registry.retries", BWM_CONF_INT, "3", 0, 100, rg_retries,
             "retries of a request that failed in transport or with a 5xx"),
    CONF_DEF("registry.retry.backoff.ms", BWM_CONF_INT, "100", 1, 60000, rg_backoff_ms,
             "pause before the first retry; it doubles with each retry"),
    CONF_DEF("registry.retry.backoff.max.ms", BWM_CONF_INT, "5000", 1, 600000, rg_backoff_max_ms,
             "longest pause between retries"),
    CONF_DEF("registry.max.response.bytes", BWM_CONF_INT, "4194304", 1024, 1073741824,
             rg_max_response_bytes, "largest registry response accepted"),
};

const bwm_conf_table_t bwm_registry_conf_table = {"registry", registry_defs,
                                                  sizeof(registry_defs) / sizeof(registry_defs[0])};

typedef struct cached_schema {
    int cs_glue;         /* a Glue schema version, else a Confluent id */
    int32_t cs_id;       /* Confluent id */
    uint8_t cs_uuid[16]; /* Glue schema version id */
    bwm_schema_t *cs_schema;
} cached_schema_t;

struct bwm_registry {
    bwm_registry_conf_t r_conf;
    bwm_aws_t r_aws;
    char *r_password;
    CURL *r_curl;
    bwm_buf_t r_body;
    int r_overflow;
    cached_schema_t *r_cache;
    size_t r_ncache;
};

void bwm_registry_destroy(bwm_registry_t *r)
{
    size_t i;

    if (!r) {
        return;
    }
    if (r->r_curl) {
        curl_easy_cleanup(r->r_curl);
    }
    for (i = 0; i < r->r_ncache; i++) {
        bwm_schema_destroy(r->r_cache[i].cs_schema);
    }
    free(r->r_cache);
    bwm_buf_free(&r->r_body);
    bwm_secret_free(r->r_password);
    bwm_aws_free(&r->r_aws);
    bwm_conf_unbind(&bwm_registry_conf_table, &r->r_conf);
    free(r);
}

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    bwm_registry_t *r = opaque;

    if (r->r_body.b_len + n > (size_t)r->r_conf.rg_max_response_bytes) {
        r->r_overflow = 1;
        return 0;
    }
    bwm_buf_put(&r->r_body, p, size * n);
    return r->r_body.b_failed ? 0 : size * n;
}

bwm_err_t bwm_registry_new(const bwm_conf_t *conf, bwm_registry_t **out, char *errstr,
                           size_t errstr_size)
{
    bwm_registry_t *r = calloc(1, sizeof(*r));
    bwm_err_t err;

    if (!r) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    err = bwm_conf_bind(conf, &bwm_registry_conf_table, &r->r_conf, errstr, errstr_size);
    if (!err) {
        err = bwm_aws_load(conf, &r->r_aws, errstr, errstr_size);
    }
    if (err) {
        goto err;
    }
    if (strncmp(r->r_conf.rg_url, "http://", 7) != 0 &&
        strncmp(r->r_conf.rg_url, "https://", 8) != 0) {
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                          "registry.url must start with http:// or https://, got '%s'",
                          r->r_conf.rg_url);
        goto err;
    }
    if (r->r_conf.rg_password) {
        err = bwm_secret_resolve("registry.basic.auth.password", r->r_conf.rg_password,
                                 &r->r_password, errstr, errstr_size);
        if (err) {
            goto err;
        }
    }
    r->r_curl = curl_easy_init();
    if (!r->r_curl) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "cannot set up libcurl");
        goto err;
    }
    *out = r;
    return BWM_OK;
err:
    bwm_registry_destroy(r);
    return err;
}

/* One request's shape: where, what, and how it is authenticated. */
typedef struct req {
    const char *rq_url;
    const char *rq_body;     /* NULL: GET */
    const char *rq_target;   /* X-Amz-Target: a Glue call, signed with SigV4 */
    const char *rq_describe; /* for messages */
} req_t;

/* Sets the options of one attempt; the easy handle keeps its connection between requests. */
static struct curl_slist *prepare(bwm_registry_t *r, const req_t *rq)
{
    struct curl_slist *h = NULL;
    char line[4096];

    curl_easy_reset(r->r_curl);
    curl_easy_setopt(r->r_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->r_curl, CURLOPT_URL, rq->rq_url);
    curl_easy_setopt(r->r_curl, CURLOPT_TIMEOUT_MS, (long)r->r_conf.rg_timeout_ms);
    curl_easy_setopt(r->r_curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->r_curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->r_curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->r_curl, CURLOPT_SSL_VERIFYPEER, (long)r->r_conf.rg_verify);
    curl_easy_setopt(r->r_curl, CURLOPT_SSL_VERIFYHOST, r->r_conf.rg_verify ? 2L : 0L);
    if (r->r_conf.rg_ca) {
        curl_easy_setopt(r->r_curl, CURLOPT_CAINFO, r->r_conf.rg_ca);
    }
    if (rq->rq_body) {
        curl_easy_setopt(r->r_curl, CURLOPT_POSTFIELDS, rq->rq_body);
    }
    if (rq->rq_target) {
        snprintf(line, sizeof(line), "X-Amz-Target: %s", rq->rq_target);
        h = curl_slist_append(h, line);
        h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
        if (r->r_aws.aw_access_key_id && r->r_aws.aw_secret_access_key) {
            snprintf(line, sizeof(line), "aws:amz:%s:glue",
                     r->r_aws.aw_region ? r->r_aws.aw_region : "us-east-1");
            curl_easy_setopt(r->r_curl, CURLOPT_AWS_SIGV4, line);
            curl_easy_setopt(r->r_curl, CURLOPT_USERNAME, r->r_aws.aw_access_key_id);
            curl_easy_setopt(r->r_curl, CURLOPT_PASSWORD, r->r_aws.aw_secret_access_key);
            if (r->r_aws.aw_session_token) {
                snprintf(line, sizeof(line), "X-Amz-Security-Token: %s", r->r_aws.aw_session_token);
                h = curl_slist_append(h, line);
            }
        }
    } else {
        h = curl_slist_append(h, "Accept: application/vnd.schemaregistry.v1+json");
        h = curl_slist_append(h, "Content-Type: application/vnd.schemaregistry.v1+json");
        if (r->r_conf.rg_user) {
            curl_easy_setopt(r->r_curl, CURLOPT_USERNAME, r->r_conf.rg_user);
            curl_easy_setopt(r->r_curl, CURLOPT_PASSWORD, r->r_password ? r->r_password : "");
        }
    }
    curl_easy_setopt(r->r_curl, CURLOPT_HTTPHEADER, h);
    return h;
}

/*
 * Performs a request and returns the HTTP status, retrying transport failures
 * and 5xx with a doubling pause (registry.retry.backoff.ms up to
 * registry.retry.backoff.max.ms). The response body is in r->r_body,
 * NUL-terminated.
 */
static bwm_err_t request(bwm_registry_t *r, const req_t *rq, long *status, char *errstr,
                         size_t errstr_size)
{
    int64_t pause_ms = r->r_conf.rg_backoff_ms < r->r_conf.rg_backoff_max_ms
                           ? r->r_conf.rg_backoff_ms
                           : r->r_conf.rg_backoff_max_ms;
    int attempt;

    for (attempt = 0;; attempt++) {
        struct curl_slist *h = prepare(r, rq);
        CURLcode rc;

        bwm_buf_reset(&r->r_body);
        r->r_overflow = 0;
        rc = curl_easy_perform(r->r_curl);
        curl_slist_free_all(h);
        *status = 0;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(r->r_curl, CURLINFO_RESPONSE_CODE, status);
        }
        if (r->r_overflow) {
            return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size,
                               "%s: the response is larger than registry.max.response.bytes "
                               "(%lld)",
                               rq->rq_describe, (long long)r->r_conf.rg_max_response_bytes);
        }
        if (rc == CURLE_OK && *status < 500) {
            break;
        }
        if (attempt >= r->r_conf.rg_retries) {
            if (rc != CURLE_OK) {
                return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                                   "%s: %s (%d attempts, registry.retries)", rq->rq_describe,
                                   curl_easy_strerror(rc), attempt + 1);
            }
            return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                               "%s: HTTP %ld (%d attempts, registry.retries)", rq->rq_describe,
                               *status, attempt + 1);
        }
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_REGISTRY, "%s: %s; retrying in %lld ms", rq->rq_describe,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "server error", (long long)pause_ms);
        {
            struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};

            nanosleep(&ts, NULL);
        }
        pause_ms =
            pause_ms > r->r_conf.rg_backoff_max_ms / 2 ? r->r_conf.rg_backoff_max_ms : pause_ms * 2;
    }
    bwm_buf_put_u8(&r->r_body, 0);
    if (r->r_body.b_failed) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}

/* The "message" of an error body (Confluent and AWS spell it alike), or the body itself. */
static const char *error_message(bwm_registry_t *r, char *out, size_t size)
{
    json_t *doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    json_t *msg = json_object_get(doc, "message");

    if (!msg) {
        msg = json_object_get(doc, "Message");
    }
    snprintf(out, size, "%s",
             json_is_string(msg) ? json_string_value(msg) : (const char *)r->r_body.b_data);
    json_decref(doc);
    return out;
}

/* Parses a fetched schema and keeps it in the cache. */
static bwm_err_t cache_schema(bwm_registry_t *r, int32_t id, const uint8_t *uuid, const char *text,
                              size_t len, const bwm_schema_t **out, char *errstr,
                              size_t errstr_size)
{
    bwm_schema_t *s = bwm_schema_parse(text, len, errstr, errstr_size);
    cached_schema_t *cache;

    if (!s) {
        return BWM_ERR_SCHEMA;
    }
    cache = realloc(r->r_cache, (r->r_ncache + 1) * sizeof(*cache));
    if (!cache) {
        bwm_schema_destroy(s);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    r->r_cache = cache;
    cache[r->r_ncache].cs_glue = uuid != NULL;
    cache[r->r_ncache].cs_id = id;
    memset(cache[r->r_ncache].cs_uuid, 0, 16);
    if (uuid) {
        memcpy(cache[r->r_ncache].cs_uuid, uuid, 16);
    }
    cache[r->r_ncache].cs_schema = s;
    r->r_ncache++;
    *out = s;
    return BWM_OK;
}

/* The string member name of the reply body, or NULL. */
static json_t *reply_string(bwm_registry_t *r, json_t **doc, const char *name)
{
    json_t *v;

    *doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    v = json_object_get(*doc, name);
    return json_is_string(v) ? v : NULL;
}

bwm_err_t bwm_registry_get(bwm_registry_t *r, int32_t id, const bwm_schema_t **out, char *errstr,
                           size_t errstr_size)
{
    char url[2048], msg[256];
    req_t rq = {url, NULL, NULL, url};
    json_t *doc, *schema;
    long status;
    size_t i;
    bwm_err_t err;

    for (i = 0; i < r->r_ncache; i++) {
        if (!r->r_cache[i].cs_glue && r->r_cache[i].cs_id == id) {
            *out = r->r_cache[i].cs_schema;
            return BWM_OK;
        }
    }
    snprintf(url, sizeof(url), "%s/schemas/ids/%d", r->r_conf.rg_url, (int)id);
    err = request(r, &rq, &status, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (status == 404) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "schema id %d is not in the registry (%s)", (int)id,
                           error_message(r, msg, sizeof(msg)));
    }
    if (status != 200) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "GET %s: HTTP %ld: %s", url,
                           status, error_message(r, msg, sizeof(msg)));
    }
    schema = reply_string(r, &doc, "schema");
    err = schema ? cache_schema(r, id, NULL, json_string_value(schema), json_string_length(schema),
                                out, errstr, errstr_size)
                 : bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                               "GET %s: no \"schema\" in the reply", url);
    json_decref(doc);
    if (!err) {
        BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_REGISTRY, "schema id %d is %s", (int)id,
                bwm_schema_name(*out));
    }
    return err;
}

bwm_err_t bwm_registry_get_glue(bwm_registry_t *r, const uint8_t uuid[16], const bwm_schema_t **out,
                                char *errstr, size_t errstr_size)
{
    char url[1024], body[128], text[37], describe[128], msg[256];
    req_t rq = {url, body, "AWSGlue.GetSchemaVersion", describe};
    json_t *doc, *def, *fmt;
    long status;
    size_t i;
    bwm_err_t err;

    for (i = 0; i < r->r_ncache; i++) {
        if (r->r_cache[i].cs_glue && memcmp(r->r_cache[i].cs_uuid, uuid, 16) == 0) {
            *out = r->r_cache[i].cs_schema;
            return BWM_OK;
        }
    }
    bwm_uuid_text(uuid, text);
    if (r->r_conf.rg_glue_endpoint) {
        snprintf(url, sizeof(url), "%s", r->r_conf.rg_glue_endpoint);
    } else if (r->r_aws.aw_region) {
        snprintf(url, sizeof(url), "https://glue.%s.amazonaws.com/", r->r_aws.aw_region);
    } else {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "Glue schema version %s: no Glue endpoint is configured (set "
                           "aws.region or registry.glue.endpoint)",
                           text);
    }
    snprintf(body, sizeof(body), "{\"SchemaVersionId\":\"%s\"}", text);
    snprintf(describe, sizeof(describe), "Glue GetSchemaVersion %s", text);
    err = request(r, &rq, &status, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (status == 400 && strstr((const char *)r->r_body.b_data, "EntityNotFoundException")) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "Glue schema version %s does not exist (%s)", text,
                           error_message(r, msg, sizeof(msg)));
    }
    if (status != 200) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "%s: HTTP %ld: %s", describe,
                           status, error_message(r, msg, sizeof(msg)));
    }
    def = reply_string(r, &doc, "SchemaDefinition");
    fmt = json_object_get(doc, "DataFormat");
    if (json_is_string(fmt) && strcmp(json_string_value(fmt), "AVRO") != 0) {
        err = bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size,
                          "Glue schema version %s is %s, not AVRO", text, json_string_value(fmt));
    } else if (!def) {
        err = bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                          "%s: no \"SchemaDefinition\" in the reply", describe);
    } else {
        err = cache_schema(r, 0, uuid, json_string_value(def), json_string_length(def), out, errstr,
                           errstr_size);
    }
    json_decref(doc);
    return err;
}

void bwm_registry_subject(const bwm_registry_t *r, const char *topic, const char *record_name,
                          char *out, size_t size)
{
    if (strcmp(r->r_conf.rg_strategy, "record") == 0) {
        snprintf(out, size, "%s", record_name);
    } else if (strcmp(r->r_conf.rg_strategy, "topic_record") == 0) {
        snprintf(out, size, "%s-%s", topic, record_name);
    } else {
        snprintf(out, size, "%s-value", topic);
    }
}

bwm_err_t bwm_registry_latest(bwm_registry_t *r, const char *subject, char **json, char *errstr,
                              size_t errstr_size)
{
    char url[2048], msg[256];
    char *esc = curl_easy_escape(r->r_curl, subject, 0);
    req_t rq = {url, NULL, NULL, url};
    json_t *doc, *schema;
    long status;
    bwm_err_t err;

    if (!esc) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    snprintf(url, sizeof(url), "%s/subjects/%s/versions/latest", r->r_conf.rg_url, esc);
    curl_free(esc);
    err = request(r, &rq, &status, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (status == 404) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "subject %s has no schema in the registry (%s)", subject,
                           error_message(r, msg, sizeof(msg)));
    }
    if (status != 200) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "GET %s: HTTP %ld: %s", url,
                           status, error_message(r, msg, sizeof(msg)));
    }
    schema = reply_string(r, &doc, "schema");
    *json = schema ? strdup(json_string_value(schema)) : NULL;
    json_decref(doc);
    if (!*json) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "GET %s: no \"schema\" in the reply", url);
    }
    return BWM_OK;
}

bwm_err_t bwm_registry_register(bwm_registry_t *r, const char *subject, const char *schema_json,
                                int32_t *id, char *errstr, size_t errstr_size)
{
    char url[2048], msg[256];
    char *esc = curl_easy_escape(r->r_curl, subject, 0);
    json_t *req = json_pack("{ss}", "schema", schema_json), *doc, *jid;
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    req_t rq = {url, body, NULL, url};
    long status;
    bwm_err_t err;

    json_decref(req);
    if (!esc || !body) {
        curl_free(esc);
        free(body);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    snprintf(url, sizeof(url), "%s/subjects/%s/versions", r->r_conf.rg_url, esc);
    curl_free(esc);
    err = request(r, &rq, &status, errstr, errstr_size);
    free(body);
    if (err) {
        return err;
    }
    if (status != 200) {
        return bwm_err_set(status == 409 || status == 422 ? BWM_ERR_SCHEMA : BWM_ERR_TRANSPORT,
                           errstr, errstr_size, "registering under subject %s: HTTP %ld: %s",
                           subject, status, error_message(r, msg, sizeof(msg)));
    }
    doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    jid = json_object_get(doc, "id");
    if (!json_is_integer(jid)) {
        json_decref(doc);
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "registering under subject %s: no id in the reply", subject);
    }
    *id = (int32_t)json_integer_value(jid);
    json_decref(doc);
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_REGISTRY, "subject %s has the schema as id %d", subject,
            (int)*id);
    return BWM_OK;
}
