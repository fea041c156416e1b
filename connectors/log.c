/*
 * log.c: the log writer. One line per call, written with a single fwrite so
 * lines from librdkafka's threads do not interleave.
 */
#include "connectors/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int bwm_log_level = BWM_LOG_INFO;
int bwm_log_debug_facs = 0;

static const struct {
    const char *name;
    int fac;
} facs[] = {
    {"main", BWM_FAC_MAIN},         {"kafka", BWM_FAC_KAFKA}, {"state", BWM_FAC_STATE},
    {"registry", BWM_FAC_REGISTRY}, {"http", BWM_FAC_HTTP},   {"all", BWM_FAC_ALL},
};

const char *bwm_log_fac_name(int fac)
{
    size_t i;

    for (i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
        if (facs[i].fac == fac) {
            return facs[i].name;
        }
    }
    return "?";
}

static const char *level_name(int level)
{
    switch (level) {
        case BWM_LOG_ERR:
            return "ERROR";
        case BWM_LOG_WARN:
            return "WARN ";
        case BWM_LOG_NOTICE:
            return "NOTE ";
        case BWM_LOG_INFO:
            return "INFO ";
        default:
            return "DEBUG";
    }
}

void bwm_log_write(int level, int fac, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
                 level_name(level), bwm_log_fac_name(fac));
    n += (size_t)r;
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    n = r < 0 ? n : (n + (size_t)r > sizeof(line) - 2 ? sizeof(line) - 2 : n + (size_t)r);
    line[n++] = '\n';
    fwrite(line, 1, n, stderr);
}

int bwm_log_set_level(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"err", BWM_LOG_ERR},
                  {"warn", BWM_LOG_WARN},
                  {"notice", BWM_LOG_NOTICE},
                  {"info", BWM_LOG_INFO},
                  {"debug", BWM_LOG_DEBUG}};
    size_t i;

    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcasecmp(levels[i].name, name) == 0) {
            bwm_log_level = levels[i].level;
            return 0;
        }
    }
    return -1;
}

int bwm_log_set_debug(const char *list)
{
    char copy[256], *save = NULL, *tok;
    int mask = 0;
    size_t i;

    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int found = 0;

        for (i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
            if (strcasecmp(facs[i].name, tok) == 0) {
                mask |= facs[i].fac;
                found = 1;
            }
        }
        if (!found) {
            return -1;
        }
    }
    bwm_log_debug_facs = mask;
    if (mask) {
        bwm_log_level = BWM_LOG_DEBUG;
    }
    return 0;
}
