/*
 * test_rt.c - the runtime's two worlds.
 *
 * Every behaviour is checked by one actor program run in both worlds (the
 * _real and _sim variants of each test call the same body), which is the
 * proof that actor code does not know which world it lives in.  The test
 * thread never sleeps: it waits on rt_world_wait with a deadline, and actors
 * publish what the test checks through atomics.  Messages without copies,
 * and what the trace hash sees of a payload, are in test_rt_msg.c; the
 * helpers both use in rt_env.h.
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
#include <time.h>

#include <cmocka.h>

#include "runtime/rt.h"
#include "tests/rt_env.h"

/* For "this must not happen": long enough for it to have happened by now. */
#define QUIET_NS (100 * RT_NS_PER_MS)

/* ---- FIFO per pair --------------------------------------------------------- */

#define FIFO_SENDERS 3
#define FIFO_MSGS 2000

struct fifo_rx {
    uint64_t next[FIFO_SENDERS];
    atomic_uint_fast64_t got, out_of_order;
};

struct fifo_tx {
    uint32_t id;
    rt_addr to;
};

struct fifo_payload {
    uint32_t sender;
    uint64_t seq;
};

static void fifo_rx_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct fifo_rx *rx = rt_actor_state(a);
    struct fifo_payload p;
    memcpy(&p, m->data, sizeof(p));
    if (p.seq != rx->next[p.sender])
        atomic_fetch_add(&rx->out_of_order, 1);
    rx->next[p.sender] = p.seq + 1;
    atomic_fetch_add(&rx->got, 1);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops fifo_rx_ops = { "fifo-rx", fifo_rx_msg, NULL };

static void fifo_send_all(struct rt_node *n, void *arg)
{
    struct fifo_tx *tx = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    for (uint64_t i = 0; i < FIFO_MSGS; i++) {
        struct fifo_payload p = { tx->id, i };
        rt_send(a, tx->to, MSG_SEQ, &p, sizeof(p));
    }
}

static void fifo_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 7);
    struct rt_node *rxn = up_node(w, "rx");
    struct fifo_rx rx = { 0 };
    rt_addr to = spawn(rxn, &fifo_rx_ops, &rx);
    struct fifo_tx tx[FIFO_SENDERS];
    for (uint32_t i = 0; i < FIFO_SENDERS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "tx%u", i);
        tx[i] = (struct fifo_tx){ i, to };
        assert_int_equal(rt_node_call(up_node(w, name), fifo_send_all, &tx[i]), 0);
    }
    assert_int_equal(wait_count(w, &rx.got, FIFO_SENDERS * FIFO_MSGS), 0);
    assert_int_equal(atomic_load(&rx.out_of_order), 0);
    rt_world_free(w);
}

static void test_fifo_real(void **s) { (void)s; fifo_body(RT_WORLD_REAL); }
static void test_fifo_sim(void **s) { (void)s; fifo_body(RT_WORLD_SIM); }

/* ---- timers: order and cancel ------------------------------------------------ */

struct timer_state {
    uint64_t order[8];
    atomic_uint_fast64_t fired;
    uint64_t canceled_id;
    atomic_int cancel_rc, unknown_rc;
};

static void timer_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct timer_state *t = rt_actor_state(a);
    if (m->type != RT_MSG_TIMER)
        return;
    const struct rt_timer_fire *f = m->data;
    uint64_t k = atomic_load(&t->fired);
    if (k < 8)
        t->order[k] = f->tag;
    atomic_fetch_add(&t->fired, 1);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops timer_ops = { "timers", timer_msg, NULL };

static void timer_setup(struct rt_node *n, void *arg)
{
    struct timer_state *t = arg;
    struct rt_actor *a = rt_actor_spawn(n, &timer_ops, t);
    rt_timer_start(a, 30 * RT_NS_PER_MS, 30);
    rt_timer_start(a, 10 * RT_NS_PER_MS, 10);
    t->canceled_id = rt_timer_start(a, 15 * RT_NS_PER_MS, 15);
    rt_timer_start(a, 20 * RT_NS_PER_MS, 20);
    atomic_store(&t->cancel_rc, rt_timer_cancel(a, t->canceled_id));
    atomic_store(&t->unknown_rc, rt_timer_cancel(a, 9999));
}

static void timers_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 1);
    struct rt_node *n = up_node(w, "n");
    struct timer_state t = { 0 };
    uint64_t t0 = rt_now(w);
    assert_int_equal(rt_node_call(n, timer_setup, &t), 0);
    assert_int_equal(wait_count(w, &t.fired, 3), 0);
    assert_true(rt_now(w) - t0 >= 30 * RT_NS_PER_MS);
    assert_int_equal(atomic_load(&t.cancel_rc), 0);
    assert_int_equal(atomic_load(&t.unknown_rc), -ENOENT);
    assert_int_equal(t.order[0], 10);
    assert_int_equal(t.order[1], 20);
    assert_int_equal(t.order[2], 30);
    /* The canceled timer must not fire even well after its time. */
    assert_int_equal(wait_count_for(w, &t.fired, 4, QUIET_NS), -ETIMEDOUT);
    assert_int_equal(atomic_load(&t.fired), 3);
    rt_world_free(w);
}

static void test_timers_real(void **s) { (void)s; timers_body(RT_WORLD_REAL); }
static void test_timers_sim(void **s) { (void)s; timers_body(RT_WORLD_SIM); }

/* ---- cross-node ping-pong ---------------------------------------------------- */

struct pinger {
    rt_addr peer;
    uint64_t rounds;
    atomic_uint_fast64_t done;
};

static void ping_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct pinger *p = rt_actor_state(a);
    uint64_t k;
    memcpy(&k, m->data, sizeof(k));
    if (m->type == MSG_PING) {
        rt_send(a, m->src, MSG_PONG, &k, sizeof(k));
        return;
    }
    atomic_store(&p->done, k + 1);
    if (k + 1 < p->rounds) {
        k++;
        rt_send(a, p->peer, MSG_PING, &k, sizeof(k));
    }
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops ping_ops = { "ping", ping_msg, NULL };

static void ping_start(struct rt_node *n, void *arg)
{
    struct pinger *p = arg;
    struct rt_actor *a = rt_actor_spawn(n, &ping_ops, p);
    uint64_t k = 0;
    rt_send(a, p->peer, MSG_PING, &k, sizeof(k));
}

static void pingpong_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 3);
    struct rt_node *a = up_node(w, "a"), *b = up_node(w, "b");
    struct pinger pong = { 0 }, ping = { 0 };
    ping.peer = spawn(b, &ping_ops, &pong);
    ping.rounds = 500;
    assert_int_equal(rt_node_call(a, ping_start, &ping), 0);
    assert_int_equal(wait_count(w, &ping.done, 500), 0);
    if (kind == RT_WORLD_SIM)   /* 500 round trips of 2 x (50..70 us) latency */
        assert_true(rt_now(w) >= 500 * 2 * 50000ull);
    rt_world_free(w);
}

static void test_pingpong_real(void **s) { (void)s; pingpong_body(RT_WORLD_REAL); }
static void test_pingpong_sim(void **s) { (void)s; pingpong_body(RT_WORLD_SIM); }

/* ---- crash: no handler runs again, later sends are dropped, memory freed ------ */

struct victim {
    atomic_uint_fast64_t handled, stops;
};

static void victim_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct victim *v = *(struct victim **)rt_actor_state(a);
    if (m->type == MSG_GROW)
        rt_xmalloc(64 * 1024);      /* charged to this node; freed by the crash */
    atomic_fetch_add(&v->handled, 1);
    rt_world_notify(rt_actor_world(a));
}

static void victim_stop(struct rt_actor *a)
{
    struct victim *v = *(struct victim **)rt_actor_state(a);
    atomic_fetch_add(&v->stops, 1);
}

static const struct rt_actor_ops victim_ops = { "victim", victim_msg, victim_stop };

struct victim_spawn {
    struct victim *v;
    _Atomic rt_addr addr;
};

static void victim_spawn_fn(struct rt_node *n, void *arg)
{
    struct victim_spawn *vs = arg;
    struct victim **st = rt_xmalloc(sizeof(*st));   /* state in the node's memory */
    *st = vs->v;
    atomic_store(&vs->addr, rt_actor_addr(rt_actor_spawn(n, &victim_ops, st)));
    rt_world_notify(rt_node_world(n));
}

static bool vs_ready(void *arg)
{
    return atomic_load(&((struct victim_spawn *)arg)->addr) != 0;
}

static rt_addr spawn_victim(struct rt_node *n, struct victim *v)
{
    struct victim_spawn vs = { v, 0 };
    assert_int_equal(rt_node_call(n, victim_spawn_fn, &vs), 0);
    assert_int_equal(rt_world_wait(rt_node_world(n), vs_ready, &vs, WAIT_NS), 0);
    return atomic_load(&vs.addr);
}

struct sender {
    rt_addr to;
    uint32_t type;
    int count;
    atomic_int last_rc;
    atomic_uint_fast64_t sent;
};

static void sender_fn(struct rt_node *n, void *arg)
{
    struct sender *s = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    for (int i = 0; i < s->count; i++)
        atomic_store(&s->last_rc, rt_send(a, s->to, s->type, NULL, 0));
    atomic_fetch_add(&s->sent, 1);
    rt_world_notify(rt_node_world(n));
}

static void send_from(struct rt_node *src, struct sender *s)
{
    uint64_t before = atomic_load(&s->sent);
    assert_int_equal(rt_node_call(src, sender_fn, s), 0);
    assert_int_equal(wait_count(rt_node_world(src), &s->sent, before + 1), 0);
}

static void crash_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 5);
    struct rt_node *src = up_node(w, "src"), *vn = up_node(w, "victim");
    struct victim v = { 0 };
    rt_addr to = spawn_victim(vn, &v);
    struct sender s = { .to = to, .type = MSG_GROW, .count = 10 };
    send_from(src, &s);
    assert_int_equal(wait_count(w, &v.handled, 10), 0);
    assert_true(rt_node_mem_bytes(vn) >= 10 * 64 * 1024);

    rt_node_crash(vn);
    assert_false(rt_node_is_up(vn));
    assert_int_equal(rt_world_wait(w, node_down, vn, WAIT_NS), 0);
    uint64_t handled = atomic_load(&v.handled);
    s.type = MSG_SEQ;
    send_from(src, &s);
    assert_int_equal(atomic_load(&s.last_rc), -EHOSTDOWN);
    /* Give any stray delivery every chance to happen, then check none did. */
    struct rt_node_stats st;
    rt_world_wait(w, NULL, NULL, QUIET_NS);
    assert_int_equal(atomic_load(&v.handled), handled);
    assert_int_equal(atomic_load(&v.stops), 0);     /* a crash runs no shutdown code */
    rt_node_get_stats(vn, &st);
    assert_int_equal(st.crashes, 1);
    assert_true(st.dropped >= 10);
    assert_true(rt_net_dropped(w) >= 10);

    /* A restart is a new incarnation: old addresses are dead, memory starts at 0. */
    assert_int_equal(rt_node_start(vn), 0);
    send_from(src, &s);
    assert_int_equal(atomic_load(&s.last_rc), -EHOSTDOWN);
    rt_addr to2 = spawn_victim(vn, &v);
    assert_int_not_equal(to2, to);
    s.to = to2;
    send_from(src, &s);
    assert_int_equal(wait_count(w, &v.handled, handled + 10), 0);

    /* Graceful stop runs on_stop. */
    rt_node_stop(vn);
    assert_false(rt_node_is_up(vn));
    assert_int_equal(atomic_load(&v.stops), 1);
    assert_int_equal(rt_node_mem_bytes(vn), 0);
    rt_world_free(w);
}

static void test_crash_real(void **s) { (void)s; crash_body(RT_WORLD_REAL); }

/* A vanished node: sends are swallowed (0), its address still looks alive,
 * nothing is handled, and a restart makes it an ordinary down-then-up node. */
static void vanish_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 6);
    struct rt_node *src = up_node(w, "src"), *vn = up_node(w, "ghost");
    struct victim v = { 0 };
    rt_addr to = spawn_victim(vn, &v);
    rt_node_vanish(vn);
    assert_int_equal(rt_world_wait(w, node_down, vn, WAIT_NS), 0);
    assert_true(rt_addr_alive(w, to));
    struct sender s = { .to = to, .type = MSG_SEQ, .count = 3 };
    send_from(src, &s);
    assert_int_equal(atomic_load(&s.last_rc), 0);
    rt_world_wait(w, NULL, NULL, QUIET_NS);
    assert_int_equal(atomic_load(&v.handled), 0);
    assert_int_equal(atomic_load(&v.stops), 0);
    assert_int_equal(rt_node_start(vn), 0);
    assert_false(rt_addr_alive(w, to));     /* the old incarnation is gone for good */
    send_from(src, &s);
    assert_int_equal(atomic_load(&s.last_rc), -EHOSTDOWN);
    rt_world_free(w);
}

static void test_vanish_real(void **s) { (void)s; vanish_body(RT_WORLD_REAL); }
static void test_vanish_sim(void **s) { (void)s; vanish_body(RT_WORLD_SIM); }
static void test_crash_sim(void **s) { (void)s; crash_body(RT_WORLD_SIM); }

/* ---- memory limit: exceeding it crashes the node, not the process ------------- */

static void memlimit_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 9);
    struct rt_node *src = up_node(w, "src"), *vn = up_node(w, "hog");
    struct victim v = { 0 };
    rt_addr to = spawn_victim(vn, &v);
    rt_node_set_mem_limit(vn, 1024 * 1024);
    struct sender s = { .to = to, .type = MSG_GROW, .count = 100 };
    send_from(src, &s);
    assert_int_equal(rt_world_wait(w, node_down, vn, WAIT_NS), 0);
    struct rt_node_stats st;
    rt_node_get_stats(vn, &st);
    assert_int_equal(st.crashes, 1);
    /* 1 MiB holds 15 blocks of 64 KiB plus headers, not 16: the 16th crashes. */
    assert_int_equal(atomic_load(&v.handled), 15);
    assert_true(rt_node_mem_peak(vn) <= 1024 * 1024);
    assert_int_equal(rt_node_mem_bytes(vn), 0);
    assert_true(rt_node_is_up(src));
    rt_world_free(w);
}

static void test_memlimit_real(void **s) { (void)s; memlimit_body(RT_WORLD_REAL); }
static void test_memlimit_sim(void **s) { (void)s; memlimit_body(RT_WORLD_SIM); }

/* ---- pause: nothing is handled until the pause ends ------------------------- */

static void pause_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 11);
    struct rt_node *src = up_node(w, "src"), *vn = up_node(w, "paused");
    struct victim v = { 0 };
    rt_addr to = spawn_victim(vn, &v);
    uint64_t t0 = rt_now(w);
    rt_node_pause(vn, 100 * RT_NS_PER_MS);
    struct sender s = { .to = to, .type = MSG_SEQ, .count = 5 };
    send_from(src, &s);
    assert_int_equal(wait_count(w, &v.handled, 5), 0);
    assert_true(rt_now(w) - t0 >= 100 * RT_NS_PER_MS);
    rt_world_free(w);
}

static void test_pause_real(void **s) { (void)s; pause_body(RT_WORLD_REAL); }
static void test_pause_sim(void **s) { (void)s; pause_body(RT_WORLD_SIM); }

/* ---- network rules: partition drops, delay keeps FIFO ------------------------ */

static void net_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 13);
    struct rt_node *src = up_node(w, "src"), *rxn = up_node(w, "rx");
    struct fifo_rx rx = { 0 };
    rt_addr to = spawn(rxn, &fifo_rx_ops, &rx);
    struct rt_net_rule part = { .from = rt_node_id(src), .to = rt_node_id(rxn), .partitioned = true };
    int id = rt_net_add_rule(w, &part);
    assert_true(id > 0);
    struct fifo_tx tx = { 0, to };
    assert_int_equal(rt_node_call(src, fifo_send_all, &tx), 0);
    assert_int_equal(wait_count_for(w, &rx.got, 1, QUIET_NS), -ETIMEDOUT);
    assert_true(rt_net_dropped(w) >= FIFO_MSGS);
    assert_int_equal(rt_net_remove_rule(w, id), 0);
    assert_int_equal(rt_net_remove_rule(w, id), -ENOENT);

    struct rt_net_rule slow = { .from = RT_NET_ANY, .to = rt_node_id(rxn), .delay_ns = 30 * RT_NS_PER_MS };
    id = rt_net_add_rule(w, &slow);
    uint64_t t0 = rt_now(w);
    memset(rx.next, 0, sizeof(rx.next));
    assert_int_equal(rt_node_call(src, fifo_send_all, &tx), 0);
    assert_int_equal(wait_count(w, &rx.got, 1), 0);
    assert_true(rt_now(w) - t0 >= 30 * RT_NS_PER_MS);
    rt_net_remove_rule(w, id);
    assert_int_equal(wait_count(w, &rx.got, FIFO_MSGS), 0);
    assert_int_equal(atomic_load(&rx.out_of_order), 0);
    rt_world_free(w);
}

static void test_net_real(void **s) { (void)s; net_body(RT_WORLD_REAL); }
static void test_net_sim(void **s) { (void)s; net_body(RT_WORLD_SIM); }

/* ---- determinism: one seed, one hash; seeds differ ----------------------------- */

#define GOSSIP_NODES 4
#define GOSSIP_HOPS 300

struct gossip {
    rt_addr peers[GOSSIP_NODES];
    atomic_uint_fast64_t *hops;
};

static void gossip_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct gossip *g = rt_actor_state(a);
    uint64_t k;
    memcpy(&k, m->data, sizeof(k));
    if (atomic_fetch_add(g->hops, 1) + 1 >= GOSSIP_HOPS * 3)
        return;
    /* Fan out to two random peers: the interleaving depends on the seed. */
    for (int i = 0; i < 2 && k < GOSSIP_HOPS; i++) {
        uint64_t next = k + 1;
        rt_send(a, g->peers[rt_rand_u64(rt_actor_node(a)) % GOSSIP_NODES], MSG_SEQ, &next, sizeof(next));
    }
    if (rt_rand_u64(rt_actor_node(a)) % 4 == 0)
        rt_timer_start(a, rt_rand_u64(rt_actor_node(a)) % 100000, k);
}

static const struct rt_actor_ops gossip_ops = { "gossip", gossip_msg, NULL };

static void gossip_kick(struct rt_node *n, void *arg)
{
    struct gossip *g = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    uint64_t k = 0;
    rt_send(a, g->peers[0], MSG_SEQ, &k, sizeof(k));
}

static uint64_t gossip_run(uint64_t seed)
{
    struct rt_world *w = new_world(RT_WORLD_SIM, seed);
    atomic_uint_fast64_t hops = 0;
    struct gossip g[GOSSIP_NODES];
    struct rt_node *nodes[GOSSIP_NODES];
    for (int i = 0; i < GOSSIP_NODES; i++) {
        char name[8];
        snprintf(name, sizeof(name), "g%d", i);
        nodes[i] = up_node(w, name);
        g[i].hops = &hops;
        g[0].peers[i] = spawn(nodes[i], &gossip_ops, &g[i]);
    }
    for (int i = 1; i < GOSSIP_NODES; i++)
        memcpy(g[i].peers, g[0].peers, sizeof(g[0].peers));
    assert_int_equal(rt_node_call(nodes[0], gossip_kick, &g[0]), 0);
    rt_world_wait(w, NULL, NULL, RT_NS_PER_SEC);
    assert_true(atomic_load(&hops) > 100);
    uint64_t h = rt_trace_hash(w);
    rt_world_free(w);
    return h;
}

static void test_determinism_sim(void **s)
{
    (void)s;
    uint64_t h = gossip_run(42);
    for (int i = 0; i < 100; i++)
        assert_int_equal(gossip_run(42), h);
    uint64_t others[5];
    for (int i = 0; i < 5; i++) {
        others[i] = gossip_run(100 + (uint64_t)i);
        assert_int_not_equal(others[i], h);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(others[i], others[j]);
    }
}

/* ---- stopping several nodes at once -------------------------------------------- */

struct stopper {
    atomic_int *stops;
    atomic_int *elsewhere;      /* on_stop calls not on their own node (asserted later:
                                 * cmocka asserts only on the test's thread) */
};

static void stopper_stop(struct rt_actor *a)
{
    struct stopper *st = rt_actor_state(a);
    atomic_fetch_add(st->stops, 1);
    if (rt_current_node() != rt_actor_node(a))
        atomic_fetch_add(st->elsewhere, 1);
}

static const struct rt_actor_ops stopper_ops = { "stopper", ignore_msg, stopper_stop };

static void nodes_stop_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 11);
    atomic_int stops = 0, elsewhere = 0;
    struct stopper st = { &stops, &elsewhere };
    struct rt_node *nodes[5];
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "s%d", i);
        nodes[i] = up_node(w, name);
        spawn(nodes[i], &stopper_ops, &st);
        spawn(nodes[i], &stopper_ops, &st);
    }
    nodes[4] = NULL;                    /* skipped */
    rt_node_stop(nodes[3]);             /* already down: skipped */
    assert_int_equal(atomic_load(&stops), 2);
    rt_nodes_stop(nodes, 5);
    for (int i = 0; i < 4; i++)
        assert_true(rt_node_is_down(nodes[i]));
    assert_int_equal(atomic_load(&stops), 8);      /* each actor's on_stop, once */
    assert_int_equal(atomic_load(&elsewhere), 0);   /* each on its own node */
    assert_int_equal(rt_node_start(nodes[0]), 0);  /* and a stopped node starts again */
    rt_world_free(w);
}

static void test_nodes_stop_real(void **s) { (void)s; nodes_stop_body(RT_WORLD_REAL); }
static void test_nodes_stop_sim(void **s) { (void)s; nodes_stop_body(RT_WORLD_SIM); }

/* Handler busy time in the sim world comes from the CPU's counter, not a
 * clock read per event: it must still be real time, neither 0 nor more
 * than the wall time around it. */
static void burn_fn(struct rt_node *n, void *arg)
{
    (void)n;
    volatile uint64_t *x = arg;
    for (uint64_t i = 0; i < 20000000; i++)
        *x += i;
}

static void test_busy_time_sim(void **s)
{
    (void)s;
    struct rt_world *w = new_world(RT_WORLD_SIM, 3);
    struct rt_node *n = up_node(w, "burner");
    volatile uint64_t x = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(rt_node_call(n, burn_fn, (void *)&x), 0);
    rt_world_wait(w, NULL, NULL, RT_NS_PER_SEC);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rt_node_stats st;
    rt_node_get_stats(n, &st);
    uint64_t wall = (uint64_t)(t1.tv_sec - t0.tv_sec) * RT_NS_PER_SEC +
                    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
    assert_true(st.busy_ns >= wall / 4);   /* nearly all of it was the one handler */
    assert_true(st.busy_ns <= wall + wall / 10);
    assert_true(x > 0);
    rt_world_free(w);
}

/* ---- real world under load: several nodes exchanging hard (TSan's target) ---- */

#define STRESS_NODES 4
#define STRESS_BURSTS 200
#define STRESS_BURST 50

struct stress {
    rt_addr peers[STRESS_NODES];
    atomic_uint_fast64_t *got;
    uint32_t self;
};

static void stress_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct stress *st = rt_actor_state(a);
    if (m->type == MSG_BURST) {
        uint64_t bursts;
        memcpy(&bursts, m->data, sizeof(bursts));
        for (uint64_t b = 0; b < bursts; b++)
            for (int i = 0; i < STRESS_BURST; i++) {
                uint32_t to = (st->self + 1 + (uint32_t)i % (STRESS_NODES - 1)) % STRESS_NODES;
                rt_send(a, st->peers[to], MSG_SEQ, &b, sizeof(b));
            }
        return;
    }
    atomic_fetch_add_explicit(st->got, 1, memory_order_relaxed);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops stress_ops = { "stress", stress_msg, NULL };

static void kick_fn(struct rt_node *n, void *arg)
{
    struct stress *st = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    uint64_t bursts = STRESS_BURSTS;
    rt_send(a, st->peers[st->self], MSG_BURST, &bursts, sizeof(bursts));
}

static void test_stress_real(void **s)
{
    (void)s;
    struct rt_world *w = new_world(RT_WORLD_REAL, 17);
    atomic_uint_fast64_t got = 0;
    struct stress st[STRESS_NODES];
    struct rt_node *nodes[STRESS_NODES];
    rt_addr peers[STRESS_NODES];
    for (uint32_t i = 0; i < STRESS_NODES; i++) {
        char name[8];
        snprintf(name, sizeof(name), "s%u", i);
        nodes[i] = up_node(w, name);
        st[i].got = &got;
        st[i].self = i;
        peers[i] = spawn(nodes[i], &stress_ops, &st[i]);
    }
    for (uint32_t i = 0; i < STRESS_NODES; i++)
        memcpy(st[i].peers, peers, sizeof(peers));
    for (uint32_t i = 0; i < STRESS_NODES; i++)
        assert_int_equal(rt_node_call(nodes[i], kick_fn, &st[i]), 0);
    uint64_t total = (uint64_t)STRESS_NODES * STRESS_BURSTS * STRESS_BURST;
    assert_int_equal(wait_count(w, &got, total), 0);
    /* Crash one node in the middle of a second round: the others carry on. */
    for (uint32_t i = 0; i < STRESS_NODES; i++)
        assert_int_equal(rt_node_call(nodes[i], kick_fn, &st[i]), 0);
    rt_node_crash(nodes[1]);
    assert_int_equal(rt_world_wait(w, node_down, nodes[1], WAIT_NS), 0);
    rt_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_real),
        cmocka_unit_test(test_fifo_sim),
        cmocka_unit_test(test_timers_real),
        cmocka_unit_test(test_timers_sim),
        cmocka_unit_test(test_pingpong_real),
        cmocka_unit_test(test_pingpong_sim),
        cmocka_unit_test(test_crash_real),
        cmocka_unit_test(test_crash_sim),
        cmocka_unit_test(test_vanish_real),
        cmocka_unit_test(test_vanish_sim),
        cmocka_unit_test(test_memlimit_real),
        cmocka_unit_test(test_memlimit_sim),
        cmocka_unit_test(test_pause_real),
        cmocka_unit_test(test_pause_sim),
        cmocka_unit_test(test_net_real),
        cmocka_unit_test(test_net_sim),
        cmocka_unit_test(test_determinism_sim),
        cmocka_unit_test(test_nodes_stop_real),
        cmocka_unit_test(test_nodes_stop_sim),
        cmocka_unit_test(test_busy_time_sim),
        cmocka_unit_test(test_stress_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
