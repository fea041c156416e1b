/*
 * avro_schema.c: parsing Avro schema JSON into bwm's model: names and
 * namespaces, references to named types (a record may refer to itself),
 * logical types (ignored, as the spec says, when invalid), defaults and
 * aliases.
 */
#include "avro.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of schema JSON accepted. */
#define SCHEMA_MAX_DEPTH 200

struct bwm_avro_schema {
    json_t *s_doc;
    bwm_avro_node_t **s_nodes; /* every node, for freeing */
    size_t s_nnodes;
    size_t s_cap;
    bwm_avro_node_t *s_root;
};

typedef struct parser {
    bwm_avro_schema_t *p_schema;
    char *p_errstr;
    size_t p_errstr_size;
    int p_failed;
} parser_t;

const bwm_avro_limits_t bwm_avro_default_limits = {64, 1 << 20, 1000000};

static void fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(parser_t *p, const char *fmt, ...)
{
    va_list ap;

    if (p->p_failed) {
        return;
    }
    p->p_failed = 1;
    if (p->p_errstr && p->p_errstr_size) {
        va_start(ap, fmt);
        vsnprintf(p->p_errstr, p->p_errstr_size, fmt, ap);
        va_end(ap);
    }
}

const char *bwm_avro_type_name(bwm_avro_type_t t)
{
    static const char *const names[] = {"null",   "boolean", "int",    "long",   "float",
                                        "double", "bytes",   "string", "record", "enum",
                                        "array",  "map",     "union",  "fixed"};

    return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void node_free(bwm_avro_node_t *n)
{
    size_t i, j;

    free(n->an_name);
    for (i = 0; i < n->an_naliases; i++) {
        free(n->an_aliases[i]);
    }
    free(n->an_aliases);
    for (i = 0; i < n->an_nfields; i++) {
        free(n->an_fields[i].af_name);
        for (j = 0; j < n->an_fields[i].af_naliases; j++) {
            free(n->an_fields[i].af_aliases[j]);
        }
        free(n->an_fields[i].af_aliases);
        json_decref(n->an_fields[i].af_default);
    }
    free(n->an_fields);
    for (i = 0; i < n->an_nsymbols; i++) {
        free(n->an_symbols[i]);
    }
    free(n->an_symbols);
    free(n->an_branches);
    free(n);
}

void bwm_avro_schema_destroy(bwm_avro_schema_t *s)
{
    size_t i;

    if (!s) {
        return;
    }
    for (i = 0; i < s->s_nnodes; i++) {
        node_free(s->s_nodes[i]);
    }
    free(s->s_nodes);
    json_decref(s->s_doc);
    free(s);
}

const bwm_avro_node_t *bwm_avro_schema_root(const bwm_avro_schema_t *s)
{
    return s->s_root;
}

static bwm_avro_node_t *node_new(parser_t *p, bwm_avro_type_t t)
{
    bwm_avro_schema_t *s = p->p_schema;
    bwm_avro_node_t *n;

    if (s->s_nnodes == s->s_cap) {
        size_t cap = s->s_cap ? s->s_cap * 2 : 32;
        bwm_avro_node_t **nn = realloc(s->s_nodes, cap * sizeof(*nn));

        if (!nn) {
            fail(p, "out of memory");
            return NULL;
        }
        s->s_nodes = nn;
        s->s_cap = cap;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        fail(p, "out of memory");
        return NULL;
    }
    n->an_type = t;
    n->an_enum_default = -1;
    s->s_nodes[s->s_nnodes++] = n;
    return n;
}

static int primitive(const char *name, bwm_avro_type_t *t)
{
    static const struct {
        const char *n;
        bwm_avro_type_t t;
    } prims[] = {{"null", BWM_AVRO_NULL},   {"boolean", BWM_AVRO_BOOLEAN},
                 {"int", BWM_AVRO_INT},     {"long", BWM_AVRO_LONG},
                 {"float", BWM_AVRO_FLOAT}, {"double", BWM_AVRO_DOUBLE},
                 {"bytes", BWM_AVRO_BYTES}, {"string", BWM_AVRO_STRING}};
    size_t i;

    for (i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
        if (strcmp(name, prims[i].n) == 0) {
            *t = prims[i].t;
            return 1;
        }
    }
    return 0;
}

/* A JSON string without NUL: "\u0000" is allowed in defaults, but never in a name. */
static int is_text(const json_t *j)
{
    return json_is_string(j) && strlen(json_string_value(j)) == json_string_length(j);
}

int bwm_avro_name_ok(const char *s)
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

/*
 * Every dot-separated part of a full name is a valid name, and the name is
 * not a primitive type's (which, like Java's parser, is checked on the full name).
 */
static int valid_full_name(const char *full)
{
    bwm_avro_type_t t;
    const char *p;
    int start = 1;

    if (primitive(full, &t)) {
        return 0;
    }
    for (p = full;; p++) {
        if (*p == '.' || !*p) {
            if (start) {
                return 0; /* an empty part */
            }
            if (!*p) {
                return 1;
            }
            start = 1;
        } else if (start ? !(isalpha((unsigned char)*p) || *p == '_')
                         : !(isalnum((unsigned char)*p) || *p == '_')) {
            return 0;
        } else {
            start = 0;
        }
    }
}

/* The full name of name in namespace ns: name itself when it holds a dot. */
static char *full_name(const char *name, const char *ns)
{
    char *out;

    if (strchr(name, '.') || !ns || !ns[0]) {
        return strdup(name);
    }
    out = malloc(strlen(ns) + strlen(name) + 2);
    if (out) {
        sprintf(out, "%s.%s", ns, name);
    }
    return out;
}

/* The namespace part of a full name ("" when none), in a new string. */
static char *namespace_of(const char *full)
{
    const char *dot = strrchr(full, '.');

    return dot ? strndup(full, (size_t)(dot - full)) : strdup("");
}

static bwm_avro_node_t *find_named(const parser_t *p, const char *full)
{
    size_t i;

    for (i = 0; i < p->p_schema->s_nnodes; i++) {
        bwm_avro_node_t *n = p->p_schema->s_nodes[i];

        if (n->an_name && strcmp(n->an_name, full) == 0) {
            return n;
        }
    }
    return NULL;
}

static bwm_avro_node_t *parse(parser_t *p, json_t *j, const char *ns, const char *where, int depth);

/* Names a named type: full name, uniqueness, aliases. Returns its namespace for children. */
static char *name_node(parser_t *p, bwm_avro_node_t *n, json_t *j, const char *ns,
                       const char *where)
{
    json_t *jn = json_object_get(j, "name"), *jns = json_object_get(j, "namespace");
    json_t *jal = json_object_get(j, "aliases"), *a;
    const char *name, *space = ns;
    size_t i;
    char *child_ns;

    if (!is_text(jn)) {
        fail(p, "%s: a %s needs a \"name\"", where, bwm_avro_type_name(n->an_type));
        return NULL;
    }
    name = json_string_value(jn);
    if (is_text(jns)) {
        space = json_string_value(jns);
    }
    n->an_name = full_name(name, space);
    if (!n->an_name) {
        fail(p, "out of memory");
        return NULL;
    }
    if (!valid_full_name(n->an_name)) {
        fail(p, "%s: '%s' is not a valid Avro name", where, n->an_name);
        return NULL;
    }
    /* The node is not findable yet: look for an earlier one with the name. */
    for (i = 0; i < p->p_schema->s_nnodes; i++) {
        bwm_avro_node_t *o = p->p_schema->s_nodes[i];

        if (o != n && o->an_name && strcmp(o->an_name, n->an_name) == 0) {
            fail(p, "%s: the name %s is defined twice", where, n->an_name);
            return NULL;
        }
    }
    child_ns = namespace_of(n->an_name);
    if (json_is_array(jal)) {
        n->an_aliases = calloc(json_array_size(jal) + 1, sizeof(char *));
        json_array_foreach(jal, i, a)
        {
            if (json_is_string(a) && n->an_aliases) {
                n->an_aliases[n->an_naliases++] = full_name(json_string_value(a), child_ns);
            }
        }
    }
    return child_ns;
}

static void parse_logical(parser_t *p, bwm_avro_node_t *n, json_t *j)
{
    json_t *lt = json_object_get(j, "logicalType");
    const char *name;

    (void)p;
    if (!json_is_string(lt)) {
        return;
    }
    name = json_string_value(lt);
    if (strcmp(name, "decimal") == 0 &&
        (n->an_type == BWM_AVRO_BYTES || n->an_type == BWM_AVRO_FIXED)) {
        json_t *pr = json_object_get(j, "precision"), *sc = json_object_get(j, "scale");
        json_int_t precision = json_is_integer(pr) ? json_integer_value(pr) : 0;
        json_int_t scale = json_is_integer(sc) ? json_integer_value(sc) : 0;

        /* An invalid decimal falls back to its underlying type, as the spec says. */
        if (precision < 1 || scale < 0 || scale > precision || precision > 1000) {
            return;
        }
        if (n->an_type == BWM_AVRO_FIXED) {
            /* the most digits a fixed of this size can hold: floor(log10(2^(8n-1) - 1)) */
            double digits = n->an_size ? (8.0 * (double)n->an_size - 1) * 0.30102999566398119 : 0;

            if ((double)precision > digits) {
                return;
            }
        }
        n->an_logical = BWM_LOGICAL_DECIMAL;
        n->an_precision = (int)precision;
        n->an_scale = (int)scale;
    } else if (strcmp(name, "uuid") == 0 && n->an_type == BWM_AVRO_STRING) {
        n->an_logical = BWM_LOGICAL_UUID;
    } else if (strcmp(name, "date") == 0 && n->an_type == BWM_AVRO_INT) {
        n->an_logical = BWM_LOGICAL_DATE;
    } else if (strcmp(name, "time-millis") == 0 && n->an_type == BWM_AVRO_INT) {
        n->an_logical = BWM_LOGICAL_TIME_MILLIS;
    } else if (strcmp(name, "time-micros") == 0 && n->an_type == BWM_AVRO_LONG) {
        n->an_logical = BWM_LOGICAL_TIME_MICROS;
    } else if (strcmp(name, "timestamp-millis") == 0 && n->an_type == BWM_AVRO_LONG) {
        n->an_logical = BWM_LOGICAL_TIMESTAMP_MILLIS;
    } else if (strcmp(name, "timestamp-micros") == 0 && n->an_type == BWM_AVRO_LONG) {
        n->an_logical = BWM_LOGICAL_TIMESTAMP_MICROS;
    } else if (strcmp(name, "local-timestamp-millis") == 0 && n->an_type == BWM_AVRO_LONG) {
        n->an_logical = BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS;
    } else if (strcmp(name, "local-timestamp-micros") == 0 && n->an_type == BWM_AVRO_LONG) {
        n->an_logical = BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS;
    }
}

static bwm_avro_node_t *parse_record(parser_t *p, json_t *j, const char *ns, const char *where,
                                     int depth)
{
    bwm_avro_node_t *n = node_new(p, BWM_AVRO_RECORD);
    json_t *fields = json_object_get(j, "fields"), *f;
    char *child_ns, fwhere[512];
    size_t i, k;

    if (!n) {
        return NULL;
    }
    child_ns = name_node(p, n, j, ns, where);
    if (!child_ns) {
        return NULL;
    }
    if (!json_is_array(fields)) {
        fail(p, "%s: record %s needs \"fields\" (an array)", where, n->an_name);
        free(child_ns);
        return NULL;
    }
    n->an_fields = calloc(json_array_size(fields) + 1, sizeof(*n->an_fields));
    if (!n->an_fields) {
        fail(p, "out of memory");
        free(child_ns);
        return NULL;
    }
    json_array_foreach(fields, i, f)
    {
        bwm_avro_field_t *af = &n->an_fields[n->an_nfields];
        json_t *fn = json_object_get(f, "name"), *ft = json_object_get(f, "type");
        json_t *fal = json_object_get(f, "aliases"), *a;
        size_t ai;

        if (!is_text(fn) || !bwm_avro_name_ok(json_string_value(fn))) {
            fail(p, "%s: field %zu of record %s needs a valid \"name\"", where, i + 1, n->an_name);
            break;
        }
        for (k = 0; k < n->an_nfields; k++) {
            if (strcmp(n->an_fields[k].af_name, json_string_value(fn)) == 0) {
                fail(p, "%s: record %s has two fields named '%s'", where, n->an_name,
                     json_string_value(fn));
                break;
            }
        }
        if (p->p_failed) {
            break;
        }
        af->af_name = strdup(json_string_value(fn));
        n->an_nfields++;
        if (!af->af_name) {
            fail(p, "out of memory");
            break;
        }
        if (!ft) {
            fail(p, "%s: field '%s' of %s has no \"type\"", where, af->af_name, n->an_name);
            break;
        }
        snprintf(fwhere, sizeof(fwhere), "field '%s' of %s", af->af_name, n->an_name);
        af->af_type = parse(p, ft, child_ns, fwhere, depth + 1);
        if (!af->af_type) {
            break;
        }
        af->af_default = json_object_get(f, "default");
        if (af->af_default) {
            json_incref(af->af_default);
        }
        if (json_is_array(fal)) {
            af->af_aliases = calloc(json_array_size(fal) + 1, sizeof(char *));
            json_array_foreach(fal, ai, a)
            {
                if (json_is_string(a) && af->af_aliases) {
                    af->af_aliases[af->af_naliases++] = strdup(json_string_value(a));
                }
            }
        }
    }
    free(child_ns);
    return p->p_failed ? NULL : n;
}

static bwm_avro_node_t *parse_enum(parser_t *p, json_t *j, const char *ns, const char *where)
{
    bwm_avro_node_t *n = node_new(p, BWM_AVRO_ENUM);
    json_t *syms = json_object_get(j, "symbols"), *sym, *dflt = json_object_get(j, "default");
    char *child_ns;
    size_t i, k;

    if (!n || !(child_ns = name_node(p, n, j, ns, where))) {
        return NULL;
    }
    free(child_ns);
    if (!json_is_array(syms) || json_array_size(syms) == 0) {
        fail(p, "%s: enum %s needs \"symbols\" (a non-empty array)", where, n->an_name);
        return NULL;
    }
    n->an_symbols = calloc(json_array_size(syms), sizeof(char *));
    if (!n->an_symbols) {
        fail(p, "out of memory");
        return NULL;
    }
    json_array_foreach(syms, i, sym)
    {
        if (!is_text(sym) || !bwm_avro_name_ok(json_string_value(sym))) {
            fail(p, "%s: enum %s has an invalid symbol", where, n->an_name);
            return NULL;
        }
        for (k = 0; k < n->an_nsymbols; k++) {
            if (strcmp(n->an_symbols[k], json_string_value(sym)) == 0) {
                fail(p, "%s: enum %s has the symbol %s twice", where, n->an_name,
                     json_string_value(sym));
                return NULL;
            }
        }
        n->an_symbols[n->an_nsymbols] = strdup(json_string_value(sym));
        if (!n->an_symbols[n->an_nsymbols++]) {
            fail(p, "out of memory");
            return NULL;
        }
    }
    if (dflt) {
        for (k = 0; is_text(dflt) && k < n->an_nsymbols; k++) {
            if (strcmp(n->an_symbols[k], json_string_value(dflt)) == 0) {
                n->an_enum_default = (int)k;
            }
        }
        if (n->an_enum_default < 0) {
            fail(p, "%s: the default of enum %s is not one of its symbols", where, n->an_name);
            return NULL;
        }
    }
    return n;
}

static bwm_avro_node_t *parse_object(parser_t *p, json_t *j, const char *ns, const char *where,
                                     int depth)
{
    json_t *jt = json_object_get(j, "type");
    const char *t;
    bwm_avro_type_t prim;
    bwm_avro_node_t *n;

    if (!jt) {
        fail(p, "%s: a schema object needs \"type\"", where);
        return NULL;
    }
    if (!is_text(jt)) {
        /* {"type": {...}} or {"type": [...]}: the type is the nested schema. */
        return parse(p, jt, ns, where, depth + 1);
    }
    t = json_string_value(jt);
    if (primitive(t, &prim)) {
        n = node_new(p, prim);
        if (n) {
            parse_logical(p, n, j);
        }
        return n;
    }
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0) {
        return parse_record(p, j, ns, where, depth);
    }
    if (strcmp(t, "enum") == 0) {
        return parse_enum(p, j, ns, where);
    }
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        json_t *inner = json_object_get(j, t[0] == 'a' ? "items" : "values");

        n = node_new(p, t[0] == 'a' ? BWM_AVRO_ARRAY : BWM_AVRO_MAP);
        if (!n) {
            return NULL;
        }
        if (!inner) {
            fail(p, "%s: %s needs \"%s\"", where, t, t[0] == 'a' ? "items" : "values");
            return NULL;
        }
        *(t[0] == 'a' ? &n->an_items : &n->an_values) = parse(p, inner, ns, where, depth + 1);
        return p->p_failed ? NULL : n;
    }
    if (strcmp(t, "fixed") == 0) {
        json_t *size = json_object_get(j, "size");
        char *child_ns;

        n = node_new(p, BWM_AVRO_FIXED);
        if (!n || !(child_ns = name_node(p, n, j, ns, where))) {
            return NULL;
        }
        free(child_ns);
        if (!json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > (1 << 24)) {
            fail(p, "%s: fixed %s needs a \"size\" from 0 to 16777216", where, n->an_name);
            return NULL;
        }
        n->an_size = (size_t)json_integer_value(size);
        parse_logical(p, n, j);
        return n;
    }
    /* {"type": "SomeName"}: a reference. */
    return parse(p, jt, ns, where, depth + 1);
}

static bwm_avro_node_t *parse(parser_t *p, json_t *j, const char *ns, const char *where, int depth)
{
    bwm_avro_type_t prim;
    bwm_avro_node_t *n;
    size_t i, k;
    json_t *b;

    if (p->p_failed) {
        return NULL;
    }
    if (depth > SCHEMA_MAX_DEPTH) {
        fail(p, "%s: the schema is nested deeper than %d levels", where, SCHEMA_MAX_DEPTH);
        return NULL;
    }
    if (is_text(j)) {
        const char *t = json_string_value(j);
        char *full;

        if (primitive(t, &prim)) {
            return node_new(p, prim);
        }
        full = full_name(t, ns);
        n = full ? find_named(p, full) : NULL;
        if (!n && full && strcmp(full, t) != 0) {
            n = find_named(p, t); /* a name in the null namespace */
        }
        free(full);
        if (!n) {
            fail(p, "%s: unknown type '%s'", where, t);
        }
        return n;
    }
    if (json_is_object(j)) {
        return parse_object(p, j, ns, where, depth);
    }
    if (json_is_array(j)) {
        n = node_new(p, BWM_AVRO_UNION);
        if (!n) {
            return NULL;
        }
        n->an_branches = calloc(json_array_size(j) + 1, sizeof(*n->an_branches));
        if (!n->an_branches) {
            fail(p, "out of memory");
            return NULL;
        }
        json_array_foreach(j, i, b)
        {
            bwm_avro_node_t *br = parse(p, b, ns, where, depth + 1);

            if (!br) {
                return NULL;
            }
            if (br->an_type == BWM_AVRO_UNION) {
                fail(p, "%s: a union cannot hold a union", where);
                return NULL;
            }
            for (k = 0; k < n->an_nbranches; k++) {
                const bwm_avro_node_t *o = n->an_branches[k];

                if (o->an_type == br->an_type &&
                    (!o->an_name || !br->an_name || strcmp(o->an_name, br->an_name) == 0)) {
                    fail(p, "%s: a union holds %s twice", where,
                         br->an_name ? br->an_name : bwm_avro_type_name(br->an_type));
                    return NULL;
                }
            }
            n->an_branches[n->an_nbranches++] = br;
        }
        return n;
    }
    fail(p, "%s: a schema must be a string, an object or an array", where);
    return NULL;
}

bwm_avro_schema_t *bwm_avro_schema_parse(const char *json, size_t len, char *errstr,
                                         size_t errstr_size)
{
    parser_t p = {calloc(1, sizeof(bwm_avro_schema_t)), errstr, errstr_size, 0};
    json_error_t jerr;

    if (!p.p_schema) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    p.p_schema->s_doc = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!p.p_schema->s_doc) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "schema is not JSON: %s (line %d)",
                    jerr.text, jerr.line);
        bwm_avro_schema_destroy(p.p_schema);
        return NULL;
    }
    p.p_schema->s_root = parse(&p, p.p_schema->s_doc, "", "schema", 0);
    if (!p.p_schema->s_root) {
        bwm_avro_schema_destroy(p.p_schema);
        return NULL;
    }
    return p.p_schema;
}

const bwm_avro_field_t *bwm_avro_field(const bwm_avro_node_t *rec, const char *name, int aliases)
{
    size_t i, k;

    for (i = 0; i < rec->an_nfields; i++) {
        if (strcmp(rec->an_fields[i].af_name, name) == 0) {
            return &rec->an_fields[i];
        }
    }
    for (i = 0; aliases && i < rec->an_nfields; i++) {
        for (k = 0; k < rec->an_fields[i].af_naliases; k++) {
            if (strcmp(rec->an_fields[i].af_aliases[k], name) == 0) {
                return &rec->an_fields[i];
            }
        }
    }
    return NULL;
}
