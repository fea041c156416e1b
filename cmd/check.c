/*
 * check.c: `bwm check -c job.conf` validates the configuration and the job
 * without connecting anywhere and prints the plan and the result schema;
 * `bwm config` describes every configuration key.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/job.h"
#include "connectors/kafka/kconf.h"
#include "connectors/redis/redis.h"
#include "connectors/registry/registry.h"

static void check_usage(FILE *out)
{
    fprintf(out, "usage: bwm check -c job.conf [-X key=value ...]\n");
}

/* Binds a module table only to validate it. */
static bwm_err_t validate(const bwm_conf_t *conf, const bwm_conf_table_t *t, size_t size,
                          char *errstr, size_t errstr_size)
{
    void *scratch = calloc(1, size);
    bwm_err_t err;

    if (!scratch) {
        return BWM_ERR_NOMEM;
    }
    err = bwm_conf_bind(conf, t, scratch, errstr, errstr_size);
    bwm_conf_unbind(t, scratch);
    free(scratch);
    return err;
}

int bwm_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    rd_kafka_conf_t *kc = NULL;
    bwm_buf_t b;
    json_t *schema;
    char *dir = NULL, *pretty, errstr[1024];
    int c, k, status = BWM_EXIT_USAGE;

    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'h':
                check_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "check");
                if (k <= 0) {
                    if (k == 0) {
                        check_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || optind != argc) {
        check_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr)) ||
        validate(conf, &bwm_redis_conf_table, sizeof(bwm_redis_conf_t), errstr, sizeof(errstr)) ||
        validate(conf, &bwm_registry_conf_table, sizeof(bwm_registry_conf_t), errstr,
                 sizeof(errstr)) ||
        !(kc = bwm_kconf_new(conf, NULL, errstr, sizeof(errstr)))) {
        fprintf(stderr, "bwm check: configuration error: %s\n", errstr);
        goto done;
    }
    bwm_buf_init(&b);
    bwm_plan_describe(job->j_plan, &b);
    printf("%.*s", (int)b.b_len, (const char *)b.b_data);
    bwm_buf_free(&b);
    printf("  state    namespace %s, dead letters to %s\n", job->j_conf.jc_namespace,
           job->j_conf.jc_dlq_topic);
    schema = json_loads(job->j_plan->p_output_schema, 0, NULL);
    pretty = schema ? json_dumps(schema, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    printf("\nresult schema (subject %s-value):\n%s\n", job->j_plan->p_output_topic,
           pretty ? pretty : job->j_plan->p_output_schema);
    free(pretty);
    json_decref(schema);
    status = BWM_EXIT_OK;
done:
    if (kc) {
        rd_kafka_conf_destroy(kc);
    }
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}

int bwm_cmd_config(int argc, char **argv)
{
    const bwm_conf_table_t *const *tables;
    size_t n, i;
    bwm_buf_t b;

    (void)argc;
    (void)argv;
    bwm_buf_init(&b);
    tables = bwm_cli_tables(&n);
    for (i = 0; i < n; i++) {
        bwm_conf_describe(tables[i], &b);
        bwm_buf_put_u8(&b, '\n');
    }
    bwm_buf_put_str(&b, "[kafka]\n  kafka.*                      passed to librdkafka without "
                        "the prefix (e.g. kafka.bootstrap.servers)\n\n"
                        "Every key can also be set with -X key=value or the environment "
                        "variable BWM_<KEY>\n(upper case, '.' and '-' as '_'), e.g. "
                        "BWM_REDIS_URL.\n");
    fwrite(b.b_data, 1, b.b_len, stdout);
    bwm_buf_free(&b);
    return BWM_EXIT_OK;
}
