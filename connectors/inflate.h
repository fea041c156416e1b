/*
 * inflate.h: zlib decompression of Glue-framed record bodies (compression
 * byte 0x05), bounded so a small record cannot expand without limit.
 */
#ifndef BWM_INFLATE_H
#define BWM_INFLATE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * Replaces out's content with the zlib-decompressed n bytes at in.
 * BWM_ERR_DECODE for data that is not zlib, BWM_ERR_LIMIT when the result
 * would exceed max bytes.
 */
bwm_err_t bwm_inflate(const void *in, size_t n, size_t max, bwm_buf_t *out, char *errstr,
                      size_t errstr_size);

#endif
