/*
 * faults_env.c - the test environment of test_faults.c (see faults_env.h):
 * three TaskManagers with two slots, heartbeats every 50 ms with a 300 ms
 * timeout, checkpoints every 50 ms, a fixed-delay restart strategy, and one
 * job (source -> count -> sink, parallelism 2) already checkpointing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/operator.h"
#include "tests/faults_env.h"
#include "tests/verdict.h"
#include "runtime/rt_dir.h"
struct eng_jobgraph *job_graph(uint64_t records)
{
    struct eng_jobgraph *g = eng_jobgraph_new("orders");
    struct eng_op_args src = { .records = records, .keys = 50, .rate = 20000 };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 2, 0);
    int c = eng_jobgraph_add_vertex(g, "count", ENG_OP_COUNT, NULL, 2, 0);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)c, ENG_EDGE_HASH);
    eng_jobgraph_add_edge(g, (uint32_t)c, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

bool ready(void *arg) { return mc_cluster_ready(arg); }

bool running(void *arg)
{
    return atomic_load(&((struct env *)arg)->job->ej->last_checkpoint) >= 2;
}

/* A cluster with a running job.  tolerable: failed checkpoints the job takes
 * without failing (failpoint tests keep it running through them). */
void env_up(struct env *e, enum rt_world_kind kind, uint64_t seed, uint32_t tolerable,
                   uint64_t records)
{
    memset(e, 0, sizeof(*e));
    e->records = records;
    struct rt_world_config wc = { .kind = kind, .seed = seed, .link_latency_ns = 100000 };
    assert_int_equal(rt_world_new(&wc, &e->w), 0);
    assert_int_equal(rt_dir_make_temp("mc-test-faults", e->root, sizeof(e->root)), 0);
    struct dfs_config dc = { .root = e->root, .base_latency_ns = 100000 };
    assert_int_equal(dfs_new(e->w, &dc, &e->dfs), 0);
    struct mc_cluster_config cfg;
    mc_cluster_config_defaults(&cfg);
    cfg.taskmanagers = 3;
    cfg.slots = 2;
    cfg.evenly_spread = true;
    cfg.hb_interval_ns = 50 * MS;
    cfg.hb_timeout_ns = 300 * MS;
    cfg.job.checkpoint_interval_ns = 50 * MS;
    cfg.job.tolerable_failed = tolerable;
    cfg.job.num_retained = 2;
    mc_restart_config_defaults(&cfg.restart, MC_RESTART_FIXED_DELAY);
    char err[256];
    assert_int_equal(mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.attempts",
                                           "5", err, sizeof(err)), 0);
    assert_int_equal(mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.delay",
                                           "100ms", err, sizeof(err)), 0);
    assert_int_equal(mc_cluster_new(e->w, e->dfs, "session", &cfg, &e->c), 0);
    assert_int_equal(rt_world_wait(e->w, ready, e->c, WAIT_NS), 0);
    assert_int_equal(mc_cluster_submit(e->c, job_graph(records), 1, NULL, &e->job, err,
                                       sizeof(err)), 0);
    assert_int_equal(rt_world_wait(e->w, running, e, WAIT_NS), 0);
}


void env_down(struct env *e)
{
    assert_int_equal(flt_failpoints_active(), 0);
    rt_world_free(e->w);
    dfs_free(e->dfs);
    mc_job_free(e->job);
    mc_cluster_free(e->c);
    rt_dir_remove(e->root);
}

struct flt_active *apply(struct env *e, struct flt_spec s)
{
    char d[256];
    struct flt_active *a = NULL;
    int rc = flt_apply(e->w, &s, &a, d, sizeof(d));
    if (rc != 0)
        fail_msg("flt_apply: %s (%d)", d, rc);
    print_message("# %s\n", d);
    return a;
}

int apply_err(struct env *e, struct flt_spec s)
{
    char d[256];
    struct flt_active *a = NULL;
    int rc = flt_apply(e->w, &s, &a, d, sizeof(d));
    assert_null(a);
    assert_true(d[0] != '\0');
    print_message("# refused: %s\n", d);
    return rc;
}

/* ---- predicates ------------------------------------------------------------- */



bool lost_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->c->tms_lost) >= u->n;
}

bool registered_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->c->registered) >= u->n;
}

bool failed_chk_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->job->ej->checkpoints_failed) >= u->n;
}

bool chk_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->job->ej->last_checkpoint) >= u->n;
}

bool fell_back(void *arg)
{
    return atomic_load(&((struct env *)arg)->job->ej->restores_fell_back) >= 1;
}

bool node_down(void *arg) { return rt_node_is_down(arg); }

bool job_over(void *arg)
{
    enum eng_job_state s = eng_job_state(((struct env *)arg)->job->ej);
    return s == ENG_JOB_FINISHED || s == ENG_JOB_FAILED || s == ENG_JOB_CANCELED;
}

void wait_for(struct env *e, bool (*pred)(void *), void *arg, const char *what)
{
    if (rt_world_wait(e->w, pred, arg, WAIT_NS) != 0)
        fail_msg("timed out waiting for %s", what);
}

/* Waits for the job's end and checks its output against the reference:
 * exactly once, or (dups_ok) at least once with right values. */
void finishes(struct env *e, bool dups_ok)
{
    rt_world_wait(e->w, job_over, e, WAIT_NS);
    struct eng_verdict v = assert_output(e->job->ej, NULL, dups_ok);
    if (dups_ok && v.duplicated)
        print_message("# %llu records duplicated (allowed here)\n", (unsigned long long)v.duplicated);
}

void finishes_exactly_once(struct env *e) { finishes(e, false); }

bool has_event(struct env *e, const char *text)
{
    for (struct eng_job_event *ev = atomic_load(&e->job->ej->events); ev; ev = ev->next)
        if (strstr(ev->text, text))
            return true;
    return false;
}

struct flt_target tm_of(struct env *e, uint32_t subtask)
{
    return (struct flt_target){ .job = e->job, .subtask = subtask };
}
