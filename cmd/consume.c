/*
 * consume.c: `bwm consume -t TOPIC` prints a topic's Avro records as JSON
 * lines, one per record, reading every partition (or one) by manual
 * assignment (no consumer group) from a chosen start, and stopping at the end
 * unless --follow. Confluent and Glue framing are recognised per record; raw
 * Avro is read with --schema. With --verbose each line is an object that also
 * gives the partition, offset, timestamp, key, framing and schema id.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "connectors/inflate.h"
#include "connectors/kafka/reader.h"
#include "connectors/registry/registry.h"
#include "core/avro.h"
#include "core/json.h"
#include "core/framing.h"

/* Largest record value (after decompression) consume renders. */
#define CONSUME_MAX_RECORD (64 * 1024 * 1024)

static void consume_usage(FILE *out)
{
    fprintf(
        out,
        "usage: bwm consume -t TOPIC [options]\n"
        "\n"
        "  -t, --topic TOPIC     topic to read\n"
        "  --from WHERE          earliest (default), latest, an offset (the same in every\n"
        "                        partition), a time (2026-01-01T10:00:00Z) or a relative\n"
        "                        time (-2h, -30m, -7d)\n"
        "  --partition P         read only partition P\n"
        "  --count N             stop after N records\n"
        "  --follow              keep waiting for new records at the end\n"
        "  --verbose             print each record as {\"partition\", \"offset\", \"timestamp\",\n"
        "                        \"key\", \"framing\", \"schema_id\", \"value\"}\n"
        "  --avro-json           values in Avro's own JSON encoding instead of readable JSON\n"
        "  --schema F.avsc       read bare Avro bodies (no framing) with this schema\n"
        "  -b, --brokers LIST    Kafka bootstrap servers (kafka.bootstrap.servers)\n"
        "  -r, --registry URL    schema registry (registry.url)\n"
        "  -c, --config FILE     configuration file for kafka.*, registry.* and aws.* keys\n"
        "  -X key=value          set a configuration key\n");
}

typedef struct consumer {
    bwm_registry_t *c_reg;
    bwm_avro_schema_t *c_raw; /* --schema */
    bwm_avro_json_mode_t c_mode;
    int c_verbose;
    bwm_buf_t c_inflated;
} consumer_t;

/* Renders one record value into b: JSON of the value, and framing details for --verbose. */
static bwm_err_t render_value(consumer_t *c, const rd_kafka_message_t *m, bwm_buf_t *b, char *meta,
                              size_t meta_size, char *errstr, size_t errstr_size)
{
    bwm_frame_t frame;
    const bwm_avro_node_t *node;
    const bwm_schema_t *schema;
    char uuid[37];
    size_t used;
    bwm_err_t err;

    err = bwm_frame_parse(m->payload, m->len, c->c_raw != NULL, &frame, errstr, errstr_size);
    if (err) {
        return err;
    }
    if (frame.f_framing == BWM_FRAMING_GLUE && frame.f_compression == BWM_GLUE_ZLIB) {
        err = bwm_inflate(frame.f_body, frame.f_body_len, CONSUME_MAX_RECORD, &c->c_inflated,
                          errstr, errstr_size);
        if (err) {
            return err;
        }
        frame.f_body = c->c_inflated.b_data;
        frame.f_body_len = c->c_inflated.b_len;
    }
    switch (frame.f_framing) {
        case BWM_FRAMING_CONFLUENT:
            err = bwm_registry_get(c->c_reg, frame.f_schema_id, &schema, errstr, errstr_size);
            node = err ? NULL : bwm_schema_root(schema);
            snprintf(meta, meta_size, "\"framing\":\"confluent\",\"schema_id\":%d",
                     (int)frame.f_schema_id);
            break;
        case BWM_FRAMING_GLUE:
            err = bwm_registry_get_glue(c->c_reg, frame.f_uuid, &schema, errstr, errstr_size);
            node = err ? NULL : bwm_schema_root(schema);
            bwm_uuid_text(frame.f_uuid, uuid);
            snprintf(meta, meta_size,
                     "\"framing\":\"glue\",\"schema_id\":\"%s\",\"compression\":%s", uuid,
                     frame.f_compression == BWM_GLUE_ZLIB ? "\"zlib\"" : "null");
            break;
        default:
            node = bwm_avro_schema_root(c->c_raw);
            snprintf(meta, meta_size, "\"framing\":\"raw\",\"schema_id\":null");
            break;
    }
    if (err) {
        return err;
    }
    err = bwm_avro_to_json(node, frame.f_body, frame.f_body_len, &bwm_avro_default_limits,
                           c->c_mode, b, &used, errstr, errstr_size);
    if (!err && used != frame.f_body_len) {
        err = bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size,
                          "%zu bytes after the end of the Avro record", frame.f_body_len - used);
    }
    return err;
}

/* Renders one record as a JSON line into b. */
static bwm_err_t render(consumer_t *c, const rd_kafka_message_t *m, bwm_buf_t *b, char *errstr,
                        size_t errstr_size)
{
    char meta[256] = "\"framing\":null,\"schema_id\":null", num[64];
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    bwm_buf_t value;
    bwm_err_t err = BWM_OK;

    bwm_buf_init(&value);
    if (m->payload) {
        err = render_value(c, m, &value, meta, sizeof(meta), errstr, errstr_size);
    } else {
        bwm_buf_put_str(&value, "null"); /* a tombstone */
    }
    if (!err && c->c_verbose) {
        snprintf(num, sizeof(num),
                 "{\"partition\":%d,\"offset\":%" PRId64 ",\"timestamp\":", (int)m->partition,
                 m->offset);
        bwm_buf_put_str(b, num);
        snprintf(num, sizeof(num), "%" PRId64, ts);
        bwm_buf_put_str(b, ts >= 0 ? num : "null");
        bwm_buf_put_str(b, ",\"key\":");
        if (m->key) {
            bwm_json_put_text(b, m->key, m->key_len);
        } else {
            bwm_buf_put_str(b, "null");
        }
        bwm_buf_put_u8(b, ',');
        bwm_buf_put_str(b, meta);
        bwm_buf_put_str(b, ",\"value\":");
    }
    if (!err) {
        bwm_buf_put(b, value.b_data, value.b_len);
        bwm_buf_put_str(b, c->c_verbose ? "}\n" : "\n");
    }
    bwm_buf_free(&value);
    return err;
}

/* Parses --from. */
static int parse_from(const char *s, bwm_start_t *st)
{
    char *end;
    long long off;

    if (strcmp(s, "earliest") == 0) {
        st->st_kind = BWM_START_EARLIEST;
        return 0;
    }
    if (strcmp(s, "latest") == 0) {
        st->st_kind = BWM_START_LATEST;
        return 0;
    }
    off = strtoll(s, &end, 10);
    if (*s >= '0' && *s <= '9' && !*end) {
        st->st_kind = BWM_START_OFFSET;
        st->st_value = off;
        return 0;
    }
    st->st_kind = BWM_START_TIME;
    return bwm_cli_parse_time(s, &st->st_value) == BWM_OK ? 0 : -1;
}

int bwm_cmd_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"partition", required_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'F'},
        {"verbose", no_argument, NULL, 'v'},
        {"avro-json", no_argument, NULL, 'A'},
        {"schema", required_argument, NULL, 's'},
        {"brokers", required_argument, NULL, 'b'},
        {"registry", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *topic = NULL, *path = NULL, *schema_path = NULL;
    long long count = -1, printed = 0, failed = 0;
    int32_t partition = -1;
    bwm_start_t start = {BWM_START_EARLIEST, 0};
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_reader_t *rdr = NULL;
    consumer_t c;
    bwm_buf_t b;
    char errstr[1024], *end, *text = NULL;
    int ch, k, follow = 0, status = BWM_EXIT_RUNTIME;

    memset(&c, 0, sizeof(c));
    c.c_mode = BWM_AVRO_JSON_READABLE;
    bwm_buf_init(&b);
    bwm_buf_init(&c.c_inflated);
    while ((ch = getopt_long(argc, argv, "t:b:r:c:X:hv", opts, NULL)) != -1) {
        switch (ch) {
            case 't':
                topic = optarg;
                break;
            case 'f':
                if (parse_from(optarg, &start)) {
                    fprintf(stderr, "bwm consume: --from takes earliest, latest, an offset, a "
                                    "time like 2026-01-01T10:00:00Z or -2h\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'p':
                partition = (int32_t)strtol(optarg, &end, 10);
                if (*end || partition < 0) {
                    fprintf(stderr, "bwm consume: --partition takes a number >= 0\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'n':
                count = strtoll(optarg, &end, 10);
                if (*end || count < 0) {
                    fprintf(stderr, "bwm consume: --count takes a number >= 0\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'F':
                follow = 1;
                break;
            case 'v':
                c.c_verbose = 1;
                break;
            case 'A':
                c.c_mode = BWM_AVRO_JSON_AVRO;
                break;
            case 's':
                schema_path = optarg;
                break;
            case 'h':
                consume_usage(stdout);
                return BWM_EXIT_OK;
            default:
                k = bwm_cli_common_opt(&xs, &path, ch, optarg, "consume");
                if (k <= 0) {
                    if (k == 0) {
                        consume_usage(stderr);
                    }
                    return BWM_EXIT_USAGE;
                }
                break;
        }
    }
    if (!topic || optind != argc) {
        consume_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, NULL, errstr, sizeof(errstr)) ||
        bwm_registry_new(conf, &c.c_reg, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm consume: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    if (schema_path) {
        size_t len;

        if (bwm_cli_read_file(schema_path, 1 << 20, &text, &len, errstr, sizeof(errstr)) ||
            !(c.c_raw = bwm_avro_schema_parse(text, len, errstr, sizeof(errstr)))) {
            fprintf(stderr, "bwm consume: --schema: %s\n", errstr);
            status = BWM_EXIT_USAGE;
            goto done;
        }
    }
    if (bwm_reader_new(conf, topic, partition, &start, 30000, &rdr, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm consume: %s\n", errstr);
        goto done;
    }
    bwm_cli_signals();
    while (!bwm_cli_stop && (count < 0 || printed < count)) {
        rd_kafka_message_t *m = bwm_reader_poll(rdr, 200);

        if (!m) {
            if (!follow && bwm_reader_at_end(rdr)) {
                break;
            }
            continue;
        }
        if (m->err) {
            fprintf(stderr, "bwm consume: %s\n", rd_kafka_message_errstr(m));
        } else {
            bwm_buf_reset(&b);
            if (render(&c, m, &b, errstr, sizeof(errstr)) == BWM_OK) {
                fwrite(b.b_data, 1, b.b_len, stdout);
                printed++;
            } else {
                fprintf(stderr, "bwm consume: %s [%d] @%" PRId64 ": %s\n", topic, (int)m->partition,
                        m->offset, errstr);
                failed++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    fprintf(stderr, "bwm consume: %lld records from %s", printed, topic);
    if (failed) {
        fprintf(stderr, ", %lld could not be decoded", failed);
    }
    fprintf(stderr, "\n");
    status = failed ? BWM_EXIT_RUNTIME : BWM_EXIT_OK;
done:
    bwm_buf_free(&b);
    bwm_buf_free(&c.c_inflated);
    bwm_avro_schema_destroy(c.c_raw);
    free(text);
    bwm_reader_destroy(rdr);
    bwm_registry_destroy(c.c_reg);
    bwm_conf_destroy(conf);
    return status;
}
