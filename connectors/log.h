/*
 * log.h: logging for cmd/ and connectors/ (core/ never logs; it returns
 * errors). BWM_LOG checks the level and facility before formatting anything.
 * Lines go to stderr: "2026-11-26T12:00:00.123Z INFO  kafka: message".
 */
#ifndef BWM_LOG_H
#define BWM_LOG_H

typedef enum bwm_log_level {
    BWM_LOG_ERR = 3,
    BWM_LOG_WARN = 4,
    BWM_LOG_NOTICE = 5,
    BWM_LOG_INFO = 6,
    BWM_LOG_DEBUG = 7,
} bwm_log_level_t;

/* Facilities, selectable for debug output with `debug=state,kafka`. */
#define BWM_FAC_MAIN     0x01
#define BWM_FAC_KAFKA    0x02
#define BWM_FAC_STATE    0x04
#define BWM_FAC_REGISTRY 0x08
#define BWM_FAC_HTTP     0x10
#define BWM_FAC_ALL      0xff

extern int bwm_log_level;
extern int bwm_log_debug_facs;

#define BWM_LOG(level, fac, ...)                                                                   \
    do {                                                                                           \
        if ((level) <= bwm_log_level &&                                                            \
            ((level) < BWM_LOG_DEBUG || (bwm_log_debug_facs & (fac)))) {                           \
            bwm_log_write((level), (fac), __VA_ARGS__);                                            \
        }                                                                                          \
    } while (0)

void bwm_log_write(int level, int fac, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the level from "err|warn|notice|info|debug"; returns -1 for an unknown name. */
int bwm_log_set_level(const char *name);

/* Enables debug output for a comma-separated facility list ("state,kafka" or "all"); -1 on an
 * unknown facility. */
int bwm_log_set_debug(const char *facs);

/* Facility name of a BWM_FAC_ bit. */
const char *bwm_log_fac_name(int fac);

#endif
