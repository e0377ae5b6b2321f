/*
 * test_fault_refusals.c - flt_apply refuses a spec that cannot apply, with
 * -EINVAL and a detail that says why, and changes nothing: a target that does
 * not exist (no such TaskManager, subtask or job), a fault that needs out but
 * gets none, a link fault with both ends the same or no delay, probabilities
 * outside their range, an nth hit of 0, an unknown failpoint mode or fault
 * kind.  One sim-world cluster with a running job; after every refusal no
 * failpoint is left enabled and the job still finishes exactly once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/faults_env.h"

/* flt_apply must refuse S with -EINVAL and a detail containing WANT. */
static void refused(struct cluster_env *e, struct flt_spec s, bool with_out, const char *want)
{
    struct flt_active *a = NULL;
    char d[256] = "";
    int rc = flt_apply(e->w, &s, with_out ? &a : NULL, d, sizeof(d));
    if (rc != -EINVAL || !strstr(d, want))
        fail_msg("kind %d: rc %d, detail '%s'; want -EINVAL and '%s'", (int)s.kind, rc, d, want);
    assert_null(a);
    assert_int_equal(flt_failpoints_active(), 0);
}

static void test_refusals(void **st)
{
    (void)st;
    struct cluster_env e;
    env_up(&e, RT_WORLD_SIM, 5, 0, 20000);
    struct flt_target tm0 = { .cluster = e.c, .tm = 0 }, tm1 = { .cluster = e.c, .tm = 1 };
    struct flt_target job = { .job = e.jobs[0], .subtask = 0 };

    /* Targets that do not exist. */
    refused(&e, (struct flt_spec){ .kind = FLT_KILL }, false, "no target (node, job or cluster)");
    refused(&e, (struct flt_spec){ .kind = FLT_KILL, .a = { .cluster = e.c, .tm = 9 } }, false,
            "has no TaskManager 9");
    refused(&e, (struct flt_spec){ .kind = FLT_KILL, .a = { .job = e.jobs[0], .subtask = 7 } },
            false, "has no slot for subtask 7");
    refused(&e, (struct flt_spec){ .kind = FLT_ADD_TM }, false, "no cluster given");
    refused(&e, (struct flt_spec){ .kind = FLT_FAIL_TASK }, true, "failing a task needs a job");
    refused(&e, (struct flt_spec){ .kind = FLT_FAIL_TASK, .a = { .job = e.jobs[0], .subtask = 5 },
                                   .nth = 1 }, true, "has no subtask 5");

    /* Faults that last need somewhere to put their handle. */
    refused(&e, (struct flt_spec){ .kind = FLT_EXHAUST_MEMORY, .a = tm0 }, false,
            "memory exhaustion needs out");
    refused(&e, (struct flt_spec){ .kind = FLT_DELAY, .a = tm0, .b = tm1, .delay_ns = MS }, false,
            "a link fault needs out");
    refused(&e, (struct flt_spec){ .kind = FLT_FAIL_TASK, .a = job, .nth = 1 }, false,
            "failing a task needs out");
    refused(&e, (struct flt_spec){ .kind = FLT_FAILPOINT_FAIL, .failpoint = "dfs/read" }, false,
            "a failpoint fault needs out");

    /* Links and probabilities. */
    refused(&e, (struct flt_spec){ .kind = FLT_PARTITION, .a = tm0, .b = tm0 }, true,
            "both ends are");
    refused(&e, (struct flt_spec){ .kind = FLT_DELAY, .a = tm0, .b = tm1 }, true,
            "delay needs delay_ns > 0");
    refused(&e, (struct flt_spec){ .kind = FLT_DROP, .a = tm0, .b = tm1, .probability = 1.5 },
            true, "probability 1.5 is not in (0, 1]");
    refused(&e, (struct flt_spec){ .kind = FLT_DUPLICATE, .a = tm0, .b = tm1 }, true,
            "probability 0 is not in (0, 1]");
    refused(&e, (struct flt_spec){ .kind = FLT_FAIL_TASK, .a = job, .probability = 2 }, true,
            "probability 2 is not in (0, 1]");

    /* Failpoint modes. */
    refused(&e, (struct flt_spec){ .kind = FLT_FAILPOINT_FAIL, .failpoint = "dfs/read",
                                   .fp_mode = FLT_FP_PROBABILITY, .probability = -0.5 }, true,
            "probability -0.5 is not in [0, 1]");
    refused(&e, (struct flt_spec){ .kind = FLT_FAILPOINT_FAIL, .failpoint = "dfs/read",
                                   .fp_mode = FLT_FP_NTH }, true, "nth hit needs nth >= 1");
    refused(&e, (struct flt_spec){ .kind = FLT_FAILPOINT_FAIL, .failpoint = "dfs/read",
                                   .fp_mode = 42 }, true, "unknown failpoint mode 42");
    refused(&e, (struct flt_spec){ .kind = (enum flt_kind)99, .a = tm0 }, true,
            "unknown fault kind 99");

    /* Nothing was applied: the job runs to the end, exactly once. */
    finishes_exactly_once(&e);
    assert_int_equal(atomic_load(&e.jobs[0]->ej->restarts), 0);
    env_down(&e);
}

/* With no world or spec there is nothing to apply; detail may be NULL. */
static void test_no_world(void **st)
{
    (void)st;
    struct flt_spec s = { .kind = FLT_KILL };
    char d[64] = "";
    assert_int_equal(flt_apply(NULL, &s, NULL, d, sizeof(d)), -EINVAL);
    assert_string_equal(d, "no world or spec");
    assert_int_equal(flt_apply(NULL, NULL, NULL, NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_no_world),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
