/*
 * replay_plan.c: resolving a replay's bounds into offset ranges.
 */
#include "cmd/replay_plan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/admin.h"
#include "connectors/kafka/assign.h"

/* The partitions to replay: the chosen ones (or all) that both bounds cover. */
static bwm_err_t choose(int nparts, const bwm_bound_t *from, const bwm_bound_t *to,
                        const int32_t *only, size_t nonly, int32_t **ids, size_t *n, char *errstr,
                        size_t errstr_size)
{
    const bwm_bound_t *lists[2] = {from, to};
    const char *names[2] = {"--from", "--to"};
    size_t i, k = 0, b;
    int64_t off;

    for (b = 0; b < 2; b++) {
        for (i = 0; i < lists[b]->b_n; i++) {
            if (lists[b]->b_offsets[i].bo_partition >= nparts) {
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "%s names partition %d; the input has %d partitions", names[b],
                                   (int)lists[b]->b_offsets[i].bo_partition, nparts);
            }
        }
    }
    *ids = calloc((size_t)nparts + 1, sizeof(**ids));
    if (!*ids) {
        return bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < (only ? nonly : (size_t)nparts); i++) {
        int32_t id = only ? only[i] : (int32_t)i;

        if (id >= nparts) {
            free(*ids);
            *ids = NULL;
            return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                               "--partitions names partition %d; the input has %d partitions",
                               (int)id, nparts);
        }
        for (b = 0; b < 2; b++) {
            if (!bwm_bound_covers(lists[b], id, &off) && only) {
                free(*ids);
                *ids = NULL;
                return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                   "--partitions names partition %d, for which %s gives no offset",
                                   (int)id, names[b]);
            }
        }
        if (bwm_bound_covers(from, id, &off) && bwm_bound_covers(to, id, &off)) {
            (*ids)[k++] = id;
        }
    }
    *n = k;
    return BWM_OK;
}

/* One bound's offset in a partition with offsets [low, high); at is the time's answer. */
static int64_t resolve(const bwm_bound_t *b, int32_t id, int64_t low, int64_t high, int64_t at)
{
    int64_t off = 0;

    switch (b->b_kind) {
        case BWM_BOUND_EARLIEST:
            return low;
        case BWM_BOUND_END:
            return high;
        case BWM_BOUND_TIME:
            off = at < 0 ? high : at;
            break;
        default:
            bwm_bound_covers(b, id, &off);
            break;
    }
    return off < low ? low : off > high ? high : off;
}

static int is_offsets(const bwm_bound_t *b)
{
    return b->b_kind == BWM_BOUND_OFFSET || b->b_kind == BWM_BOUND_OFFSETS;
}

bwm_err_t bwm_replay_plan_new(const bwm_conf_t *conf, const char *topic, const bwm_bound_t *from,
                              const bwm_bound_t *to, const int32_t *only, size_t nonly,
                              int timeout_ms, bwm_replay_plan_t *out, char *errstr,
                              size_t errstr_size)
{
    rd_kafka_t *rk = NULL;
    int32_t *ids = NULL;
    int64_t *at_from = NULL, *at_to = NULL;
    size_t n = 0, i;
    int nparts = 0;
    bwm_err_t err;

    memset(out, 0, sizeof(*out));
    if (from->b_kind == BWM_BOUND_TIME && to->b_kind == BWM_BOUND_TIME &&
        from->b_time_ms > to->b_time_ms) {
        return bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "--from is later than --to");
    }
    err = bwm_assign_handle(conf, &rk, errstr, errstr_size);
    if (!err) {
        err = bwm_admin_partitions(rk, topic, timeout_ms, &nparts, errstr, errstr_size);
    }
    if (!err) {
        err = choose(nparts, from, to, only, nonly, &ids, &n, errstr, errstr_size);
    }
    if (err) {
        goto done;
    }
    out->pl_ranges = calloc(n + 1, sizeof(*out->pl_ranges));
    at_from = calloc(n + 1, sizeof(*at_from));
    at_to = calloc(n + 1, sizeof(*at_to));
    if (!out->pl_ranges || !at_from || !at_to) {
        err = bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto done;
    }
    if (from->b_kind == BWM_BOUND_TIME && n > 0) {
        err = bwm_assign_times(rk, topic, ids, n, from->b_time_ms, timeout_ms, at_from, errstr,
                               errstr_size);
    }
    if (!err && to->b_kind == BWM_BOUND_TIME && n > 0) {
        err = bwm_assign_times(rk, topic, ids, n, to->b_time_ms, timeout_ms, at_to, errstr,
                               errstr_size);
    }
    /* The ends are read after the times: a time beyond them resolves to the end. */
    for (i = 0; !err && i < n; i++) {
        bwm_processor_range_t *rg = &out->pl_ranges[i];
        int64_t low, high;

        err = bwm_assign_bounds(rk, topic, ids[i], timeout_ms, &low, &high, errstr, errstr_size);
        if (err) {
            break;
        }
        rg->rg_partition = ids[i];
        rg->rg_start = resolve(from, ids[i], low, high, at_from[i]);
        rg->rg_end = resolve(to, ids[i], low, high, at_to[i]);
        if (rg->rg_start > rg->rg_end) {
            if (is_offsets(from) && is_offsets(to)) {
                err =
                    bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size,
                                "--from is after --to in partition %d (%" PRId64 " > %" PRId64 ")",
                                (int)ids[i], rg->rg_start, rg->rg_end);
                break;
            }
            rg->rg_end = rg->rg_start;
        }
        out->pl_total += (uint64_t)(rg->rg_end - rg->rg_start);
        out->pl_n++;
    }
done:
    free(ids);
    free(at_from);
    free(at_to);
    if (rk) {
        rd_kafka_destroy(rk);
    }
    if (err) {
        bwm_replay_plan_free(out);
    }
    return err;
}

void bwm_replay_plan_free(bwm_replay_plan_t *pl)
{
    free(pl->pl_ranges);
    memset(pl, 0, sizeof(*pl));
}

void bwm_replay_plan_print(const bwm_replay_plan_t *pl, FILE *out)
{
    size_t i;

    for (i = 0; i < pl->pl_n; i++) {
        const bwm_processor_range_t *rg = &pl->pl_ranges[i];

        fprintf(out, "  partition %d: offsets [%" PRId64 ", %" PRId64 "): %" PRId64 " records\n",
                (int)rg->rg_partition, rg->rg_start, rg->rg_end, rg->rg_end - rg->rg_start);
    }
    fprintf(out, "  total: %zu partitions, %" PRIu64 " records\n", pl->pl_n, pl->pl_total);
}
