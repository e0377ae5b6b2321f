/*
 * test_rt.c - the runtime's two worlds.
 *
 * Every behaviour is checked by one actor program run in both worlds (the
 * _real and _sim variants of each test call the same body), which is the
 * proof that actor code does not know which world it lives in.  The test
 * thread never sleeps: it waits on rt_world_wait with a deadline, and actors
 * publish what the test checks through atomics.
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

#define WAIT_NS (10 * RT_NS_PER_SEC)
#define MSG_SEQ (RT_MSG_USER + 1)
#define MSG_PING (RT_MSG_USER + 2)
#define MSG_PONG (RT_MSG_USER + 3)
#define MSG_GROW (RT_MSG_USER + 4)
#define MSG_BURST (RT_MSG_USER + 5)

static struct rt_world *new_world(enum rt_world_kind kind, uint64_t seed)
{
    struct rt_world_config cfg = {
        .kind = kind, .seed = seed, .link_latency_ns = 50000, .link_jitter_ns = 20000,
    };
    struct rt_world *w = NULL;
    assert_int_equal(rt_world_new(&cfg, &w), 0);
    return w;
}

static struct rt_node *up_node(struct rt_world *w, const char *name)
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

static void spawn_fn(struct rt_node *n, void *arg)
{
    struct spawn_req *r = arg;
    struct rt_actor *a = rt_actor_spawn(n, r->ops, r->state);
    atomic_store(&r->addr, rt_actor_addr(a));
    rt_world_notify(rt_node_world(n));
}

static bool addr_set(void *arg)
{
    return atomic_load(&((struct spawn_req *)arg)->addr) != 0;
}

static rt_addr spawn(struct rt_node *n, const struct rt_actor_ops *ops, void *state)
{
    struct spawn_req r = { ops, state, 0 };
    assert_int_equal(rt_node_call(n, spawn_fn, &r), 0);
    assert_int_equal(rt_world_wait(rt_node_world(n), addr_set, &r, WAIT_NS), 0);
    return atomic_load(&r.addr);
}

static void ignore_msg(struct rt_actor *a, const struct rt_msg *m)
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

static bool reached(void *arg)
{
    struct counter_goal *g = arg;
    return atomic_load(g->v) >= g->goal;
}

static int wait_count_for(struct rt_world *w, atomic_uint_fast64_t *v, uint64_t goal, uint64_t ns)
{
    struct counter_goal g = { v, goal };
    return rt_world_wait(w, reached, &g, ns);
}

static int wait_count(struct rt_world *w, atomic_uint_fast64_t *v, uint64_t goal)
{
    return wait_count_for(w, v, goal, WAIT_NS);
}

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

static bool node_down(void *arg)
{
    return rt_node_is_down(arg);
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

/* ---- messages handed over without a copy (rt_send_buf) ----------------------- */

#define BUF_MSGS 200
#define BUF_LEN 5000
#define BUF_BIG (3u << 20)     /* large enough for the runtime's buffer pool */
#define BUF_BIG_MSGS 6

struct buf_rx {
    atomic_uint_fast64_t got, bad;
};

static void buf_rx_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct buf_rx *rx = rt_actor_state(a);
    const unsigned char *p = m->data;
    if (m->type == MSG_GROW) {
        /* A large one (pooled buffers, reused): byte j holds (j * 7 + len) & 0xff. */
        bool ok = m->len >= BUF_BIG / 2;
        for (uint32_t j = 0; ok && j < m->len; j += 4093)
            ok = p[j] == ((j * 7 + m->len) & 0xff);
        if (!ok)
            atomic_fetch_add(&rx->bad, 1);
        atomic_fetch_add(&rx->got, 1);
        rt_world_notify(rt_actor_world(a));
        return;
    }
    /* Message i is BUF_LEN - i bytes, byte j holding (i + j) & 0xff. */
    uint32_t i = BUF_LEN - m->len;
    bool ok = m->type == MSG_SEQ && m->len <= BUF_LEN;
    for (uint32_t j = 0; ok && j < m->len; j++)
        ok = p[j] == ((i + j) & 0xff);
    if (!ok)
        atomic_fetch_add(&rx->bad, 1);
    atomic_fetch_add(&rx->got, 1);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops buf_rx_ops = { "buf-rx", buf_rx_msg, NULL };

struct buf_tx {
    rt_addr to, dead;
    atomic_int rc_dead, rc_len, failed;
};

static void buf_send_all(struct rt_node *n, void *arg)
{
    struct buf_tx *tx = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    for (uint32_t i = 0; i < BUF_MSGS; i++) {
        /* Filled in place; all but the first shorter than allocated. */
        uint32_t len = BUF_LEN - i;
        unsigned char *b = rt_msg_buf_new(BUF_LEN);
        for (uint32_t j = 0; j < len; j++)
            b[j] = (unsigned char)((i + j) & 0xff);
        if (rt_send_buf(a, tx->to, MSG_SEQ, b, len) != 0)
            atomic_fetch_add(&tx->failed, 1);
    }
    for (uint32_t i = 0; i < BUF_BIG_MSGS; i++) {
        /* Sizes alternate within one pool class, so later ones may get a
         * block the receiver has freed, still holding earlier bytes. */
        uint32_t len = BUF_BIG - (i % 2) * 4096;
        unsigned char *b = rt_msg_buf_new(len);
        for (uint32_t j = 0; j < len; j++)
            b[j] = (unsigned char)((j * 7 + len) & 0xff);
        if (rt_send_buf(a, tx->to, MSG_GROW, b, len) != 0)
            atomic_fetch_add(&tx->failed, 1);
    }
    /* Sent to a node that is down: refused, and the buffer is freed (ASan). */
    atomic_store(&tx->rc_dead, rt_send_buf(a, tx->dead, MSG_SEQ, rt_msg_buf_new(64), 64));
    /* A length beyond the buffer: refused, freed. */
    atomic_store(&tx->rc_len, rt_send_buf(a, tx->to, MSG_SEQ, rt_msg_buf_new(8), 9));
    rt_msg_buf_free(rt_msg_buf_new(16));        /* never sent */
    rt_world_notify(rt_node_world(n));
}

static bool buf_sent(void *arg)
{
    return atomic_load(&((struct buf_tx *)arg)->rc_len) != 1;
}

static void buf_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 17);
    struct rt_node *src = up_node(w, "src"), *rxn = up_node(w, "rx");
    struct rt_node *gone = up_node(w, "gone");
    struct buf_rx rx = { 0 };
    rt_addr to = spawn(rxn, &buf_rx_ops, &rx);
    rt_addr dead = spawn(gone, &buf_rx_ops, &rx);
    rt_node_crash(gone);
    /* Every message duplicated: the copies and the handed-over buffer alike. */
    struct rt_net_rule dup = { .from = rt_node_id(src), .to = rt_node_id(rxn), .dup_p = 1.0 };
    int id = rt_net_add_rule(w, &dup);
    assert_true(id > 0);
    struct buf_tx tx = { .to = to, .dead = dead, .rc_dead = 1, .rc_len = 1 };
    assert_int_equal(rt_node_call(src, buf_send_all, &tx), 0);
    assert_int_equal(rt_world_wait(w, buf_sent, &tx, WAIT_NS), 0);
    assert_int_equal(atomic_load(&tx.rc_dead), -EHOSTDOWN);
    assert_int_equal(atomic_load(&tx.rc_len), -EINVAL);
    assert_int_equal(atomic_load(&tx.failed), 0);
    assert_int_equal(wait_count(w, &rx.got, 2 * (BUF_MSGS + BUF_BIG_MSGS)), 0);
    assert_int_equal(atomic_load(&rx.bad), 0);
    rt_world_free(w);
}

static void test_buf_real(void **s) { (void)s; buf_body(RT_WORLD_REAL); }
static void test_buf_sim(void **s) { (void)s; buf_body(RT_WORLD_SIM); }

/* ---- payloads kept and shared without a copy (rt_msg_keep, rt_send_shared) ----- */

#define MSG_KEEP (RT_MSG_USER + 6)
#define KEEP_LEN (3u << 20)

/* The keeper keeps the big message it gets, checks it cannot share what it
 * does not hold, sends it shared to `to` twice and releases it at once (the
 * messages hold their own references); a second big one it keeps until its
 * node crashes.  What it saw goes into atomics for the test thread. */
struct keeper {
    rt_addr to;
    atomic_int kept, rc_unheld, rc_long;
    atomic_size_t mem_held, mem_after;
    unsigned char *held;            /* the second buffer, never released */
};

static void keeper_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct keeper *k = rt_actor_state(a);
    if (m->type != MSG_GROW)
        return;
    size_t before = rt_node_mem_bytes(rt_actor_node(a));
    unsigned char *b = rt_msg_keep(a, m);
    if (!b)
        return;
    if (atomic_fetch_add(&k->kept, 1) == 1) {
        k->held = b;                /* goes with the node */
        rt_world_notify(rt_actor_world(a));
        return;
    }
    atomic_store(&k->mem_held, rt_node_mem_bytes(rt_actor_node(a)) - before);
    unsigned char *fresh = rt_msg_buf_new(16);
    atomic_store(&k->rc_unheld, rt_send_shared(a, k->to, MSG_GROW, fresh, 16));
    rt_msg_buf_free(fresh);
    atomic_store(&k->rc_long, rt_send_shared(a, k->to, MSG_GROW, b, m->len + 1));
    for (int i = 0; i < 2; i++)
        rt_send_shared(a, k->to, MSG_GROW, b, m->len);
    rt_msg_buf_release(a, b);
    atomic_store(&k->mem_after, rt_node_mem_bytes(rt_actor_node(a)));
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops keeper_ops = { "keeper", keeper_msg, NULL };

struct keep_tx {
    rt_addr keeper;
};

static void keep_send(struct rt_node *n, void *arg)
{
    struct keep_tx *tx = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    for (int i = 0; i < 2; i++) {
        unsigned char *b = rt_msg_buf_new(KEEP_LEN);
        for (uint32_t j = 0; j < KEEP_LEN; j++)
            b[j] = (unsigned char)((j * 7 + KEEP_LEN) & 0xff);
        rt_send_buf(a, tx->keeper, MSG_GROW, b, KEEP_LEN);
    }
}

static bool kept_both(void *arg)
{
    return atomic_load(&((struct keeper *)arg)->kept) == 2;
}

static void keep_body(enum rt_world_kind kind)
{
    struct rt_world *w = new_world(kind, 23);
    struct rt_node *src = up_node(w, "src"), *kn = up_node(w, "keeper");
    struct rt_node *rxn = up_node(w, "rx");
    struct buf_rx rx = { 0 };
    struct keeper k = { .to = spawn(rxn, &buf_rx_ops, &rx), .rc_unheld = 1, .rc_long = 1 };
    /* Shared sends are duplicated like any other: each copy a reference. */
    struct rt_net_rule dup = { .from = rt_node_id(kn), .to = rt_node_id(rxn), .dup_p = 1.0 };
    assert_true(rt_net_add_rule(w, &dup) > 0);
    struct keep_tx tx = { spawn(kn, &keeper_ops, &k) };
    size_t base = rt_node_mem_bytes(kn);
    assert_int_equal(rt_node_call(src, keep_send, &tx), 0);
    assert_int_equal(rt_world_wait(w, kept_both, &k, WAIT_NS), 0);
    /* Held bytes count in the keeper's memory, and released ones no more. */
    assert_true(atomic_load(&k.mem_held) >= KEEP_LEN);
    assert_int_equal(atomic_load(&k.rc_unheld), -EINVAL);
    assert_int_equal(atomic_load(&k.rc_long), -EINVAL);
    assert_int_equal(wait_count(w, &rx.got, 4), 0);
    assert_int_equal(atomic_load(&rx.bad), 0);
    assert_true(rt_node_mem_bytes(kn) >= base + KEEP_LEN);     /* the second, held */
    /* The crash releases what the node held (ASan: no leak). */
    rt_node_crash(kn);
    assert_int_equal(rt_world_wait(w, node_down, kn, WAIT_NS), 0);
    assert_int_equal(rt_node_mem_bytes(kn), 0);
    rt_world_free(w);
}

static void test_keep_real(void **s) { (void)s; keep_body(RT_WORLD_REAL); }
static void test_keep_sim(void **s) { (void)s; keep_body(RT_WORLD_SIM); }

/* A shared send hashes as rt_send of the same bytes. */
struct shared_send {
    rt_addr to;
    const unsigned char *data;
    uint32_t len;
};

static void send_shared_one(struct rt_node *n, void *arg)
{
    struct shared_send *o = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    unsigned char *b = rt_msg_buf_new(o->len);
    memcpy(b, o->data, o->len);
    rt_msg_buf_hold(a, b);
    rt_send_shared(a, o->to, MSG_SEQ, b, o->len);
    rt_msg_buf_release(a, b);
}

static uint64_t hash_of_shared_send(const unsigned char *data, uint32_t len)
{
    struct rt_world *w = new_world(RT_WORLD_SIM, 7);
    struct rt_node *a = up_node(w, "a"), *b = up_node(w, "b");
    struct shared_send o = { spawn(b, &silent_ops, NULL), data, len };
    assert_int_equal(rt_node_call(a, send_shared_one, &o), 0);
    rt_world_wait(w, NULL, NULL, RT_NS_PER_SEC);
    struct rt_node_stats st;
    rt_node_get_stats(b, &st);
    assert_int_equal(st.delivered, 2);      /* the spawn call and the message */
    uint64_t h = rt_trace_hash(w);
    rt_world_free(w);
    return h;
}

static uint64_t hash_of_send(const unsigned char *data, uint32_t len);

static void test_shared_hash_sim(void **s)
{
    (void)s;
    enum { LEN = 1 << 20 };
    unsigned char *p = malloc(LEN);
    assert_non_null(p);
    for (uint32_t i = 0; i < LEN; i++)
        p[i] = (unsigned char)(i * 131 + 7);
    assert_int_equal(hash_of_shared_send(p, 100), hash_of_send(p, 100));
    assert_int_equal(hash_of_shared_send(p, LEN), hash_of_send(p, LEN));
    assert_int_not_equal(hash_of_shared_send(p, LEN), hash_of_send(p, 100));
    free(p);
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

/* ---- what of a payload the trace hash covers ------------------------------------ */

struct one_send {
    rt_addr to;
    const void *data;
    uint32_t len;
};

static void send_one(struct rt_node *n, void *arg)
{
    struct one_send *o = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    rt_send(a, o->to, MSG_SEQ, o->data, o->len);
}

/* The trace hash of a sim world in which one message carries data. */
static uint64_t hash_of_send(const unsigned char *data, uint32_t len)
{
    struct rt_world *w = new_world(RT_WORLD_SIM, 7);
    struct rt_node *a = up_node(w, "a"), *b = up_node(w, "b");
    struct one_send o = { spawn(b, &silent_ops, NULL), data, len };
    assert_int_equal(rt_node_call(a, send_one, &o), 0);
    rt_world_wait(w, NULL, NULL, RT_NS_PER_SEC);
    struct rt_node_stats st;
    rt_node_get_stats(b, &st);
    assert_int_equal(st.delivered, 2);      /* the spawn call and the message */
    uint64_t h = rt_trace_hash(w);
    rt_world_free(w);
    return h;
}

/* Small payloads count byte for byte; a bulk one by its length and its two
 * ends (rt_trace.c says why), so a change in its middle is not seen. */
static void test_payload_hash_sim(void **s)
{
    (void)s;
    enum { SMALL = 8192, BULK = 1 << 20 };
    unsigned char *p = calloc(BULK + 1, 1);
    assert_non_null(p);
    for (uint32_t i = 0; i < BULK + 1; i++)
        p[i] = (unsigned char)(i * 131 + 7);
    uint64_t small = hash_of_send(p, SMALL);
    assert_int_equal(hash_of_send(p, SMALL), small);
    p[SMALL / 2] ^= 1;
    assert_int_not_equal(hash_of_send(p, SMALL), small);
    p[SMALL / 2] ^= 1;

    uint64_t bulk = hash_of_send(p, BULK);
    assert_int_not_equal(bulk, small);
    assert_int_not_equal(hash_of_send(p, BULK + 1), bulk);     /* length */
    size_t at[] = { 0, 2047, BULK - 2048, BULK - 1 };         /* the two ends */
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        p[at[i]] ^= 1;
        assert_int_not_equal(hash_of_send(p, BULK), bulk);
        p[at[i]] ^= 1;
    }
    p[BULK / 2] ^= 1;
    assert_int_equal(hash_of_send(p, BULK), bulk);
    free(p);
}

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
        cmocka_unit_test(test_buf_real),
        cmocka_unit_test(test_buf_sim),
        cmocka_unit_test(test_keep_real),
        cmocka_unit_test(test_keep_sim),
        cmocka_unit_test(test_shared_hash_sim),
        cmocka_unit_test(test_determinism_sim),
        cmocka_unit_test(test_payload_hash_sim),
        cmocka_unit_test(test_nodes_stop_real),
        cmocka_unit_test(test_nodes_stop_sim),
        cmocka_unit_test(test_busy_time_sim),
        cmocka_unit_test(test_stress_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
