/*
 * sql_lex.h: the lexer of the job language, internal to core/sql*.c. It
 * turns text into tokens one at a time, skipping white space and comments,
 * and records for each token its position and its raw text. A malformed
 * token (an unterminated string, a stray character) becomes a TK_ERROR token
 * carrying the message; the lexer then stays on it.
 */
#ifndef BWM_SQL_LEX_H
#define BWM_SQL_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "ast.h"

typedef enum bwm_tok_kind {
    TK_EOF,
    TK_ERROR,
    TK_IDENT,  /* unquoted name or keyword */
    TK_QIDENT, /* `name` or "name" */
    TK_STRING, /* 'text' */
    TK_INT,    /* digits only */
    TK_DOUBLE, /* with '.' or an exponent */
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_SEMI,
    TK_DOT,
    TK_STAR,
    TK_PLUS,
    TK_MINUS,
    TK_SLASH,
    TK_PERCENT,
    TK_EQ,
    TK_NE, /* <> or != */
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_CONCAT, /* || */
} bwm_tok_kind_t;

/* Reserved words: an unquoted identifier spelling one of them is a keyword. */
typedef enum bwm_kw {
    KW_NONE,
    KW_AND,
    KW_AS,
    KW_BETWEEN,
    KW_CASE,
    KW_CAST,
    KW_CREATE,
    KW_DISTINCT,
    KW_ELSE,
    KW_EMIT,
    KW_END,
    KW_FALSE,
    KW_FROM,
    KW_GROUP,
    KW_HAVING,
    KW_IN,
    KW_IS,
    KW_NOT,
    KW_NULL,
    KW_OR,
    KW_SELECT,
    KW_THEN,
    KW_TRUE,
    KW_WHEN,
    KW_WHERE,
    KW_WINDOW,
    KW_WITH,
} bwm_kw_t;

typedef struct bwm_tok {
    bwm_tok_kind_t t_kind;
    bwm_kw_t t_kw; /* TK_IDENT: the keyword it spells, or KW_NONE */
    bwm_pos_t t_pos;
    const char *t_text; /* raw text in the input */
    size_t t_len;
    char *t_val; /* TK_QIDENT, TK_STRING: unescaped, NUL-terminated, owned by the token */
    size_t t_vlen;
    uint64_t t_int;  /* TK_INT: the value, when !t_int_over */
    int t_int_over;  /* TK_INT: more than UINT64_MAX */
    double t_double; /* TK_DOUBLE */
} bwm_tok_t;

typedef struct bwm_lex {
    const char *l_text;
    size_t l_len;
    size_t l_off;
    int l_line;
    size_t l_line_start; /* offset of the first byte of the current line */
    bwm_pos_t l_end;     /* just after the last token: where TK_EOF is reported */
    int l_failed;        /* a TK_ERROR was produced; every later token is the same */
    bwm_pos_t l_err_pos;
    char l_err[256];
} bwm_lex_t;

void bwm_lex_init(bwm_lex_t *lx, const char *text, size_t len);

/* Reads the next token into t, first freeing what t owned. */
void bwm_lex_next(bwm_lex_t *lx, bwm_tok_t *t);

/* Frees what the token owns (its t_val). */
void bwm_lex_tok_clear(bwm_tok_t *t);

/* The upper-case spelling of a keyword. */
const char *bwm_lex_kw_name(bwm_kw_t kw);

/* Case-insensitive comparison of n bytes of s with the NUL-terminated upper-case word w. */
int bwm_lex_word_eq(const char *s, size_t n, const char *w);

#endif
