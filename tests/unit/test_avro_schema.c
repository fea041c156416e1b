/*
 * test_avro_schema.c: the Avro schema parser (core/avro_schema.c): every
 * type, names, namespaces and references (recursion included), aliases,
 * logical types (invalid ones fall back to their base type), defaults, and
 * the messages of schemas it refuses.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/avro.h"

/* Schemas are written with single quotes for readability. */
static bwm_avro_schema_t *parse_q(const char *text, char *err, size_t err_size)
{
    char *json = strdup(text), *c;
    bwm_avro_schema_t *s;

    cr_assert_not_null(json);
    for (c = json; *c; c++) {
        if (*c == '\'') {
            *c = '"';
        }
    }
    err[0] = '\0';
    s = bwm_avro_schema_parse(json, strlen(json), err, err_size);
    free(json);
    return s;
}

static bwm_avro_schema_t *ok(const char *text)
{
    char err[256];
    bwm_avro_schema_t *s = parse_q(text, err, sizeof(err));

    cr_assert_not_null(s, "%s: %s", text, err);
    return s;
}

Test(avro_schema, primitives)
{
    static const struct {
        const char *json;
        bwm_avro_type_t type;
    } rows[] = {
        {"'null'", BWM_AVRO_NULL},
        {"'boolean'", BWM_AVRO_BOOLEAN},
        {"'int'", BWM_AVRO_INT},
        {"'long'", BWM_AVRO_LONG},
        {"'float'", BWM_AVRO_FLOAT},
        {"'double'", BWM_AVRO_DOUBLE},
        {"'bytes'", BWM_AVRO_BYTES},
        {"'string'", BWM_AVRO_STRING},
        {"{'type':'long'}", BWM_AVRO_LONG},
        {"{'type':{'type':'string'}}", BWM_AVRO_STRING},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bwm_avro_schema_t *s = ok(rows[i].json);
        const bwm_avro_node_t *n = bwm_avro_schema_root(s);

        cr_assert_eq(n->an_type, rows[i].type, "%s", rows[i].json);
        cr_assert_eq(n->an_logical, BWM_LOGICAL_NONE);
        cr_assert_null(n->an_name);
        bwm_avro_schema_destroy(s);
    }
    cr_assert_str_eq(bwm_avro_type_name(BWM_AVRO_FIXED), "fixed");
    cr_assert_str_eq(bwm_avro_type_name(BWM_AVRO_UNION), "union");
    cr_assert_str_eq(bwm_avro_type_name((bwm_avro_type_t)99), "?");
}

Test(avro_schema, complex_types)
{
    bwm_avro_schema_t *s =
        ok("{'type':'record','name':'R','namespace':'a.b','doc':'x','fields':["
           "{'name':'e','type':{'type':'enum','name':'E','symbols':['X','Y','Z'],'default':'Y'}},"
           "{'name':'f','type':{'type':'fixed','name':'F','size':16}},"
           "{'name':'a','type':{'type':'array','items':'int'}},"
           "{'name':'m','type':{'type':'map','values':['null','F']}},"
           "{'name':'u','type':['null','string','E'],'default':null},"
           "{'name':'d','type':'int','default':7,'aliases':['dd','old_d']}]}");
    const bwm_avro_node_t *r = bwm_avro_schema_root(s), *e, *f, *a, *m, *u;

    cr_assert_eq(r->an_type, BWM_AVRO_RECORD);
    cr_assert_str_eq(r->an_name, "a.b.R");
    cr_assert_eq(r->an_nfields, 6);
    e = r->an_fields[0].af_type;
    cr_assert_eq(e->an_type, BWM_AVRO_ENUM);
    cr_assert_str_eq(e->an_name, "a.b.E");
    cr_assert_eq(e->an_nsymbols, 3);
    cr_assert_str_eq(e->an_symbols[2], "Z");
    cr_assert_eq(e->an_enum_default, 1);
    f = r->an_fields[1].af_type;
    cr_assert_eq(f->an_type, BWM_AVRO_FIXED);
    cr_assert_str_eq(f->an_name, "a.b.F");
    cr_assert_eq(f->an_size, 16);
    a = r->an_fields[2].af_type;
    cr_assert_eq(a->an_type, BWM_AVRO_ARRAY);
    cr_assert_eq(a->an_items->an_type, BWM_AVRO_INT);
    m = r->an_fields[3].af_type;
    cr_assert_eq(m->an_type, BWM_AVRO_MAP);
    cr_assert_eq(m->an_values->an_type, BWM_AVRO_UNION);
    cr_assert_eq(m->an_values->an_branches[1], f, "a reference is the defined node itself");
    u = r->an_fields[4].af_type;
    cr_assert_eq(u->an_nbranches, 3);
    cr_assert_eq(u->an_branches[2], e);
    cr_assert(json_is_null(r->an_fields[4].af_default));
    cr_assert_null(r->an_fields[0].af_default, "no default is not a null default");
    cr_assert_eq(json_integer_value(r->an_fields[5].af_default), 7);
    cr_assert_eq(r->an_fields[5].af_naliases, 2);
    cr_assert_eq(bwm_avro_field(r, "old_d", 1), &r->an_fields[5]);
    cr_assert_null(bwm_avro_field(r, "old_d", 0));
    cr_assert_eq(bwm_avro_field(r, "m", 0), &r->an_fields[3]);
    cr_assert_null(bwm_avro_field(r, "nope", 1));
    bwm_avro_schema_destroy(s);
}

Test(avro_schema, recursion_and_references)
{
    bwm_avro_schema_t *s = ok("{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
                              "{'name':'next','type':['null','Node']},"
                              "{'name':'kids','type':{'type':'array','items':'Node'}}]}");
    const bwm_avro_node_t *r = bwm_avro_schema_root(s);

    cr_assert_eq(r->an_fields[1].af_type->an_branches[1], r);
    cr_assert_eq(r->an_fields[2].af_type->an_items, r);
    bwm_avro_schema_destroy(s);
}

Test(avro_schema, namespaces)
{
    /* inherited, explicit, dotted names, and references by short and by full name */
    bwm_avro_schema_t *s = ok(
        "{'type':'record','name':'Outer','namespace':'one','fields':["
        "{'name':'a','type':{'type':'record','name':'In','fields':[]}},"
        "{'name':'b','type':{'type':'record','name':'Other','namespace':'two','fields':["
        "  {'name':'x','type':'one.In'},"
        "  {'name':'y','type':{'type':'enum','name':'Here','symbols':['A']}}]}},"
        "{'name':'c','type':{'type':'fixed','name':'three.Dotted','namespace':'ignored','size':1}},"
        "{'name':'d','type':'In'},"
        "{'name':'e','type':'two.Here'},"
        "{'name':'f','type':{'type':'record','name':'Top','namespace':'','fields':[]}},"
        "{'name':'g','type':'Top'}]}");
    const bwm_avro_node_t *r = bwm_avro_schema_root(s), *in, *other;

    cr_assert_str_eq(r->an_name, "one.Outer");
    in = r->an_fields[0].af_type;
    cr_assert_str_eq(in->an_name, "one.In");
    other = r->an_fields[1].af_type;
    cr_assert_str_eq(other->an_name, "two.Other");
    cr_assert_eq(other->an_fields[0].af_type, in);
    cr_assert_str_eq(other->an_fields[1].af_type->an_name, "two.Here");
    cr_assert_str_eq(r->an_fields[2].af_type->an_name, "three.Dotted");
    cr_assert_eq(r->an_fields[3].af_type, in);
    cr_assert_eq(r->an_fields[4].af_type, other->an_fields[1].af_type);
    cr_assert_str_eq(r->an_fields[5].af_type->an_name, "Top");
    cr_assert_eq(r->an_fields[6].af_type, r->an_fields[5].af_type,
                 "a name in the null namespace is found from inside another");
    bwm_avro_schema_destroy(s);
}

Test(avro_schema, aliases)
{
    bwm_avro_schema_t *s =
        ok("{'type':'record','name':'R','namespace':'n','aliases':['Old','x.Older'],'fields':["
           "{'name':'e','type':{'type':'enum','name':'E','aliases':['F'],'symbols':['A']}}]}");
    const bwm_avro_node_t *r = bwm_avro_schema_root(s);

    cr_assert_eq(r->an_naliases, 2);
    cr_assert_str_eq(r->an_aliases[0], "n.Old");
    cr_assert_str_eq(r->an_aliases[1], "x.Older");
    cr_assert_str_eq(r->an_fields[0].af_type->an_aliases[0], "n.F");
    bwm_avro_schema_destroy(s);
}

Test(avro_schema, logical_types)
{
    static const struct {
        const char *json;
        bwm_avro_logical_t logical;
        int precision, scale;
    } rows[] = {
        {"{'type':'bytes','logicalType':'decimal','precision':10,'scale':2}", BWM_LOGICAL_DECIMAL,
         10, 2},
        {"{'type':'bytes','logicalType':'decimal','precision':5}", BWM_LOGICAL_DECIMAL, 5, 0},
        {"{'type':'fixed','name':'D','size':16,'logicalType':'decimal','precision':38,'scale':38}",
         BWM_LOGICAL_DECIMAL, 38, 38},
        {"{'type':'string','logicalType':'uuid'}", BWM_LOGICAL_UUID, 0, 0},
        {"{'type':'int','logicalType':'date'}", BWM_LOGICAL_DATE, 0, 0},
        {"{'type':'int','logicalType':'time-millis'}", BWM_LOGICAL_TIME_MILLIS, 0, 0},
        {"{'type':'long','logicalType':'time-micros'}", BWM_LOGICAL_TIME_MICROS, 0, 0},
        {"{'type':'long','logicalType':'timestamp-millis'}", BWM_LOGICAL_TIMESTAMP_MILLIS, 0, 0},
        {"{'type':'long','logicalType':'timestamp-micros'}", BWM_LOGICAL_TIMESTAMP_MICROS, 0, 0},
        {"{'type':'long','logicalType':'local-timestamp-millis'}",
         BWM_LOGICAL_LOCAL_TIMESTAMP_MILLIS, 0, 0},
        {"{'type':'long','logicalType':'local-timestamp-micros'}",
         BWM_LOGICAL_LOCAL_TIMESTAMP_MICROS, 0, 0},
        /* invalid ones fall back to the base type */
        {"{'type':'bytes','logicalType':'decimal','precision':2,'scale':3}", BWM_LOGICAL_NONE, 0,
         0},
        {"{'type':'bytes','logicalType':'decimal','precision':0}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'bytes','logicalType':'decimal','scale':2}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'bytes','logicalType':'decimal','precision':'9'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'bytes','logicalType':'decimal','precision':5,'scale':-1}", BWM_LOGICAL_NONE, 0,
         0},
        {"{'type':'fixed','name':'D','size':16,'logicalType':'decimal','precision':39}",
         BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'fixed','name':'D','size':1,'logicalType':'decimal','precision':3}",
         BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'string','logicalType':'decimal','precision':3}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'bytes','logicalType':'uuid'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'long','logicalType':'date'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'long','logicalType':'time-millis'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'int','logicalType':'time-micros'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'int','logicalType':'timestamp-millis'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'long','logicalType':'timestamp-nanos'}", BWM_LOGICAL_NONE, 0, 0},
        {"{'type':'long','logicalType':7}", BWM_LOGICAL_NONE, 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bwm_avro_schema_t *s = ok(rows[i].json);
        const bwm_avro_node_t *n = bwm_avro_schema_root(s);

        cr_assert_eq(n->an_logical, rows[i].logical, "%s: %d", rows[i].json, n->an_logical);
        if (rows[i].logical == BWM_LOGICAL_DECIMAL) {
            cr_assert_eq(n->an_precision, rows[i].precision, "%s", rows[i].json);
            cr_assert_eq(n->an_scale, rows[i].scale, "%s", rows[i].json);
        }
        bwm_avro_schema_destroy(s);
    }
}

Test(avro_schema, refusals_name_the_problem)
{
    static const struct {
        const char *json;
        const char *message;
    } rows[] = {
        {"{'type':'record','name':'Telemetry','namespace':'bwm.samples','fields':["
         "{'name':'speed','type':'dubble'}]}",
         "field 'speed' of bwm.samples.Telemetry: unknown type 'dubble'"},
        {"'Nope'", "schema: unknown type 'Nope'"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'},"
         "{'name':'a','type':'long'}]}",
         "schema: record R has two fields named 'a'"},
        {"['null',['int','string']]", "schema: a union cannot hold a union"},
        {"['null','int','null']", "schema: a union holds null twice"},
        {"[{'type':'map','values':'int'},{'type':'map','values':'long'}]",
         "schema: a union holds map twice"},
        {"[{'type':'fixed','name':'F','size':1},'F']", "schema: a union holds F twice"},
        {"{'type':'record','name':'1R','fields':[]}", "schema: '1R' is not a valid Avro name"},
        {"{'type':'record','name':'a..R','fields':[]}", "schema: 'a..R' is not a valid Avro name"},
        {"{'type':'record','name':'R','namespace':'x.9y','fields':[]}",
         "schema: 'x.9y.R' is not a valid Avro name"},
        {"{'type':'enum','name':'int','symbols':['A']}", "schema: 'int' is not a valid Avro name"},
        {"{'type':'fixed','name':'my-fixed','size':1}",
         "schema: 'my-fixed' is not a valid Avro name"},
        {"{'type':'record','name':'R','fields':[{'name':'a-b','type':'int'}]}",
         "schema: field 1 of record R needs a valid \"name\""},
        {"{'type':'record','name':'R','fields':[{'name':'a'}]}",
         "schema: field 'a' of R has no \"type\""},
        {"{'type':'record','fields':[]}", "schema: a record needs a \"name\""},
        {"{'type':'record','name':'R'}", "schema: record R needs \"fields\" (an array)"},
        {"{'type':'record','name':'R','fields':[{'name':'r','type':{'type':'record','name':'R',"
         "'fields':[]}}]}",
         "field 'r' of R: the name R is defined twice"},
        {"{'type':'enum','name':'E','symbols':['A','A']}", "schema: enum E has the symbol A twice"},
        {"{'type':'enum','name':'E','symbols':['A','B-']}", "schema: enum E has an invalid symbol"},
        {"{'type':'enum','name':'E','symbols':[]}",
         "schema: enum E needs \"symbols\" (a non-empty array)"},
        {"{'type':'enum','name':'E','symbols':['A'],'default':'B'}",
         "schema: the default of enum E is not one of its symbols"},
        {"{'type':'fixed','name':'F','size':-1}",
         "schema: fixed F needs a \"size\" from 0 to 16777216"},
        {"{'type':'fixed','name':'F'}", "schema: fixed F needs a \"size\" from 0 to 16777216"},
        {"{'type':'array'}", "schema: array needs \"items\""},
        {"{'type':'map','values':'what'}", "schema: unknown type 'what'"},
        {"{'name':'x'}", "schema: a schema object needs \"type\""},
        {"42", "schema: a schema must be a string, an object or an array"},
        {"{'type':", "schema is not JSON"},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char err[256];
        bwm_avro_schema_t *s = parse_q(rows[i].json, err, sizeof(err));

        cr_assert_null(s, "%s was accepted", rows[i].json);
        cr_assert(strstr(err, rows[i].message), "%s:\n  got      %s\n  expected %s", rows[i].json,
                  err, rows[i].message);
    }
}

Test(avro_schema, nesting_is_bounded)
{
    char *json = malloc(40 * 300), *p = json;
    char err[256];
    int i;

    /* 300 nested arrays: refused with a message, not a stack overflow */
    for (i = 0; i < 300; i++) {
        p += sprintf(p, "{\"type\":\"array\",\"items\":");
    }
    p += sprintf(p, "\"int\"");
    for (i = 0; i < 300; i++) {
        *p++ = '}';
    }
    *p = '\0';
    cr_assert_null(bwm_avro_schema_parse(json, strlen(json), err, sizeof(err)));
    cr_assert(strstr(err, "nested deeper than"), "%s", err);
    free(json);
}

Test(avro_schema, nul_is_allowed_in_defaults_but_not_in_names)
{
    /* "\u0000" is the usual default of a bytes decimal */
    bwm_avro_schema_t *s = ok("{'type':'record','name':'R','fields':[{'name':'price','type':"
                              "{'type':'bytes','logicalType':'decimal','precision':4,'scale':2},"
                              "'default':'\\u0000'}]}");
    const json_t *d = bwm_avro_schema_root(s)->an_fields[0].af_default;
    char err[256];

    cr_assert(json_is_string(d));
    cr_assert_eq(json_string_length(d), 1);
    cr_assert_eq(json_string_value(d)[0], '\0');
    bwm_avro_schema_destroy(s);
    /* a name cut short at a NUL would be another name */
    cr_assert_null(parse_q("{'type':'record','name':'R\\u0000x','fields':[]}", err, sizeof(err)));
    cr_assert_null(parse_q("{'type':'record','name':'R','fields':[{'name':'a\\u0000b','type':"
                           "'int'}]}",
                           err, sizeof(err)));
    cr_assert_null(parse_q("'int\\u0000x'", err, sizeof(err)));
    cr_assert_null(parse_q("{'type':'enum','name':'E','symbols':['A\\u0000']}", err, sizeof(err)));
    cr_assert_null(parse_q("{'type':'enum','name':'E','symbols':['A'],'default':'A\\u0000'}", err,
                           sizeof(err)));
}
