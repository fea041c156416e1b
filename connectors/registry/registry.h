/*
 * registry.h: schema registries over libcurl. The Confluent REST API (by
 * schema id, and registration under a subject named by a strategy), and AWS
 * Glue's GetSchemaVersion (by schema version UUID, signed with SigV4).
 * Schemas are cached for the life of the process, so each id costs one
 * request; transport failures and 5xx are retried a bounded number of times.
 */
#ifndef BWM_REGISTRY_H
#define BWM_REGISTRY_H

#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/schema.h"

typedef struct bwm_registry_conf {
    char *rg_url;
    char *rg_user;
    char *rg_password;
    char *rg_ca;
    int rg_verify;
    char *rg_strategy;
    char *rg_glue_endpoint;
    int64_t rg_timeout_ms;
    int64_t rg_retries;
    int64_t rg_backoff_ms;     /* first pause between attempts */
    int64_t rg_backoff_max_ms; /* the doubling pause stops growing here */
    int64_t rg_max_response_bytes;
} bwm_registry_conf_t;

/* The registry.* keys. */
extern const bwm_conf_table_t bwm_registry_conf_table;

typedef struct bwm_registry bwm_registry_t;

/* Binds the registry.* and aws.* keys from conf. Caller frees with bwm_registry_destroy(). */
bwm_err_t bwm_registry_new(const bwm_conf_t *conf, bwm_registry_t **out, char *errstr,
                           size_t errstr_size);
void bwm_registry_destroy(bwm_registry_t *r);

/*
 * Returns the schema with this Confluent id, owned by the cache.
 * BWM_ERR_NOT_FOUND when the registry does not know the id (the record is
 * bad), BWM_ERR_SCHEMA when the schema is not a usable Avro record,
 * BWM_ERR_TRANSPORT when the registry could not be asked (the record may be
 * fine: retry later).
 */
bwm_err_t bwm_registry_get(bwm_registry_t *r, int32_t id, const bwm_schema_t **out, char *errstr,
                           size_t errstr_size);

/* Returns the schema of a Glue schema version id, as bwm_registry_get() does. */
bwm_err_t bwm_registry_get_glue(bwm_registry_t *r, const uint8_t uuid[16], const bwm_schema_t **out,
                                char *errstr, size_t errstr_size);

/*
 * The subject a record of record_name (a full name) on topic is registered
 * under, by registry.subject.strategy: topic (<topic>-value), record
 * (<record name>) or topic_record (<topic>-<record name>).
 */
void bwm_registry_subject(const bwm_registry_t *r, const char *topic, const char *record_name,
                          char *out, size_t size);

/*
 * Reads the latest schema registered under subject into *json (a new string
 * the caller frees). BWM_ERR_NOT_FOUND when the subject has none.
 */
bwm_err_t bwm_registry_latest(bwm_registry_t *r, const char *subject, char **json, char *errstr,
                              size_t errstr_size);

/* Registers schema_json under subject (or finds it there) and returns its id. */
bwm_err_t bwm_registry_register(bwm_registry_t *r, const char *subject, const char *schema_json,
                                int32_t *id, char *errstr, size_t errstr_size);

#endif
