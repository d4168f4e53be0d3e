/*
 * Shadow VGA render cost on the host (the same code vsbypass runs): a full
 * 80x25 text screen, a one-character change (dirty tracking limits the
 * work to one cell) and an unchanged screen (no work). Median of repeated
 * runs, in nanoseconds and TSC cycles.
 */
#include "shadow/vga.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#define RUNS 501

static uint8_t planes[4 * 64 * 1024];
static uint32_t fb[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
static uint8_t text[80 * 25 * 2];

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Runs `step` RUNS times; prints the medians. */
static void measure(const char *name, struct vga *v, void (*step)(struct vga *, unsigned))
{
    static uint64_t ns[RUNS], cyc[RUNS];
    struct vga_rect r;
    for (unsigned i = 0; i < RUNS; i++) {
        step(v, i);
        uint64_t t0 = now_ns(), c0 = __rdtsc();
        vga_render(v, fb, VGA_MAX_WIDTH, &r);
        cyc[i] = __rdtsc() - c0;
        ns[i] = now_ns() - t0;
    }
    qsort(ns, RUNS, sizeof(ns[0]), cmp);
    qsort(cyc, RUNS, sizeof(cyc[0]), cmp);
    printf("  %-34s %10llu ns %12llu TSC cycles (median of %d)\n", name,
           (unsigned long long)ns[RUNS / 2], (unsigned long long)cyc[RUNS / 2], RUNS);
}

static void full_screen(struct vga *v, unsigned i)
{
    for (unsigned c = 0; c < 80 * 25; c++) {
        text[2 * c] = (uint8_t)('!' + (c + i) % 90);
        text[2 * c + 1] = (uint8_t)(0x07 + (i & 1) * 0x10);
    }
    vga_text_import(v, text, sizeof(text));
}

static void one_char(struct vga *v, unsigned i)
{
    text[2 * 1000] = (uint8_t)('A' + i % 26);
    vga_text_import(v, text, sizeof(text));
}

static void nothing(struct vga *v, unsigned i) { (void)v, (void)i; }

int main(void)
{
    struct vga v;
    vga_init(&v, planes);
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&v, &w, &h, &kind);
    printf("shadow VGA render (80x25 text, %ux%u pixels, host build -O2)\n", w, h);
    measure("full screen (every cell changed)", &v, full_screen);
    measure("one character changed", &v, one_char);
    measure("unchanged screen", &v, nothing);
    return 0;
}
