/*
 * conf.c: properties parsing, validation against module tables, and binding
 * into module structs. Every error names the key, where it was set and what
 * would have been accepted.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct conf_entry {
    char *ce_key;
    char *ce_value;
    char *ce_origin;
    const char *ce_file; /* set for entries from bwm_conf_parse, for duplicate checks */
} conf_entry_t;

struct bwm_conf {
    conf_entry_t *c_entries;
    size_t c_count;
    size_t c_cap;
};

bwm_conf_t *bwm_conf_new(void)
{
    return calloc(1, sizeof(bwm_conf_t));
}

void bwm_conf_destroy(bwm_conf_t *conf)
{
    size_t i;

    if (!conf) {
        return;
    }
    for (i = 0; i < conf->c_count; i++) {
        free(conf->c_entries[i].ce_key);
        free(conf->c_entries[i].ce_value);
        free(conf->c_entries[i].ce_origin);
    }
    free(conf->c_entries);
    free(conf);
}

static conf_entry_t *conf_find(const bwm_conf_t *conf, const char *key)
{
    size_t i;

    for (i = 0; i < conf->c_count; i++) {
        if (strcmp(conf->c_entries[i].ce_key, key) == 0) {
            return &conf->c_entries[i];
        }
    }
    return NULL;
}

bwm_err_t bwm_conf_set(bwm_conf_t *conf, const char *key, const char *value, const char *origin)
{
    conf_entry_t *e = conf_find(conf, key);
    char *v, *o;

    v = strdup(value);
    o = strdup(origin ? origin : "");
    if (!v || !o) {
        free(v);
        free(o);
        return BWM_ERR_NOMEM;
    }
    if (e) {
        free(e->ce_value);
        free(e->ce_origin);
        e->ce_value = v;
        e->ce_origin = o;
        e->ce_file = NULL;
        return BWM_OK;
    }
    if (conf->c_count == conf->c_cap) {
        size_t cap = conf->c_cap ? conf->c_cap * 2 : 16;
        conf_entry_t *n = realloc(conf->c_entries, cap * sizeof(*n));

        if (!n) {
            free(v);
            free(o);
            return BWM_ERR_NOMEM;
        }
        conf->c_entries = n;
        conf->c_cap = cap;
    }
    e = &conf->c_entries[conf->c_count];
    e->ce_key = strdup(key);
    if (!e->ce_key) {
        free(v);
        free(o);
        return BWM_ERR_NOMEM;
    }
    e->ce_value = v;
    e->ce_origin = o;
    e->ce_file = NULL;
    conf->c_count++;
    return BWM_OK;
}

/* Trims ASCII space on both sides of [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s)) {
        (*s)++;
    }
    while (*e > *s && isspace((unsigned char)(*e)[-1])) {
        (*e)--;
    }
}

static int key_is_valid(const char *k, size_t n)
{
    size_t i;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];

        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-') {
            return 0;
        }
    }
    return 1;
}

bwm_err_t bwm_conf_parse(bwm_conf_t *conf, const char *text, size_t len, const char *filename,
                         char *errstr, size_t errstr_size)
{
    const char *p = text, *end = text + len;
    int line = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *ls, *le, *eq, *ks, *ke, *vs, *ve;
        char key[256], origin[512], *value;
        conf_entry_t *prev;
        bwm_err_t err;

        if (!eol) {
            eol = end;
        }
        line++;
        ls = p;
        le = eol;
        p = eol < end ? eol + 1 : end;
        trim(&ls, &le);
        if (ls == le || *ls == '#' || *ls == '!') {
            continue;
        }
        eq = memchr(ls, '=', (size_t)(le - ls));
        if (!eq) {
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                               "%s:%d: expected 'key = value', got '%.*s'", filename, line,
                               (int)(le - ls), ls);
        }
        ks = ls;
        ke = eq;
        vs = eq + 1;
        ve = le;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (!key_is_valid(ks, (size_t)(ke - ks)) || (size_t)(ke - ks) >= sizeof(key)) {
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                               "%s:%d: invalid key '%.*s' (letters, digits, '.', '_' and '-')",
                               filename, line, (int)(ke - ks), ks);
        }
        memcpy(key, ks, (size_t)(ke - ks));
        key[ke - ks] = '\0';
        prev = conf_find(conf, key);
        if (prev && prev->ce_file == filename) {
            return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                               "%s:%d: key '%s' is set twice (first at %s)", filename, line, key,
                               prev->ce_origin);
        }
        value = strndup(vs, (size_t)(ve - vs));
        if (!value) {
            return BWM_ERR_NOMEM;
        }
        snprintf(origin, sizeof(origin), "%s:%d", filename, line);
        err = bwm_conf_set(conf, key, value, origin);
        free(value);
        if (err) {
            return err;
        }
        conf_find(conf, key)->ce_file = filename;
    }
    return BWM_OK;
}

const char *bwm_conf_get(const bwm_conf_t *conf, const char *key, const char **originp)
{
    const conf_entry_t *e = conf_find(conf, key);

    if (originp) {
        *originp = e ? e->ce_origin : NULL;
    }
    return e ? e->ce_value : NULL;
}

int bwm_conf_foreach_prefix(const bwm_conf_t *conf, const char *prefix,
                            int (*cb)(const char *key, const char *value, const char *origin,
                                      void *opaque),
                            void *opaque)
{
    size_t i, n = strlen(prefix);
    int r;

    for (i = 0; i < conf->c_count; i++) {
        const conf_entry_t *e = &conf->c_entries[i];

        if (strncmp(e->ce_key, prefix, n) == 0) {
            r = cb(e->ce_key, e->ce_value, e->ce_origin, opaque);
            if (r) {
                return r;
            }
        }
    }
    return 0;
}

/* Says where a value came from, for messages: "job.conf:3: " or "default: ". */
static void origin_prefix(const char *origin, char *out, size_t size)
{
    snprintf(out, size, "%s: ", origin ? origin : "default");
}

static int enum_has(const char *words, const char *v)
{
    size_t n = strlen(v);
    const char *p = words;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t wn = bar ? (size_t)(bar - p) : strlen(p);

        if (wn == n && strncmp(p, v, n) == 0) {
            return 1;
        }
        if (!bar) {
            break;
        }
        p = bar + 1;
    }
    return 0;
}

static bwm_err_t bind_one(const bwm_conf_def_t *d, const char *value, const char *origin, void *out,
                          char *errstr, size_t errstr_size)
{
    char where[600];
    char *field = (char *)out + d->cd_offset;

    origin_prefix(origin, where, sizeof(where));
    switch (d->cd_type) {
        case BWM_CONF_STR:
        case BWM_CONF_SECRET:
        case BWM_CONF_ENUM: {
            char *copy;

            if (d->cd_type == BWM_CONF_ENUM && !enum_has(d->cd_enum, value)) {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s%s = '%s' is not valid (allowed: %s)", where, d->cd_name,
                                   value, d->cd_enum);
            }
            if (d->cd_required && value[0] == '\0') {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s%s must not be empty",
                                   where, d->cd_name);
            }
            copy = strdup(value);
            if (!copy) {
                return BWM_ERR_NOMEM;
            }
            free(*(char **)field);
            *(char **)field = copy;
            return BWM_OK;
        }
        case BWM_CONF_INT: {
            char *endp;
            long long v;

            errno = 0;
            v = strtoll(value, &endp, 10);
            if (errno || endp == value || *endp != '\0') {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s%s = '%s' is not an integer (allowed: %" PRId64 " .. %" PRId64
                                   ")",
                                   where, d->cd_name, value, d->cd_min, d->cd_max);
            }
            if (v < d->cd_min || v > d->cd_max) {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s%s = %lld is out of range (allowed: %" PRId64 " .. %" PRId64
                                   ")",
                                   where, d->cd_name, v, d->cd_min, d->cd_max);
            }
            *(int64_t *)field = (int64_t)v;
            return BWM_OK;
        }
        case BWM_CONF_BOOL:
            if (strcmp(value, "true") == 0) {
                *(int *)field = 1;
            } else if (strcmp(value, "false") == 0) {
                *(int *)field = 0;
            } else {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s%s = '%s' is not valid (allowed: true|false)", where,
                                   d->cd_name, value);
            }
            return BWM_OK;
    }
    return BWM_ERR_INVALID;
}

bwm_err_t bwm_conf_bind(const bwm_conf_t *conf, const bwm_conf_table_t *table, void *out,
                        char *errstr, size_t errstr_size)
{
    size_t i;
    bwm_err_t err;

    for (i = 0; i < table->ct_count; i++) {
        const bwm_conf_def_t *d = &table->ct_defs[i];
        const char *origin = NULL;
        const char *value = bwm_conf_get(conf, d->cd_name, &origin);

        if (!value) {
            value = d->cd_default;
            origin = NULL;
        }
        if (!value) {
            if (d->cd_required) {
                char env[256];

                bwm_conf_env_name(d->cd_name, env, sizeof(env));
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s is required (%s); set it in the file, with -X %s=... or %s",
                                   d->cd_name, d->cd_desc, d->cd_name, env);
            }
            continue;
        }
        err = bind_one(d, value, origin, out, errstr, errstr_size);
        if (err) {
            return err;
        }
    }
    return BWM_OK;
}

void bwm_conf_unbind(const bwm_conf_table_t *table, void *out)
{
    size_t i;

    for (i = 0; i < table->ct_count; i++) {
        const bwm_conf_def_t *d = &table->ct_defs[i];
        char **field = (char **)((char *)out + d->cd_offset);

        if (d->cd_type == BWM_CONF_STR || d->cd_type == BWM_CONF_SECRET ||
            d->cd_type == BWM_CONF_ENUM) {
            free(*field);
            *field = NULL;
        }
    }
}

/* Edit distance, bounded to short keys; used only for suggestions. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[128];

    if (la >= 127 || lb >= 127) {
        return (size_t)-1;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            if (up + 1 < best) {
                best = up + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

bwm_err_t bwm_conf_check_known(const bwm_conf_t *conf, const bwm_conf_table_t *const *tables,
                               size_t ntables, const char *const *prefixes, size_t nprefixes,
                               char *errstr, size_t errstr_size)
{
    size_t i, t, k, p;

    for (i = 0; i < conf->c_count; i++) {
        const conf_entry_t *e = &conf->c_entries[i];
        const char *best = NULL;
        size_t best_d = (size_t)-1;
        int known = 0;
        char where[600];

        for (p = 0; p < nprefixes && !known; p++) {
            known = strncmp(e->ce_key, prefixes[p], strlen(prefixes[p])) == 0;
        }
        for (t = 0; t < ntables && !known; t++) {
            for (k = 0; k < tables[t]->ct_count; k++) {
                const char *name = tables[t]->ct_defs[k].cd_name;
                size_t d;

                if (strcmp(name, e->ce_key) == 0) {
                    known = 1;
                    break;
                }
                d = edit_distance(name, e->ce_key);
                if (d < best_d) {
                    best_d = d;
                    best = name;
                }
            }
        }
        if (known) {
            continue;
        }
        origin_prefix(e->ce_origin, where, sizeof(where));
        if (best && best_d <= 3) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                               "%sunknown key '%s' (did you mean '%s'?)", where, e->ce_key, best);
        }
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                           "%sunknown key '%s' (see `bwm config --help` for the valid keys)", where,
                           e->ce_key);
    }
    return BWM_OK;
}

void bwm_conf_env_name(const char *key, char *out, size_t out_size)
{
    size_t i, o = 0;

    if (out_size == 0) {
        return;
    }
    for (i = 0; i < 4 && o + 1 < out_size; i++) {
        out[o++] = "BWM_"[i];
    }
    for (i = 0; key[i] && o + 1 < out_size; i++) {
        char ch = key[i];

        out[o++] = (ch == '.' || ch == '-') ? '_' : (char)toupper((unsigned char)ch);
    }
    out[o] = '\0';
}

void bwm_conf_describe(const bwm_conf_table_t *table, bwm_buf_t *b)
{
    size_t i;
    char line[1024];

    snprintf(line, sizeof(line), "[%s]\n", table->ct_module);
    bwm_buf_put_str(b, line);
    for (i = 0; i < table->ct_count; i++) {
        const bwm_conf_def_t *d = &table->ct_defs[i];
        char allowed[256];

        switch (d->cd_type) {
            case BWM_CONF_INT:
                snprintf(allowed, sizeof(allowed), "integer %" PRId64 " .. %" PRId64, d->cd_min,
                         d->cd_max);
                break;
            case BWM_CONF_BOOL:
                snprintf(allowed, sizeof(allowed), "true|false");
                break;
            case BWM_CONF_ENUM:
                snprintf(allowed, sizeof(allowed), "%s", d->cd_enum);
                break;
            case BWM_CONF_SECRET:
                snprintf(allowed, sizeof(allowed), "secret: value, env:NAME or file:/path");
                break;
            default:
                snprintf(allowed, sizeof(allowed), "string");
                break;
        }
        snprintf(line, sizeof(line), "  %-28s %s; default %s%s\n      %s\n", d->cd_name, allowed,
                 d->cd_default ? d->cd_default : "(none)", d->cd_required ? "; required" : "",
                 d->cd_desc);
        bwm_buf_put_str(b, line);
    }
}
