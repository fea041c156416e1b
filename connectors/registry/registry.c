/*
 * registry.c: GET /schemas/ids/{id} and POST /subjects/{subject}/versions,
 * with bounded retries on transport errors and 5xx, a cap on the response
 * size, and basic auth.
 */
#include "connectors/registry/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "connectors/log.h"
#include "connectors/secret.h"

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
    CONF_DEF("registry.timeout.ms", BWM_CONF_INT, "10000", 1, 600000, rg_timeout_ms,
             "timeout of one registry request"),
    CONF_DEF("registry.retries", BWM_CONF_INT, "3", 0, 100, rg_retries,
             "retries of a request that failed in transport or with a 5xx"),
    CONF_DEF("registry.max.response.bytes", BWM_CONF_INT, "4194304", 1024, 1073741824,
             rg_max_response_bytes, "largest registry response accepted"),
};

const bwm_conf_table_t bwm_registry_conf_table = {"registry", registry_defs,
                                                  sizeof(registry_defs) / sizeof(registry_defs[0])};

typedef struct cached_schema {
    int32_t cs_id;
    bwm_schema_t *cs_schema;
} cached_schema_t;

struct bwm_registry {
    bwm_registry_conf_t r_conf;
    char *r_password;
    CURL *r_curl;
    struct curl_slist *r_headers;
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
    curl_slist_free_all(r->r_headers);
    for (i = 0; i < r->r_ncache; i++) {
        bwm_schema_destroy(r->r_cache[i].cs_schema);
    }
    free(r->r_cache);
    bwm_buf_free(&r->r_body);
    bwm_secret_free(r->r_password);
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
    r->r_headers = curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json");
    r->r_headers =
        curl_slist_append(r->r_headers, "Content-Type: application/vnd.schemaregistry.v1+json");
    if (!r->r_curl || !r->r_headers) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "cannot set up libcurl");
        goto err;
    }
    curl_easy_setopt(r->r_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->r_curl, CURLOPT_TIMEOUT_MS, (long)r->r_conf.rg_timeout_ms);
    curl_easy_setopt(r->r_curl, CURLOPT_HTTPHEADER, r->r_headers);
    curl_easy_setopt(r->r_curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->r_curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->r_curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->r_conf.rg_user) {
        curl_easy_setopt(r->r_curl, CURLOPT_USERNAME, r->r_conf.rg_user);
        curl_easy_setopt(r->r_curl, CURLOPT_PASSWORD, r->r_password ? r->r_password : "");
    }
    *out = r;
    return BWM_OK;
err:
    bwm_registry_destroy(r);
    return err;
}

/*
 * Performs one request (POST when body is set) and returns the HTTP status,
 * retrying transport failures and 5xx with a doubling pause. The response
 * body is in r->r_body, NUL-terminated.
 */
static bwm_err_t request(bwm_registry_t *r, const char *path, const char *body, long *status,
                         char *errstr, size_t errstr_size)
{
    char url[2048];
    int attempt;
    long pause_ms = 100;

    snprintf(url, sizeof(url), "%s%s", r->r_conf.rg_url, path);
    curl_easy_setopt(r->r_curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(r->r_curl, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(r->r_curl, CURLOPT_HTTPGET, 1L);
    }
    for (attempt = 0;; attempt++) {
        CURLcode rc;

        bwm_buf_reset(&r->r_body);
        r->r_overflow = 0;
        rc = curl_easy_perform(r->r_curl);
        *status = 0;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(r->r_curl, CURLINFO_RESPONSE_CODE, status);
        }
        if (r->r_overflow) {
            return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size,
                               "registry response to %s is larger than registry.max.response."
                               "bytes (%lld)",
                               path, (long long)r->r_conf.rg_max_response_bytes);
        }
        if (rc == CURLE_OK && *status < 500) {
            break;
        }
        if (attempt >= r->r_conf.rg_retries) {
            if (rc != CURLE_OK) {
                return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size, "schema registry %s: %s",
                                   url, curl_easy_strerror(rc));
            }
            return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                               "schema registry %s: HTTP %ld", url, *status);
        }
        BWM_LOG(BWM_LOG_WARN, BWM_FAC_REGISTRY, "%s: %s; retrying in %ld ms", url,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "server error", pause_ms);
        {
            struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};

            nanosleep(&ts, NULL);
        }
        pause_ms *= 2;
    }
    bwm_buf_put_u8(&r->r_body, 0);
    if (r->r_body.b_failed) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}

/* The "message" of a registry error body, or the body itself. */
static const char *error_message(bwm_registry_t *r, char *out, size_t size)
{
    json_t *doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    json_t *msg = json_object_get(doc, "message");

    snprintf(out, size, "%s",
             json_is_string(msg) ? json_string_value(msg) : (const char *)r->r_body.b_data);
    json_decref(doc);
    return out;
}

bwm_err_t bwm_registry_get(bwm_registry_t *r, int32_t id, const bwm_schema_t **out, char *errstr,
                           size_t errstr_size)
{
    char path[64], msg[256];
    long status;
    json_t *doc, *schema;
    bwm_schema_t *s;
    cached_schema_t *cache;
    size_t i;
    bwm_err_t err;

    for (i = 0; i < r->r_ncache; i++) {
        if (r->r_cache[i].cs_id == id) {
            *out = r->r_cache[i].cs_schema;
            return BWM_OK;
        }
    }
    snprintf(path, sizeof(path), "/schemas/ids/%d", (int)id);
    err = request(r, path, NULL, &status, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (status == 404) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "schema id %d is not in the registry (%s)", (int)id,
                           error_message(r, msg, sizeof(msg)));
    }
    if (status != 200) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "schema registry GET %s: HTTP %ld: %s", path, status,
                           error_message(r, msg, sizeof(msg)));
    }
    doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    schema = json_object_get(doc, "schema");
    if (!json_is_string(schema)) {
        json_decref(doc);
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "schema registry GET %s: no \"schema\" in the reply", path);
    }
    s = bwm_schema_parse(json_string_value(schema), json_string_length(schema), errstr,
                         errstr_size);
    json_decref(doc);
    if (!s) {
        return BWM_ERR_SCHEMA;
    }
    cache = realloc(r->r_cache, (r->r_ncache + 1) * sizeof(*cache));
    if (!cache) {
        bwm_schema_destroy(s);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    r->r_cache = cache;
    cache[r->r_ncache].cs_id = id;
    cache[r->r_ncache].cs_schema = s;
    r->r_ncache++;
    BWM_LOG(BWM_LOG_DEBUG, BWM_FAC_REGISTRY, "schema id %d is %s", (int)id, bwm_schema_name(s));
    *out = s;
    return BWM_OK;
}

bwm_err_t bwm_registry_latest(bwm_registry_t *r, const char *subject, char **json, char *errstr,
                              size_t errstr_size)
{
    char path[1024], msg[256];
    char *esc = curl_easy_escape(r->r_curl, subject, 0);
    json_t *doc, *schema;
    long status;
    bwm_err_t err;

    if (!esc) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    snprintf(path, sizeof(path), "/subjects/%s/versions/latest", esc);
    curl_free(esc);
    err = request(r, path, NULL, &status, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (status == 404) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size,
                           "subject %s has no schema in the registry (%s)", subject,
                           error_message(r, msg, sizeof(msg)));
    }
    if (status != 200) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "schema registry GET %s: HTTP %ld: %s", path, status,
                           error_message(r, msg, sizeof(msg)));
    }
    doc = json_loads((const char *)r->r_body.b_data, 0, NULL);
    schema = json_object_get(doc, "schema");
    *json = json_is_string(schema) ? strdup(json_string_value(schema)) : NULL;
    json_decref(doc);
    if (!*json) {
        return bwm_err_set(BWM_ERR_TRANSPORT, errstr, errstr_size,
                           "schema registry GET %s: no \"schema\" in the reply", path);
    }
    return BWM_OK;
}

bwm_err_t bwm_registry_register(bwm_registry_t *r, const char *subject, const char *schema_json,
                                int32_t *id, char *errstr, size_t errstr_size)
{
    char path[1024], msg[256];
    char *esc = curl_easy_escape(r->r_curl, subject, 0);
    json_t *req = json_pack("{ss}", "schema", schema_json), *doc, *jid;
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    long status;
    bwm_err_t err;

    json_decref(req);
    if (!esc || !body) {
        curl_free(esc);
        free(body);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    snprintf(path, sizeof(path), "/subjects/%s/versions", esc);
    curl_free(esc);
    err = request(r, path, body, &status, errstr, errstr_size);
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
