/*
 * plan.c: the planner: from a parsed script and the input schema to a plan.
 * Expressions are compiled in one of three scopes:
 *   row        WHERE, GROUP BY, aggregate arguments, stateless projections:
 *              columns are record fields, aggregates are not allowed;
 *   result     SELECT items and HAVING of an aggregate query: GROUP BY
 *              expressions and aggregate calls, and no other column;
 *   argument   inside an aggregate call: like row, no nested aggregates.
 */
#include "plan.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "avro.h"
#include "sql.h"

typedef struct planner {
    bwm_plan_t *pl_plan;
    const bwm_schema_t *pl_input;
    const bwm_stmt_t *pl_query;
    const bwm_stmt_t *pl_stream;
    bwm_sql_error_t *pl_err;
} planner_t;

static char *sql_text(const bwm_ast_t *a)
{
    bwm_buf_t b;
    char *s;

    bwm_buf_init(&b);
    bwm_ast_to_sql(a, &b);
    s = b.b_failed ? NULL : strndup((const char *)b.b_data, b.b_len);
    bwm_buf_free(&b);
    return s;
}

void bwm_plan_destroy(bwm_plan_t *p)
{
    size_t i, j;

    if (!p) {
        return;
    }
    for (i = 0; i < p->p_nslots; i++) {
        for (j = 0; j < p->p_slots[i].ss_depth; j++) {
            free((char *)p->p_slots[i].ss_path[j]);
        }
        free((char **)p->p_slots[i].ss_path);
        free((char *)p->p_slots[i].ss_name);
    }
    for (i = 0; i < p->p_nkeys; i++) {
        bwm_expr_destroy(p->p_keys[i].pk_expr);
        free(p->p_keys[i].pk_name);
        free(p->p_keys[i].pk_sql);
    }
    for (i = 0; i < p->p_naggs; i++) {
        bwm_expr_destroy(p->p_aggs[i].pa_arg);
        free(p->p_aggs[i].pa_sql);
    }
    for (i = 0; i < p->p_ncols; i++) {
        bwm_expr_destroy(p->p_cols[i].pc_expr);
        free(p->p_cols[i].pc_name);
    }
    bwm_expr_destroy(p->p_where);
    bwm_expr_destroy(p->p_having);
    free(p->p_slots);
    free(p->p_keys);
    free(p->p_aggs);
    free(p->p_cols);
    free(p->p_name);
    free(p->p_input_stream);
    free(p->p_input_topic);
    free(p->p_output_topic);
    free(p->p_namespace);
    free(p->p_output_schema);
    free(p);
}

static int ident_eq(const bwm_ident_t *id, const char *name)
{
    return id->i_quoted ? strcmp(id->i_name, name) == 0 : strcasecmp(id->i_name, name) == 0;
}

/* ---- properties ---- */

static const char *prop_string(const bwm_stmt_t *st, const char *name, const bwm_prop_t **where)
{
    size_t i;

    for (i = 0; i < st->s_nprops; i++) {
        if (strcasecmp(st->s_props[i].pr_name.i_name, name) == 0) {
            if (where) {
                *where = &st->s_props[i];
            }
            return st->s_props[i].pr_value->u.a_lit.l_kind == BWM_LIT_STRING
                       ? st->s_props[i].pr_value->u.a_lit.l_str
                       : NULL;
        }
    }
    return NULL;
}

/* Every property must be known, given once, and a string. */
static int check_props(const bwm_stmt_t *st, const char *const *known, const char *what,
                       bwm_sql_error_t *err)
{
    size_t i, j, k;

    for (i = 0; i < st->s_nprops; i++) {
        const bwm_prop_t *pr = &st->s_props[i];
        char list[256] = "";

        for (k = 0; known[k]; k++) {
            if (strcasecmp(pr->pr_name.i_name, known[k]) == 0) {
                break;
            }
        }
        if (!known[k]) {
            for (k = 0; known[k]; k++) {
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
                         known[k]);
            }
            return bwm_sql_fail(err, pr->pr_name.i_pos, "unknown property '%s' of %s (known: %s)",
                                pr->pr_name.i_name, what, list);
        }
        for (j = 0; j < i; j++) {
            if (strcasecmp(pr->pr_name.i_name, st->s_props[j].pr_name.i_name) == 0) {
                return bwm_sql_fail(err, pr->pr_name.i_pos, "property '%s' is given twice",
                                    pr->pr_name.i_name);
            }
        }
        if (pr->pr_value->u.a_lit.l_kind != BWM_LIT_STRING) {
            return bwm_sql_fail(err, pr->pr_value->a_pos, "property '%s' takes a string in quotes",
                                pr->pr_name.i_name);
        }
    }
    return 0;
}

int bwm_plan_stream(const bwm_script_t *sc, bwm_stream_info_t *out, bwm_sql_error_t *err)
{
    static const char *const stream_props[] = {"topic",   "format",  "timestamp", "schema",
                                               "subject", "framing", NULL};
    const bwm_stmt_t *query = NULL, *stream = NULL;
    const bwm_prop_t *where = NULL;
    const char *format, *framing;
    size_t i, j;
    bwm_pos_t start = {1, 1, 0};

    for (i = 0; i < sc->sc_n; i++) {
        const bwm_stmt_t *st = &sc->sc_stmts[i];

        for (j = 0; j < i; j++) {
            if (strcasecmp(sc->sc_stmts[j].s_name.i_name, st->s_name.i_name) == 0) {
                return bwm_sql_fail(err, st->s_name.i_pos, "'%s' is defined twice",
                                    st->s_name.i_name);
            }
        }
        if (st->s_kind == BWM_STMT_QUERY) {
            if (query) {
                return bwm_sql_fail(
                    err, st->s_pos,
                    "a job runs one query; '%s' is a second one (run it as its own job)",
                    st->s_name.i_name);
            }
            query = st;
        }
    }
    if (!query) {
        return bwm_sql_fail(
            err, sc->sc_n ? sc->sc_stmts[sc->sc_n - 1].s_pos : start,
            "the job has no query: add CREATE TABLE ... AS SELECT ... or CREATE STREAM "
            "... AS SELECT ...");
    }
    for (i = 0; i < sc->sc_n; i++) {
        if (sc->sc_stmts[i].s_kind == BWM_STMT_STREAM &&
            ident_eq(&query->s_from, sc->sc_stmts[i].s_name.i_name)) {
            stream = &sc->sc_stmts[i];
        }
    }
    if (!stream) {
        return bwm_sql_fail(
            err, query->s_from.i_pos,
            "unknown stream '%s': declare it with CREATE STREAM %s WITH (topic = '...')",
            query->s_from.i_name, query->s_from.i_name);
    }
    if (check_props(stream, stream_props, "a stream", err)) {
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->si_name = stream->s_name.i_name;
    out->si_pos = stream->s_pos;
    out->si_topic = prop_string(stream, "topic", NULL);
    out->si_schema = prop_string(stream, "schema", NULL);
    out->si_timestamp = prop_string(stream, "timestamp", NULL);
    out->si_subject = prop_string(stream, "subject", NULL);
    framing = prop_string(stream, "framing", &where);
    if (framing && strcasecmp(framing, "raw") != 0 && strcasecmp(framing, "auto") != 0) {
        return bwm_sql_fail(
            err, where->pr_value->a_pos,
            "framing '%s' is not known (known: auto, for Confluent and Glue framing "
            "recognised per record; raw, for bare Avro written with the stream's schema)",
            framing);
    }
    out->si_raw = framing && strcasecmp(framing, "raw") == 0;
    if (out->si_raw && !out->si_schema) {
        return bwm_sql_fail(err, where->pr_value->a_pos,
                            "framing 'raw' needs the writer's schema: add schema = 'file.avsc'");
    }
    if (!out->si_topic || !out->si_topic[0]) {
        return bwm_sql_fail(err, stream->s_name.i_pos, "stream %s needs WITH (topic = '...')",
                            stream->s_name.i_name);
    }
    format = prop_string(stream, "format", &where);
    if (format && strcasecmp(format, "avro") != 0) {
        return bwm_sql_fail(err, where->pr_value->a_pos,
                            "format '%s' is not supported (supported: avro)", format);
    }
    return 0;
}

/* ---- columns and slots ---- */

/* The closest field name at one level of the input schema, for "did you mean". */
static const char *closest_field(const bwm_schema_t *s, const char *const *names, size_t level)
{
    bwm_field_info_t info[BWM_PLAN_MAX_DEPTH];
    const bwm_avro_node_t *rec = bwm_schema_root(s);
    const char *best = NULL;
    size_t i, bad, best_d = 4;

    if (level > 0) {
        if (bwm_schema_path(s, names, level, 1, info, &bad) != 0) {
            return NULL;
        }
        rec = info[level - 1].fi_node;
    }
    for (i = 0; i < rec->an_nfields; i++) {
        const char *f = rec->an_fields[i].af_name;
        size_t la = strlen(f), lb = strlen(names[level]), d, x, y;
        size_t row[64];

        if (la > 60 || lb > 60) {
            continue;
        }
        for (y = 0; y <= lb; y++) {
            row[y] = y;
        }
        for (x = 1; x <= la; x++) {
            size_t diag = row[0];

            row[0] = x;
            for (y = 1; y <= lb; y++) {
                size_t up = row[y];
                size_t c = diag + (tolower((unsigned char)f[x - 1]) !=
                                   tolower((unsigned char)names[level][y - 1]));

                c = row[y - 1] + 1 < c ? row[y - 1] + 1 : c;
                c = up + 1 < c ? up + 1 : c;
                row[y] = c;
                diag = up;
            }
        }
        d = row[lb];
        if (d < best_d) {
            best_d = d;
            best = f;
        }
    }
    return best;
}

/* Resolves a column path to a slot, adding the slot when new. */
static int column_slot(planner_t *pl, const bwm_ast_t *col, bwm_ref_t *ref)
{
    bwm_plan_t *p = pl->pl_plan;
    const bwm_ident_t *path = col->u.a_col.c_path;
    size_t n = col->u.a_col.c_n, skip = 0, i, idx, bad = 0;
    const char *names[BWM_PLAN_MAX_DEPTH];
    bwm_field_info_t info[BWM_PLAN_MAX_DEPTH];
    bwm_slot_spec_t *slot;
    bwm_buf_t dotted;
    int rc, icase = 1, nullable = 0;

    /* stream.column names the stream's column */
    if (n > 1 && ident_eq(&path[0], pl->pl_stream->s_name.i_name)) {
        skip = 1;
    }
    if (n - skip > BWM_PLAN_MAX_DEPTH) {
        return bwm_sql_fail(pl->pl_err, col->a_pos, "field path nested deeper than %d levels",
                            BWM_PLAN_MAX_DEPTH);
    }
    for (i = skip; i < n; i++) {
        names[i - skip] = path[i].i_name;
        icase &= !path[i].i_quoted;
    }
    n -= skip;
    rc = bwm_schema_path(pl->pl_input, names, n, icase, info, &bad);
    if (rc == BWM_PATH_UNKNOWN) {
        const char *near = closest_field(pl->pl_input, names, bad);

        if (near) {
            return bwm_sql_fail(pl->pl_err, path[skip + bad].i_pos,
                                "unknown field '%s' in %s (did you mean '%s'?)", names[bad],
                                bad ? names[bad - 1] : bwm_schema_name(pl->pl_input), near);
        }
        return bwm_sql_fail(pl->pl_err, path[skip + bad].i_pos, "unknown field '%s' in %s",
                            names[bad], bad ? names[bad - 1] : bwm_schema_name(pl->pl_input));
    }
    if (rc == BWM_PATH_AMBIGUOUS) {
        return bwm_sql_fail(pl->pl_err, path[skip + bad].i_pos,
                            "'%s' matches several fields that differ only in case; quote it",
                            names[bad]);
    }
    if (rc == BWM_PATH_NOT_RECORD) {
        return bwm_sql_fail(pl->pl_err, path[skip + bad + 1].i_pos,
                            "%s is not a record, so it has no field '%s'", names[bad],
                            names[bad + 1]);
    }
    if (info[n - 1].fi_type == BWM_T_NULL) {
        return bwm_sql_fail(pl->pl_err, col->a_pos,
                            "field '%s' is not a scalar (boolean, number, string or enum)",
                            names[n - 1]);
    }
    for (i = 0; i < n; i++) {
        nullable |= info[i].fi_null_branch >= 0;
    }
    bwm_buf_init(&dotted);
    for (i = 0; i < n; i++) {
        if (i) {
            bwm_buf_put_u8(&dotted, '.');
        }
        bwm_buf_put_str(&dotted, info[i].fi_name);
    }
    bwm_buf_put_u8(&dotted, 0);
    for (idx = 0; idx < p->p_nslots; idx++) {
        if (strcmp(p->p_slots[idx].ss_name, (const char *)dotted.b_data) == 0) {
            bwm_buf_free(&dotted);
            goto found;
        }
    }
    slot = realloc(p->p_slots, (p->p_nslots + 1) * sizeof(*slot));
    if (!slot || dotted.b_failed) {
        bwm_buf_free(&dotted);
        return bwm_sql_fail(pl->pl_err, col->a_pos, "out of memory");
    }
    p->p_slots = slot;
    slot = &p->p_slots[p->p_nslots];
    memset(slot, 0, sizeof(*slot));
    slot->ss_name = (const char *)dotted.b_data; /* the buffer's memory is the name now */
    slot->ss_path = calloc(n, sizeof(*slot->ss_path));
    if (!slot->ss_path) {
        free(dotted.b_data);
        return bwm_sql_fail(pl->pl_err, col->a_pos, "out of memory");
    }
    p->p_nslots++;
    slot->ss_depth = n;
    for (i = 0; i < n; i++) {
        slot->ss_path[i] = strdup(info[i].fi_name);
        if (!slot->ss_path[i]) {
            return bwm_sql_fail(pl->pl_err, col->a_pos, "out of memory");
        }
    }
    slot->ss_type = info[n - 1].fi_type;
    slot->ss_nullable = nullable;
    slot->ss_has_default = info[n - 1].fi_has_default;
    slot->ss_logical = info[n - 1].fi_logical;
    idx = p->p_nslots - 1;
found:
    ref->r_index = (int)idx;
    ref->r_type = p->p_slots[idx].ss_type;
    ref->r_nullable = p->p_slots[idx].ss_nullable;
    ref->r_logical = p->p_slots[idx].ss_logical;
    return 0;
}

static int row_column(void *opaque, const bwm_ast_t *col, bwm_ref_t *ref, bwm_sql_error_t *err)
{
    (void)err;
    return column_slot(opaque, col, ref);
}

static int result_column(void *opaque, const bwm_ast_t *col, bwm_ref_t *ref, bwm_sql_error_t *err)
{
    char *text = sql_text(col);

    (void)opaque;
    (void)ref;
    bwm_sql_fail(
        err, col->a_pos,
        "column %s must appear in GROUP BY or be used inside an aggregate such as LAST(%s)",
        text ? text : "?", text ? text : "?");
    free(text);
    return -1;
}

/* ---- aggregates ---- */

static int add_agg(void *opaque, const bwm_ast_t *call, bwm_ref_t *ref, bwm_sql_error_t *err)
{
    planner_t *pl = opaque;
    bwm_plan_t *p = pl->pl_plan;
    const char *name = call->u.a_call.f_name.i_name;
    const bwm_agg_ops_t *ops = bwm_agg_find(name);
    bwm_expr_scope_t arg_scope = {row_column, NULL, NULL, pl};
    size_t n = call->u.a_call.f_n, i;
    bwm_plan_agg_t *a;
    char *text = sql_text(call);
    int star;

    if (!text) {
        return bwm_sql_fail(err, call->a_pos, "out of memory");
    }
    for (i = 0; i < p->p_naggs; i++) {
        if (strcmp(p->p_aggs[i].pa_sql, text) == 0) {
            free(text);
            goto found;
        }
    }
    if (call->u.a_call.f_distinct) {
        if (!(ops && strcasecmp(ops->ao_name, "COUNT") == 0)) {
            free(text);
            return bwm_sql_fail(err, call->a_pos, "DISTINCT is only allowed in COUNT(DISTINCT x)");
        }
        ops = bwm_agg_find("COUNT_DISTINCT");
    }
    if (!ops) {
        free(text);
        return bwm_sql_fail(err, call->a_pos, "unknown aggregate %s", name);
    }
    if (n != (size_t)(1 + ops->ao_param)) {
        free(text);
        return bwm_sql_fail(err, call->a_pos, "%s takes %s, got %zu", ops->ao_name,
                            ops->ao_param ? "a field and a constant" : "one argument", n);
    }
    star = call->u.a_call.f_args[0]->a_kind == BWM_AST_STAR;
    if (star && !ops->ao_star) {
        free(text);
        return bwm_sql_fail(err, call->u.a_call.f_args[0]->a_pos, "%s takes a field, not '*'",
                            ops->ao_name);
    }
    if (p->p_naggs == BWM_PLAN_MAX_AGGS) {
        free(text);
        return bwm_sql_fail(err, call->a_pos, "more than %d aggregates in one query",
                            BWM_PLAN_MAX_AGGS);
    }
    a = realloc(p->p_aggs, (p->p_naggs + 1) * sizeof(*a));
    if (!a) {
        free(text);
        return bwm_sql_fail(err, call->a_pos, "out of memory");
    }
    p->p_aggs = a;
    a = &p->p_aggs[p->p_naggs++];
    memset(a, 0, sizeof(*a));
    a->pa_ops = ops;
    a->pa_sql = text;
    a->pa_arg_type = BWM_T_NULL;
    if (!star) {
        if (bwm_expr_compile(call->u.a_call.f_args[0], &arg_scope, &a->pa_arg, err)) {
            return -1;
        }
        a->pa_arg_type = bwm_expr_type(a->pa_arg);
    }
    if (ops->ao_param) {
        const bwm_ast_t *q = call->u.a_call.f_args[1];
        double v;

        if (q->a_kind != BWM_AST_LITERAL ||
            (q->u.a_lit.l_kind != BWM_LIT_DOUBLE && q->u.a_lit.l_kind != BWM_LIT_INT)) {
            return bwm_sql_fail(err, q->a_pos,
                                "%s's second argument must be a number between 0 and 1",
                                ops->ao_name);
        }
        v = q->u.a_lit.l_kind == BWM_LIT_INT ? (double)q->u.a_lit.l_int : q->u.a_lit.l_double;
        if (!(v >= 0 && v <= 1)) {
            return bwm_sql_fail(err, q->a_pos, "%s's quantile must be between 0 and 1, got %g",
                                ops->ao_name, v);
        }
        a->pa_params.ap_q = v;
    }
    a->pa_result_type = ops->ao_result_type(star ? BWM_T_NULL : a->pa_arg_type);
    if (a->pa_result_type == BWM_T_NULL) {
        return bwm_sql_fail(err, call->u.a_call.f_args[0]->a_pos, "%s cannot aggregate %s values",
                            ops->ao_name, bwm_type_name(a->pa_arg_type));
    }
    a->pa_offset = p->p_state_size;
    p->p_state_size += (ops->ao_state_size + 7) & ~(size_t)7;
    i = p->p_naggs - 1;
found:
    ref->r_index = (int)i;
    ref->r_type = p->p_aggs[i].pa_result_type;
    ref->r_nullable = p->p_aggs[i].pa_ops->ao_result_nullable;
    ref->r_logical = NULL;
    return 0;
}

/* A subtree of a SELECT item or HAVING that equals a GROUP BY expression is that key. */
static int match_key(void *opaque, const bwm_ast_t *a, bwm_ref_t *ref)
{
    planner_t *pl = opaque;
    bwm_plan_t *p = pl->pl_plan;
    char *text;
    size_t i;

    if (a->a_kind == BWM_AST_LITERAL || a->a_kind == BWM_AST_STAR) {
        return 1;
    }
    text = sql_text(a);
    for (i = 0; text && i < p->p_nkeys; i++) {
        if (strcasecmp(text, p->p_keys[i].pk_sql) == 0) {
            free(text);
            ref->r_index = (int)i;
            ref->r_type = p->p_keys[i].pk_type;
            ref->r_nullable = 0;
            ref->r_logical = p->p_keys[i].pk_logical;
            return 0;
        }
    }
    free(text);
    return 1;
}

/* ---- the query ---- */

static int plan_time(planner_t *pl, const bwm_stream_info_t *si)
{
    bwm_plan_t *p = pl->pl_plan;
    const bwm_prop_t *where = NULL;
    bwm_ident_t id;
    bwm_ast_t col;
    bwm_ref_t ref;

    p->p_time_slot = -1;
    if (!si->si_timestamp || strcasecmp(si->si_timestamp, "kafka") == 0) {
        return 0;
    }
    prop_string(pl->pl_stream, "timestamp", &where);
    memset(&col, 0, sizeof(col));
    memset(&id, 0, sizeof(id));
    id.i_name = (char *)si->si_timestamp;
    id.i_quoted = 1;
    id.i_pos = where->pr_value->a_pos;
    col.a_kind = BWM_AST_COLUMN;
    col.a_pos = id.i_pos;
    col.u.a_col.c_path = &id;
    col.u.a_col.c_n = 1;
    if (column_slot(pl, &col, &ref)) {
        return -1;
    }
    if (ref.r_type != BWM_T_LONG) {
        return bwm_sql_fail(pl->pl_err, id.i_pos,
                            "timestamp field '%s' must be a long (timestamp-millis), not %s",
                            si->si_timestamp, bwm_type_name(ref.r_type));
    }
    p->p_time_slot = ref.r_index;
    p->p_time_micros = ref.r_logical && strstr(ref.r_logical, "micros") != NULL;
    return 0;
}

static int plan_window(planner_t *pl, const bwm_stream_info_t *si)
{
    const bwm_ast_window_t *w = &pl->pl_query->s_window;
    bwm_window_t *pw = &pl->pl_plan->p_window;

    memset(pw, 0, sizeof(*pw));
    pw->w_kind = w->w_kind;
    if (w->w_kind == BWM_WINDOW_NONE) {
        return 0;
    }
    if (!si->si_timestamp) {
        return bwm_sql_fail(
            pl->pl_err, w->w_pos,
            "a WINDOW needs event time: declare it in CREATE STREAM %s WITH (..., "
            "timestamp = '<field>'), or timestamp = 'kafka' for the record timestamp",
            si->si_name);
    }
    pw->w_size = w->w_size_ms;
    pw->w_advance = w->w_kind == BWM_WINDOW_HOPPING ? w->w_advance_ms : w->w_size_ms;
    pw->w_gap = w->w_gap_ms;
    pw->w_grace = w->w_grace_ms < 0 ? 0 : w->w_grace_ms;
    if (w->w_kind == BWM_WINDOW_HOPPING) {
        if (pw->w_advance > pw->w_size) {
            return bwm_sql_fail(pl->pl_err, w->w_pos,
                                "ADVANCE BY (%" PRId64 " ms) must not exceed SIZE (%" PRId64 " ms)",
                                pw->w_advance, pw->w_size);
        }
        if (pw->w_size / pw->w_advance > BWM_WINDOW_MAX_HOPS ||
            (pw->w_size / pw->w_advance == BWM_WINDOW_MAX_HOPS && pw->w_size % pw->w_advance)) {
            return bwm_sql_fail(pl->pl_err, w->w_pos,
                                "SIZE / ADVANCE BY puts each record in more than %d windows",
                                BWM_WINDOW_MAX_HOPS);
        }
        if (pw->w_size % pw->w_advance) {
            return bwm_sql_fail(pl->pl_err, w->w_pos, "SIZE must be a multiple of ADVANCE BY");
        }
    }
    return 0;
}

/* A name for a SELECT item without AS: its column, or the aggregate and its column. */
static int default_name(const bwm_ast_t *a, char *out, size_t size)
{
    size_t i;

    if (a->a_kind == BWM_AST_COLUMN) {
        snprintf(out, size, "%s", a->u.a_col.c_path[a->u.a_col.c_n - 1].i_name);
        return 0;
    }
    if (a->a_kind == BWM_AST_CALL && a->u.a_call.f_n >= 1) {
        const bwm_ast_t *arg = a->u.a_call.f_args[0];

        if (arg->a_kind == BWM_AST_STAR) {
            snprintf(out, size, "%s", a->u.a_call.f_name.i_name);
        } else if (arg->a_kind == BWM_AST_COLUMN) {
            snprintf(out, size, "%s%s_%s", a->u.a_call.f_name.i_name,
                     a->u.a_call.f_distinct ? "_distinct" : "",
                     arg->u.a_col.c_path[arg->u.a_col.c_n - 1].i_name);
        } else {
            return -1;
        }
        for (i = 0; out[i]; i++) {
            out[i] = (char)tolower((unsigned char)out[i]);
        }
        return 0;
    }
    return -1;
}

/* Output field names must be Avro names and unique, and not clash with the fixed fields. */
static int check_name(planner_t *pl, const char *name, bwm_pos_t pos)
{
    bwm_plan_t *p = pl->pl_plan;
    static const char *const fixed[] = {"window_start", "window_end", "version"};
    size_t i;

    if (!bwm_avro_name_ok(name)) {
        return bwm_sql_fail(
            pl->pl_err, pos,
            "'%s' is not a valid result field name ([A-Za-z_][A-Za-z0-9_]*); use AS", name);
    }
    for (i = 0; i < 3; i++) {
        if (strcmp(name, fixed[i]) == 0 && (i == 2 || p->p_window.w_kind != BWM_WINDOW_NONE)) {
            return bwm_sql_fail(pl->pl_err, pos, "result field '%s' is reserved; use another name",
                                name);
        }
    }
    for (i = 0; i < p->p_nkeys; i++) {
        if (p->p_keys[i].pk_name && strcmp(p->p_keys[i].pk_name, name) == 0) {
            return bwm_sql_fail(pl->pl_err, pos, "result field '%s' is used twice", name);
        }
    }
    for (i = 0; i < p->p_ncols; i++) {
        if (strcmp(p->p_cols[i].pc_name, name) == 0) {
            return bwm_sql_fail(pl->pl_err, pos, "result field '%s' is used twice", name);
        }
    }
    return 0;
}

static int plan_keys(planner_t *pl)
{
    const bwm_stmt_t *q = pl->pl_query;
    bwm_plan_t *p = pl->pl_plan;
    bwm_expr_scope_t row = {row_column, NULL, NULL, pl};
    size_t i;

    if (q->s_ngroup > BWM_PLAN_MAX_KEYS) {
        return bwm_sql_fail(pl->pl_err, q->s_group_by[BWM_PLAN_MAX_KEYS]->a_pos,
                            "more than %d GROUP BY expressions", BWM_PLAN_MAX_KEYS);
    }
    p->p_keys = calloc(q->s_ngroup ? q->s_ngroup : 1, sizeof(*p->p_keys));
    if (!p->p_keys) {
        return bwm_sql_fail(pl->pl_err, q->s_pos, "out of memory");
    }
    for (i = 0; i < q->s_ngroup; i++) {
        bwm_plan_key_t *k = &p->p_keys[i];

        k->pk_sql = sql_text(q->s_group_by[i]);
        p->p_nkeys++;
        if (!k->pk_sql) {
            return bwm_sql_fail(pl->pl_err, q->s_pos, "out of memory");
        }
        if (bwm_expr_compile(q->s_group_by[i], &row, &k->pk_expr, pl->pl_err)) {
            return -1;
        }
        k->pk_type = bwm_expr_type(k->pk_expr);
        k->pk_logical = bwm_expr_logical(k->pk_expr);
        if (k->pk_type == BWM_T_NULL) {
            return bwm_sql_fail(pl->pl_err, q->s_group_by[i]->a_pos, "cannot GROUP BY NULL");
        }
    }
    return 0;
}

/* Names keys from SELECT items that are exactly a GROUP BY expression, or from their column. */
static int name_keys(planner_t *pl)
{
    const bwm_stmt_t *q = pl->pl_query;
    bwm_plan_t *p = pl->pl_plan;
    size_t i, k;
    char name[256];

    for (k = 0; k < p->p_nkeys; k++) {
        for (i = 0; i < q->s_nitems; i++) {
            const bwm_select_item_t *it = &q->s_items[i];
            char *text;

            if (!it->si_alias.i_name || it->si_expr->a_kind == BWM_AST_STAR) {
                continue;
            }
            text = sql_text(it->si_expr);
            if (text && strcasecmp(text, p->p_keys[k].pk_sql) == 0) {
                free(text);
                if (check_name(pl, it->si_alias.i_name, it->si_alias.i_pos)) {
                    return -1;
                }
                p->p_keys[k].pk_name = strdup(it->si_alias.i_name);
                break;
            }
            free(text);
        }
        if (!p->p_keys[k].pk_name) {
            if (default_name(q->s_group_by[k], name, sizeof(name)) ||
                q->s_group_by[k]->a_kind != BWM_AST_COLUMN) {
                return bwm_sql_fail(pl->pl_err, q->s_group_by[k]->a_pos,
                                    "this GROUP BY expression needs a name: select it with AS");
            }
            if (check_name(pl, name, q->s_group_by[k]->a_pos)) {
                return -1;
            }
            p->p_keys[k].pk_name = strdup(name);
        }
        if (!p->p_keys[k].pk_name) {
            return bwm_sql_fail(pl->pl_err, q->s_pos, "out of memory");
        }
    }
    return 0;
}

static int add_col(planner_t *pl, const bwm_select_item_t *it, bwm_expr_t *x, const char *name)
{
    bwm_plan_t *p = pl->pl_plan;
    bwm_plan_col_t *c;

    if (check_name(pl, name, it->si_alias.i_name ? it->si_alias.i_pos : it->si_expr->a_pos)) {
        bwm_expr_destroy(x);
        return -1;
    }
    c = realloc(p->p_cols, (p->p_ncols + 1) * sizeof(*c));
    if (!c) {
        bwm_expr_destroy(x);
        return bwm_sql_fail(pl->pl_err, it->si_expr->a_pos, "out of memory");
    }
    p->p_cols = c;
    c = &p->p_cols[p->p_ncols++];
    c->pc_expr = x;
    c->pc_name = strdup(name);
    c->pc_type = bwm_expr_type(x);
    /* Aggregate results are nullable: an expression over them may overflow at emission. */
    c->pc_nullable = bwm_expr_nullable(x) || !p->p_stateless;
    c->pc_logical = bwm_expr_logical(x);
    if (c->pc_type == BWM_T_NULL) {
        return bwm_sql_fail(pl->pl_err, it->si_expr->a_pos,
                            "the type of this expression is unknown (NULL); CAST it");
    }
    return c->pc_name ? 0 : bwm_sql_fail(pl->pl_err, it->si_expr->a_pos, "out of memory");
}

/* SELECT * of a stateless query: every top-level scalar field. */
static int add_star(planner_t *pl, const bwm_select_item_t *it)
{
    size_t i, n = bwm_schema_field_count(pl->pl_input);
    bwm_expr_scope_t row = {row_column, NULL, NULL, pl};

    for (i = 0; i < n; i++) {
        const bwm_field_info_t *fi = bwm_schema_field_at(pl->pl_input, i);
        bwm_ident_t id = {(char *)fi->fi_name, 1, it->si_expr->a_pos};
        bwm_ast_t col;
        bwm_expr_t *x;

        if (fi->fi_type == BWM_T_NULL) {
            return bwm_sql_fail(
                pl->pl_err, it->si_expr->a_pos,
                "SELECT * cannot copy field '%s': it is not a scalar; list the columns",
                fi->fi_name);
        }
        memset(&col, 0, sizeof(col));
        col.a_kind = BWM_AST_COLUMN;
        col.a_pos = it->si_expr->a_pos;
        col.u.a_col.c_path = &id;
        col.u.a_col.c_n = 1;
        if (bwm_expr_compile(&col, &row, &x, pl->pl_err) || add_col(pl, it, x, fi->fi_name)) {
            return -1;
        }
    }
    return 0;
}

static int plan_items(planner_t *pl)
{
    const bwm_stmt_t *q = pl->pl_query;
    bwm_plan_t *p = pl->pl_plan;
    bwm_expr_scope_t row = {row_column, NULL, NULL, pl};
    bwm_expr_scope_t result = {result_column, add_agg, match_key, pl};
    size_t i, k;
    char name[256];

    for (i = 0; i < q->s_nitems; i++) {
        const bwm_select_item_t *it = &q->s_items[i];
        bwm_expr_t *x;
        int is_key = 0;

        if (it->si_expr->a_kind == BWM_AST_STAR) {
            if (!p->p_stateless) {
                return bwm_sql_fail(
                    pl->pl_err, it->si_expr->a_pos,
                    "SELECT * is only for CREATE STREAM ... AS SELECT; list the keys and "
                    "aggregates");
            }
            if (add_star(pl, it)) {
                return -1;
            }
            continue;
        }
        if (!p->p_stateless) {
            /* An item that is a GROUP BY expression is the key field, named already. */
            char *text = sql_text(it->si_expr);

            for (k = 0; text && k < p->p_nkeys; k++) {
                is_key |= strcasecmp(text, p->p_keys[k].pk_sql) == 0;
            }
            free(text);
            if (is_key) {
                continue;
            }
        }
        if (bwm_expr_compile(it->si_expr, p->p_stateless ? &row : &result, &x, pl->pl_err)) {
            return -1;
        }
        if (it->si_alias.i_name) {
            snprintf(name, sizeof(name), "%s", it->si_alias.i_name);
        } else if (default_name(it->si_expr, name, sizeof(name))) {
            bwm_expr_destroy(x);
            return bwm_sql_fail(pl->pl_err, it->si_expr->a_pos,
                                "this expression needs a name: add AS name");
        }
        if (add_col(pl, it, x, name)) {
            return -1;
        }
    }
    if (!p->p_stateless && p->p_ncols == 0) {
        return bwm_sql_fail(pl->pl_err, q->s_pos, "the query selects no aggregate");
    }
    return 0;
}

static json_t *avro_type_json(bwm_type_t t, const char *logical)
{
    const char *name = t == BWM_T_BOOL     ? "boolean"
                       : t == BWM_T_LONG   ? "long"
                       : t == BWM_T_DOUBLE ? "double"
                                           : "string";

    if (logical && t == BWM_T_LONG) {
        return json_pack("{ssss}", "type", name, "logicalType", logical);
    }
    return json_string(name);
}

static json_t *field_json(const char *name, bwm_type_t t, const char *logical, int nullable)
{
    json_t *f = json_object();

    json_object_set_new(f, "name", json_string(name));
    if (nullable) {
        json_object_set_new(f, "type", json_pack("[so]", "null", avro_type_json(t, logical)));
        json_object_set_new(f, "default", json_null());
    } else {
        json_object_set_new(f, "type", avro_type_json(t, logical));
    }
    return f;
}

/* Keys, window bounds, columns, version. */
static char *output_schema(const bwm_plan_t *p)
{
    json_t *doc = json_object(), *fields = json_array();
    size_t i;
    char *text;

    json_object_set_new(doc, "type", json_string("record"));
    json_object_set_new(doc, "name", json_string(p->p_name));
    json_object_set_new(doc, "namespace", json_string(p->p_namespace));
    for (i = 0; i < p->p_nkeys; i++) {
        json_array_append_new(fields, field_json(p->p_keys[i].pk_name, p->p_keys[i].pk_type,
                                                 p->p_keys[i].pk_logical, 0));
    }
    if (p->p_window.w_kind != BWM_WINDOW_NONE) {
        json_array_append_new(fields,
                              field_json("window_start", BWM_T_LONG, "timestamp-millis", 0));
        json_array_append_new(fields, field_json("window_end", BWM_T_LONG, "timestamp-millis", 0));
    }
    for (i = 0; i < p->p_ncols; i++) {
        json_array_append_new(fields,
                              field_json(p->p_cols[i].pc_name, p->p_cols[i].pc_type,
                                         p->p_cols[i].pc_logical, p->p_cols[i].pc_nullable));
    }
    json_array_append_new(fields, field_json("version", BWM_T_LONG, NULL, 0));
    json_object_set_new(doc, "fields", fields);
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

static int plan_query(planner_t *pl, const bwm_stream_info_t *si)
{
    static const char *const query_props[] = {"topic", "namespace", NULL};
    const bwm_stmt_t *q = pl->pl_query;
    bwm_plan_t *p = pl->pl_plan;
    bwm_expr_scope_t row = {row_column, NULL, NULL, pl};
    bwm_expr_scope_t result = {result_column, add_agg, match_key, pl};
    const char *topic, *ns;

    if (check_props(q, query_props, q->s_table ? "a table" : "a stream", pl->pl_err)) {
        return -1;
    }
    topic = prop_string(q, "topic", NULL);
    ns = prop_string(q, "namespace", NULL);
    p->p_name = strdup(q->s_name.i_name);
    p->p_input_stream = strdup(si->si_name);
    p->p_input_topic = strdup(si->si_topic);
    p->p_output_topic = strdup(topic ? topic : q->s_name.i_name);
    p->p_namespace = strdup(ns ? ns : "bwm.results");
    if (!p->p_name || !p->p_input_stream || !p->p_input_topic || !p->p_output_topic ||
        !p->p_namespace) {
        return bwm_sql_fail(pl->pl_err, q->s_pos, "out of memory");
    }
    if (!bwm_avro_name_ok(p->p_name)) {
        return bwm_sql_fail(pl->pl_err, q->s_name.i_pos,
                            "'%s' cannot name the result record: use letters, digits and _",
                            p->p_name);
    }
    p->p_stateless = !q->s_table;
    p->p_emit = q->s_emit == BWM_EMIT_DEFAULT ? BWM_EMIT_CHANGES : q->s_emit;
    if (p->p_stateless) {
        if (q->s_ngroup || q->s_window.w_kind != BWM_WINDOW_NONE || q->s_having) {
            return bwm_sql_fail(
                pl->pl_err, q->s_pos,
                "CREATE STREAM ... AS SELECT filters and projects; for GROUP BY, WINDOW "
                "or HAVING use CREATE TABLE ... AS SELECT");
        }
        if (q->s_emit == BWM_EMIT_FINAL) {
            return bwm_sql_fail(pl->pl_err, q->s_emit_pos, "EMIT FINAL needs a windowed table");
        }
    } else {
        if (q->s_ngroup == 0) {
            return bwm_sql_fail(
                pl->pl_err, q->s_pos,
                "CREATE TABLE ... AS SELECT aggregates: add GROUP BY (or use CREATE "
                "STREAM ... AS SELECT to filter and project)");
        }
        if (p->p_emit == BWM_EMIT_FINAL && q->s_window.w_kind == BWM_WINDOW_NONE) {
            return bwm_sql_fail(pl->pl_err, q->s_emit_pos,
                                "EMIT FINAL needs a WINDOW: without one, no result is ever final");
        }
    }
    if (plan_time(pl, si) || plan_window(pl, si)) {
        return -1;
    }
    if (q->s_where) {
        if (bwm_expr_compile(q->s_where, &row, &p->p_where, pl->pl_err)) {
            return -1;
        }
        if (bwm_expr_type(p->p_where) != BWM_T_BOOL && bwm_expr_type(p->p_where) != BWM_T_NULL) {
            return bwm_sql_fail(pl->pl_err, q->s_where->a_pos,
                                "WHERE needs a BOOLEAN condition, got %s",
                                bwm_type_name(bwm_expr_type(p->p_where)));
        }
    }
    if (!p->p_stateless && (plan_keys(pl) || name_keys(pl))) {
        return -1;
    }
    if (plan_items(pl)) {
        return -1;
    }
    if (q->s_having) {
        if (bwm_expr_compile(q->s_having, &result, &p->p_having, pl->pl_err)) {
            return -1;
        }
        if (bwm_expr_type(p->p_having) != BWM_T_BOOL && bwm_expr_type(p->p_having) != BWM_T_NULL) {
            return bwm_sql_fail(pl->pl_err, q->s_having->a_pos,
                                "HAVING needs a BOOLEAN condition, got %s",
                                bwm_type_name(bwm_expr_type(p->p_having)));
        }
    }
    p->p_output_schema = output_schema(p);
    return p->p_output_schema ? 0 : bwm_sql_fail(pl->pl_err, q->s_pos, "out of memory");
}

bwm_plan_t *bwm_plan_new(const bwm_script_t *sc, const bwm_schema_t *input, bwm_sql_error_t *err)
{
    bwm_stream_info_t si;
    planner_t pl;
    size_t i;

    memset(&pl, 0, sizeof(pl));
    pl.pl_input = input;
    pl.pl_err = err;
    if (bwm_plan_stream(sc, &si, err)) {
        return NULL;
    }
    for (i = 0; i < sc->sc_n; i++) {
        if (sc->sc_stmts[i].s_kind == BWM_STMT_QUERY) {
            pl.pl_query = &sc->sc_stmts[i];
        } else if (strcmp(sc->sc_stmts[i].s_name.i_name, si.si_name) == 0) {
            pl.pl_stream = &sc->sc_stmts[i];
        }
    }
    pl.pl_plan = calloc(1, sizeof(bwm_plan_t));
    if (!pl.pl_plan) {
        bwm_sql_fail(err, pl.pl_query->s_pos, "out of memory");
        return NULL;
    }
    if (plan_query(&pl, &si)) {
        bwm_plan_destroy(pl.pl_plan);
        return NULL;
    }
    return pl.pl_plan;
}

void bwm_plan_describe(const bwm_plan_t *p, bwm_buf_t *b)
{
    char line[1024];
    size_t i;

    snprintf(line, sizeof(line), "%s %s: %s (%s) -> %s\n", p->p_stateless ? "stream" : "table",
             p->p_name, p->p_input_stream, p->p_input_topic, p->p_output_topic);
    bwm_buf_put_str(b, line);
    snprintf(line, sizeof(line), "  reads     %zu field(s):", p->p_nslots);
    bwm_buf_put_str(b, line);
    for (i = 0; i < p->p_nslots; i++) {
        snprintf(line, sizeof(line), " %s %s%s", p->p_slots[i].ss_name,
                 bwm_type_name(p->p_slots[i].ss_type), p->p_slots[i].ss_nullable ? "?" : "");
        bwm_buf_put_str(b, line);
    }
    snprintf(line, sizeof(line), "\n  time      %s\n",
             p->p_time_slot >= 0 ? p->p_slots[p->p_time_slot].ss_name : "the Kafka timestamp");
    bwm_buf_put_str(b, line);
    bwm_buf_put_str(b, p->p_where ? "  filter    WHERE clause\n" : "");
    for (i = 0; i < p->p_nkeys; i++) {
        snprintf(line, sizeof(line), "  key       %s = %s (%s)\n", p->p_keys[i].pk_name,
                 p->p_keys[i].pk_sql, bwm_type_name(p->p_keys[i].pk_type));
        bwm_buf_put_str(b, line);
    }
    switch (p->p_window.w_kind) {
        case BWM_WINDOW_TUMBLING:
            snprintf(line, sizeof(line),
                     "  window    TUMBLING size %" PRId64 " ms, grace %" PRId64 " ms\n",
                     p->p_window.w_size, p->p_window.w_grace);
            break;
        case BWM_WINDOW_HOPPING:
            snprintf(line, sizeof(line),
                     "  window    HOPPING size %" PRId64 " ms, advance %" PRId64
                     " ms, grace %" PRId64 " ms\n",
                     p->p_window.w_size, p->p_window.w_advance, p->p_window.w_grace);
            break;
        case BWM_WINDOW_SESSION:
            snprintf(line, sizeof(line),
                     "  window    SESSION gap %" PRId64 " ms, grace %" PRId64 " ms\n",
                     p->p_window.w_gap, p->p_window.w_grace);
            break;
        default:
            line[0] = '\0';
            break;
    }
    bwm_buf_put_str(b, line);
    for (i = 0; i < p->p_naggs; i++) {
        snprintf(line, sizeof(line), "  aggregate %s -> %s, %zu state bytes\n", p->p_aggs[i].pa_sql,
                 bwm_type_name(p->p_aggs[i].pa_result_type), p->p_aggs[i].pa_ops->ao_state_size);
        bwm_buf_put_str(b, line);
    }
    bwm_buf_put_str(b, p->p_having ? "  having    HAVING clause\n" : "");
    for (i = 0; i < p->p_ncols; i++) {
        snprintf(line, sizeof(line), "  column    %s %s%s\n", p->p_cols[i].pc_name,
                 bwm_type_name(p->p_cols[i].pc_type),
                 p->p_cols[i].pc_nullable ? " (nullable)" : "");
        bwm_buf_put_str(b, line);
    }
    if (!p->p_stateless) {
        snprintf(line, sizeof(line), "  emit      %s\n",
                 p->p_emit == BWM_EMIT_FINAL ? "FINAL (once per window, when it closes)"
                                             : "CHANGES (per batch, one result per key)");
        bwm_buf_put_str(b, line);
    }
}
