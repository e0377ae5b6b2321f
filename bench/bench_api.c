/*
 * bench_api.c - `bench api`: what a test pays per cluster through the public
 * API.
 *
 * Figure: mc_open of a sim-world session cluster (2 TaskManagers, 2 slots),
 * mc_submit of a 10k-record keyed job, mc_wait until it has finished (its
 * final checkpoint committed the output), mc_close - the whole cycle a
 * cmocka test with a cluster per test goes through; the median of ROUNDS.
 * Floor, measured in the same run and the same way: mc_open and mc_close of
 * the same cluster with no job - the spin-up alone, which no test can
 * avoid.  Each job is checked exactly-once outside the timed part (a broken
 * run is not a fast one).  Flink's MiniCluster, for scale, takes about half
 * a second to start and stop (the figure, not measured here).
 */
#include <errno.h>
#include <stdio.h>

#include "bench/bench.h"
#include "minicluster/minicluster.h"

#define ROUNDS 50
#define ROUNDS_QUICK 5
#define JOB "source=sequence(records=10k, keys=100) | keyby | sum | sink"

static void options(struct mc_options *o, int round)
{
    mc_options_default(o);
    o->world = MC_WORLD_SIM;
    o->seed = (uint64_t)round + 1;
}

/* One open-run-close cycle; *ms out.  0 or -errno. */
static int cycle(int round, bool run_job, double *ms)
{
    struct mc_options o;
    options(&o, round);
    struct minicluster *mc = NULL;
    double t0 = bench_now_ms();
    int rc = mc_open(&o, &mc);
    if (rc < 0) {
        fprintf(stderr, "bench api: %s\n", mc_errmsg(NULL));
        return rc;
    }
    int job = 0;
    if (run_job && ((rc = mc_submit(mc, "bench", JOB, &job)) < 0 ||
                    (rc = mc_wait(mc, job, MC_JOB_FINISHED, 60000)) < 0)) {
        fprintf(stderr, "bench api: %s\n", mc_errmsg(mc));
        mc_close(mc);
        return rc;
    }
    struct mc_job_info info = { 0 };
    double t_run = bench_now_ms();
    if (run_job)
        mc_job_info(mc, job, &info);    /* runs the reference model: not timed */
    double t_info = bench_now_ms();
    mc_close(mc);
    *ms = (bench_now_ms() - t0) - (t_info - t_run);
    if (run_job && (!info.exactly_once || info.records_committed != 10000)) {
        fprintf(stderr, "bench api: the job committed %llu records, exactly-once %s\n",
                (unsigned long long)info.records_committed, info.exactly_once ? "yes" : "no");
        return -EPROTO;
    }
    return 0;
}

int bench_api(json_t **out)
{
    int n = bench_quick ? ROUNDS_QUICK : ROUNDS;
    double full[ROUNDS], floor[ROUNDS];
    /* Interleaved, so that a load burst on the machine hits both alike. */
    for (int i = 0; i < n; i++) {
        int rc = cycle(i, true, &full[i]);
        if (rc == 0)
            rc = cycle(i, false, &floor[i]);
        if (rc < 0)
            return rc;
    }
    double ms = bench_median(full, n), floor_ms = bench_median(floor, n);
    *out = json_pack("{s:f, s:f, s:f, s:i, s:f}", "open_run_close_ms", ms, "floor_ms", floor_ms,
                     "ratio_to_floor", floor_ms > 0 ? ms / floor_ms : 0.0, "rounds", n,
                     "loadavg", bench_loadavg());
    return 0;
}
