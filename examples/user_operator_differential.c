/*
 * user_operator_differential.c - your own keyed operator under a
 * TaskManager crash, checked by the differential oracle: the pipeline runs
 * without faults and with a crash (same seed, sim world), and what the sinks
 * committed must agree key by key.  No reference model to write.
 *
 * Build against the installed library:
 *     cc user_operator_differential.c $(pkg-config --cflags --libs minicluster cmocka)
 */
#include <errno.h>
#include <string.h>

#include <minicluster/cmocka.h>
#include <minicluster/operator.h>

/* Per key: the running average of the values seen, in fixed point.  The
 * sum and count live in the engine's keyed state (8 + 8 bytes per key), so
 * checkpoints save them and a restart restores them. */
struct avg { int64_t sum, count; };

static int avg_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                       uint32_t n)
{
    (void)self;                             /* all its state is keyed */
    for (uint32_t i = 0; i < n; i++) {
        struct avg a = { 0, 0 };
        const void *data;
        uint32_t len;
        int rc = mc_state_get_bytes(ctx, in[i].key, &data, &len);
        if (rc == 0 && len == sizeof(a))
            memcpy(&a, data, sizeof(a));
        else if (rc < 0 && rc != -ENOENT)
            return rc;                      /* the task fails with mc_op_errmsg(ctx) */
        a.sum += in[i].value;
        a.count++;
        if ((rc = mc_state_put_bytes(ctx, in[i].key, &a, sizeof(a))) < 0)
            return rc;
        struct mc_record out = { in[i].key, a.sum * 1000 / a.count + a.count, in[i].ts };
        mc_emit(ctx, &out);
    }
    return 0;
}

static const struct mc_operator running_avg = {
    .name = "running_avg", .shape = MC_SHAPE_KEYED, .process = avg_process,
};

/* The fault plan of the faulted run: crash the TaskManager of subtask 0
 * once checkpoint 2 is done. */
static int crash_after_checkpoint_2(struct minicluster *mc, int job, void *arg)
{
    (void)arg;
    int rc = mc_wait_checkpoint(mc, job, 2, 30000);
    if (rc == 0)
        rc = mc_crash_taskmanager(mc, mc_taskmanager_of(mc, job, 0));
    return rc;
}

static void test_running_avg_survives_crash(void **state)
{
    (void)state;                            /* the oracle opens its own clusters */
    struct mc_differential d = {
        .pipeline = "source=sequence(records=60k, keys=300, rate=20k/s) | keyby | running_avg "
                    "| sink parallelism=2",
        .faults = crash_after_checkpoint_2,
    };
    d.options = *mc_cmocka_default_options();
    d.options.seed = mc_cmocka_seed = mc_cmocka_pick_seed();
    mc_cmocka_print_seed(d.options.seed);
    assert_mc_differential_same(&d);
}

/* The same operator, in a cluster of the test's own: exactly once against
 * the engine's reference model too (it runs user operators as well). */
static void test_running_avg_exactly_once(void **state)
{
    struct minicluster *mc = mc_cmocka_cluster(state);
    int job;
    assert_mc_ok(mc, mc_submit(mc, "avg", "source=sequence(records=30k, keys=100, rate=20k/s) "
                               "| keyby | running_avg | sink parallelism=2", &job));
    assert_mc_ok(mc, mc_wait_checkpoint(mc, job, 1, 10000));
    assert_mc_ok(mc, mc_crash_taskmanager(mc, mc_taskmanager_of(mc, job, 1)));
    assert_mc_ok(mc, mc_wait(mc, job, MC_JOB_FINISHED, 60000));
    assert_mc_exactly_once(mc, job);
}

int main(void)
{
    if (mc_register_operator(&running_avg) != 0) {
        fprintf(stderr, "%s\n", mc_errmsg(NULL));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_running_avg_survives_crash),
        cmocka_unit_test_setup_teardown(test_running_avg_exactly_once, mc_cmocka_setup,
                                        mc_cmocka_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
