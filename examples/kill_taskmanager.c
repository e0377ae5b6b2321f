/*
 * kill_taskmanager.c - a built-in pipeline loses a TaskManager and still
 * commits every record exactly once.
 *
 * Build against the installed library:
 *     cc kill_taskmanager.c $(pkg-config --cflags --libs minicluster cmocka)
 * A failure prints its seed; MINICLUSTER_SEED=N ./a.out replays that run.
 */
#include <minicluster/cmocka.h>

/* Kill the TaskManager running subtask 0 once two checkpoints are done, and
 * check the job recovers from the last one without losing or duplicating a
 * record. */
static void test_kill_after_checkpoint(void **state)
{
    struct minicluster *mc = mc_cmocka_cluster(state);
    int job;
    assert_mc_ok(mc, mc_submit(mc, "orders", "source=sequence(records=50k, keys=500, "
                               "rate=25k/s) | keyby | sum | sink parallelism=2", &job));
    assert_mc_ok(mc, mc_wait_checkpoint(mc, job, 2, 10000));
    int tm = mc_taskmanager_of(mc, job, 0);
    assert_mc_ok(mc, tm);
    assert_mc_ok(mc, mc_kill_taskmanager(mc, tm));
    assert_mc_ok(mc, mc_wait(mc, job, MC_JOB_FINISHED, 60000));
    assert_mc_job_state(mc, job, MC_JOB_FINISHED);
    assert_mc_exactly_once(mc, job);

    struct mc_job_info info;
    assert_mc_ok(mc, mc_job_info(mc, job, &info));
    assert_true(info.restarts >= 1);            /* the kill did cost a restart */
    assert_int_equal(info.records_committed, 50000);
    assert_int_equal(mc_taskmanagers_lost(mc), 1);
}

/* The same kill, fired by a callback at the exact moment checkpoint 3
 * completes (in the sim world, before any other event). */
static void kill_at_3(struct minicluster *mc, int job, uint64_t checkpoint, void *arg)
{
    int *fired = arg;
    if (checkpoint == 3 && !*fired) {
        *fired = 1;
        assert_mc_ok(mc, mc_kill_taskmanager(mc, mc_taskmanager_of(mc, job, 1)));
    }
}

static void test_kill_from_callback(void **state)
{
    struct minicluster *mc = mc_cmocka_cluster(state);
    int job, fired = 0;
    assert_mc_ok(mc, mc_on_checkpoint(mc, kill_at_3, &fired));
    assert_mc_ok(mc, mc_submit(mc, "orders", "source=sequence(records=50k, keys=500, "
                               "rate=25k/s) | keyby | count | sink parallelism=2", &job));
    assert_mc_ok(mc, mc_wait(mc, job, MC_JOB_FINISHED, 60000));
    assert_int_equal(fired, 1);
    assert_mc_exactly_once(mc, job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_after_checkpoint, mc_cmocka_setup,
                                        mc_cmocka_teardown),
        cmocka_unit_test_setup_teardown(test_kill_from_callback, mc_cmocka_setup,
                                        mc_cmocka_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
