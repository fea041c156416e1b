/*
 * produce.c: `bwm produce -t TOPIC` writes Avro records: JSON lines from
 * stdin encoded with --schema (Avro's JSON encoding, or the readable forms
 * `bwm consume` prints), or --generate N sample telemetry records. Values are
 * Confluent-framed with the schema registered under the topic's subject (or
 * written bare with --raw). Records are keyed by --key FIELD (the sample data
 * by vin). A bad line stops the run with an error naming its line and field;
 * what came before it is delivered.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/telemetry.h"
#include "connectors/kafka/admin.h"
#include "connectors/kafka/kconf.h"
#include "connectors/kafka/sink.h"
#include "connectors/registry/registry.h"
#include "core/avro.h"
#include "core/framing.h"

static void produce_usage(FILE *out)
{
    fprintf(out,
            "usage: bwm produce -t TOPIC --schema F.avsc [options] < records.jsonl\n"
            "       bwm produce -t TOPIC --generate N [options]\n"
            "\n"
            "  -t, --topic TOPIC     topic to write to (must exist)\n"
            "  --schema F.avsc       schema of the JSON lines read from stdin\n"
            "  --key FIELD           key each record by this top-level field's value\n"
            "  --raw                 write bare Avro bodies, without framing or registration\n"
            "  --max-line-bytes N    longest JSON line accepted (default 1048576)\n"
            "  --generate N          write N sample telemetry records (schemas/telemetry.avsc)\n"
            "  --vehicles K          distinct vehicles, i.e. keys (default 500)\n"
            "  --in-order            generated timestamps never fall (one clock for all "
            "vehicles)\n"
            "  --seed S              generator seed; the same seed gives the same records "
            "(default 1)\n"
            "  --rate R              at most R records per second (default: as fast as possible)\n"
            "  -b, --brokers LIST    Kafka bootstrap servers (kafka.bootstrap.servers)\n"
            "  -r, --registry URL    schema registry (registry.url)\n"
            "  -c, --config FILE     configuration file for kafka.*, registry.* and aws.* keys\n"
            "  -X key=value          set a configuration key\n");
}

/* Parses a non-negative integer option, or returns -1. */
static long long parse_count(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    return (*s && !*end && v >= 0) ? v : -1;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Where records come from: generated samples or JSON lines with a schema. */
typedef struct source {
    bwm_telemetry_t *so_gen;
    const bwm_avro_node_t *so_node;
    const char *so_key_field;
    size_t so_max_line;
    char *so_line;
    size_t so_line_cap;
    long long so_lineno;
    char so_key[1024];
} source_t;

/*
 * Appends the next record's Avro body to b and sets its key (NULL for none).
 * Returns 1 for a record, 0 at the end of input, -1 with errstr on a bad line.
 */
static int next_record(source_t *so, bwm_buf_t *b, const char **key, size_t *keylen, char *errstr,
                       size_t errstr_size)
{
    json_t *doc, *k;
    json_error_t jerr;
    ssize_t n;
    char msg[512];

    if (so->so_gen) {
        if (bwm_telemetry_next(so->so_gen, b, key, msg, sizeof(msg)) != BWM_OK) {
            snprintf(errstr, errstr_size, "%s", msg);
            return -1;
        }
        *keylen = strlen(*key);
        return 1;
    }
    do {
        n = getline(&so->so_line, &so->so_line_cap, stdin);
        if (n < 0) {
            return 0;
        }
        so->so_lineno++;
        while (n > 0 && (so->so_line[n - 1] == '\n' || so->so_line[n - 1] == '\r')) {
            so->so_line[--n] = '\0';
        }
    } while (n == 0);
    if ((size_t)n > so->so_max_line) {
        snprintf(errstr, errstr_size, "line %lld: longer than %zu bytes (--max-line-bytes)",
                 so->so_lineno, so->so_max_line);
        return -1;
    }
    doc = json_loadb(so->so_line, (size_t)n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "line %lld: not JSON: %s (column %d)", so->so_lineno,
                 jerr.text, jerr.column);
        return -1;
    }
    if (bwm_avro_from_json(so->so_node, doc, b, msg, sizeof(msg)) != BWM_OK) {
        snprintf(errstr, errstr_size, "line %lld: %s", so->so_lineno, msg);
        json_decref(doc);
        return -1;
    }
    *key = NULL;
    *keylen = 0;
    if (so->so_key_field) {
        k = json_object_get(doc, so->so_key_field);
        if (json_is_string(k)) {
            snprintf(so->so_key, sizeof(so->so_key), "%s", json_string_value(k));
        } else if (json_is_integer(k)) {
            snprintf(so->so_key, sizeof(so->so_key), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(k));
        } else if (k && !json_is_null(k)) {
            char *text = json_dumps(k, JSON_ENCODE_ANY | JSON_COMPACT);

            snprintf(so->so_key, sizeof(so->so_key), "%s", text ? text : "");
            free(text);
        } else {
            snprintf(errstr, errstr_size, "line %lld: $.%s: the key field is missing or null",
                     so->so_lineno, so->so_key_field);
            json_decref(doc);
            return -1;
        }
        *key = so->so_key;
        *keylen = strlen(so->so_key);
    }
    json_decref(doc);
    return 1;
}

/*
 * How long a full producer queue is waited on: as long as librdkafka keeps a
 * record before failing it (kafka.message.timeout.ms), so a queue stays full
 * only when Kafka takes nothing.
 */
static int queue_wait_ms(const bwm_conf_t *conf)
{
    long long ms = atoll(bwm_kconf_get(conf, "message.timeout.ms", "300000"));

    return ms > 0 && ms < INT_MAX ? (int)ms : INT_MAX;
}

int bwm_cmd_produce(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"generate", required_argument, NULL, 'n'},
        {"vehicles", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"in-order", no_argument, NULL, 'O'},
        {"rate", required_argument, NULL, 'R'},
        {"brokers", required_argument, NULL, 'b'},
        {"registry", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"schema", required_argument, NULL, 'S'},
        {"key", required_argument, NULL, 'K'},
        {"raw", no_argument, NULL, 'W'},
        {"max-line-bytes", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *topic = NULL, *path = NULL, *schema_path = NULL, *key;
    long long count = -1, vehicles = 500, seed = 1, rate = 0, max_line = 1 << 20, i = 0, t0;
    long long last_draw = 0;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_registry_t *reg = NULL;
    bwm_sink_t *sink = NULL;
    bwm_avro_schema_t *model = NULL;
    source_t so;
    bwm_buf_t b;
    char errstr[1024], subject[512], *schema_text = NULL;
    int c, k, nparts, raw = 0, in_order = 0, tty = bwm_cli_tty(), status = BWM_EXIT_RUNTIME, r = 0;
    int32_t id = 0;
    size_t keylen;
    double secs;

    memset(&so, 0, sizeof(so));
    bwm_buf_init(&b);
    while ((c = getopt_long(argc, argv, "t:b:r:c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 't':
                topic = optarg;
                break;
            case 'n':
                count = parse_count(optarg);
                break;
            case 'k':
                vehicles = parse_count(optarg);
                break;
            case 's':
                seed = parse_count(optarg);
                break;
            case 'R':
                rate = parse_count(optarg);
                break;
            case 'S':
                schema_path = optarg;
                break;
            case 'K':
                so.so_key_field = optarg;
                break;
            case 'W':
                raw = 1;
                break;
            case 'O':
                in_order = 1;
                break;
            case 'L':
                max_line = parse_count(optarg);
                break;
            case 'h':
                produce_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, c, optarg, "produce");
                if (k <= 0) {
                    if (k == 0) {
                        produce_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!topic || (count < 0) == !schema_path || vehicles < 1 || vehicles > 10000000 || seed < 0 ||
        rate < 0 || max_line < 1 || optind != argc) {
        fprintf(stderr, "bwm produce: need -t TOPIC and either --schema F.avsc (JSON lines on "
                        "stdin) or --generate N\n");
        produce_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, NULL, errstr, sizeof(errstr)) ||
        bwm_registry_new(conf, &reg, errstr, sizeof(errstr)) ||
        bwm_sink_new(conf, queue_wait_ms(conf), &sink, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm produce: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    if (schema_path) {
        size_t len;

        if (bwm_cli_read_file(schema_path, 1 << 20, &schema_text, &len, errstr, sizeof(errstr)) ||
            !(model = bwm_avro_schema_parse(schema_text, len, errstr, sizeof(errstr)))) {
            fprintf(stderr, "bwm produce: --schema: %s\n", errstr);
            status = BWM_EXIT_USAGE;
            goto done;
        }
        so.so_node = bwm_avro_schema_root(model);
        so.so_max_line = (size_t)max_line;
    } else {
        so.so_gen = bwm_telemetry_new((uint64_t)seed, (int)vehicles, errstr, sizeof(errstr));
        if (!so.so_gen) {
            fprintf(stderr, "bwm produce: %s\n", errstr);
            goto done;
        }
        if (in_order) {
            bwm_telemetry_in_order(so.so_gen);
        }
        schema_text = strdup(bwm_telemetry_avsc);
    }
    if (bwm_admin_partitions(bwm_sink_handle(sink), topic, 30000, &nparts, errstr,
                             sizeof(errstr))) {
        fprintf(stderr, "bwm produce: %s\n", errstr);
        goto done;
    }
    if (!raw) {
        const char *name = model ? bwm_avro_schema_root(model)->an_name : "bwm.samples.Telemetry";

        bwm_registry_subject(reg, topic, name ? name : topic, subject, sizeof(subject));
        if (bwm_registry_register(reg, subject, schema_text, &id, errstr, sizeof(errstr))) {
            fprintf(stderr, "bwm produce: %s\n", errstr);
            goto done;
        }
    }
    bwm_cli_signals();
    t0 = bwm_cli_now_ms();
    for (i = 0; (count < 0 || i < count) && !bwm_cli_stop; i++) {
        long long now;

        bwm_buf_reset(&b);
        if (!raw) {
            bwm_frame_put_confluent(&b, id);
        }
        r = next_record(&so, &b, &key, &keylen, errstr, sizeof(errstr));
        if (r <= 0) {
            break;
        }
        if (bwm_sink_produce(sink, topic, RD_KAFKA_PARTITION_UA, key, keylen, b.b_data, b.b_len,
                             NULL, errstr, sizeof(errstr))) {
            r = -1;
            break;
        }
        if (rate > 0) {
            long long due = t0 + (i + 1) * 1000 / rate;

            now = bwm_cli_now_ms();
            if (due > now) {
                sleep_ms(due - now);
            }
        }
        now = bwm_cli_now_ms();
        if (tty && now - last_draw >= 200) {
            last_draw = now;
            if (count > 0) {
                fprintf(stderr, "\rproduced %lld/%lld (%.0f%%)", i + 1, count,
                        100.0 * (double)(i + 1) / (double)count);
            } else {
                fprintf(stderr, "\rproduced %lld", i + 1);
            }
        }
    }
    if (r < 0) {
        fprintf(stderr, "%sbwm produce: %s\n", tty ? "\n" : "", errstr);
    }
    if (bwm_sink_flush(sink, 60000, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "%sbwm produce: %s\n", tty ? "\n" : "", errstr);
        goto done;
    }
    secs = (double)(bwm_cli_now_ms() - t0) / 1000.0;
    fprintf(stderr, "%sbwm produce: %lld records to %s (%d partitions, ", tty ? "\r" : "", i, topic,
            nparts);
    if (raw) {
        fprintf(stderr, "bare Avro");
    } else {
        fprintf(stderr, "schema id %d", (int)id);
    }
    if (so.so_gen) {
        fprintf(stderr, ", %lld vehicles, seed %lld", vehicles, seed);
    }
    fprintf(stderr, ") in %.1f s (%.0f records/s)\n", secs, secs > 0 ? (double)i / secs : 0.0);
    status = r < 0 || bwm_cli_stop ? BWM_EXIT_RUNTIME : BWM_EXIT_OK;
done:
    bwm_buf_free(&b);
    bwm_telemetry_destroy(so.so_gen);
    free(so.so_line);
    bwm_avro_schema_destroy(model);
    free(schema_text);
    bwm_sink_destroy(sink, 10000);
    bwm_registry_destroy(reg);
    bwm_conf_destroy(conf);
    return status;
}
