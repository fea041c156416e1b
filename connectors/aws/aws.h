/*
 * aws.h: AWS settings shared by the connectors that call AWS APIs (the Glue
 * schema registry now; MSK IAM later): region and static credentials. Secret
 * keys are given as secrets (env:NAME, file:/path or a literal) and never
 * logged.
 */
#ifndef BWM_AWS_H
#define BWM_AWS_H

#include "core/conf.h"
#include "core/err.h"

typedef struct bwm_aws_conf {
    char *ac_region;
    char *ac_access_key_id;
    char *ac_secret_access_key; /* spec as configured */
    char *ac_session_token;     /* spec as configured */
} bwm_aws_conf_t;

/* The aws.* keys. */
extern const bwm_conf_table_t bwm_aws_conf_table;

/* Resolved credentials; bwm_aws_free() wipes the secrets. */
typedef struct bwm_aws {
    char *aw_region;
    char *aw_access_key_id;
    char *aw_secret_access_key;
    char *aw_session_token;
} bwm_aws_t;

/* Binds the aws.* keys of conf and resolves the secrets; fields not set stay NULL. */
bwm_err_t bwm_aws_load(const bwm_conf_t *conf, bwm_aws_t *out, char *errstr, size_t errstr_size);
void bwm_aws_free(bwm_aws_t *aws);

#endif
