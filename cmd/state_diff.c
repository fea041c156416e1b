/*
 * state_diff.c: `bwm state diff -c job.conf A B` compares two state
 * namespaces of a job per (key, window): each window's state rendered as
 * the result record `bwm state` prints. Prints one JSON line per window that
 * differs (or is held by one namespace only) and a count; exits 0 when the
 * namespaces are equal, 1 when they differ, 2 on a usage or configuration
 * error. It proves a replay: the same input gives the same states.
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
#include "cmd/state_render.h"
#include "connectors/store.h"
#include "core/json.h"

/* One window of a namespace: its result key and its rendered line. */
typedef struct entry {
    char *e_id;
    size_t e_idlen;
    char *e_line;
    size_t e_len;
} entry_t;

typedef struct side {
    entry_t *sd_entries;
    size_t sd_n;
    size_t sd_cap;
} side_t;

typedef struct loader {
    bwm_state_render_t *ld_render;
    side_t *ld_side;
    int ld_windowed;
    int64_t ld_from; /* window starts in [ld_from, ld_to) */
    int64_t ld_to;
    int32_t ld_part;
    char ld_error[1024];
} loader_t;

static void diff_usage(FILE *out)
{
    fprintf(out, "usage: bwm state diff -c job.conf NAMESPACE_A NAMESPACE_B [--window-from T]\n"
                 "                      [--window-to T] [-X key=value]\n"
                 "\n"
                 "  -c, --config FILE  the job's configuration (Redis, job file)\n"
                 "  --window-from T    only windows starting at or after T (ISO-8601 or -2h)\n"
                 "  --window-to T      only windows starting before T\n"
                 "\n"
                 "Prints a JSON line per (key, window) whose states differ:\n"
                 "{\"key\", \"window_start\", \"a\", \"b\"}, a and b as `bwm state` prints them\n"
                 "(null where a namespace has none). Exit 0: equal, 1: different, 2: usage.\n");
}

/* The window start in a result key "<key>@<start>", or 0 when there is none. */
static int64_t window_start(const char *id, size_t len, size_t *keylen)
{
    size_t at = len;
    int64_t v = 0;
    size_t i;

    while (at > 0 && id[at - 1] != '@') {
        at--;
    }
    if (at == 0) {
        *keylen = len;
        return 0;
    }
    *keylen = at - 1;
    for (i = at; i < len; i++) {
        if (id[i] >= '0' && id[i] <= '9') {
            v = v * 10 + (id[i] - '0');
        }
    }
    return id[at] == '-' ? -v : v;
}

static bwm_err_t keep_row(void *opaque, const char *id, size_t idlen, const char *line, size_t len)
{
    loader_t *ld = opaque;
    side_t *sd = ld->ld_side;
    entry_t *e;
    size_t keylen;
    int64_t start = window_start(id, idlen, &keylen);

    if (ld->ld_windowed && (start < ld->ld_from || start >= ld->ld_to)) {
        return BWM_OK;
    }
    if (sd->sd_n == sd->sd_cap) {
        size_t cap = sd->sd_cap ? sd->sd_cap * 2 : 256;
        entry_t *grown = realloc(sd->sd_entries, cap * sizeof(*grown));

        if (!grown) {
            return BWM_ERR_NOMEM;
        }
        sd->sd_entries = grown;
        sd->sd_cap = cap;
    }
    e = &sd->sd_entries[sd->sd_n];
    e->e_id = malloc(idlen + 1);
    e->e_line = malloc(len + 1);
    if (!e->e_id || !e->e_line) {
        free(e->e_id);
        free(e->e_line);
        return BWM_ERR_NOMEM;
    }
    memcpy(e->e_id, id, idlen);
    e->e_id[idlen] = '\0';
    e->e_idlen = idlen;
    memcpy(e->e_line, line, len);
    e->e_line[len] = '\0';
    e->e_len = len;
    sd->sd_n++;
    return BWM_OK;
}

static bwm_err_t on_state(const char *key, size_t keylen, const void *val, size_t len, void *opaque)
{
    loader_t *ld = opaque;

    return bwm_state_render(ld->ld_render, ld->ld_part, 0, key, keylen, val, len, keep_row, ld,
                            ld->ld_error, sizeof(ld->ld_error));
}

static int cmp_entry(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    size_t n = x->e_idlen < y->e_idlen ? x->e_idlen : y->e_idlen;
    int c = memcmp(x->e_id, y->e_id, n);

    return c ? c : (x->e_idlen > y->e_idlen) - (x->e_idlen < y->e_idlen);
}

static void side_free(side_t *sd)
{
    size_t i;

    for (i = 0; i < sd->sd_n; i++) {
        free(sd->sd_entries[i].e_id);
        free(sd->sd_entries[i].e_line);
    }
    free(sd->sd_entries);
}

/* Reads every state of ns into sd, sorted by result key, without repeats (a SCAN may repeat). */
static bwm_err_t load(const bwm_store_ops_t *ops, void *store, const char *ns, loader_t *ld,
                      side_t *sd, char *errstr, size_t errstr_size)
{
    int32_t *parts = NULL;
    size_t nparts = 0, i, k;
    bwm_err_t err;

    ld->ld_side = sd;
    err = ops->so_partitions(store, ns, &parts, &nparts, errstr, errstr_size);
    for (i = 0; !err && i < nparts; i++) {
        ld->ld_part = parts[i];
        ld->ld_error[0] = '\0';
        err =
            ops->so_scan(store, ns, parts[i], BWM_STORE_STATES, on_state, ld, errstr, errstr_size);
        if (err) {
            snprintf(errstr, errstr_size, "namespace %s: %s", ns,
                     ld->ld_error[0] ? ld->ld_error : bwm_err2str(err));
        }
    }
    free(parts);
    if (err || sd->sd_n == 0) {
        return err;
    }
    qsort(sd->sd_entries, sd->sd_n, sizeof(*sd->sd_entries), cmp_entry);
    for (i = 1, k = 1; i < sd->sd_n; i++) {
        if (cmp_entry(&sd->sd_entries[i], &sd->sd_entries[k - 1]) == 0) {
            free(sd->sd_entries[i].e_id);
            free(sd->sd_entries[i].e_line);
        } else {
            sd->sd_entries[k++] = sd->sd_entries[i];
        }
    }
    sd->sd_n = k;
    return BWM_OK;
}

/* Prints one differing window e; a or o is NULL where a namespace lacks it. */
static void print_diff(bwm_buf_t *b, int windowed, const entry_t *e, const entry_t *a,
                       const entry_t *o)
{
    size_t keylen;
    int64_t start = window_start(e->e_id, e->e_idlen, &keylen);
    char num[32];

    bwm_buf_reset(b);
    bwm_buf_put_str(b, "{\"key\":");
    bwm_json_put_exact(b, e->e_id, windowed ? keylen : e->e_idlen);
    snprintf(num, sizeof(num), "%" PRId64, start);
    bwm_buf_put_str(b, ",\"window_start\":");
    bwm_buf_put_str(b, windowed ? num : "null");
    bwm_buf_put_str(b, ",\"a\":");
    bwm_buf_put_str(b, a ? a->e_line : "null");
    bwm_buf_put_str(b, ",\"b\":");
    bwm_buf_put_str(b, o ? o->e_line : "null");
    bwm_buf_put_str(b, "}\n");
    fwrite(b->b_data, 1, b->b_len, stdout);
}

/* Compares the sorted sides; returns how many windows differ, of *total. */
static uint64_t compare(const side_t *a, const side_t *b, int windowed, uint64_t *total)
{
    size_t i = 0, j = 0;
    uint64_t differ = 0;
    bwm_buf_t out;

    bwm_buf_init(&out);
    *total = 0;
    while (i < a->sd_n || j < b->sd_n) {
        const entry_t *x = i < a->sd_n ? &a->sd_entries[i] : NULL;
        const entry_t *y = j < b->sd_n ? &b->sd_entries[j] : NULL;
        int c = !x ? 1 : !y ? -1 : cmp_entry(x, y);

        (*total)++;
        if (c < 0) {
            print_diff(&out, windowed, x, x, NULL);
            differ++;
            i++;
        } else if (c > 0) {
            print_diff(&out, windowed, y, NULL, y);
            differ++;
            j++;
        } else {
            if (x->e_len != y->e_len || memcmp(x->e_line, y->e_line, x->e_len) != 0) {
                print_diff(&out, windowed, x, x, y);
                differ++;
            }
            i++;
            j++;
        }
    }
    bwm_buf_free(&out);
    return differ;
}

/* Loads and compares; returns the exit status. */
static int diff(const bwm_job_t *job, const bwm_conf_t *conf, const char *ns_a, const char *ns_b,
                int64_t from, int64_t to)
{
    const bwm_store_ops_t *ops = bwm_store_find("redis");
    loader_t ld;
    side_t a = {0}, b = {0};
    void *store = NULL;
    uint64_t differ = 0, total = 0;
    char errstr[1024];
    bwm_err_t err;

    memset(&ld, 0, sizeof(ld));
    ld.ld_windowed = job->j_plan->p_window.w_kind != BWM_WINDOW_NONE;
    ld.ld_from = from;
    ld.ld_to = to;
    err = ops->so_open(conf, &store, errstr, sizeof(errstr));
    if (!err) {
        err = bwm_state_render_new(job, &ld.ld_render, errstr, sizeof(errstr));
    }
    if (!err) {
        err = load(ops, store, ns_a, &ld, &a, errstr, sizeof(errstr));
    }
    if (!err) {
        err = load(ops, store, ns_b, &ld, &b, errstr, sizeof(errstr));
    }
    if (!err) {
        differ = compare(&a, &b, ld.ld_windowed, &total);
        fflush(stdout);
        fprintf(stderr,
                "bwm state diff: %" PRIu64 " of %" PRIu64
                " (key, window)s differ between %s (%zu) and %s (%zu)\n",
                differ, total, ns_a, a.sd_n, ns_b, b.sd_n);
    } else {
        fprintf(stderr, "bwm state diff: %s\n", errstr);
    }
    side_free(&a);
    side_free(&b);
    bwm_state_render_destroy(ld.ld_render);
    if (store) {
        ops->so_close(store);
    }
    if (err) {
        return err == BWM_ERR_INVALID ? BWM_EXIT_USAGE : BWM_EXIT_RUNTIME;
    }
    return differ ? BWM_EXIT_RUNTIME : BWM_EXIT_OK;
}

int bwm_cmd_state_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"window-from", required_argument, NULL, 'f'},
        {"window-to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *window[2] = {NULL, NULL};
    int64_t bounds[2] = {INT64_MIN, INT64_MAX};
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_job_t *job = NULL;
    char *dir = NULL, errstr[1024];
    int c, k, i, status;

    while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 'f':
            case 't':
                window[c == 't'] = optarg;
                break;
            case 'h':
                diff_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "state diff");
                if (k <= 0) {
                    if (k == 0) {
                        diff_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!path || argc - optind != 2) {
        fprintf(stderr, "bwm state diff: %s\n\n",
                !path ? "-c job.conf is required" : "give two namespaces to compare");
        diff_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    for (i = 0; i < 2; i++) {
        if (window[i] && bwm_cli_parse_time(window[i], &bounds[i]) != BWM_OK) {
            fprintf(stderr,
                    "bwm state diff: %s '%s' is not a time (ISO-8601 such as "
                    "2026-11-26T15:00:00Z, or relative such as -2h)\n",
                    i ? "--window-to" : "--window-from", window[i]);
            return BWM_EXIT_USAGE;
        }
        if (!bwm_replay_name_ok(argv[optind + i], 200)) {
            fprintf(stderr, "bwm state diff: namespace '%s' is not valid (A-Z a-z 0-9 . _ -)\n",
                    argv[optind + i]);
            return BWM_EXIT_USAGE;
        }
    }
    if (bwm_cli_conf_load(path, &xs, &conf, &dir, errstr, sizeof(errstr)) ||
        bwm_job_new(conf, dir, &job, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm state diff: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
    } else if ((window[0] || window[1]) && job->j_plan->p_window.w_kind == BWM_WINDOW_NONE) {
        fprintf(stderr, "bwm state diff: --window-from/--window-to: job %s has no WINDOW\n",
                job->j_plan->p_name);
        status = BWM_EXIT_USAGE;
    } else {
        status = diff(job, conf, argv[optind], argv[optind + 1], bounds[0], bounds[1]);
    }
    bwm_job_destroy(job);
    bwm_conf_destroy(conf);
    free(dir);
    return status;
}
