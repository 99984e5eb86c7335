/*
 * jk_clock: an injectable clock. Everything that reads time (session
 * deadlines, heartbeats, timeouts, log stamps) takes a const jk_clock_t * so
 * tests can substitute a fake one and move time by hand.
 *
 * Two readings: wall time (ms since the Unix epoch; may jump when the system
 * clock is set; used for what people see and for stamps that cross
 * processes) and monotonic time (us since an arbitrary origin; never jumps;
 * used for every interval and deadline inside one process).
 */
#ifndef JK_CLOCK_H
#define JK_CLOCK_H

#include <stdint.h>

typedef struct jk_clock {
    int64_t (*wall_ms)(void *ctx);  /* ms since 1970-01-01T00:00:00Z */
    int64_t (*mono_us)(void *ctx);  /* us since an arbitrary fixed origin */
    void *ctx;
} jk_clock_t;

/* The process's real clock (CLOCK_REALTIME / CLOCK_MONOTONIC). Static. */
const jk_clock_t *jk_clock_system(void);

static inline int64_t jk_clock_wall_ms(const jk_clock_t *c) { return c->wall_ms(c->ctx); }
static inline int64_t jk_clock_mono_us(const jk_clock_t *c) { return c->mono_us(c->ctx); }
static inline int64_t jk_clock_mono_ms(const jk_clock_t *c) { return c->mono_us(c->ctx) / 1000; }

/* A fake clock for tests: both readings start where given and move only when
 * told. Returned object owns itself; free with jk_clock_fake_destroy. */
typedef struct jk_clock_fake jk_clock_fake_t;
jk_clock_fake_t *jk_clock_fake_new(int64_t wall_ms, int64_t mono_us);
void jk_clock_fake_destroy(jk_clock_fake_t **f);
const jk_clock_t *jk_clock_fake_clock(const jk_clock_fake_t *f);
/* Moves both readings forward by us (negative us is ignored for mono). */
void jk_clock_fake_advance_us(jk_clock_fake_t *f, int64_t us);
/* Sets the wall reading only (a system clock step); monotonic is unchanged. */
void jk_clock_fake_set_wall_ms(jk_clock_fake_t *f, int64_t wall_ms);

/* A scaled clock for simulated sittings: from origin_wall_ms (a reading of
 * base's wall clock; 0 = now) wall time runs `scale` times faster:
 *     wall = origin + (base_wall - origin) * scale
 * so every process given the same origin and scale agrees on the time, also
 * across restarts. Monotonic time is scaled from the clock's creation. scale
 * 1 is the base clock. Used by examd's clock.scale setting so a 90-minute
 * exam can be simulated in minutes; never in a real sitting. */
typedef struct jk_clock_scaled jk_clock_scaled_t;
jk_clock_scaled_t *jk_clock_scaled_new(const jk_clock_t *base, double scale,
                                       int64_t origin_wall_ms);
void jk_clock_scaled_destroy(jk_clock_scaled_t **s);
const jk_clock_t *jk_clock_scaled_clock(const jk_clock_scaled_t *s);

/* Formats wall ms as RFC 3339 UTC with milliseconds
 * ("2026-11-30T02:42:00.123Z") into buf (>= 25 bytes). Returns buf. */
char *jk_clock_format_ms(int64_t wall_ms, char *buf, unsigned long size);

#endif
