/*
 * job.c: the job's configuration table and plan building.
 */
#include "cmd/job.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "connectors/log.h"

#define DEF(name, type, def, min, max, field, req, desc)                                           \
    {                                                                                              \
        name, type, def, min, max, NULL, offsetof(bwm_job_conf_t, field), req, desc                \
    }
#define ENUM(name, def, words, field, desc)                                                        \
    {                                                                                              \
        name, BWM_CONF_ENUM, def, 0, 0, words, offsetof(bwm_job_conf_t, field), 0, desc            \
    }

static const bwm_conf_def_t job_defs[] = {
    DEF("job.name", BWM_CONF_STR, NULL, 0, 0, jc_name, 1,
        "table name: names the result record and the default state namespace"),
    DEF("job.group.by", BWM_CONF_STR, NULL, 0, 0, jc_group_by, 1,
        "input field whose value is the key (the input must be keyed by it)"),
    DEF("job.aggregates", BWM_CONF_STR, NULL, 0, 0, jc_aggregates, 1,
        "aggregates, e.g. COUNT(*) AS samples, SUM(distance_km) AS distance_km"),
    DEF("job.timestamp", BWM_CONF_STR, NULL, 0, 0, jc_timestamp, 0,
        "input field holding event time (timestamp-millis); default: the Kafka timestamp"),
    DEF("source.topic", BWM_CONF_STR, NULL, 0, 0, jc_source_topic, 1, "input topic"),
    DEF("source.schema", BWM_CONF_STR, NULL, 0, 0, jc_source_schema, 1,
        "reader schema of the input (.avsc), relative to the config file"),
    DEF("source.max.record.bytes", BWM_CONF_INT, "1048576", 16, 1073741824, jc_max_record_bytes, 0,
        "larger input records go to the dead-letter topic (reason limit)"),
    DEF("job.max.key.bytes", BWM_CONF_INT, "1024", 1, 65536, jc_max_key_bytes, 0,
        "longer keys go to the dead-letter topic (reason limit)"),
    DEF("sink.topic", BWM_CONF_STR, NULL, 0, 0, jc_sink_topic, 1, "result topic"),
    DEF("state.namespace", BWM_CONF_STR, NULL, 0, 0, jc_namespace, 0,
        "state namespace in Redis; default: job.name"),
    DEF("dlq.topic", BWM_CONF_STR, NULL, 0, 0, jc_dlq_topic, 0,
        "dead-letter topic; default: <source.topic>.dlq"),
    DEF("commit.interval.ms", BWM_CONF_INT, "1000", 1, 3600000, jc_commit_interval_ms, 0,
        "longest time records wait in a batch before it is committed"),
    DEF("commit.max.records", BWM_CONF_INT, "10000", 1, 10000000, jc_commit_max_records, 0,
        "most records in one batch"),
    DEF("topics.create", BWM_CONF_BOOL, "true", 0, 0, jc_topics_create, 0,
        "create the result and dead-letter topics when missing"),
    DEF("topics.replication.factor", BWM_CONF_INT, "-1", -1, 32, jc_topics_replication, 0,
        "replication factor of created topics; -1: the broker's default"),
    DEF("shutdown.timeout.ms", BWM_CONF_INT, "30000", 100, 3600000, jc_shutdown_timeout_ms, 0,
        "time to finish the pending batch and leave the group on SIGTERM"),
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
    bwm_conf_unbind(&bwm_job_conf_table, &j->j_conf);
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

bwm_err_t bwm_job_new(const bwm_conf_t *conf, const char *dir, bwm_job_t **out, char *errstr,
                      size_t errstr_size)
{
    bwm_job_t *j = calloc(1, sizeof(*j));
    bwm_job_conf_t *jc;
    bwm_plan_spec_t spec;
    char *path = NULL, *text = NULL, msg[512];
    const char *origin;
    size_t len;
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
    if (!jc->jc_namespace) {
        jc->jc_namespace = strdup(jc->jc_name);
    }
    if (!jc->jc_dlq_topic) {
        jc->jc_dlq_topic = malloc(strlen(jc->jc_source_topic) + 5);
        if (jc->jc_dlq_topic) {
            sprintf(jc->jc_dlq_topic, "%s.dlq", jc->jc_source_topic);
        }
    }
    if (!jc->jc_namespace || !jc->jc_dlq_topic) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    if (!namespace_ok(jc->jc_namespace)) {
        bwm_conf_get(conf, "state.namespace", &origin);
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                          "%s: state.namespace = '%s' is not valid (allowed: 1 to 200 of "
                          "A-Z a-z 0-9 _ - .)",
                          origin ? origin : "job.name", jc->jc_namespace);
        goto err;
    }
    path = bwm_cli_path(dir, jc->jc_source_schema);
    bwm_conf_get(conf, "source.schema", &origin);
    err = path ? bwm_cli_read_file(path, 1 << 20, &text, &len, msg, sizeof(msg)) : BWM_ERR_NOMEM;
    if (err) {
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s: source.schema: %s",
                          origin ? origin : "", msg);
        goto err;
    }
    j->j_input_schema = bwm_schema_parse(text, len, msg, sizeof(msg));
    if (!j->j_input_schema) {
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s: source.schema: %s: %s",
                          origin ? origin : "", path, msg);
        goto err;
    }
    spec.ps_name = jc->jc_name;
    spec.ps_input_topic = jc->jc_source_topic;
    spec.ps_output_topic = jc->jc_sink_topic;
    spec.ps_group_by = jc->jc_group_by;
    spec.ps_aggregates = jc->jc_aggregates;
    spec.ps_time_field = jc->jc_timestamp;
    j->j_plan = bwm_plan_new(&spec, j->j_input_schema, msg, sizeof(msg));
    if (!j->j_plan) {
        err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "job: %s", msg);
        goto err;
    }
    free(path);
    free(text);
    *out = j;
    return BWM_OK;
err:
    free(path);
    free(text);
    bwm_job_destroy(j);
    return err;
}
