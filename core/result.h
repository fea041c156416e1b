/*
 * result.h: encoding result records. A result is the Avro record of the
 * plan's output schema for one (key, window): key, aggregate values and the
 * version (source offset of the last record applied), so two results with the
 * same key and version are byte-identical.
 */
#ifndef BWM_RESULT_H
#define BWM_RESULT_H

#include "buf.h"
#include "err.h"
#include "plan.h"
#include "table.h"

typedef struct bwm_result_enc bwm_result_enc_t;

/* Builds an encoder for plan's output schema. Caller frees with bwm_result_enc_destroy(). */
bwm_result_enc_t *bwm_result_enc_new(const bwm_plan_t *plan, char *errstr, size_t errstr_size);
void bwm_result_enc_destroy(bwm_result_enc_t *r);

/* The output schema, parsed; owned by r. */
const bwm_schema_t *bwm_result_enc_schema(const bwm_result_enc_t *r);

/* Appends the Avro body (no framing) of e's result to b. */
bwm_err_t bwm_result_encode(bwm_result_enc_t *r, const bwm_table_t *t, const bwm_entry_t *e,
                            bwm_buf_t *b, char *errstr, size_t errstr_size);

#endif
