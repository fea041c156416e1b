/*
 * avro_codec.c: the reading half of the Avro codecs. One recursive walk of
 * a datum of Avro's binary encoding serves bwm_avro_check() (no output, no
 * allocation) and bwm_avro_to_json() (JSON text appended to a buffer), so
 * both accept exactly the same bytes.
 *
 * Every read is bounded by the bytes left; every length, block count and
 * nesting level by the limits (NULL limits: bwm_avro_default_limits). The
 * recursion is one frame per level of nesting, so al_max_depth also bounds
 * the stack; functions with large buffers stay out of those frames
 * (noinline). Errors name the field path ("$.tags[3]") and the byte offset
 * where the offending item starts.
 *
 * Reading accepts what Avro lets writers vary: varints with redundant
 * continuation bytes, blocks with negative counts (whose byte size must
 * then match the items), any bit pattern of a float. A string's bytes are
 * not required to be UTF-8 (the check would cost every record a pass).
 *
 * Rendering choices (see avro.h for the two modes):
 * - Strings are UTF-8. Valid UTF-8 passes through; an invalid sequence
 *   becomes U+FFFD, one per maximal ill-formed subpart (as Python's
 *   'replace' and WHATWG decoders do), so the JSON is always valid.
 *   Control characters are escaped.
 * - Dates and timestamps are printed for years 0000 to 9999 of the
 *   proleptic Gregorian calendar, times of day from 00:00:00 to the last
 *   unit before 24:00:00; a value outside that range is printed as its raw
 *   number, which bwm_avro_from_json() accepts as well.
 * - Decimals are exact. An unscaled integer of more than 512 significant
 *   bytes (over 1,200 digits, beyond any precision the schema parser
 *   accepts) is printed in Avro's JSON form for bytes instead.
 * - Floats use the shortest text that reads back as the same float (through
 *   strtof and through strtod then a float conversion); doubles use
 *   bwm_double_text(). NaN and the infinities are the strings "NaN",
 *   "Infinity" and "-Infinity" in both modes.
 */
#include "avro.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_path.h"
#include "calendar.h"
#include "json.h"

/* Most significant bytes of a decimal rendered as digits. */
#define DECIMAL_MAX_BYTES 512

typedef struct rd {
    const uint8_t *r_base;
    const uint8_t *r_p;
    const uint8_t *r_end;
    bwm_avro_limits_t r_lim;
    size_t r_items;   /* array items and map entries so far */
    bwm_buf_t *r_out; /* NULL when only checking */
    int r_avro;       /* BWM_AVRO_JSON_AVRO */
    bwm_err_t r_err;
    char *r_errstr;
    size_t r_errstr_size;
} rd_t;

/* Appends to a fixed buffer, truncating. */
static int rfail(rd_t *r, const bwm_avro_seg_t *at, bwm_err_t err, const uint8_t *where,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int rfail(rd_t *r, const bwm_avro_seg_t *at, bwm_err_t err, const uint8_t *where,
                 const char *fmt, ...)
{
    char path[256], msg[256];
    va_list ap;

    if (r->r_err != BWM_OK) {
        return -1;
    }
    r->r_err = err;
    if (r->r_errstr && r->r_errstr_size) {
        bwm_avro_path(at, path, sizeof(path));
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        bwm_err_set(err, r->r_errstr, r->r_errstr_size, "%s: %s at byte %zu of %zu", path, msg,
                    (size_t)(where - r->r_base), (size_t)(r->r_end - r->r_base));
    }
    return -1;
}

static size_t left(const rd_t *r)
{
    return (size_t)(r->r_end - r->r_p);
}

/* A zig-zag varint of at most 10 bytes. */
static int read_long(rd_t *r, const bwm_avro_seg_t *at, int64_t *out)
{
    const uint8_t *start = r->r_p, *p = r->r_p;
    uint64_t u = 0;
    unsigned shift = 0;

    for (;;) {
        uint8_t b;

        if (p >= r->r_end) {
            return rfail(r, at, BWM_ERR_DECODE, start, "truncated integer");
        }
        b = *p++;
        if (shift == 63 && b > 1) {
            return rfail(r, at, BWM_ERR_DECODE, start, "integer %s",
                         b & 0x80 ? "longer than 10 bytes" : "longer than 64 bits");
        }
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
        shift += 7;
    }
    r->r_p = p;
    *out = (int64_t)((u >> 1) ^ (0 - (u & 1)));
    return 0;
}

/* A length of a string, bytes or map key: present in full and within al_max_bytes. */
static int read_len(rd_t *r, const bwm_avro_seg_t *at, size_t *len)
{
    const uint8_t *start = r->r_p;
    int64_t v;

    if (read_long(r, at, &v)) {
        return -1;
    }
    if (v < 0) {
        return rfail(r, at, BWM_ERR_DECODE, start, "negative length %" PRId64, v);
    }
    if ((uint64_t)v > left(r)) {
        return rfail(r, at, BWM_ERR_DECODE, start,
                     "length %" PRId64 " beyond the end of the data (%zu bytes left)", v, left(r));
    }
    if ((uint64_t)v > r->r_lim.al_max_bytes) {
        return rfail(r, at, BWM_ERR_LIMIT, start, "length %" PRId64 " above the limit of %zu", v,
                     r->r_lim.al_max_bytes);
    }
    *len = (size_t)v;
    return 0;
}

/* ---- JSON output -------------------------------------------------------------------------- */

static void put_fmt(bwm_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(bwm_buf_t *b, const char *fmt, ...)
{
    char s[64];
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(s, sizeof(s), fmt, ap);
    va_end(ap);
    if (k > 0) {
        bwm_buf_put(b, s, (size_t)k < sizeof(s) ? (size_t)k : sizeof(s) - 1);
    }
}

/* The shortest text that reads back as f, whether read as a float or as a double. */
static void put_float(bwm_buf_t *b, float f)
{
    char s[40];
    int prec;

    if (!isfinite(f)) {
        bwm_json_put_double(b, f);
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, (double)f);
        if (strtof(s, NULL) == f && (float)strtod(s, NULL) == f) {
            break;
        }
    }
    if (!strpbrk(s, ".e")) {
        strcat(s, ".0");
    }
    bwm_buf_put_str(b, s);
}

/* ---- dates, times, decimals --------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t d)
{
    int64_t q = a / d;

    return (a % d != 0 && a < 0) ? q - 1 : q;
}

/* Days from 1970-01-01 of 0000-01-01 and 9999-12-31: the dates printed as text. */
#define DAY_MIN (-719528)
#define DAY_MAX 2932896

/* A date of DAY_MIN .. DAY_MAX. */
static void put_date(bwm_buf_t *b, int64_t days)
{
    int64_t y;
    unsigned m, d;

    bwm_civil_from_days(days, &y, &m, &d);
    put_fmt(b, "%04d-%02u-%02u", (int)y, m, d);
}

/* Time of day from units (per second: 1000 or 1000000) since midnight. */
static void put_clock(bwm_buf_t *b, int64_t t, int64_t per_sec)
{
    int64_t s = t / per_sec;

    put_fmt(b, "%02d:%02d:%02d.%0*" PRId64, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
            per_sec == 1000 ? 3 : 6, t % per_sec);
}

static void put_timestamp(bwm_buf_t *b, int64_t v, int64_t per_sec, int utc)
{
    int64_t per_day = 86400 * per_sec, days = floor_div(v, per_day);

    if (days < DAY_MIN || days > DAY_MAX) {
        put_fmt(b, "%" PRId64, v);
        return;
    }
    bwm_buf_put_u8(b, '"');
    put_date(b, days);
    bwm_buf_put_u8(b, 'T');
    put_clock(b, v - days * per_day, per_sec);
    bwm_buf_put_str(b, utc ? "Z\"" : "\"");
}

/*
 * Exact decimal text of a two's-complement big-endian unscaled integer with
 * scale digits after the point, in a JSON string. 0 when it is too long.
 */
static __attribute__((noinline)) int put_decimal(bwm_buf_t *b, const uint8_t *p, size_t n,
                                                 int scale)
{
    uint32_t w[DECIMAL_MAX_BYTES / 4 + 1];
    char digits[DECIMAL_MAX_BYTES * 5 / 2 + 16];
    size_t nw = 0, nd = 0, i, lead;
    int neg = n > 0 && (p[0] & 0x80);
    uint8_t mag[DECIMAL_MAX_BYTES + 1];
    size_t nm;

    /* drop sign-extension bytes */
    while (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xff && (p[1] & 0x80)))) {
        p++;
        n--;
    }
    if (n > DECIMAL_MAX_BYTES || scale < 0 || scale > DECIMAL_MAX_BYTES * 2) {
        return 0;
    }
    /* the magnitude, big-endian */
    nm = n;
    if (neg) {
        unsigned carry = 1;

        for (i = n; i-- > 0;) {
            unsigned v = (uint8_t)~p[i] + carry;

            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    } else if (n > 0) {
        memcpy(mag, p, n);
    }
    /* into 32-bit words, most significant first */
    nw = (nm + 3) / 4;
    memset(w, 0, sizeof(w));
    for (i = 0; i < nm; i++) {
        size_t from_end = nm - 1 - i;

        w[nw - 1 - from_end / 4] |= (uint32_t)mag[i] << (8 * (from_end % 4));
    }
    /* repeated division by 10^9, least significant digits first */
    lead = 0;
    while (lead < nw) {
        uint64_t rem = 0;
        int k;

        for (i = lead; i < nw; i++) {
            uint64_t cur = (rem << 32) | w[i];

            w[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (lead < nw && w[lead] == 0) {
            lead++;
        }
        for (k = 0; k < 9 && (lead < nw || rem); k++) {
            digits[nd++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    }
    if (nd == 0) {
        digits[nd++] = '0';
    }
    /* digits[] is reversed: nd digits, least significant first; pad to scale + 1 */
    while (nd < (size_t)scale + 1) {
        digits[nd++] = '0';
    }
    bwm_buf_put_u8(b, '"');
    if (neg) {
        bwm_buf_put_u8(b, '-');
    }
    for (i = nd; i-- > 0;) {
        bwm_buf_put_u8(b, (uint8_t)digits[i]);
        if (i == (size_t)scale && scale > 0) {
            bwm_buf_put_u8(b, '.');
        }
    }
    bwm_buf_put_u8(b, '"');
    return 1;
}

/* ---- the walk ----------------------------------------------------------------------------- */

static int walk(rd_t *r, const bwm_avro_node_t *n, const bwm_avro_seg_t *at, size_t depth);

static int deeper(rd_t *r, const bwm_avro_seg_t *at, size_t depth)
{
    if (depth >= r->r_lim.al_max_depth) {
        return rfail(r, at, BWM_ERR_LIMIT, r->r_p, "nested deeper than %zu levels",
                     r->r_lim.al_max_depth);
    }
    return 0;
}

static void put_long(rd_t *r, const bwm_avro_node_t *n, int64_t v)
{
    bwm_buf_t *b = r->r_out;

    if (!r->r_avro) {
        switch (n->an_logical) {
            case BWM_LOGICAL_DATE:
                if (v >= DAY_MIN && v <= DAY_MAX) {
                    bwm_buf_put_u8(b, '"');
                    put_date(b, v);
                    bwm_buf_put_u8(b, '"');
                    return;
                }
                break;
            case BWM_LOGICAL_TIME_MILLIS:
            case BWM_LOGICAL_TIME_MICROS: {
                int64_t per_sec = n->an_logical == BWM_LOGICAL_TIME_MILLIS ? 1000 : 1000000;

                if (v >= 0 && v < 86400 * per_sec) {
                    bwm_buf_put_u8(b, '"');
                    put_clock(b, v, per_sec);
                    bwm_buf_put_u8(b, '"');
                    return;
                }
                break;
            }
            case BWM_LOGICAL_TIMESTAMP_MILLIS:
            case BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
                put_timestamp(b, v, 1000, n->an_logical == BWM_LOGICAL_TIMESTAMP_MILLIS);
                return;
            case BWM_LOGICAL_TIMESTAMP_MICROS:
            case BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS:
                put_timestamp(b, v, 1000000, n->an_logical == BWM_LOGICAL_TIMESTAMP_MICROS);
                return;
            default:
                break;
        }
    }
    put_fmt(b, "%" PRId64, v);
}

static void put_blob(rd_t *r, const bwm_avro_node_t *n, const uint8_t *p, size_t len)
{
    if (!r->r_avro && n->an_logical == BWM_LOGICAL_DECIMAL &&
        put_decimal(r->r_out, p, len, n->an_scale)) {
        return;
    }
    bwm_json_put_bytes(r->r_out, p, len);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static int walk_blocks(rd_t *r, const bwm_avro_node_t *n, const bwm_avro_seg_t *at, size_t depth)
{
    int is_map = n->an_type == BWM_AVRO_MAP;
    const bwm_avro_node_t *item = is_map ? n->an_values : n->an_items;
    size_t index = 0;

    if (deeper(r, at, depth)) {
        return -1;
    }
    if (r->r_out) {
        bwm_buf_put_u8(r->r_out, is_map ? '{' : '[');
    }
    for (;;) {
        const uint8_t *start = r->r_p, *body;
        int64_t count, size = -1, i;

        if (read_long(r, at, &count)) {
            return -1;
        }
        if (count == 0) {
            break;
        }
        if (count < 0) {
            if (count == INT64_MIN) {
                return rfail(r, at, BWM_ERR_DECODE, start, "bad block count");
            }
            count = -count;
            if (read_long(r, at, &size)) {
                return -1;
            }
            if (size < 0 || (uint64_t)size > left(r)) {
                return rfail(r, at, BWM_ERR_DECODE, start,
                             "block size %" PRId64 " beyond the end of the data", size);
            }
        }
        if ((uint64_t)count > r->r_lim.al_max_items - r->r_items) {
            return rfail(r, at, BWM_ERR_LIMIT, start,
                         "block of %" PRId64 " items: more than %zu items in the datum", count,
                         r->r_lim.al_max_items);
        }
        r->r_items += (size_t)count;
        body = r->r_p;
        for (i = 0; i < count; i++, index++) {
            bwm_avro_seg_t g = {at, BWM_SEG_INDEX, NULL, 0, index};

            if (r->r_out && index > 0) {
                bwm_buf_put_u8(r->r_out, ',');
            }
            if (is_map) {
                size_t klen;

                if (read_len(r, &g, &klen)) {
                    return -1;
                }
                g.g_kind = BWM_SEG_KEY;
                g.g_name = (const char *)r->r_p;
                g.g_len = klen;
                if (r->r_out) {
                    bwm_json_put_text(r->r_out, r->r_p, klen);
                    bwm_buf_put_u8(r->r_out, ':');
                }
                r->r_p += klen;
            }
            if (walk(r, item, &g, depth + 1)) {
                return -1;
            }
        }
        if (size >= 0 && r->r_p - body != size) {
            return rfail(r, at, BWM_ERR_DECODE, start,
                         "block size %" PRId64 " but its items take %zu bytes", size,
                         (size_t)(r->r_p - body));
        }
    }
    if (r->r_out) {
        bwm_buf_put_u8(r->r_out, is_map ? '}' : ']');
    }
    return 0;
}

static int walk(rd_t *r, const bwm_avro_node_t *n, const bwm_avro_seg_t *at, size_t depth)
{
    const uint8_t *start = r->r_p;
    bwm_buf_t *b = r->r_out;
    int64_t v;
    size_t len, i;

    switch (n->an_type) {
        case BWM_AVRO_NULL:
            if (b) {
                bwm_buf_put(b, "null", 4);
            }
            return 0;
        case BWM_AVRO_BOOLEAN:
            if (r->r_p >= r->r_end) {
                return rfail(r, at, BWM_ERR_DECODE, start, "truncated boolean");
            }
            if (*r->r_p > 1) {
                return rfail(r, at, BWM_ERR_DECODE, start, "bad boolean 0x%02x", *r->r_p);
            }
            if (b) {
                bwm_buf_put_str(b, *r->r_p ? "true" : "false");
            }
            r->r_p++;
            return 0;
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            if (read_long(r, at, &v)) {
                return -1;
            }
            if (n->an_type == BWM_AVRO_INT && (v < INT32_MIN || v > INT32_MAX)) {
                return rfail(r, at, BWM_ERR_DECODE, start, "int out of range: %" PRId64, v);
            }
            if (b) {
                put_long(r, n, v);
            }
            return 0;
        case BWM_AVRO_FLOAT:
        case BWM_AVRO_DOUBLE:
            len = n->an_type == BWM_AVRO_FLOAT ? 4 : 8;
            if (left(r) < len) {
                return rfail(r, at, BWM_ERR_DECODE, start, "truncated %s",
                             bwm_avro_type_name(n->an_type));
            }
            if (b && len == 4) {
                uint32_t u = (uint32_t)le(r->r_p, 4);
                float f;

                memcpy(&f, &u, sizeof(f));
                put_float(b, f);
            } else if (b) {
                uint64_t u = le(r->r_p, 8);
                double d;

                memcpy(&d, &u, sizeof(d));
                bwm_json_put_double(b, d);
            }
            r->r_p += len;
            return 0;
        case BWM_AVRO_BYTES:
        case BWM_AVRO_STRING:
            if (read_len(r, at, &len)) {
                return -1;
            }
            if (b && n->an_type == BWM_AVRO_STRING) {
                bwm_json_put_text(b, r->r_p, len);
            } else if (b) {
                put_blob(r, n, r->r_p, len);
            }
            r->r_p += len;
            return 0;
        case BWM_AVRO_FIXED:
            if (n->an_size > left(r)) {
                return rfail(r, at, BWM_ERR_DECODE, start, "truncated fixed %s of %zu bytes",
                             n->an_name, n->an_size);
            }
            if (n->an_size > r->r_lim.al_max_bytes) {
                return rfail(r, at, BWM_ERR_LIMIT, start,
                             "fixed %s of %zu bytes is above the limit of %zu", n->an_name,
                             n->an_size, r->r_lim.al_max_bytes);
            }
            if (b) {
                put_blob(r, n, r->r_p, n->an_size);
            }
            r->r_p += n->an_size;
            return 0;
        case BWM_AVRO_ENUM:
            if (read_long(r, at, &v)) {
                return -1;
            }
            if (v < 0 || (uint64_t)v >= n->an_nsymbols) {
                return rfail(r, at, BWM_ERR_DECODE, start,
                             "enum index %" PRId64 " out of range (%s has %zu symbols)", v,
                             n->an_name, n->an_nsymbols);
            }
            if (b) {
                bwm_json_put_text(b, n->an_symbols[v], strlen(n->an_symbols[v]));
            }
            return 0;
        case BWM_AVRO_UNION: {
            const bwm_avro_node_t *br;
            const char *name;

            if (deeper(r, at, depth) || read_long(r, at, &v)) {
                return -1;
            }
            if (v < 0 || (uint64_t)v >= n->an_nbranches) {
                return rfail(r, at, BWM_ERR_DECODE, start,
                             "union branch %" PRId64 " out of range (%zu branches)", v,
                             n->an_nbranches);
            }
            br = n->an_branches[v];
            if (!b || !r->r_avro || br->an_type == BWM_AVRO_NULL) {
                return walk(r, br, at, depth + 1);
            }
            name = br->an_name ? br->an_name : bwm_avro_type_name(br->an_type);
            bwm_buf_put_u8(b, '{');
            bwm_json_put_text(b, name, strlen(name));
            bwm_buf_put_u8(b, ':');
            if (walk(r, br, at, depth + 1)) {
                return -1;
            }
            bwm_buf_put_u8(b, '}');
            return 0;
        }
        case BWM_AVRO_RECORD:
            if (deeper(r, at, depth)) {
                return -1;
            }
            if (b) {
                bwm_buf_put_u8(b, '{');
            }
            for (i = 0; i < n->an_nfields; i++) {
                const bwm_avro_field_t *f = &n->an_fields[i];
                bwm_avro_seg_t g = {at, BWM_SEG_FIELD, f->af_name, 0, 0};

                if (b) {
                    if (i > 0) {
                        bwm_buf_put_u8(b, ',');
                    }
                    bwm_json_put_text(b, f->af_name, strlen(f->af_name));
                    bwm_buf_put_u8(b, ':');
                }
                if (walk(r, f->af_type, &g, depth + 1)) {
                    return -1;
                }
            }
            if (b) {
                bwm_buf_put_u8(b, '}');
            }
            return 0;
        case BWM_AVRO_ARRAY:
        case BWM_AVRO_MAP:
            return walk_blocks(r, n, at, depth);
    }
    return rfail(r, at, BWM_ERR_DECODE, start, "unknown schema type %d", (int)n->an_type);
}

static bwm_err_t run(const bwm_avro_node_t *node, const void *p, size_t n,
                     const bwm_avro_limits_t *limits, bwm_buf_t *out, int avro, size_t *used,
                     char *errstr, size_t errstr_size)
{
    static const uint8_t none[1];
    rd_t r;
    size_t mark = out ? out->b_len : 0;

    if (!node) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "no schema");
    }
    if (!p && n > 0) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "no data");
    }
    if (!p) {
        p = none;
    }
    memset(&r, 0, sizeof(r));
    r.r_base = r.r_p = p;
    r.r_end = r.r_base + n;
    r.r_lim = limits ? *limits : bwm_avro_default_limits;
    r.r_out = out;
    r.r_avro = avro;
    r.r_errstr = errstr;
    r.r_errstr_size = errstr_size;
    if (walk(&r, node, NULL, 0)) {
        if (out) {
            out->b_len = mark;
        }
        return r.r_err;
    }
    if (out && out->b_failed) {
        out->b_len = mark < out->b_len ? mark : out->b_len;
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (used) {
        *used = (size_t)(r.r_p - r.r_base);
    }
    return BWM_OK;
}

bwm_err_t bwm_avro_check(const bwm_avro_node_t *node, const void *p, size_t n,
                         const bwm_avro_limits_t *limits, size_t *used, char *errstr,
                         size_t errstr_size)
{
    return run(node, p, n, limits, NULL, 0, used, errstr, errstr_size);
}

bwm_err_t bwm_avro_to_json(const bwm_avro_node_t *node, const void *p, size_t n,
                           const bwm_avro_limits_t *limits, bwm_avro_json_mode_t mode,
                           bwm_buf_t *out, size_t *used, char *errstr, size_t errstr_size)
{
    if (!out) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "no output buffer");
    }
    return run(node, p, n, limits, out, mode == BWM_AVRO_JSON_AVRO, used, errstr, errstr_size);
}
