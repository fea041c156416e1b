/*
 * state_render.h: a job's stored states as the result records they give
 * now, one JSON line per window (`bwm consume`'s readable form, with the
 * partition), for `bwm state` and `bwm state diff`.
 */
#ifndef BWM_STATE_RENDER_H
#define BWM_STATE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/job.h"
#include "core/err.h"

typedef struct bwm_state_render bwm_state_render_t;

/*
 * Called once per window of a stored state: id is the result's Kafka key
 * ("<key>" or "<key>@<window start>"), line the JSON object, both valid
 * during the call.
 */
typedef bwm_err_t (*bwm_state_row_cb)(void *opaque, const char *id, size_t idlen, const char *line,
                                      size_t len);

/* job must outlive the renderer. Caller frees with bwm_state_render_destroy(). */
bwm_err_t bwm_state_render_new(const bwm_job_t *job, bwm_state_render_t **out, char *errstr,
                               size_t errstr_size);
void bwm_state_render_destroy(bwm_state_render_t *r);

/*
 * Renders the stored value of key in partition part (retained: key is a
 * closed window's "<key>@<window start>"). Windows that HAVING hides are
 * counted, not rendered. BWM_ERR_DECODE, with a message naming the key,
 * when the value does not match the job.
 */
bwm_err_t bwm_state_render(bwm_state_render_t *r, int32_t part, int retained, const char *key,
                           size_t keylen, const void *val, size_t len, bwm_state_row_cb cb,
                           void *opaque, char *errstr, size_t errstr_size);

/* Windows hidden by HAVING so far. */
uint64_t bwm_state_render_hidden(const bwm_state_render_t *r);

#endif
