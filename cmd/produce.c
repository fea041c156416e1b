/*
 * produce.c: `bwm produce --generate N -t TOPIC` writes sample telemetry as
 * Confluent-framed Avro, keyed by vin, after registering the schema under
 * the topic's subject.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/telemetry.h"
#include "connectors/kafka/admin.h"
#include "connectors/kafka/sink.h"
#include "connectors/registry/registry.h"
#include "core/framing.h"

static void produce_usage(FILE *out)
{
    fprintf(out,
            "usage: bwm produce -t TOPIC --generate N [options]\n"
            "\n"
            "  -t, --topic TOPIC     topic to write to (must exist)\n"
            "  --generate N          write N sample telemetry records (schemas/telemetry.avsc)\n"
            "  --vehicles K          distinct vehicles, i.e. keys (default 500)\n"
            "  --seed S              generator seed; the same seed gives the same records "
            "(default 1)\n"
            "  --rate R              at most R records per second (default: as fast as possible)\n"
            "  -b, --brokers LIST    Kafka bootstrap servers (kafka.bootstrap.servers)\n"
            "  -r, --registry URL    schema registry (registry.url)\n"
            "  -c, --config FILE     configuration file for kafka.* and registry.* keys\n"
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

int bwm_cmd_produce(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},    {"generate", required_argument, NULL, 'n'},
        {"vehicles", required_argument, NULL, 'k'}, {"seed", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'R'},     {"brokers", required_argument, NULL, 'b'},
        {"registry", required_argument, NULL, 'r'}, {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *topic = NULL, *path = NULL;
    long long count = -1, vehicles = 500, seed = 1, rate = 0, i, t0, last_draw = 0;
    bwm_cli_xs_t xs = {0};
    bwm_conf_t *conf = NULL;
    bwm_registry_t *reg = NULL;
    bwm_sink_t *sink = NULL;
    bwm_telemetry_t *gen = NULL;
    bwm_buf_t b;
    char errstr[1024], subject[512], brokers[1024], registry[1024];
    int c, nparts, tty = bwm_cli_tty(), status = BWM_EXIT_RUNTIME;
    int32_t id;
    double secs;

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
                    fprintf(stderr, "bwm produce: too many -X flags\n");
                    return BWM_EXIT_USAGE;
                }
                break;
            case 'h':
                produce_usage(stdout);
                return BWM_EXIT_OK;
            default:
                produce_usage(stderr);
                return BWM_EXIT_USAGE;
        }
    }
    if (!topic || count < 0 || vehicles < 1 || vehicles > 10000000 || seed < 0 || rate < 0 ||
        optind != argc) {
        fprintf(stderr, "bwm produce: need -t TOPIC and --generate N (N >= 0, 1 <= --vehicles "
                        "<= 10000000, --seed and --rate >= 0)\n");
        produce_usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (bwm_cli_conf_load(path, &xs, &conf, NULL, errstr, sizeof(errstr)) ||
        bwm_registry_new(conf, &reg, errstr, sizeof(errstr)) ||
        bwm_sink_new(conf, &sink, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm produce: configuration error: %s\n", errstr);
        status = BWM_EXIT_USAGE;
        goto done;
    }
    gen = bwm_telemetry_new((uint64_t)seed, (int)vehicles, errstr, sizeof(errstr));
    if (!gen) {
        fprintf(stderr, "bwm produce: %s\n", errstr);
        goto done;
    }
    if (bwm_admin_partitions(bwm_sink_handle(sink), topic, 30000, &nparts, errstr,
                             sizeof(errstr))) {
        fprintf(stderr, "bwm produce: %s\n", errstr);
        goto done;
    }
    snprintf(subject, sizeof(subject), "%s-value", topic);
    if (bwm_registry_register(reg, subject, bwm_telemetry_avsc, &id, errstr, sizeof(errstr))) {
        fprintf(stderr, "bwm produce: %s\n", errstr);
        goto done;
    }
    bwm_cli_signals();
    t0 = bwm_cli_now_ms();
    for (i = 0; i < count && !bwm_cli_stop; i++) {
        const char *vin;
        long long now;

        bwm_buf_reset(&b);
        bwm_frame_put_confluent(&b, id);
        if (bwm_telemetry_next(gen, &b, &vin, errstr, sizeof(errstr)) ||
            bwm_sink_produce(sink, topic, RD_KAFKA_PARTITION_UA, vin, strlen(vin), b.b_data,
                             b.b_len, NULL, errstr, sizeof(errstr))) {
            fprintf(stderr, "bwm produce: %s\n", errstr);
            goto done;
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
            fprintf(stderr, "\rproduced %lld/%lld (%.0f%%)", i + 1, count,
                    100.0 * (double)(i + 1) / (double)count);
        }
    }
    if (bwm_sink_flush(sink, 60000, errstr, sizeof(errstr)) != BWM_OK) {
        fprintf(stderr, "%sbwm produce: %s\n", tty ? "\n" : "", errstr);
        goto done;
    }
    secs = (double)(bwm_cli_now_ms() - t0) / 1000.0;
    fprintf(stderr,
            "%sbwm produce: %lld records to %s (%d partitions, schema id %d, %lld vehicles, seed "
            "%lld) in %.1f s (%.0f records/s)\n",
            tty ? "\r" : "", i, topic, nparts, (int)id, vehicles, seed, secs,
            secs > 0 ? (double)i / secs : 0.0);
    status = bwm_cli_stop ? BWM_EXIT_RUNTIME : BWM_EXIT_OK;
done:
    bwm_buf_free(&b);
    bwm_telemetry_destroy(gen);
    bwm_sink_destroy(sink, 10000);
    bwm_registry_destroy(reg);
    bwm_conf_destroy(conf);
    return status;
}
