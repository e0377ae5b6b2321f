/*
 * test_differential.c - the differential oracle and the API's control of
 * moments and faults, through the public headers only:
 *   - a correct user keyed operator under a TaskManager kill: SAME;
 *   - a planted state-losing one (its counts in self, never snapshotted):
 *     DIFFERENT, with the first differing key and both values;
 *   - a planted non-deterministic one (a process-global counter):
 *     NONDETERMINISTIC;
 *   - a checkpoint callback fires at checkpoint 2 exactly, and a kill from it
 *     makes the same sim run twice (same restarts, same committed output);
 *   - job-state callbacks see RUNNING .. RESTARTING .. FINISHED;
 *   - mc_fail and mc_partition inject, mc_heal undoes;
 *   - bad input: NULL callbacks, unknown failpoints and nodes, a closed
 *     handle: error codes with messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minicluster/minicluster.h"
#include "minicluster/operator.h"

/* ---- the operators under test ------------------------------------------------- */

/* Correct: a running count per key in the engine's keyed state. */
static int good_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                        uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int64_t c;
        int rc = mc_state_get(ctx, in[i].key, &c);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        mc_state_put(ctx, in[i].key, ++c);
        struct mc_record out = { in[i].key, c, in[i].ts };
        mc_emit(ctx, &out);
    }
    return 0;
}

/* Planted bug: the counts live in the instance (self) and are never
 * snapshotted, so a restart starts them from zero. */
#define LOSSY_KEYS 1024
static int lossy_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                         uint32_t n)
{
    int64_t *count = self;
    for (uint32_t i = 0; i < n; i++) {
        struct mc_record out = { in[i].key, ++count[in[i].key % LOSSY_KEYS], in[i].ts };
        mc_emit(ctx, &out);
    }
    return 0;
}

/* Planted bug: values from a counter shared by every instance of every run. */
static int64_t global_tick;
static int nondet_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                          uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct mc_record out = { in[i].key, ++global_tick, in[i].ts };
        mc_emit(ctx, &out);
    }
    return 0;
}

static const struct mc_operator ops[] = {
    { .name = "d_good", .shape = MC_SHAPE_KEYED, .process = good_process },
    { .name = "d_lossy", .shape = MC_SHAPE_KEYED, .process = lossy_process,
      .self_size = LOSSY_KEYS * sizeof(int64_t) },
    { .name = "d_nondet", .shape = MC_SHAPE_MAP, .process = nondet_process },
};

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (mc_register_operator(&ops[i]) != 0) {
            fprintf(stderr, "register %s: %s\n", ops[i].name, mc_errmsg(NULL));
            return -1;
        }
    return 0;
}

static void options(struct mc_options *o)
{
    mc_options_default(o);
    o->world = MC_WORLD_SIM;
    o->taskmanagers = 3;
    o->seed = 11;
}

/* ---- the oracle ------------------------------------------------------------------ */

/* The fault plan: kill the TaskManager of subtask 0 once checkpoint 2 is done. */
static int kill_after_checkpoint_2(struct minicluster *mc, int job, void *arg)
{
    int rc = mc_wait_checkpoint(mc, job, 2, 30000);
    if (rc < 0)
        return rc;
    return mc_kill_taskmanager(mc, mc_taskmanager_of(mc, job, 0));
}

static void differential(const char *op, struct mc_diff_result *r, int want)
{
    char pipeline[200];
    snprintf(pipeline, sizeof(pipeline), "source=sequence(records=40k, keys=100, rate=20k/s) "
             "| keyby | %s | sink parallelism=2", op);
    struct mc_differential d = { .pipeline = pipeline, .faults = kill_after_checkpoint_2 };
    options(&d.options);
    int rc = mc_run_differential(&d, r);
    if (rc != want)
        fail_msg("%s: verdict %d, wanted %d: %s %s", op, rc, want, r->text,
                 rc < 0 ? mc_errmsg(NULL) : "");
    print_message("%s: %s\n", op, r->text);
}

static void test_correct_operator_same(void **s)
{
    struct mc_diff_result r;
    differential("d_good", &r, MC_DIFF_SAME);
    assert_int_equal(r.keys, 100);
    assert_int_equal(r.differing_keys, 0);
    assert_true(r.restarts >= 1);
    assert_non_null(strstr(r.text, "all 100 keys agree"));
}

static void test_state_losing_operator_caught(void **s)
{
    struct mc_diff_result r;
    differential("d_lossy", &r, MC_DIFF_DIFFERENT);
    assert_true(r.restarts >= 1);
    assert_true(r.differing_keys >= 1);
    /* Same records per key (the source replays exactly once), a smaller
     * largest count where the restart lost the state. */
    assert_true(r.present[0] && r.present[1]);
    assert_int_equal(r.records[0], r.records[1]);
    assert_int_equal(r.value[0], 400);         /* 40k records over 100 keys */
    assert_true(r.value[1] < r.value[0]);
    char key[40];
    snprintf(key, sizeof(key), "first key %llu", (unsigned long long)r.key);
    assert_non_null(strstr(r.text, key));
}

static void test_nondeterministic_operator_reported(void **s)
{
    struct mc_diff_result r;
    differential("d_nondet", &r, MC_DIFF_NONDETERMINISTIC);
    assert_true(r.differing_keys >= 1);
    assert_true(r.value[0] != r.value[1]);
    assert_non_null(strstr(r.text, "not a function of the input"));
}

static void test_differential_bad_input(void **s)
{
    struct mc_diff_result r;
    assert_int_equal(mc_run_differential(NULL, &r), -EINVAL);
    struct mc_differential d = { .pipeline = "source=sequence(records=10) | nope | sink" };
    options(&d.options);
    assert_int_equal(mc_run_differential(&d, &r), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "unknown operator 'nope'"));
}

/* ---- moments ---------------------------------------------------------------------- */

struct moment {
    uint64_t fired_at;      /* checkpoint id the kill came at */
    int job;
    int states[32];
    int nstates;
};

static void kill_at_2(struct minicluster *mc, int job, uint64_t chk, void *arg)
{
    struct moment *m = arg;
    if (chk == 2 && !m->fired_at) {
        m->fired_at = chk;
        assert_int_equal(mc_kill_taskmanager(mc, mc_taskmanager_of(mc, job, 0)), 0);
        /* Closing from a callback is refused: the wait still needs mc. */
        mc_close(mc);
        assert_non_null(strstr(mc_errmsg(mc), "not from inside a callback"));
        assert_true(mc_taskmanagers_registered(mc) >= 0);
    }
}

static void on_state(struct minicluster *mc, int job, enum mc_job_state st, void *arg)
{
    struct moment *m = arg;
    if (m->nstates < 32)
        m->states[m->nstates++] = (int)st;
}

static void run_with_callback(struct moment *m, struct mc_job_info *info)
{
    struct mc_options o;
    options(&o);
    struct minicluster *mc;
    assert_int_equal(mc_open(&o, &mc), 0);
    memset(m, 0, sizeof(*m));
    assert_int_equal(mc_on_checkpoint(mc, kill_at_2, m), 0);
    assert_int_equal(mc_on_job_state(mc, on_state, m), 0);
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=20k, keys=50, rate=20k/s) "
                                        "| keyby | d_good | sink parallelism=2", &m->job), 0);
    if (mc_wait(mc, m->job, MC_JOB_FINISHED, 60000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    assert_int_equal(mc_job_info(mc, m->job, info), 0);
    mc_close(mc);
}

static void test_checkpoint_callback_exact(void **s)
{
    struct moment a, b;
    struct mc_job_info ia, ib;
    run_with_callback(&a, &ia);
    run_with_callback(&b, &ib);
    assert_int_equal(a.fired_at, 2);
    assert_true(ia.exactly_once);
    assert_true(ia.restarts >= 1);
    /* The same moment in the same sim schedule: the same run. */
    assert_int_equal(ia.restarts, ib.restarts);
    assert_int_equal(ia.records_in, ib.records_in);
    assert_int_equal(ia.last_checkpoint, ib.last_checkpoint);
    /* The state callback saw the job run, restart, and finish, in order. */
    int want[] = { MC_JOB_RUNNING, MC_JOB_RESTARTING, MC_JOB_RUNNING, MC_JOB_FINISHED };
    int k = 0;
    for (int i = 0; i < a.nstates && k < 4; i++)
        if (a.states[i] == want[k])
            k++;
    if (k != 4)
        fail_msg("states seen: %d of RUNNING, RESTARTING, RUNNING, FINISHED (first %s)", k,
                 a.nstates ? mc_job_state_name((enum mc_job_state)a.states[0]) : "none");
}

/* ---- faults through the API ---------------------------------------------------- */

static void test_failpoint_and_partition(void **s)
{
    struct mc_options o;
    options(&o);
    o.restart_attempts = 20;
    struct minicluster *mc;
    assert_int_equal(mc_open(&o, &mc), 0);
    int job;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=30k, keys=50, rate=10k/s) "
                                        "| keyby | d_good | sink parallelism=2", &job), 0);
    assert_int_equal(mc_wait_checkpoint(mc, job, 1, 10000), 0);
    /* Every DFS write fails: no checkpoint completes meanwhile. */
    int f = mc_fail(mc, "dfs/write", NULL);
    assert_true(f >= 1);
    struct mc_job_info before, after;
    mc_job_info(mc, job, &before);
    mc_run_for(mc, 600);
    mc_job_info(mc, job, &after);
    assert_int_equal(after.last_checkpoint, before.last_checkpoint);
    assert_int_equal(mc_heal(mc, f), 0);
    assert_int_equal(mc_heal(mc, f), -ENOENT);
    assert_int_equal(mc_wait_checkpoint(mc, job, after.last_checkpoint + 1, 10000), 0);
    /* A TaskManager cut off from the JobManager is lost: the job restarts. */
    int tm = mc_taskmanager_of(mc, job, 0);
    int p = mc_partition(mc, tm, MC_JOBMANAGER);
    assert_true(p >= 1);
    mc_run_for(mc, 1500);
    assert_int_equal(mc_heal(mc, p), 0);
    if (mc_wait(mc, job, MC_JOB_FINISHED, 60000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    mc_job_info(mc, job, &after);
    assert_true(after.restarts >= 1);
    assert_true(after.exactly_once);
    mc_close(mc);
}

static void nop_checkpoint(struct minicluster *mc, int job, uint64_t c, void *arg) {}

static void test_bad_input(void **s)
{
    struct mc_options o;
    options(&o);
    struct minicluster *mc;
    assert_int_equal(mc_open(&o, &mc), 0);
    assert_int_equal(mc_on_checkpoint(mc, NULL, NULL), -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "NULL callback"));
    assert_int_equal(mc_on_job_state(mc, NULL, NULL), -EINVAL);
    assert_int_equal(mc_fail(mc, "dfs/nope", NULL), -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "unknown failpoint"));
    struct mc_fail bad = { .mode = MC_FAIL_PROBABILITY, .probability = 2 };
    assert_int_equal(mc_fail(mc, "dfs/read", &bad), -EINVAL);
    assert_int_equal(mc_partition(mc, 0, 99), -EINVAL);
    assert_int_equal(mc_partition(mc, 1, 1), -EINVAL);
    assert_int_equal(mc_wait_checkpoint(mc, 7, 1, 10), -ENOENT);
    mc_close(mc);

    /* A closed handle: every call says so, none crashes. */
    int job = 0;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=10) | sink", &job), -EBADF);
    assert_non_null(strstr(mc_errmsg(mc), "closed"));
    assert_int_equal(mc_wait(mc, 1, MC_JOB_RUNNING, 10), -EBADF);
    assert_int_equal(mc_run_for(mc, 10), -EBADF);
    assert_int_equal(mc_kill_taskmanager(mc, 0), -EBADF);
    assert_int_equal(mc_on_checkpoint(mc, nop_checkpoint, NULL), -EBADF);
    assert_int_equal(mc_fail(mc, "dfs/read", NULL), -EBADF);
    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, 1, &info), -EBADF);
    mc_close(mc);   /* twice: a no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_operator_same),
        cmocka_unit_test(test_state_losing_operator_caught),
        cmocka_unit_test(test_nondeterministic_operator_reported),
        cmocka_unit_test(test_differential_bad_input),
        cmocka_unit_test(test_checkpoint_callback_exact),
        cmocka_unit_test(test_failpoint_and_partition),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
