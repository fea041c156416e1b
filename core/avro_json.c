/*
 * avro_json.c: the writing half of the Avro codecs: a JSON value (jansson)
 * encoded as one datum of Avro's binary encoding, within
 * bwm_avro_default_limits, so whatever it writes bwm_avro_check() accepts.
 *
 * It reads Avro's JSON encoding and the readable forms bwm_avro_to_json()
 * writes:
 * - int and long: JSON integers in range (a real with no fraction too);
 *   date "YYYY-MM-DD", time-millis/micros "HH:MM[:SS[.fraction]]",
 *   timestamps "YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|(+|-)HH[:MM]]"
 *   for years 0000 to 9999. UTC timestamps apply the offset (none means
 *   UTC); local ones keep the wall time and ignore it. A fraction finer
 *   than the type holds must end in zeros.
 * - float and double: numbers, or "NaN", "Infinity", "-Infinity".
 * - bytes and fixed: strings of code points 0 to 255, one per byte.
 * - decimal (bytes or fixed): a JSON number, or decimal text
 *   ("-12.30", "1.5e3") scaled exactly; more fractional digits than the
 *   scale, or more digits than the precision, is an error. Any other string
 *   is Avro's form for bytes. So unscaled bytes whose code points happen to
 *   spell a number (say "12") are taken as that number: Avro's JSON of such
 *   a decimal does not encode back to the same bytes.
 * - uuid: the 8-4-4-4-12 hex form (bwm_avro_to_json() renders any string
 *   the bytes hold, so the JSON of a malformed uuid does not encode back).
 * - unions: null, {"<branch name>": value} with the full name of a named
 *   branch (or its name without namespace when no other branch shares it)
 *   or the base type of a logical one, or a bare value when exactly one
 *   branch can take it, judged by the value itself and not what it holds:
 *   its JSON type, an int's range, a fixed's size, an enum's symbols, a
 *   uuid's or a date's form, a record's fields (all known, and all present
 *   that have no default). Several is an error that asks for the wrapped
 *   form: 5 for ["int", "long"], "A" for a string and an enum with A.
 * - records: an object with the fields by name; a missing field takes its
 *   default (in the type of the first branch of a union, throughout the
 *   default value, as the spec says); unknown fields are an error.
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
#include "value.h"

/*
 * The encoder recurses once per level of nesting; functions with large
 * buffers (decimals, messages) are kept out of its frames with noinline.
 */

/* Most digits of a decimal's unscaled value (the schema parser accepts precision up to 1000). */
#define DECIMAL_MAX_DIGITS 1000
#define DECIMAL_MAX_BYTES  (DECIMAL_MAX_DIGITS / 2 + 8)

typedef struct wr {
    bwm_buf_t *w_out;
    bwm_avro_limits_t w_lim;
    size_t w_items;
    bwm_err_t w_err;
    char *w_errstr;
    size_t w_errstr_size;
} wr_t;

/* At most max bytes of s as the inside of a JSON string, cut at a character boundary. */
static void sput_quoted(char *out, size_t size, size_t *len, const char *s, size_t n, size_t max)
{
    size_t i;

    for (i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            bwm_sput(out, size, len, "\\%c", c);
        } else if (c < 0x20) {
            bwm_sput(out, size, len, "\\u%04x", c);
        } else {
            bwm_sput(out, size, len, "%c", c);
        }
    }
    if (i < n) {
        while (*len > 0 && ((unsigned char)out[*len - 1] & 0xc0) == 0x80) {
            (*len)--;
        }
        if (*len > 0 && (unsigned char)out[*len - 1] >= 0xc0) {
            (*len)--;
        }
        out[*len] = '\0';
        bwm_sput(out, size, len, "...");
    }
}

/* A short rendering of a JSON value for messages: "north", 3.5, an object. */
static void got(const json_t *v, char *out, size_t size)
{
    char d[BWM_DOUBLE_TEXT];
    size_t len = 0;

    out[0] = '\0';
    switch (json_typeof(v)) {
        case JSON_STRING:
            bwm_sput(out, size, &len, "\"");
            sput_quoted(out, size, &len, json_string_value(v), json_string_length(v), 40);
            bwm_sput(out, size, &len, "\"");
            break;
        case JSON_INTEGER:
            bwm_sput(out, size, &len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            break;
        case JSON_REAL:
            bwm_double_text(json_real_value(v), d);
            bwm_sput(out, size, &len, "%s", d);
            break;
        case JSON_TRUE:
            bwm_sput(out, size, &len, "true");
            break;
        case JSON_FALSE:
            bwm_sput(out, size, &len, "false");
            break;
        case JSON_NULL:
            bwm_sput(out, size, &len, "null");
            break;
        case JSON_OBJECT:
            bwm_sput(out, size, &len, "an object");
            break;
        case JSON_ARRAY:
            bwm_sput(out, size, &len, "an array");
            break;
    }
}

static int wfail(wr_t *w, const bwm_avro_seg_t *at, bwm_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int wfail(wr_t *w, const bwm_avro_seg_t *at, bwm_err_t err, const char *fmt, ...)
{
    char path[256], msg[512];
    va_list ap;

    if (w->w_err != BWM_OK) {
        return -1;
    }
    w->w_err = err;
    if (w->w_errstr && w->w_errstr_size) {
        bwm_avro_path(at, path, sizeof(path));
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        bwm_err_set(err, w->w_errstr, w->w_errstr_size, "%s: %s", path, msg);
    }
    return -1;
}

/* "expected <what>, got <value>" */
static int wrong(wr_t *w, const bwm_avro_seg_t *at, const char *what, const json_t *v)
{
    char g[96];

    got(v, g, sizeof(g));
    return wfail(w, at, BWM_ERR_TYPE, "expected %s, got %s", what, g);
}

/* ---- binary output ------------------------------------------------------------------------ */

static void put_long(bwm_buf_t *b, int64_t v)
{
    uint64_t u = (uint64_t)v, z = (u << 1) ^ (0 - (u >> 63));
    uint8_t o[10];
    size_t n = 0;

    while (z >= 0x80) {
        o[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    o[n++] = (uint8_t)z;
    bwm_buf_put(b, o, n);
}

static void put_le(bwm_buf_t *b, uint64_t v, int n)
{
    uint8_t o[8];
    int i;

    for (i = 0; i < n; i++) {
        o[i] = (uint8_t)(v >> (8 * i));
    }
    bwm_buf_put(b, o, (size_t)n);
}

/* ---- reading JSON scalars ----------------------------------------------------------------- */

/* An integral JSON number as int64. */
static int as_i64(const json_t *v, int64_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (!json_is_real(v)) {
        return 0;
    }
    d = json_real_value(v);
    if (d != floor(d) || !(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        return 0;
    }
    *out = (int64_t)d;
    return 1;
}

/* A JSON number, or "NaN", "Infinity", "-Infinity". */
static int as_double(const json_t *v, double *out)
{
    const char *s;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    if (!json_is_string(v)) {
        return 0;
    }
    s = json_string_value(v);
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
    } else if (strcmp(s, "Infinity") == 0) {
        *out = INFINITY;
    } else if (strcmp(s, "-Infinity") == 0) {
        *out = -INFINITY;
    } else {
        return 0;
    }
    return 1;
}

/*
 * Avro's JSON form of bytes: code points 0 to 255, one per byte. Writes the
 * bytes to out when not NULL (room for n); returns their count, or -1.
 */
static long code_points(const char *s, size_t n, uint8_t *out)
{
    size_t i = 0, k = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80) {
            i++;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < n &&
                   ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
            c = (unsigned char)(((c & 0x03) << 6) | ((unsigned char)s[i + 1] & 0x3f));
            i += 2;
        } else {
            return -1;
        }
        if (out) {
            out[k] = c;
        }
        k++;
    }
    return (long)k;
}

/* ---- dates and times ---------------------------------------------------------------------- */

typedef struct cur {
    const char *c_p;
    const char *c_end;
} cur_t;

static int num(cur_t *c, int n, int *out)
{
    int v = 0, i;

    if (c->c_end - c->c_p < n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (c->c_p[i] < '0' || c->c_p[i] > '9') {
            return 0;
        }
        v = v * 10 + (c->c_p[i] - '0');
    }
    c->c_p += n;
    *out = v;
    return 1;
}

static int lit(cur_t *c, char ch)
{
    if (c->c_p < c->c_end && *c->c_p == ch) {
        c->c_p++;
        return 1;
    }
    return 0;
}

static int date_part(cur_t *c, int64_t *days)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, leap;

    if (!num(c, 4, &y) || !lit(c, '-') || !num(c, 2, &m) || !lit(c, '-') || !num(c, 2, &d)) {
        return 0;
    }
    leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) {
        return 0;
    }
    *days = bwm_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* HH:MM[:SS[.fraction]] in units of 1/per_sec s. NULL, or why not. */
static const char *clock_part(cur_t *c, int64_t per_sec, int64_t *out)
{
    int h, m, s = 0;
    int64_t frac = 0, scale = per_sec;

    if (!num(c, 2, &h) || !lit(c, ':') || !num(c, 2, &m)) {
        return "";
    }
    if (lit(c, ':')) {
        if (!num(c, 2, &s)) {
            return "";
        }
        if (lit(c, '.')) {
            int ndig = 0;

            while (c->c_p < c->c_end && *c->c_p >= '0' && *c->c_p <= '9') {
                scale /= 10;
                if (scale > 0) {
                    frac += (*c->c_p - '0') * scale;
                } else if (*c->c_p != '0') {
                    return per_sec == 1000 ? "is more precise than milliseconds"
                                           : "is more precise than microseconds";
                }
                c->c_p++;
                if (++ndig > 18) {
                    return "";
                }
            }
            if (ndig == 0) {
                return "";
            }
        }
    }
    if (h > 23 || m > 59 || s > 59) {
        return "";
    }
    *out = ((int64_t)h * 3600 + m * 60 + s) * per_sec + frac;
    return NULL;
}

static const char *parse_date(const char *s, size_t n, int64_t *days)
{
    cur_t c = {s, s + n};

    return date_part(&c, days) && c.c_p == c.c_end ? NULL : "";
}

static const char *parse_clock(const char *s, size_t n, int64_t per_sec, int64_t *out)
{
    cur_t c = {s, s + n};
    const char *why = clock_part(&c, per_sec, out);

    return why ? why : c.c_p == c.c_end ? NULL : "";
}

static const char *parse_timestamp(const char *s, size_t n, int64_t per_sec, int utc, int64_t *out)
{
    cur_t c = {s, s + n};
    int64_t days, t = 0, offset = 0;
    const char *why;

    if (!date_part(&c, &days)) {
        return "";
    }
    if (c.c_p < c.c_end) {
        if (!lit(&c, 'T') && !lit(&c, 't') && !lit(&c, ' ')) {
            return "";
        }
        if ((why = clock_part(&c, per_sec, &t)) != NULL) {
            return why;
        }
        if (lit(&c, 'Z') || lit(&c, 'z')) {
            offset = 0;
        } else if (c.c_p < c.c_end && (*c.c_p == '+' || *c.c_p == '-')) {
            int sign = *c.c_p++ == '-' ? -1 : 1, oh, om = 0;

            if (!num(&c, 2, &oh)) {
                return "";
            }
            lit(&c, ':');
            if (c.c_p < c.c_end && !num(&c, 2, &om)) {
                return "";
            }
            if (oh > 23 || om > 59) {
                return "";
            }
            offset = sign * ((int64_t)oh * 3600 + om * 60);
        }
    }
    if (c.c_p != c.c_end) {
        return "";
    }
    *out = days * 86400 * per_sec + t - (utc ? offset * per_sec : 0);
    return NULL;
}

/* The text form of an int or long with a logical type. NULL, or why not ("" for a bad form). */
static const char *parse_logical(const bwm_avro_node_t *n, const json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);

    switch (n->an_logical) {
        case BWM_LOGICAL_DATE:
            return parse_date(s, len, out);
        case BWM_LOGICAL_TIME_MILLIS:
            return parse_clock(s, len, 1000, out);
        case BWM_LOGICAL_TIME_MICROS:
            return parse_clock(s, len, 1000000, out);
        case BWM_LOGICAL_TIMESTAMP_MILLIS:
        case BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
            return parse_timestamp(s, len, 1000, n->an_logical == BWM_LOGICAL_TIMESTAMP_MILLIS,
                                   out);
        case BWM_LOGICAL_TIMESTAMP_MICROS:
        case BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS:
            return parse_timestamp(s, len, 1000000, n->an_logical == BWM_LOGICAL_TIMESTAMP_MICROS,
                                   out);
        default:
            return "";
    }
}

static int uuid_ok(const char *s, size_t n)
{
    size_t i;

    if (n != 36) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        int hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];

        if (hyphen
                ? c != '-'
                : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

/* ---- decimals ----------------------------------------------------------------------------- */

typedef struct dec {
    int d_neg;
    char d_digits[DECIMAL_MAX_DIGITS + 1]; /* the unscaled value, no leading zeros; "" is 0 */
    size_t d_n;
} dec_t;

/*
 * Decimal text ([+-]digits[.digits][e[+-]digits]) as the unscaled integer
 * of node's scale. NULL, or why not: "" when it is not decimal text.
 */
static const char *decimal_parse(const bwm_avro_node_t *n, const char *s, size_t len, dec_t *d)
{
    const char *ip, *fp = NULL, *end = s + len, *p = s;
    size_t ni = 0, nf = 0, na, first, i, keep;
    long exp = 0;
    long k;

    d->d_neg = 0;
    d->d_n = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        d->d_neg = *p++ == '-';
    }
    ip = p;
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
        ni++;
    }
    if (p < end && *p == '.') {
        fp = ++p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
            nf++;
        }
    }
    if (ni + nf == 0) {
        return "";
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int esign = 1, nd = 0;

        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            esign = *p++ == '-' ? -1 : 1;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            if (exp < 100000000) {
                exp = exp * 10 + (*p - '0');
            }
            p++;
            nd++;
        }
        if (nd == 0) {
            return "";
        }
        exp *= esign;
    }
    if (p != end) {
        return "";
    }
    /* the digits a[0 .. na) are ip[0 .. ni) then fp[0 .. nf); value = a * 10^(exp - nf) */
    na = ni + nf;
#define DIGIT(j) ((j) < ni ? ip[(j)] : fp[(j)-ni])
    for (first = 0; first < na && DIGIT(first) == '0'; first++) {
    }
    if (first == na) {
        d->d_neg = 0;
        return NULL; /* zero */
    }
    k = (long)n->an_scale + exp - (long)nf; /* zeros to append (k > 0) or digits to drop */
    if (k < 0) {
        size_t drop = (size_t)-k;

        if (drop > na - first) {
            return "has more fractional digits than the scale";
        }
        for (i = na - drop; i < na; i++) {
            if (DIGIT(i) != '0') {
                return "has more fractional digits than the scale";
            }
        }
        keep = na - drop - first;
        k = 0;
    } else {
        keep = na - first;
    }
    if ((long)keep + k > n->an_precision || (long)keep + k > DECIMAL_MAX_DIGITS) {
        return "has more digits than the precision";
    }
    for (i = 0; i < keep; i++) {
        d->d_digits[d->d_n++] = DIGIT(first + i);
    }
#undef DIGIT
    while (k-- > 0) {
        d->d_digits[d->d_n++] = '0';
    }
    d->d_digits[d->d_n] = '\0';
    return NULL;
}

/* A JSON number or string as a decimal of node. */
static const char *decimal_value(const bwm_avro_node_t *n, const json_t *v, dec_t *d)
{
    char t[BWM_DOUBLE_TEXT + 8];

    if (json_is_string(v)) {
        return decimal_parse(n, json_string_value(v), json_string_length(v), d);
    }
    if (json_is_integer(v)) {
        snprintf(t, sizeof(t), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v) && isfinite(json_real_value(v))) {
        bwm_double_text(json_real_value(v), t);
    } else {
        return "";
    }
    return decimal_parse(n, t, strlen(t), d);
}

/* The shortest big-endian two's complement of the decimal, into out; returns its length. */
static size_t decimal_bytes(const dec_t *d, uint8_t *out)
{
    uint8_t le[DECIMAL_MAX_BYTES];
    size_t n = 0, i, len;

    for (i = 0; i < d->d_n; i++) {
        unsigned carry = (unsigned)(d->d_digits[i] - '0');
        size_t j;

        for (j = 0; j < n; j++) {
            unsigned v = le[j] * 10u + carry;

            le[j] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry) {
            le[n++] = (uint8_t)carry;
        }
    }
    /* big-endian with a spare sign byte in front */
    out[0] = 0;
    for (i = 0; i < n; i++) {
        out[1 + i] = le[n - 1 - i];
    }
    len = n + 1;
    if (d->d_neg) {
        unsigned carry = 1;

        for (i = len; i-- > 0;) {
            unsigned v = (uint8_t)~out[i] + carry;

            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    /* drop redundant sign bytes */
    i = 0;
    while (len - i > 1 &&
           ((out[i] == 0x00 && !(out[i + 1] & 0x80)) || (out[i] == 0xff && (out[i + 1] & 0x80)))) {
        i++;
    }
    memmove(out, out + i, len - i);
    return len - i;
}

/* ---- what a JSON value fits --------------------------------------------------------------- */

static int symbol_index(const bwm_avro_node_t *n, const json_t *v)
{
    size_t i;

    if (!json_is_string(v)) {
        return -1;
    }
    for (i = 0; i < n->an_nsymbols; i++) {
        if (strcmp(n->an_symbols[i], json_string_value(v)) == 0 &&
            strlen(n->an_symbols[i]) == json_string_length(v)) {
            return (int)i;
        }
    }
    return -1;
}

static const char *short_name(const char *full)
{
    const char *dot = strrchr(full, '.');

    return dot ? dot + 1 : full;
}

/* Whether an object can be a record of n: known fields only, and every field without default. */
static int record_fits(const bwm_avro_node_t *n, const json_t *v)
{
    const char *key;
    void *it;
    size_t i;

    for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        key = json_object_iter_key(it);
        if (strlen(key) != json_object_iter_key_len(it) || !bwm_avro_field(n, key, 0)) {
            return 0;
        }
    }
    for (i = 0; i < n->an_nfields; i++) {
        if (!n->an_fields[i].af_default && !json_object_get(v, n->an_fields[i].af_name)) {
            return 0;
        }
    }
    return 1;
}

/* Whether v can be a value of n (no union), looking at v itself and not inside it. */
static __attribute__((noinline)) int fits(const bwm_avro_node_t *n, const json_t *v)
{
    int64_t i;
    double d;
    dec_t dec;
    long nb;

    switch (n->an_type) {
        case BWM_AVRO_NULL:
            return json_is_null(v);
        case BWM_AVRO_BOOLEAN:
            return json_is_boolean(v);
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            if (json_is_string(v)) {
                return n->an_logical != BWM_LOGICAL_NONE && !parse_logical(n, v, &i);
            }
            return as_i64(v, &i) &&
                   (n->an_type == BWM_AVRO_LONG || (i >= INT32_MIN && i <= INT32_MAX));
        case BWM_AVRO_FLOAT:
        case BWM_AVRO_DOUBLE:
            return as_double(v, &d);
        case BWM_AVRO_BYTES:
        case BWM_AVRO_FIXED:
            if (n->an_logical == BWM_LOGICAL_DECIMAL) {
                const char *why = decimal_value(n, v, &dec);

                /* decimal text, even out of scale or precision, so the error can say so */
                if (!why || why[0]) {
                    return 1;
                }
            }
            if (!json_is_string(v)) {
                return 0;
            }
            nb = code_points(json_string_value(v), json_string_length(v), NULL);
            return nb >= 0 && (n->an_type == BWM_AVRO_BYTES || (size_t)nb == n->an_size);
        case BWM_AVRO_STRING:
            return json_is_string(v) && (n->an_logical != BWM_LOGICAL_UUID ||
                                         uuid_ok(json_string_value(v), json_string_length(v)));
        case BWM_AVRO_ENUM:
            return symbol_index(n, v) >= 0;
        case BWM_AVRO_ARRAY:
            return json_is_array(v);
        case BWM_AVRO_MAP:
            return json_is_object(v);
        case BWM_AVRO_RECORD:
            return json_is_object(v) && record_fits(n, v);
        case BWM_AVRO_UNION:
            return 0;
    }
    return 0;
}

/* What a value of n looks like in JSON, for messages. */
static const char *expected(const bwm_avro_node_t *n, char *buf, size_t size)
{
    switch (n->an_type) {
        case BWM_AVRO_NULL:
            return "null";
        case BWM_AVRO_BOOLEAN:
            return "true or false";
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            switch (n->an_logical) {
                case BWM_LOGICAL_DATE:
                    return "a date (YYYY-MM-DD) or an integer";
                case BWM_LOGICAL_TIME_MILLIS:
                case BWM_LOGICAL_TIME_MICROS:
                    return "a time (HH:MM:SS.fraction) or an integer";
                case BWM_LOGICAL_TIMESTAMP_MILLIS:
                case BWM_LOGICAL_TIMESTAMP_MICROS:
                case BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
                case BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS:
                    return "an ISO-8601 timestamp or an integer";
                default:
                    return n->an_type == BWM_AVRO_INT ? "an int" : "an integer";
            }
        case BWM_AVRO_FLOAT:
        case BWM_AVRO_DOUBLE:
            return "a number";
        case BWM_AVRO_BYTES:
            return n->an_logical == BWM_LOGICAL_DECIMAL
                       ? "a decimal (a number or decimal text)"
                       : "a string of bytes (code points 0 to 255)";
        case BWM_AVRO_STRING:
            return n->an_logical == BWM_LOGICAL_UUID ? "a uuid (8-4-4-4-12 hex digits)"
                                                     : "a string";
        case BWM_AVRO_FIXED:
            if (n->an_logical == BWM_LOGICAL_DECIMAL) {
                return "a decimal (a number or decimal text)";
            }
            snprintf(buf, size, "a string of %zu bytes (code points 0 to 255)", n->an_size);
            return buf;
        case BWM_AVRO_ENUM:
            snprintf(buf, size, "a symbol of %s", short_name(n->an_name));
            return buf;
        case BWM_AVRO_ARRAY:
            return "an array";
        case BWM_AVRO_MAP:
            return "an object (a map)";
        case BWM_AVRO_RECORD:
            snprintf(buf, size, "an object (record %s)", short_name(n->an_name));
            return buf;
        case BWM_AVRO_UNION:
            return "a union";
    }
    return "?";
}

static const char *branch_name(const bwm_avro_node_t *n)
{
    return n->an_name ? n->an_name : bwm_avro_type_name(n->an_type);
}

/* The branch a one-key object {"name": value} names, or -1. */
static int wrapped_branch(const bwm_avro_node_t *u, const json_t *v)
{
    void *it = json_object_iter((json_t *)v);
    const char *key;
    size_t i;
    int found = -1;

    if (json_object_size(v) != 1 || !it) {
        return -1;
    }
    key = json_object_iter_key(it);
    if (strlen(key) != json_object_iter_key_len(it)) {
        return -1;
    }
    for (i = 0; i < u->an_nbranches; i++) {
        if (strcmp(branch_name(u->an_branches[i]), key) == 0) {
            return (int)i;
        }
    }
    for (i = 0; i < u->an_nbranches; i++) {
        if (u->an_branches[i]->an_name &&
            strcmp(short_name(u->an_branches[i]->an_name), key) == 0) {
            if (found >= 0) {
                return -1;
            }
            found = (int)i;
        }
    }
    return found;
}

/* ---- the encoder -------------------------------------------------------------------------- */

static int enc(wr_t *w, const bwm_avro_node_t *n, const json_t *v, const bwm_avro_seg_t *at,
               size_t depth, int dflt);

static int deeper(wr_t *w, const bwm_avro_seg_t *at, size_t depth)
{
    if (depth >= w->w_lim.al_max_depth) {
        return wfail(w, at, BWM_ERR_LIMIT, "nested deeper than %zu levels", w->w_lim.al_max_depth);
    }
    return 0;
}

static int more_items(wr_t *w, const bwm_avro_seg_t *at, size_t count)
{
    if (count > w->w_lim.al_max_items - w->w_items) {
        return wfail(w, at, BWM_ERR_LIMIT, "more than %zu array items and map entries",
                     w->w_lim.al_max_items);
    }
    w->w_items += count;
    return 0;
}

static int bytes_limit(wr_t *w, const bwm_avro_seg_t *at, size_t len)
{
    if (len > w->w_lim.al_max_bytes) {
        return wfail(w, at, BWM_ERR_LIMIT, "%zu bytes, above the limit of %zu", len,
                     w->w_lim.al_max_bytes);
    }
    return 0;
}

/* Why no single branch of union n takes v: none does, or nfit do. */
static __attribute__((noinline)) int union_error(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                                 const bwm_avro_seg_t *at, size_t nfit)
{
    char list[256], g[96], tmp[96];
    size_t i, len = 0, k = 0;

    got(v, g, sizeof(g));
    if (nfit > 1) {
        for (i = 0; i < n->an_nbranches; i++) {
            if (fits(n->an_branches[i], v)) {
                bwm_sput(list, sizeof(list), &len, "%s%s", k++ ? ", " : "",
                         branch_name(n->an_branches[i]));
            }
        }
        return wfail(w, at, BWM_ERR_TYPE,
                     "%s fits more than one branch of the union (%s); write it as "
                     "{\"<branch>\": value}",
                     g, list);
    }
    for (i = 0; i < n->an_nbranches; i++) {
        bwm_sput(list, sizeof(list), &len, "%s%s",
                 i == 0                     ? ""
                 : i + 1 == n->an_nbranches ? " or "
                                            : ", ",
                 expected(n->an_branches[i], tmp, sizeof(tmp)));
    }
    return wfail(w, at, BWM_ERR_TYPE, "expected %s, got %s", list, g);
}

static int enc_union(wr_t *w, const bwm_avro_node_t *n, const json_t *v, const bwm_avro_seg_t *at,
                     size_t depth, int dflt)
{
    size_t i, nfit = 0;
    int pick = -1;

    if (deeper(w, at, depth)) {
        return -1;
    }
    if (n->an_nbranches == 0) {
        return wfail(w, at, BWM_ERR_TYPE, "a union without branches has no values");
    }
    if (dflt) {
        /* a default is a value of the first branch */
        put_long(w->w_out, 0);
        return enc(w, n->an_branches[0], v, at, depth + 1, dflt);
    }
    if (json_is_object(v) && (pick = wrapped_branch(n, v)) >= 0) {
        put_long(w->w_out, pick);
        return enc(w, n->an_branches[pick], json_object_iter_value(json_object_iter((json_t *)v)),
                   at, depth + 1, 0);
    }
    for (i = 0; i < n->an_nbranches; i++) {
        if (fits(n->an_branches[i], v)) {
            pick = (int)i;
            nfit++;
        }
    }
    if (nfit != 1) {
        return union_error(w, n, v, at, nfit);
    }
    put_long(w->w_out, pick);
    return enc(w, n->an_branches[pick], v, at, depth + 1, 0);
}

/* The fields of v that record n does not have, or 0. */
static __attribute__((noinline)) int unknown_fields(wr_t *w, const bwm_avro_node_t *n,
                                                    const json_t *v, const bwm_avro_seg_t *at)
{
    char unknown[256];
    size_t len = 0, nunknown = 0;
    void *it;

    for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);

        if (strlen(key) != klen || !bwm_avro_field(n, key, 0)) {
            if (nunknown < 3) {
                bwm_sput(unknown, sizeof(unknown), &len, "%s'", nunknown ? ", " : "");
                sput_quoted(unknown, sizeof(unknown), &len, key, klen, 40);
                bwm_sput(unknown, sizeof(unknown), &len, "'");
            } else if (nunknown == 3) {
                bwm_sput(unknown, sizeof(unknown), &len, ", ...");
            }
            nunknown++;
        }
    }
    if (nunknown) {
        return wfail(w, at, BWM_ERR_TYPE, "unknown field%s %s in record %s",
                     nunknown > 1 ? "s" : "", unknown, short_name(n->an_name));
    }
    return 0;
}

static __attribute__((noinline)) int wrong_type(wr_t *w, const bwm_avro_seg_t *at,
                                                const bwm_avro_node_t *n, const json_t *v)
{
    char tmp[96];

    return wrong(w, at, expected(n, tmp, sizeof(tmp)), v);
}

static int enc_record(wr_t *w, const bwm_avro_node_t *n, const json_t *v, const bwm_avro_seg_t *at,
                      size_t depth, int dflt)
{
    size_t i;

    if (deeper(w, at, depth)) {
        return -1;
    }
    if (!json_is_object(v)) {
        return wrong_type(w, at, n, v);
    }
    if (unknown_fields(w, n, v, at)) {
        return -1;
    }
    for (i = 0; i < n->an_nfields; i++) {
        const bwm_avro_field_t *f = &n->an_fields[i];
        const json_t *fv = json_object_get(v, f->af_name);
        bwm_avro_seg_t g = {at, BWM_SEG_FIELD, f->af_name, 0, 0};

        if (fv) {
            if (enc(w, f->af_type, fv, &g, depth + 1, dflt)) {
                return -1;
            }
        } else if (f->af_default) {
            if (enc(w, f->af_type, f->af_default, &g, depth + 1, 1)) {
                return -1;
            }
        } else {
            return wfail(w, at, BWM_ERR_TYPE, "missing field '%s' (no default)", f->af_name);
        }
    }
    return 0;
}

static int enc_blocks(wr_t *w, const bwm_avro_node_t *n, const json_t *v, const bwm_avro_seg_t *at,
                      size_t depth, int dflt)
{
    size_t count, i = 0;
    void *it;

    if (deeper(w, at, depth)) {
        return -1;
    }
    if (n->an_type == BWM_AVRO_ARRAY) {
        const json_t *item;

        if (!json_is_array(v)) {
            return wrong(w, at, "an array", v);
        }
        count = json_array_size(v);
        if (more_items(w, at, count)) {
            return -1;
        }
        if (count) {
            put_long(w->w_out, (int64_t)count);
        }
        json_array_foreach(v, i, item)
        {
            bwm_avro_seg_t g = {at, BWM_SEG_INDEX, NULL, 0, i};

            if (enc(w, n->an_items, item, &g, depth + 1, dflt)) {
                return -1;
            }
        }
        put_long(w->w_out, 0);
        return 0;
    }
    if (!json_is_object(v)) {
        return wrong(w, at, "an object (a map)", v);
    }
    count = json_object_size(v);
    if (more_items(w, at, count)) {
        return -1;
    }
    if (count) {
        put_long(w->w_out, (int64_t)count);
    }
    for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        bwm_avro_seg_t g = {at, BWM_SEG_KEY, json_object_iter_key(it), json_object_iter_key_len(it),
                            i++};

        if (bytes_limit(w, &g, g.g_len)) {
            return -1;
        }
        put_long(w->w_out, (int64_t)g.g_len);
        bwm_buf_put(w->w_out, g.g_name, g.g_len);
        if (enc(w, n->an_values, json_object_iter_value(it), &g, depth + 1, dflt)) {
            return -1;
        }
    }
    put_long(w->w_out, 0);
    return 0;
}

static __attribute__((noinline)) int enc_blob(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                              const bwm_avro_seg_t *at)
{
    char tmp[96], g[96];
    int fixed = n->an_type == BWM_AVRO_FIXED;
    long nb;

    if (fixed && bytes_limit(w, at, n->an_size)) {
        return -1;
    }
    if (n->an_logical == BWM_LOGICAL_DECIMAL) {
        dec_t d;
        const char *why = decimal_value(n, v, &d);

        if (!why) {
            uint8_t be[DECIMAL_MAX_BYTES + 2];
            size_t len = decimal_bytes(&d, be), i;

            if (!fixed) {
                put_long(w->w_out, (int64_t)len);
                bwm_buf_put(w->w_out, be, len);
                return 0;
            }
            if (len > n->an_size) {
                got(v, g, sizeof(g));
                return wfail(w, at, BWM_ERR_TYPE, "%s does not fit fixed %s of %zu bytes", g,
                             short_name(n->an_name), n->an_size);
            }
            for (i = len; i < n->an_size; i++) {
                bwm_buf_put_u8(w->w_out, d.d_neg ? 0xff : 0x00);
            }
            bwm_buf_put(w->w_out, be, len);
            return 0;
        }
        if (why[0]) {
            got(v, g, sizeof(g));
            return wfail(w, at, BWM_ERR_TYPE, "%s %s (decimal(%d, %d))", g, why, n->an_precision,
                         n->an_scale);
        }
        /* not decimal text: Avro's form for bytes */
    }
    if (!json_is_string(v) ||
        (nb = code_points(json_string_value(v), json_string_length(v), NULL)) < 0 ||
        (fixed && (size_t)nb != n->an_size)) {
        return wrong(w, at, expected(n, tmp, sizeof(tmp)), v);
    }
    if (bytes_limit(w, at, (size_t)nb)) {
        return -1;
    }
    if (bwm_buf_reserve(w->w_out, (size_t)nb + 10) != BWM_OK) {
        return wfail(w, at, BWM_ERR_NOMEM, "out of memory");
    }
    if (!fixed) {
        put_long(w->w_out, nb);
    }
    code_points(json_string_value(v), json_string_length(v), w->w_out->b_data + w->w_out->b_len);
    w->w_out->b_len += (size_t)nb;
    return 0;
}

static __attribute__((noinline)) int enc_long(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                              const bwm_avro_seg_t *at)
{
    char g[96];
    int64_t i;

    if (json_is_string(v) && n->an_logical != BWM_LOGICAL_NONE) {
        const char *why = parse_logical(n, v, &i);

        if (why && why[0]) {
            got(v, g, sizeof(g));
            return wfail(w, at, BWM_ERR_TYPE, "%s %s", g, why);
        }
        if (why) {
            return wrong(w, at, expected(n, g, sizeof(g)), v);
        }
    } else if (!as_i64(v, &i)) {
        return wrong(w, at, expected(n, g, sizeof(g)), v);
    }
    if (n->an_type == BWM_AVRO_INT && (i < INT32_MIN || i > INT32_MAX)) {
        got(v, g, sizeof(g));
        return wfail(w, at, BWM_ERR_TYPE, "%s is out of range for an int", g);
    }
    put_long(w->w_out, i);
    return 0;
}

/* "<value> <why>" for a value that has the right JSON type but not a fitting value. */
static __attribute__((noinline)) int bad_value(wr_t *w, const bwm_avro_seg_t *at, const json_t *v,
                                               const char *why)
{
    char g[96];

    got(v, g, sizeof(g));
    return wfail(w, at, BWM_ERR_TYPE, "%s %s", g, why);
}

static __attribute__((noinline)) int enc_number(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                                const bwm_avro_seg_t *at)
{
    double d;

    if (!as_double(v, &d)) {
        return wrong(w, at, "a number", v);
    }
    if (n->an_type == BWM_AVRO_DOUBLE) {
        uint64_t u;

        memcpy(&u, &d, sizeof(u));
        put_le(w->w_out, u, 8);
    } else {
        float f;
        uint32_t u;

        /* 0x1.ffffffp127 and beyond round to infinity */
        if (isfinite(d) && fabs(d) >= 0x1.ffffffp127) {
            return bad_value(w, at, v, "is out of range for a float");
        }
        f = (float)d;
        memcpy(&u, &f, sizeof(u));
        put_le(w->w_out, u, 4);
    }
    return 0;
}

static __attribute__((noinline)) int enc_string(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                                const bwm_avro_seg_t *at)
{
    size_t len;

    if (!json_is_string(v)) {
        return wrong_type(w, at, n, v);
    }
    len = json_string_length(v);
    if (n->an_logical == BWM_LOGICAL_UUID && !uuid_ok(json_string_value(v), len)) {
        return bad_value(w, at, v, "is not a uuid (8-4-4-4-12 hex digits)");
    }
    if (bytes_limit(w, at, len)) {
        return -1;
    }
    put_long(w->w_out, (int64_t)len);
    bwm_buf_put(w->w_out, json_string_value(v), len);
    return 0;
}

static __attribute__((noinline)) int enc_enum(wr_t *w, const bwm_avro_node_t *n, const json_t *v,
                                              const bwm_avro_seg_t *at)
{
    char syms[256], g[96];
    int sym = symbol_index(n, v);
    size_t i, len = 0;

    if (sym >= 0) {
        put_long(w->w_out, sym);
        return 0;
    }
    if (!json_is_string(v)) {
        return wrong_type(w, at, n, v);
    }
    for (i = 0; i < n->an_nsymbols; i++) {
        bwm_sput(syms, sizeof(syms), &len, "%s%s", i ? ", " : "", n->an_symbols[i]);
    }
    if (len + 1 >= sizeof(syms)) {
        memcpy(syms + sizeof(syms) - 4, "...", 4);
    }
    got(v, g, sizeof(g));
    g[0] = g[strlen(g) - 1] = '\'';
    return wfail(w, at, BWM_ERR_TYPE, "%s is not a symbol of %s (%s)", g, short_name(n->an_name),
                 syms);
}

static int enc(wr_t *w, const bwm_avro_node_t *n, const json_t *v, const bwm_avro_seg_t *at,
               size_t depth, int dflt)
{
    switch (n->an_type) {
        case BWM_AVRO_NULL:
            return json_is_null(v) ? 0 : wrong(w, at, "null", v);
        case BWM_AVRO_BOOLEAN:
            if (!json_is_boolean(v)) {
                return wrong(w, at, "true or false", v);
            }
            bwm_buf_put_u8(w->w_out, json_is_true(v) ? 1 : 0);
            return 0;
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            return enc_long(w, n, v, at);
        case BWM_AVRO_FLOAT:
        case BWM_AVRO_DOUBLE:
            return enc_number(w, n, v, at);
        case BWM_AVRO_STRING:
            return enc_string(w, n, v, at);
        case BWM_AVRO_BYTES:
        case BWM_AVRO_FIXED:
            return enc_blob(w, n, v, at);
        case BWM_AVRO_ENUM:
            return enc_enum(w, n, v, at);
        case BWM_AVRO_UNION:
            return enc_union(w, n, v, at, depth, dflt);
        case BWM_AVRO_RECORD:
            return enc_record(w, n, v, at, depth, dflt);
        case BWM_AVRO_ARRAY:
        case BWM_AVRO_MAP:
            return enc_blocks(w, n, v, at, depth, dflt);
    }
    return wfail(w, at, BWM_ERR_SCHEMA, "unknown schema type %d", (int)n->an_type);
}

bwm_err_t bwm_avro_from_json(const bwm_avro_node_t *node, const json_t *value, bwm_buf_t *out,
                             char *errstr, size_t errstr_size)
{
    wr_t w;
    size_t mark;

    if (!node || !value || !out) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "no schema, value or buffer");
    }
    memset(&w, 0, sizeof(w));
    w.w_out = out;
    w.w_lim = bwm_avro_default_limits;
    w.w_errstr = errstr;
    w.w_errstr_size = errstr_size;
    mark = out->b_len;
    if (enc(&w, node, value, NULL, 0, 0)) {
        out->b_len = mark;
        return w.w_err;
    }
    if (out->b_failed) {
        out->b_len = mark < out->b_len ? mark : out->b_len;
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return BWM_OK;
}
