/*
 * plan.c: resolving a job against its input schema, and deriving the Avro
 * schema of its results.
 */
#include "plan.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bwm_plan_destroy(bwm_plan_t *p)
{
    size_t i;

    if (!p) {
        return;
    }
    for (i = 0; i < p->p_nslots; i++) {
        free((char *)p->p_slots[i].ss_name);
    }
    for (i = 0; i < p->p_naggs; i++) {
        free(p->p_aggs[i].pa_name);
    }
    free(p->p_slots);
    free(p->p_aggs);
    free(p->p_name);
    free(p->p_input_topic);
    free(p->p_output_topic);
    free(p->p_key_name);
    free(p->p_output_schema);
    free(p);
}

static int avro_name_ok(const char *s)
{
    size_t i;

    if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_')) {
        return 0;
    }
    for (i = 1; s[i]; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) {
            return 0;
        }
    }
    return 1;
}

/* Returns the slot reading field name, adding it when new; -1 with a message when impossible. */
static int plan_slot(bwm_plan_t *p, const bwm_schema_t *input, const char *name, char *errstr,
                     size_t errstr_size)
{
    const bwm_field_info_t *fi;
    bwm_slot_spec_t *n;
    size_t i;

    for (i = 0; i < p->p_nslots; i++) {
        if (strcmp(p->p_slots[i].ss_name, name) == 0) {
            return (int)i;
        }
    }
    fi = bwm_schema_field(input, name);
    if (!fi) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "unknown field '%s' in input schema %s",
                    name, bwm_schema_name(input));
        return -1;
    }
    if (fi->fi_type == BWM_T_NULL) {
        bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                    "field '%s' is not a scalar (boolean, number, string or enum)", name);
        return -1;
    }
    n = realloc(p->p_slots, (p->p_nslots + 1) * sizeof(*n));
    if (!n) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return -1;
    }
    p->p_slots = n;
    n[p->p_nslots].ss_name = strdup(name);
    if (!n[p->p_nslots].ss_name) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return -1;
    }
    n[p->p_nslots].ss_type = fi->fi_type;
    n[p->p_nslots].ss_nullable = fi->fi_null_branch >= 0;
    n[p->p_nslots].ss_has_default = fi->fi_has_default;
    return (int)p->p_nslots++;
}

/* Skips spaces; returns the new position. */
static const char *skip_ws(const char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    return s;
}

/* Reads an identifier into out; returns the position after it, or NULL when there is none. */
static const char *read_ident(const char *s, char *out, size_t out_size)
{
    size_t n = 0;

    s = skip_ws(s);
    if (!(isalpha((unsigned char)*s) || *s == '_')) {
        return NULL;
    }
    while ((isalnum((unsigned char)*s) || *s == '_') && n + 1 < out_size) {
        out[n++] = *s++;
    }
    out[n] = '\0';
    return s;
}

/* Parses one "FUNC(arg) [AS name]" at *sp into p; advances *sp past it. */
static bwm_err_t parse_agg(bwm_plan_t *p, const bwm_schema_t *input, const char **sp, char *errstr,
                           size_t errstr_size)
{
    const char *s = *sp, *start = skip_ws(*sp);
    char func[64], arg[200], name[300], kw[8];
    bwm_plan_agg_t *a;
    const bwm_agg_ops_t *ops;
    int star = 0;

    s = read_ident(s, func, sizeof(func));
    if (!s || *(s = skip_ws(s)) != '(') {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                           "expected an aggregate like SUM(field) at '%s'", start);
    }
    ops = bwm_agg_find(func);
    if (!ops) {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "unknown aggregate '%s' (known: %s)",
                           func, bwm_agg_names());
    }
    s = skip_ws(s + 1);
    if (*s == '*') {
        star = 1;
        s++;
    } else if (!(s = read_ident(s, arg, sizeof(arg)))) {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                           "expected a field name or '*' in %s( at '%s'", func, start);
    }
    s = skip_ws(s);
    if (*s != ')') {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "expected ')' after %s( at '%s'",
                           func, start);
    }
    s = skip_ws(s + 1);
    if (star && !ops->ao_star) {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size, "%s takes a field, not '*'",
                           ops->ao_name);
    }
    if (star) {
        snprintf(name, sizeof(name), "%s", "count");
    } else {
        snprintf(name, sizeof(name), "%s_%s", func, arg);
        for (char *c = name; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
    }
    {
        const char *after = read_ident(s, kw, sizeof(kw));

        if (after && strcasecmp(kw, "AS") == 0) {
            s = read_ident(after, name, sizeof(name));
            if (!s) {
                return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                                   "expected a name after AS at '%s'", start);
            }
            s = skip_ws(s);
        }
    }
    if (*s != ',' && *s != '\0') {
        return bwm_err_set(BWM_ERR_PARSE, errstr, errstr_size,
                           "expected ',' or the end after an aggregate at '%s'", s);
    }
    a = realloc(p->p_aggs, (p->p_naggs + 1) * sizeof(*a));
    if (!a) {
        return BWM_ERR_NOMEM;
    }
    p->p_aggs = a;
    a = &p->p_aggs[p->p_naggs];
    memset(a, 0, sizeof(*a));
    a->pa_ops = ops;
    a->pa_slot = -1;
    a->pa_arg_type = BWM_T_NULL;
    if (!star) {
        a->pa_slot = plan_slot(p, input, arg, errstr, errstr_size);
        if (a->pa_slot < 0) {
            return BWM_ERR_SCHEMA;
        }
        a->pa_arg_type = p->p_slots[a->pa_slot].ss_type;
    }
    a->pa_result_type = ops->ao_result_type(a->pa_arg_type);
    if (a->pa_result_type == BWM_T_NULL) {
        return bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                           "%s(%s): %s needs a numeric field, '%s' is %s", ops->ao_name, arg,
                           ops->ao_name, arg, bwm_type_name(a->pa_arg_type));
    }
    a->pa_name = strdup(name);
    if (!a->pa_name) {
        return BWM_ERR_NOMEM;
    }
    a->pa_offset = p->p_state_size;
    p->p_state_size += (ops->ao_state_size + 7) & ~(size_t)7;
    p->p_naggs++;
    *sp = *s == ',' ? s + 1 : s;
    return BWM_OK;
}

static json_t *avro_type_json(bwm_type_t t)
{
    switch (t) {
        case BWM_T_BOOL:
            return json_string("boolean");
        case BWM_T_LONG:
            return json_string("long");
        case BWM_T_DOUBLE:
            return json_string("double");
        default:
            return json_string("string");
    }
}

static json_t *field_json(const char *name, bwm_type_t t, int nullable)
{
    json_t *f = json_object();

    json_object_set_new(f, "name", json_string(name));
    if (nullable) {
        json_object_set_new(f, "type", json_pack("[so]", "null", avro_type_json(t)));
        json_object_set_new(f, "default", json_null());
    } else {
        json_object_set_new(f, "type", avro_type_json(t));
    }
    return f;
}

/* Derives the result schema: key field, one field per aggregate, version. */
static char *output_schema(const bwm_plan_t *p)
{
    json_t *doc = json_object(), *fields = json_array();
    size_t i;
    char *text;

    json_object_set_new(doc, "type", json_string("record"));
    json_object_set_new(doc, "name", json_string(p->p_name));
    json_object_set_new(doc, "namespace", json_string("bwm.results"));
    json_array_append_new(fields, field_json(p->p_key_name, p->p_key_type, 0));
    for (i = 0; i < p->p_naggs; i++) {
        json_array_append_new(fields, field_json(p->p_aggs[i].pa_name, p->p_aggs[i].pa_result_type,
                                                 p->p_aggs[i].pa_ops->ao_result_nullable));
    }
    json_array_append_new(fields, field_json("version", BWM_T_LONG, 0));
    json_object_set_new(doc, "fields", fields);
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

/* Result field names must be valid Avro names and unique. */
static bwm_err_t check_names(const bwm_plan_t *p, char *errstr, size_t errstr_size)
{
    size_t i, j;

    if (!avro_name_ok(p->p_name)) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                           "table name '%s' is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)",
                           p->p_name);
    }
    for (i = 0; i < p->p_naggs; i++) {
        const char *n = p->p_aggs[i].pa_name;

        if (strcmp(n, p->p_key_name) == 0 || strcmp(n, "version") == 0) {
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                               "result field '%s' is used twice (key, version and aggregate "
                               "names must differ)",
                               n);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(n, p->p_aggs[j].pa_name) == 0) {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "result field '%s' is used twice", n);
            }
        }
    }
    return BWM_OK;
}

bwm_plan_t *bwm_plan_new(const bwm_plan_spec_t *spec, const bwm_schema_t *input, char *errstr,
                         size_t errstr_size)
{
    bwm_plan_t *p = calloc(1, sizeof(*p));
    const char *s;

    if (!p) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->p_name = strdup(spec->ps_name);
    p->p_input_topic = strdup(spec->ps_input_topic);
    p->p_output_topic = strdup(spec->ps_output_topic);
    p->p_key_name = strdup(spec->ps_group_by);
    if (!p->p_name || !p->p_input_topic || !p->p_output_topic || !p->p_key_name) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    p->p_key_slot = plan_slot(p, input, spec->ps_group_by, errstr, errstr_size);
    if (p->p_key_slot < 0) {
        goto err;
    }
    p->p_key_type = p->p_slots[p->p_key_slot].ss_type;
    if (p->p_key_type == BWM_T_DOUBLE) {
        bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                    "GROUP BY %s: a floating-point field cannot be a key", spec->ps_group_by);
        goto err;
    }
    p->p_time_slot = -1;
    if (spec->ps_time_field && spec->ps_time_field[0]) {
        p->p_time_slot = plan_slot(p, input, spec->ps_time_field, errstr, errstr_size);
        if (p->p_time_slot < 0) {
            goto err;
        }
        if (p->p_slots[p->p_time_slot].ss_type != BWM_T_LONG) {
            bwm_err_set(BWM_ERR_TYPE, errstr, errstr_size,
                        "event time field '%s' must be a long (timestamp-millis), not %s",
                        spec->ps_time_field, bwm_type_name(p->p_slots[p->p_time_slot].ss_type));
            goto err;
        }
    }
    s = spec->ps_aggregates;
    while (*skip_ws(s)) {
        if (parse_agg(p, input, &s, errstr, errstr_size) != BWM_OK) {
            goto err;
        }
    }
    if (p->p_naggs == 0 || p->p_naggs > BWM_PLAN_MAX_AGGS) {
        bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                    "the job computes %zu aggregates (allowed: 1 .. %d)", p->p_naggs,
                    BWM_PLAN_MAX_AGGS);
        goto err;
    }
    if (check_names(p, errstr, errstr_size) != BWM_OK) {
        goto err;
    }
    p->p_output_schema = output_schema(p);
    if (!p->p_output_schema) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    return p;
err:
    bwm_plan_destroy(p);
    return NULL;
}

void bwm_plan_describe(const bwm_plan_t *p, bwm_buf_t *b)
{
    char line[512];
    size_t i;

    snprintf(line, sizeof(line), "table %s: %s -> %s\n  key      %s (%s)\n", p->p_name,
             p->p_input_topic, p->p_output_topic, p->p_key_name, bwm_type_name(p->p_key_type));
    bwm_buf_put_str(b, line);
    snprintf(line, sizeof(line), "  time     %s\n",
             p->p_time_slot >= 0 ? p->p_slots[p->p_time_slot].ss_name : "(Kafka timestamp)");
    bwm_buf_put_str(b, line);
    for (i = 0; i < p->p_naggs; i++) {
        const bwm_plan_agg_t *a = &p->p_aggs[i];

        snprintf(line, sizeof(line), "  result   %s = %s(%s) -> %s\n", a->pa_name,
                 a->pa_ops->ao_name, a->pa_slot >= 0 ? p->p_slots[a->pa_slot].ss_name : "*",
                 bwm_type_name(a->pa_result_type));
        bwm_buf_put_str(b, line);
    }
    snprintf(line, sizeof(line), "  reads    %zu field(s) per record, state %zu bytes per key\n",
             p->p_nslots, p->p_state_size);
    bwm_buf_put_str(b, line);
}
