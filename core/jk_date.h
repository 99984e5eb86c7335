/*
 * jk_date: calendar dates (proleptic Gregorian, no time of day), for
 * eligibility periods, certificate dates and date fields of simulated forms.
 *
 * A date is held as a count of days since 1970-01-01 (negative before), so
 * comparing and subtracting are integer operations. Month arithmetic clamps
 * to the last day of the month (2024-01-31 + 1 month = 2024-02-29), the
 * reading of "满 N 个月" used for eligibility: a period that starts on the
 * 31st completes on the last day of a shorter month.
 */
#ifndef JK_DATE_H
#define JK_DATE_H

#include <stdbool.h>
#include <stdint.h>

typedef int32_t jk_date_t; /* days since 1970-01-01 */

#define JK_DATE_MIN_YEAR 1900
#define JK_DATE_MAX_YEAR 2200

bool jk_date_valid_ymd(int y, int m, int d);
/* Returns false (and leaves *out alone) for an invalid date or a year
 * outside JK_DATE_MIN_YEAR..JK_DATE_MAX_YEAR. */
bool jk_date_from_ymd(int y, int m, int d, jk_date_t *out);
void jk_date_to_ymd(jk_date_t d, int *y, int *m, int *day);

/* Strict ISO "YYYY-MM-DD". */
bool jk_date_parse_iso(const char *s, jk_date_t *out);
/* Lenient, for typed answers: "2026-03-02", "2026/3/2", "2026.3.2",
 * "2026年3月2日", with optional surrounding white space. */
bool jk_date_parse_loose(const char *s, jk_date_t *out);
/* Writes "YYYY-MM-DD" (11 bytes with NUL). */
char *jk_date_format(jk_date_t d, char buf[11]);

/* d plus n months (n may be negative), clamped to the month's last day. */
jk_date_t jk_date_add_months(jk_date_t d, int n);

/* The date of a wall-clock instant in UTC+8 (China Standard Time), the time
 * zone of every date in this system. */
jk_date_t jk_date_from_wall_ms(int64_t wall_ms);

#endif
