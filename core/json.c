/*
 * json.c: JSON string and number literals (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdint.h>

#include "value.h"

static int needs_esc(uint8_t c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_esc(bwm_buf_t *b, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

    switch (c) {
        case '"':
            bwm_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            bwm_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            bwm_buf_put(b, "\\n", 2);
            break;
        case '\r':
            bwm_buf_put(b, "\\r", 2);
            break;
        case '\t':
            bwm_buf_put(b, "\\t", 2);
            break;
        case '\b':
            bwm_buf_put(b, "\\b", 2);
            break;
        case '\f':
            bwm_buf_put(b, "\\f", 2);
            break;
        default:
            bwm_buf_put(b, esc, sizeof(esc));
    }
}

/*
 * The length of the well-formed UTF-8 sequence at s (ok set), or of its
 * maximal ill-formed subpart (ok clear), per Unicode table 3-7.
 */
static size_t utf8_seq(const uint8_t *s, size_t n, int *ok)
{
    uint8_t c = s[0], lo = 0x80, hi = 0xbf;
    size_t need, i;

    *ok = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 1;
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            return i;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    *ok = 1;
    return need + 1;
}

static void put_string(bwm_buf_t *b, const uint8_t *s, size_t n, int replace)
{
    size_t i = 0, run;

    bwm_buf_put_u8(b, '"');
    while (i < n) {
        for (run = i; run < n && (s[run] >= 0x80 ? !replace : !needs_esc(s[run])); run++) {
        }
        bwm_buf_put(b, s + i, run - i);
        i = run;
        if (i >= n) {
            break;
        }
        if (s[i] < 0x80) {
            put_esc(b, s[i++]);
        } else {
            int ok;
            size_t k = utf8_seq(s + i, n - i, &ok);

            if (ok) {
                bwm_buf_put(b, s + i, k);
            } else {
                bwm_buf_put(b, "\xef\xbf\xbd", 3);
            }
            i += k;
        }
    }
    bwm_buf_put_u8(b, '"');
}

void bwm_json_put_text(bwm_buf_t *b, const void *s, size_t n)
{
    put_string(b, s, n, 1);
}

void bwm_json_put_exact(bwm_buf_t *b, const void *s, size_t n)
{
    put_string(b, s, n, 0);
}

void bwm_json_put_bytes(bwm_buf_t *b, const void *s, size_t n)
{
    const uint8_t *p = s;
    size_t i;

    bwm_buf_put_u8(b, '"');
    for (i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (c >= 0x80) {
            uint8_t u[2] = {(uint8_t)(0xc0 | (c >> 6)), (uint8_t)(0x80 | (c & 0x3f))};

            bwm_buf_put(b, u, 2);
        } else if (needs_esc(c)) {
            put_esc(b, c);
        } else {
            bwm_buf_put_u8(b, c);
        }
    }
    bwm_buf_put_u8(b, '"');
}

void bwm_json_put_double(bwm_buf_t *b, double d)
{
    char s[BWM_DOUBLE_TEXT];

    bwm_double_text(d, s);
    if (isfinite(d)) {
        bwm_buf_put_str(b, s);
    } else {
        bwm_buf_put_u8(b, '"');
        bwm_buf_put_str(b, s);
        bwm_buf_put_u8(b, '"');
    }
}
