/*
 * conf.h: table-driven configuration. A bwm_conf_t holds the key = value
 * pairs collected from a properties file, BWM_<KEY> environment variables and
 * -X flags, each with its origin. A module declares its keys once, in a table
 * of bwm_conf_def_t, and that table drives parsing, validation, binding into
 * the module's struct and `bwm config --help`.
 */
#ifndef BWM_CONF_H
#define BWM_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef enum bwm_conf_type {
    BWM_CONF_STR,    /* char *, owned by the bound struct */
    BWM_CONF_SECRET, /* char *: a literal, env:NAME or file:/path; never printed */
    BWM_CONF_INT,    /* int64_t within [cd_min, cd_max] */
    BWM_CONF_BOOL,   /* int: true or false */
    BWM_CONF_ENUM,   /* char *: one of the '|'-separated words of cd_enum */
} bwm_conf_type_t;

typedef struct bwm_conf_def {
    const char *cd_name;
    bwm_conf_type_t cd_type;
    const char *cd_default; /* NULL: unset (NULL string, or required when cd_required) */
    int64_t cd_min;
    int64_t cd_max;
    const char *cd_enum;
    size_t cd_offset; /* offsetof() the field in the module's struct */
    int cd_required;
    const char *cd_desc;
} bwm_conf_def_t;

typedef struct bwm_conf_table {
    const char *ct_module;
    const bwm_conf_def_t *ct_defs;
    size_t ct_count;
} bwm_conf_table_t;

typedef struct bwm_conf bwm_conf_t;

/* Returns an empty configuration, or NULL when out of memory. Free with bwm_conf_destroy(). */
bwm_conf_t *bwm_conf_new(void);
void bwm_conf_destroy(bwm_conf_t *conf);

/*
 * Sets key to value. origin names where it came from ("job.conf:12", "-X",
 * "env BWM_REDIS_URL"); a later set of the same key replaces the earlier one,
 * which is how -X overrides the environment and the environment the file.
 */
bwm_err_t bwm_conf_set(bwm_conf_t *conf, const char *key, const char *value, const char *origin);

/*
 * Parses properties text (`key = value` lines, `#` or `!` comments, blank
 * lines). A key set twice in the same text is an error. filename is used for
 * origins and messages.
 */
bwm_err_t bwm_conf_parse(bwm_conf_t *conf, const char *text, size_t len, const char *filename,
                         char *errstr, size_t errstr_size);

/* Returns the value of key, or NULL; *originp (optional) gets its origin. */
const char *bwm_conf_get(const bwm_conf_t *conf, const char *key, const char **originp);

/* Calls cb for every key starting with prefix, in the order first set. Stops at a non-zero return.
 */
int bwm_conf_foreach_prefix(const bwm_conf_t *conf, const char *prefix,
                            int (*cb)(const char *key, const char *value, const char *origin,
                                      void *opaque),
                            void *opaque);

/*
 * Validates every key of table and writes it into out (a struct of the
 * module). Strings are copied; bwm_conf_unbind() frees them. Errors name the
 * key, its origin and the allowed values.
 */
bwm_err_t bwm_conf_bind(const bwm_conf_t *conf, const bwm_conf_table_t *table, void *out,
                        char *errstr, size_t errstr_size);
void bwm_conf_unbind(const bwm_conf_table_t *table, void *out);

/*
 * Fails on the first key that no table declares and that starts with none of
 * the pass-through prefixes (e.g. "kafka."), suggesting the closest known key.
 */
bwm_err_t bwm_conf_check_known(const bwm_conf_t *conf, const bwm_conf_table_t *const *tables,
                               size_t ntables, const char *const *prefixes, size_t nprefixes,
                               char *errstr, size_t errstr_size);

/* Maps a key to its environment variable name: "redis.url" -> "BWM_REDIS_URL". */
void bwm_conf_env_name(const char *key, char *out, size_t out_size);

/* Appends a human description of table (one key per line, bounds, default) to b. */
void bwm_conf_describe(const bwm_conf_table_t *table, bwm_buf_t *b);

#endif
