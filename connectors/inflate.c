/*
 * inflate.c: zlib's inflate in chunks, stopping at the size limit.
 */
#include "connectors/inflate.h"

#include <string.h>
#include <zlib.h>

bwm_err_t bwm_inflate(const void *in, size_t n, size_t max, bwm_buf_t *out, char *errstr,
                      size_t errstr_size)
{
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK || n > UINT32_MAX) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "cannot start zlib");
    }
    bwm_buf_reset(out);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    do {
        size_t room = 64 * 1024;

        if (out->b_len + room > max + 1) {
            room = max + 1 - out->b_len;
        }
        if (room == 0 || bwm_buf_reserve(out, room) != BWM_OK) {
            inflateEnd(&z);
            return out->b_failed ? bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory")
                                 : bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size,
                                               "decompressed record exceeds %zu bytes", max);
        }
        z.next_out = out->b_data + out->b_len;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        out->b_len += room - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "zlib: %s",
                               z.msg ? z.msg : "corrupt data");
        }
        if (out->b_len > max) {
            inflateEnd(&z);
            return bwm_err_set(BWM_ERR_LIMIT, errstr, errstr_size,
                               "decompressed record exceeds %zu bytes", max);
        }
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            inflateEnd(&z);
            return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "zlib: truncated data");
        }
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return BWM_OK;
}
