/*
 * test_conf.c: properties parsing, binding, bounds, unknown keys and origins.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "core/conf.h"

typedef struct sample {
    char *s_name;
    int64_t s_count;
    int s_flag;
    char *s_mode;
} sample_t;

static const bwm_conf_def_t defs[] = {
    {"sample.name", BWM_CONF_STR, NULL, 0, 0, NULL, offsetof(sample_t, s_name), 1, "a name"},
    {"sample.count", BWM_CONF_INT, "10", 1, 100, NULL, offsetof(sample_t, s_count), 0, "a count"},
    {"sample.flag", BWM_CONF_BOOL, "false", 0, 0, NULL, offsetof(sample_t, s_flag), 0, "a flag"},
    {"sample.mode", BWM_CONF_ENUM, "fast", 0, 0, "fast|safe", offsetof(sample_t, s_mode), 0,
     "a mode"},
};
static const bwm_conf_table_t table = {"sample", defs, sizeof(defs) / sizeof(defs[0])};
static const bwm_conf_table_t *const tables[] = {&table};
static const char *const prefixes[] = {"kafka."};

static bwm_conf_t *parse(const char *text, bwm_err_t want, char *errstr, size_t size)
{
    bwm_conf_t *c = bwm_conf_new();

    cr_assert_eq(bwm_conf_parse(c, text, strlen(text), "t.conf", errstr, size), want, "%s", errstr);
    return c;
}

Test(conf, parses_binds_and_applies_defaults)
{
    char err[512] = "";
    bwm_conf_t *c =
        parse("# comment\n! also a comment\n\n  sample.name =  a b  \nsample.flag=true\n", BWM_OK,
              err, sizeof(err));
    sample_t s = {0};

    cr_assert_eq(bwm_conf_bind(c, &table, &s, err, sizeof(err)), BWM_OK, "%s", err);
    cr_assert_str_eq(s.s_name, "a b");
    cr_assert_eq(s.s_count, 10);
    cr_assert_eq(s.s_flag, 1);
    cr_assert_str_eq(s.s_mode, "fast");
    bwm_conf_unbind(&table, &s);
    cr_assert_null(s.s_name);
    bwm_conf_destroy(c);
}

Test(conf, later_sources_win_and_keep_their_origin)
{
    char err[512] = "";
    bwm_conf_t *c = parse("sample.name = file\n", BWM_OK, err, sizeof(err));
    const char *origin;

    cr_assert_str_eq(bwm_conf_get(c, "sample.name", &origin), "file");
    cr_assert_str_eq(origin, "t.conf:1");
    bwm_conf_set(c, "sample.name", "flag", "-X");
    cr_assert_str_eq(bwm_conf_get(c, "sample.name", &origin), "flag");
    cr_assert_str_eq(origin, "-X");
    bwm_conf_destroy(c);
}

struct bad_case {
    const char *text;
    const char *message; /* expected substring */
};

Test(conf, bad_values_name_key_line_and_bounds)
{
    static const struct bad_case cases[] = {
        {"sample.name = x\nsample.count = 0\n",
         "t.conf:2: sample.count = 0 is out of range (allowed: 1 .. 100)"},
        {"sample.name = x\nsample.count = 12abc\n",
         "t.conf:2: sample.count = '12abc' is not an integer"},
        {"sample.name = x\nsample.flag = yes\n",
         "t.conf:2: sample.flag = 'yes' is not valid (allowed: true|false)"},
        {"sample.name = x\nsample.mode = slow\n",
         "t.conf:2: sample.mode = 'slow' is not valid (allowed: fast|safe)"},
        {"sample.count = 5\n", "sample.name is required"},
        {"sample.name = \n", "t.conf:1: sample.name must not be empty"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        bwm_conf_t *c = parse(cases[i].text, BWM_OK, err, sizeof(err));
        sample_t s = {0};

        cr_assert_eq(bwm_conf_bind(c, &table, &s, err, sizeof(err)), BWM_ERR_INVALID, "case %zu",
                     i);
        cr_assert(strstr(err, cases[i].message), "case %zu: got '%s'", i, err);
        bwm_conf_unbind(&table, &s);
        bwm_conf_destroy(c);
    }
}

Test(conf, syntax_errors_and_duplicates)
{
    char err[512] = "";
    bwm_conf_t *c;

    c = parse("sample.name = x\njust words\n", BWM_ERR_PARSE, err, sizeof(err));
    cr_assert(strstr(err, "t.conf:2: expected 'key = value'"), "%s", err);
    bwm_conf_destroy(c);
    c = parse("sample.name = x\nsample.name = y\n", BWM_ERR_PARSE, err, sizeof(err));
    cr_assert(strstr(err, "t.conf:2: key 'sample.name' is set twice (first at t.conf:1)"), "%s",
              err);
    bwm_conf_destroy(c);
    c = parse("bad key = x\n", BWM_ERR_PARSE, err, sizeof(err));
    cr_assert(strstr(err, "t.conf:1: invalid key 'bad key'"), "%s", err);
    bwm_conf_destroy(c);
}

Test(conf, unknown_keys_are_errors_with_a_suggestion)
{
    char err[512] = "";
    bwm_conf_t *c =
        parse("sample.name = x\nkafka.acks = all\nsample.cuont = 3\n", BWM_OK, err, sizeof(err));

    cr_assert_eq(bwm_conf_check_known(c, tables, 1, prefixes, 1, err, sizeof(err)),
                 BWM_ERR_INVALID);
    cr_assert(strstr(err, "t.conf:3: unknown key 'sample.cuont' (did you mean 'sample.count'?)"),
              "%s", err);
    bwm_conf_destroy(c);
    c = parse("sample.name = x\ntotally.different = 1\n", BWM_OK, err, sizeof(err));
    cr_assert_eq(bwm_conf_check_known(c, tables, 1, prefixes, 1, err, sizeof(err)),
                 BWM_ERR_INVALID);
    cr_assert(strstr(err, "unknown key 'totally.different' (see `bwm config --help`"), "%s", err);
    bwm_conf_destroy(c);
}

static int count_cb(const char *key, const char *value, const char *origin, void *opaque)
{
    (void)value;
    (void)origin;
    cr_assert_eq(strncmp(key, "kafka.", 6), 0);
    (*(int *)opaque)++;
    return 0;
}

Test(conf, prefix_iteration_and_env_names)
{
    char err[512] = "", env[64];
    bwm_conf_t *c =
        parse("kafka.a = 1\nsample.name = x\nkafka.b.c = 2\n", BWM_OK, err, sizeof(err));
    int n = 0;

    bwm_conf_foreach_prefix(c, "kafka.", count_cb, &n);
    cr_assert_eq(n, 2);
    bwm_conf_env_name("redis.command.timeout-ms", env, sizeof(env));
    cr_assert_str_eq(env, "BWM_REDIS_COMMAND_TIMEOUT_MS");
    bwm_conf_destroy(c);
}
