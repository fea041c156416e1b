/*
 * telemetry.c: the sample generator: a xorshift PRNG, a small state machine
 * per vehicle, and avro-c generic values to encode each reading.
 */
#include "cmd/telemetry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

/* 2026-01-01T00:00:00Z: sample time starts here, whatever the wall clock says. */
#define EPOCH_MS 1767225600000LL

enum { PARKED, IDLE, DRIVING, CHARGING };

typedef struct vehicle {
    char v_vin[18];
    int64_t v_ts;
    int64_t v_odometer_m;
    int v_status;
    int v_trip;
    double v_speed;
    double v_fuel;
} vehicle_t;

struct bwm_telemetry {
    uint64_t g_rng;
    vehicle_t *g_vehicles;
    int g_nvehicles;
    avro_schema_t g_schema;
    avro_value_iface_t *g_iface;
    avro_value_t g_value;
    int g_value_ok;
    avro_writer_t g_writer;
    char g_trip[40];
    int g_in_order;
    int64_t g_clock_us; /* the shared clock of bwm_telemetry_in_order() */
};

/* Uniform in [0, 1). */
static double unit(bwm_telemetry_t *g)
{
    return (double)(bwm_xorshift64s(&g->g_rng) >> 11) / 9007199254740992.0;
}

void bwm_telemetry_destroy(bwm_telemetry_t *g)
{
    if (!g) {
        return;
    }
    if (g->g_writer) {
        avro_writer_free(g->g_writer);
    }
    if (g->g_value_ok) {
        avro_value_decref(&g->g_value);
    }
    if (g->g_iface) {
        avro_value_iface_decref(g->g_iface);
    }
    if (g->g_schema) {
        avro_schema_decref(g->g_schema);
    }
    free(g->g_vehicles);
    free(g);
}

bwm_telemetry_t *bwm_telemetry_new(uint64_t seed, int vehicles, char *errstr, size_t errstr_size)
{
    bwm_telemetry_t *g = calloc(1, sizeof(*g));
    int i;

    if (!g || vehicles < 1) {
        bwm_err_set(BWM_ERR_INVALID, errstr, errstr_size, "need at least one vehicle");
        free(g);
        return NULL;
    }
    g->g_rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    g->g_nvehicles = vehicles;
    g->g_vehicles = calloc((size_t)vehicles, sizeof(*g->g_vehicles));
    if (!g->g_vehicles) {
        bwm_err_set(BWM_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto err;
    }
    for (i = 0; i < vehicles; i++) {
        vehicle_t *v = &g->g_vehicles[i];

        snprintf(v->v_vin, sizeof(v->v_vin), "BWM%014d", i + 1);
        v->v_ts = EPOCH_MS + (int64_t)(unit(g) * 60000);
        v->v_odometer_m = (int64_t)(unit(g) * 200000000);
        v->v_status = PARKED;
        v->v_trip = 0;
        v->v_fuel = 20 + unit(g) * 80;
    }
    if (avro_schema_from_json_length(bwm_telemetry_avsc, strlen(bwm_telemetry_avsc),
                                     &g->g_schema) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "telemetry schema: %s", avro_strerror());
        g->g_schema = NULL;
        goto err;
    }
    g->g_iface = avro_generic_class_from_schema(g->g_schema);
    if (!g->g_iface || avro_generic_value_new(g->g_iface, &g->g_value) != 0) {
        bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "telemetry writer: %s", avro_strerror());
        goto err;
    }
    g->g_value_ok = 1;
    g->g_writer = avro_writer_memory(NULL, 0);
    if (!g->g_writer) {
        goto err;
    }
    return g;
err:
    bwm_telemetry_destroy(g);
    return NULL;
}

void bwm_telemetry_in_order(bwm_telemetry_t *g)
{
    int i;

    g->g_in_order = 1;
    g->g_clock_us = EPOCH_MS * 1000;
    for (i = 0; i < g->g_nvehicles; i++) {
        g->g_vehicles[i].v_ts = EPOCH_MS - 1500;
    }
}

/* Moves a vehicle one reading forward. */
static void step(bwm_telemetry_t *g, vehicle_t *v, int64_t *dt_ms)
{
    double r = unit(g);

    *dt_ms = 1000 + (int64_t)(unit(g) * 1000);
    switch (v->v_status) {
        case PARKED:
            if (r < 0.10) {
                v->v_status = IDLE;
                v->v_trip++;
            } else if (r < 0.12) {
                v->v_status = CHARGING;
            }
            break;
        case IDLE:
            v->v_status = r < 0.7 ? DRIVING : (r < 0.8 ? PARKED : IDLE);
            break;
        case DRIVING:
            v->v_status = r < 0.03 ? IDLE : DRIVING;
            break;
        case CHARGING:
            v->v_fuel = v->v_fuel + 5 > 100 ? 100 : v->v_fuel + 5;
            v->v_status = r < 0.2 ? PARKED : CHARGING;
            break;
    }
    if (v->v_status == DRIVING) {
        v->v_speed += (unit(g) - 0.45) * 20;
        v->v_speed = v->v_speed < 5 ? 5 : (v->v_speed > 160 ? 160 : v->v_speed);
        v->v_fuel = v->v_fuel > 1 ? v->v_fuel - 0.01 : 1;
    } else {
        v->v_speed = 0;
    }
}

static int set_field(avro_value_t *rec, const char *name, avro_value_t *out)
{
    return avro_value_get_by_name(rec, name, out, NULL);
}

bwm_err_t bwm_telemetry_next(bwm_telemetry_t *g, bwm_buf_t *b, const char **vin, char *errstr,
                             size_t errstr_size)
{
    vehicle_t *v = &g->g_vehicles[bwm_xorshift64s(&g->g_rng) % (uint64_t)g->g_nvehicles];
    avro_value_t f, br;
    int64_t dt_ms;
    double km;
    size_t size;
    int rc = 0;

    step(g, v, &dt_ms);
    if (g->g_in_order) {
        /* The clock moves by the vehicle's interval shared among all vehicles. */
        g->g_clock_us += dt_ms * 1000 / g->g_nvehicles;
        dt_ms = g->g_clock_us / 1000 - v->v_ts;
        v->v_ts = g->g_clock_us / 1000;
    } else {
        v->v_ts += dt_ms;
    }
    km = v->v_speed * (double)dt_ms / 3600000.0;
    v->v_odometer_m += (int64_t)(km * 1000);
    snprintf(g->g_trip, sizeof(g->g_trip), "%s-%d", v->v_vin, v->v_trip);
    avro_value_reset(&g->g_value);
    rc |= set_field(&g->g_value, "vin", &f) || avro_value_set_string(&f, v->v_vin);
    rc |= set_field(&g->g_value, "ts", &f) || avro_value_set_long(&f, v->v_ts);
    rc |= set_field(&g->g_value, "trip_id", &f) || avro_value_set_string(&f, g->g_trip);
    rc |= set_field(&g->g_value, "speed", &f) || avro_value_set_double(&f, v->v_speed);
    rc |= set_field(&g->g_value, "distance_km", &f) || avro_value_set_double(&f, km);
    rc |= set_field(&g->g_value, "odometer", &f) || avro_value_set_long(&f, v->v_odometer_m);
    rc |= set_field(&g->g_value, "ignition", &f) ||
          avro_value_set_boolean(&f, v->v_status == IDLE || v->v_status == DRIVING);
    rc |= set_field(&g->g_value, "fuel_level", &f);
    if (!rc && unit(g) < 0.1) {
        rc |= avro_value_set_branch(&f, 0, &br) || avro_value_set_null(&br);
    } else if (!rc) {
        rc |= avro_value_set_branch(&f, 1, &br) || avro_value_set_double(&br, v->v_fuel);
    }
    rc |= set_field(&g->g_value, "status", &f) || avro_value_set_enum(&f, v->v_status);
    if (rc || avro_value_sizeof(&g->g_value, &size) != 0 || bwm_buf_reserve(b, size) != BWM_OK) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot build a record: %s",
                           avro_strerror());
    }
    avro_writer_memory_set_dest(g->g_writer, (char *)b->b_data + b->b_len, (int64_t)size);
    if (avro_value_write(g->g_writer, &g->g_value) != 0) {
        return bwm_err_set(BWM_ERR_SCHEMA, errstr, errstr_size, "cannot write a record: %s",
                           avro_strerror());
    }
    b->b_len += size;
    *vin = v->v_vin;
    return BWM_OK;
}
