/*
 * result.h: encoding result records: the Avro record of the plan's output
 * schema, from one value per field in schema order (keys, window_start and
 * window_end when windowed, columns, version).
 */
#ifndef BWM_RESULT_H
#define BWM_RESULT_H

#include "buf.h"
#include "err.h"
#include "plan.h"
#include "schema.h"
#include "value.h"

typedef struct bwm_result_enc bwm_result_enc_t;

/* Builds an encoder for plan's output schema. Caller frees with bwm_result_enc_destroy(). */
bwm_result_enc_t *bwm_result_enc_new(const bwm_plan_t *plan, char *errstr, size_t errstr_size);
void bwm_result_enc_destroy(bwm_result_enc_t *r);

/* The output schema, parsed; owned by r. */
const bwm_schema_t *bwm_result_enc_schema(const bwm_result_enc_t *r);

/* Number of fields of a result record. */
size_t bwm_result_enc_fields(const bwm_result_enc_t *r);

/*
 * Appends the Avro body (no framing) of a record with these field values to
 * b. A NULL value in a field that is not nullable is BWM_ERR_TYPE; a BIGINT
 * value of a DOUBLE field is widened.
 */
bwm_err_t bwm_result_encode(bwm_result_enc_t *r, const bwm_value_t *fields, bwm_buf_t *b,
                            char *errstr, size_t errstr_size);

#endif
