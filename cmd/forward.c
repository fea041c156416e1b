/*
 * forward.c: `bwm forward -c coreview.conf` sends result topics to Core View
 * over HTTP until SIGTERM/SIGINT (or the end of the topics with
 * --exit-at-end), then prints a summary; `--check` validates the
 * configuration without connecting anywhere.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/forward_conf.h"
#include "cmd/forwarder.h"

static void forward_usage(FILE *out)
{
    fprintf(out,
            "usage: bwm forward -c coreview.conf [-X key=value ...] [--exit-at-end | --check]\n"
            "\n"
            "  -c, --config FILE  configuration (properties): forward.*, coreview.*, kafka.*,\n"
            "                     registry.* keys (`bwm config` lists them)\n"
            "  -X key=value       set a configuration key (wins over file and environment)\n"
            "  -b, --brokers LIST Kafka bootstrap servers (kafka.bootstrap.servers)\n"
            "  -r, --registry URL schema registry (registry.url)\n"
            "  --exit-at-end      stop once every assigned partition is forwarded to its end\n"
            "  --check            validate the configuration, print what would run, and exit\n");
}

int bwm_cmd_forward(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, 'b'},
        {"registry", required_argument, NULL, 'r'},
        {"exit-at-end", no_argument, NULL, 'e'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_fwd_conf_t *fc = NULL;
    bwm_forwarder_t *f = NULL;
    bwm_forwarder_stats_t st;
    char errstr[1024];
    int c, k, exit_at_end = 0, check = 0, status = BWM_EXIT_OK;
    long long t0;
    double secs;
    bwm_err_t err;

    while ((c = getopt_long(argc, argv, "c:X:b:r:h", opts, NULL)) != -1) {
        switch (c) {
            case 'e':
                exit_at_end = 1;
                break;
            case 'k':
                check = 1;
                break;
            case 'h':
                forward_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "forward");
                if (k <= 0) {
                    if (k == 0) {
                        forward_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (optind != argc || (check && exit_at_end)) {
        forward_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, NULL, errstr, sizeof(errstr)) != BWM_OK ||
        bwm_fwd_conf_new(conf, &fc, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "bwm forward: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    if (check) {
        bwm_fwd_conf_print(fc, stdout);
        goto done;
    }
    bwm_cli_signals();
    t0 = bwm_cli_now_ms();
    err = bwm_forwarder_new(conf, fc, &f, errstr, sizeof(errstr));
    if (err) {
        fprintf(stderr, "bwm forward: %s\n", errstr);
        status = err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
        goto done;
    }
    if (bwm_forwarder_run(f, exit_at_end, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "bwm forward: %s\n", errstr);
        status = BWM_EXIT_RUNTIME;
    }
    bwm_forwarder_get_stats(f, &st);
    bwm_forwarder_destroy(f);
    f = NULL;
    secs = (double)(bwm_cli_now_ms() - t0) / 1000.0;
    fprintf(stderr,
            "bwm forward: read %" PRIu64 ", delivered %" PRIu64 ", dead-lettered %" PRIu64
            ", tombstones %" PRIu64 ", requests %" PRIu64 ", retries %" PRIu64
            ", throttled %" PRIu64 ", duplicates %" PRIu64 ", splits %" PRIu64 ", batches %" PRIu64
            ", abandoned %" PRIu64 ", tokens %" PRIu64 ", %.1f s (%.0f results/s, HTTP/%s)\n",
            st.fs_read, st.fs_delivered, st.fs_dead, st.fs_tombstones, st.fs_requests,
            st.fs_retries, st.fs_throttled, st.fs_duplicates, st.fs_splits, st.fs_batches,
            st.fs_abandoned, st.fs_tokens, secs, secs > 0 ? (double)st.fs_delivered / secs : 0.0,
            st.fs_http_version == 20   ? "2"
            : st.fs_http_version == 10 ? "1.0"
                                       : "1.1");
done:
    bwm_forwarder_destroy(f);
    bwm_fwd_conf_destroy(fc);
    bwm_conf_destroy(conf);
    return status;
}
