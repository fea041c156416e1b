/*
 * avrocheck.h: validates that bytes are one Avro datum of a schema before
 * avro-c reads them. avro-c's reader allocates whatever length a record
 * claims and leaks it when the bytes run out, and loops over any block count;
 * this check bounds every length by the bytes present, every union and enum
 * index by the schema, the nesting depth, and blocks of zero-size items, so
 * a hostile record costs nothing but its dead-letter entry.
 */
#ifndef BWM_AVROCHECK_H
#define BWM_AVROCHECK_H

#include <avro.h>
#include <stddef.h>

#include "err.h"

/* Deepest nesting of records, arrays, maps and unions accepted. */
#define BWM_AVRO_MAX_DEPTH 64
/* Most zero-size items (e.g. nulls in an array) in one record. */
#define BWM_AVRO_MAX_EMPTY_ITEMS 65536

/*
 * Checks that p[0 .. n) starts with one datum of schema and sets *used to
 * its length. BWM_ERR_DECODE with a message when it does not.
 */
bwm_err_t bwm_avro_check(avro_schema_t schema, const void *p, size_t n, size_t *used, char *errstr,
                         size_t errstr_size);

#endif
