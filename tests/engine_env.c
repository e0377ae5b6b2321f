/*
 * engine_env.c - the engine-level tests' world (see engine_env.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/rt_dir.h"
#include "tests/engine_env.h"

static void spawn_host(struct rt_node *n, void *arg)
{
    _Atomic rt_addr *slot = arg;
    atomic_store(slot, rt_actor_addr(eng_taskhost_spawn(n)));
    rt_world_notify(rt_node_world(n));
}

static bool host_ready(void *arg)
{
    return atomic_load((_Atomic rt_addr *)arg) != 0;
}

void eenv_start_host(struct engine_env *e, int i)
{
    atomic_store(&e->host[i], 0);
    assert_int_equal(rt_node_call(e->tm[i], spawn_host, &e->host[i]), 0);
    assert_int_equal(rt_world_wait(e->w, host_ready, &e->host[i], EENV_WAIT_NS), 0);
}

void eenv_up_with(struct engine_env *e, const struct rt_world_config *wc, const char *tag,
                  uint64_t dfs_latency_ns)
{
    memset(e, 0, sizeof(*e));
    assert_int_equal(rt_world_new(wc, &e->w), 0);
    char prefix[48];
    snprintf(prefix, sizeof(prefix), "mc-test-%s", tag);
    assert_int_equal(rt_dir_make_temp(prefix, e->root, sizeof(e->root)), 0);
    struct dfs_config dc = { .root = e->root, .base_latency_ns = dfs_latency_ns };
    assert_int_equal(dfs_new(e->w, &dc, &e->dfs), 0);
    e->jm = rt_node_new(e->w, "jm");
    assert_int_equal(rt_node_start(e->jm), 0);
    for (int i = 0; i < EENV_WORKERS; i++) {
        char name[8];
        snprintf(name, sizeof(name), "tm%d", i);
        e->tm[i] = rt_node_new(e->w, name);
        assert_int_equal(rt_node_start(e->tm[i]), 0);
        eenv_start_host(e, i);
    }
}

void eenv_up(struct engine_env *e, enum rt_world_kind kind, const char *tag, uint64_t seed)
{
    struct rt_world_config wc = { .kind = kind, .seed = seed, .link_latency_ns = 100000 };
    eenv_up_with(e, &wc, tag, 200000);
}

struct runner_req {
    struct engine_env *e;
    const struct eng_jobrun_policy *pol;
};

static void spawn_runner(struct rt_node *n, void *arg)
{
    struct runner_req *r = arg;
    atomic_store(&r->e->runner, rt_actor_addr(eng_jobrun_spawn(n, r->e->job, r->pol)));
    rt_world_notify(rt_node_world(n));
}

static bool runner_up(void *arg)
{
    return atomic_load(&((struct engine_env *)arg)->runner) != 0;
}

void eenv_submit(struct engine_env *e, struct eng_jobgraph *g, uint64_t interval_ms,
                 uint32_t retained, const struct eng_jobrun_policy *pol)
{
    struct eng_job_config cfg;
    eng_job_config_defaults(&cfg);
    cfg.checkpoint_interval_ns = interval_ms * RT_NS_PER_MS;
    cfg.num_retained = retained;
    eenv_submit_cfg(e, g, &cfg, pol);
}

void eenv_submit_cfg(struct engine_env *e, struct eng_jobgraph *g,
                     const struct eng_job_config *cfg, const struct eng_jobrun_policy *pol)
{
    char err[256];
    assert_int_equal(eng_job_new(1, g, cfg, e->dfs, &e->job, err, sizeof(err)), 0);
    /* The runner copies the policy in spawn: wait for it, pol may be the caller's local. */
    struct runner_req r = { e, pol };
    assert_int_equal(rt_node_call(e->jm, spawn_runner, &r), 0);
    assert_int_equal(rt_world_wait(e->w, runner_up, e, EENV_WAIT_NS), 0);
}

bool eenv_job_ended(void *e)
{
    const struct eng_job *j = ((struct engine_env *)e)->job;
    enum eng_job_state st = eng_job_state(j);
    if (!eng_job_state_is_terminal(st))
        return false;
    /* Whoever sees the final state must find the event of entering it (its
     * time, a failure's reason): eng_job_set_state appends it first. */
    const char *name = eng_job_state_name(st);
    const struct eng_job_event *ev = atomic_load(&((struct eng_job *)j)->events);
    while (ev && !(ev->state == (int)st && strncmp(ev->text, name, strlen(name)) == 0))
        ev = ev->next;
    if (!ev)
        fail_msg("job is %s but has no %s event yet", name, name);
    return true;
}

struct chk_goal {
    struct engine_env *e;
    uint64_t id;
};

static bool checkpoint_reached(void *arg)
{
    struct chk_goal *g = arg;
    return atomic_load(&g->e->job->last_checkpoint) >= g->id || eng_job_ended(g->e->job);
}

int eenv_wait_checkpoint(struct engine_env *e, uint64_t id)
{
    struct chk_goal g = { e, id };
    return rt_world_wait(e->w, checkpoint_reached, &g, EENV_WAIT_NS);
}

void eenv_down(struct engine_env *e)
{
    rt_world_free(e->w);
    dfs_free(e->dfs);
    eng_job_free(e->job);
    rt_dir_remove(e->root);
}
