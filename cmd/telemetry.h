/*
 * telemetry.h: a deterministic generator of sample vehicle telemetry
 * (schemas/telemetry.avsc): the same seed gives the same records, so demos
 * and tests are repeatable. Each vehicle drives, idles, parks and refuels
 * with its own clock, odometer and trips.
 */
#ifndef BWM_TELEMETRY_H
#define BWM_TELEMETRY_H

#include <avro.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* The schema text compiled in from schemas/telemetry.avsc. */
extern const char bwm_telemetry_avsc[];

typedef struct bwm_telemetry bwm_telemetry_t;

/* A generator over `vehicles` vehicles. Caller frees with bwm_telemetry_destroy(). */
bwm_telemetry_t *bwm_telemetry_new(uint64_t seed, int vehicles, char *errstr, size_t errstr_size);
void bwm_telemetry_destroy(bwm_telemetry_t *g);

/*
 * Stamps readings from one clock shared by all vehicles, so timestamps never
 * fall across the whole stream (and within each partition): windows with a
 * short grace see no late record. Each vehicle still reads about every 1.5 s.
 * Call before the first bwm_telemetry_next().
 */
void bwm_telemetry_in_order(bwm_telemetry_t *g);

/*
 * Appends the Avro body of the next record to b and points *vin (valid until
 * the next call) at its vehicle id, the record key.
 */
bwm_err_t bwm_telemetry_next(bwm_telemetry_t *g, bwm_buf_t *b, const char **vin, char *errstr,
                             size_t errstr_size);

#endif
