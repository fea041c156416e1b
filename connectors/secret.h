/*
 * secret.h: configuration values that hold secrets. A secret is written as
 * a literal, as env:NAME (read from the environment) or as file:/path (the
 * file's content without its trailing newline). Resolved values are never
 * logged.
 */
#ifndef BWM_SECRET_H
#define BWM_SECRET_H

#include <stddef.h>

#include "core/err.h"

/*
 * Resolves spec for key (named in messages). On success *out is a new string
 * the caller frees with bwm_secret_free(), which wipes it first.
 */
bwm_err_t bwm_secret_resolve(const char *key, const char *spec, char **out, char *errstr,
                             size_t errstr_size);
void bwm_secret_free(char *s);

#endif
