/*
 * state_render.c: stored states rendered as result records, through the
 * engine's inspection of a stored value and the result schema's JSON form.
 */
#include "cmd/state_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/avro.h"
#include "core/engine.h"
#include "core/result.h"

struct bwm_state_render {
    bwm_result_enc_t *sr_enc;
    const bwm_avro_node_t *sr_schema; /* of the result records */
    bwm_engine_t *sr_engine;
    bwm_buf_t sr_json;
    bwm_buf_t sr_line;
    uint64_t sr_hidden;
};

bwm_err_t bwm_state_render_new(const bwm_job_t *job, bwm_state_render_t **out, char *errstr,
                               size_t errstr_size)
{
    bwm_engine_limits_t limits = {(size_t)job->j_conf.jc_max_key_bytes,
                                  (size_t)job->j_conf.jc_eval_bytes, 0, 0, 0};
    bwm_state_render_t *r = calloc(1, sizeof(*r));

    if (!r) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    bwm_buf_init(&r->sr_json);
    bwm_buf_init(&r->sr_line);
    r->sr_enc = bwm_result_enc_new(job->j_plan, errstr, errstr_size);
    if (!r->sr_enc) {
        goto err;
    }
    r->sr_schema = bwm_schema_root(bwm_result_enc_schema(r->sr_enc));
    r->sr_engine = bwm_engine_new(job->j_plan, BWM_TIME_NONE, &limits, errstr, errstr_size);
    if (!r->sr_engine) {
        goto err;
    }
    *out = r;
    return BWM_OK;
err:
    bwm_state_render_destroy(r);
    return BWM_ERR_NOMEM;
}

void bwm_state_render_destroy(bwm_state_render_t *r)
{
    if (!r) {
        return;
    }
    bwm_engine_destroy(r->sr_engine);
    bwm_result_enc_destroy(r->sr_enc);
    bwm_buf_free(&r->sr_json);
    bwm_buf_free(&r->sr_line);
    free(r);
}

/* Hands each output the engine made for one stored value to cb. */
static bwm_err_t emit(bwm_state_render_t *r, int32_t part, bwm_state_row_cb cb, void *opaque,
                      char *errstr, size_t errstr_size)
{
    const uint8_t *data = bwm_engine_output_data(r->sr_engine);
    const bwm_output_t *outs;
    size_t n, i;
    char head[48];
    bwm_err_t err = BWM_OK;

    outs = bwm_engine_outputs(r->sr_engine, &n);
    for (i = 0; !err && i < n; i++) {
        if (outs[i].o_kind != BWM_OUT_RESULT) {
            r->sr_hidden++;
            continue;
        }
        bwm_buf_reset(&r->sr_json);
        err = bwm_avro_to_json(r->sr_schema, data + outs[i].o_val_off, outs[i].o_val_len, NULL,
                               BWM_AVRO_JSON_READABLE, &r->sr_json, NULL, errstr, errstr_size);
        if (err) {
            break;
        }
        /* the record's own "{" is replaced by the partition's */
        bwm_buf_reset(&r->sr_line);
        snprintf(head, sizeof(head), "{\"partition\":%d,", (int)part);
        bwm_buf_put_str(&r->sr_line, head);
        bwm_buf_put(&r->sr_line, r->sr_json.b_data + 1, r->sr_json.b_len - 1);
        if (r->sr_line.b_failed) {
            err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
            break;
        }
        err = cb(opaque, (const char *)data + outs[i].o_key_off, outs[i].o_key_len,
                 (const char *)r->sr_line.b_data, r->sr_line.b_len);
    }
    bwm_engine_committed(r->sr_engine);
    return err;
}

bwm_err_t bwm_state_render(bwm_state_render_t *r, int32_t part, int retained, const char *key,
                           size_t keylen, const void *val, size_t len, bwm_state_row_cb cb,
                           void *opaque, char *errstr, size_t errstr_size)
{
    size_t klen = keylen;
    char msg[512];
    bwm_err_t err;

    if (retained) {
        while (klen > 0 && key[klen - 1] != '@') {
            klen--;
        }
        klen = klen ? klen - 1 : keylen;
    }
    err = bwm_engine_inspect(r->sr_engine, key, klen, val, len, msg, sizeof(msg));
    if (err) {
        return bwm_err_set(err, errstr, errstr_size, "partition %d, key '%.*s': %s", (int)part,
                           (int)keylen, key, msg);
    }
    return emit(r, part, cb, opaque, errstr, errstr_size);
}

uint64_t bwm_state_render_hidden(const bwm_state_render_t *r)
{
    return r->sr_hidden;
}
