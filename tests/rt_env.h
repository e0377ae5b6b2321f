/*
 * rt_env.h - what the runtime's tests share: a world, its nodes, actors
 * spawned from the test thread, and waiting on a counter with a deadline.
 * Header-only: test_rt.c and test_rt_msg.c each take a copy.
 */
#ifndef TESTS_RT_ENV_H
#define TESTS_RT_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/rt.h"

#define WAIT_NS (10 * RT_NS_PER_SEC)
#define MSG_SEQ (RT_MSG_USER + 1)
#define MSG_PING (RT_MSG_USER + 2)
#define MSG_PONG (RT_MSG_USER + 3)
#define MSG_GROW (RT_MSG_USER + 4)
#define MSG_BURST (RT_MSG_USER + 5)

static inline struct rt_world *new_world(enum rt_world_kind kind, uint64_t seed)
{
    struct rt_world_config cfg = {
        .kind = kind, .seed = seed, .link_latency_ns = 50000, .link_jitter_ns = 20000,
    };
    struct rt_world *w = NULL;
    assert_int_equal(rt_world_new(&cfg, &w), 0);
    return w;
}

static inline struct rt_node *up_node(struct rt_world *w, const char *name)
{
    struct rt_node *n = rt_node_new(w, name);
    assert_non_null(n);
    assert_int_equal(rt_node_start(n), 0);
    return n;
}

/* Spawning from the test thread: rt_node_call runs on the node; the result
 * comes back through an atomic the test waits on. */
struct spawn_req {
    const struct rt_actor_ops *ops;
    void *state;
    _Atomic rt_addr addr;
};

static inline void spawn_fn(struct rt_node *n, void *arg)
{
    struct spawn_req *r = arg;
    struct rt_actor *a = rt_actor_spawn(n, r->ops, r->state);
    atomic_store(&r->addr, rt_actor_addr(a));
    rt_world_notify(rt_node_world(n));
}

static inline bool addr_set(void *arg)
{
    return atomic_load(&((struct spawn_req *)arg)->addr) != 0;
}

static inline rt_addr spawn(struct rt_node *n, const struct rt_actor_ops *ops, void *state)
{
    struct spawn_req r = { ops, state, 0 };
    assert_int_equal(rt_node_call(n, spawn_fn, &r), 0);
    assert_int_equal(rt_world_wait(rt_node_world(n), addr_set, &r, WAIT_NS), 0);
    return atomic_load(&r.addr);
}

static inline void ignore_msg(struct rt_actor *a, const struct rt_msg *m)
{
    (void)a;
    (void)m;
}

/* An actor that only sends: ops must outlive the actor, hence static. */
static const struct rt_actor_ops silent_ops = { "silent", ignore_msg, NULL };

struct counter_goal {
    atomic_uint_fast64_t *v;
    uint64_t goal;
};

static inline bool reached(void *arg)
{
    struct counter_goal *g = arg;
    return atomic_load(g->v) >= g->goal;
}

static inline int wait_count_for(struct rt_world *w, atomic_uint_fast64_t *v, uint64_t goal, uint64_t ns)
{
    struct counter_goal g = { v, goal };
    return rt_world_wait(w, reached, &g, ns);
}

static inline int wait_count(struct rt_world *w, atomic_uint_fast64_t *v, uint64_t goal)
{
    return wait_count_for(w, v, goal, WAIT_NS);
}


static inline bool node_down(void *arg)
{
    return rt_node_is_down(arg);
}

#endif
