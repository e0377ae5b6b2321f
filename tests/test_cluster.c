/*
 * test_cluster.c - a session cluster: TaskManagers register, jobs get slots
 * and run, a lost TaskManager is detected the way Flink detects it, and the
 * jobs that had a task there - and only those - restart from their latest
 * checkpoint, exactly once; with region failover only the tasks in the lost
 * slots restart (and what their regions take along).  Every test runs in
 * both worlds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minicluster/cluster.h"
#include "engine/operator.h"
#include "tests/cluster_env.h"
#include "tests/verdict.h"

#define WAIT_NS (120 * RT_NS_PER_SEC)
#define NJOBS 3
_Static_assert(NJOBS <= CENV_JOBS, "struct cluster_env keeps the jobs cenv_down frees");

/* source -> middle, then middle -> sink1 and middle -> sink2, all forward:
 * `par` pipelines of three tasks, each a pipelined region of its own. */
static struct eng_jobgraph *pipelines_graph(const char *name, uint64_t records, uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new(name);
    struct eng_op_args src = { .records = records, .keys = 50, .rate = 20000 };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, par, 0);
    int m = eng_jobgraph_add_vertex(g, "middle", ENG_OP_MAP, NULL, par, 0);
    int k1 = eng_jobgraph_add_vertex(g, "sink1", ENG_OP_SINK, NULL, par, 0);
    int k2 = eng_jobgraph_add_vertex(g, "sink2", ENG_OP_SINK, NULL, par, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)m, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, (uint32_t)m, (uint32_t)k1, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, (uint32_t)m, (uint32_t)k2, ENG_EDGE_FORWARD);
    return g;
}

/* A session cluster of tms TaskManagers (seed 5) with the given failover. */
static void env_up(struct cluster_env *e, enum rt_world_kind kind, uint32_t tms,
                   enum mc_failover failover)
{
    cenv_up(e, kind, "cluster", 5, 100000);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, tms);
    cfg.failover = failover;
    cenv_start(e, "session", &cfg);
}

static void submit_all(struct cluster_env *e, uint64_t records)
{
    static const char *names[NJOBS] = { "orders", "clicks", "audit" };
    char err[256];
    for (int i = 0; i < NJOBS; i++)
        assert_int_equal(mc_cluster_submit(e->c, cenv_keyed_graph(names[i], records, 2),
                                           (uint32_t)i + 1, NULL, &e->jobs[i], err, sizeof(err)),
                         0);
}

static bool jobs_running(void *arg)
{
    struct cluster_env *e = arg;
    for (int i = 0; i < NJOBS; i++)
        if (atomic_load(&e->jobs[i]->ej->last_checkpoint) < 2)
            return false;
    return true;
}

static bool all_terminal(void *arg)
{
    struct cluster_env *e = arg;
    for (int i = 0; i < NJOBS; i++) {
        enum eng_job_state s = eng_job_state(e->jobs[i]->ej);
        if (s != ENG_JOB_FINISHED && s != ENG_JOB_FAILED && s != ENG_JOB_CANCELED)
            return false;
    }
    return true;
}

static bool jobs_running_one(void *arg)
{
    return atomic_load(&((struct cluster_env *)arg)->jobs[0]->ej->last_checkpoint) >= 2;
}

static bool job0_terminal(void *arg)
{
    return eng_job_ended(((struct cluster_env *)arg)->jobs[0]->ej);
}

/* Two registered again after a loss: the replacement is up. */
static bool three_tms(void *arg)
{
    struct mc_cluster *c = arg;
    return atomic_load(&c->ntms) == 3 && atomic_load(&c->registered) == 2;
}

static bool lost_one(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->tms_lost) >= 1;
}

/* A silent kill: found by the heartbeat timeout (not before), the jobs with a
 * slot there restart, the others are untouched, all exactly once. */
static void silent_kill_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 4, MC_FAILOVER_REGION);
    submit_all(&e, 8000);
    assert_int_equal(rt_world_wait(e.w, jobs_running, &e, WAIT_NS), 0);

    int victim = mc_job_tm_of(e.jobs[0], 0);
    assert_true(victim >= 0);
    bool affected[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        affected[i] = false;
        for (uint32_t s = 0; s < atomic_load(&e.jobs[i]->nslots); s++)
            affected[i] |= mc_job_tm_of(e.jobs[i], s) == victim;
    }
    uint64_t t_kill = rt_now(e.w);
    mc_tm_kill(e.c, (uint32_t)victim);
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    uint64_t detect = rt_now(e.w) - t_kill;
    /* The timeout runs from the last heartbeat answered, which came at most
     * one interval before the kill; the check runs once per interval. */
    if (detect < 250 * RT_NS_PER_MS || detect > 300 * RT_NS_PER_MS + 2 * 50 * RT_NS_PER_MS)
        fail_msg("detected after %llu ms; the heartbeat timeout allows 250..400 ms",
                 (unsigned long long)(detect / RT_NS_PER_MS));

    assert_int_equal(rt_world_wait(e.w, all_terminal, &e, WAIT_NS), 0);
    for (int i = 0; i < NJOBS; i++) {
        assert_output(e.jobs[i]->ej, NULL, false);
        unsigned restarts = atomic_load(&e.jobs[i]->ej->restarts);
        if (affected[i])
            assert_true(restarts >= 1);
        else
            assert_int_equal(restarts, 0);
    }
    assert_true(affected[0]);
    cenv_down(&e);
}

static void test_silent_kill_sim(void **s) { (void)s; silent_kill_body(RT_WORLD_SIM); }
static void test_silent_kill_real(void **s) { (void)s; silent_kill_body(RT_WORLD_REAL); }

/* A graceful stop says so: the TaskManager is released at once. */
static void graceful_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 4, MC_FAILOVER_REGION);
    submit_all(&e, 8000);
    assert_int_equal(rt_world_wait(e.w, jobs_running, &e, WAIT_NS), 0);
    int victim = mc_job_tm_of(e.jobs[1], 1);
    uint64_t t0 = rt_now(e.w);
    mc_tm_stop(e.c, (uint32_t)victim);
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    assert_true(rt_now(e.w) - t0 < 50 * RT_NS_PER_MS);     /* no heartbeat needed */
    assert_int_equal(rt_world_wait(e.w, all_terminal, &e, WAIT_NS), 0);
    for (int i = 0; i < NJOBS; i++)
        assert_output(e.jobs[i]->ej, NULL, false);
    assert_true(atomic_load(&e.jobs[1]->ej->restarts) >= 1);
    cenv_down(&e);
}

static void test_graceful_sim(void **s) { (void)s; graceful_body(RT_WORLD_SIM); }
static void test_graceful_real(void **s) { (void)s; graceful_body(RT_WORLD_REAL); }

/* A crashed process (its host still answers): calls to it fail, and the
 * RPC-failure threshold finds it well before the heartbeat timeout. */
static void crash_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 4, MC_FAILOVER_REGION);
    submit_all(&e, 8000);
    assert_int_equal(rt_world_wait(e.w, jobs_running, &e, WAIT_NS), 0);
    uint64_t t0 = rt_now(e.w);
    mc_tm_crash(e.c, (uint32_t)mc_job_tm_of(e.jobs[2], 0));
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    assert_true(rt_now(e.w) - t0 < 300 * RT_NS_PER_MS);
    assert_int_equal(rt_world_wait(e.w, all_terminal, &e, WAIT_NS), 0);
    for (int i = 0; i < NJOBS; i++)
        assert_output(e.jobs[i]->ej, NULL, false);
    cenv_down(&e);
}

static void test_crash_sim(void **s) { (void)s; crash_body(RT_WORLD_SIM); }
static void test_crash_real(void **s) { (void)s; crash_body(RT_WORLD_REAL); }

static bool two_checkpointed(void *arg)
{
    struct cluster_env *e = arg;
    return atomic_load(&e->jobs[0]->ej->last_checkpoint) >= 2 &&
           atomic_load(&e->jobs[1]->ej->last_checkpoint) >= 2;
}

static bool two_terminal(void *arg)
{
    struct cluster_env *e = arg;
    for (int i = 0; i < 2; i++) {
        enum eng_job_state s = eng_job_state(e->jobs[i]->ej);
        if (s != ENG_JOB_FINISHED && s != ENG_JOB_FAILED && s != ENG_JOB_CANCELED)
            return false;
    }
    return true;
}

/* A TaskManager hosting slots of both jobs, or -1. */
static int shared_tm(struct cluster_env *e)
{
    for (uint32_t s = 0; s < atomic_load(&e->jobs[0]->nslots); s++)
        for (uint32_t k = 0; k < atomic_load(&e->jobs[1]->nslots); k++)
            if (mc_job_tm_of(e->jobs[0], s) == mc_job_tm_of(e->jobs[1], k))
                return mc_job_tm_of(e->jobs[0], s);
    return -1;
}

/*
 * Region failover on a silently killed TaskManager: three forward pipelines
 * (three regions) and a keyed job (one region) share it.  The pipelines'
 * job restarts the tasks in the lost slots only - the other pipelines keep
 * their slots and never restart - while the keyed job restarts every task.
 * With full failover the pipelines restart whole as well.
 */
static void region_body(enum rt_world_kind kind, enum mc_failover failover)
{
    struct cluster_env e;
    env_up(&e, kind, 4, failover);
    char err[256];
    /* Both jobs read for 1.5 s (20 000 records/s per source subtask), so
     * both still read when the TaskManager dies, on a loaded machine too: a
     * job whose sources are done restarts whole (no region restart while it
     * finishes), and one that has finished does not restart at all. */
    assert_int_equal(mc_cluster_submit(e.c, pipelines_graph("pipes", 90000, 3), 1, NULL,
                                       &e.jobs[0], err, sizeof(err)), 0);
    assert_int_equal(mc_cluster_submit(e.c, cenv_keyed_graph("keyed", 60000, 2), 2, NULL,
                                       &e.jobs[1], err, sizeof(err)), 0);
    assert_int_equal(rt_world_wait(e.w, two_checkpointed, &e, WAIT_NS), 0);
    /* Evenly spread, 3 + 2 slots over four TaskManagers of two: one holds both. */
    int victim = shared_tm(&e);
    assert_true(victim >= 0);
    int before[3];
    uint32_t lost = 0;
    for (uint32_t s = 0; s < 3; s++) {
        before[s] = mc_job_tm_of(e.jobs[0], s);
        lost += before[s] == victim;
    }
    mc_tm_kill(e.c, (uint32_t)victim);
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    assert_int_equal(rt_world_wait(e.w, two_terminal, &e, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_output(e.jobs[1]->ej, NULL, false);

    struct eng_job *pipes = e.jobs[0]->ej, *keyed = e.jobs[1]->ej;
    assert_int_equal(atomic_load(&pipes->restarts), 1);
    if (failover == MC_FAILOVER_REGION) {
        assert_int_equal(atomic_load(&pipes->tasks_restarted), 3 * lost);
        for (uint32_t s = 0; s < 3; s++)
            if (before[s] != victim)
                assert_int_equal(mc_job_tm_of(e.jobs[0], s), before[s]);
    } else {
        assert_int_equal(atomic_load(&pipes->tasks_restarted), 9);
    }
    /* One region: every restart of the keyed job is a full one. */
    unsigned kr = atomic_load(&keyed->restarts);
    assert_true(kr >= 1);
    assert_int_equal(atomic_load(&keyed->tasks_restarted), 4 * kr);
    cenv_down(&e);
}

static void test_region_sim(void **s) { (void)s; region_body(RT_WORLD_SIM, MC_FAILOVER_REGION); }
static void test_region_real(void **s) { (void)s; region_body(RT_WORLD_REAL, MC_FAILOVER_REGION); }
static void test_full_sim(void **s) { (void)s; region_body(RT_WORLD_SIM, MC_FAILOVER_FULL); }
static void test_full_real(void **s) { (void)s; region_body(RT_WORLD_REAL, MC_FAILOVER_FULL); }

/* Active provider: the lost TaskManager is replaced by a new container, not
 * before the provider's launch latency, and the job finishes on it. */
static void active_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    cenv_up(&e, kind, "cluster", 8, 0);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 2);
    cfg.slots = 1;
    cfg.evenly_spread = false;
    cfg.provider = MC_PROVIDER_ACTIVE;
    cfg.launch_latency_ns = 300 * RT_NS_PER_MS;
    cfg.quota = 3;
    cenv_restart(&cfg, "3", "50ms");
    cenv_start(&e, "active", &cfg);
    char err[128];
    assert_int_equal(mc_cluster_submit(e.c, cenv_keyed_graph("orders", 8000, 2), 1, NULL,
                                       &e.jobs[0], err, sizeof(err)), 0);
    struct cluster_env *ep = &e;
    assert_int_equal(rt_world_wait(e.w, jobs_running_one, ep, WAIT_NS), 0);
    /* The provider can be asked for a replacement no earlier than the crash
     * (the job master may ask as soon as the job fails on its broken
     * channels, before the TaskManager is declared lost). */
    uint64_t t_crash = rt_now(e.w);
    mc_tm_crash(e.c, (uint32_t)mc_job_tm_of(e.jobs[0], 0));
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    assert_int_equal(rt_world_wait(e.w, three_tms, e.c, WAIT_NS), 0);
    /* A new container, registered no sooner than its launch latency. */
    assert_true(rt_now(e.w) - t_crash >= 300 * RT_NS_PER_MS);
    assert_int_equal(atomic_load(&e.c->ntms), 3);
    assert_int_equal(rt_world_wait(e.w, job0_terminal, ep, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_true(atomic_load(&e.jobs[0]->ej->restarts) >= 1);
    cenv_down(&e);
}

/* Active provider, a job submitted as the cluster is created (as a per-job
 * client does): its slot request reaches the resource manager before the
 * TaskManager started up front has registered, and waits for it - the
 * provider is not asked for a second container. */
static void submit_at_once_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    cenv_up(&e, kind, "cluster", 9, 0);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 1);
    cfg.slots = 2;
    cfg.provider = MC_PROVIDER_ACTIVE;
    cfg.launch_latency_ns = 0;
    assert_int_equal(mc_cluster_new(e.w, e.dfs, "perjob", &cfg, &e.c), 0);
    char err[128];
    assert_int_equal(mc_cluster_submit(e.c, cenv_keyed_graph("orders", 4000, 2), 1, NULL,
                                       &e.jobs[0], err, sizeof(err)), 0);
    struct cluster_env *ep = &e;
    assert_int_equal(rt_world_wait(e.w, job0_terminal, ep, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_int_equal(atomic_load(&e.c->ntms), 1);
    cenv_down(&e);
}

static void test_submit_at_once_sim(void **s) { (void)s; submit_at_once_body(RT_WORLD_SIM); }
static void test_submit_at_once_real(void **s) { (void)s; submit_at_once_body(RT_WORLD_REAL); }

static void test_active_sim(void **s) { (void)s; active_body(RT_WORLD_SIM); }
static void test_active_real(void **s) { (void)s; active_body(RT_WORLD_REAL); }

static bool two_lost(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->tms_lost) >= 2;
}

/* A job waiting for a slot to replace its lost TaskManager's loses its
 * other TaskManager too: it must ask again, for both slots, and run on the
 * two TaskManagers that come next.  (It asked for one; served that, it
 * waited for ever.)  The resource manager drops the stale request, so the
 * first newcomer's slot is not handed out for it. */
static void lost_while_waiting_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    cenv_up(&e, kind, "cluster", 9, 0);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 2);
    cfg.slots = 1;
    cfg.failover = MC_FAILOVER_FULL;
    cenv_restart(&cfg, "10", "50ms");
    cenv_start(&e, "session", &cfg);
    char err[128];
    assert_int_equal(mc_cluster_submit(e.c, cenv_keyed_graph("orders", 8000, 2), 1, NULL,
                                       &e.jobs[0], err, sizeof(err)), 0);
    assert_int_equal(rt_world_wait(e.w, jobs_running_one, &e, WAIT_NS), 0);
    mc_tm_crash(e.c, 0);
    assert_int_equal(rt_world_wait(e.w, lost_one, e.c, WAIT_NS), 0);
    mc_tm_crash(e.c, 1);
    assert_int_equal(rt_world_wait(e.w, two_lost, e.c, WAIT_NS), 0);
    assert_true(mc_tm_add(e.c) >= 0);
    assert_true(mc_tm_add(e.c) >= 0);
    assert_int_equal(rt_world_wait(e.w, job0_terminal, &e, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    cenv_down(&e);
}

static void test_lost_while_waiting_sim(void **s)
{
    (void)s;
    lost_while_waiting_body(RT_WORLD_SIM);
}

static void test_lost_while_waiting_real(void **s)
{
    (void)s;
    lost_while_waiting_body(RT_WORLD_REAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_kill_sim),
        cmocka_unit_test(test_silent_kill_real),
        cmocka_unit_test(test_graceful_sim),
        cmocka_unit_test(test_graceful_real),
        cmocka_unit_test(test_crash_sim),
        cmocka_unit_test(test_crash_real),
        cmocka_unit_test(test_active_sim),
        cmocka_unit_test(test_submit_at_once_sim),
        cmocka_unit_test(test_submit_at_once_real),
        cmocka_unit_test(test_active_real),
        cmocka_unit_test(test_lost_while_waiting_sim),
        cmocka_unit_test(test_lost_while_waiting_real),
        cmocka_unit_test(test_region_sim),
        cmocka_unit_test(test_region_real),
        cmocka_unit_test(test_full_sim),
        cmocka_unit_test(test_full_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
