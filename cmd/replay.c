/*
 * replay.c: `bwm replay -c job.conf --from ... [--to ...]` reprocesses a
 * range of the input, chosen by time or offset, into its own state
 * namespace and topics (derived as "<live name>.replay.<UTC stamp>" unless
 * given), by manual assignment: no consumer group, no Kafka offset commits,
 * so `bwm run` is never disturbed. It prints its plan, shows progress on a
 * terminal and ends with a summary. The fence makes it idempotent: the same
 * replay again into the same namespace applies nothing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/job.h"
#include "cmd/processor.h"
#include "cmd/replay_plan.h"
#include "cmd/replay_range.h"
#include "cmd/state_drop.h"

/* Longest names Redis keys (state.namespace's rule) and Kafka topics take. */
#define MAX_NAMESPACE 200
#define MAX_TOPIC     249

/* How often the progress line is redrawn on a terminal. */
#define PROGRESS_MS 500

typedef struct replay_args {
    const char *ra_from;
    const char *ra_to;
    const char *ra_partitions;
    const char *ra_namespace;
    const char *ra_output;
    const char *ra_dlq;
    int ra_into_live;
    int ra_reset;
    int ra_yes;
    int ra_dry_run;
} replay_args_t;

typedef struct progress {
    uint64_t pg_total;
    long long pg_start_ms;
    int pg_drawn;
} progress_t;

static void replay_usage(FILE *out)
{
    fprintf(out,
            "usage: bwm replay -c job.conf --from BOUND [--to BOUND] [--partitions 0,2,...]\n"
            "                  [--namespace NS] [--output-topic T] [--dlq-topic T] [--into-live]\n"
            "                  [--reset-state [--yes]] [--dry-run] [-X key=value ...]\n"
            "\n"
            "  -c, --config FILE    job configuration (properties)\n"
            "  --from BOUND         first record of the range (included)\n"
            "  --to BOUND           end of the range (excluded); default: end\n"
            "                       BOUND: earliest | end | ISO-8601 time (2026-11-26T15:13:00Z,\n"
            "                       ...+01:00) | relative time (-10s, -30m, -2h, -7d) | an offset\n"
            "                       in every partition (1200) | offsets per partition\n"
            "                       (0:1200,1:900; only the partitions listed are replayed)\n"
            "  --partitions LIST    only these partitions\n"
            "  --namespace NS       state namespace; default <state.namespace>.replay.<UTC stamp>\n"
            "  --output-topic T     result topic; default <result topic>.replay.<UTC stamp>\n"
            "  --dlq-topic T        dead-letter topic; default <dlq.topic>.replay.<UTC stamp>\n"
            "  --into-live          replay into the job's live namespace and topics (records\n"
            "                       at or below its fence are skipped)\n"
            "  --reset-state        drop the namespace's keys in Redis first (asks on a terminal)\n"
            "  --yes                do not ask\n"
            "  --dry-run            print the plan and exit; nothing is written\n"
            "  -X key=value         set a configuration key\n"
            "\n"
            "Times resolve through the records' Kafka timestamps; end offsets are taken when\n"
            "the replay starts, so it ends while producers keep writing.\n");
}

/* The replay's name for a live one: given, or derived; NULL (message printed) when invalid. */
static const char *name_for(const char *given, const char *live, const char *stamp, size_t max,
                            const char *opt, char *buf, size_t size)
{
    if (given) {
        if (!bwm_replay_name_ok(given, max)) {
            fprintf(stderr, "bwm replay: %s '%s' is not valid (1 to %zu of A-Z a-z 0-9 . _ -)\n",
                    opt, given, max);
            return NULL;
        }
        return given;
    }
    if (bwm_replay_name(live, stamp, max, buf, size) != BWM_OK || !bwm_replay_name_ok(buf, max)) {
        fprintf(stderr,
                "bwm replay: the derived name '%s.replay.%s' is not valid (more than %zu "
                "characters?); give one with %s\n",
                live, stamp, max, opt);
        return NULL;
    }
    return buf;
}

static void on_progress(void *opaque, const bwm_processor_stats_t *st)
{
    progress_t *pg = opaque;
    double secs = (double)(bwm_cli_now_ms() - pg->pg_start_ms) / 1000.0;
    uint64_t done = st->ps_read + st->ps_skipped;
    double rate = secs > 0 ? (double)st->ps_read / secs : 0;
    double pct = pg->pg_total ? 100.0 * (double)done / (double)pg->pg_total : 100.0;

    fprintf(stderr, "\r\033[Kbwm replay: %" PRIu64 " of %" PRIu64 " (%.1f%%), %.0f records/s", done,
            pg->pg_total, pct > 100 ? 100.0 : pct, rate);
    if (rate > 0 && done < pg->pg_total) {
        fprintf(stderr, ", ETA %.0f s", (double)(pg->pg_total - done) / rate);
    }
    pg->pg_drawn = 1;
}

/* Drops the namespace's keys, after asking. Returns an exit status, or -1 to go on. */
static int reset_state(const bwm_conf_t *conf, const char *ns, int yes)
{
    char question[512];
    int status;

    snprintf(question, sizeof(question), "--reset-state drops every key of namespace %s in Redis",
             ns);
    status = bwm_state_drop_asked(conf, "replay", question, ns, yes);
    return status == BWM_EXIT_OK ? -1 : status;
}

/* Runs the planned replay and prints its summary; returns the exit status. */
static int replay_run(const bwm_conf_t *conf, const bwm_job_t *job,
                      const bwm_processor_replay_t *rp, progress_t *pg)
{
    bwm_processor_t *proc = NULL;
    bwm_processor_stats_t st;
    char errstr[1024];
    int status = BWM_EXIT_OK;
    double secs;
    bwm_err_t err;

    bwm_cli_signals();
    err = bwm_processor_new_replay(conf, job, rp, &proc, errstr, sizeof(errstr));
    if (err) {
        fprintf(stderr, "bwm replay: %s\n", errstr);
        return err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
    }
    if (bwm_processor_run(proc, 1, errstr, sizeof(errstr)) != BWM_OK) {
        status = BWM_EXIT_RUNTIME;
    }
    bwm_processor_get_stats(proc, &st);
    bwm_processor_destroy(proc);
    if (pg->pg_drawn) {
        on_progress(pg, &st);
        fputc('\n', stderr);
    }
    if (status != BWM_EXIT_OK) {
        fprintf(stderr, "bwm replay: %s\n", errstr);
    } else if (bwm_cli_stop) {
        fprintf(stderr,
                "bwm replay: stopped before the end of the range; the same command with "
                "--namespace %s goes on from where it stopped\n",
                rp->rp_namespace);
    }
    secs = (double)(bwm_cli_now_ms() - pg->pg_start_ms) / 1000.0;
    fprintf(stderr,
            "bwm replay: read %" PRIu64 ", applied %" PRIu64 ", filtered %" PRIu64
            ", skipped by fence %" PRIu64 ", dead-lettered %" PRIu64 ", results %" PRIu64
            ", batches %" PRIu64 ", retries %" PRIu64 ", %.1f s (%.0f records/s)\n",
            st.ps_read, st.ps_applied, st.ps_filtered, st.ps_skipped, st.ps_dead, st.ps_results,
            st.ps_batches, st.ps_retries, secs, secs > 0 ? (double)st.ps_read / secs : 0.0);
    return status;
}

/* Plans, prints, and unless a dry run, replays. */
static int replay(const bwm_conf_t *conf, const bwm_job_t *job, const replay_args_t *ra)
{
    const bwm_job_conf_t *jc = &job->j_conf;
    bwm_bound_t from = {0}, to = {BWM_BOUND_END, 0, 0, NULL, 0};
    bwm_replay_plan_t plan = {0};
    bwm_processor_replay_t rp;
    progress_t pg = {0, 0, 0};
    struct timespec now;
    int64_t now_ms;
    int32_t *only = NULL;
    size_t nonly = 0;
    char stamp[17], ns_buf[512], out_buf[512], dlq_buf[512], errstr[1024];
    const char *bad = NULL;
    int status = BWM_EXIT_USAGE;
    bwm_err_t err;

    memset(&rp, 0, sizeof(rp));
    clock_gettime(CLOCK_REALTIME, &now);
    now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    bwm_replay_stamp((int64_t)now.tv_sec, stamp);
    if (bwm_bound_parse(ra->ra_from, now_ms, &from, errstr, sizeof(errstr)) != BWM_OK) {
        bad = "--from";
    } else if (ra->ra_to && bwm_bound_parse(ra->ra_to, now_ms, &to, errstr, sizeof(errstr))) {
        bad = "--to";
    } else if (ra->ra_partitions &&
               bwm_partitions_parse(ra->ra_partitions, &only, &nonly, errstr, sizeof(errstr))) {
        bad = "--partitions";
    }
    if (bad) {
        fprintf(stderr, "bwm replay: %s: %s\n", bad, errstr);
        goto done;
    }
    rp.rp_namespace =
        name_for(ra->ra_namespace   ? ra->ra_namespace
                 : ra->ra_into_live ? jc->jc_namespace
                                    : NULL,
                 jc->jc_namespace, stamp, MAX_NAMESPACE, "--namespace", ns_buf, sizeof(ns_buf));
    rp.rp_output_topic = name_for(ra->ra_output      ? ra->ra_output
                                  : ra->ra_into_live ? job->j_plan->p_output_topic
                                                     : NULL,
                                  job->j_plan->p_output_topic, stamp, MAX_TOPIC, "--output-topic",
                                  out_buf, sizeof(out_buf));
    rp.rp_dlq_topic =
        name_for(ra->ra_dlq         ? ra->ra_dlq
                 : ra->ra_into_live ? jc->jc_dlq_topic
                                    : NULL,
                 jc->jc_dlq_topic, stamp, MAX_TOPIC, "--dlq-topic", dlq_buf, sizeof(dlq_buf));
    if (!rp.rp_namespace || !rp.rp_output_topic || !rp.rp_dlq_topic) {
        goto done;
    }
    if (!ra->ra_into_live && (strcmp(rp.rp_namespace, jc->jc_namespace) == 0 ||
                              strcmp(rp.rp_output_topic, job->j_plan->p_output_topic) == 0)) {
        fprintf(stderr,
                "bwm replay: %s is the live job's (state.namespace %s, result topic %s); "
                "pass --into-live to replay into it\n",
                strcmp(rp.rp_namespace, jc->jc_namespace) == 0 ? "--namespace" : "--output-topic",
                jc->jc_namespace, job->j_plan->p_output_topic);
        goto done;
    }
    err = bwm_replay_plan_new(conf, job->j_plan->p_input_topic, &from, &to, only, nonly,
                              (int)jc->jc_timeout_ms, &plan, errstr, sizeof(errstr));
    if (err) {
        fprintf(stderr, "bwm replay: %s\n", errstr);
        status = err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
        goto done;
    }
    printf("bwm replay%s: job %s, input %s\n", ra->ra_dry_run ? " (dry run)" : "",
           job->j_plan->p_name, job->j_plan->p_input_topic);
    printf("  state namespace: %s%s\n", rp.rp_namespace,
           ra->ra_reset ? ra->ra_dry_run ? " (would be reset)" : " (reset first)" : "");
    printf("  result topic: %s\n  dead-letter topic: %s\n", rp.rp_output_topic, rp.rp_dlq_topic);
    bwm_replay_plan_print(&plan, stdout);
    fflush(stdout);
    if (ra->ra_dry_run) {
        status = BWM_EXIT_OK;
        goto done;
    }
    if (ra->ra_reset && (status = reset_state(conf, rp.rp_namespace, ra->ra_yes)) >= 0) {
        goto done;
    }
    rp.rp_ranges = plan.pl_ranges;
    rp.rp_nranges = plan.pl_n;
    pg.pg_total = plan.pl_total;
    pg.pg_start_ms = bwm_cli_now_ms();
    if (bwm_cli_tty()) {
        rp.rp_progress = on_progress;
        rp.rp_opaque = &pg;
        rp.rp_progress_ms = PROGRESS_MS;
    }
    status = replay_run(conf, job, &rp, &pg);
done:
    bwm_bound_free(&from);
    bwm_bound_free(&to);
    bwm_replay_plan_free(&plan);
    free(only);
    return status;
}

int bwm_cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"partitions", required_argument, NULL, 'p'},
        {"namespace", required_argument, NULL, 'n'},
        {"output-topic", required_argument, NULL, 'o'},
        {"dlq-topic", required_argument, NULL, 'd'},
        {"into-live", no_argument, NULL, 'L'},
        {"reset-state", no_argument, NULL, 'R'},
        {"yes", no_argument, NULL, 'y'},
        {"dry-run", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    replay_args_t ra;
    const char *path = NULL;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    char *dir = NULL, errstr[1024];
    int c, k, status;

    memset(&ra, 0, sizeof(ra));
    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'f':
                ra.ra_from = optarg;
                break;
            case 't':
                ra.ra_to = optarg;
                break;
            case 'p':
                ra.ra_partitions = optarg;
                break;
            case 'n':
                ra.ra_namespace = optarg;
                break;
            case 'o':
                ra.ra_output = optarg;
                break;
            case 'd':
                ra.ra_dlq = optarg;
                break;
            case 'L':
                ra.ra_into_live = 1;
                break;
            case 'R':
                ra.ra_reset = 1;
                break;
            case 'y':
                ra.ra_yes = 1;
                break;
            case 'D':
                ra.ra_dry_run = 1;
                break;
            case 'h':
                replay_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "replay");
                if (k <= 0) {
                    if (k == 0) {
                        replay_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || !ra.ra_from || optind != argc) {
        fprintf(stderr, "bwm replay: %s\n\n",
                !path         ? "-c job.conf is required"
                : !ra.ra_from ? "--from is required"
                              : "unexpected arguments");
        replay_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) != BWM_OK ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "bwm replay: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
    } else {
        status = replay(conf, job, &ra);
    }
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}
