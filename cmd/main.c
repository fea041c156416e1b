/*
 * main.c: the bwm command: dispatches to a subcommand and returns its exit
 * status (0 success, 1 runtime failure, 2 usage or configuration error).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/allocator.h"
#include "cmd/cli.h"
#include "cmd/commands.h"

/* Read by jemalloc in release builds (cmd/allocator.h). */
const char *malloc_conf = BWM_MALLOC_CONF;

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", bwm_cmd_run, "process the job's input continuously (a consumer-group member)"},
    {"replay", bwm_cmd_replay, "reprocess a range of the input into its own namespace and topic"},
    {"check", bwm_cmd_check, "validate the configuration and job; print the plan and schema"},
    {"produce", bwm_cmd_produce, "write sample telemetry as Confluent-framed Avro"},
    {"consume", bwm_cmd_consume, "print Avro records of a topic as JSON lines"},
    {"state", bwm_cmd_state, "inspect, compare (diff) or drop the states a job holds in Redis"},
    {"forward", bwm_cmd_forward, "send result topics to Core View over HTTP (batches, retries)"},
    {"config", bwm_cmd_config, "describe every configuration key"},
};

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: bwm <command> [options]   (bwm <command> --help for its options)\n\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    }
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return BWM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return BWM_EXIT_OK;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "bwm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return BWM_EXIT_USAGE;
}
