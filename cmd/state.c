/*
 * state.c: `bwm state -c job.conf` prints what a job holds in Redis: each
 * key's windows as the result records they give now (readable JSON, with
 * the partition), the closed windows kept by state.retention.ms, or each
 * partition's fence. For operators and for tests; it reads, never writes.
 * `bwm state diff` and `bwm state drop` (state_diff.c, state_drop.c)
 * compare and delete namespaces.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/job.h"
#include "cmd/state_render.h"
#include "connectors/store.h"

typedef struct inspector {
    bwm_state_render_t *in_render;
    int32_t in_part;
    int in_retained; /* keys are "<key>@<window start>" */
    uint64_t in_rows;
    char in_error[1024];
} inspector_t;

static void state_usage(FILE *out)
{
    fprintf(out,
            "usage: bwm state -c job.conf [--partition P] [--retained | --fences] [-X key=value]\n"
            "       bwm state diff -c job.conf NAMESPACE_A NAMESPACE_B [--window-from T]\n"
            "                      [--window-to T]\n"
            "       bwm state drop -c job.conf NAMESPACE [--yes]\n"
            "\n"
            "  -c, --config FILE  the job's configuration (Redis, namespace, job file)\n"
            "  --partition P      only partition P\n"
            "  --retained         the closed windows kept by state.retention.ms\n"
            "  --fences           each partition's fence: last offset applied, watermark\n"
            "  -X key=value       set a configuration key\n"
            "\n"
            "Prints one JSON line per window held: the job's result fields as\n"
            "`bwm consume` shows results, and \"partition\".\n");
}

static bwm_err_t print_row(void *opaque, const char *id, size_t idlen, const char *line, size_t len)
{
    inspector_t *in = opaque;

    (void)id;
    (void)idlen;
    fwrite(line, 1, len, stdout);
    putchar('\n');
    in->in_rows++;
    return BWM_OK;
}

static bwm_err_t on_state(const char *key, size_t keylen, const void *val, size_t len, void *opaque)
{
    inspector_t *in = opaque;

    return bwm_state_render(in->in_render, in->in_part, in->in_retained, key, keylen, val, len,
                            print_row, in, in->in_error, sizeof(in->in_error));
}

static bwm_err_t print_fence(const bwm_store_ops_t *ops, void *store, const char *ns, int32_t part,
                             char *errstr, size_t errstr_size)
{
    bwm_fence_t f;
    bwm_err_t err = ops->so_fence_get(store, ns, part, &f, errstr, errstr_size);

    if (err) {
        return err;
    }
    printf("{\"partition\":%d,\"offset\":%" PRId64 ",\"watermark\":", (int)part, f.f_offset);
    if (f.f_watermark == BWM_WATERMARK_NONE) {
        printf("null}\n");
    } else {
        printf("%" PRId64 "}\n", f.f_watermark);
    }
    return BWM_OK;
}

/* Prints every partition's fences or states; the summary goes to stderr. */
static bwm_err_t inspect(const bwm_job_t *job, const bwm_conf_t *conf, long long only, int retained,
                         int fences, char *errstr, size_t errstr_size)
{
    const bwm_store_ops_t *ops = bwm_store_find("redis");
    const char *ns = job->j_conf.jc_namespace;
    inspector_t in;
    void *store = NULL;
    int32_t *parts = NULL, one = 0;
    size_t nparts = 0, i;
    bwm_err_t err;

    memset(&in, 0, sizeof(in));
    in.in_retained = retained;
    err = ops->so_open(conf, &store, errstr, errstr_size);
    if (!err && only >= 0) {
        one = (int32_t)only;
    } else if (!err) {
        err = ops->so_partitions(store, ns, &parts, &nparts, errstr, errstr_size);
    }
    if (!err && !fences) {
        err = bwm_state_render_new(job, &in.in_render, errstr, errstr_size);
    }
    for (i = 0; !err && i < (only >= 0 ? 1 : nparts); i++) {
        in.in_part = only >= 0 ? one : parts[i];
        if (fences) {
            err = print_fence(ops, store, ns, in.in_part, errstr, errstr_size);
            continue;
        }
        err = ops->so_scan(store, ns, in.in_part, retained ? BWM_STORE_RETAINED : BWM_STORE_STATES,
                           on_state, &in, errstr, errstr_size);
        if (err && in.in_error[0]) {
            snprintf(errstr, errstr_size, "%s", in.in_error);
        }
    }
    if (!err && !fences) {
        fprintf(stderr, "bwm state: %" PRIu64 " %s in namespace %s", in.in_rows,
                retained ? "retained windows" : "states", ns);
        if (bwm_state_render_hidden(in.in_render)) {
            fprintf(stderr, " (and %" PRIu64 " hidden by HAVING)",
                    bwm_state_render_hidden(in.in_render));
        }
        fputc('\n', stderr);
    }
    bwm_state_render_destroy(in.in_render);
    free(parts);
    if (store) {
        ops->so_close(store);
    }
    return err;
}

int bwm_cmd_state(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"partition", required_argument, NULL, 'p'},
        {"retained", no_argument, NULL, 'R'},     {"fences", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    char *dir = NULL, *end, errstr[1024];
    long long only = -1;
    int c, k, retained = 0, fences = 0, status = BWM_EXIT_OK;
    bwm_err_t err;

    if (argc > 1 && strcmp(argv[1], "diff") == 0) {
        return bwm_cmd_state_diff(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "drop") == 0) {
        return bwm_cmd_state_drop(argc - 1, argv + 1);
    }
    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'p':
                only = strtoll(optarg, &end, 10);
                if (*end || end == optarg || only < 0 || only > INT32_MAX) {
                    fprintf(stderr, "bwm state: --partition takes a partition number\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'R':
                retained = 1;
                break;
            case 'F':
                fences = 1;
                break;
            case 'h':
                state_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "state");
                if (k <= 0) {
                    if (k == 0) {
                        state_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || optind != argc || (retained && fences)) {
        state_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm state: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    err = inspect(job, conf, only, retained, fences, errstr, sizeof(errstr));
    if (err) {
        fprintf(stderr, "bwm state: %s\n", errstr);
        status = err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
    }
done:
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}
