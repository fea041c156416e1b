/*
 * cli.h: what every subcommand shares: exit statuses, loading configuration
 * from a file, BWM_<KEY> environment variables and -X flags, the list of all
 * configuration tables, reading whole files, and the stop flag set by signals.
 */
#ifndef BWM_CLI_H
#define BWM_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

#define BWM_EXIT_OK      0
#define BWM_EXIT_RUNTIME 1
#define BWM_EXIT_USAGE   2

/* Most -X flags one command line may carry. */
#define BWM_CLI_MAX_X 64

/* Set by SIGINT/SIGTERM; long-running commands poll it. */
extern volatile sig_atomic_t bwm_cli_stop;

/*
 * Installs the SIGINT/SIGTERM handler. The first signal sets bwm_cli_stop;
 * the handler then resets itself, so a second signal ends the process at once.
 */
void bwm_cli_signals(void);

/* -X key=value flags collected by a subcommand's option parser. */
typedef struct bwm_cli_xs {
    const char *x[BWM_CLI_MAX_X];
    int n;
    char xs_brokers[1024];  /* -b, as kafka.bootstrap.servers=... */
    char xs_registry[1024]; /* -r, as registry.url=... */
} bwm_cli_xs_t;

/*
 * Takes an option every subcommand shares: -c FILE (into *path) and
 * -X key=value, and -b BROKERS and -r URL, shorthands for
 * -X kafka.bootstrap.servers=... and -X registry.url=... (a subcommand
 * that has no use for them leaves them out of its getopt string).
 * Returns 1 when c was one of them, 0 when it was not, -1 when it was but
 * cannot be taken (the message, naming cmd, is printed: exit with
 * BWM_EXIT_USAGE).
 */
int bwm_cli_common_opt(bwm_cli_xs_t *xs, const char **path, int c, const char *arg,
                       const char *cmd);

/*
 * Builds the configuration: path (may be NULL) first, then BWM_<KEY>
 * environment variables, then -X flags; later sources win. Unknown keys are
 * errors. On success *confp is new (bwm_conf_destroy()) and *dirp (optional)
 * the directory relative paths in the file are resolved against (free()).
 */
bwm_err_t bwm_cli_conf_load(const char *path, const bwm_cli_xs_t *xs, bwm_conf_t **confp,
                            char **dirp, char *errstr, size_t errstr_size);

/* Every configuration table, for checks and `bwm config --help`. */
const bwm_conf_table_t *const *bwm_cli_tables(size_t *n);

/* Reads a whole file (at most max bytes) into a new NUL-terminated buffer the caller frees. */
bwm_err_t bwm_cli_read_file(const char *path, size_t max, char **out, size_t *len, char *errstr,
                            size_t errstr_size);

/* Joins dir and path unless path is absolute or dir is NULL; the caller frees. */
char *bwm_cli_path(const char *dir, const char *path);

/*
 * Parses a time for options like --from: ISO-8601 ("2026-01-01T10:00:00Z",
 * "2026-01-01T12:00:00.250+02:00", "2026-01-01" for midnight UTC), or a time
 * relative to now ("-2h", "-30m", "-7d", "-45s"). BWM_ERR_PARSE otherwise.
 */
bwm_err_t bwm_cli_parse_time(const char *s, int64_t *ms);

/* Monotonic milliseconds, for intervals. */
long long bwm_cli_now_ms(void);

/* Whether stderr is a terminal (progress lines are drawn only then). */
int bwm_cli_tty(void);

/*
 * Asks before something that cannot be undone: "bwm <cmd>: <question>
 * [y/N]" on a terminal (stdin), unless yes is set. Returns 1 to go on, 0
 * when declined (said on stderr), -1 when stdin is not a terminal and yes is not set (the
 * refusal is printed: exit with BWM_EXIT_USAGE).
 */
int bwm_cli_confirm(const char *cmd, const char *question, int yes);

#endif
