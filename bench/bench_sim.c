/*
 * bench_sim.c - `bench sim`: how much faster than real time the simulated
 * world runs a recovery.
 *
 * The scenario: 4 TaskManagers, two jobs, Flink's default heartbeats (10 s
 * interval, 50 s timeout - the scenario sets none), a TaskManager killed
 * silently at 30 s, so detection alone takes most of a simulated minute.
 * Run twice in the sim world (session mode): nearly idle (a trickle of
 * records: the figure is what skipping idle time buys) and with records
 * flowing (the figure is the engine's cost per simulated second).
 * speedup = simulated seconds / wall seconds; the floor is 1 (real time).
 * The medians of a few runs are reported.
 *
 * The built-in default scenario (session mode, its own seed) is measured
 * the same way: speedup_default, the figure issue 21 sets at >= 50.  Its
 * cpu_s_default is the thread's CPU time for the run (the sim world runs
 * on the calling thread), which a loaded machine inflates far less than
 * the wall time; speedup_default_cpu = simulated / CPU seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "scenarios/run.h"

#define SIM_HEAD                                                                          \
    "cluster taskmanagers=4 slots=2\n"                                                    \
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"  \
    "config restart-strategy.fixed-delay.delay=1s\n"                                      \
    "config execution.checkpointing.interval=10s\n"                                       \
    "deadline 900s\n"

#define SIM_TAIL                                                                          \
    "at 30s kill taskmanager-of a[0]\n"                                                   \
    "expect all jobs finished exactly-once\n"

/* About 240 simulated seconds, a few records a second. */
static const char idle_text[] = SIM_HEAD
    "job a source=sequence(records=2400, keys=100, rate=10/s) | keyby | count | sink parallelism=4\n"
    "job b source=sequence(records=1200, keys=100, rate=5/s) | keyby | sum | sink parallelism=4\n"
    SIM_TAIL;

/* About 120 simulated seconds with 3k records/s flowing through each job. */
static const char data_text[] = SIM_HEAD
    "job a source=sequence(records=360k, keys=1k, rate=3k/s) | keyby | count | sink parallelism=4\n"
    "job b source=sequence(records=360k, keys=1k, rate=3k/s) | keyby | sum | sink parallelism=4\n"
    SIM_TAIL;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs TEXT once (seed 0: the scenario's own); *sim_s, *wall_s and *cpu_s
 * out.  0 or -errno. */
static int run_once(const char *text, uint64_t seed, double *sim_s, double *wall_s,
                    double *cpu_s)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("bench-sim", text, strlen(text), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    if (rc < 0)
        return rc;
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_SIM,
                              .has_seed = seed != 0, .seed = seed, .quiet = true };
    json_t *run = NULL;
    char err[256] = "";
    double t0 = bench_now_ms(), c0 = thread_cpu_s();
    rc = scn_run(s, &o, &run, err, sizeof(err));
    *wall_s = (bench_now_ms() - t0) / 1e3;
    *cpu_s = thread_cpu_s() - c0;
    scn_scenario_free(s);
    if (rc < 0) {
        fprintf(stderr, "bench sim: %s\n", err);
        return rc;
    }
    if (rc != SCN_RUN_OK) {
        char *dump = json_dumps(json_object_get(run, "expectations"), 0);
        fprintf(stderr, "bench sim: the recovery scenario failed: %s\n", dump ? dump : "?");
        free(dump);
        json_decref(run);
        return -EPROTO;
    }
    /* A run the kill did not disturb would measure no recovery at all. */
    if (json_integer_value(json_object_get(json_object_get(run, "recovery"), "jobs_restarted")) < 1) {
        fprintf(stderr, "bench sim: the kill restarted no job: not a recovery\n");
        json_decref(run);
        return -EPROTO;
    }
    *sim_s = json_number_value(json_object_get(run, "sim_ms")) / 1e3;
    json_decref(run);
    return 0;
}

/* Medians over REPS runs of TEXT (seeds 1..REPS, or the scenario's own
 * each time when own_seed): speedup, simulated, wall and CPU seconds. */
static int measure(const char *text, int reps, bool own_seed, double *speedup, double *sim_s,
                   double *wall_s, double *cpu_s)
{
    double sp[5], sims[5], walls[5], cpus[5];
    for (int i = 0; i < reps; i++) {
        int rc = run_once(text, own_seed ? 0 : (uint64_t)i + 1, &sims[i], &walls[i], &cpus[i]);
        if (rc < 0)
            return rc;
        sp[i] = walls[i] > 0 ? sims[i] / walls[i] : 0;
    }
    *speedup = bench_median(sp, reps);
    *sim_s = bench_median(sims, reps);
    *wall_s = bench_median(walls, reps);
    *cpu_s = bench_median(cpus, reps);
    return 0;
}

int bench_sim(json_t **out)
{
    int reps = bench_quick ? 1 : 3;
    double sp, sim_s, wall_s, cpu_s, sp_data, sim_data, wall_data, cpu_data;
    double sp_def, sim_def, wall_def, cpu_def;
    int rc = measure(idle_text, reps, false, &sp, &sim_s, &wall_s, &cpu_s);
    if (rc == 0)
        rc = measure(data_text, reps, false, &sp_data, &sim_data, &wall_data, &cpu_data);
    if (rc == 0)
        rc = measure(scn_default_text, reps, true, &sp_def, &sim_def, &wall_def, &cpu_def);
    if (rc < 0)
        return rc;
    *out = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i}",
                     "simulated_s", sim_s, "wall_s", wall_s, "speedup", sp,
                     "speedup_with_data", sp_data, "simulated_s_with_data", sim_data,
                     "wall_s_with_data", wall_data, "speedup_default", sp_def,
                     "simulated_s_default", sim_def, "wall_s_default", wall_def,
                     "cpu_s_default", cpu_def,
                     "speedup_default_cpu", cpu_def > 0 ? sim_def / cpu_def : 0.0, "runs", reps);
    return 0;
}
