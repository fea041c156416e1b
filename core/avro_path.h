/*
 * avro_path.h: the path to the item a codec is at ("$.tags[3]"), kept as a
 * chain of steps on the C stack of the recursive walk, and the text of it
 * that error messages start with. Shared by avro_codec.c and avro_json.c.
 */
#ifndef BWM_AVRO_PATH_H
#define BWM_AVRO_PATH_H

#include <stddef.h>

typedef enum bwm_avro_seg_kind { BWM_SEG_FIELD, BWM_SEG_INDEX, BWM_SEG_KEY } bwm_avro_seg_kind_t;

typedef struct bwm_avro_seg {
    const struct bwm_avro_seg *g_up; /* NULL at the root */
    bwm_avro_seg_kind_t g_kind;
    const char *g_name; /* field name (NUL-terminated), or map key (g_len bytes) */
    size_t g_len;
    size_t g_index;
} bwm_avro_seg_t;

/*
 * Writes the path from the root to g into out: "$", then ".field", "[3]",
 * ".key" or ["odd key"] (bytes outside printable ASCII as \xNN, cut after
 * 40) per step. A long path keeps its end, nearest the error: "$...".
 */
void bwm_avro_path(const bwm_avro_seg_t *g, char *out, size_t size);

/* snprintf appended at out + *len, truncating at size; *len moves on. */
void bwm_sput(char *out, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
