/*
 * forward_render.h: one result record as Core View gets it: the value's
 * framing (Confluent or Glue) is read, its writer schema fetched from the
 * registry (cached) and the Avro body rendered as readable JSON, exactly as
 * `bwm consume` prints it (unions unwrapped, timestamps ISO-8601, decimals
 * exact in strings).
 */
#ifndef BWM_FORWARD_RENDER_H
#define BWM_FORWARD_RENDER_H

#include <stddef.h>

#include "connectors/registry/registry.h"
#include "core/buf.h"
#include "core/err.h"

/* Why a record cannot be rendered, as a dead letter's bwm.reason. */
#define BWM_FWD_REASON_FRAMING "framing"
#define BWM_FWD_REASON_SCHEMA  "schema"
#define BWM_FWD_REASON_DECODE  "decode"
#define BWM_FWD_REASON_LIMIT   "limit"

/*
 * Appends the JSON of value[0 .. len) to out. BWM_OK; BWM_ERR_TRANSPORT when
 * the registry could not be asked (the record may be fine: try later);
 * otherwise the record is bad for good and *reason says why (errstr says
 * more). scratch holds a decompressed Glue body; max bounds it.
 */
bwm_err_t bwm_fwd_render(bwm_registry_t *reg, const void *value, size_t len, size_t max,
                         bwm_buf_t *scratch, bwm_buf_t *out, const char **reason, char *errstr,
                         size_t errstr_size);

#endif
