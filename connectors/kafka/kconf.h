/*
 * kconf.h: librdkafka configuration from bwm's: bwm's defaults for a client
 * role, then every kafka.* key passed through unchanged (prefix removed), with
 * librdkafka's error reported against the key and where it was set.
 */
#ifndef BWM_KCONF_H
#define BWM_KCONF_H

#include <librdkafka/rdkafka.h>

#include "core/conf.h"
#include "core/err.h"

/*
 * Builds a librdkafka configuration. defaults is a NULL-terminated list of
 * key, value pairs applied before the user's kafka.* keys, so the user can
 * override them. Logs go through bwm's log. Caller frees with
 * rd_kafka_conf_destroy(), or hands it to rd_kafka_new().
 */
rd_kafka_conf_t *bwm_kconf_new(const bwm_conf_t *conf, const char *const *defaults, char *errstr,
                               size_t errstr_size);

/* The value of a kafka.* key as librdkafka will see it, or def when unset. */
const char *bwm_kconf_get(const bwm_conf_t *conf, const char *kafka_key, const char *def);

#endif
