/*
 * decoder.c: a decoder compiled from (writer schema, reader schema, slots).
 *
 * Compiling builds a tree of actions that mirrors the writer's records: one
 * action per writer field, SKIP for the fields no slot reads, LEAF for a
 * field a slot reads (with the conversion the reader's type asks for),
 * RECORD to descend into a nested record, UNION with one action per writer
 * branch. Slots whose field the writer lacks get the reader's default once,
 * at compile time. Decoding runs the tree over the bytes with a bounds-checked
 * reader: every length, count and depth is checked against the limits, so a
 * hostile record is an error on that record and never an over-read.
 */
#include "decoder.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum act_kind {
    ACT_SKIP,
    ACT_LEAF,
    ACT_RECORD,
    ACT_UNION,
} act_kind_t;

/*
 * What decoding does for one action, fixed once compiling is done
 * (set_ops()): the kind, the writer's type and the slot's type folded into
 * one op (run_acts() jumps to its code), so that the hot loop reads no
 * schema node.
 */
typedef enum op {
    OP_SKIP_LONG,
    OP_SKIP_INT,   /* range checked */
    OP_SKIP_FIXED, /* float, double, fixed: a_size bytes */
    OP_SKIP_BYTES, /* string, bytes */
    OP_SKIP_BOOL,
    OP_SKIP_ENUM,
    OP_SKIP_UNION,
    OP_SKIP_OTHER, /* record, array, map: by skip() */
    OP_NULL,       /* nulls the slots below it: a null union branch */
    OP_BOOL,
    OP_INT,
    OP_LONG,
    OP_FLOAT,
    OP_DOUBLE,
    OP_STRING,
    OP_DECIMAL_BYTES,
    OP_DECIMAL_FIXED,
    OP_ENUM,
    OP_RECORD,
    OP_UNION,
    OP_NOT_SCALAR,
} op_t;

typedef struct prog prog_t;
typedef struct act act_t;

struct act {
    act_kind_t a_kind;
    op_t a_op;
    size_t a_size;                 /* OP_SKIP_FIXED, OP_DECIMAL_FIXED: bytes */
    const bwm_avro_node_t *a_node; /* the writer's type */
    const char *a_name;            /* writer field name, for messages */
    int a_slot;                    /* LEAF */
    bwm_type_t a_type;             /* LEAF: the slot's type */
    const char **a_enum;           /* LEAF of an enum: writer index -> reader symbol or NULL */
    prog_t *a_sub;                 /* RECORD */
    act_t *a_branches;             /* UNION: one per writer branch */
    size_t a_nbranches;
    int *a_slots; /* slots at or below this action: nulled when it is null */
    size_t a_nslots;
    char *a_error; /* a union branch the reader cannot take */
};

struct prog {
    act_t *p_acts; /* one per field of the writer record */
    size_t p_nacts;
};

struct bwm_decoder {
    prog_t *d_root;
    bwm_value_t *d_defaults; /* per slot: the value before decoding (default or NULL) */
    size_t *d_preset;        /* the slots set to their default before decoding */
    size_t d_npreset;
    char **d_strings; /* owned default strings and enum tables */
    size_t d_nstrings;
    size_t d_nslots;
    bwm_avro_limits_t d_limits;
};

/* ---- compiling ---- */

static void act_free(act_t *a);

static void prog_free(prog_t *p)
{
    size_t i;

    if (!p) {
        return;
    }
    for (i = 0; i < p->p_nacts; i++) {
        act_free(&p->p_acts[i]);
    }
    free(p->p_acts);
    free(p);
}

static void act_free(act_t *a)
{
    size_t i;

    prog_free(a->a_sub);
    for (i = 0; i < a->a_nbranches; i++) {
        act_free(&a->a_branches[i]);
    }
    free(a->a_branches);
    free(a->a_slots);
    free((void *)a->a_enum);
    free(a->a_error);
}

void bwm_decoder_destroy(bwm_decoder_t *d)
{
    size_t i;

    if (!d) {
        return;
    }
    prog_free(d->d_root);
    for (i = 0; i < d->d_nstrings; i++) {
        free(d->d_strings[i]);
    }
    free(d->d_strings);
    free(d->d_defaults);
    free(d->d_preset);
    free(d);
}

static prog_t *prog_for(const bwm_avro_node_t *rec)
{
    prog_t *p = calloc(1, sizeof(*p));
    size_t i;

    if (!p) {
        return NULL;
    }
    p->p_acts = calloc(rec->an_nfields ? rec->an_nfields : 1, sizeof(*p->p_acts));
    if (!p->p_acts) {
        free(p);
        return NULL;
    }
    p->p_nacts = rec->an_nfields;
    for (i = 0; i < rec->an_nfields; i++) {
        p->p_acts[i].a_kind = ACT_SKIP;
        p->p_acts[i].a_node = rec->an_fields[i].af_type;
        p->p_acts[i].a_name = rec->an_fields[i].af_name;
        p->p_acts[i].a_slot = -1;
    }
    return p;
}

static int add_slot(act_t *a, int slot)
{
    int *n = realloc(a->a_slots, (a->a_nslots + 1) * sizeof(*n));

    if (!n) {
        return -1;
    }
    n[a->a_nslots++] = slot;
    a->a_slots = n;
    return 0;
}

typedef struct compiler {
    bwm_decoder_t *c_dec;
    const bwm_schema_t *c_writer;
    const bwm_slot_spec_t *c_slot;
    char *c_errstr;
    size_t c_errstr_size;
} compiler_t;

static int fail(compiler_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(compiler_t *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->c_errstr, c->c_errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static int keep_string(bwm_decoder_t *d, char *s)
{
    char **n = realloc(d->d_strings, (d->d_nstrings + 1) * sizeof(*n));

    if (!n) {
        free(s);
        return -1;
    }
    n[d->d_nstrings++] = s;
    d->d_strings = n;
    return 0;
}

/*
 * Whether a writer leaf type can be read as the reader's, by Avro's rules
 * (promotions int -> long -> float -> double, string <-> bytes; decimals of
 * the same scale and precision).
 */
static int leaf_compatible(const bwm_avro_node_t *w, const bwm_avro_node_t *r)
{
    if (r->an_logical == BWM_LOGICAL_DECIMAL || w->an_logical == BWM_LOGICAL_DECIMAL) {
        return r->an_logical == w->an_logical && r->an_scale == w->an_scale &&
               r->an_precision == w->an_precision &&
               (w->an_type == BWM_AVRO_BYTES || w->an_type == BWM_AVRO_FIXED);
    }
    switch (r->an_type) {
        case BWM_AVRO_BOOLEAN:
        case BWM_AVRO_INT:
            return w->an_type == r->an_type;
        case BWM_AVRO_LONG:
            return w->an_type == BWM_AVRO_INT || w->an_type == BWM_AVRO_LONG;
        case BWM_AVRO_FLOAT:
            return w->an_type == BWM_AVRO_INT || w->an_type == BWM_AVRO_LONG ||
                   w->an_type == BWM_AVRO_FLOAT;
        case BWM_AVRO_DOUBLE:
            return w->an_type == BWM_AVRO_INT || w->an_type == BWM_AVRO_LONG ||
                   w->an_type == BWM_AVRO_FLOAT || w->an_type == BWM_AVRO_DOUBLE;
        case BWM_AVRO_STRING:
        case BWM_AVRO_BYTES:
            return w->an_type == BWM_AVRO_STRING || w->an_type == BWM_AVRO_BYTES;
        case BWM_AVRO_ENUM:
            return w->an_type == BWM_AVRO_ENUM;
        default:
            return 0;
    }
}

/* The reader's symbol for each writer symbol: same name, else the reader's default. */
static int enum_map(compiler_t *c, act_t *a, const bwm_avro_node_t *w, const bwm_avro_node_t *r)
{
    const char **map = calloc(w->an_nsymbols ? w->an_nsymbols : 1, sizeof(*map));
    size_t i, k;

    if (!map) {
        return fail(c, "out of memory");
    }
    for (i = 0; i < w->an_nsymbols; i++) {
        for (k = 0; k < r->an_nsymbols && !map[i]; k++) {
            if (strcmp(w->an_symbols[i], r->an_symbols[k]) == 0) {
                map[i] = r->an_symbols[k];
            }
        }
        if (!map[i] && r->an_enum_default >= 0) {
            map[i] = r->an_symbols[r->an_enum_default];
        }
    }
    a->a_enum = map;
    return 0;
}

/* The branch of a reader union a writer type resolves to: the first that fits, or NULL. */
static const bwm_avro_node_t *reader_branch(const bwm_avro_node_t *w, const bwm_avro_node_t *r,
                                            int leaf)
{
    size_t i;

    if (r->an_type != BWM_AVRO_UNION) {
        return r;
    }
    /* An exact type or name first, then a promotion, as the spec orders them. */
    for (i = 0; i < r->an_nbranches; i++) {
        const bwm_avro_node_t *b = r->an_branches[i];

        if (b->an_type == w->an_type &&
            (!b->an_name || !w->an_name || strcmp(b->an_name, w->an_name) == 0)) {
            return b;
        }
    }
    for (i = 0; leaf && i < r->an_nbranches; i++) {
        if (leaf_compatible(w, r->an_branches[i])) {
            return r->an_branches[i];
        }
    }
    return NULL;
}

static int attach(compiler_t *c, act_t *a, const bwm_avro_node_t *reader, size_t level, int slot);

/* The writer field of record prog p that the reader field rf reads: by name, then alias. */
static act_t *writer_field(prog_t *p, const bwm_avro_field_t *rf)
{
    size_t i, k;

    for (i = 0; i < p->p_nacts; i++) {
        if (strcmp(p->p_acts[i].a_name, rf->af_name) == 0) {
            return &p->p_acts[i];
        }
    }
    for (i = 0; i < p->p_nacts; i++) {
        for (k = 0; k < rf->af_naliases; k++) {
            if (strcmp(p->p_acts[i].a_name, rf->af_aliases[k]) == 0) {
                return &p->p_acts[i];
            }
        }
    }
    return NULL;
}

static int set_default(compiler_t *c, const json_t *v, int slot);

/* Descends from a writer record program into the reader record rec at level. */
static int descend(compiler_t *c, prog_t *p, const bwm_avro_node_t *rec, size_t level, int slot)
{
    const bwm_slot_spec_t *s = c->c_slot;
    const bwm_avro_field_t *rf = bwm_avro_field(rec, s->ss_path[level], 0);
    act_t *a;

    if (!rf) {
        return fail(c, "the reader has no field '%s'", s->ss_name);
    }
    a = writer_field(p, rf);
    if (!a) {
        /* The writer lacks the field: the reader's default, followed down the path. */
        const json_t *v = rf->af_default;
        size_t l;

        for (l = level + 1; v && l < s->ss_depth; l++) {
            v = json_is_object(v) ? json_object_get(v, s->ss_path[l]) : NULL;
        }
        if (!v) {
            return fail(c,
                        "writer schema %s has no field '%s' and the reader gives no default "
                        "for it",
                        bwm_schema_name(c->c_writer), s->ss_name);
        }
        return set_default(c, v, slot);
    }
    return attach(c, a, rf->af_type, level, slot);
}

static int attach(compiler_t *c, act_t *a, const bwm_avro_node_t *reader, size_t level, int slot)
{
    const bwm_slot_spec_t *s = c->c_slot;
    const bwm_avro_node_t *w = a->a_node, *r;
    int leaf = level + 1 == s->ss_depth;
    size_t i;

    if (add_slot(a, slot)) {
        return fail(c, "out of memory");
    }
    if (w->an_type == BWM_AVRO_UNION) {
        if (a->a_kind == ACT_SKIP) {
            a->a_kind = ACT_UNION;
            a->a_branches = calloc(w->an_nbranches, sizeof(*a->a_branches));
            if (!a->a_branches) {
                return fail(c, "out of memory");
            }
            a->a_nbranches = w->an_nbranches;
            for (i = 0; i < w->an_nbranches; i++) {
                a->a_branches[i].a_kind = ACT_SKIP;
                a->a_branches[i].a_node = w->an_branches[i];
                a->a_branches[i].a_name = a->a_name;
                a->a_branches[i].a_slot = -1;
            }
        }
        for (i = 0; i < a->a_nbranches; i++) {
            act_t *b = &a->a_branches[i];

            if (b->a_node->an_type == BWM_AVRO_NULL) {
                if (add_slot(b, slot)) {
                    return fail(c, "out of memory");
                }
                if (!s->ss_nullable && !b->a_error) {
                    b->a_error = strdup("is null but the reader does not allow null");
                }
                continue;
            }
            if (attach(c, b, reader, level, slot)) {
                /* This branch cannot be read as the reader: an error when a record uses it. */
                if (!b->a_error) {
                    b->a_error = strdup(c->c_errstr);
                }
                c->c_errstr[0] = '\0';
            }
        }
        return 0;
    }
    r = reader_branch(w, reader, leaf);
    if (!r) {
        return fail(c, "field '%s': the writer's %s fits no branch of the reader's union",
                    s->ss_name, w->an_name ? w->an_name : bwm_avro_type_name(w->an_type));
    }
    if (leaf) {
        if (!leaf_compatible(w, r)) {
            return fail(c, "field '%s': the writer's %s cannot be read as the reader's %s",
                        s->ss_name, bwm_avro_type_name(w->an_type), bwm_avro_type_name(r->an_type));
        }
        if (a->a_kind == ACT_LEAF) {
            return fail(c, "field '%s' is read by two slots", s->ss_name);
        }
        a->a_kind = ACT_LEAF;
        a->a_slot = slot;
        a->a_type = s->ss_type;
        return w->an_type == BWM_AVRO_ENUM ? enum_map(c, a, w, r) : 0;
    }
    if (w->an_type != BWM_AVRO_RECORD || r->an_type != BWM_AVRO_RECORD) {
        return fail(c, "field '%s': the writer's %s is not a record", s->ss_name,
                    bwm_avro_type_name(w->an_type));
    }
    if (a->a_kind == ACT_SKIP) {
        a->a_kind = ACT_RECORD;
        a->a_sub = prog_for(w);
        if (!a->a_sub) {
            return fail(c, "out of memory");
        }
    }
    return descend(c, a->a_sub, r, level + 1, slot);
}

/* A slot's value when the writer lacks its field: the reader's default, from JSON. */
static int set_default(compiler_t *c, const json_t *v, int slot)
{
    bwm_value_t *d = &c->c_dec->d_defaults[slot];
    bwm_type_t t = c->c_slot->ss_type;

    if (json_is_null(v)) {
        if (!c->c_slot->ss_nullable) {
            return fail(c, "the reader's default of '%s' is null but the field is not nullable",
                        c->c_slot->ss_name);
        }
        d->v_type = BWM_T_NULL;
    } else if (t == BWM_T_BOOL && json_is_boolean(v)) {
        d->v_type = BWM_T_BOOL;
        d->u.v_bool = json_is_true(v);
    } else if (t == BWM_T_LONG && json_is_integer(v)) {
        d->v_type = BWM_T_LONG;
        d->u.v_long = json_integer_value(v);
    } else if (t == BWM_T_DOUBLE && json_is_number(v)) {
        d->v_type = BWM_T_DOUBLE;
        d->u.v_double = json_number_value(v);
    } else if (t == BWM_T_STRING && json_is_string(v)) {
        char *copy = malloc(json_string_length(v) + 1);

        if (!copy) {
            return fail(c, "out of memory");
        }
        memcpy(copy, json_string_value(v), json_string_length(v) + 1);
        if (keep_string(c->c_dec, copy)) {
            return fail(c, "out of memory");
        }
        d->v_type = BWM_T_STRING;
        d->u.v_str.p = copy;
        d->u.v_str.n = json_string_length(v);
    } else {
        return fail(c, "the reader's default of '%s' is not a %s", c->c_slot->ss_name,
                    bwm_type_name(t));
    }
    return 0;
}

/* How a field no slot reads is skipped; *size for OP_SKIP_FIXED. */
static op_t skip_op(const bwm_avro_node_t *n, size_t *size)
{
    switch (n->an_type) {
        case BWM_AVRO_LONG:
            return OP_SKIP_LONG;
        case BWM_AVRO_INT:
            return OP_SKIP_INT;
        case BWM_AVRO_FLOAT:
            *size = 4;
            return OP_SKIP_FIXED;
        case BWM_AVRO_DOUBLE:
            *size = 8;
            return OP_SKIP_FIXED;
        case BWM_AVRO_FIXED:
            *size = n->an_size;
            return OP_SKIP_FIXED;
        case BWM_AVRO_STRING:
        case BWM_AVRO_BYTES:
            return OP_SKIP_BYTES;
        case BWM_AVRO_BOOLEAN:
            return OP_SKIP_BOOL;
        case BWM_AVRO_ENUM:
            return OP_SKIP_ENUM;
        case BWM_AVRO_UNION:
            return OP_SKIP_UNION;
        case BWM_AVRO_NULL:
            return OP_NULL;
        default:
            return OP_SKIP_OTHER;
    }
}

/*
 * Sets each action's a_op from its kind, writer type and slot type (see
 * op_t), and marks in written the slots every record writes: a leaf reached
 * through records alone, no union. A skipped union gets one action per
 * branch, so that a branch is skipped by its op too. -1 when out of memory.
 */
static int set_ops(prog_t *p, int sure, int *written);

static int set_op(act_t *a, int sure, int *written)
{
    const bwm_avro_node_t *n = a->a_node;
    size_t i;

    switch (a->a_kind) {
        case ACT_RECORD:
            a->a_op = OP_RECORD;
            return set_ops(a->a_sub, sure, written);
        case ACT_UNION:
            a->a_op = OP_UNION;
            for (i = 0; i < a->a_nbranches; i++) {
                if (set_op(&a->a_branches[i], 0, written)) {
                    return -1;
                }
            }
            return 0;
        case ACT_SKIP:
            a->a_op = skip_op(n, &a->a_size);
            if (a->a_op != OP_SKIP_UNION) {
                return 0;
            }
            a->a_branches = calloc(n->an_nbranches ? n->an_nbranches : 1, sizeof(*a->a_branches));
            if (!a->a_branches) {
                return -1;
            }
            a->a_nbranches = n->an_nbranches;
            for (i = 0; i < n->an_nbranches; i++) {
                a->a_branches[i].a_kind = ACT_SKIP;
                a->a_branches[i].a_node = n->an_branches[i];
                a->a_branches[i].a_name = a->a_name;
                a->a_branches[i].a_slot = -1;
                if (set_op(&a->a_branches[i], 0, written)) {
                    return -1;
                }
            }
            return 0;
        case ACT_LEAF:
            break;
    }
    written[a->a_slot] |= sure;
    a->a_size = n->an_size;
    switch (n->an_type) {
        case BWM_AVRO_BOOLEAN:
            a->a_op = OP_BOOL;
            return 0;
        case BWM_AVRO_INT:
            a->a_op = OP_INT;
            return 0;
        case BWM_AVRO_LONG:
            a->a_op = OP_LONG;
            return 0;
        case BWM_AVRO_FLOAT:
            a->a_op = OP_FLOAT;
            return 0;
        case BWM_AVRO_DOUBLE:
            a->a_op = OP_DOUBLE;
            return 0;
        case BWM_AVRO_STRING:
        case BWM_AVRO_BYTES:
            a->a_op = n->an_logical == BWM_LOGICAL_DECIMAL ? OP_DECIMAL_BYTES : OP_STRING;
            return 0;
        case BWM_AVRO_FIXED:
            a->a_op = OP_DECIMAL_FIXED;
            return 0;
        case BWM_AVRO_ENUM:
            a->a_op = OP_ENUM;
            return 0;
        default:
            a->a_op = OP_NOT_SCALAR; /* leaf_compatible() lets none through */
            return 0;
    }
}

static int set_ops(prog_t *p, int sure, int *written)
{
    size_t i;

    for (i = 0; i < p->p_nacts; i++) {
        if (set_op(&p->p_acts[i], sure, written)) {
            return -1;
        }
    }
    return 0;
}

/* The slots not every record writes: they start from their default (d_preset). */
static int find_presets(bwm_decoder_t *d)
{
    int *written = calloc(d->d_nslots ? d->d_nslots : 1, sizeof(*written));
    size_t i;

    if (!written || set_ops(d->d_root, 1, written)) {
        free(written);
        return -1;
    }
    d->d_preset = calloc(d->d_nslots ? d->d_nslots : 1, sizeof(*d->d_preset));
    if (!d->d_preset) {
        free(written);
        return -1;
    }
    for (i = 0; i < d->d_nslots; i++) {
        if (!written[i]) {
            d->d_preset[d->d_npreset++] = i;
        }
    }
    free(written);
    return 0;
}

bwm_decoder_t *bwm_decoder_new(const bwm_schema_t *writer, const bwm_schema_t *reader,
                               const bwm_slot_spec_t *slots, size_t nslots,
                               const bwm_avro_limits_t *limits, char *errstr, size_t errstr_size)
{
    bwm_decoder_t *d = calloc(1, sizeof(*d));
    compiler_t c = {d, writer, NULL, errstr, errstr_size};
    size_t i;

    if (!d) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
    }
    d->d_limits = *limits;
    d->d_nslots = nslots;
    d->d_defaults = calloc(nslots ? nslots : 1, sizeof(*d->d_defaults));
    d->d_root = prog_for(bwm_schema_root(writer));
    if (!d->d_defaults || !d->d_root) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < nslots; i++) {
        c.c_slot = &slots[i];
        if (slots[i].ss_depth == 0 || slots[i].ss_depth > BWM_SLOT_MAX_DEPTH) {
            fail(&c, "slot %s has a bad path", slots[i].ss_name);
            goto err;
        }
        if (descend(&c, d->d_root, bwm_schema_root(reader), 0, (int)i)) {
            goto err;
        }
    }
    if (find_presets(d)) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    return d;
err:
    bwm_decoder_destroy(d);
    return NULL;
}

/* ---- decoding ---- */

typedef struct rd {
    const uint8_t *r_p;
    const uint8_t *r_end;
    const uint8_t *r_start;
    const bwm_avro_limits_t *r_lim;
    size_t r_items;
    bwm_err_t r_err;
    char *r_errstr;
    size_t r_errstr_size;
} rd_t;

static int rd_fail(rd_t *r, bwm_err_t err, const char *field, const char *why)
{
    if (!r->r_err) {
        r->r_err = err;
        snprintf(r->r_errstr, r->r_errstr_size, "field '%s': %s at byte %zu of %zu", field, why,
                 (size_t)(r->r_p - r->r_start), (size_t)(r->r_end - r->r_start));
    }
    return -1;
}

static int64_t zigzag(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

/* A varint with every check: near the end of the record, or of 10 bytes. */
static int read_long_checked(rd_t *r, const char *field, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;

    for (;;) {
        uint8_t b;

        if (r->r_p >= r->r_end) {
            return rd_fail(r, BWM_ERR_DECODE, field, "truncated integer");
        }
        b = *r->r_p++;
        if (shift == 63 && (b & 0x7e)) {
            return rd_fail(r, BWM_ERR_DECODE, field, "integer longer than 64 bits");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
        shift += 7;
        if (shift > 63) {
            return rd_fail(r, BWM_ERR_DECODE, field, "integer longer than 10 bytes");
        }
    }
    *out = zigzag(v);
    return 0;
}

/* The little-endian word at p, and the clear high bits of its bytes: the first ends a varint. */
static inline uint64_t word_stops(const uint8_t *p, uint64_t *w)
{
    memcpy(w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    *w = __builtin_bswap64(*w);
#endif
    return ~*w & UINT64_C(0x8080808080808080);
}

/*
 * A zigzag varint. A one-byte varint is taken at once. With 8 bytes left,
 * one of up to 8 bytes is read from a little-endian word: the first clear
 * high bit ends it, and its 7-bit groups are packed together in three steps
 * (pairs into 14 bits, those into 28, those into 56). Neither can run past
 * the end or overflow; anything else goes the checked way.
 */
static inline int read_long(rd_t *r, const char *field, int64_t *out)
{
    const uint8_t *p = r->r_p;
    uint64_t w, stops;
    unsigned n;

    if (p < r->r_end && !(*p & 0x80)) {
        r->r_p = p + 1;
        *out = zigzag(*p);
        return 0;
    }
    if (r->r_end - p >= 8) {
        stops = word_stops(p, &w);
        if (stops) {
            n = (unsigned)__builtin_ctzll(stops) / 8 + 1;
            if (n < 8) {
                w &= (UINT64_C(1) << (8 * n)) - 1;
            }
            w &= UINT64_C(0x7f7f7f7f7f7f7f7f);
            w = (w & UINT64_C(0x007f007f007f007f)) | (w & UINT64_C(0x7f007f007f007f00)) >> 1;
            w = (w & UINT64_C(0x00003fff00003fff)) | (w & UINT64_C(0x3fff00003fff0000)) >> 2;
            w = (w & UINT64_C(0x000000000fffffff)) | (w & UINT64_C(0x0fffffff00000000)) >> 4;
            r->r_p = p + n;
            *out = zigzag(w);
            return 0;
        }
    }
    return read_long_checked(r, field, out);
}

/*
 * Skips a zigzag varint: with 8 bytes left, one of up to 8 bytes ends at the
 * first clear high bit of a little-endian word, and its value is never
 * needed; anything else is read the checked way.
 */
static inline int skip_long(rd_t *r, const char *field)
{
    const uint8_t *p = r->r_p;
    uint64_t w, stops;
    int64_t v;

    if (r->r_end - p >= 8) {
        stops = word_stops(p, &w);
        if (stops) {
            r->r_p = p + (unsigned)__builtin_ctzll(stops) / 8 + 1;
            return 0;
        }
    }
    return read_long_checked(r, field, &v);
}

/*
 * The readers below are inlined into every caller, as gcc does not always
 * choose to: a call per field cost decoding a tenth more instructions.
 */
#define READER static inline __attribute__((always_inline))

/* Reads a length and checks it against the bytes left and the limit. */
READER int read_len(rd_t *r, const char *field, size_t *out)
{
    int64_t n;

    if (read_long(r, field, &n)) {
        return -1;
    }
    if (n < 0 || n > r->r_end - r->r_p) {
        return rd_fail(r, BWM_ERR_DECODE, field, "length beyond the end of the record");
    }
    if ((uint64_t)n > r->r_lim->al_max_bytes) {
        return rd_fail(r, BWM_ERR_LIMIT, field, "string or bytes longer than the limit");
    }
    *out = (size_t)n;
    return 0;
}

static int take(rd_t *r, const char *field, size_t n, const uint8_t **p)
{
    if (n > (size_t)(r->r_end - r->r_p)) {
        return rd_fail(r, BWM_ERR_DECODE, field, "value beyond the end of the record");
    }
    *p = r->r_p;
    r->r_p += n;
    return 0;
}

/* A string's or bytes' length and bytes: read_len() has checked that they are there. */
READER int read_bytes(rd_t *r, const char *field, const uint8_t **p, size_t *len)
{
    if (read_len(r, field, len)) {
        return -1;
    }
    *p = r->r_p;
    r->r_p += *len;
    return 0;
}

/* A boolean: one byte, 0 or 1. */
READER int read_bool(rd_t *r, const char *field, int *out)
{
    const uint8_t *p;

    if (take(r, field, 1, &p)) {
        return -1;
    }
    if (*p > 1) {
        return rd_fail(r, BWM_ERR_DECODE, field, "bad boolean");
    }
    *out = *p;
    return 0;
}

/* An int: a varint within 32 bits. */
READER int read_int(rd_t *r, const char *field, int64_t *out)
{
    if (read_long(r, field, out)) {
        return -1;
    }
    if (*out < INT32_MIN || *out > INT32_MAX) {
        return rd_fail(r, BWM_ERR_DECODE, field, "int out of range");
    }
    return 0;
}

/* An enum index or union branch below n; why names it when it is not. */
READER int read_index(rd_t *r, const char *field, size_t n, const char *why, int64_t *out)
{
    if (read_long(r, field, out)) {
        return -1;
    }
    if (*out < 0 || (uint64_t)*out >= n) {
        return rd_fail(r, BWM_ERR_DECODE, field, why);
    }
    return 0;
}

#define ENUM_RANGE  "enum index out of range"
#define UNION_RANGE "union branch out of range"

static int skip(rd_t *r, const bwm_avro_node_t *n, const char *field, size_t depth);

/* Array and map blocks: counts until zero, a negative count followed by a byte size. */
static int skip_blocks(rd_t *r, const bwm_avro_node_t *item, int map, const char *field,
                       size_t depth)
{
    for (;;) {
        int64_t count, bytes, i;
        const uint8_t *p;
        size_t klen;

        if (read_long(r, field, &count)) {
            return -1;
        }
        if (count == 0) {
            return 0;
        }
        if (count < 0) {
            if (count == INT64_MIN || read_long(r, field, &bytes)) {
                return rd_fail(r, BWM_ERR_DECODE, field, "bad block count");
            }
            if (bytes < 0 || bytes > r->r_end - r->r_p) {
                return rd_fail(r, BWM_ERR_DECODE, field, "block size beyond the end");
            }
            count = -count;
        }
        if ((uint64_t)count > r->r_lim->al_max_items - r->r_items) {
            return rd_fail(r, BWM_ERR_LIMIT, field, "more array or map items than the limit");
        }
        r->r_items += (size_t)count;
        for (i = 0; i < count; i++) {
            if (map && read_bytes(r, field, &p, &klen)) {
                return -1;
            }
            if (skip(r, item, field, depth + 1)) {
                return -1;
            }
        }
    }
}

static int skip(rd_t *r, const bwm_avro_node_t *n, const char *field, size_t depth)
{
    const uint8_t *p;
    int64_t v;
    size_t len, i;
    int b;

    if (depth > r->r_lim->al_max_depth) {
        return rd_fail(r, BWM_ERR_LIMIT, field, "nested deeper than the limit");
    }
    switch (n->an_type) {
        case BWM_AVRO_NULL:
            return 0;
        case BWM_AVRO_BOOLEAN:
            return read_bool(r, field, &b);
        case BWM_AVRO_INT:
            return read_int(r, field, &v);
        case BWM_AVRO_LONG:
            return read_long(r, field, &v);
        case BWM_AVRO_FLOAT:
            return take(r, field, 4, &p);
        case BWM_AVRO_DOUBLE:
            return take(r, field, 8, &p);
        case BWM_AVRO_BYTES:
        case BWM_AVRO_STRING:
            return read_bytes(r, field, &p, &len);
        case BWM_AVRO_FIXED:
            return take(r, field, n->an_size, &p);
        case BWM_AVRO_ENUM:
            return read_index(r, field, n->an_nsymbols, ENUM_RANGE, &v);
        case BWM_AVRO_UNION:
            if (read_index(r, field, n->an_nbranches, UNION_RANGE, &v)) {
                return -1;
            }
            return skip(r, n->an_branches[v], field, depth + 1);
        case BWM_AVRO_RECORD:
            for (i = 0; i < n->an_nfields; i++) {
                if (skip(r, n->an_fields[i].af_type, n->an_fields[i].af_name, depth + 1)) {
                    return -1;
                }
            }
            return 0;
        case BWM_AVRO_ARRAY:
            return skip_blocks(r, n->an_items, 0, field, depth);
        case BWM_AVRO_MAP:
            return skip_blocks(r, n->an_values, 1, field, depth);
    }
    return rd_fail(r, BWM_ERR_DECODE, field, "unknown type");
}

/* A decimal's unscaled two's-complement big-endian integer, divided by 10^scale. */
static double decimal_value(const uint8_t *p, size_t n, int scale)
{
    long double v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        v = v * 256 + p[i];
    }
    if (n > 0 && (p[0] & 0x80)) {
        v -= powl(2, 8.0L * (long double)n);
    }
    return (double)(v / powl(10, scale));
}

static double le_double(const uint8_t *p)
{
    uint64_t u = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                 (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                 (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
    double d;

    memcpy(&d, &u, 8);
    return d;
}

static float le_float(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, 4);
    return f;
}

/* An int or long read into a slot of the reader's type. */
static void put_long(const act_t *a, int64_t v, bwm_value_t *out)
{
    if (a->a_type == BWM_T_DOUBLE) {
        out->v_type = BWM_T_DOUBLE;
        out->u.v_double = (double)v;
    } else {
        out->v_type = BWM_T_LONG;
        out->u.v_long = v;
    }
}

static int run_prog(rd_t *r, const prog_t *p, bwm_value_t *out, size_t depth);

/*
 * Runs the actions [a, end) in order. Dispatch is threaded: each op ends by
 * jumping straight to the next action's op through ops[], so the CPU predicts
 * each jump from the op before it, as a record's fields come in a fixed order.
 * A union runs its branch's action in place, one level deeper, and then goes
 * on after the union: a branch is never a union (the schema parser refuses
 * one), so one saved place is enough. Skipped scalars are read without skip()
 * and its depth check, which cannot fail for them: the caller has checked the
 * depth of their record, and a union checks its branch's depth as skip()
 * would.
 */
static int run_acts(rd_t *r, const act_t *a, const act_t *end, bwm_value_t *out, size_t depth)
{
    /*
     * Where each op's code is, indexed by op_t: every op in its order, so
     * OP_NOT_SCALAR last. Each (&&label) is parenthesised for cppcheck.
     */
    static const void *const ops[] = {
        (&&skip_long),        (&&skip_int),         (&&skip_fixed), (&&skip_bytes), (&&skip_bool),
        (&&skip_enum),        (&&skip_union),       (&&skip_other), (&&op_null),    (&&op_bool),
        (&&op_int),           (&&op_long),          (&&op_float),   (&&op_double),  (&&op_string),
        (&&op_decimal_bytes), (&&op_decimal_fixed), (&&op_enum),    (&&op_record),  (&&op_union),
        (&&op_not_scalar),
    };
    const act_t *resume = NULL, *resume_end = NULL; /* the union whose branch runs */
    bwm_value_t *o;                                 /* a leaf's slot */
    const uint8_t *p;
    int64_t v;
    size_t i, len;
    int b;

    _Static_assert(sizeof(ops) / sizeof(ops[0]) == OP_NOT_SCALAR + 1, "one label per op");
#define NEXT_ACT()                                                                                 \
    do {                                                                                           \
        if (++a == end) {                                                                          \
            goto done;                                                                             \
        }                                                                                          \
        goto *ops[a->a_op];                                                                        \
    } while (0)

    if (a == end) {
        return 0;
    }
    goto *ops[a->a_op];

skip_long:
    if (skip_long(r, a->a_name)) {
        return -1;
    }
    NEXT_ACT();
skip_int:
    if (read_int(r, a->a_name, &v)) {
        return -1;
    }
    NEXT_ACT();
skip_fixed:
    if (take(r, a->a_name, a->a_size, &p)) {
        return -1;
    }
    NEXT_ACT();
skip_bytes:
    if (read_bytes(r, a->a_name, &p, &len)) {
        return -1;
    }
    NEXT_ACT();
skip_bool:
    if (read_bool(r, a->a_name, &b)) {
        return -1;
    }
    NEXT_ACT();
skip_enum:
    if (read_index(r, a->a_name, a->a_node->an_nsymbols, ENUM_RANGE, &v)) {
        return -1;
    }
    NEXT_ACT();
skip_union:
    if (read_index(r, a->a_name, a->a_nbranches, UNION_RANGE, &v)) {
        return -1;
    }
    if (depth + 1 > r->r_lim->al_max_depth) {
        return rd_fail(r, BWM_ERR_LIMIT, a->a_name, "nested deeper than the limit");
    }
    goto branch;
skip_other:
    if (skip(r, a->a_node, a->a_name, depth)) {
        return -1;
    }
    NEXT_ACT();
op_null:
    for (i = 0; i < a->a_nslots; i++) {
        out[a->a_slots[i]].v_type = BWM_T_NULL;
    }
    NEXT_ACT();
op_bool:
    o = &out[a->a_slot];
    if (read_bool(r, a->a_name, &b)) {
        return -1;
    }
    o->v_type = BWM_T_BOOL;
    o->u.v_bool = b;
    NEXT_ACT();
op_int:
    o = &out[a->a_slot];
    if (read_int(r, a->a_name, &v)) {
        return -1;
    }
    put_long(a, v, o);
    NEXT_ACT();
op_long:
    o = &out[a->a_slot];
    if (read_long(r, a->a_name, &v)) {
        return -1;
    }
    put_long(a, v, o);
    NEXT_ACT();
op_float:
    o = &out[a->a_slot];
    if (take(r, a->a_name, 4, &p)) {
        return -1;
    }
    o->v_type = BWM_T_DOUBLE;
    o->u.v_double = le_float(p);
    NEXT_ACT();
op_double:
    o = &out[a->a_slot];
    if (take(r, a->a_name, 8, &p)) {
        return -1;
    }
    o->v_type = BWM_T_DOUBLE;
    o->u.v_double = le_double(p);
    NEXT_ACT();
op_string:
    o = &out[a->a_slot];
    if (read_bytes(r, a->a_name, &p, &len)) {
        return -1;
    }
    o->v_type = BWM_T_STRING;
    o->u.v_str.p = (const char *)p;
    o->u.v_str.n = len;
    NEXT_ACT();
op_decimal_bytes:
    o = &out[a->a_slot];
    if (read_bytes(r, a->a_name, &p, &len)) {
        return -1;
    }
    o->v_type = BWM_T_DOUBLE;
    o->u.v_double = decimal_value(p, len, a->a_node->an_scale);
    NEXT_ACT();
op_decimal_fixed:
    o = &out[a->a_slot];
    if (take(r, a->a_name, a->a_size, &p)) {
        return -1;
    }
    o->v_type = BWM_T_DOUBLE;
    o->u.v_double = decimal_value(p, a->a_size, a->a_node->an_scale);
    NEXT_ACT();
op_enum:
    o = &out[a->a_slot];
    if (read_index(r, a->a_name, a->a_node->an_nsymbols, ENUM_RANGE, &v)) {
        return -1;
    }
    if (!a->a_enum[v]) {
        return rd_fail(r, BWM_ERR_SCHEMA, a->a_name,
                       "enum symbol unknown to the reader, which has no default");
    }
    o->v_type = BWM_T_STRING;
    o->u.v_str.p = a->a_enum[v];
    o->u.v_str.n = strlen(a->a_enum[v]);
    NEXT_ACT();
op_record:
    if (run_prog(r, a->a_sub, out, depth + 1)) {
        return -1;
    }
    NEXT_ACT();
op_union:
    if (read_index(r, a->a_name, a->a_nbranches, UNION_RANGE, &v)) {
        return -1;
    }
    if (a->a_branches[v].a_error) {
        return rd_fail(r, BWM_ERR_SCHEMA, a->a_branches[v].a_name, a->a_branches[v].a_error);
    }
    goto branch;
op_not_scalar:
    return rd_fail(r, BWM_ERR_DECODE, a->a_name, "not a scalar");
branch:
    resume = a;
    resume_end = end;
    a = &a->a_branches[v];
    end = a + 1;
    depth++;
    goto *ops[a->a_op];
done:
    if (!resume) {
        return 0;
    }
    a = resume;
    end = resume_end;
    resume = NULL;
    depth--;
    NEXT_ACT();
#undef NEXT_ACT
}

static int run_prog(rd_t *r, const prog_t *p, bwm_value_t *out, size_t depth)
{
    if (depth > r->r_lim->al_max_depth) {
        return rd_fail(r, BWM_ERR_LIMIT, "(record)", "nested deeper than the limit");
    }
    return run_acts(r, p->p_acts, p->p_acts + p->p_nacts, out, depth);
}

bwm_err_t bwm_decoder_decode(bwm_decoder_t *d, const void *body, size_t len, bwm_value_t *out,
                             char *errstr, size_t errstr_size)
{
    rd_t r = {body,       (const uint8_t *)body + len, body, &d->d_limits, 0, BWM_OK, errstr,
              errstr_size};
    size_t i;

    for (i = 0; i < d->d_npreset; i++) {
        out[d->d_preset[i]] = d->d_defaults[d->d_preset[i]];
    }
    if (run_prog(&r, d->d_root, out, 0)) {
        return r.r_err ? r.r_err : BWM_ERR_DECODE;
    }
    return BWM_OK;
}
