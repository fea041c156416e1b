/*
 * kconf.c: kafka.* pass-through and librdkafka's logs routed to bwm's log.
 */
#include "connectors/kafka/kconf.h"

#include <stdio.h>
#include <string.h>

#include "connectors/log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* librdkafka uses syslog levels, as bwm does. */
    BWM_LOG(level < BWM_LOG_ERR ? BWM_LOG_ERR : level, BWM_FAC_KAFKA, "librdkafka %s: %s", fac,
            buf);
}

typedef struct pass_ctx {
    rd_kafka_conf_t *pc_conf;
    char *pc_errstr;
    size_t pc_errstr_size;
} pass_ctx_t;

static int pass_one(const char *key, const char *value, const char *origin, void *opaque)
{
    pass_ctx_t *pc = opaque;
    char kerr[512];

    if (rd_kafka_conf_set(pc->pc_conf, key + 6, value, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        bwm_err_set(BWM_ERR_INVALID, pc->pc_errstr, pc->pc_errstr_size, "%s: %s: %s",
                    origin && origin[0] ? origin : "kafka", key, kerr);
        return 1;
    }
    return 0;
}

rd_kafka_conf_t *bwm_kconf_new(const bwm_conf_t *conf, const char *const *defaults, char *errstr,
                               size_t errstr_size)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    pass_ctx_t pc = {kc, errstr, errstr_size};
    char kerr[512];
    size_t i;

    for (i = 0; defaults && defaults[i]; i += 2) {
        if (rd_kafka_conf_set(kc, defaults[i], defaults[i + 1], kerr, sizeof(kerr)) !=
            RD_KAFKA_CONF_OK) {
            bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "kafka default %s: %s", defaults[i],
                        kerr);
            rd_kafka_conf_destroy(kc);
            return NULL;
        }
    }
    if (bwm_conf_foreach_prefix(conf, "kafka.", pass_one, &pc)) {
        rd_kafka_conf_destroy(kc);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(kc, log_cb);
    return kc;
}

const char *bwm_kconf_get(const bwm_conf_t *conf, const char *kafka_key, const char *def)
{
    char key[256];
    const char *v;

    snprintf(key, sizeof(key), "kafka.%s", kafka_key);
    v = bwm_conf_get(conf, key, NULL);
    return v ? v : def;
}
