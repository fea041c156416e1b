/*
 * run.c: `bwm run -c job.conf`: continuous processing as a consumer-group
 * member, until SIGTERM/SIGINT (or the end of the input with --exit-at-end).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/job.h"
#include "cmd/processor.h"
#include "connectors/log.h"

static void run_usage(FILE *out)
{
    fprintf(out, "usage: bwm run -c job.conf [-X key=value ...] [--exit-at-end]\n"
                 "\n"
                 "  -c, --config FILE  job configuration (properties)\n"
                 "  -X key=value       set a configuration key (wins over file and environment)\n"
                 "  --exit-at-end      stop once every assigned partition is read to its end\n"
                 "                     and committed (for demos, tests and catch-up runs)\n");
}

int bwm_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"exit-at-end", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    bwm_processor_t *proc = NULL;
    bwm_processor_stats_t st;
    char *dir = NULL, errstr[1024];
    int c, k, exit_at_end = 0, status = BWM_EXIT_OK;
    long long t0;
    double secs;
    bwm_err_t err;

    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'e':
                exit_at_end = 1;
                break;
            case 'h':
                run_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "run");
                if (k <= 0) {
                    if (k == 0) {
                        run_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || optind != argc) {
        run_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) != BWM_OK ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "bwm run: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    bwm_cli_signals();
    t0 = bwm_cli_now_ms();
    err = bwm_processor_new(conf, job, &proc, errstr, sizeof(errstr));
    if (err) {
        fprintf(stderr, "bwm run: %s\n", errstr);
        status = err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
        goto done;
    }
    if (bwm_processor_run(proc, exit_at_end, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "bwm run: %s\n", errstr);
        status = BWM_EXIT_RUNTIME;
    }
    bwm_processor_get_stats(proc, &st);
    bwm_processor_destroy(proc);
    proc = NULL;
    secs = (double)(bwm_cli_now_ms() - t0) / 1000.0;
    fprintf(stderr,
            "bwm run: read %" PRIu64 ", applied %" PRIu64 ", filtered %" PRIu64
            ", skipped by fence %" PRIu64 ", dead-lettered %" PRIu64 ", results %" PRIu64
            ", batches %" PRIu64 ", fenced %" PRIu64 ", evicted %" PRIu64 ", retries %" PRIu64
            ", %.1f s (%.0f records/s)\n",
            st.ps_read, st.ps_applied, st.ps_filtered, st.ps_skipped, st.ps_dead, st.ps_results,
            st.ps_batches, st.ps_fenced, st.ps_evicted, st.ps_retries, secs,
            secs > 0 ? (double)st.ps_read / secs : 0.0);
done:
    bwm_processor_destroy(proc);
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}
