/*
 * job.h: a job as the commands run it: the configuration keys of the job and
 * its runtime, the job file (.sql) parsed, the input's reader schema and the
 * plan built from them.
 */
#ifndef BWM_JOB_H
#define BWM_JOB_H

#include <stdint.h>

#include "core/ast.h"
#include "core/conf.h"
#include "core/plan.h"
#include "core/schema.h"

typedef struct bwm_job_conf {
    char *jc_path;
    char *jc_source_topic;
    char *jc_sink_topic;
    int64_t jc_max_record_bytes;
    int64_t jc_max_string_bytes;
    int64_t jc_max_items;
    int64_t jc_max_depth;
    int64_t jc_fetch_wake_ms;
    int64_t jc_max_key_bytes;
    int64_t jc_eval_bytes;
    char *jc_namespace;
    char *jc_dlq_topic;
    int64_t jc_commit_interval_ms;
    int64_t jc_commit_max_records;
    int64_t jc_round_records;
    int64_t jc_commit_max_bytes;
    int64_t jc_cache_entries;
    int64_t jc_cache_bytes;
    int64_t jc_retention_ms;
    int64_t jc_retry_backoff_ms;
    int64_t jc_retry_backoff_max_ms;
    int64_t jc_retry_max_ms;
    int jc_topics_create;
    int64_t jc_topics_replication;
    int64_t jc_shutdown_timeout_ms;
    int64_t jc_timeout_ms;
    char *jc_log_level;
    char *jc_log_debug;
} bwm_job_conf_t;

/* The job, source, sink, state, dlq, commit, topics, runtime and log keys. */
extern const bwm_conf_table_t bwm_job_conf_table;

typedef struct bwm_job {
    bwm_job_conf_t j_conf;
    char *j_file; /* the job file's path as opened */
    char *j_text; /* its text */
    size_t j_len;
    bwm_script_t *j_script;
    bwm_schema_t *j_input_schema;
    char *j_schema_source; /* where the input schema came from, for messages */
    int j_raw;             /* input records are bare Avro written with j_input_schema */
    bwm_plan_t *j_plan;
} bwm_job_t;

/*
 * Binds the job keys of conf (relative paths against dir), parses the job
 * file, reads the input's schema (the stream's schema file, or else the
 * latest schema of <topic>-value from the registry configured in conf) and
 * resolves the plan. Errors name the key, or show the job file's line with a
 * caret. Caller frees with bwm_job_destroy().
 */
bwm_err_t bwm_job_new(const bwm_conf_t *conf, const char *dir, bwm_job_t **out, char *errstr,
                      size_t errstr_size);
void bwm_job_destroy(bwm_job_t *j);

#endif
