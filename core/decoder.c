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

typedef struct prog prog_t;
typedef struct act act_t;

struct act {
    act_kind_t a_kind;
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
    char **d_strings;        /* owned default strings and enum tables */
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

/*
 * A zigzag varint. With 10 bytes left, one of up to 9 bytes can neither run
 * past the end nor overflow, so it is read without checks; anything else
 * goes the checked way.
 */
static inline int read_long(rd_t *r, const char *field, int64_t *out)
{
    const uint8_t *p = r->r_p;
    uint64_t v = 0;
    int i;

    if (r->r_end - p >= 10) {
        for (i = 0; i < 9; i++) {
            v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (!(p[i] & 0x80)) {
                r->r_p = p + i + 1;
                *out = zigzag(v);
                return 0;
            }
        }
    }
    return read_long_checked(r, field, out);
}

/* Reads a length and checks it against the bytes left and the limit. */
static int read_len(rd_t *r, const char *field, size_t *out)
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
            if (map && (read_len(r, field, &klen) || take(r, field, klen, &p))) {
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

    if (depth > r->r_lim->al_max_depth) {
        return rd_fail(r, BWM_ERR_LIMIT, field, "nested deeper than the limit");
    }
    switch (n->an_type) {
        case BWM_AVRO_NULL:
            return 0;
        case BWM_AVRO_BOOLEAN:
            return take(r, field, 1, &p) ? -1
                   : *p > 1              ? rd_fail(r, BWM_ERR_DECODE, field, "bad boolean")
                                         : 0;
        case BWM_AVRO_INT:
            if (read_long(r, field, &v)) {
                return -1;
            }
            return v < INT32_MIN || v > INT32_MAX
                       ? rd_fail(r, BWM_ERR_DECODE, field, "int out of range")
                       : 0;
        case BWM_AVRO_LONG:
            return read_long(r, field, &v);
        case BWM_AVRO_FLOAT:
            return take(r, field, 4, &p);
        case BWM_AVRO_DOUBLE:
            return take(r, field, 8, &p);
        case BWM_AVRO_BYTES:
        case BWM_AVRO_STRING:
            return read_len(r, field, &len) || take(r, field, len, &p) ? -1 : 0;
        case BWM_AVRO_FIXED:
            return take(r, field, n->an_size, &p);
        case BWM_AVRO_ENUM:
            if (read_long(r, field, &v)) {
                return -1;
            }
            return v < 0 || (uint64_t)v >= n->an_nsymbols
                       ? rd_fail(r, BWM_ERR_DECODE, field, "enum index out of range")
                       : 0;
        case BWM_AVRO_UNION:
            if (read_long(r, field, &v)) {
                return -1;
            }
            if (v < 0 || (uint64_t)v >= n->an_nbranches) {
                return rd_fail(r, BWM_ERR_DECODE, field, "union branch out of range");
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

static int read_leaf(rd_t *r, const act_t *a, bwm_value_t *out)
{
    const bwm_avro_node_t *n = a->a_node;
    const uint8_t *p;
    int64_t v;
    size_t len;
    float f;
    double d;

    switch (n->an_type) {
        case BWM_AVRO_BOOLEAN:
            if (take(r, a->a_name, 1, &p)) {
                return -1;
            }
            if (*p > 1) {
                return rd_fail(r, BWM_ERR_DECODE, a->a_name, "bad boolean");
            }
            out->v_type = BWM_T_BOOL;
            out->u.v_bool = *p;
            return 0;
        case BWM_AVRO_INT:
        case BWM_AVRO_LONG:
            if (read_long(r, a->a_name, &v)) {
                return -1;
            }
            if (n->an_type == BWM_AVRO_INT && (v < INT32_MIN || v > INT32_MAX)) {
                return rd_fail(r, BWM_ERR_DECODE, a->a_name, "int out of range");
            }
            if (a->a_type == BWM_T_DOUBLE) {
                out->v_type = BWM_T_DOUBLE;
                out->u.v_double = (double)v;
            } else {
                out->v_type = BWM_T_LONG;
                out->u.v_long = v;
            }
            return 0;
        case BWM_AVRO_FLOAT:
            if (take(r, a->a_name, 4, &p)) {
                return -1;
            }
            memcpy(&f,
                   (uint32_t[]){(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                (uint32_t)p[3] << 24},
                   4);
            out->v_type = BWM_T_DOUBLE;
            out->u.v_double = f;
            return 0;
        case BWM_AVRO_DOUBLE: {
            uint64_t u;

            if (take(r, a->a_name, 8, &p)) {
                return -1;
            }
            u = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
                (uint64_t)p[7] << 56;
            memcpy(&d, &u, 8);
            out->v_type = BWM_T_DOUBLE;
            out->u.v_double = d;
            return 0;
        }
        case BWM_AVRO_STRING:
        case BWM_AVRO_BYTES:
            if (read_len(r, a->a_name, &len) || take(r, a->a_name, len, &p)) {
                return -1;
            }
            if (n->an_logical == BWM_LOGICAL_DECIMAL) {
                out->v_type = BWM_T_DOUBLE;
                out->u.v_double = decimal_value(p, len, n->an_scale);
                return 0;
            }
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = (const char *)p;
            out->u.v_str.n = len;
            return 0;
        case BWM_AVRO_FIXED:
            if (take(r, a->a_name, n->an_size, &p)) {
                return -1;
            }
            out->v_type = BWM_T_DOUBLE;
            out->u.v_double = decimal_value(p, n->an_size, n->an_scale);
            return 0;
        case BWM_AVRO_ENUM:
            if (read_long(r, a->a_name, &v)) {
                return -1;
            }
            if (v < 0 || (uint64_t)v >= n->an_nsymbols) {
                return rd_fail(r, BWM_ERR_DECODE, a->a_name, "enum index out of range");
            }
            if (!a->a_enum[v]) {
                return rd_fail(r, BWM_ERR_SCHEMA, a->a_name,
                               "enum symbol unknown to the reader, which has no default");
            }
            out->v_type = BWM_T_STRING;
            out->u.v_str.p = a->a_enum[v];
            out->u.v_str.n = strlen(a->a_enum[v]);
            return 0;
        default:
            return rd_fail(r, BWM_ERR_DECODE, a->a_name, "not a scalar");
    }
}

static int run_prog(rd_t *r, const prog_t *p, bwm_value_t *out, size_t depth);

static int run_act(rd_t *r, const act_t *a, bwm_value_t *out, size_t depth)
{
    const uint8_t *p;
    int64_t v;
    size_t i, len;

    switch (a->a_kind) {
        case ACT_SKIP:
            /*
             * The frequent scalars without a call to skip(). Its depth check
             * cannot fail here: a skipped field is reached from run_prog(),
             * which has checked its depth (a union's branch is never skipped:
             * it is read, or null, or an error).
             */
            switch (a->a_node->an_type) {
                case BWM_AVRO_LONG:
                    return read_long(r, a->a_name, &v);
                case BWM_AVRO_DOUBLE:
                    return take(r, a->a_name, 8, &p);
                case BWM_AVRO_STRING:
                case BWM_AVRO_BYTES:
                    return read_len(r, a->a_name, &len) || take(r, a->a_name, len, &p) ? -1 : 0;
                default:
                    return skip(r, a->a_node, a->a_name, depth);
            }
        case ACT_LEAF:
            return read_leaf(r, a, &out[a->a_slot]);
        case ACT_RECORD:
            return run_prog(r, a->a_sub, out, depth + 1);
        case ACT_UNION:
            if (read_long(r, a->a_name, &v)) {
                return -1;
            }
            if (v < 0 || (uint64_t)v >= a->a_nbranches) {
                return rd_fail(r, BWM_ERR_DECODE, a->a_name, "union branch out of range");
            }
            a = &a->a_branches[v];
            if (a->a_error) {
                return rd_fail(r, BWM_ERR_SCHEMA, a->a_name, a->a_error);
            }
            if (a->a_node->an_type == BWM_AVRO_NULL) {
                for (i = 0; i < a->a_nslots; i++) {
                    out[a->a_slots[i]].v_type = BWM_T_NULL;
                }
                return 0;
            }
            return run_act(r, a, out, depth + 1);
    }
    return -1;
}

static int run_prog(rd_t *r, const prog_t *p, bwm_value_t *out, size_t depth)
{
    size_t i;

    if (depth > r->r_lim->al_max_depth) {
        return rd_fail(r, BWM_ERR_LIMIT, "(record)", "nested deeper than the limit");
    }
    for (i = 0; i < p->p_nacts; i++) {
        if (run_act(r, &p->p_acts[i], out, depth)) {
            return -1;
        }
    }
    return 0;
}

bwm_err_t bwm_decoder_decode(bwm_decoder_t *d, const void *body, size_t len, bwm_value_t *out,
                             char *errstr, size_t errstr_size)
{
    rd_t r = {body,       (const uint8_t *)body + len, body, &d->d_limits, 0, BWM_OK, errstr,
              errstr_size};

    memcpy(out, d->d_defaults, d->d_nslots * sizeof(*out));
    if (run_prog(&r, d->d_root, out, 0)) {
        return r.r_err ? r.r_err : BWM_ERR_DECODE;
    }
    return BWM_OK;
}
