/*
 * avro_path.c: field paths in the messages of the Avro codecs (see avro_path.h).
 */
#include "avro_path.h"

#include <stdarg.h>
#include <stdio.h>

/* Steps and characters of a path shown in messages: the rest, nearest the root, is "...". */
#define PATH_STEPS 40
#define PATH_CHARS 200
#define KEY_CHARS  40

void bwm_sput(char *out, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (*len + 1 >= size) {
        return;
    }
    va_start(ap, fmt);
    k = vsnprintf(out + *len, size - *len, fmt, ap);
    va_end(ap);
    if (k > 0) {
        *len += (size_t)k < size - *len ? (size_t)k : size - *len - 1;
    }
}

static int is_ident(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64 ||
        !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return 0;
        }
    }
    return 1;
}

static void put_key(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    size_t k;

    if (is_ident(s, n)) {
        bwm_sput(out, size, len, ".%.*s", (int)n, s);
        return;
    }
    bwm_sput(out, size, len, "[\"");
    for (k = 0; k < n && k < KEY_CHARS; k++) {
        unsigned char c = (unsigned char)s[k];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            bwm_sput(out, size, len, "\\x%02x", c);
        } else {
            bwm_sput(out, size, len, "%c", c);
        }
    }
    bwm_sput(out, size, len, "%s\"]", k < n ? "..." : "");
}

void bwm_avro_path(const bwm_avro_seg_t *g, char *out, size_t size)
{
    const bwm_avro_seg_t *steps[PATH_STEPS] = {NULL};
    char full[1024];
    int elided = 0;
    size_t n = 0, len = 0, i;

    for (; g; g = g->g_up) {
        if (n == PATH_STEPS) {
            elided = 1;
            break;
        }
        steps[n++] = g;
    }
    full[0] = '\0';
    bwm_sput(full, sizeof(full), &len, elided ? "$..." : "$");
    for (i = n; i-- > 0;) {
        g = steps[i];
        switch (g->g_kind) {
            case BWM_SEG_FIELD:
                bwm_sput(full, sizeof(full), &len, ".%s", g->g_name);
                break;
            case BWM_SEG_INDEX:
                bwm_sput(full, sizeof(full), &len, "[%zu]", g->g_index);
                break;
            case BWM_SEG_KEY:
                put_key(full, sizeof(full), &len, g->g_name, g->g_len);
                break;
        }
    }
    if (len > PATH_CHARS) {
        /* keep the end, nearest the error, from a step on */
        const char *tail = full + len - (PATH_CHARS - 4);

        while (*tail && *tail != '.' && *tail != '[') {
            tail++;
        }
        snprintf(out, size, "$...%s", tail);
    } else {
        snprintf(out, size, "%s", full);
    }
}
