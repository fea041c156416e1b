/*
 * job.c: the job's configuration table, and loading a job: its SQL file, its
 * input schema and its plan.
 */
#include "cmd/job.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "connectors/log.h"
#include "connectors/registry/registry.h"
#include "core/sql.h"

#define DEF(name, type, def, min, max, field, req, desc)                                           \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_job_conf_t, field), req, desc                \
    }
#define ENUM(name, def, words, field, desc)                                                        \
    {                                                                                              \
        name, BWM_CONF_ENUM, def, 0, 0, words, offsetof(bwm_job_conf_t, field), 0, desc            \
    }

static const bwm_conf_def_t job_defs[] = {
    DEF("job", BWM_CONF_STR, NULL, 0, 0, jc_path, 1,
        "the job file (.sql), relative to the configuration file"),
    DEF("source.topic", BWM_CONF_STR, NULL, 0, 0, jc_source_topic, 0,
        "input topic; default: the topic of the job's stream"),
    DEF("sink.topic", BWM_CONF_STR, NULL, 0, 0, jc_sink_topic, 0,
        "result topic; default: the topic of the job's query"),
    DEF("source.max.record.bytes", BWM_CONF_INT, "1048576", 16, 1073741824, jc_max_record_bytes, 0,
        "larger input records go to the dead-letter topic (reason limit)"),
    DEF("source.max.string.bytes", BWM_CONF_INT, "1048576", 1, 1073741824, jc_max_string_bytes, 0,
        "longest string, bytes or fixed in an input record (reason limit)"),
    DEF("source.max.items", BWM_CONF_INT, "1000000", 1, 1000000000, jc_max_items, 0,
        "most array items plus map entries in an input record (reason limit)"),
    DEF("source.max.depth", BWM_CONF_INT, "64", 1, 1000, jc_max_depth, 0,
        "deepest nesting of records, arrays, maps and unions in an input record (reason limit)"),
    DEF("job.max.key.bytes", BWM_CONF_INT, "1024", 1, 65536, jc_max_key_bytes, 0,
        "longer group keys go to the dead-letter topic (reason limit)"),
    DEF("job.eval.memory.bytes", BWM_CONF_INT, "16777216", 4096, 1073741824, jc_eval_bytes, 0,
        "memory for strings one record's expressions make; beyond it the record is dead-lettered"),
    DEF("state.namespace", BWM_CONF_STR, NULL, 0, 0, jc_namespace, 0,
        "state namespace in Redis; default: the name of the job's query"),
    DEF("dlq.topic", BWM_CONF_STR, NULL, 0, 0, jc_dlq_topic, 0,
        "dead-letter topic; default: <input topic>.dlq"),
    DEF("source.fetch.wake.ms", BWM_CONF_INT, "2", 0, 60000, jc_fetch_wake_ms, 0,
        "librdkafka 2.0 idles up to a second once its queue is full: wake its fetchers when the "
        "queue has drained, at most this often (0: never)"),
    DEF("commit.interval.ms", BWM_CONF_INT, "1000", 1, 3600000, jc_commit_interval_ms, 0,
        "longest time records wait in a batch before it is committed"),
    DEF("commit.max.records", BWM_CONF_INT, "10000", 1, 10000000, jc_commit_max_records, 0,
        "most records in one batch"),
    DEF("commit.round.records", BWM_CONF_INT, "10000", 1, 10000000, jc_round_records, 0,
        "a partition applies its staged records every this many, so that memory holds a round, "
        "not the batch; results and commits stay one per batch"),
    DEF("commit.max.bytes", BWM_CONF_INT, "67108864", 1024, 4294967296, jc_commit_max_bytes, 0,
        "most bytes of input records in one batch"),
    DEF("state.cache.max.entries", BWM_CONF_INT, "100000", 0, 1000000000, jc_cache_entries, 0,
        "most keys' states held in memory, over all partitions (0: no limit); clean ones beyond "
        "it are evicted after each commit"),
    DEF("state.cache.max.bytes", BWM_CONF_INT, "268435456", 0, 1099511627776, jc_cache_bytes, 0,
        "most bytes of states held in memory, over all partitions (0: no limit)"),
    DEF("state.retention.ms", BWM_CONF_INT, "0", 0, 31536000000, jc_retention_ms, 0,
        "windowed jobs: how long a closed window's final state stays in Redis (0: deleted at "
        "close)"),
    DEF("retry.backoff.ms", BWM_CONF_INT, "100", 1, 60000, jc_retry_backoff_ms, 0,
        "first pause after Redis, Kafka or the registry failed; it doubles with each failure"),
    DEF("retry.backoff.max.ms", BWM_CONF_INT, "5000", 1, 600000, jc_retry_backoff_max_ms, 0,
        "longest pause between attempts"),
    DEF("retry.max.ms", BWM_CONF_INT, "300000", 0, 86400000, jc_retry_max_ms, 0,
        "how long Redis, Kafka or the registry may keep failing, at start or while running, "
        "before bwm gives up and exits 1"),
    DEF("topics.create", BWM_CONF_BOOL, "true", 0, 0, jc_topics_create, 0,
        "create the result and dead-letter topics when missing"),
    DEF("topics.replication.factor", BWM_CONF_INT, "-1", -1, 32, jc_topics_replication, 0,
        "replication factor of created topics; -1: the broker's default"),
    DEF("shutdown.timeout.ms", BWM_CONF_INT, "30000", 100, 3600000, jc_shutdown_timeout_ms, 0,
        "longest wait for records in flight when stopping"),
    DEF("runtime.timeout.ms", BWM_CONF_INT, "30000", 100, 3600000, jc_timeout_ms, 0,
        "timeout of Kafka metadata, admin and delivery waits"),
    ENUM("log.level", "info", "err|warn|notice|info|debug", jc_log_level, "log level"),
    DEF("log.debug", BWM_CONF_STR, "", 0, 0, jc_log_debug, 0,
        "debug facilities: main,kafka,state,registry,http or all"),
};

const bwm_conf_table_t bwm_job_conf_table = {"job", job_defs,
                                             sizeof(job_defs) / sizeof(job_defs[0])};

void bwm_job_destroy(bwm_job_t *j)
{
    if (!j) {
        return;
    }
    bwm_plan_destroy(j->j_plan);
    bwm_schema_destroy(j->j_input_schema);
    bwm_script_destroy(j->j_script);
    bwm_conf_unbind(&bwm_job_conf_table, &j->j_conf);
    free(j->j_schema_source);
    free(j->j_file);
    free(j->j_text);
    free(j);
}

/* Namespaces become part of Redis keys: keep them to a safe alphabet. */
static int namespace_ok(const char *ns)
{
    size_t i;

    if (!ns[0] || strlen(ns) > 200) {
        return 0;
    }
    for (i = 0; ns[i]; i++) {
        char c = ns[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

/* Formats a parse or plan error with the job file's line and a caret. */
static bwm_err_t sql_error(const bwm_job_t *j, const bwm_sql_error_t *se, char *errstr,
                           size_t errstr_size)
{
    bwm_buf_t b;

    bwm_buf_init(&b);
    bwm_sql_error_format(se, j->j_text, j->j_len, j->j_file, &b);
    bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s",
                b.b_failed ? se->se_message : (const char *)b.b_data);
    bwm_buf_free(&b);
    return BWM_ERR_INVALID;
}

/* The input's schema: from the stream's schema file, or the registry's latest. */
static bwm_err_t load_input_schema(bwm_job_t *j, const bwm_conf_t *conf,
                                   const bwm_stream_info_t *si, const char *topic, char *errstr,
                                   size_t errstr_size)
{
    char *text = NULL, msg[512], subject[512];
    size_t len = 0;
    bwm_err_t err;

    if (si->si_schema) {
        const char *slash = strrchr(j->j_file, '/');
        char *dir = slash ? strndup(j->j_file, (size_t)(slash - j->j_file)) : NULL;
        char *path = bwm_cli_path(dir, si->si_schema);

        free(dir);
        if (!path) {
            return BWM_ERR_NOMEM;
        }
        err = bwm_cli_read_file(path, 1 << 20, &text, &len, msg, sizeof(msg));
        j->j_schema_source = path;
        if (err) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s: schema of stream %s: %s",
                               j->j_file, si->si_name, msg);
        }
    } else {
        bwm_registry_t *reg = NULL;

        err = bwm_registry_new(conf, &reg, errstr, errstr_size);
        if (err) {
            return err;
        }
        if (si->si_subject) {
            snprintf(subject, sizeof(subject), "%s", si->si_subject);
        } else {
            /* The record's name is not known yet: topic strategy, <topic>-value. */
            snprintf(subject, sizeof(subject), "%s-value", topic);
        }
        err = bwm_registry_latest(reg, subject, &text, msg, sizeof(msg));
        bwm_registry_destroy(reg);
        if (err) {
            return bwm_err_set(err == BWM_ERR_NOT_FOUND ? BWM_ERR_INVALID : err, errstr,
                               errstr_size,
                               "%s: stream %s names no schema file, and the registry has none: "
                               "%s (add schema = 'file.avsc' or subject = '...' to its WITH "
                               "clause, or register one)",
                               j->j_file, si->si_name, msg);
        }
        len = strlen(text);
        j->j_schema_source = strdup(subject);
    }
    j->j_input_schema = bwm_schema_parse(text, len, msg, sizeof(msg));
    free(text);
    if (!j->j_input_schema) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "schema of stream %s (%s): %s",
                           si->si_name, j->j_schema_source ? j->j_schema_source : "?", msg);
    }
    return BWM_OK;
}

/* Replaces *field with a copy of value when value is set. */
static int override(char **field, const char *value)
{
    char *copy;

    if (!value) {
        return 0;
    }
    copy = strdup(value);
    if (!copy) {
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

bwm_err_t bwm_job_new(const bwm_conf_t *conf, const char *dir, bwm_job_t **out, char *errstr,
                      size_t errstr_size)
{
    bwm_job_t *j = calloc(1, sizeof(*j));
    bwm_job_conf_t *jc;
    bwm_stream_info_t si;
    bwm_sql_error_t se;
    const char *origin;
    char msg[512];
    bwm_err_t err;

    if (!j) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    jc = &j->j_conf;
    err = bwm_conf_bind(conf, &bwm_job_conf_table, jc, errstr, errstr_size);
    if (err) {
        goto err;
    }
    if (bwm_log_set_level(jc->jc_log_level) != 0 || bwm_log_set_debug(jc->jc_log_debug) != 0) {
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                          "log.debug = '%s': unknown facility (allowed: main, kafka, state, "
                          "registry, http, all)",
                          jc->jc_log_debug);
        goto err;
    }
    j->j_file = bwm_cli_path(dir, jc->jc_path);
    if (!j->j_file) {
        err = BWM_ERR_NOMEM;
        goto err;
    }
    err = bwm_cli_read_file(j->j_file, 1 << 20, &j->j_text, &j->j_len, msg, sizeof(msg));
    if (err) {
        bwm_conf_get(conf, "job", &origin);
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s: job: %s", origin ? origin : "",
                          msg);
        goto err;
    }
    memset(&se, 0, sizeof(se));
    j->j_script = bwm_sql_parse(j->j_text, j->j_len, &se);
    if (!j->j_script || bwm_plan_stream(j->j_script, &si, &se)) {
        err = sql_error(j, &se, errstr, errstr_size);
        goto err;
    }
    err = load_input_schema(j, conf, &si, jc->jc_source_topic ? jc->jc_source_topic : si.si_topic,
                            errstr, errstr_size);
    if (err) {
        goto err;
    }
    j->j_raw = si.si_raw;
    j->j_plan = bwm_plan_new(j->j_script, j->j_input_schema, &se);
    if (!j->j_plan) {
        err = sql_error(j, &se, errstr, errstr_size);
        goto err;
    }
    if (override(&j->j_plan->p_input_topic, jc->jc_source_topic) ||
        override(&j->j_plan->p_output_topic, jc->jc_sink_topic) ||
        (!jc->jc_namespace && !(jc->jc_namespace = strdup(j->j_plan->p_name)))) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    if (!jc->jc_dlq_topic) {
        jc->jc_dlq_topic = malloc(strlen(j->j_plan->p_input_topic) + 5);
        if (!jc->jc_dlq_topic) {
            err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            goto err;
        }
        sprintf(jc->jc_dlq_topic, "%s.dlq", j->j_plan->p_input_topic);
    }
    if (!namespace_ok(jc->jc_namespace)) {
        bwm_conf_get(conf, "state.namespace", &origin);
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                          "%s: state.namespace = '%s' is not valid (allowed: 1 to 200 of "
                          "A-Z a-z 0-9 _ - .)",
                          origin ? origin : j->j_file, jc->jc_namespace);
        goto err;
    }
    *out = j;
    return BWM_OK;
err:
    bwm_job_destroy(j);
    return err;
}
