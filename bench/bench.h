/*
 * bench.h - `minicluster bench NAME`: each bench measures its figure and, in
 * the same run, the floor it is compared with (INTERFACE.md lists the keys).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>

#include <jansson.h>

/* Runs `bench` with its arguments (argv[0] is "bench").  Prints a readable
 * summary; with --json FILE writes the figures.  Returns the exit code. */
int bench_main(int argc, char **argv);

/* One bench: fills *out with its figures (a new object).  0 or -errno. */
int bench_spinup(json_t **out);
int bench_engine(json_t **out);
int bench_recovery(json_t **out);
int bench_modes(json_t **out);
int bench_sim(json_t **out);
int bench_api(json_t **out);

/* --quick: smaller sizes and one repetition (CI smoke runs); benches may ignore it. */
extern bool bench_quick;

/* Shared by the benches. */
double bench_median(double *v, int n);
double bench_now_ms(void);
/* The 1-minute load average (/proc/loadavg), -1 when unreadable: how busy the
 * machine was, reported next to figures it would skew. */
double bench_loadavg(void);

#endif
