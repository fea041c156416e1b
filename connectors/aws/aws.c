/*
 * aws.c: the aws.* configuration and its secrets.
 */
#include "connectors/aws/aws.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/secret.h"

#define CONF_DEF(name, type, field, desc)                                                          \
    {                                                                                              \
        name, type, NULL, 0, 0, NULL, offsetof(bwm_aws_conf_t, field), 0, desc                     \
    }

static const bwm_conf_def_t aws_defs[] = {
    CONF_DEF("aws.region", BWM_CONF_STR, ac_region, "AWS region, e.g. eu-west-1"),
    CONF_DEF("aws.access.key.id", BWM_CONF_STR, ac_access_key_id, "AWS access key id"),
    CONF_DEF("aws.secret.access.key", BWM_CONF_SECRET, ac_secret_access_key,
             "AWS secret access key"),
    CONF_DEF("aws.session.token", BWM_CONF_SECRET, ac_session_token,
             "AWS session token, for temporary credentials"),
};

const bwm_conf_table_t bwm_aws_conf_table = {"aws", aws_defs,
                                             sizeof(aws_defs) / sizeof(aws_defs[0])};

void bwm_aws_free(bwm_aws_t *aws)
{
    free(aws->aw_region);
    free(aws->aw_access_key_id);
    bwm_secret_free(aws->aw_secret_access_key);
    bwm_secret_free(aws->aw_session_token);
    memset(aws, 0, sizeof(*aws));
}

bwm_err_t bwm_aws_load(const bwm_conf_t *conf, bwm_aws_t *out, char *errstr, size_t errstr_size)
{
    bwm_aws_conf_t ac;
    bwm_err_t err;

    memset(&ac, 0, sizeof(ac));
    memset(out, 0, sizeof(*out));
    err = bwm_conf_bind(conf, &bwm_aws_conf_table, &ac, errstr, errstr_size);
    if (!err && ac.ac_secret_access_key) {
        err = bwm_secret_resolve("aws.secret.access.key", ac.ac_secret_access_key,
                                 &out->aw_secret_access_key, errstr, errstr_size);
    }
    if (!err && ac.ac_session_token) {
        err = bwm_secret_resolve("aws.session.token", ac.ac_session_token, &out->aw_session_token,
                                 errstr, errstr_size);
    }
    if (!err) {
        out->aw_region = ac.ac_region;
        out->aw_access_key_id = ac.ac_access_key_id;
        ac.ac_region = ac.ac_access_key_id = NULL;
    }
    bwm_conf_unbind(&bwm_aws_conf_table, &ac);
    if (err) {
        bwm_aws_free(out);
    }
    return err;
}
