/*
 * test_api_errors.c - the library API's refusals, as a program that links
 * libminicluster meets them: each call returns the documented -errno and
 * mc_errmsg says what was wrong (a work directory that cannot be made, a
 * submit without its arguments or with a pipeline that does not parse - at
 * the pipeline's own column -, a job or TaskManager that does not exist, a
 * scenario that is missing or invalid).  The cluster is a sim world, so no
 * thread timing is involved; test_api.c covers the calls that succeed.
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

static void has(const char *msg, const char *want)
{
    if (!msg || !strstr(msg, want))
        fail_msg("want '%s' in '%s'", want, msg ? msg : "(null)");
}

static void test_open_refused(void **st)
{
    (void)st;
    struct mc_options o;
    struct minicluster *mc = NULL;
    mc_options_default(&o);
    o.world = MC_WORLD_SIM;
    o.workdir = "no-such-parent-dir/run";
    assert_int_equal(mc_open(&o, &mc), -ENOENT);
    assert_null(mc);
    has(mc_errmsg(NULL), "mc_open: cannot create no-such-parent-dir/run");
    o.workdir = NULL;
    o.slots = 0;
    assert_int_equal(mc_open(&o, &mc), -EINVAL);
    has(mc_errmsg(NULL), "taskmanagers must be 1..");
}

static void test_calls_refused(void **st)
{
    (void)st;
    struct mc_options o;
    struct minicluster *mc = NULL;
    int job = 0;
    mc_options_default(&o);
    o.world = MC_WORLD_SIM;
    assert_int_equal(mc_open(&o, &mc), 0);

    assert_int_equal(mc_submit(mc, NULL, "source=sequence(records=10) | sink", &job), -EINVAL);
    has(mc_errmsg(mc), "mc_submit: name, pipeline and job are required");
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=10) | mapp | sink", &job),
                     -EINVAL);
    has(mc_errmsg(mc), "mc_submit: invalid job \"j\": pipeline:1:31: unknown operator 'mapp'");
    assert_int_equal(mc_submit(mc, "j", "", &job), -EINVAL);
    has(mc_errmsg(mc), "mc_submit: invalid job \"j\": ");

    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, 99, &info), -ENOENT);
    has(mc_errmsg(mc), "mc_job_info: no job 99");

    assert_int_equal(mc_stop_taskmanager(mc, 7), -EINVAL);
    has(mc_errmsg(mc), "no TaskManager 7 (the cluster has 2)");
    int tm = mc_add_taskmanager(mc);
    assert_int_equal(tm, 2);                    /* the third, counted from 0 */
    assert_int_equal(mc_stop_taskmanager(mc, tm), 0);
    assert_int_equal(mc_stop_taskmanager(mc, -1), -EINVAL);
    has(mc_errmsg(mc), "no TaskManager -1 (the cluster has 3)");
    mc_close(mc);
}

static void test_scenario_refused(void **st)
{
    (void)st;
    char *json = NULL;
    assert_int_equal(mc_run_scenario(NULL, MC_MODE_SESSION, MC_WORLD_SIM, 1, &json), -EINVAL);
    has(mc_errmsg(NULL), "mc_run_scenario: no scenario text");
    assert_int_equal(mc_run_scenario("jobb a\n", MC_MODE_SESSION, MC_WORLD_SIM, 1, &json),
                     -EINVAL);
    has(mc_errmsg(NULL), "scenario:1:1: error: unknown statement 'jobb' (did you mean 'job'?)");
    assert_null(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_calls_refused),
        cmocka_unit_test(test_scenario_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
