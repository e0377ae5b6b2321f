/*
 * test_user_op.c - user-defined operators (minicluster/operator.h) through
 * the public API only: a keyed operator and a source with opaque state
 * survive a TaskManager kill exactly once; parameters reach the operator;
 * a user error fails the task with the user's message and takes the restart
 * path; misuse (duplicate name, NULL callbacks, unknown operator, state
 * outside a keyed context, a map that is not one) is an error, never a
 * crash.  Sim world: the operators run on this thread, so they may record
 * what they saw in statics for the test to check.
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

/* ---- the operators ---------------------------------------------------------- */

/* Keyed running count per key, in the engine's keyed state. */
static int count_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                         uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int64_t c = 0;
        int rc = mc_state_get(ctx, in[i].key, &c);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        if ((rc = mc_state_put(ctx, in[i].key, ++c)) < 0)
            return rc;
        struct mc_record out = { in[i].key, c, in[i].ts };
        mc_emit(ctx, &out);
    }
    return 0;
}

/* A source of n records (parameter), keys 0..keys-1, its position opaque
 * state saved through snapshot/restore. */
struct src { int64_t next, n, keys; int64_t pause; unsigned calls; };
static unsigned src_restores;

static int src_open(struct mc_op_ctx *ctx, void *self)
{
    struct src *s = self;
    int64_t n = mc_op_param(ctx, "n", 100), p = mc_op_parallelism(ctx);
    /* Subtask i emits records i, i+p, i+2p, ... below n. */
    s->next = mc_op_subtask(ctx);
    s->n = n;
    s->keys = mc_op_param(ctx, "keys", 10);
    s->pause = mc_op_param(ctx, "pause", 0);
    (void)p;
    return 0;
}

static int src_produce(struct mc_op_ctx *ctx, void *self, uint32_t max)
{
    struct src *s = self;
    int64_t p = mc_op_parallelism(ctx);
    /* pause=K: emit nothing on K calls of K+1, which paces the source (an
     * empty call waits 1 ms) without a clock. */
    if (s->pause && s->calls++ % (unsigned)(s->pause + 1) != 0)
        return 0;
    for (uint32_t i = 0; i < max && s->next < s->n; i++, s->next += p) {
        struct mc_record r = { (uint64_t)(s->next % s->keys), 1, s->next };
        if (mc_emit(ctx, &r) < 0)
            return -EIO;
    }
    return s->next >= s->n ? MC_SOURCE_END : 0;
}

static int src_snapshot(struct mc_op_ctx *ctx, void *self, uint64_t chk)
{
    struct src *s = self;
    return mc_snapshot_write(ctx, &s->next, sizeof(s->next));
}

static int src_restore(struct mc_op_ctx *ctx, void *self, const void *data, size_t len)
{
    struct src *s = self;
    if (len != sizeof(s->next))
        return mc_op_fail(ctx, -EBADMSG, "restore: %zu bytes, wanted %zu", len,
                          sizeof(s->next));
    memcpy(&s->next, data, len);
    src_restores++;
    return 0;
}

/* A map that asks for keyed state: records what that returned, then fails
 * the task with the message. */
static int misuse_rc;
static char misuse_msg[256];
static int misuse_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                          uint32_t n)
{
    int64_t v;
    misuse_rc = mc_state_get(ctx, in[0].key, &v);
    snprintf(misuse_msg, sizeof(misuse_msg), "%s", mc_op_errmsg(ctx));
    return misuse_rc;
}

/* A "map" that drops records: breaks its shape's promise. */
static int dropper_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                           uint32_t n)
{
    for (uint32_t i = 0; i + 1 < n; i++)
        mc_emit(ctx, &in[i]);
    return 0;
}

/* A map that fails at value 500 with its own message. */
static int boom_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                        uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (in[i].ts == 500)
            return mc_op_fail(ctx, -EIO, "boom at record %lld", (long long)in[i].ts);
        mc_emit(ctx, &in[i]);
    }
    return 0;
}

/* A sink that counts what it gets and the commits it hears. */
static uint64_t sink_records, sink_commits, sink_closes;
static int sink_process(struct mc_op_ctx *ctx, void *self, const struct mc_record *in,
                        uint32_t n)
{
    sink_records += n;
    struct mc_record r = in[0];
    misuse_rc = mc_emit(ctx, &r);   /* a sink has no output */
    return 0;
}
static void sink_commit(struct mc_op_ctx *ctx, void *self, uint64_t chk) { sink_commits++; }
static void sink_close(struct mc_op_ctx *ctx, void *self) { sink_closes++; }

static const struct mc_operator ops[] = {
    { .name = "t_count", .shape = MC_SHAPE_KEYED, .process = count_process },
    { .name = "t_src", .shape = MC_SHAPE_SOURCE, .self_size = sizeof(struct src),
      .open = src_open, .produce = src_produce, .snapshot = src_snapshot,
      .restore = src_restore },
    { .name = "t_misuse", .shape = MC_SHAPE_MAP, .process = misuse_process },
    { .name = "t_dropper", .shape = MC_SHAPE_MAP, .process = dropper_process },
    { .name = "t_boom", .shape = MC_SHAPE_MAP, .process = boom_process },
    { .name = "t_sink", .shape = MC_SHAPE_SINK, .process = sink_process,
      .commit = sink_commit, .close = sink_close },
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

static struct minicluster *open_world(enum mc_world_kind w, unsigned tms, unsigned attempts)
{
    struct mc_options o;
    mc_options_default(&o);
    o.world = w;
    o.taskmanagers = tms;
    o.restart_attempts = attempts;
    struct minicluster *mc = NULL;
    if (mc_open(&o, &mc) != 0)
        fail_msg("mc_open: %s", mc_errmsg(NULL));
    return mc;
}

static struct minicluster *open_sim(unsigned tms, unsigned attempts)
{
    return open_world(MC_WORLD_SIM, tms, attempts);
}

/* Submits, lets a checkpoint or two complete, kills the TaskManager of
 * subtask 0, and checks the job finishes exactly once after a restart. */
static void kill_and_check_in(enum mc_world_kind w, const char *pipeline, uint64_t records)
{
    struct minicluster *mc = open_world(w, 3, 3);
    int job;
    if (mc_submit(mc, "j", pipeline, &job) != 0)
        fail_msg("%s", mc_errmsg(mc));
    if (mc_wait(mc, job, MC_JOB_RUNNING, 10000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    if (mc_wait_checkpoint(mc, job, 2, 20000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    int tm = mc_taskmanager_of(mc, job, 0);
    assert_true(tm >= 0);
    assert_int_equal(mc_kill_taskmanager(mc, tm), 0);
    if (mc_wait(mc, job, MC_JOB_FINISHED, 60000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, job, &info), 0);
    assert_true(info.restarts >= 1);
    assert_int_equal(info.records_committed, records);
    assert_int_equal(info.lost, 0);
    assert_int_equal(info.duplicated, 0);
    assert_true(info.exactly_once);
    mc_close(mc);
}

static void kill_and_check(const char *pipeline, uint64_t records)
{
    kill_and_check_in(MC_WORLD_SIM, pipeline, records);
}

/* Real threads: the operators run on the TaskManagers' threads. */
static void test_keyed_survives_kill_real(void **s)
{
    kill_and_check_in(MC_WORLD_REAL, "source=sequence(records=20k, keys=200, rate=20k/s) | keyby "
                      "| t_count | sink parallelism=2", 20000);
}

static void test_keyed_survives_kill(void **s)
{
    kill_and_check("source=sequence(records=20k, keys=200, rate=10k/s) | keyby | t_count | sink "
                   "parallelism=2", 20000);
}

static void test_source_state_survives_kill(void **s)
{
    src_restores = 0;
    /* ~256 records/ms per subtask: the kill comes mid-stream. */
    kill_and_check("source=t_src(n=2M, keys=50, pause=1) | keyby | t_count | sink "
                   "parallelism=2", 2000000);
    assert_true(src_restores >= 1);
}

static void test_user_sink(void **s)
{
    sink_records = sink_commits = sink_closes = 0;
    misuse_rc = 0;
    struct minicluster *mc = open_sim(2, 3);
    int job;
    if (mc_submit(mc, "j", "source=t_src(n=5000, keys=7) | keyby | t_count | t_sink "
                           "parallelism=2", &job) != 0)
        fail_msg("%s", mc_errmsg(mc));
    if (mc_wait(mc, job, MC_JOB_FINISHED, 60000) != 0)
        fail_msg("%s", mc_errmsg(mc));
    assert_int_equal(sink_records, 5000);
    assert_true(sink_commits >= 1);
    assert_int_equal(sink_closes, 2);
    assert_int_equal(misuse_rc, -EPERM);
    mc_close(mc);
}

/* A user error fails the task with the user's words and restarts the job
 * until the strategy gives up. */
static void test_user_error_restarts(void **s)
{
    struct minicluster *mc = open_sim(2, 2);
    int job;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=2k, keys=10) | t_boom | sink",
                               &job), 0);
    assert_int_equal(mc_wait(mc, job, MC_JOB_FINISHED, 60000), -ECANCELED);
    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, job, &info), 0);
    assert_int_equal(info.state, MC_JOB_FAILED);
    assert_int_equal(info.restarts, 2);
    if (!strstr(info.last_error, "boom at record 500") || !strstr(info.last_error, "t_boom"))
        fail_msg("last error: %s", info.last_error);
    mc_close(mc);
}

static void test_state_outside_keyed_context(void **s)
{
    struct minicluster *mc = open_sim(1, 0);
    int job;
    misuse_rc = 0;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=100) | t_misuse | sink", &job), 0);
    assert_int_equal(mc_wait(mc, job, MC_JOB_FINISHED, 60000), -ECANCELED);
    assert_int_equal(misuse_rc, -EPERM);
    assert_non_null(strstr(misuse_msg, "no keyed context"));
    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, job, &info), 0);
    if (!strstr(info.last_error, "no keyed context"))
        fail_msg("last error: %s", info.last_error);
    mc_close(mc);
}

static void test_map_shape_is_checked(void **s)
{
    struct minicluster *mc = open_sim(1, 0);
    int job;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=100) | t_dropper | sink", &job), 0);
    assert_int_equal(mc_wait(mc, job, MC_JOB_FINISHED, 60000), -ECANCELED);
    struct mc_job_info info;
    assert_int_equal(mc_job_info(mc, job, &info), 0);
    if (!strstr(info.last_error, "a map emitted"))
        fail_msg("last error: %s", info.last_error);
    mc_close(mc);
}

static void test_register_errors(void **s)
{
    struct mc_operator op = { .name = "t_count", .shape = MC_SHAPE_KEYED,
                              .process = count_process };
    assert_int_equal(mc_register_operator(&op), -EEXIST);
    assert_non_null(strstr(mc_errmsg(NULL), "already registered"));
    assert_int_equal(mc_register_operator(NULL), -EINVAL);
    op.name = "t_nocb";
    op.process = NULL;
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "NULL process"));
    op.shape = MC_SHAPE_SOURCE;
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "NULL produce"));
    op.shape = MC_SHAPE_MAP;
    op.process = count_process;
    op.name = "sum";
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "built-in"));
    op.name = "bad-name";
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "character 4"));
    op.name = NULL;
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    op.name = "t_shape";
    op.shape = (enum mc_op_shape)42;
    assert_int_equal(mc_register_operator(&op), -EINVAL);
    assert_non_null(strstr(mc_errmsg(NULL), "shape"));
}

/* An unknown operator: -EINVAL, its name and position in mc_errmsg; a user
 * operator in the wrong place: a clear message too. */
static void test_pipeline_errors(void **s)
{
    struct minicluster *mc = open_sim(1, 0);
    int job;
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=10) | t_cuont | sink", &job),
                     -EINVAL);
    const char *m = mc_errmsg(mc);
    if (!strstr(m, "unknown operator 't_cuont'") || !strstr(m, "pipeline:1:31:"))
        fail_msg("message: %s", m);
    assert_int_equal(mc_submit(mc, "j", "source=t_count | sink", &job), -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "not a source"));
    assert_int_equal(mc_submit(mc, "j", "source=t_src | t_sink | sink", &job), -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "last operator"));
    assert_int_equal(mc_submit(mc, "j", "source=sequence(records=10) | t_src | sink", &job),
                     -EINVAL);
    assert_non_null(strstr(mc_errmsg(mc), "can only come first"));
    mc_close(mc);
}

/* A user operator in a scenario run by this program. */
static void test_scenario(void **s)
{
    const char *text =
        "cluster taskmanagers=2 slots=2\n"
        "config execution.checkpointing.interval=100ms\n"
        "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
        "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=5\n"
        "job a source=t_src(n=300k, keys=30, pause=1) | keyby | t_count | sink parallelism=2\n"
        "when checkpoint a 2 done kill taskmanager-of a[0]\n"
        "expect all jobs finished exactly-once\n";
    char *json = NULL;
    int rc = mc_run_scenario(text, MC_MODE_SESSION, MC_WORLD_SIM, 7, &json);
    if (rc != 0) {
        fprintf(stderr, "run object: %s\n", json ? json : "(none)");
        fail_msg("rc %d: %s", rc, mc_errmsg(NULL));
    }
    /* The run object: the job restarted, and the user source's restore ran. */
    assert_non_null(strstr(json, "\"exactly_once\":true"));
    assert_null(strstr(json, "\"restarts\":0"));
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_errors),
        cmocka_unit_test(test_pipeline_errors),
        cmocka_unit_test(test_keyed_survives_kill),
        cmocka_unit_test(test_keyed_survives_kill_real),
        cmocka_unit_test(test_source_state_survives_kill),
        cmocka_unit_test(test_user_sink),
        cmocka_unit_test(test_user_error_restarts),
        cmocka_unit_test(test_state_outside_keyed_context),
        cmocka_unit_test(test_map_shape_is_checked),
        cmocka_unit_test(test_scenario),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
