/*
 * sql_lex.c: the lexer of the job language. Positions count lines from 1 at
 * each '\n' and columns from 1 in bytes. Malformed tokens are reported at
 * their first byte, so an unterminated string or comment points where it
 * starts, not at the end of the file.
 */
#include "sql_lex.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

static const char *const kw_names[] = {
    [KW_NONE] = "",         [KW_AND] = "AND",
    [KW_AS] = "AS",         [KW_BETWEEN] = "BETWEEN",
    [KW_CASE] = "CASE",     [KW_CAST] = "CAST",
    [KW_CREATE] = "CREATE", [KW_DISTINCT] = "DISTINCT",
    [KW_ELSE] = "ELSE",     [KW_EMIT] = "EMIT",
    [KW_END] = "END",       [KW_FALSE] = "FALSE",
    [KW_FROM] = "FROM",     [KW_GROUP] = "GROUP",
    [KW_HAVING] = "HAVING", [KW_IN] = "IN",
    [KW_IS] = "IS",         [KW_NOT] = "NOT",
    [KW_NULL] = "NULL",     [KW_OR] = "OR",
    [KW_SELECT] = "SELECT", [KW_THEN] = "THEN",
    [KW_TRUE] = "TRUE",     [KW_WHEN] = "WHEN",
    [KW_WHERE] = "WHERE",   [KW_WINDOW] = "WINDOW",
    [KW_WITH] = "WITH",
};

const char *bwm_lex_kw_name(bwm_kw_t kw)
{
    return kw_names[kw];
}

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

int bwm_lex_word_eq(const char *s, size_t n, const char *w)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (w[i] == '\0' || upper((unsigned char)s[i]) != w[i]) {
            return 0;
        }
    }
    return w[n] == '\0';
}

static bwm_kw_t keyword(const char *s, size_t n)
{
    size_t k;

    if (n < 2 || n > 8) {
        return KW_NONE;
    }
    for (k = KW_NONE + 1; k < sizeof(kw_names) / sizeof(kw_names[0]); k++) {
        if (bwm_lex_word_eq(s, n, kw_names[k])) {
            return (bwm_kw_t)k;
        }
    }
    return KW_NONE;
}

static int is_ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c);
}

void bwm_lex_init(bwm_lex_t *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->l_text = text;
    lx->l_len = len;
    lx->l_line = 1;
    lx->l_end.p_line = 1;
    lx->l_end.p_col = 1;
}

void bwm_lex_tok_clear(bwm_tok_t *t)
{
    free(t->t_val);
    memset(t, 0, sizeof(*t));
}

static bwm_pos_t here(const bwm_lex_t *lx)
{
    bwm_pos_t p;

    p.p_line = lx->l_line;
    p.p_col = (int)(lx->l_off - lx->l_line_start + 1);
    p.p_offset = lx->l_off;
    return p;
}

/* Advances over n bytes that hold no newline. */
static void skip(bwm_lex_t *lx, size_t n)
{
    lx->l_off += n;
}

/* Advances one byte, counting lines. */
static void step(bwm_lex_t *lx)
{
    if (lx->l_text[lx->l_off] == '\n') {
        lx->l_line++;
        lx->l_line_start = lx->l_off + 1;
    }
    lx->l_off++;
}

static int peek(const bwm_lex_t *lx, size_t ahead)
{
    return lx->l_off + ahead < lx->l_len ? (unsigned char)lx->l_text[lx->l_off + ahead] : -1;
}

static void __attribute__((format(printf, 4, 5)))
lex_fail(bwm_lex_t *lx, bwm_tok_t *t, bwm_pos_t pos, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(lx->l_err, sizeof(lx->l_err), fmt, ap);
    va_end(ap);
    lx->l_failed = 1;
    lx->l_err_pos = pos;
    t->t_kind = TK_ERROR;
    t->t_pos = pos;
    t->t_text = lx->l_text + pos.p_offset;
    t->t_len = 0;
}

/* Describes the byte(s) at offset off for a message: '#', 'é' or byte 0x01. */
static void describe_char(const bwm_lex_t *lx, size_t off, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)lx->l_text + off;
    size_t left = lx->l_len - off, n = 0, i;

    if (s[0] > 0x20 && s[0] < 0x7f) {
        snprintf(out, size, "character '%c'", s[0]);
        return;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
    }
    for (i = 1; i < n; i++) {
        if (i >= left || (s[i] & 0xc0) != 0x80) {
            n = 0;
            break;
        }
    }
    if (n > 0) {
        snprintf(out, size, "character '%.*s'", (int)n, (const char *)s);
    } else {
        snprintf(out, size, "byte 0x%02X", s[0]);
    }
}

/* Skips white space and comments. Returns -1 (with t a TK_ERROR) on an unterminated comment. */
static int skip_space(bwm_lex_t *lx, bwm_tok_t *t)
{
    for (;;) {
        int c = peek(lx, 0);

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            step(lx);
        } else if (c == '-' && peek(lx, 1) == '-') {
            while (lx->l_off < lx->l_len && lx->l_text[lx->l_off] != '\n') {
                skip(lx, 1);
            }
        } else if (c == '/' && peek(lx, 1) == '*') {
            bwm_pos_t start = here(lx);

            skip(lx, 2);
            for (;;) {
                if (lx->l_off >= lx->l_len) {
                    lex_fail(lx, t, start, "unterminated comment: '/*' without '*/'");
                    return -1;
                }
                if (peek(lx, 0) == '*' && peek(lx, 1) == '/') {
                    skip(lx, 2);
                    break;
                }
                step(lx);
            }
        } else {
            return 0;
        }
    }
}

/*
 * A quoted name or a string: q is the quote, and a doubled quote stands for
 * itself. Unescapes into t_val.
 */
static void lex_quoted(bwm_lex_t *lx, bwm_tok_t *t, int q)
{
    bwm_pos_t start = here(lx);
    int is_string = q == '\'';
    size_t n = 0, i, k;
    char *v;

    /* First pass: find the end and the unescaped length. */
    i = lx->l_off + 1;
    for (;;) {
        if (i >= lx->l_len) {
            lex_fail(lx, t, start,
                     is_string ? "unterminated string literal" : "unterminated quoted name");
            return;
        }
        if ((unsigned char)lx->l_text[i] == q) {
            if (i + 1 < lx->l_len && (unsigned char)lx->l_text[i + 1] == q) {
                i += 2;
                n++;
                continue;
            }
            break;
        }
        if (!is_string && lx->l_text[i] == '\0') {
            lex_fail(lx, t, start, "a quoted name cannot hold a NUL byte");
            return;
        }
        i++;
        n++;
    }
    if (is_string && n > BWM_SQL_MAX_STRING) {
        lex_fail(lx, t, start, "string literal longer than %d bytes", BWM_SQL_MAX_STRING);
        return;
    }
    if (!is_string && n > BWM_SQL_MAX_NAME) {
        lex_fail(lx, t, start, "quoted name longer than %d bytes", BWM_SQL_MAX_NAME);
        return;
    }
    if (!is_string && n == 0) {
        lex_fail(lx, t, start, "empty quoted name");
        return;
    }
    v = malloc(n + 1);
    if (!v) {
        lex_fail(lx, t, start, "out of memory");
        return;
    }
    /* Second pass: copy, counting lines. */
    step(lx);
    for (k = 0; k < n; k++) {
        if ((unsigned char)lx->l_text[lx->l_off] == q) {
            skip(lx, 1);
        }
        v[k] = lx->l_text[lx->l_off];
        step(lx);
    }
    skip(lx, 1);
    v[n] = '\0';
    t->t_kind = is_string ? TK_STRING : TK_QIDENT;
    t->t_val = v;
    t->t_vlen = n;
}

static void lex_number(bwm_lex_t *lx, bwm_tok_t *t)
{
    bwm_pos_t start = here(lx);
    size_t i = lx->l_off, n;
    int is_double = 0;
    char small[64], *copy;

    while (i < lx->l_len && is_digit((unsigned char)lx->l_text[i])) {
        i++;
    }
    if (i < lx->l_len && lx->l_text[i] == '.') {
        is_double = 1;
        i++;
        while (i < lx->l_len && is_digit((unsigned char)lx->l_text[i])) {
            i++;
        }
    }
    if (i < lx->l_len && (lx->l_text[i] == 'e' || lx->l_text[i] == 'E')) {
        size_t j = i + 1;

        if (j < lx->l_len && (lx->l_text[j] == '+' || lx->l_text[j] == '-')) {
            j++;
        }
        if (j < lx->l_len && is_digit((unsigned char)lx->l_text[j])) {
            is_double = 1;
            i = j;
            while (i < lx->l_len && is_digit((unsigned char)lx->l_text[i])) {
                i++;
            }
        }
    }
    if (i < lx->l_len && (is_ident_char((unsigned char)lx->l_text[i]) || lx->l_text[i] == '.')) {
        size_t e = i;

        while (e < lx->l_len &&
               (is_ident_char((unsigned char)lx->l_text[e]) || lx->l_text[e] == '.' ||
                lx->l_text[e] == '+' || lx->l_text[e] == '-') &&
               e - lx->l_off < 40) {
            e++;
        }
        lex_fail(lx, t, start, "malformed number '%.*s'", (int)(e - lx->l_off),
                 lx->l_text + lx->l_off);
        return;
    }
    n = i - lx->l_off;
    t->t_text = lx->l_text + lx->l_off;
    t->t_len = n;
    if (!is_double) {
        uint64_t v = 0;
        size_t k;

        t->t_kind = TK_INT;
        for (k = 0; k < n; k++) {
            unsigned d = (unsigned)(lx->l_text[lx->l_off + k] - '0');

            if (v > (UINT64_MAX - d) / 10) {
                t->t_int_over = 1;
                break;
            }
            v = v * 10 + d;
        }
        t->t_int = v;
        skip(lx, n);
        return;
    }
    copy = n < sizeof(small) ? small : malloc(n + 1);
    if (!copy) {
        lex_fail(lx, t, start, "out of memory");
        return;
    }
    memcpy(copy, lx->l_text + lx->l_off, n);
    copy[n] = '\0';
    t->t_double = strtod(copy, NULL);
    if (copy != small) {
        free(copy);
    }
    if (isinf(t->t_double)) {
        lex_fail(lx, t, start, "decimal literal out of range");
        return;
    }
    t->t_kind = TK_DOUBLE;
    skip(lx, n);
}

void bwm_lex_next(bwm_lex_t *lx, bwm_tok_t *t)
{
    int c, c1;
    size_t n = 1;

    bwm_lex_tok_clear(t);
    if (lx->l_failed) {
        t->t_kind = TK_ERROR;
        t->t_pos = lx->l_err_pos;
        t->t_text = lx->l_text + lx->l_err_pos.p_offset;
        return;
    }
    if (skip_space(lx, t) < 0) {
        return;
    }
    t->t_pos = here(lx);
    t->t_text = lx->l_text + lx->l_off;
    c = peek(lx, 0);
    c1 = peek(lx, 1);
    if (c < 0) {
        t->t_kind = TK_EOF;
        t->t_pos = lx->l_end;
        return;
    }
    if (is_ident_start(c)) {
        size_t i = lx->l_off;

        while (i < lx->l_len && is_ident_char((unsigned char)lx->l_text[i])) {
            i++;
        }
        n = i - lx->l_off;
        if (n > BWM_SQL_MAX_NAME) {
            lex_fail(lx, t, t->t_pos, "name longer than %d bytes", BWM_SQL_MAX_NAME);
            return;
        }
        t->t_kind = TK_IDENT;
        t->t_kw = keyword(t->t_text, n);
        t->t_len = n;
        skip(lx, n);
    } else if (is_digit(c) || (c == '.' && c1 >= 0 && is_digit(c1))) {
        lex_number(lx, t);
        if (t->t_kind == TK_ERROR) {
            return;
        }
    } else if (c == '\'' || c == '"' || c == '`') {
        lex_quoted(lx, t, c);
        if (t->t_kind == TK_ERROR) {
            return;
        }
        t->t_len = lx->l_off - t->t_pos.p_offset;
    } else {
        switch (c) {
            case '(':
                t->t_kind = TK_LPAREN;
                break;
            case ')':
                t->t_kind = TK_RPAREN;
                break;
            case ',':
                t->t_kind = TK_COMMA;
                break;
            case ';':
                t->t_kind = TK_SEMI;
                break;
            case '.':
                t->t_kind = TK_DOT;
                break;
            case '*':
                t->t_kind = TK_STAR;
                break;
            case '+':
                t->t_kind = TK_PLUS;
                break;
            case '-':
                t->t_kind = TK_MINUS;
                break;
            case '/':
                t->t_kind = TK_SLASH;
                break;
            case '%':
                t->t_kind = TK_PERCENT;
                break;
            case '=':
                t->t_kind = TK_EQ;
                break;
            case '<':
                if (c1 == '=') {
                    t->t_kind = TK_LE;
                    n = 2;
                } else if (c1 == '>') {
                    t->t_kind = TK_NE;
                    n = 2;
                } else {
                    t->t_kind = TK_LT;
                }
                break;
            case '>':
                if (c1 == '=') {
                    t->t_kind = TK_GE;
                    n = 2;
                } else {
                    t->t_kind = TK_GT;
                }
                break;
            case '!':
                if (c1 != '=') {
                    lex_fail(lx, t, t->t_pos, "unexpected character '!' (did you mean '!='?)");
                    return;
                }
                t->t_kind = TK_NE;
                n = 2;
                break;
            case '|':
                if (c1 != '|') {
                    lex_fail(lx, t, t->t_pos, "unexpected character '|' (did you mean '||'?)");
                    return;
                }
                t->t_kind = TK_CONCAT;
                n = 2;
                break;
            default: {
                char what[32];

                describe_char(lx, lx->l_off, what, sizeof(what));
                lex_fail(lx, t, t->t_pos, "unexpected %s", what);
                return;
            }
        }
        t->t_len = n;
        skip(lx, n);
    }
    lx->l_end = here(lx);
}
