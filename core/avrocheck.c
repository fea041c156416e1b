/*
 * avrocheck.c: a recursive walk of the Avro binary encoding that reads
 * nothing into memory.
 */
#include "avrocheck.h"

#include <stdint.h>

typedef struct walk {
    const uint8_t *w_p;
    const uint8_t *w_end;
    const char *w_error;
    int64_t w_empty; /* zero-size items seen so far */
} walk_t;

static int fail(walk_t *w, const char *why)
{
    if (!w->w_error) {
        w->w_error = why;
    }
    return -1;
}

/* Reads a zig-zag varint long (at most 10 bytes). */
static int read_long(walk_t *w, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;

    for (;;) {
        uint8_t b;

        if (w->w_p >= w->w_end) {
            return fail(w, "truncated integer");
        }
        b = *w->w_p++;
        if (shift == 63 && (b & 0x7e)) {
            return fail(w, "integer longer than 64 bits");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
        shift += 7;
        if (shift > 63) {
            return fail(w, "integer longer than 10 bytes");
        }
    }
    *out = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
    return 0;
}

static int skip(walk_t *w, int64_t n)
{
    if (n < 0 || n > w->w_end - w->w_p) {
        return fail(w, "length beyond the end of the record");
    }
    w->w_p += n;
    return 0;
}

/* Whether a datum of s can take zero bytes, which makes item counts unbounded by size. */
static int zero_size(avro_schema_t s, int depth)
{
    size_t i, n;

    if (depth > BWM_AVRO_MAX_DEPTH) {
        return 0;
    }
    switch (avro_typeof(s)) {
        case AVRO_NULL:
            return 1;
        case AVRO_FIXED:
            return avro_schema_fixed_size(s) == 0;
        case AVRO_RECORD:
            n = avro_schema_record_size(s);
            for (i = 0; i < n; i++) {
                if (!zero_size(avro_schema_record_field_get_by_index(s, (int)i), depth + 1)) {
                    return 0;
                }
            }
            return 1;
        case AVRO_LINK:
            return zero_size(avro_schema_link_target(s), depth + 1);
        default:
            return 0;
    }
}

static int walk(walk_t *w, avro_schema_t s, int depth);

/* Arrays and maps: blocks of items until a zero count. */
static int walk_blocks(walk_t *w, avro_schema_t item, int is_map, int depth)
{
    int empty = zero_size(item, depth);

    for (;;) {
        int64_t count, bytes, i;

        if (read_long(w, &count)) {
            return -1;
        }
        if (count == 0) {
            return 0;
        }
        if (count < 0) {
            if (count == INT64_MIN) {
                return fail(w, "bad block count");
            }
            count = -count;
            if (read_long(w, &bytes)) {
                return -1;
            }
            if (bytes < 0 || bytes > w->w_end - w->w_p) {
                return fail(w, "block size beyond the end of the record");
            }
        }
        if (empty) {
            w->w_empty += count;
            if (w->w_empty > BWM_AVRO_MAX_EMPTY_ITEMS) {
                return fail(w, "too many zero-size items");
            }
        } else if (count > w->w_end - w->w_p) {
            return fail(w, "more items than the record can hold");
        }
        for (i = 0; i < count; i++) {
            if (is_map) {
                int64_t klen;

                if (read_long(w, &klen) || skip(w, klen)) {
                    return -1;
                }
            }
            if (walk(w, item, depth + 1)) {
                return -1;
            }
        }
    }
}

static int walk(walk_t *w, avro_schema_t s, int depth)
{
    int64_t v;
    size_t i, n;

    if (depth > BWM_AVRO_MAX_DEPTH) {
        return fail(w, "nested deeper than 64 levels");
    }
    switch (avro_typeof(s)) {
        case AVRO_NULL:
            return 0;
        case AVRO_BOOLEAN:
            if (w->w_p >= w->w_end || *w->w_p > 1) {
                return fail(w, "bad boolean");
            }
            w->w_p++;
            return 0;
        case AVRO_INT32:
            if (read_long(w, &v)) {
                return -1;
            }
            return v < INT32_MIN || v > INT32_MAX ? fail(w, "int out of range") : 0;
        case AVRO_INT64:
            return read_long(w, &v);
        case AVRO_FLOAT:
            return skip(w, 4);
        case AVRO_DOUBLE:
            return skip(w, 8);
        case AVRO_STRING:
        case AVRO_BYTES:
            return read_long(w, &v) || skip(w, v) ? -1 : 0;
        case AVRO_FIXED:
            return skip(w, avro_schema_fixed_size(s));
        case AVRO_ENUM:
            if (read_long(w, &v)) {
                return -1;
            }
            return v < 0 || v >= (int64_t)avro_schema_enum_number_of_symbols(s)
                       ? fail(w, "enum index out of range")
                       : 0;
        case AVRO_UNION:
            if (read_long(w, &v)) {
                return -1;
            }
            if (v < 0 || v >= (int64_t)avro_schema_union_size(s)) {
                return fail(w, "union branch out of range");
            }
            return walk(w, avro_schema_union_branch(s, (int)v), depth + 1);
        case AVRO_RECORD:
            n = avro_schema_record_size(s);
            for (i = 0; i < n; i++) {
                if (walk(w, avro_schema_record_field_get_by_index(s, (int)i), depth + 1)) {
                    return -1;
                }
            }
            return 0;
        case AVRO_ARRAY:
            return walk_blocks(w, avro_schema_array_items(s), 0, depth);
        case AVRO_MAP:
            return walk_blocks(w, avro_schema_map_values(s), 1, depth);
        case AVRO_LINK:
            return walk(w, avro_schema_link_target(s), depth + 1);
        default:
            return fail(w, "unsupported schema type");
    }
}

bwm_err_t bwm_avro_check(avro_schema_t schema, const void *p, size_t n, size_t *used, char *errstr,
                         size_t errstr_size)
{
    walk_t w = {p, (const uint8_t *)p + n, NULL, 0};

    if (walk(&w, schema, 0)) {
        return bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                           "not a %s record: %s at byte %zu of %zu", avro_schema_type_name(schema),
                           w.w_error, (size_t)(w.w_p - (const uint8_t *)p), n);
    }
    *used = (size_t)(w.w_p - (const uint8_t *)p);
    return BWM_OK;
}
