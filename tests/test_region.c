/*
 * test_region.c - region failover executed by the job runner: a job of three
 * parallel forward pipelines (three pipelined regions of three tasks) loses
 * a task; with the region strategy only that pipeline's tasks get a new
 * attempt while the other two run on, with full every task does, and the
 * committed output is exactly once either way.  Also: failures in several
 * regions while a restart waits for its delay join that restart, and a
 * failed restore turns a region restart into a full one on the previous
 * checkpoint.  Every test runs in both worlds.
 *
 * The restart set comes from cluster/failover.c, as in the cluster; the
 * world is tests/engine_env.c's (a runner node, three task hosts, the DFS).
 * The test's place() records every deployment: which task, which attempt.
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
#include <fiu-control.h>
#include <fiu.h>

#include "minicluster/failover.h"
#include "engine/jobrun.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "tests/engine_env.h"
#include "tests/verdict.h"

#define PAR 3
#define NTASKS (3 * PAR)        /* per pipeline: source -> middle, sink1, sink2 */

struct harness {
    struct engine_env env;
    enum mc_failover failover;
    uint64_t restart_delay_ns;
    /* Written by place() on the runner's node, read by the test after the end. */
    atomic_uint deploys[NTASKS];
    atomic_uint attempt[NTASKS];        /* the latest one */
};

static void harness_up(struct harness *h, enum rt_world_kind kind, enum mc_failover failover)
{
    memset(h, 0, sizeof(*h));
    h->failover = failover;
    eenv_up(&h->env, kind, "region", 7);
}

/* Pipeline i runs on worker i, whatever the attempt. */
static rt_addr place(void *arg, uint32_t task, uint32_t attempt)
{
    struct harness *h = arg;
    atomic_fetch_add(&h->deploys[task], 1);
    atomic_store(&h->attempt[task], attempt);
    return atomic_load(&h->env.host[eng_execgraph_task(h->env.job->eg, task)->subtask % EENV_WORKERS]);
}

static int restart_set(void *arg, const uint32_t *failed, uint32_t nfailed, uint8_t *restart)
{
    struct harness *h = arg;
    return mc_failover_tasks(h->env.job->eg, h->failover, failed, nfailed, restart, NULL);
}

static int on_failure(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns)
{
    (void)failures;
    (void)reason;
    *delay_ns = ((struct harness *)arg)->restart_delay_ns;
    return 1;
}

/* source -> middle, then middle -> sink1 and middle -> sink2, all forward:
 * the fan-out stops chaining, so each of the PAR pipelines is three tasks
 * and two channels, a region of its own.  middle is FAIL at fail_at (on
 * attempt 0 only), or a MAP. */
static struct eng_jobgraph *pipelines(uint64_t records, uint64_t fail_at)
{
    struct eng_jobgraph *g = eng_jobgraph_new("pipelines");
    struct eng_op_args src = { .records = records, .keys = 50, .rate = 50000 };
    struct eng_op_args fa = { .at_record = fail_at };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, PAR, 0);
    int m = eng_jobgraph_add_vertex(g, "middle", fail_at ? ENG_OP_FAIL : ENG_OP_MAP,
                                    fail_at ? &fa : NULL, PAR, 0);
    int k1 = eng_jobgraph_add_vertex(g, "sink1", ENG_OP_SINK, NULL, PAR, 0);
    int k2 = eng_jobgraph_add_vertex(g, "sink2", ENG_OP_SINK, NULL, PAR, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)m, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, (uint32_t)m, (uint32_t)k1, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, (uint32_t)m, (uint32_t)k2, ENG_EDGE_FORWARD);
    return g;
}

static void submit(struct harness *h, struct eng_jobgraph *g, uint32_t retained)
{
    struct eng_jobrun_policy pol = { .place = place, .restart_set = restart_set,
                                     .on_failure = on_failure, .arg = h };
    eenv_submit(&h->env, g, 20, retained, &pol);
    assert_int_equal(eng_execgraph_task_count(h->env.job->eg), NTASKS);
    assert_int_equal(eng_execgraph_region_count(h->env.job->eg), PAR);
}

static void wait_checkpoint(struct harness *h, uint64_t id)
{
    assert_int_equal(eenv_wait_checkpoint(&h->env, id), 0);
    assert_int_equal(eng_job_state(h->env.job), ENG_JOB_RUNNING);
}

static bool has_event(struct harness *h, const char *text)
{
    for (struct eng_job_event *e = atomic_load(&h->env.job->events); e; e = e->next)
        if (strstr(e->text, text))
            return true;
    return false;
}

/* Every task of pipeline `subtask` was deployed `want` times, the last time
 * with an attempt > 0 exactly when want > 1. */
static void assert_deploys(struct harness *h, uint32_t subtask, unsigned want)
{
    for (uint32_t t = 0; t < NTASKS; t++) {
        if (eng_execgraph_task(h->env.job->eg, t)->subtask != subtask)
            continue;
        unsigned n = atomic_load(&h->deploys[t]), att = atomic_load(&h->attempt[t]);
        if (n != want || (att > 0) != (want > 1))
            fail_msg("task %u (pipeline %u): %u deployments, last attempt %u; want %u", t,
                     subtask, n, att, want);
    }
}

/* ---- the task/process failpoint, armed for one pipeline until a restart ---- */

static struct eng_fail_point fail_point;
static struct eng_job *fail_job;

/* libfiu's external callback: fail while the job has not restarted, so
 * the restarted tasks (whose record count starts again) run clean. */
static int until_restart(const char *name, int *failnum, void **failinfo, unsigned int *flags)
{
    (void)name;
    (void)failnum;
    (void)failinfo;
    (void)flags;
    return atomic_load(&fail_job->restarts) == 0;
}

/* A task of pipeline `subtask` fails at its next step. */
static void fail_pipeline(struct harness *h, uint32_t subtask)
{
    fail_point = (struct eng_fail_point){ .job = h->env.job->id, .subtask = subtask };
    fail_job = h->env.job;
    assert_int_equal(fiu_enable_external("task/process", 1, &fail_point, 0, until_restart), 0);
}

/* ---- one pipeline fails: region restarts it alone, full restarts all -------- */

static void one_fails_body(enum rt_world_kind kind, enum mc_failover failover)
{
    struct harness h;
    harness_up(&h, kind, failover);
    submit(&h, pipelines(30000, 0), 1);
    wait_checkpoint(&h, 2);
    fail_pipeline(&h, 1);
    assert_int_equal(rt_world_wait(h.env.w, eenv_job_ended, &h.env, EENV_WAIT_NS), 0);
    fiu_disable("task/process");
    assert_output(h.env.job, NULL, false);
    assert_int_equal(atomic_load(&h.env.job->restarts), 1);
    /* Restored from a checkpoint, not started afresh. */
    assert_true(has_event(&h, "attempt 1 deployed") && has_event(&h, "restoring checkpoint"));
    if (failover == MC_FAILOVER_REGION) {
        assert_int_equal(atomic_load(&h.env.job->tasks_restarted), 3);
        assert_true(has_event(&h, "3 of 9 tasks, region 1 of 3 (region failover)"));
        assert_deploys(&h, 0, 1);
        assert_deploys(&h, 1, 2);
        assert_deploys(&h, 2, 1);
    } else {
        assert_int_equal(atomic_load(&h.env.job->tasks_restarted), NTASKS);
        assert_true(has_event(&h, "9 of 9 tasks (full failover: the failover strategy restarts "
                                  "every task)"));
        for (uint32_t s = 0; s < PAR; s++)
            assert_deploys(&h, s, 2);
    }
    eenv_down(&h.env);
}

static void test_region_sim(void **s) { (void)s; one_fails_body(RT_WORLD_SIM, MC_FAILOVER_REGION); }
static void test_region_real(void **s) { (void)s; one_fails_body(RT_WORLD_REAL, MC_FAILOVER_REGION); }
static void test_full_sim(void **s) { (void)s; one_fails_body(RT_WORLD_SIM, MC_FAILOVER_FULL); }
static void test_full_real(void **s) { (void)s; one_fails_body(RT_WORLD_REAL, MC_FAILOVER_FULL); }

/* ---- every pipeline fails at its 5000th record, while the first restart waits
 * 300 ms: no failure is lost, each pipeline restarts once ----------------------- */

static void all_fail_body(enum rt_world_kind kind)
{
    struct harness h;
    harness_up(&h, kind, MC_FAILOVER_REGION);
    h.restart_delay_ns = 300 * RT_NS_PER_MS;
    submit(&h, pipelines(20000, 5000), 1);
    assert_int_equal(rt_world_wait(h.env.w, eenv_job_ended, &h.env, EENV_WAIT_NS), 0);
    assert_output(h.env.job, NULL, false);
    for (uint32_t s = 0; s < PAR; s++)
        assert_deploys(&h, s, 2);
    assert_int_equal(atomic_load(&h.env.job->tasks_restarted), NTASKS);
    /* The pipelines reach record 5000 within a few ms of each other: in the
     * simulated world (no scheduling noise) the later two always join the
     * waiting restart; real threads may take longer, and then restart apart. */
    if (kind == RT_WORLD_SIM) {
        assert_int_equal(atomic_load(&h.env.job->restarts), 1);
        assert_true(has_event(&h, "restart widened to 9 of 9 tasks, regions 0 1 2 of 3"));
    }
    eenv_down(&h.env);
}

static void test_all_fail_sim(void **s) { (void)s; all_fail_body(RT_WORLD_SIM); }
static void test_all_fail_real(void **s) { (void)s; all_fail_body(RT_WORLD_REAL); }

/* ---- the region's restore reads a corrupt file: the whole job restores the
 * committed checkpoint again ---------------------------------------------------- */

static void corrupt_body(enum rt_world_kind kind)
{
    struct harness h;
    harness_up(&h, kind, MC_FAILOVER_REGION);
    submit(&h, pipelines(30000, 0), 2);
    wait_checkpoint(&h, 3);
    /* The next read from the DFS - the restarted region's restore - comes
     * back with one byte flipped. */
    assert_int_equal(fiu_enable("dfs/corrupt", 1, NULL, FIU_ONETIME), 0);
    fail_pipeline(&h, 2);
    assert_int_equal(rt_world_wait(h.env.w, eenv_job_ended, &h.env, EENV_WAIT_NS), 0);
    fiu_disable("task/process");
    fiu_disable("dfs/corrupt");
    assert_int_equal(atomic_load(&h.env.job->restores_fell_back), 0);
    assert_true(has_event(&h, "3 of 9 tasks, region 2 of 3 (region failover)"));
    assert_true(has_event(&h, "9 of 9 tasks (full failover: a restore failed)"));
    assert_deploys(&h, 0, 2);
    assert_deploys(&h, 1, 2);
    assert_deploys(&h, 2, 3);
    /* As in test_engine: the committed checkpoint is restored again, whole,
     * so exactly once. */
    assert_output(h.env.job, NULL, false);
    eenv_down(&h.env);
}

static void test_corrupt_sim(void **s) { (void)s; corrupt_body(RT_WORLD_SIM); }
static void test_corrupt_real(void **s) { (void)s; corrupt_body(RT_WORLD_REAL); }

/* ---- the whole job fails while a region's new tasks restore: those tasks had
 * not reported (the runner could not cancel them yet), and must not run on
 * beside their successors ---------------------------------------------------- */

static bool region_deployed(void *arg)
{
    struct eng_job *j = arg;
    return atomic_load(&j->restarts) == 1 && eng_job_state(j) == ENG_JOB_CREATED;
}

/* On the runner's node: the whole job failed. */
static void send_job_fail(struct rt_node *n, void *arg)
{
    (void)n;
    static const char why[] = "the test fails the whole job";
    rt_send(NULL, atomic_load(&((struct engine_env *)arg)->runner), ENG_MSG_JOB_FAIL, why,
            sizeof(why));
}

/* Sim world only: it stops the world right after the region's deployment, a
 * moment real threads cannot be held at. */
static void test_fail_while_deploying_sim(void **s)
{
    (void)s;
    struct harness h;
    harness_up(&h, RT_WORLD_SIM, MC_FAILOVER_REGION);
    submit(&h, pipelines(30000, 0), 1);
    wait_checkpoint(&h, 2);
    fail_pipeline(&h, 0);
    assert_int_equal(rt_world_wait(h.env.w, region_deployed, h.env.job, EENV_WAIT_NS), 0);
    assert_int_equal(rt_node_call(h.env.jm, send_job_fail, &h.env), 0);
    assert_int_equal(rt_world_wait(h.env.w, eenv_job_ended, &h.env, EENV_WAIT_NS), 0);
    fiu_disable("task/process");
    assert_output(h.env.job, NULL, false);
    assert_int_equal(atomic_load(&h.env.job->restarts), 2);
    assert_true(has_event(&h, "9 of 9 tasks (full failover: the whole job failed)"));
    assert_deploys(&h, 0, 3);
    assert_deploys(&h, 1, 2);
    assert_deploys(&h, 2, 2);
    eenv_down(&h.env);
}

int main(void)
{
    fiu_init(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_sim),
        cmocka_unit_test(test_region_real),
        cmocka_unit_test(test_full_sim),
        cmocka_unit_test(test_full_real),
        cmocka_unit_test(test_all_fail_sim),
        cmocka_unit_test(test_all_fail_real),
        cmocka_unit_test(test_corrupt_sim),
        cmocka_unit_test(test_corrupt_real),
        cmocka_unit_test(test_fail_while_deploying_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
