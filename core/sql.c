/*
 * sql.c: the recursive-descent parser of the job language, building the tree
 * of core/ast.h, and the functions that free it.
 *
 * Expression precedence, lowest first: OR; AND; NOT; comparison (=, <>, !=,
 * <, <=, >, >=, IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN), which does not
 * chain; ||; + -; * / %; unary -. Binary operators associate to the left.
 * A '-' directly before a number makes a negative literal, so that
 * -9223372036854775808 is a BIGINT.
 *
 * Every parsing function returns NULL (or -1) after recording the first error
 * in the parser, and frees whatever it built. The tree's height and the
 * parser's recursion are both bounded by BWM_SQL_MAX_DEPTH, so neither the
 * parser nor the recursive walks over the tree (destroy, render, plan) can
 * exhaust the stack.
 */
#include "sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_lex.h"

typedef struct parser {
    bwm_lex_t p_lx;
    bwm_tok_t p_tok; /* the current token */
    bwm_sql_error_t *p_err;
    int p_failed;
    int p_depth;   /* recursion depth of expression parsing */
    void *p_grown; /* GROW()'s result */
} parser_t;

#define MAX_SHOWN 32 /* bytes of a token quoted in a message */

/* ---------------------------------------------------------------- freeing */

static void ident_free(bwm_ident_t *id)
{
    free(id->i_name);
    id->i_name = NULL;
}

static void ast_list_free(bwm_ast_t **list, size_t n)
{
    size_t i;

    if (!list) {
        return;
    }
    for (i = 0; i < n; i++) {
        bwm_ast_destroy(list[i]);
    }
    free(list);
}

void bwm_ast_destroy(bwm_ast_t *a)
{
    size_t i;

    if (!a) {
        return;
    }
    switch (a->a_kind) {
        case BWM_AST_LITERAL:
            free(a->u.a_lit.l_str);
            break;
        case BWM_AST_COLUMN:
            for (i = 0; i < a->u.a_col.c_n; i++) {
                ident_free(&a->u.a_col.c_path[i]);
            }
            free(a->u.a_col.c_path);
            break;
        case BWM_AST_STAR:
            break;
        case BWM_AST_UNARY:
            bwm_ast_destroy(a->u.a_un.u_arg);
            break;
        case BWM_AST_BINARY:
            bwm_ast_destroy(a->u.a_bin.b_left);
            bwm_ast_destroy(a->u.a_bin.b_right);
            break;
        case BWM_AST_IS_NULL:
            bwm_ast_destroy(a->u.a_isnull.n_arg);
            break;
        case BWM_AST_IN:
            bwm_ast_destroy(a->u.a_in.in_arg);
            ast_list_free(a->u.a_in.in_list, a->u.a_in.in_n);
            break;
        case BWM_AST_BETWEEN:
            bwm_ast_destroy(a->u.a_between.bt_arg);
            bwm_ast_destroy(a->u.a_between.bt_lo);
            bwm_ast_destroy(a->u.a_between.bt_hi);
            break;
        case BWM_AST_CASE:
            bwm_ast_destroy(a->u.a_case.cs_operand);
            ast_list_free(a->u.a_case.cs_when, a->u.a_case.cs_n);
            ast_list_free(a->u.a_case.cs_then, a->u.a_case.cs_n);
            bwm_ast_destroy(a->u.a_case.cs_else);
            break;
        case BWM_AST_CAST:
            bwm_ast_destroy(a->u.a_cast.ct_arg);
            break;
        case BWM_AST_CALL:
            ident_free(&a->u.a_call.f_name);
            ast_list_free(a->u.a_call.f_args, a->u.a_call.f_n);
            break;
    }
    free(a);
}

static void stmt_free(bwm_stmt_t *st)
{
    size_t i;

    ident_free(&st->s_name);
    for (i = 0; i < st->s_nprops; i++) {
        ident_free(&st->s_props[i].pr_name);
        bwm_ast_destroy(st->s_props[i].pr_value);
    }
    free(st->s_props);
    for (i = 0; i < st->s_nitems; i++) {
        bwm_ast_destroy(st->s_items[i].si_expr);
        ident_free(&st->s_items[i].si_alias);
    }
    free(st->s_items);
    ident_free(&st->s_from);
    bwm_ast_destroy(st->s_where);
    ast_list_free(st->s_group_by, st->s_ngroup);
    bwm_ast_destroy(st->s_having);
    memset(st, 0, sizeof(*st));
}

void bwm_script_destroy(bwm_script_t *sc)
{
    size_t i;

    if (!sc) {
        return;
    }
    for (i = 0; i < sc->sc_n; i++) {
        stmt_free(&sc->sc_stmts[i]);
    }
    free(sc->sc_stmts);
    free(sc);
}

/* ----------------------------------------------------------------- errors */

static int __attribute__((format(printf, 3, 4)))
fail(parser_t *p, bwm_pos_t pos, const char *fmt, ...)
{
    va_list ap;

    if (p->p_failed) {
        return -1;
    }
    p->p_failed = 1;
    if (p->p_err) {
        p->p_err->se_pos = pos;
        va_start(ap, fmt);
        vsnprintf(p->p_err->se_message, sizeof(p->p_err->se_message), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies at most MAX_SHOWN bytes of s for a message: control bytes become spaces. */
static void shown(const char *s, size_t n, char *out, size_t size)
{
    size_t i, k = 0, cut = n;

    if (n > MAX_SHOWN) {
        cut = MAX_SHOWN;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) {
            cut--;
        }
    }
    for (i = 0; i < cut && k + 1 < size; i++) {
        out[k++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
    }
    if (cut < n) {
        for (i = 0; i < 3 && k + 1 < size; i++) {
            out[k++] = '.';
        }
    }
    out[k] = '\0';
}

/* Describes the current token for "..., found X". */
static void describe(const parser_t *p, char *out, size_t size)
{
    const bwm_tok_t *t = &p->p_tok;
    char s[MAX_SHOWN + 8];

    shown(t->t_text, t->t_len, s, sizeof(s));
    switch (t->t_kind) {
        case TK_EOF:
        case TK_ERROR:
            snprintf(out, size, "end of input");
            break;
        case TK_IDENT:
            if (t->t_kw != KW_NONE) {
                snprintf(out, size, "%s", bwm_lex_kw_name(t->t_kw));
            } else {
                snprintf(out, size, "'%s'", s);
            }
            break;
        case TK_QIDENT:
        case TK_INT:
        case TK_DOUBLE:
            snprintf(out, size, "%s", s);
            break;
        case TK_STRING:
            snprintf(out, size, "string %s", s);
            break;
        default:
            snprintf(out, size, "'%s'", s);
            break;
    }
}

/*
 * Fails at the current token with "<what>, found <token><hint>". A token the
 * lexer could not read reports the lexer's message instead.
 */
static int vfail_found(parser_t *p, const char *hint, const char *fmt, va_list ap)
{
    char what[200], found[MAX_SHOWN + 16];

    if (p->p_tok.t_kind == TK_ERROR) {
        return fail(p, p->p_lx.l_err_pos, "%s", p->p_lx.l_err);
    }
    vsnprintf(what, sizeof(what), fmt, ap);
    describe(p, found, sizeof(found));
    return fail(p, p->p_tok.t_pos, "%s, found %s%s", what, found, hint);
}

static int __attribute__((format(printf, 2, 3))) fail_found(parser_t *p, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfail_found(p, "", fmt, ap);
    va_end(ap);
    return r;
}

static int __attribute__((format(printf, 3, 4)))
fail_found_hint(parser_t *p, const char *hint, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfail_found(p, hint, fmt, ap);
    va_end(ap);
    return r;
}

static int nomem(parser_t *p)
{
    return fail(p, p->p_tok.t_pos, "out of memory");
}

/* ----------------------------------------------------------------- tokens */

static void advance(parser_t *p)
{
    bwm_lex_next(&p->p_lx, &p->p_tok);
}

static int is_kw(const parser_t *p, bwm_kw_t kw)
{
    return p->p_tok.t_kind == TK_IDENT && p->p_tok.t_kw == kw;
}

static int accept_kw(parser_t *p, bwm_kw_t kw)
{
    if (is_kw(p, kw)) {
        advance(p);
        return 1;
    }
    return 0;
}

static int accept(parser_t *p, bwm_tok_kind_t kind)
{
    if (p->p_tok.t_kind == kind) {
        advance(p);
        return 1;
    }
    return 0;
}

/* An unreserved word that has a meaning here, such as SIZE or HOUR; upper-case w. */
static int is_word(const parser_t *p, const char *w)
{
    return p->p_tok.t_kind == TK_IDENT && p->p_tok.t_kw == KW_NONE &&
           bwm_lex_word_eq(p->p_tok.t_text, p->p_tok.t_len, w);
}

static int is_name(const parser_t *p)
{
    return p->p_tok.t_kind == TK_QIDENT ||
           (p->p_tok.t_kind == TK_IDENT && p->p_tok.t_kw == KW_NONE);
}

/* Fails where a name was expected, with a hint when the token is a reserved word. */
static int __attribute__((format(printf, 2, 3))) fail_name(parser_t *p, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (p->p_tok.t_kind == TK_IDENT && p->p_tok.t_kw != KW_NONE) {
        char hint[64];

        snprintf(hint, sizeof(hint), " (a reserved word: write `%.*s` to use it as a name)",
                 (int)p->p_tok.t_len, p->p_tok.t_text);
        return fail_found_hint(p, hint, "%s", what);
    }
    return fail_found(p, "%s", what);
}

/* Takes the current token, a name, into id. */
static int take_name(parser_t *p, bwm_ident_t *id)
{
    bwm_tok_t *t = &p->p_tok;

    id->i_pos = t->t_pos;
    if (t->t_kind == TK_QIDENT) {
        id->i_name = t->t_val;
        id->i_quoted = 1;
        t->t_val = NULL;
    } else {
        id->i_name = malloc(t->t_len + 1);
        if (!id->i_name) {
            return nomem(p);
        }
        memcpy(id->i_name, t->t_text, t->t_len);
        id->i_name[t->t_len] = '\0';
        id->i_quoted = 0;
    }
    advance(p);
    return 0;
}

/* A name for a message, as written, shortened. */
static const char *name_shown(const bwm_ident_t *id, char *out, size_t size)
{
    shown(id->i_name, strlen(id->i_name), out, size);
    return out;
}

/*
 * Makes room for element n of the array arr of capacity *cap, failing with
 * "too many <what>" past BWM_SQL_MAX_LIST. Returns the array, moved or not,
 * or NULL after recording the error (arr is then unchanged and still owned
 * by the caller).
 */
static void *grow(parser_t *p, void *arr, size_t n, size_t *cap, size_t esz, const char *what)
{
    size_t ncap;
    void *na;

    if (n >= BWM_SQL_MAX_LIST) {
        fail(p, p->p_tok.t_pos, "too many %s (the limit is %d)", what, BWM_SQL_MAX_LIST);
        return NULL;
    }
    if (n < *cap) {
        return arr;
    }
    ncap = *cap ? *cap * 2 : 4;
    na = realloc(arr, ncap * esz);
    if (!na) {
        nomem(p);
        return NULL;
    }
    *cap = ncap;
    return na;
}

/* grow() for an array pointer arr (an lvalue, which it updates): 0, or -1 after an error. */
#define GROW(p, arr, n, cap, what)                                                                 \
    (((p)->p_grown = grow((p), (arr), (n), (cap), sizeof(*(arr)), (what))) != NULL                 \
         ? ((arr) = (p)->p_grown, 0)                                                               \
         : -1)

/* ------------------------------------------------------------ expressions */

static bwm_ast_t *parse_expr(parser_t *p, int *h);

static bwm_ast_t *node_new(parser_t *p, bwm_ast_kind_t kind, bwm_pos_t pos)
{
    bwm_ast_t *a = calloc(1, sizeof(*a));

    if (!a) {
        nomem(p);
        return NULL;
    }
    a->a_kind = kind;
    a->a_pos = pos;
    return a;
}

/* Checks the height h of a node that starts at pos; frees a when it is too high. */
static bwm_ast_t *check_height(parser_t *p, bwm_ast_t *a, int h, bwm_pos_t pos)
{
    if (a && h > BWM_SQL_MAX_DEPTH) {
        fail(p, pos, "expression nested too deeply (the limit is %d levels)", BWM_SQL_MAX_DEPTH);
        bwm_ast_destroy(a);
        return NULL;
    }
    return a;
}

static int enter(parser_t *p)
{
    if (++p->p_depth > BWM_SQL_MAX_DEPTH) {
        return fail(p, p->p_tok.t_pos, "expression nested too deeply (the limit is %d levels)",
                    BWM_SQL_MAX_DEPTH);
    }
    return 0;
}

static int max2(int a, int b)
{
    return a > b ? a : b;
}

/* Joins l and r (of heights hl and hr) with op; frees both on failure. */
static bwm_ast_t *binary(parser_t *p, bwm_op_t op, bwm_pos_t oppos, bwm_ast_t *l, int hl,
                         bwm_ast_t *r, int hr, int *h)
{
    bwm_ast_t *a;

    if (!l || !r) {
        bwm_ast_destroy(l);
        bwm_ast_destroy(r);
        return NULL;
    }
    a = node_new(p, BWM_AST_BINARY, l->a_pos);
    if (!a) {
        bwm_ast_destroy(l);
        bwm_ast_destroy(r);
        return NULL;
    }
    a->u.a_bin.b_op = op;
    a->u.a_bin.b_left = l;
    a->u.a_bin.b_right = r;
    *h = max2(hl, hr) + 1;
    return check_height(p, a, *h, oppos);
}

static bwm_ast_t *literal(parser_t *p, bwm_lit_kind_t kind, bwm_pos_t pos)
{
    bwm_ast_t *a = node_new(p, BWM_AST_LITERAL, pos);

    if (a) {
        a->u.a_lit.l_kind = kind;
    }
    return a;
}

/* The current TK_INT or TK_DOUBLE token as a literal, negated when neg; pos is its first token. */
static bwm_ast_t *number(parser_t *p, int neg, bwm_pos_t pos)
{
    const bwm_tok_t *t = &p->p_tok;
    bwm_ast_t *a;

    if (t->t_kind == TK_INT) {
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

        if (t->t_int_over || t->t_int > limit) {
            fail(p, t->t_pos, "integer literal out of range");
            return NULL;
        }
        a = literal(p, BWM_LIT_INT, pos);
        if (a) {
            if (!neg) {
                a->u.a_lit.l_int = (int64_t)t->t_int;
            } else if (t->t_int == (uint64_t)INT64_MAX + 1) {
                a->u.a_lit.l_int = INT64_MIN;
            } else {
                a->u.a_lit.l_int = -(int64_t)t->t_int;
            }
        }
    } else {
        a = literal(p, BWM_LIT_DOUBLE, pos);
        if (a) {
            a->u.a_lit.l_double = neg ? -t->t_double : t->t_double;
        }
    }
    if (a) {
        advance(p);
    }
    return a;
}

/* Parses "expr {, expr} )" after an opening '(' into *list; what names the list in messages. */
static int expr_list(parser_t *p, bwm_ast_t ***list, size_t *n, int *h, const char *what,
                     const char *close_msg)
{
    size_t cap = 0;
    int he;

    for (;;) {
        bwm_ast_t *e;

        if (GROW(p, *list, *n, &cap, what) < 0) {
            return -1;
        }
        e = parse_expr(p, &he);
        if (!e) {
            return -1;
        }
        (*list)[(*n)++] = e;
        *h = max2(*h, he + 1);
        if (accept(p, TK_COMMA)) {
            continue;
        }
        if (accept(p, TK_RPAREN)) {
            return 0;
        }
        return fail_found(p, "%s", close_msg);
    }
}

static bwm_ast_t *parse_call(parser_t *p, bwm_ident_t *name, int *h)
{
    bwm_ast_t *a = node_new(p, BWM_AST_CALL, name->i_pos);
    char nm[MAX_SHOWN + 8], msg[96];

    if (!a) {
        ident_free(name);
        return NULL;
    }
    a->u.a_call.f_name = *name;
    name_shown(name, nm, sizeof(nm));
    *h = 1;
    advance(p); /* '(' */
    if (accept(p, TK_RPAREN)) {
        return a;
    }
    if (p->p_tok.t_kind == TK_STAR) {
        bwm_ast_t *star = node_new(p, BWM_AST_STAR, p->p_tok.t_pos);

        if (!star || !(a->u.a_call.f_args = malloc(sizeof(bwm_ast_t *)))) {
            free(star);
            bwm_ast_destroy(a);
            nomem(p);
            return NULL;
        }
        a->u.a_call.f_args[0] = star;
        a->u.a_call.f_n = 1;
        *h = 2;
        advance(p);
        if (!accept(p, TK_RPAREN)) {
            fail_found(p, "expected ')' after '*' in %s(*)", nm);
            bwm_ast_destroy(a);
            return NULL;
        }
        return a;
    }
    a->u.a_call.f_distinct = accept_kw(p, KW_DISTINCT);
    snprintf(msg, sizeof(msg), "expected ',' or ')' in the arguments of %s", nm);
    if (expr_list(p, &a->u.a_call.f_args, &a->u.a_call.f_n, h, "arguments", msg) < 0) {
        bwm_ast_destroy(a);
        return NULL;
    }
    return check_height(p, a, *h, a->a_pos);
}

/* A name, then a call "(...)" or a column path ".field...". */
static bwm_ast_t *parse_name_expr(parser_t *p, int *h)
{
    bwm_ident_t first = {0};
    bwm_ast_t *a;
    size_t cap = 0;

    if (take_name(p, &first) < 0) {
        return NULL;
    }
    if (p->p_tok.t_kind == TK_LPAREN) {
        return parse_call(p, &first, h);
    }
    a = node_new(p, BWM_AST_COLUMN, first.i_pos);
    if (!a || GROW(p, a->u.a_col.c_path, 0, &cap, "parts in a name") < 0) {
        ident_free(&first);
        bwm_ast_destroy(a);
        return NULL;
    }
    a->u.a_col.c_path[a->u.a_col.c_n++] = first;
    *h = 1;
    while (p->p_tok.t_kind == TK_DOT) {
        bwm_ident_t *id;

        advance(p);
        if (!is_name(p)) {
            fail_name(p, "expected a field name after '.'");
            bwm_ast_destroy(a);
            return NULL;
        }
        if (GROW(p, a->u.a_col.c_path, a->u.a_col.c_n, &cap, "parts in a name") < 0) {
            bwm_ast_destroy(a);
            return NULL;
        }
        id = &a->u.a_col.c_path[a->u.a_col.c_n];
        memset(id, 0, sizeof(*id));
        if (take_name(p, id) < 0) {
            bwm_ast_destroy(a);
            return NULL;
        }
        a->u.a_col.c_n++;
    }
    if (p->p_tok.t_kind == TK_LPAREN) {
        fail(p, p->p_tok.t_pos, "a function name cannot contain '.'");
        bwm_ast_destroy(a);
        return NULL;
    }
    return a;
}

static bwm_ast_t *parse_case(parser_t *p, int *h)
{
    bwm_ast_t *a = node_new(p, BWM_AST_CASE, p->p_tok.t_pos);
    size_t wcap = 0, tcap = 0;
    int he;

    if (!a) {
        return NULL;
    }
    *h = 1;
    advance(p); /* CASE */
    if (is_kw(p, KW_END) || is_kw(p, KW_ELSE)) {
        fail_found(p, "expected WHEN in CASE");
        goto err;
    }
    if (!is_kw(p, KW_WHEN)) {
        a->u.a_case.cs_operand = parse_expr(p, &he);
        if (!a->u.a_case.cs_operand) {
            goto err;
        }
        *h = max2(*h, he + 1);
    }
    while (is_kw(p, KW_WHEN)) {
        bwm_ast_t *w, *t;

        if (GROW(p, a->u.a_case.cs_when, a->u.a_case.cs_n, &wcap, "WHEN branches") < 0 ||
            GROW(p, a->u.a_case.cs_then, a->u.a_case.cs_n, &tcap, "WHEN branches") < 0) {
            goto err;
        }
        advance(p); /* WHEN */
        w = parse_expr(p, &he);
        if (!w) {
            goto err;
        }
        *h = max2(*h, he + 1);
        if (!accept_kw(p, KW_THEN)) {
            fail_found(p, "expected THEN after the WHEN %s",
                       a->u.a_case.cs_operand ? "value" : "condition");
            bwm_ast_destroy(w);
            goto err;
        }
        t = parse_expr(p, &he);
        if (!t) {
            bwm_ast_destroy(w);
            goto err;
        }
        *h = max2(*h, he + 1);
        a->u.a_case.cs_when[a->u.a_case.cs_n] = w;
        a->u.a_case.cs_then[a->u.a_case.cs_n] = t;
        a->u.a_case.cs_n++;
    }
    if (a->u.a_case.cs_n == 0) {
        fail_found(p, "expected WHEN in CASE");
        goto err;
    }
    if (accept_kw(p, KW_ELSE)) {
        a->u.a_case.cs_else = parse_expr(p, &he);
        if (!a->u.a_case.cs_else) {
            goto err;
        }
        *h = max2(*h, he + 1);
        if (!accept_kw(p, KW_END)) {
            fail_found(p, "expected END to close CASE");
            goto err;
        }
    } else if (!accept_kw(p, KW_END)) {
        fail_found(p, "expected WHEN, ELSE or END in CASE");
        goto err;
    }
    return check_height(p, a, *h, a->a_pos);
err:
    bwm_ast_destroy(a);
    return NULL;
}

static const struct {
    const char *name;
    bwm_sql_type_t type;
} sql_types[] = {
    {"BOOLEAN", BWM_SQL_BOOLEAN},     {"INT", BWM_SQL_INT},       {"INTEGER", BWM_SQL_INT},
    {"BIGINT", BWM_SQL_BIGINT},       {"DOUBLE", BWM_SQL_DOUBLE}, {"FLOAT", BWM_SQL_DOUBLE},
    {"REAL", BWM_SQL_DOUBLE},         {"STRING", BWM_SQL_STRING}, {"VARCHAR", BWM_SQL_STRING},
    {"TIMESTAMP", BWM_SQL_TIMESTAMP},
};

static bwm_ast_t *parse_cast(parser_t *p, int *h)
{
    bwm_ast_t *a = node_new(p, BWM_AST_CAST, p->p_tok.t_pos);
    size_t i;
    int he;

    if (!a) {
        return NULL;
    }
    advance(p); /* CAST */
    if (!accept(p, TK_LPAREN)) {
        fail_found(p, "expected '(' after CAST");
        goto err;
    }
    a->u.a_cast.ct_arg = parse_expr(p, &he);
    if (!a->u.a_cast.ct_arg) {
        goto err;
    }
    *h = he + 1;
    if (!accept_kw(p, KW_AS)) {
        fail_found(p, "expected AS and a type in CAST");
        goto err;
    }
    for (i = 0; i < sizeof(sql_types) / sizeof(sql_types[0]); i++) {
        if (is_word(p, sql_types[i].name)) {
            break;
        }
    }
    if (i == sizeof(sql_types) / sizeof(sql_types[0])) {
        fail_found(p,
                   "expected a type (BOOLEAN, INT, INTEGER, BIGINT, DOUBLE, FLOAT, REAL, STRING, "
                   "VARCHAR, TIMESTAMP)");
        goto err;
    }
    a->u.a_cast.ct_type = sql_types[i].type;
    advance(p);
    if (!accept(p, TK_RPAREN)) {
        fail_found(p, "expected ')' after the type in CAST");
        goto err;
    }
    return check_height(p, a, *h, a->a_pos);
err:
    bwm_ast_destroy(a);
    return NULL;
}

static bwm_ast_t *parse_primary(parser_t *p, int *h)
{
    bwm_tok_t *t = &p->p_tok;
    bwm_ast_t *a;

    *h = 1;
    switch (t->t_kind) {
        case TK_INT:
        case TK_DOUBLE:
            return number(p, 0, t->t_pos);
        case TK_STRING:
            a = literal(p, BWM_LIT_STRING, t->t_pos);
            if (a) {
                a->u.a_lit.l_str = t->t_val;
                a->u.a_lit.l_len = t->t_vlen;
                t->t_val = NULL;
                advance(p);
            }
            return a;
        case TK_LPAREN: {
            bwm_pos_t open = t->t_pos;

            advance(p);
            a = parse_expr(p, h);
            if (!a) {
                return NULL;
            }
            if (!accept(p, TK_RPAREN)) {
                fail_found(p, "expected ')' to close the '(' at %d:%d", open.p_line, open.p_col);
                bwm_ast_destroy(a);
                return NULL;
            }
            a->a_pos = open;
            return a;
        }
        case TK_QIDENT:
            return parse_name_expr(p, h);
        case TK_IDENT:
            switch (t->t_kw) {
                case KW_NONE:
                    return parse_name_expr(p, h);
                case KW_TRUE:
                case KW_FALSE:
                    a = literal(p, BWM_LIT_BOOL, t->t_pos);
                    if (a) {
                        a->u.a_lit.l_bool = t->t_kw == KW_TRUE;
                        advance(p);
                    }
                    return a;
                case KW_NULL:
                    a = literal(p, BWM_LIT_NULL, t->t_pos);
                    if (a) {
                        advance(p);
                    }
                    return a;
                case KW_CASE:
                    return parse_case(p, h);
                case KW_CAST:
                    return parse_cast(p, h);
                case KW_NOT:
                    fail_found_hint(p, " (write (NOT ...) here)", "expected an expression");
                    return NULL;
                default:
                    break;
            }
            break;
        default:
            break;
    }
    fail_found(p, "expected an expression");
    return NULL;
}

/* A prefix operator at pos applied to what operand() parses next. */
static bwm_ast_t *unary(parser_t *p, bwm_op_t op, bwm_pos_t pos,
                        bwm_ast_t *(*operand)(parser_t *, int *), int *h)
{
    bwm_ast_t *a, *arg;

    if (enter(p) < 0) {
        return NULL;
    }
    arg = operand(p, h);
    p->p_depth--;
    if (!arg) {
        return NULL;
    }
    a = node_new(p, BWM_AST_UNARY, pos);
    if (!a) {
        bwm_ast_destroy(arg);
        return NULL;
    }
    a->u.a_un.u_op = op;
    a->u.a_un.u_arg = arg;
    *h += 1;
    return check_height(p, a, *h, pos);
}

static bwm_ast_t *parse_unary(parser_t *p, int *h)
{
    bwm_pos_t pos = p->p_tok.t_pos;

    if (p->p_tok.t_kind != TK_MINUS) {
        return parse_primary(p, h);
    }
    advance(p);
    if (p->p_tok.t_kind == TK_INT || p->p_tok.t_kind == TK_DOUBLE) {
        *h = 1;
        return number(p, 1, pos);
    }
    return unary(p, BWM_OP_NEG, pos, parse_unary, h);
}

static bwm_ast_t *parse_mul(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_unary(p, h);

    while (l) {
        bwm_tok_kind_t k = p->p_tok.t_kind;
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_op_t op;
        bwm_ast_t *r;
        int hr;

        if (k == TK_STAR) {
            op = BWM_OP_MUL;
        } else if (k == TK_SLASH) {
            op = BWM_OP_DIV;
        } else if (k == TK_PERCENT) {
            op = BWM_OP_MOD;
        } else {
            break;
        }
        advance(p);
        r = parse_unary(p, &hr);
        l = binary(p, op, oppos, l, *h, r, hr, h);
    }
    return l;
}

static bwm_ast_t *parse_add(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_mul(p, h);

    while (l && (p->p_tok.t_kind == TK_PLUS || p->p_tok.t_kind == TK_MINUS)) {
        bwm_op_t op = p->p_tok.t_kind == TK_PLUS ? BWM_OP_ADD : BWM_OP_SUB;
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_ast_t *r;
        int hr;

        advance(p);
        r = parse_mul(p, &hr);
        l = binary(p, op, oppos, l, *h, r, hr, h);
    }
    return l;
}

static bwm_ast_t *parse_concat(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_add(p, h);

    while (l && p->p_tok.t_kind == TK_CONCAT) {
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_ast_t *r;
        int hr;

        advance(p);
        r = parse_add(p, &hr);
        l = binary(p, BWM_OP_CONCAT, oppos, l, *h, r, hr, h);
    }
    return l;
}

static int cmp_op(const parser_t *p, bwm_op_t *op)
{
    switch (p->p_tok.t_kind) {
        case TK_EQ:
            *op = BWM_OP_EQ;
            return 1;
        case TK_NE:
            *op = BWM_OP_NE;
            return 1;
        case TK_LT:
            *op = BWM_OP_LT;
            return 1;
        case TK_LE:
            *op = BWM_OP_LE;
            return 1;
        case TK_GT:
            *op = BWM_OP_GT;
            return 1;
        case TK_GE:
            *op = BWM_OP_GE;
            return 1;
        default:
            return 0;
    }
}

static bwm_ast_t *parse_in(parser_t *p, bwm_ast_t *arg, int harg, int negated, int *h)
{
    bwm_ast_t *a = node_new(p, BWM_AST_IN, arg->a_pos);

    if (!a) {
        bwm_ast_destroy(arg);
        return NULL;
    }
    a->u.a_in.in_arg = arg;
    a->u.a_in.in_not = negated;
    *h = harg + 1;
    advance(p); /* IN */
    if (!accept(p, TK_LPAREN)) {
        fail_found(p, "expected '(' after IN");
        bwm_ast_destroy(a);
        return NULL;
    }
    if (expr_list(p, &a->u.a_in.in_list, &a->u.a_in.in_n, h, "values in an IN list",
                  "expected ',' or ')' in the IN list") < 0) {
        bwm_ast_destroy(a);
        return NULL;
    }
    return check_height(p, a, *h, a->a_pos);
}

static bwm_ast_t *parse_between(parser_t *p, bwm_ast_t *arg, int harg, int negated, int *h)
{
    bwm_ast_t *a = node_new(p, BWM_AST_BETWEEN, arg->a_pos);
    int he;

    if (!a) {
        bwm_ast_destroy(arg);
        return NULL;
    }
    a->u.a_between.bt_arg = arg;
    a->u.a_between.bt_not = negated;
    *h = harg + 1;
    advance(p); /* BETWEEN */
    a->u.a_between.bt_lo = parse_concat(p, &he);
    if (!a->u.a_between.bt_lo) {
        goto err;
    }
    *h = max2(*h, he + 1);
    if (!accept_kw(p, KW_AND)) {
        fail_found(p, "expected AND in BETWEEN ... AND ...");
        goto err;
    }
    a->u.a_between.bt_hi = parse_concat(p, &he);
    if (!a->u.a_between.bt_hi) {
        goto err;
    }
    *h = max2(*h, he + 1);
    return check_height(p, a, *h, a->a_pos);
err:
    bwm_ast_destroy(a);
    return NULL;
}

static int is_cmp_start(const parser_t *p)
{
    bwm_op_t op;

    return cmp_op(p, &op) || is_kw(p, KW_IS) || is_kw(p, KW_IN) || is_kw(p, KW_BETWEEN);
}

static bwm_ast_t *parse_cmp(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_concat(p, h), *a;
    bwm_op_t op;
    int hl;

    if (!l) {
        return NULL;
    }
    hl = *h;
    if (cmp_op(p, &op)) {
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_ast_t *r;
        int hr;

        advance(p);
        r = parse_concat(p, &hr);
        a = binary(p, op, oppos, l, hl, r, hr, h);
    } else if (is_kw(p, KW_IS)) {
        advance(p);
        a = node_new(p, BWM_AST_IS_NULL, l->a_pos);
        if (!a) {
            bwm_ast_destroy(l);
            return NULL;
        }
        a->u.a_isnull.n_arg = l;
        a->u.a_isnull.n_not = accept_kw(p, KW_NOT);
        if (!accept_kw(p, KW_NULL)) {
            fail_found(p, a->u.a_isnull.n_not ? "expected NULL after IS NOT"
                                              : "expected NULL or NOT NULL after IS");
            bwm_ast_destroy(a);
            return NULL;
        }
        *h = hl + 1;
        a = check_height(p, a, *h, a->a_pos);
    } else if (is_kw(p, KW_IN)) {
        a = parse_in(p, l, hl, 0, h);
    } else if (is_kw(p, KW_BETWEEN)) {
        a = parse_between(p, l, hl, 0, h);
    } else if (is_kw(p, KW_NOT)) {
        advance(p);
        if (is_kw(p, KW_IN)) {
            a = parse_in(p, l, hl, 1, h);
        } else if (is_kw(p, KW_BETWEEN)) {
            a = parse_between(p, l, hl, 1, h);
        } else {
            fail_found(p, "expected IN or BETWEEN after NOT");
            bwm_ast_destroy(l);
            return NULL;
        }
    } else {
        return l;
    }
    if (a && is_cmp_start(p)) {
        char found[MAX_SHOWN + 16];

        describe(p, found, sizeof(found));
        fail(p, p->p_tok.t_pos, "%s cannot follow a comparison; add parentheses", found);
        bwm_ast_destroy(a);
        return NULL;
    }
    return a;
}

static bwm_ast_t *parse_not(parser_t *p, int *h)
{
    bwm_pos_t pos = p->p_tok.t_pos;

    if (!is_kw(p, KW_NOT)) {
        return parse_cmp(p, h);
    }
    advance(p);
    return unary(p, BWM_OP_NOT, pos, parse_not, h);
}

static bwm_ast_t *parse_and(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_not(p, h);

    while (l && is_kw(p, KW_AND)) {
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_ast_t *r;
        int hr;

        advance(p);
        r = parse_not(p, &hr);
        l = binary(p, BWM_OP_AND, oppos, l, *h, r, hr, h);
    }
    return l;
}

static bwm_ast_t *parse_or(parser_t *p, int *h)
{
    bwm_ast_t *l = parse_and(p, h);

    while (l && is_kw(p, KW_OR)) {
        bwm_pos_t oppos = p->p_tok.t_pos;
        bwm_ast_t *r;
        int hr;

        advance(p);
        r = parse_and(p, &hr);
        l = binary(p, BWM_OP_OR, oppos, l, *h, r, hr, h);
    }
    return l;
}

/* An expression; *h receives the height of its tree. */
static bwm_ast_t *parse_expr(parser_t *p, int *h)
{
    bwm_ast_t *a;

    *h = 0;
    if (enter(p) < 0) {
        return NULL;
    }
    a = parse_or(p, h);
    p->p_depth--;
    return a;
}

/* ------------------------------------------------------------- statements */

/* WITH ( name = literal, ... ) */
static int parse_props(parser_t *p, bwm_stmt_t *st)
{
    size_t cap = 0;

    if (!accept(p, TK_LPAREN)) {
        return fail_found(p, "expected '(' after WITH");
    }
    for (;;) {
        bwm_prop_t *pr;
        bwm_pos_t vpos;
        char nm[MAX_SHOWN + 8];

        if (!is_name(p)) {
            return fail_name(p, "expected a property name in WITH (...)");
        }
        if (GROW(p, st->s_props, st->s_nprops, &cap, "properties") < 0) {
            return -1;
        }
        pr = &st->s_props[st->s_nprops];
        memset(pr, 0, sizeof(*pr));
        st->s_nprops++;
        if (take_name(p, &pr->pr_name) < 0) {
            return -1;
        }
        name_shown(&pr->pr_name, nm, sizeof(nm));
        if (!accept(p, TK_EQ)) {
            return fail_found(p, "expected '=' after the property name '%s'", nm);
        }
        vpos = p->p_tok.t_pos;
        if (p->p_tok.t_kind == TK_MINUS) {
            advance(p);
            if (p->p_tok.t_kind != TK_INT && p->p_tok.t_kind != TK_DOUBLE) {
                return fail_found(p, "expected a number after '-'");
            }
            pr->pr_value = number(p, 1, vpos);
        } else if (p->p_tok.t_kind == TK_INT || p->p_tok.t_kind == TK_DOUBLE ||
                   p->p_tok.t_kind == TK_STRING || is_kw(p, KW_TRUE) || is_kw(p, KW_FALSE)) {
            int h;

            pr->pr_value = parse_primary(p, &h);
        } else {
            const char *hint = p->p_tok.t_kind == TK_QIDENT && p->p_tok.t_text[0] == '"'
                                   ? " (a string takes single quotes: 'text')"
                                   : "";

            return fail_found_hint(
                p, hint, "expected a string, number, TRUE or FALSE as the value of '%s'", nm);
        }
        if (!pr->pr_value) {
            return -1;
        }
        if (accept(p, TK_COMMA)) {
            continue;
        }
        if (accept(p, TK_RPAREN)) {
            return 0;
        }
        return fail_found(p, "expected ',' or ')' in WITH (...)");
    }
}

static int parse_dur(parser_t *p, const char *what, int allow_zero, int64_t *out)
{
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {
        {"MILLISECOND", "MILLISECONDS", 1}, {"SECOND", "SECONDS", 1000},
        {"MINUTE", "MINUTES", 60000},       {"HOUR", "HOURS", 3600000},
        {"DAY", "DAYS", 86400000},
    };
    bwm_pos_t npos = p->p_tok.t_pos;
    uint64_t n;
    size_t i;

    if (p->p_tok.t_kind == TK_DOUBLE) {
        return fail_found(p, "a duration must be a whole number of units");
    }
    if (p->p_tok.t_kind != TK_INT) {
        return fail_found(p, "expected a duration after %s, as in 5 MINUTES", what);
    }
    if (p->p_tok.t_int_over || p->p_tok.t_int > (uint64_t)INT64_MAX) {
        return fail(p, npos, "integer literal out of range");
    }
    n = p->p_tok.t_int;
    advance(p);
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (is_word(p, units[i].one) || is_word(p, units[i].many)) {
            break;
        }
    }
    if (i == sizeof(units) / sizeof(units[0])) {
        return fail_found(p, "expected a duration unit (MILLISECOND, SECOND, MINUTE, HOUR, DAY)");
    }
    if (n > (uint64_t)(BWM_SQL_MAX_DURATION_MS / units[i].ms)) {
        return fail(p, npos, "duration out of range (the limit is %lld days)",
                    (long long)(BWM_SQL_MAX_DURATION_MS / 86400000));
    }
    if (n == 0 && !allow_zero) {
        return fail(p, npos, "%s must be greater than 0", what);
    }
    *out = (int64_t)n * units[i].ms;
    advance(p);
    return 0;
}

/* After WINDOW (at wpos): the kind and its parenthesised parts. */
static int parse_window(parser_t *p, bwm_ast_window_t *w, bwm_pos_t wpos)
{
    const char *kind, *parts;
    bwm_pos_t kpos = p->p_tok.t_pos;

    w->w_pos = wpos;
    if (is_word(p, "TUMBLING")) {
        w->w_kind = BWM_WINDOW_TUMBLING;
        kind = "WINDOW TUMBLING";
        parts = "SIZE or GRACE";
    } else if (is_word(p, "HOPPING")) {
        w->w_kind = BWM_WINDOW_HOPPING;
        kind = "WINDOW HOPPING";
        parts = "SIZE, ADVANCE BY or GRACE";
    } else if (is_word(p, "SESSION")) {
        w->w_kind = BWM_WINDOW_SESSION;
        kind = "WINDOW SESSION";
        parts = "a gap (such as 30 MINUTES) or GRACE";
    } else {
        return fail_found(p, "expected TUMBLING, HOPPING or SESSION after WINDOW");
    }
    advance(p);
    if (!accept(p, TK_LPAREN)) {
        return fail_found(p, "expected '(' after %s", kind);
    }
    for (;;) {
        bwm_pos_t ppos = p->p_tok.t_pos;

        if (is_word(p, "SIZE")) {
            if (w->w_kind == BWM_WINDOW_SESSION) {
                return fail(p, ppos,
                            "WINDOW SESSION takes a gap, not SIZE, as in SESSION (30 "
                            "MINUTES)");
            }
            if (w->w_size_ms >= 0) {
                return fail(p, ppos, "duplicate SIZE");
            }
            advance(p);
            if (parse_dur(p, "SIZE", 0, &w->w_size_ms) < 0) {
                return -1;
            }
        } else if (is_word(p, "ADVANCE")) {
            if (w->w_kind != BWM_WINDOW_HOPPING) {
                return fail(p, ppos, "ADVANCE BY belongs to WINDOW HOPPING, not %s", kind);
            }
            if (w->w_advance_ms >= 0) {
                return fail(p, ppos, "duplicate ADVANCE BY");
            }
            advance(p);
            if (!is_word(p, "BY")) {
                return fail_found(p, "expected BY after ADVANCE");
            }
            advance(p);
            if (parse_dur(p, "ADVANCE BY", 0, &w->w_advance_ms) < 0) {
                return -1;
            }
        } else if (is_word(p, "GRACE")) {
            if (w->w_grace_ms >= 0) {
                return fail(p, ppos, "duplicate GRACE");
            }
            advance(p);
            if (is_word(p, "PERIOD")) {
                advance(p);
            }
            if (parse_dur(p, "GRACE", 1, &w->w_grace_ms) < 0) {
                return -1;
            }
        } else if (w->w_kind == BWM_WINDOW_SESSION &&
                   (is_word(p, "GAP") || p->p_tok.t_kind == TK_INT)) {
            if (w->w_gap_ms >= 0) {
                return fail(p, ppos, "duplicate gap");
            }
            if (p->p_tok.t_kind != TK_INT) {
                advance(p);
            }
            if (parse_dur(p, "the session gap", 0, &w->w_gap_ms) < 0) {
                return -1;
            }
        } else if (is_word(p, "GAP")) {
            return fail(p, ppos, "GAP belongs to WINDOW SESSION, not %s", kind);
        } else {
            return fail_found(p, "expected %s in %s (...)", parts, kind);
        }
        if (accept(p, TK_COMMA)) {
            continue;
        }
        if (accept(p, TK_RPAREN)) {
            break;
        }
        return fail_found(p, "expected ',' or ')' in %s (...)", kind);
    }
    if (w->w_kind != BWM_WINDOW_SESSION && w->w_size_ms < 0) {
        return fail(p, kpos, "%s needs SIZE", kind);
    }
    if (w->w_kind == BWM_WINDOW_HOPPING && w->w_advance_ms < 0) {
        return fail(p, kpos, "WINDOW HOPPING needs ADVANCE BY");
    }
    if (w->w_kind == BWM_WINDOW_SESSION && w->w_gap_ms < 0) {
        return fail(p, kpos, "WINDOW SESSION needs a gap, as in SESSION (30 MINUTES)");
    }
    return 0;
}

static int parse_items(parser_t *p, bwm_stmt_t *st)
{
    size_t cap = 0;

    do {
        bwm_select_item_t *it;
        int h;

        if (GROW(p, st->s_items, st->s_nitems, &cap, "items in the select list") < 0) {
            return -1;
        }
        it = &st->s_items[st->s_nitems];
        memset(it, 0, sizeof(*it));
        if (p->p_tok.t_kind == TK_STAR) {
            it->si_expr = node_new(p, BWM_AST_STAR, p->p_tok.t_pos);
            if (!it->si_expr) {
                return -1;
            }
            st->s_nitems++;
            advance(p);
            continue;
        }
        it->si_expr = parse_expr(p, &h);
        if (!it->si_expr) {
            return -1;
        }
        st->s_nitems++;
        if (accept_kw(p, KW_AS)) {
            if (!is_name(p)) {
                return fail_name(p, "expected a name after AS");
            }
            if (take_name(p, &it->si_alias) < 0) {
                return -1;
            }
        } else if (is_name(p)) {
            if (take_name(p, &it->si_alias) < 0) {
                return -1;
            }
        }
    } while (accept(p, TK_COMMA));
    return 0;
}

/* The clauses after FROM, in their order. */
enum { CL_NONE, CL_WHERE, CL_WINDOW, CL_GROUP, CL_HAVING, CL_EMIT };

static const char *const clause_names[] = {"", "WHERE", "WINDOW", "GROUP BY", "HAVING", "EMIT"};

static int clause_at(const parser_t *p)
{
    if (p->p_tok.t_kind != TK_IDENT) {
        return CL_NONE;
    }
    switch (p->p_tok.t_kw) {
        case KW_WHERE:
            return CL_WHERE;
        case KW_WINDOW:
            return CL_WINDOW;
        case KW_GROUP:
            return CL_GROUP;
        case KW_HAVING:
            return CL_HAVING;
        case KW_EMIT:
            return CL_EMIT;
        default:
            return CL_NONE;
    }
}

static int parse_query(parser_t *p, bwm_stmt_t *st)
{
    int last = CL_NONE, cl, h;

    if (!accept_kw(p, KW_SELECT)) {
        return fail_found(p, "expected SELECT after AS");
    }
    if (parse_items(p, st) < 0) {
        return -1;
    }
    if (!accept_kw(p, KW_FROM)) {
        return fail_found(p, "expected FROM after the select list");
    }
    if (!is_name(p)) {
        return fail_name(p, "expected a stream name after FROM");
    }
    if (take_name(p, &st->s_from) < 0) {
        return -1;
    }
    while ((cl = clause_at(p)) != CL_NONE) {
        bwm_pos_t cpos = p->p_tok.t_pos;

        if (cl == last) {
            return fail(p, cpos, "duplicate %s", clause_names[cl]);
        }
        if (cl < last) {
            return fail(p, cpos, "%s must come before %s", clause_names[cl], clause_names[last]);
        }
        last = cl;
        advance(p);
        switch (cl) {
            case CL_WHERE:
                st->s_where = parse_expr(p, &h);
                if (!st->s_where) {
                    return -1;
                }
                break;
            case CL_WINDOW:
                if (parse_window(p, &st->s_window, cpos) < 0) {
                    return -1;
                }
                break;
            case CL_GROUP: {
                size_t cap = 0;

                if (!is_word(p, "BY")) {
                    return fail_found(p, "expected BY after GROUP");
                }
                advance(p);
                do {
                    bwm_ast_t *e;

                    if (GROW(p, st->s_group_by, st->s_ngroup, &cap, "GROUP BY expressions") < 0) {
                        return -1;
                    }
                    e = parse_expr(p, &h);
                    if (!e) {
                        return -1;
                    }
                    st->s_group_by[st->s_ngroup++] = e;
                } while (accept(p, TK_COMMA));
                break;
            }
            case CL_HAVING:
                st->s_having = parse_expr(p, &h);
                if (!st->s_having) {
                    return -1;
                }
                break;
            case CL_EMIT:
                st->s_emit_pos = cpos;
                if (is_word(p, "CHANGES")) {
                    st->s_emit = BWM_EMIT_CHANGES;
                } else if (is_word(p, "FINAL")) {
                    st->s_emit = BWM_EMIT_FINAL;
                } else {
                    return fail_found(p, "expected CHANGES or FINAL after EMIT");
                }
                advance(p);
                break;
        }
    }
    return 0;
}

static int parse_stmt(parser_t *p, bwm_stmt_t *st)
{
    const char *what;
    char nm[MAX_SHOWN + 8];
    int with = 0;

    st->s_pos = p->p_tok.t_pos;
    st->s_window.w_kind = BWM_WINDOW_NONE;
    st->s_window.w_size_ms = -1;
    st->s_window.w_advance_ms = -1;
    st->s_window.w_gap_ms = -1;
    st->s_window.w_grace_ms = -1;
    if (!accept_kw(p, KW_CREATE)) {
        return fail_found(p, "expected CREATE STREAM or CREATE TABLE at the start of a statement");
    }
    if (is_word(p, "TABLE")) {
        st->s_table = 1;
        what = "CREATE TABLE";
    } else if (is_word(p, "STREAM")) {
        what = "CREATE STREAM";
    } else {
        return fail_found(p, "expected TABLE or STREAM after CREATE");
    }
    advance(p);
    if (!is_name(p)) {
        return fail_name(p, "expected a name after %s", what);
    }
    if (take_name(p, &st->s_name) < 0) {
        return -1;
    }
    name_shown(&st->s_name, nm, sizeof(nm));
    if (accept_kw(p, KW_WITH)) {
        with = 1;
        if (parse_props(p, st) < 0) {
            return -1;
        }
    }
    if (accept_kw(p, KW_AS)) {
        st->s_kind = BWM_STMT_QUERY;
        return parse_query(p, st);
    }
    st->s_kind = BWM_STMT_STREAM;
    if (!with) {
        return fail_found(p, "expected WITH or AS after %s %s", what, nm);
    }
    if (st->s_table) {
        return fail_found(p, "expected AS after %s %s WITH (...)", what, nm);
    }
    return 0;
}

/* --------------------------------------------------------------- the API */

static void parser_init(parser_t *p, const char *text, size_t len, bwm_sql_error_t *err)
{
    memset(p, 0, sizeof(*p));
    p->p_err = err;
    if (err) {
        memset(err, 0, sizeof(*err));
    }
    bwm_lex_init(&p->p_lx, text ? text : "", text ? len : 0);
}

static int check_size(parser_t *p, size_t len)
{
    bwm_pos_t start = {1, 1, 0};

    if (len > BWM_SQL_MAX_TEXT) {
        return fail(p, start, "the text is longer than %d bytes", BWM_SQL_MAX_TEXT);
    }
    return 0;
}

bwm_script_t *bwm_sql_parse(const char *text, size_t len, bwm_sql_error_t *err)
{
    parser_t p;
    bwm_script_t *sc = NULL;
    size_t cap = 0;

    parser_init(&p, text, len, err);
    if (check_size(&p, len) < 0) {
        return NULL;
    }
    sc = calloc(1, sizeof(*sc));
    if (!sc) {
        nomem(&p);
        return NULL;
    }
    advance(&p);
    while (p.p_tok.t_kind != TK_EOF) {
        bwm_stmt_t *st;

        if (accept(&p, TK_SEMI)) {
            continue;
        }
        if (GROW(&p, sc->sc_stmts, sc->sc_n, &cap, "statements") < 0) {
            goto err;
        }
        st = &sc->sc_stmts[sc->sc_n++];
        memset(st, 0, sizeof(*st));
        if (parse_stmt(&p, st) < 0) {
            goto err;
        }
        if (!accept(&p, TK_SEMI) && p.p_tok.t_kind != TK_EOF) {
            fail_found(&p, "expected ';' after the statement");
            goto err;
        }
    }
    bwm_lex_tok_clear(&p.p_tok);
    return sc;
err:
    bwm_lex_tok_clear(&p.p_tok);
    bwm_script_destroy(sc);
    return NULL;
}

bwm_ast_t *bwm_sql_parse_expr(const char *text, size_t len, bwm_sql_error_t *err)
{
    parser_t p;
    bwm_ast_t *a;
    int h;

    parser_init(&p, text, len, err);
    if (check_size(&p, len) < 0) {
        return NULL;
    }
    advance(&p);
    a = parse_expr(&p, &h);
    if (a && p.p_tok.t_kind != TK_EOF) {
        fail_found(&p, "expected the end of the expression");
        bwm_ast_destroy(a);
        a = NULL;
    }
    bwm_lex_tok_clear(&p.p_tok);
    return a;
}
