/*
 * bench_spinup.c - how fast a cluster-shaped world starts and stops.
 *
 * Figure: a real world of 1 + 4 nodes (a JobManager with three actors, four
 * TaskManagers with one each) is created, started, every actor spawned and
 * confirmed running, then stopped and freed - many times; medians reported.
 * Floor, measured in the same run: the bare cost of the same number of
 * threads each with an event_base, created and joined, nothing else.
 * Also, for the docs: messages per second through one node's loop, and the
 * round trip of a cross-node ping-pong.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "bench/bench.h"
#include "runtime/rt.h"

#define NODES 5
#define ROUNDS 200
#define LOOP_MSGS 1000000
#define PING_ROUNDS 20000

/* ---- floor: threads with an event_base, nothing else ------------------------ */

static void *floor_thread(void *arg)
{
    struct event_base *b = arg;
    event_base_loop(b, EVLOOP_NONBLOCK);
    return NULL;
}

static double floor_cycle_ms(void)
{
    double t0 = bench_now_ms();
    struct event_base *bases[NODES];
    pthread_t th[NODES];
    for (int i = 0; i < NODES; i++) {
        bases[i] = event_base_new();
        pthread_create(&th[i], NULL, floor_thread, bases[i]);
    }
    for (int i = 0; i < NODES; i++) {
        pthread_join(th[i], NULL);
        event_base_free(bases[i]);
    }
    return bench_now_ms() - t0;
}

/* ---- figure: a cluster-shaped world ------------------------------------------ */

struct ready {
    atomic_int actors;
};

static void noop_msg(struct rt_actor *a, const struct rt_msg *m)
{
    (void)a;
    (void)m;
}

static const struct rt_actor_ops noop_ops = { "bench", noop_msg, NULL };

static void spawn_jm(struct rt_node *n, void *arg)
{
    struct ready *r = arg;
    for (int i = 0; i < 3; i++)     /* dispatcher, resource manager, job master */
        rt_actor_spawn(n, &noop_ops, NULL);
    atomic_fetch_add(&r->actors, 3);
    rt_world_notify(rt_node_world(n));
}

static void spawn_tm(struct rt_node *n, void *arg)
{
    struct ready *r = arg;
    rt_actor_spawn(n, &noop_ops, NULL);     /* task executor */
    atomic_fetch_add(&r->actors, 1);
    rt_world_notify(rt_node_world(n));
}

static bool all_ready(void *arg)
{
    return atomic_load(&((struct ready *)arg)->actors) == 3 + (NODES - 1);
}

static int cluster_cycle(double *spin_ms, double *down_ms)
{
    double t0 = bench_now_ms();
    struct rt_world_config cfg = { .kind = RT_WORLD_REAL, .seed = 1 };
    struct rt_world *w;
    int rc = rt_world_new(&cfg, &w);
    if (rc < 0)
        return rc;
    struct ready r = { 0 };
    for (int i = 0; i < NODES; i++) {
        struct rt_node *n = rt_node_new(w, i == 0 ? "jm" : "tm");
        rt_node_start(n);
        rt_node_call(n, i == 0 ? spawn_jm : spawn_tm, &r);
    }
    rc = rt_world_wait(w, all_ready, &r, 10 * RT_NS_PER_SEC);
    double t1 = bench_now_ms();
    rt_world_free(w);
    *spin_ms = t1 - t0;
    *down_ms = bench_now_ms() - t1;
    return rc;
}

/* ---- docs figures: one loop's throughput, ping-pong latency ---------------- */

struct counter {
    atomic_uint_fast64_t n;
    uint64_t goal;
    rt_addr peer;
};

static void count_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct counter *c = rt_actor_state(a);
    uint64_t k = atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed) + 1;
    if (m->type == RT_MSG_USER + 1 && k < c->goal)  /* ping-pong: bounce it back */
        rt_send(a, m->src, RT_MSG_USER + 1, NULL, 0);
    if (k == c->goal)
        rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops count_ops = { "count", count_msg, NULL };

struct setup {
    struct counter *c;
    _Atomic rt_addr addr;
};

static void spawn_counter(struct rt_node *n, void *arg)
{
    struct setup *s = arg;
    atomic_store(&s->addr, rt_actor_addr(rt_actor_spawn(n, &count_ops, s->c)));
    rt_world_notify(rt_node_world(n));
}

static bool addr_ready(void *arg)
{
    return atomic_load(&((struct setup *)arg)->addr) != 0;
}

static bool goal_reached(void *arg)
{
    struct counter *c = arg;
    return atomic_load(&c->n) >= c->goal;
}

static void flood(struct rt_node *n, void *arg)
{
    struct setup *s = arg;
    struct rt_actor *a = rt_actor_spawn(n, &noop_ops, NULL);
    for (uint64_t i = 0; i < s->c->goal; i++)
        rt_send(a, atomic_load(&s->addr), RT_MSG_USER, NULL, 0);
}

static void serve(struct rt_node *n, void *arg)
{
    struct setup *s = arg;
    struct rt_actor *a = rt_actor_spawn(n, &count_ops, s->c);
    rt_send(a, atomic_load(&s->addr), RT_MSG_USER + 1, NULL, 0);
}

static int messaging(double *loop_mps, double *rtt_us)
{
    struct rt_world_config cfg = { .kind = RT_WORLD_REAL, .seed = 1 };
    struct rt_world *w;
    int rc = rt_world_new(&cfg, &w);
    if (rc < 0)
        return rc;
    struct rt_node *a = rt_node_new(w, "a"), *b = rt_node_new(w, "b");
    rt_node_start(a);
    rt_node_start(b);

    /* One loop: messages from an actor to another on the same node. */
    struct counter c1 = { .goal = LOOP_MSGS };
    struct setup s1 = { &c1, 0 };
    rt_node_call(a, spawn_counter, &s1);
    rt_world_wait(w, addr_ready, &s1, 10 * RT_NS_PER_SEC);
    double t0 = bench_now_ms();
    rt_node_call(a, flood, &s1);
    rc = rt_world_wait(w, goal_reached, &c1, 60 * RT_NS_PER_SEC);
    *loop_mps = LOOP_MSGS / ((bench_now_ms() - t0) / 1000.0);

    /* Ping-pong across nodes: each side counts, so goal is 2 x rounds. */
    struct counter c2 = { .goal = 2 * PING_ROUNDS };
    struct setup s2 = { &c2, 0 };
    rt_node_call(b, spawn_counter, &s2);
    rt_world_wait(w, addr_ready, &s2, 10 * RT_NS_PER_SEC);
    t0 = bench_now_ms();
    rt_node_call(a, serve, &s2);
    if (rc == 0)
        rc = rt_world_wait(w, goal_reached, &c2, 60 * RT_NS_PER_SEC);
    *rtt_us = (bench_now_ms() - t0) * 1000.0 / PING_ROUNDS;
    rt_world_free(w);
    return rc;
}

int bench_spinup(json_t **out)
{
    double floor[ROUNDS], spin[ROUNDS], down[ROUNDS], cycle[ROUNDS];
    /* Warm up: the first cycles pay for arenas and thread stacks once. */
    for (int i = 0; i < 10; i++) {
        double s, d;
        floor_cycle_ms();
        cluster_cycle(&s, &d);
    }
    for (int i = 0; i < ROUNDS; i++) {
        floor[i] = floor_cycle_ms();
        int rc = cluster_cycle(&spin[i], &down[i]);
        if (rc < 0)
            return rc;
        cycle[i] = spin[i] + down[i];
    }
    double loop_mps = 0, rtt_us = 0;
    int rc = messaging(&loop_mps, &rtt_us);
    if (rc < 0)
        return rc;
    double floor_ms = bench_median(floor, ROUNDS);
    double cycle_ms = bench_median(cycle, ROUNDS);
    *out = json_pack("{s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f}",
                     "nodes", NODES, "rounds", ROUNDS,
                     "spinup_ms", bench_median(spin, ROUNDS),
                     "teardown_ms", bench_median(down, ROUNDS),
                     "floor_ms", floor_ms,
                     "ratio_to_floor", cycle_ms / floor_ms,
                     "loop_msgs_per_s", loop_mps,
                     "pingpong_rtt_us", rtt_us);
    return *out ? 0 : -ENOMEM;
}
