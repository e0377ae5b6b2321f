/*
 * test_rt_msg.c - messages without copies, and what the trace hash sees of
 * them: rt_send_buf hands a buffer over, rt_msg_keep and rt_send_shared keep
 * and share a payload, and a message's bytes count in the sim world's trace
 * hash whole when small, by length and ends when bulk - the same whether it
 * was sent shared or copied.  Each behaviour runs in both worlds where it
 * exists in both (test_rt.c has the rest of the runtime).
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

#include "runtime/rt.h"
#include "tests/rt_env.h"

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

/* One message carrying data, sent one way or another. */
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

static void send_shared_one(struct rt_node *n, void *arg)
{
    struct one_send *o = arg;
    struct rt_actor *a = rt_actor_spawn(n, &silent_ops, NULL);
    unsigned char *b = rt_msg_buf_new(o->len);
    memcpy(b, o->data, o->len);
    rt_msg_buf_hold(a, b);
    rt_send_shared(a, o->to, MSG_SEQ, b, o->len);
    rt_msg_buf_release(a, b);
}

/* The trace hash of a sim world in which send sends one message with data. */
static uint64_t hash_of(void (*send)(struct rt_node *, void *), const unsigned char *data,
                        uint32_t len)
{
    struct rt_world *w = new_world(RT_WORLD_SIM, 7);
    struct rt_node *a = up_node(w, "a"), *b = up_node(w, "b");
    struct one_send o = { spawn(b, &silent_ops, NULL), data, len };
    assert_int_equal(rt_node_call(a, send, &o), 0);
    rt_world_wait(w, NULL, NULL, RT_NS_PER_SEC);
    struct rt_node_stats st;
    rt_node_get_stats(b, &st);
    assert_int_equal(st.delivered, 2);      /* the spawn call and the message */
    uint64_t h = rt_trace_hash(w);
    rt_world_free(w);
    return h;
}

static uint64_t hash_of_send(const unsigned char *data, uint32_t len)
{
    return hash_of(send_one, data, len);
}

/* A shared send hashes as rt_send of the same bytes. */
static uint64_t hash_of_shared_send(const unsigned char *data, uint32_t len)
{
    return hash_of(send_shared_one, data, len);
}

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

/* ---- what of a payload the trace hash covers ------------------------------------ */

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_real),
        cmocka_unit_test(test_buf_sim),
        cmocka_unit_test(test_keep_real),
        cmocka_unit_test(test_keep_sim),
        cmocka_unit_test(test_shared_hash_sim),
        cmocka_unit_test(test_payload_hash_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
