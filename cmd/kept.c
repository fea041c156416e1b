/*
 * kept.c: the messages of a partition's staged records (see kept.h).
 */
#include "cmd/kept.h"

#include <stdlib.h>

#include "core/buf.h"

bwm_err_t bwm_kept_add(bwm_kept_t *k, rd_kafka_message_t *m)
{
    if (k->k_n == k->k_cap) {
        size_t cap = k->k_cap ? k->k_cap * 2 : 1024;
        rd_kafka_message_t **n = realloc(k->k_msgs, cap * sizeof(*n));

        if (!n) {
            return BWM_ERR_NOMEM;
        }
        k->k_msgs = n;
        k->k_cap = cap;
    }
    k->k_msgs[k->k_n++] = m;
    return BWM_OK;
}

size_t bwm_kept_count(const bwm_kept_t *k)
{
    return k->k_n;
}

const rd_kafka_message_t *bwm_kept_get(const bwm_kept_t *k, size_t i)
{
    return k->k_msgs[i];
}

void bwm_kept_reset(bwm_kept_t *k)
{
    size_t i;

    for (i = 0; i < k->k_n; i++) {
        rd_kafka_message_destroy(k->k_msgs[i]);
    }
    if (k->k_cap * sizeof(*k->k_msgs) > BWM_TRIM_MIN_BYTES && k->k_n < k->k_cap / 4) {
        free(k->k_msgs);
        k->k_msgs = NULL;
        k->k_cap = 0;
    }
    k->k_n = 0;
}

void bwm_kept_free(bwm_kept_t *k)
{
    bwm_kept_reset(k);
    free(k->k_msgs);
    k->k_msgs = NULL;
    k->k_cap = 0;
}
