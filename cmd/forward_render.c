/*
 * forward_render.c: framing, schema lookup and readable JSON for one result.
 */
#include "cmd/forward_render.h"

#include "connectors/inflate.h"
#include "core/avro.h"
#include "core/framing.h"
#include "core/schema.h"

bwm_err_t bwm_fwd_render(bwm_registry_t *reg, const void *value, size_t len, size_t max,
                         bwm_buf_t *scratch, bwm_buf_t *out, const char **reason, char *errstr,
                         size_t errstr_size)
{
    const bwm_schema_t *schema;
    bwm_frame_t frame;
    size_t mark = out->b_len, used = 0;
    bwm_err_t err;

    err = bwm_frame_parse(value, len, 0, &frame, errstr, errstr_size);
    if (err) {
        *reason = BWM_FWD_REASON_FRAMING;
        return err;
    }
    if (frame.f_framing == BWM_FRAMING_GLUE && frame.f_compression == BWM_GLUE_ZLIB) {
        err = bwm_inflate(frame.f_body, frame.f_body_len, max, scratch, errstr, errstr_size);
        if (err) {
            *reason = err == BWM_ERR_LIMIT ? BWM_FWD_REASON_LIMIT : BWM_FWD_REASON_DECODE;
            return err;
        }
        frame.f_body = scratch->b_data;
        frame.f_body_len = scratch->b_len;
    }
    err = frame.f_framing == BWM_FRAMING_GLUE
              ? bwm_registry_get_glue(reg, frame.f_uuid, &schema, errstr, errstr_size)
              : bwm_registry_get(reg, frame.f_schema_id, &schema, errstr, errstr_size);
    if (err) {
        *reason = BWM_FWD_REASON_SCHEMA;
        return err == BWM_ERR_NOT_FOUND || err == BWM_ERR_SCHEMA ? BWM_ERR_SCHEMA : err;
    }
    err = bwm_avro_to_json(bwm_schema_root(schema), frame.f_body, frame.f_body_len,
                           &bwm_avro_default_limits, BWM_AVRO_JSON_READABLE, out, &used, errstr,
                           errstr_size);
    if (!err && used != frame.f_body_len) {
        err = bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                          "%zu bytes after the end of the Avro record", frame.f_body_len - used);
    }
    if (err) {
        out->b_len = mark;
        *reason = err == BWM_ERR_LIMIT ? BWM_FWD_REASON_LIMIT : BWM_FWD_REASON_DECODE;
        return err == BWM_ERR_NOMEM ? err : BWM_ERR_DECODE;
    }
    return BWM_OK;
}
