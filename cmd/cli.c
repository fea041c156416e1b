/*
 * cli.c: configuration loading and the helpers shared by subcommands.
 */
#include "cmd/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/forward_conf.h"
#include "cmd/job.h"
#include "connectors/aws/aws.h"
#include "connectors/redis/redis.h"
#include "connectors/registry/registry.h"
#include "core/calendar.h"

extern char **environ;

volatile sig_atomic_t bwm_cli_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    bwm_cli_stop = 1;
}

void bwm_cli_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int xs_add(bwm_cli_xs_t *xs, const char *arg, const char *cmd)
{
    if (xs->n >= BWM_CLI_MAX_X) {
        fprintf(stderr, "bwm %s: more than %d -X flags\n", cmd, BWM_CLI_MAX_X);
        return -1;
    }
    xs->x[xs->n++] = arg;
    return 1;
}

static int xs_short(bwm_cli_xs_t *xs, char *out, size_t size, const char *key, const char *arg,
                    const char *cmd)
{
    if ((size_t)snprintf(out, size, "%s=%s", key, arg) >= size) {
        fprintf(stderr, "bwm %s: %s: value longer than %zu bytes\n", cmd, key,
                size - strlen(key) - 2);
        return -1;
    }
    return xs_add(xs, out, cmd);
}

int bwm_cli_common_opt(bwm_cli_xs_t *xs, const char **path, int c, const char *arg, const char *cmd)
{
    switch (c) {
        case 'c':
            *path = arg;
            return 1;
        case 'X':
            return xs_add(xs, arg, cmd);
        case 'b':
            return xs_short(xs, xs->xs_brokers, sizeof(xs->xs_brokers), "kafka.bootstrap.servers",
                            arg, cmd);
        case 'r':
            return xs_short(xs, xs->xs_registry, sizeof(xs->xs_registry), "registry.url", arg, cmd);
    }
    return 0;
}

const bwm_conf_table_t *const *bwm_cli_tables(size_t *n)
{
    static const bwm_conf_table_t *const tables[] = {
        &bwm_job_conf_table, &bwm_redis_conf_table,   &bwm_registry_conf_table,
        &bwm_aws_conf_table, &bwm_forward_conf_table, &bwm_coreview_conf_table,
    };

    *n = sizeof(tables) / sizeof(tables[0]);
    return tables;
}

bwm_err_t bwm_cli_read_file(const char *path, size_t max, char **out, size_t *len, char *errstr,
                            size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        return bwm_err_set(BWM_ERR_NOT_FOUND, errstr, errstr_size, "cannot open %s: %s", path,
                           strerror(errno));
    }
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return bwm_err_set(BWM_ERR_IO, errstr, errstr_size, "cannot read %s", path);
    }
    fclose(f);
    if (n > max) {
        free(buf);
        return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size, "%s is larger than %zu bytes", path,
                           max);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) {
        *len = n;
    }
    return BWM_OK;
}

char *bwm_cli_path(const char *dir, const char *path)
{
    char *out;

    if (!dir || path[0] == '/') {
        return strdup(path);
    }
    out = malloc(strlen(dir) + strlen(path) + 2);
    if (out) {
        sprintf(out, "%s/%s", dir, path);
    }
    return out;
}

/* Applies BWM_<KEY> variables: for every key of every table, and BWM_KAFKA_* for kafka.*. */
static bwm_err_t apply_env(bwm_conf_t *conf)
{
    const bwm_conf_table_t *const *tables;
    size_t nt, t, k;
    char env[256], origin[300];
    char **e;
    bwm_err_t err;

    tables = bwm_cli_tables(&nt);
    for (t = 0; t < nt; t++) {
        for (k = 0; k < tables[t]->ct_count; k++) {
            const char *v;

            bwm_conf_env_name(tables[t]->ct_defs[k].cd_name, env, sizeof(env));
            v = getenv(env);
            if (v) {
                snprintf(origin, sizeof(origin), "environment %s", env);
                err = bwm_conf_set(conf, tables[t]->ct_defs[k].cd_name, v, origin);
                if (err) {
                    return err;
                }
            }
        }
    }
    for (e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        char key[256];
        size_t i, n;

        if (strncmp(*e, "BWM_KAFKA_", 10) != 0 || !eq) {
            continue;
        }
        n = (size_t)(eq - *e) - 10;
        if (n == 0 || n + 7 >= sizeof(key)) {
            continue;
        }
        memcpy(key, "kafka.", 6);
        for (i = 0; i < n; i++) {
            char ch = (*e)[10 + i];

            key[6 + i] = ch == '_' ? '.' : (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
        key[6 + n] = '\0';
        snprintf(origin, sizeof(origin), "environment %.*s", (int)(eq - *e), *e);
        err = bwm_conf_set(conf, key, eq + 1, origin);
        if (err) {
            return err;
        }
    }
    return BWM_OK;
}

bwm_err_t bwm_cli_conf_load(const char *path, const bwm_cli_xs_t *xs, bwm_conf_t **confp,
                            char **dirp, char *errstr, size_t errstr_size)
{
    static const char *const prefixes[] = {"kafka."};
    const bwm_conf_table_t *const *tables;
    bwm_conf_t *conf = bwm_conf_new();
    char *text = NULL;
    size_t len, nt;
    int i;
    bwm_err_t err = BWM_OK;

    if (!conf) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (path) {
        err = bwm_cli_read_file(path, 1 << 20, &text, &len, errstr, errstr_size);
        if (!err) {
            err = bwm_conf_parse(conf, text, len, path, errstr, errstr_size);
        }
        free(text);
    }
    if (!err) {
        err = apply_env(conf);
    }
    for (i = 0; !err && xs && i < xs->n; i++) {
        const char *eq = strchr(xs->x[i], '=');
        char key[256];

        if (!eq || eq == xs->x[i] || (size_t)(eq - xs->x[i]) >= sizeof(key)) {
            err = bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "-X %s: expected -X key=value",
                              xs->x[i]);
            break;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - xs->x[i]), xs->x[i]);
        err = bwm_conf_set(conf, key, eq + 1, "-X");
    }
    if (!err) {
        tables = bwm_cli_tables(&nt);
        err = bwm_conf_check_known(conf, tables, nt, prefixes, 1, errstr, errstr_size);
    }
    if (err) {
        bwm_conf_destroy(conf);
        return err;
    }
    if (dirp) {
        const char *slash = path ? strrchr(path, '/') : NULL;

        *dirp = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    }
    *confp = conf;
    return BWM_OK;
}

bwm_err_t bwm_cli_parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, frac_digits = 0;
    int64_t frac = 0, offset_min = 0;
    const char *p;

    if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        int64_t unit = *end == 's'   ? 1000
                       : *end == 'm' ? 60000
                       : *end == 'h' ? 3600000
                       : *end == 'd' ? 86400000
                                     : 0;
        struct timespec now;

        if (!unit || end[1] != '\0' || v < 0 || v > 100000 * 86400LL) {
            return BWM_ERR_PARSE;
        }
        clock_gettime(CLOCK_REALTIME, &now);
        *ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - (int64_t)v * unit;
        return BWM_OK;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
        return BWM_ERR_PARSE;
    }
    p = s + n;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5) {
            return BWM_ERR_PARSE;
        }
        p += 1 + n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &sec, &n) != 1 || n != 2) {
                return BWM_ERR_PARSE;
            }
            p += 3;
            if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
                    if (frac_digits < 3) {
                        frac = frac * 10 + (*p - '0');
                    }
                }
                for (; frac_digits < 3; frac_digits++) {
                    frac *= 10;
                }
            }
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;

            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5) {
                return BWM_ERR_PARSE;
            }
            offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
            p += 1 + n;
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return BWM_ERR_PARSE;
    }
    *ms = ((bwm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi - offset_min) *
              60000 +
          (int64_t)sec * 1000 + frac;
    return BWM_OK;
}

long long bwm_cli_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bwm_cli_tty(void)
{
    return isatty(STDERR_FILENO);
}

int bwm_cli_confirm(const char *cmd, const char *question, int yes)
{
    char line[64];

    if (yes) {
        return 1;
    }
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "bwm %s: %s: refusing without --yes, as stdin is not a terminal to ask\n",
                cmd, question);
        return -1;
    }
    fprintf(stderr, "bwm %s: %s [y/N] ", cmd, question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) &&
        (strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0)) {
        return 1;
    }
    fprintf(stderr, "bwm %s: not confirmed; nothing was changed\n", cmd);
    return 0;
}
