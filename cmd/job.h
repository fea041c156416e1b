/*
 * job.h: the job's configuration keys (what to compute, from which topic to
 * which, and the runtime's limits) and building the plan from them.
 */
#ifndef BWM_JOB_H
#define BWM_JOB_H

#include <stdint.h>

#include "core/conf.h"
#include "core/plan.h"
#include "core/schema.h"

typedef struct bwm_job_conf {
    char *jc_name;
    char *jc_group_by;
    char *jc_aggregates;
    char *jc_timestamp;
    char *jc_source_topic;
    char *jc_source_schema;
    int64_t jc_max_record_bytes;
    int64_t jc_max_key_bytes;
    char *jc_sink_topic;
    char *jc_namespace;
    char *jc_dlq_topic;
    int64_t jc_commit_interval_ms;
    int64_t jc_commit_max_records;
    int jc_topics_create;
    int64_t jc_topics_replication;
    int64_t jc_shutdown_timeout_ms;
    int64_t jc_timeout_ms;
    char *jc_log_level;
    char *jc_log_debug;
} bwm_job_conf_t;

/* The job.*, source.*, sink.*, state.*, dlq.*, commit.*, topics.* and log.* keys. */
extern const bwm_conf_table_t bwm_job_conf_table;

/* A bound job: its keys, the input's reader schema and the plan. */
typedef struct bwm_job {
    bwm_job_conf_t j_conf;
    bwm_schema_t *j_input_schema;
    bwm_plan_t *j_plan;
} bwm_job_t;

/*
 * Binds the job keys from conf, reads source.schema (relative to dir) and
 * resolves the plan. Every error names the key at fault. Caller frees with
 * bwm_job_destroy().
 */
bwm_err_t bwm_job_new(const bwm_conf_t *conf, const char *dir, bwm_job_t **out, char *errstr,
                      size_t errstr_size);
void bwm_job_destroy(bwm_job_t *j);

#endif
