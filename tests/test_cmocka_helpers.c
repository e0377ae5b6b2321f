/*
 * test_cmocka_helpers.c - minicluster/cmocka.h used as a test writer would,
 * with a cluster per group: the group's tests share one cluster (a job
 * submitted by the first is there for the second), each prints the seed,
 * the seed comes from MINICLUSTER_SEED when set, and the assertions pass on
 * what they should pass on.  (The examples/ use the per-test fixture and
 * the differential assertion; the install test runs them.)
 */
#include "minicluster/cmocka.h"

static int shared_job;

static void test_first_submits(void **state)
{
    struct minicluster *mc = mc_cmocka_cluster(state);
    assert_mc_ok(mc, mc_submit(mc, "shared", "source=sequence(records=20k, keys=40, rate=20k/s) "
                               "| keyby | count | sink parallelism=2", &shared_job));
    assert_mc_ok(mc, mc_wait_checkpoint(mc, shared_job, 1, 10000));
    assert_mc_job_state(mc, shared_job, MC_JOB_RUNNING);
}

static void test_second_sees_the_same_cluster(void **state)
{
    struct minicluster *mc = mc_cmocka_cluster(state);
    assert_true(shared_job >= 1);
    assert_mc_ok(mc, mc_kill_taskmanager(mc, mc_taskmanager_of(mc, shared_job, 1)));
    assert_mc_ok(mc, mc_wait(mc, shared_job, MC_JOB_FINISHED, 60000));
    assert_mc_job_state(mc, shared_job, MC_JOB_FINISHED);
    assert_mc_exactly_once(mc, shared_job);
}

static void test_seed_from_environment(void **state)
{
    (void)state;
    /* The group's cluster took MINICLUSTER_SEED (meson sets it for this test). */
    const char *env = getenv("MINICLUSTER_SEED");
    assert_non_null(env);
    assert_int_equal(mc_cmocka_seed, strtoull(env, NULL, 10));
    assert_int_equal(mc_cmocka_pick_seed(), mc_cmocka_seed);
}

int main(void)
{
    mc_cmocka_default_options()->taskmanagers = 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_submits, mc_cmocka_test_seed),
        cmocka_unit_test_setup(test_second_sees_the_same_cluster, mc_cmocka_test_seed),
        cmocka_unit_test(test_seed_from_environment),
    };
    return cmocka_run_group_tests(tests, mc_cmocka_group_setup, mc_cmocka_group_teardown);
}
