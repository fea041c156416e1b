/*
 * avrojson.c: a recursive renderer from avro-c values to JSON text.
 */
#include "avrojson.h"

#include "value.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bwm_json_put_string(bwm_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    bwm_buf_put_u8(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        switch (ch) {
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
            default:
                if (ch < 0x20) {
                    char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};

                    bwm_buf_put(b, esc, sizeof(esc));
                } else {
                    bwm_buf_put_u8(b, ch);
                }
        }
    }
    bwm_buf_put_u8(b, '"');
}

/* Avro's JSON encoding of bytes: each byte is the code point of the same value. */
static void put_bytes(bwm_buf_t *b, const uint8_t *p, size_t n)
{
    bwm_buf_t tmp;
    size_t i;

    bwm_buf_init(&tmp);
    for (i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            bwm_buf_put_u8(&tmp, p[i]);
        } else {
            bwm_buf_put_u8(&tmp, (uint8_t)(0xc0 | (p[i] >> 6)));
            bwm_buf_put_u8(&tmp, (uint8_t)(0x80 | (p[i] & 0x3f)));
        }
    }
    bwm_json_put_string(b, (const char *)tmp.b_data, tmp.b_len);
    bwm_buf_free(&tmp);
}

void bwm_json_put_double(bwm_buf_t *b, double d)
{
    char s[BWM_DOUBLE_TEXT];

    bwm_double_text(d, s);
    if (isnan(d) || isinf(d)) {
        bwm_json_put_string(b, s, strlen(s));
    } else {
        bwm_buf_put_str(b, s);
    }
}

bwm_err_t bwm_avrojson_render(avro_value_t *v, bwm_buf_t *b)
{
    char num[32];
    size_t i, n;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    int bo;
    const char *s;
    const void *bytes;
    avro_value_t child;
    bwm_err_t err;

    switch (avro_value_get_type(v)) {
        case AVRO_NULL:
            bwm_buf_put_str(b, "null");
            break;
        case AVRO_BOOLEAN:
            avro_value_get_boolean(v, &bo);
            bwm_buf_put_str(b, bo ? "true" : "false");
            break;
        case AVRO_INT32:
            avro_value_get_int(v, &i32);
            snprintf(num, sizeof(num), "%" PRId32, i32);
            bwm_buf_put_str(b, num);
            break;
        case AVRO_INT64:
            avro_value_get_long(v, &i64);
            snprintf(num, sizeof(num), "%" PRId64, i64);
            bwm_buf_put_str(b, num);
            break;
        case AVRO_FLOAT:
            avro_value_get_float(v, &f);
            bwm_json_put_double(b, f);
            break;
        case AVRO_DOUBLE:
            avro_value_get_double(v, &d);
            bwm_json_put_double(b, d);
            break;
        case AVRO_STRING:
            avro_value_get_string(v, &s, &n);
            bwm_json_put_string(b, s, n ? n - 1 : 0);
            break;
        case AVRO_BYTES:
            avro_value_get_bytes(v, &bytes, &n);
            put_bytes(b, bytes, n);
            break;
        case AVRO_FIXED:
            avro_value_get_fixed(v, &bytes, &n);
            put_bytes(b, bytes, n);
            break;
        case AVRO_ENUM:
            avro_value_get_enum(v, &bo);
            s = avro_schema_enum_get(avro_value_get_schema(v), bo);
            if (!s) {
                return BWM_ERR_DECODE;
            }
            bwm_json_put_string(b, s, strlen(s));
            break;
        case AVRO_UNION:
            if (avro_value_get_current_branch(v, &child) != 0) {
                return BWM_ERR_DECODE;
            }
            return bwm_avrojson_render(&child, b);
        case AVRO_RECORD:
        case AVRO_MAP:
            avro_value_get_size(v, &n);
            bwm_buf_put_u8(b, '{');
            for (i = 0; i < n; i++) {
                const char *name;

                avro_value_get_by_index(v, i, &child, &name);
                if (i) {
                    bwm_buf_put_u8(b, ',');
                }
                bwm_json_put_string(b, name, strlen(name));
                bwm_buf_put_u8(b, ':');
                err = bwm_avrojson_render(&child, b);
                if (err) {
                    return err;
                }
            }
            bwm_buf_put_u8(b, '}');
            break;
        case AVRO_ARRAY:
            avro_value_get_size(v, &n);
            bwm_buf_put_u8(b, '[');
            for (i = 0; i < n; i++) {
                avro_value_get_by_index(v, i, &child, NULL);
                if (i) {
                    bwm_buf_put_u8(b, ',');
                }
                err = bwm_avrojson_render(&child, b);
                if (err) {
                    return err;
                }
            }
            bwm_buf_put_u8(b, ']');
            break;
        default:
            return BWM_ERR_TYPE;
    }
    return b->b_failed ? BWM_ERR_NOMEM : BWM_OK;
}
