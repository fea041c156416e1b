/*
 * state_drop.c: `bwm state drop -c job.conf NAMESPACE` deletes every key of
 * a state namespace in Redis (states, fences, close indexes, retained
 * windows), after asking on a terminal; for replays that are done with.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/job.h"
#include "cmd/replay_range.h"
#include "cmd/state_drop.h"
#include "connectors/store.h"

static void drop_usage(FILE *out)
{
    fprintf(out, "usage: bwm state drop -c job.conf NAMESPACE [--yes] [-X key=value]\n"
                 "\n"
                 "  -c, --config FILE  configuration with the Redis settings (redis.*)\n"
                 "  --yes              do not ask (needed when stdin is not a terminal)\n"
                 "\n"
                 "Deletes every key of NAMESPACE in Redis (SCAN, then UNLINK in batches).\n");
}

int bwm_state_drop_asked(const bwm_conf_t *conf, const char *cmd, const char *question,
                         const char *ns, int yes)
{
    const bwm_store_ops_t *ops = bwm_store_find("redis");
    char errstr[1024];
    void *store = NULL;
    uint64_t deleted = 0;
    int ok = bwm_cli_confirm(cmd, question, yes);
    bwm_err_t err;

    if (ok <= 0) {
        return ok < 0 ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
    }
    err = ops->so_open(conf, &store, errstr, sizeof(errstr));
    if (!err) {
        err = ops->so_drop(store, ns, &deleted, errstr, sizeof(errstr));
    }
    if (store) {
        ops->so_close(store);
    }
    if (err) {
        fprintf(stderr, "bwm %s: %s\n", cmd, errstr);
        return err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
    }
    fprintf(stderr, "bwm %s: deleted %" PRIu64 " keys of namespace %s\n", cmd, deleted, ns);
    return BWM_EXIT_OK;
}

static int drop(const bwm_conf_t *conf, const char *ns, const char *live, int yes)
{
    char question[512];

    snprintf(question, sizeof(question), "drop every key of namespace %s%s in Redis", ns,
             live && strcmp(ns, live) == 0 ? ", the job's live state.namespace," : "");
    return bwm_state_drop_asked(conf, "state drop", question, ns, yes);
}

int bwm_cmd_state_drop(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"yes", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *ns;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    char *dir = NULL, errstr[1024];
    int c, k, yes = 0, status;

    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'y':
                yes = 1;
                break;
            case 'h':
                drop_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "state drop");
                if (k <= 0) {
                    if (k == 0) {
                        drop_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || argc - optind != 1) {
        fprintf(stderr, "bwm state drop: %s\n\n",
                !path ? "-c job.conf is required" : "give one namespace to drop");
        drop_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    ns = argv[optind];
    if (!bwm_replay_name_ok(ns, 200)) {
        fprintf(stderr, "bwm state drop: namespace '%s' is not valid (A-Z a-z 0-9 . _ -)\n", ns);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm state drop: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
    } else {
        status = drop(conf, ns, job->j_conf.jc_namespace, yes);
    }
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}
