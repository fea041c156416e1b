/*
 * consume.c: `bwm consume -t TOPIC` prints a topic's Confluent-framed Avro
 * records as JSON lines, one per record, reading every partition by manual
 * assignment (no consumer group) and stopping at the end unless --follow.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "connectors/kafka/reader.h"
#include "connectors/registry/registry.h"
#include "core/avrojson.h"
#include "core/framing.h"

static void consume_usage(FILE *out)
{
    fprintf(out, "usage: bwm consume -t TOPIC [options]\n"
                 "\n"
                 "  -t, --topic TOPIC     topic to read\n"
                 "  --from earliest|latest  where to start (default earliest)\n"
                 "  --count N             stop after N records\n"
                 "  --follow              keep waiting for new records at the end\n"
                 "  -b, --brokers LIST    Kafka bootstrap servers (kafka.bootstrap.servers)\n"
                 "  -r, --registry URL    schema registry (registry.url)\n"
                 "  -c, --config FILE     configuration file for kafka.* and registry.* keys\n"
                 "  -X key=value          set a configuration key\n");
}

/* Renders one record as a JSON line into b; errstr says why not. */
static bwm_err_t render(bwm_registry_t *reg, const rd_kafka_message_t *m, bwm_buf_t *b,
                        char *errstr, size_t errstr_size)
{
    bwm_frame_t frame;
    const bwm_schema_t *schema;
    avro_schema_t as;
    avro_value_iface_t *iface;
    avro_value_t v;
    avro_reader_t rd;
    bwm_err_t err;

    err = bwm_frame_parse(m->payload, m->len, &frame, errstr, errstr_size);
    if (!err) {
        err = bwm_registry_get(reg, frame.f_schema_id, &schema, errstr, errstr_size);
    }
    if (err) {
        return err;
    }
    if (avro_schema_from_json_length(bwm_schema_json(schema), strlen(bwm_schema_json(schema)),
                                     &as) != 0) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "%s", avro_strerror());
    }
    iface = avro_generic_class_from_schema(as);
    avro_schema_decref(as);
    if (!iface || avro_generic_value_new(iface, &v) != 0) {
        if (iface) {
            avro_value_iface_decref(iface);
        }
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "%s", avro_strerror());
    }
    rd = avro_reader_memory((const char *)frame.f_body, (int64_t)frame.f_body_len);
    if (avro_value_read(rd, &v) != 0) {
        err = bwm_err_set(BWM_ERR_DECODE, errstr, errstr_size, "Avro body does not decode: %s",
                          avro_strerror());
    } else {
        err = bwm_avrojson_render(&v, b);
        bwm_buf_put_u8(b, '\n');
    }
    avro_reader_free(rd);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    return err;
}

int bwm_cmd_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'F'},
        {"brokers", required_argument, NULL, 'b'},
        {"registry", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *topic = NULL, *path = NULL;
    long long count = -1, printed = 0, failed = 0;
    int64_t start = RD_KAFKA_OFFSET_BEGINNING;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_registry_t *reg = NULL;
    bwm_reader_t *rdr = NULL;
    bwm_buf_t b;
    char errstr[1024], brokers[1024], registry[1024], *end;
    int c, follow = 0, status = BWM_EXIT_RUNTIME;

    bwm_buf_init(&b);
    while ((c = getopt_long(argc, argv, "t:b:r:c:X:h", opts, NULL)) != -1) {
        switch (c) {
            case 't':
                topic = optarg;
                break;
            case 'f':
                if (strcmp(optarg, "earliest") == 0) {
                    start = RD_KAFKA_OFFSET_BEGINNING;
                } else if (strcmp(optarg, "latest") == 0) {
                    start = RD_KAFKA_OFFSET_END;
                } else {
                    fprintf(stderr, "bwm consume: --from takes earliest or latest\n");
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
            case 'b':
                snprintf(brokers, sizeof(brokers), "kafka.bootstrap.servers=%s", optarg);
                bwm_cli_xs_add(&xs, brokers);
                break;
            case 'r':
                snprintf(registry, sizeof(registry), "registry.url=%s", optarg);
                bwm_cli_xs_add(&xs, registry);
                break;
            case 'c':
                path = optarg;
                break;
            case 'X':
                if (bwm_cli_xs_add(&xs, optarg) != BWM_OK) {
                    fprintf(stderr, "bwm consume: too many -X flags\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'h':
                consume_usage(stdout);
                return BWM_EXIT_OK;
            default:
                consume_usage(stderr);
                return BWM_EXIT_USAGE;
        }
    }
    if (!topic || optind != argc) {
        consume_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, NULL, errstr, sizeof(errstr)) ||
        bwm_registry_new(conf, &reg, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm consume: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    if (bwm_reader_new(conf, topic, -1, start, 30000, &rdr, errstr, sizeof(errstr))) {
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
            if (render(reg, m, &b, errstr, sizeof(errstr)) == BWM_OK) {
                fwrite(b.b_data, 1, b.b_len, stdout);
                printed++;
            } else {
                fprintf(stderr, "bwm consume: %s [%d] @%lld: %s\n", topic, (int)m->partition,
                        (long long)m->offset, errstr);
                failed++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    fprintf(stderr, "bwm consume: %lld records from %s%s\n", printed, topic,
            failed ? ", some could not be decoded" : "");
    status = failed ? BWM_EXIT_RUNTIME : BWM_EXIT_OK;
done:
    bwm_buf_free(&b);
    bwm_reader_destroy(rdr);
    bwm_registry_destroy(reg);
    bwm_conf_destroy(conf);
    return status;
}
