/*
 * calendar.h: conversions between day counts from 1970-01-01 and dates of
 * the proleptic Gregorian calendar (H. Hinnant's algorithms), exact over
 * the whole int64 range that matters here.
 */
#ifndef BWM_CORE_CALENDAR_H
#define BWM_CORE_CALENDAR_H

#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31; not checked). */
int64_t bwm_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of a day count from 1970-01-01. */
void bwm_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
