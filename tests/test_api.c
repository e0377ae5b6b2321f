/*
 * test_api.c - the public C API used the way a user's test would use it:
 * only <minicluster/minicluster.h>, in both worlds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minicluster/minicluster.h"

static struct minicluster *open_cluster(enum mc_world_kind w)
{
    struct mc_options o;
    mc_options_default(&o);
    o.world = w;
    o.taskmanagers = 3;
    struct minicluster *mc = NULL;
    if (mc_open(&o, &mc) != 0)
        fail_msg("mc_open: %s", mc_errmsg(NULL));
    return mc;
}

/* Two jobs; the TaskManager of one is killed; both finish exactly once and
 * the one that lost a task restarted. */
static void kill_body(enum mc_world_kind w)
{
    struct minicluster *mc = open_cluster(w);
    int a, b;
    assert_int_equal(mc_submit(mc, "a", "source=sequence(records=30k, keys=300, rate=30k/s) "
                                        "| keyby | count | sink parallelism=2", &a), 0);
    assert_int_equal(mc_submit(mc, "b", "source=sequence(records=10k, keys=100, rate=20k/s) "
                                        "| map | sink parallelism=1", &b), 0);
    if (mc_wait(mc, a, MC_JOB_RUNNING, 10000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    mc_run_for(mc, 300);                    /* a few checkpoints */
    int tm = mc_taskmanager_of(mc, a, 0);
    assert_true(tm >= 0);
    assert_int_equal(mc_kill_taskmanager(mc, tm), 0);
    if (mc_wait(mc, a, MC_JOB_FINISHED, 30000) != 0 || mc_wait(mc, b, MC_JOB_FINISHED, 30000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    struct mc_job_info ia, ib;
    assert_int_equal(mc_job_info(mc, a, &ia), 0);
    assert_int_equal(mc_job_info(mc, b, &ib), 0);
    assert_true(ia.exactly_once);
    assert_true(ib.exactly_once);
    assert_true(ia.restarts >= 1);
    assert_int_equal(ia.records_committed, 30000);
    assert_int_equal(mc_taskmanagers_lost(mc), 1);
    assert_non_null(strstr(ia.last_error, "timed out"));
    mc_close(mc);
}

static void test_kill_sim(void **s) { (void)s; kill_body(MC_WORLD_SIM); }
static void test_kill_real(void **s) { (void)s; kill_body(MC_WORLD_REAL); }

/* Misuse gets a clear error and changes nothing. */
static void test_errors(void **s)
{
    (void)s;
    struct mc_options o;
    mc_options_default(&o);
    o.taskmanagers = 0;
    struct minicluster *mc = NULL;
    assert_int_equal(mc_open(&o, &mc), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "taskmanagers"));

    mc = open_cluster(MC_WORLD_SIM);
    int j = 0;
    assert_int_equal(mc_submit(mc, "bad", "source=sequense(records=10) | sink", &j), -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "sequence"));    /* did you mean */
    assert_int_equal(mc_wait(mc, 42, MC_JOB_RUNNING, 10), -ENOENT);
    assert_int_equal(mc_kill_taskmanager(mc, 99), -EINVAL);
    assert_int_equal(mc_restart_taskmanager(mc, 0), -EALREADY);
    assert_int_equal(mc_submit(mc, "slow", "source=sequence(records=1M, rate=1k/s) | sink", &j), 0);
    assert_int_equal(mc_wait(mc, j, MC_JOB_FINISHED, 200), -ETIMEDOUT);
    assert_non_null(strstr(mc_errmsg(mc), "RUNNING"));
    /* Without high availability a JobManager crash means the job never
     * finishes: it either stays where it was or is declared failed. */
    assert_int_equal(mc_crash_jobmanager(mc), 0);
    int rc = mc_wait(mc, j, MC_JOB_FINISHED, 2000);
    assert_true(rc == -ETIMEDOUT || rc == -ECANCELED);
    mc_close(mc);
}

/* The same two-job application in each mode: same committed output, and
 * main()'s cost lands on the client except in application mode. */
static void test_application_modes(void **s)
{
    (void)s;
    const char *app =
        "cluster taskmanagers=2 slots=2\n"
        "config execution.checkpointing.interval=100ms\n"
        "job a source=sequence(records=20k, keys=100, rate=40k/s) | keyby | sum | sink parallelism=2\n"
        "job b source=sequence(records=10k, keys=50, rate=40k/s) | keyby | count | sink\n"
        "application shop jobs=a,b execute=blocking artifacts=2MB main-cpu=10ms\n"
        "expect all jobs finished exactly-once\n";
    const enum mc_mode modes[] = { MC_MODE_SESSION, MC_MODE_PER_JOB, MC_MODE_APPLICATION };
    for (int m = 0; m < 3; m++) {
        char *json = NULL;
        int rc = mc_run_scenario(app, modes[m], MC_WORLD_SIM, 1, &json);
        if (rc != 0)
            fail_msg("mode %d: %d %s %s", m, rc, mc_errmsg(NULL), json ? json : "");
        assert_non_null(json);
        bool client_paid = strstr(json, "\"bytes_downloaded\":2000000") != NULL;
        assert_true(m == 2 ? !client_paid : client_paid);
        free(json);
    }
    assert_int_equal(mc_run_scenario("job x source=sequense(records=1) | sink\n", MC_MODE_SESSION,
                                     MC_WORLD_SIM, 1, NULL), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "scenario:1:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_sim),
        cmocka_unit_test(test_kill_real),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_application_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
