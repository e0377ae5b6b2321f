/*
 * bench_modes.h - the pieces of `minicluster bench modes` (bench_modes.c:
 * session, per-job and application cycles; bench_modes_client.c: the
 * client's work per mode through the scenario runner).
 */
#ifndef BENCH_MODES_H
#define BENCH_MODES_H

#include <stdint.h>

#include <jansson.h>

struct mc_job;
struct eng_expected;
struct eng_jobgraph;

struct bench_modes_sizes {
    int seq;        /* session jobs submitted one at a time */
    int bursts;     /* session bursts */
    int burst;      /* jobs per burst (below the cluster's slots) */
    int cycles;     /* per-job and application cycles */
};

struct bench_modes_figs {
    double submit_ms, to_running_ms, to_finished_ms;    /* one at a time, medians */
    double submits_per_s, running_per_s, finished_per_s; /* bursts, medians */
    double burst_to_running_ms;                         /* median over burst jobs */
    uint32_t jobs;
};

/* The trivial job: source(100 records) -REBALANCE-> sink, parallelism 1. */
struct eng_jobgraph *bench_modes_graph(void);
/* 0 when j ended FINISHED, no restart, exactly the reference output;
 * else -EPROTO (said on stderr). */
int bench_modes_check(const struct mc_job *j, const struct eng_expected *ex);
/* Adds {session, per-job, application} client objects to `into`.  0 or
 * -EPROTO / -errno. */
int bench_modes_client(json_t *into);

#endif
