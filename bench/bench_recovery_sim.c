/*
 * bench_recovery_sim.c - `minicluster bench recovery`: the figures.
 *
 * 1. Real world, tuned heartbeats (50 ms / 300 ms, RPC-failure threshold 2,
 *    restart delay 0): REPS runs of bench_rec_run (bench_recovery.c: a job
 *    with 100 MB of keyed state, a TaskManager crashed after two
 *    checkpoints).  Headline: restore_ms (attempt deployed -> RUNNING) over
 *    bound_ms (one thread reading and decoding the same state files), each
 *    the median of the runs, the ratio the median of the per-run ratios;
 *    with the breakdown detect / schedule / restore / catch-up.
 * 2. Sim world, Flink's defaults (heartbeat 10 s / 50 s, threshold 2,
 *    fixed-delay restart after 1 s, checkpoints every 5 s): the same run
 *    once with 10 MB of state (sim time does not depend on it with an
 *    unthrottled DFS; wall time does), the breakdown in virtual time
 *    ("sim_default_crash").
 * 3. Sim world, Flink's defaults, through the scenario runner (scn_run): the
 *    same job as a scenario with a *silent* kill (the host vanishes, found by
 *    the 50 s heartbeat timeout), its run object's "recovery"
 *    ("sim_default_kill").
 * --quick: 20 MB of state, one real run, no sim runs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_recovery.h"
#include "scenarios/run.h"

#define REPS 3
#define MS RT_NS_PER_MS

static void put(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, json_real(v));
}

static json_t *breakdown(const struct bench_rec_result *r)
{
    json_t *o = json_object();
    put(o, "detect_ms", r->detect_ms);
    put(o, "schedule_ms", r->schedule_ms);
    put(o, "restore_ms", r->restore_ms);
    put(o, "catchup_ms", r->catchup_ms);
    put(o, "total_ms", r->detect_ms + r->schedule_ms + r->restore_ms + r->catchup_ms);
    json_object_set_new(o, "state_bytes", json_integer((json_int_t)r->state_bytes));
    json_object_set_new(o, "restored_checkpoint", json_integer((json_int_t)r->restored_checkpoint));
    json_object_set_new(o, "replayed_records", json_integer((json_int_t)r->replayed_records));
    return o;
}

static void say(const char *what, const struct bench_rec_result *r)
{
    fprintf(stderr, "bench recovery: %-28s detect %9.1f  schedule %8.1f  restore %7.1f  "
            "catch-up %7.1f ms  (state %.1f MB, bound %.1f ms)\n", what, r->detect_ms,
            r->schedule_ms, r->restore_ms, r->catchup_ms, (double)r->state_bytes / 1e6,
            r->bound_ms);
}

/* The scenario of part 3: the bench's job at Flink's defaults, a silent kill. */
static const char kill_scenario[] =
    "cluster  taskmanagers=3 slots=1 provider=standalone ha=off\n"
    "config   cluster.evenly-spread-out-slots=true\n"
    "config   restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "config   execution.checkpointing.interval=5s state.checkpoints.num-retained=2\n"
    "deadline 400s\n"
    "seed     1\n"
    "job big  source=sequence(records=4M, keys=100k, rate=40k/s) | keyby | sum | sink "
    "parallelism=2 state=10MB\n"
    "when checkpoint big 2 done  kill taskmanager-of big[0]\n"
    "expect all jobs finished exactly-once\n";

static int scenario_kill(json_t **recovery)
{
    struct scn_scenario *s = NULL;
    struct scn_diags d = { 0 };
    int rc = scn_parse_text("bench-recovery.scn", kill_scenario, strlen(kill_scenario), &s, &d);
    if (rc < 0) {
        fprintf(stderr, "bench recovery: internal scenario does not parse:\n");
        scn_diags_print(stderr, &d);
        scn_diags_free(&d);
        return -EPROTO;
    }
    scn_diags_free(&d);
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_SIM, .quiet = true };
    json_t *run = NULL;
    char err[256];
    rc = scn_run(s, &o, &run, err, sizeof(err));
    scn_scenario_free(s);
    if (rc != SCN_RUN_OK) {
        fprintf(stderr, "bench recovery: scenario run (sim, Flink defaults) %s: %s\n",
                rc < 0 ? "failed" : "broke an expectation", rc < 0 ? err : "see its JSON");
        if (run)
            json_dumpf(json_object_get(run, "expectations"), stderr, JSON_INDENT(2));
        json_decref(run);
        return -EPROTO;
    }
    *recovery = json_deep_copy(json_object_get(run, "recovery"));
    json_object_set_new(*recovery, "sim_ms", json_deep_copy(json_object_get(run, "sim_ms")));
    json_object_set_new(*recovery, "wall_ms", json_deep_copy(json_object_get(run, "wall_ms")));
    json_decref(run);
    fprintf(stderr, "bench recovery: sim, Flink defaults, silent kill (scn_run): detect %.1f  "
            "restart %.1f  restore %.1f ms\n",
            json_number_value(json_object_get(*recovery, "detect_ms")),
            json_number_value(json_object_get(*recovery, "restart_ms")),
            json_number_value(json_object_get(*recovery, "restore_ms")));
    return 0;
}

int bench_recovery(json_t **out)
{
    struct bench_rec_params real = {
        .kind = RT_WORLD_REAL, .hb_interval_ns = 50 * MS, .hb_timeout_ns = 300 * MS,
        .restart_delay_ns = 100 * MS, .chk_interval_ns = 500 * MS,
        .records = 1500000, .keys = 100000, .rate = 250000, .bytes_per_key = 1000,
    };
    int reps = REPS;
    if (bench_quick) {
        real.keys = 20000;
        real.records = 400000;
        real.rate = 200000;
        real.chk_interval_ns = 200 * MS;
        reps = 1;
    }
    struct bench_rec_result r[REPS];
    double restore[REPS], bound[REPS], ratio[REPS], det[REPS], sch[REPS], cat[REPS], load[REPS];
    int rc;
    double t0 = bench_now_ms();
    for (int i = 0; i < reps; i++) {
        load[i] = bench_loadavg();
        if ((rc = bench_rec_run(&real, &r[i])) < 0)
            return rc;
        say("real, tuned heartbeats:", &r[i]);
        restore[i] = r[i].restore_ms;
        bound[i] = r[i].bound_ms;
        ratio[i] = r[i].restore_ms / r[i].bound_ms;
        det[i] = r[i].detect_ms;
        sch[i] = r[i].schedule_ms;
        cat[i] = r[i].catchup_ms;
    }
    json_t *o = json_object();
    json_object_set_new(o, "state_bytes", json_integer((json_int_t)r[0].state_bytes));
    put(o, "restore_ms", bench_median(restore, reps));
    put(o, "bound_ms", bench_median(bound, reps));
    put(o, "ratio_to_bound", bench_median(ratio, reps));
    put(o, "detect_ms", bench_median(det, reps));
    put(o, "schedule_ms", bench_median(sch, reps));
    put(o, "catchup_ms", bench_median(cat, reps));
    json_object_set_new(o, "repetitions", json_integer(reps));
    json_object_set_new(o, "state_files", json_integer(r[0].state_files));
    json_object_set_new(o, "keyed_state_bytes",
                        json_integer((json_int_t)(real.keys * real.bytes_per_key)));
    put(o, "loadavg_1min", bench_median(load, reps));
    json_t *runs = json_array();
    for (int i = 0; i < reps; i++) {
        json_t *b = breakdown(&r[i]);
        put(b, "bound_ms", r[i].bound_ms);
        put(b, "loadavg_1min", load[i]);
        json_array_append_new(runs, b);
    }
    json_object_set_new(o, "real_tuned", runs);
    if (!bench_quick) {
        struct bench_rec_params sim = real;
        sim.kind = RT_WORLD_SIM;
        sim.hb_interval_ns = 10000 * MS;
        sim.hb_timeout_ns = 50000 * MS;
        sim.restart_delay_ns = 1000 * MS;
        sim.chk_interval_ns = 5000 * MS;
        sim.rate = 20000;
        sim.records = 1600000;
        sim.keys = 10000;      /* 10 MB: restore is modelled time in sim, CPU is not */
        struct bench_rec_result rs;
        json_t *kill = NULL;
        if ((rc = bench_rec_run(&sim, &rs)) < 0 || (rc = scenario_kill(&kill)) < 0) {
            json_decref(o);
            return rc;
        }
        say("sim, Flink defaults, crash:", &rs);
        json_object_set_new(o, "sim_default_crash", breakdown(&rs));
        json_object_set_new(o, "sim_default_kill", kill);
    }
    put(o, "bench_wall_s", (bench_now_ms() - t0) / 1000.0);
    double q = bench_median(ratio, reps);
    if (!isfinite(q) || q <= 0) {
        fprintf(stderr, "bench recovery: ratio %g is not a positive number\n", q);
        json_decref(o);
        return -EPROTO;
    }
    *out = o;
    return 0;
}
