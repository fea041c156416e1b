/*
 * secret.c: env: and file: secret references.
 */
#include "connectors/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Secrets are short: tokens, passwords, URLs. A larger file is a mistake. */
#define SECRET_MAX 65536

bwm_err_t bwm_secret_resolve(const char *key, const char *spec, char **out, char *errstr,
                             size_t errstr_size)
{
    if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);

        if (!v) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                               "%s: environment variable %s is not set", key, spec + 4);
        }
        *out = strdup(v);
    } else if (strncmp(spec, "file:", 5) == 0) {
        FILE *f = fopen(spec + 5, "rb");
        char *buf;
        size_t n;

        if (!f) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "%s: cannot read %s: %s", key,
                               spec + 5, strerror(errno));
        }
        buf = malloc(SECRET_MAX + 1);
        if (!buf) {
            fclose(f);
            return BWM_ERR_NOMEM;
        }
        n = fread(buf, 1, SECRET_MAX + 1, f);
        fclose(f);
        if (n > SECRET_MAX) {
            bwm_secret_free(buf);
            return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size, "%s: %s is larger than %d bytes",
                               key, spec + 5, SECRET_MAX);
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
            n--;
        }
        buf[n] = '\0';
        *out = buf;
    } else {
        *out = strdup(spec);
    }
    return *out ? BWM_OK : BWM_ERR_NOMEM;
}

void bwm_secret_free(char *s)
{
    if (!s) {
        return;
    }
    memset(s, 0, strlen(s));
    free(s);
}
