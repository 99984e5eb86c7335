/* jk_clock: system and fake clocks. */
#include "jk_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t s_sys_wall_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t s_sys_mono_us(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const jk_clock_t s_system = { s_sys_wall_ms, s_sys_mono_us, NULL };

const jk_clock_t *jk_clock_system(void) { return &s_system; }

struct jk_clock_fake {
    jk_clock_t clock; /* ctx points back at this object */
    int64_t wall_ms;
    int64_t mono_us;
};

static int64_t s_fake_wall_ms(void *ctx) { return ((jk_clock_fake_t *)ctx)->wall_ms; }
static int64_t s_fake_mono_us(void *ctx) { return ((jk_clock_fake_t *)ctx)->mono_us; }

jk_clock_fake_t *jk_clock_fake_new(int64_t wall_ms, int64_t mono_us)
{
    jk_clock_fake_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->clock.wall_ms = s_fake_wall_ms;
    f->clock.mono_us = s_fake_mono_us;
    f->clock.ctx = f;
    f->wall_ms = wall_ms;
    f->mono_us = mono_us;
    return f;
}

void jk_clock_fake_destroy(jk_clock_fake_t **f)
{
    if (!f || !*f)
        return;
    free(*f);
    *f = NULL;
}

const jk_clock_t *jk_clock_fake_clock(const jk_clock_fake_t *f) { return &f->clock; }

void jk_clock_fake_advance_us(jk_clock_fake_t *f, int64_t us)
{
    if (us <= 0)
        return;
    f->mono_us += us;
    f->wall_ms += us / 1000;
}

void jk_clock_fake_set_wall_ms(jk_clock_fake_t *f, int64_t wall_ms) { f->wall_ms = wall_ms; }

char *jk_clock_format_ms(int64_t wall_ms, char *buf, unsigned long size)
{
    time_t secs = (time_t)(wall_ms / 1000);
    int ms = (int)(wall_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, size, "invalid-time");
        return buf;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

struct jk_clock_scaled {
    jk_clock_t clock;
    const jk_clock_t *base;
    double scale;
    int64_t wall0_ms, mono0_us;
};

static int64_t s_scaled_wall_ms(void *ctx)
{
    jk_clock_scaled_t *s = ctx;
    int64_t d = jk_clock_wall_ms(s->base) - s->wall0_ms;
    return s->wall0_ms + (int64_t)((double)d * s->scale);
}

static int64_t s_scaled_mono_us(void *ctx)
{
    jk_clock_scaled_t *s = ctx;
    int64_t d = jk_clock_mono_us(s->base) - s->mono0_us;
    return s->mono0_us + (int64_t)((double)d * s->scale);
}

jk_clock_scaled_t *jk_clock_scaled_new(const jk_clock_t *base, double scale,
                                       int64_t origin_wall_ms)
{
    if (!(scale > 0))
        return NULL;
    jk_clock_scaled_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base ? base : jk_clock_system();
    s->scale = scale;
    s->wall0_ms = origin_wall_ms > 0 ? origin_wall_ms : jk_clock_wall_ms(s->base);
    s->mono0_us = jk_clock_mono_us(s->base);
    s->clock.wall_ms = s_scaled_wall_ms;
    s->clock.mono_us = s_scaled_mono_us;
    s->clock.ctx = s;
    return s;
}

void jk_clock_scaled_destroy(jk_clock_scaled_t **s)
{
    if (!s || !*s)
        return;
    free(*s);
    *s = NULL;
}

const jk_clock_t *jk_clock_scaled_clock(const jk_clock_scaled_t *s) { return &s->clock; }
