/*
 * test_ha.c - JobManager high availability: with HA a standby takes over
 * within the lease timeout once the leader crashes, the TaskManagers
 * register with it, the running jobs recover from their latest checkpoint
 * and finish exactly once, and a job that finished before the crash is not
 * run again; without HA the jobs end FAILED, saying why.  Last, the same
 * through the scenario runner: a single-execute application with ha=on
 * survives `crash jobmanager-leader`.  Every test runs in both worlds.
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
#include "scenarios/run.h"
#include "tests/cluster_env.h"
#include "tests/verdict.h"

#define WAIT_NS (30 * RT_NS_PER_SEC)
#define NJOBS 3
_Static_assert(NJOBS <= CENV_JOBS, "struct cluster_env keeps the jobs cenv_down frees");

/* A session cluster of three TaskManagers (seed 7); with HA, two standbys. */
static void env_up(struct cluster_env *e, enum rt_world_kind kind, bool ha)
{
    cenv_up(e, kind, "ha", 7, 100000);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 3);
    cfg.ha = ha;
    cfg.standby_jms = ha ? 2 : 0;
    cenv_start(e, "session", &cfg);
}

static void submit(struct cluster_env *e, int i, const char *name, uint64_t records)
{
    char err[256];
    assert_int_equal(mc_cluster_submit(e->c, cenv_keyed_graph(name, records, 2), (uint32_t)i + 1,
                                       NULL, &e->jobs[i], err, sizeof(err)), 0);
}

static bool ended(const struct mc_job *j)
{
    return eng_job_ended(j->ej);
}

static bool all_terminal(void *arg)
{
    struct cluster_env *e = arg;
    for (int i = 0; i < NJOBS; i++)
        if (e->jobs[i] && !ended(e->jobs[i]))
            return false;
    return true;
}

/* Jobs 1 and 2 (indexes 0, 1) have completed two checkpoints each. */
static bool two_running(void *arg)
{
    struct cluster_env *e = arg;
    for (int i = 0; i < 2; i++)
        if (atomic_load(&e->jobs[i]->ej->last_checkpoint) < 2)
            return false;
    return true;
}

/* Job 3 finished and its result is in the job result store. */
static bool short_job_stored(void *arg)
{
    struct cluster_env *e = arg;
    return ended(e->jobs[2]) && dfs_count_files(e->dfs, "session/ha/results/3") == 1;
}

static bool taken_over(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->takeovers) >= 1;
}

static bool orphaned(void *arg) { return mc_cluster_jobs_orphaned(arg); }

/* Every TaskManager registered with the resource manager of the leader. */
static bool reregistered(void *arg)
{
    struct mc_cluster *c = arg;
    uint32_t lead = rt_node_id(mc_cluster_leader(c));
    for (uint32_t i = 0; i < atomic_load(&c->ntms); i++)
        if (atomic_load(&c->tms[i].state) != MC_TM_REGISTERED ||
            RT_ADDR_NODE(atomic_load(&c->tms[i].rm)) != lead)
            return false;
    return true;
}

static bool has_event(const struct mc_job *j, const char *text)
{
    for (struct eng_job_event *ev = atomic_load(&j->ej->events); ev; ev = ev->next)
        if (strstr(ev->text, text))
            return true;
    return false;
}

/* Prints what happened to the jobs, oldest event first, then fails. */
static void fail_with_events(struct cluster_env *e, const char *what)
{
    for (int i = 0; i < NJOBS; i++) {
        if (!e->jobs[i])
            continue;
        fprintf(stderr, "job %s: %s\n", e->jobs[i]->ej->name,
                eng_job_state_name(eng_job_state(e->jobs[i]->ej)));
        struct eng_job_event *evs[256];
        int n = 0;
        for (struct eng_job_event *ev = atomic_load(&e->jobs[i]->ej->events); ev && n < 256;
             ev = ev->next)
            evs[n++] = ev;
        while (n-- > 0)
            fprintf(stderr, "  %8.3f s  %s\n", (double)evs[n]->t_ns / 1e9, evs[n]->text);
    }
    fail_msg("%s", what);
}

/* With HA: a short job finishes first; two long ones run; the leader
 * crashes; a standby takes over within the lease timeout, the TaskManagers
 * register with it, the two jobs recover from their latest checkpoint and
 * finish exactly once; the short job is not run again. */
static void takeover_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, true);
    assert_int_equal(e.c->njms, 3);
    submit(&e, 2, "audit", 500);
    assert_int_equal(rt_world_wait(e.w, short_job_stored, &e, WAIT_NS), 0);
    submit(&e, 0, "orders", 20000);
    submit(&e, 1, "clicks", 16000);
    assert_int_equal(rt_world_wait(e.w, two_running, &e, WAIT_NS), 0);

    struct rt_node *old = mc_cluster_leader(e.c);
    assert_ptr_equal(old, e.c->jm);
    uint64_t t_crash = rt_now(e.w);
    rt_node_crash(old);
    assert_int_equal(rt_world_wait(e.w, taken_over, e.c, WAIT_NS), 0);
    uint64_t took = atomic_load(&e.c->leader_since_ns) - t_crash;
    /* The last renewal came at most one interval before the crash; a standby
     * sees it at most one interval later and calls it stale after the
     * timeout, at its next look: plus a claim's DFS round trip. */
    if (took < CENV_HB_TIMEOUT_NS - CENV_HB_NS ||
        took > CENV_HB_TIMEOUT_NS + 2 * CENV_HB_NS + 20 * RT_NS_PER_MS)
        fail_msg("took over after %llu ms; the lease allows 250..420 ms",
                 (unsigned long long)(took / RT_NS_PER_MS));
    assert_ptr_not_equal(mc_cluster_leader(e.c), old);
    assert_int_equal(atomic_load(&e.c->leader_term), 2);
    assert_int_equal(rt_world_wait(e.w, reregistered, e.c, WAIT_NS), 0);

    if (rt_world_wait(e.w, all_terminal, &e, WAIT_NS) < 0)
        fail_with_events(&e, "the jobs did not end");
    for (int i = 0; i < NJOBS; i++)
        assert_output(e.jobs[i]->ej, NULL, false);
    assert_int_equal(atomic_load(&e.c->jobs_recovered), 2);
    for (int i = 0; i < 2; i++)
        if (!has_event(e.jobs[i], "restoring checkpoint"))
            fail_msg("job %s was not recovered from a checkpoint", e.jobs[i]->ej->name);
    assert_false(has_event(e.jobs[2], "recovered by"));
    assert_int_equal(atomic_load(&e.c->takeovers), 1);
    cenv_down(&e);
}

static void test_takeover_sim(void **s) { (void)s; takeover_body(RT_WORLD_SIM); }
static void test_takeover_real(void **s) { (void)s; takeover_body(RT_WORLD_REAL); }

/* Without HA the crashed JobManager takes its jobs with it. */
static void no_ha_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, false);
    assert_int_equal(e.c->njms, 1);
    submit(&e, 0, "orders", 20000);
    submit(&e, 1, "clicks", 16000);
    assert_int_equal(rt_world_wait(e.w, two_running, &e, WAIT_NS), 0);
    assert_false(mc_cluster_jobs_orphaned(e.c));
    rt_node_crash(mc_cluster_leader(e.c));
    assert_int_equal(rt_world_wait(e.w, orphaned, e.c, WAIT_NS), 0);
    assert_int_equal(mc_cluster_fail_orphaned(e.c), 2);
    assert_false(mc_cluster_jobs_orphaned(e.c));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(eng_job_state(e.jobs[i]->ej), ENG_JOB_FAILED);
        char err[256];
        eng_job_last_error(e.jobs[i]->ej, err, sizeof(err));
        if (!strstr(err, "high availability is off"))
            fail_msg("job %s failed with '%s'", e.jobs[i]->ej->name, err);
    }
    /* The TaskManagers cancel the dead JobManager's tasks and keep looking
     * for a resource manager; nothing else happens. */
    rt_world_wait(e.w, NULL, NULL, 2 * CENV_HB_TIMEOUT_NS);
    assert_int_equal(atomic_load(&e.c->takeovers), 0);
    assert_int_equal(eng_job_state(e.jobs[0]->ej), ENG_JOB_FAILED);
    cenv_down(&e);
}

static void test_no_ha_sim(void **s) { (void)s; no_ha_body(RT_WORLD_SIM); }
static void test_no_ha_real(void **s) { (void)s; no_ha_body(RT_WORLD_REAL); }

/* The scenario runner, application mode: one execute() with ha=on survives
 * the leader's crash and finishes exactly once. */
static const char app_ha[] =
    "cluster taskmanagers=2 slots=2 ha=on jobmanagers=1\n"
    "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "config restart-strategy.fixed-delay.delay=50ms\n"
    "config execution.checkpointing.interval=100ms\n"
    "dfs bandwidth=400MB/s streams=8 latency=1ms\n"
    "deadline 20s\n"
    "job a source=sequence(records=30k, keys=500, rate=30k/s) | keyby | count | sink parallelism=2\n"
    "application app jobs=a\n"
    "when checkpoint a 2 done crash jobmanager-leader\n"
    "expect all jobs finished exactly-once\n"
    "expect job a finished\n";

static void scenario_body(enum rt_world_kind w)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("app-ha.scn", app_ha, strlen(app_ha), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    assert_int_equal(rc, 0);
    struct scn_run_opts o = { .mode = SCN_MODE_APPLICATION, .world = w, .has_seed = true,
                              .seed = 3, .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    rc = scn_run(s, &o, &out, err, sizeof(err));
    char *dump = out ? json_dumps(json_object_get(out, "expectations"), 0) : NULL;
    if (rc != SCN_RUN_OK)
        fail_msg("scn_run gave %d (%s) %s", rc, err, dump ? dump : "");
    free(dump);
    assert_true(json_is_true(json_object_get(out, "ok")));
    /* The leader and its standby are both reported. */
    assert_int_equal(json_array_size(json_object_get(out, "jobmanagers")), 2);
    json_decref(out);
    scn_scenario_free(s);
}

static void test_scenario_sim(void **s) { (void)s; scenario_body(RT_WORLD_SIM); }
static void test_scenario_real(void **s) { (void)s; scenario_body(RT_WORLD_REAL); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takeover_sim),
        cmocka_unit_test(test_takeover_real),
        cmocka_unit_test(test_no_ha_sim),
        cmocka_unit_test(test_no_ha_real),
        cmocka_unit_test(test_scenario_sim),
        cmocka_unit_test(test_scenario_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
