/*
 * cmocka.h - fixtures and assertions for cmocka tests of minicluster
 * (header only: it needs cmocka, the library does not).
 *
 *     #include <minicluster/cmocka.h>
 *
 *     static void test_kill(void **state)
 *     {
 *         struct minicluster *mc = mc_cmocka_cluster(state);
 *         int job;
 *         assert_mc_ok(mc, mc_submit(mc, "j", "source=sequence(records=50k, keys=100, "
 *                                    "rate=20k/s) | keyby | sum | sink parallelism=2", &job));
 *         assert_mc_ok(mc, mc_wait_checkpoint(mc, job, 2, 10000));
 *         assert_mc_ok(mc, mc_kill_taskmanager(mc, mc_taskmanager_of(mc, job, 0)));
 *         assert_mc_ok(mc, mc_wait(mc, job, MC_JOB_FINISHED, 60000));
 *         assert_mc_exactly_once(mc, job);
 *     }
 *     int main(void)
 *     {
 *         const struct CMUnitTest tests[] = {
 *             cmocka_unit_test_setup_teardown(test_kill, mc_cmocka_setup, mc_cmocka_teardown),
 *         };
 *         return cmocka_run_group_tests(tests, NULL, NULL);
 *     }
 *
 * Fixtures: mc_cmocka_setup/mc_cmocka_teardown give each test a cluster of
 * its own; mc_cmocka_group_setup/mc_cmocka_group_teardown give the group
 * one, shared (its tests then use it through the group state; pass
 * mc_cmocka_test_seed as their setup to have the seed printed per test).
 * Clusters are opened from mc_cmocka_options, which a test's main may
 * change first (world, TaskManagers, checkpoint interval, ...).
 *
 * Seeds: each cluster's seed is MINICLUSTER_SEED from the environment when
 * set, a fresh one otherwise; it is printed before the test runs and again
 * with any failure, so a failing run replays with MINICLUSTER_SEED=N (in the
 * sim world exactly, event for event).
 *
 * Assert only on the test's own thread: callbacks (mc_on_checkpoint, ...)
 * run there, inside the API's waits, so they may assert too.
 */
#ifndef MINICLUSTER_CMOCKA_H
#define MINICLUSTER_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "minicluster/minicluster.h"

/* The options every fixture opens its cluster with; sim world by default.
 * Set before cmocka_run_group_tests (the seed is chosen per cluster). */
static struct mc_options mc_cmocka_options;
static int mc_cmocka_options_set;
static uint64_t mc_cmocka_seed;    /* the current cluster's */

struct mc_cmocka_fixture {
    struct minicluster *mc;
    uint64_t seed;
};

/* The default options (sim world, 3 TaskManagers), once. */
static inline struct mc_options *mc_cmocka_default_options(void)
{
    if (!mc_cmocka_options_set) {
        mc_options_default(&mc_cmocka_options);
        mc_cmocka_options.world = MC_WORLD_SIM;
        mc_cmocka_options.taskmanagers = 3;
        mc_cmocka_options_set = 1;
    }
    return &mc_cmocka_options;
}

/* MINICLUSTER_SEED when set (decimal), else a fresh seed from the clock and
 * the stack's address (randomised per process). */
static inline uint64_t mc_cmocka_pick_seed(void)
{
    const char *env = getenv("MINICLUSTER_SEED");
    if (env && *env)
        return strtoull(env, NULL, 10);
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                 ((uint64_t)(uintptr_t)&ts << 16);
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    return (z ^ (z >> 29)) % 1000000000ull + 1;    /* short enough to type */
}

static inline void mc_cmocka_print_seed(uint64_t seed)
{
    print_message("[ SEED     ] %llu (replay: MINICLUSTER_SEED=%llu)\n",
                  (unsigned long long)seed, (unsigned long long)seed);
}

/* Opens a cluster into *state (a struct mc_cmocka_fixture); 0 or -1. */
static inline int mc_cmocka_open(void **state)
{
    struct mc_cmocka_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    struct mc_options o = *mc_cmocka_default_options();
    o.seed = f->seed = mc_cmocka_seed = mc_cmocka_pick_seed();
    mc_cmocka_print_seed(f->seed);
    if (mc_open(&o, &f->mc) != 0) {
        print_error("mc_open: %s\n", mc_errmsg(NULL));
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int mc_cmocka_close(void **state)
{
    struct mc_cmocka_fixture *f = *state;
    if (f) {
        mc_close(f->mc);
        free(f);
    }
    *state = NULL;
    return 0;
}

/* A cluster per test (cmocka_unit_test_setup_teardown). */
static inline int mc_cmocka_setup(void **state) { return mc_cmocka_open(state); }
static inline int mc_cmocka_teardown(void **state) { return mc_cmocka_close(state); }
/* A cluster per group (cmocka_run_group_tests(tests, group_setup, group_teardown)). */
static inline int mc_cmocka_group_setup(void **state) { return mc_cmocka_open(state); }
static inline int mc_cmocka_group_teardown(void **state) { return mc_cmocka_close(state); }
/* A per-test setup for tests sharing a group cluster: prints the seed. */
static inline int mc_cmocka_test_seed(void **state)
{
    (void)state;
    mc_cmocka_print_seed(mc_cmocka_seed);
    return 0;
}

/* The fixture's cluster. */
static inline struct minicluster *mc_cmocka_cluster(void **state)
{
    return ((struct mc_cmocka_fixture *)*state)->mc;
}

static inline void mc_cmocka_fail_(const char *file, int line)
{
    print_error("replay with MINICLUSTER_SEED=%llu\n", (unsigned long long)mc_cmocka_seed);
    _fail(file, line);
}

/* rc must be 0 (or, for calls returning an index, >= 0); else prints
 * mc_errmsg(mc) and fails. */
#define assert_mc_ok(mc, expr) mc_cmocka_assert_ok_((mc), (expr), #expr, __FILE__, __LINE__)
static inline void mc_cmocka_assert_ok_(struct minicluster *mc, int rc, const char *what,
                                        const char *file, int line)
{
    if (rc >= 0)
        return;
    print_error("%s returned %d: %s\n", what, rc, mc_errmsg(mc));
    mc_cmocka_fail_(file, line);
}

/* The job is in `state` now; else prints its state and last error. */
#define assert_mc_job_state(mc, job, state) \
    mc_cmocka_assert_job_state_((mc), (job), (state), __FILE__, __LINE__)
static inline void mc_cmocka_assert_job_state_(struct minicluster *mc, int job,
                                               enum mc_job_state want, const char *file,
                                               int line)
{
    struct mc_job_info info;
    if (mc_job_info(mc, job, &info) != 0) {
        print_error("job %d: %s\n", job, mc_errmsg(mc));
        mc_cmocka_fail_(file, line);
        return;
    }
    if (info.state == want)
        return;
    print_error("job %d is %s, not %s (restarts %u, last error: %s)\n", job,
                mc_job_state_name(info.state), mc_job_state_name(want), info.restarts,
                info.last_error[0] ? info.last_error : "none");
    mc_cmocka_fail_(file, line);
}

/* The job finished and its sinks committed exactly what the reference model
 * says, key by key; else prints what was lost or duplicated and why. */
#define assert_mc_exactly_once(mc, job) \
    mc_cmocka_assert_exactly_once_((mc), (job), __FILE__, __LINE__)
static inline void mc_cmocka_assert_exactly_once_(struct minicluster *mc, int job,
                                                  const char *file, int line)
{
    struct mc_job_info info;
    if (mc_job_info(mc, job, &info) != 0) {
        print_error("job %d: %s\n", job, mc_errmsg(mc));
        mc_cmocka_fail_(file, line);
        return;
    }
    if (info.state == MC_JOB_FINISHED && info.exactly_once)
        return;
    print_error("job %d is not exactly-once: %s, %llu records committed, %llu lost, %llu "
                "duplicated, %u restarts, last error: %s\n", job,
                mc_job_state_name(info.state), (unsigned long long)info.records_committed,
                (unsigned long long)info.lost, (unsigned long long)info.duplicated,
                info.restarts, info.last_error[0] ? info.last_error : "none");
    mc_cmocka_fail_(file, line);
}

/* The differential oracle found no difference; else prints its report. */
#define assert_mc_differential_same(d) \
    mc_cmocka_assert_differential_((d), __FILE__, __LINE__)
static inline void mc_cmocka_assert_differential_(const struct mc_differential *d,
                                                  const char *file, int line)
{
    struct mc_diff_result r;
    int rc = mc_run_differential(d, &r);
    if (rc == MC_DIFF_SAME)
        return;
    if (rc < 0)
        print_error("mc_run_differential: %s\n", mc_errmsg(NULL));
    else
        print_error("differential: %s\n", r.text);
    print_error("replay with MINICLUSTER_SEED=%llu\n", (unsigned long long)d->options.seed);
    _fail(file, line);
}

#endif
