/*
 * dfs_env.c - the DFS tests' client actor and environment (dfs_env.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/rt_dir.h"
#include "tests/dfs_env.h"

/* ---- the client actor --------------------------------------------------- */

static void client_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct client *c = rt_actor_state(a);
    struct dfs_done done;
    const void *payload;
    if (dfs_done_parse(m, &done, &payload) < 0 || done.cookie >= NSLOTS) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    struct slot *s = &c->slots[done.cookie];
    s->done = done;
    s->got = done.payload_len < SLOT_CAP ? done.payload_len : SLOT_CAP;
    memcpy(s->buf, payload, s->got);
    /* Release: the test reads the slot after it sees the count. */
    atomic_fetch_add_explicit(&c->ndone, 1, memory_order_release);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops client_ops = { "dfs-client", client_msg, NULL };

static void client_spawn(struct rt_node *n, void *arg)
{
    struct client *c = arg;
    c->self = rt_actor_spawn(n, &client_ops, c);
    atomic_store(&c->ready, 1);
    rt_world_notify(rt_node_world(n));
}

struct batch {
    struct client *c;
    const struct dfs_req *reqs;
    size_t n;
};

static void batch_fn(struct rt_node *n, void *arg)
{
    struct batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        struct dfs_req r = b->reqs[i];
        r.cookie = i;
        dfs_submit(b->c->self, b->c->d, &r);
    }
}

/* ---- environment ---------------------------------------------------------- */

bool goal_met(void *arg)
{
    struct goal *g = arg;
    return atomic_load_explicit(g->v, memory_order_acquire) >= g->want;
}

bool flag_set(void *arg)
{
    return atomic_load((atomic_int *)arg) != 0;
}

bool node_down(void *arg)
{
    return rt_node_is_down(arg);
}

void env_up(struct env *e, enum rt_world_kind kind, const struct dfs_config *model)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    struct rt_world_config wc = { .kind = kind, .seed = 42, .link_latency_ns = LINK_NS };
    assert_int_equal(rt_world_new(&wc, &e->w), 0);
    struct dfs_config cfg = model ? *model : (struct dfs_config){ 0 };
    if (kind == RT_WORLD_REAL) {
        assert_int_equal(rt_dir_make_temp("mc-dfs", e->root, sizeof(e->root)), 0);
        cfg.root = e->root;
    }
    assert_int_equal(dfs_new(e->w, &cfg, &e->d), 0);
    assert_true(dfs_addr(e->d) != 0);
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "client%d", i);
        e->cn[i] = rt_node_new(e->w, name);
        assert_non_null(e->cn[i]);
        assert_int_equal(rt_node_start(e->cn[i]), 0);
        e->cl[i].d = e->d;
        for (int k = 0; k < NSLOTS; k++)
            e->cl[i].slots[k].buf = malloc(SLOT_CAP);
        assert_int_equal(rt_node_call(e->cn[i], client_spawn, &e->cl[i]), 0);
        assert_int_equal(rt_world_wait(e->w, flag_set, &e->cl[i].ready, WAIT_NS), 0);
    }
}

void env_down(struct env *e)
{
    rt_world_free(e->w);
    dfs_free(e->d);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(atomic_load(&e->cl[i].bad), 0);
        for (int k = 0; k < NSLOTS; k++)
            free(e->cl[i].slots[k].buf);
    }
    if (e->root[0])
        assert_int_equal(rt_dir_remove(e->root), 0);
}

void run(struct env *e, int ci, const struct dfs_req *reqs, size_t n)
{
    struct client *c = &e->cl[ci];
    uint64_t before = atomic_load(&c->ndone);
    for (size_t i = 0; i < n; i++)
        c->slots[i].done.status = 1;    /* not a status dfs ever sends */
    struct batch b = { c, reqs, n };
    assert_int_equal(rt_node_call(e->cn[ci], batch_fn, &b), 0);
    struct goal g = { &c->ndone, before + n };
    assert_int_equal(rt_world_wait(e->w, goal_met, &g, WAIT_NS), 0);
}

struct slot *op(struct env *e, int ci, struct dfs_req r)
{
    run(e, ci, &r, 1);
    return &e->cl[ci].slots[0];
}

int op_status(struct env *e, struct dfs_req r)
{
    return op(e, 0, r)->done.status;
}

struct dfs_req wr(const char *path, const void *data, size_t len)
{
    return (struct dfs_req){ .op = DFS_OP_WRITE, .path = path, .data = data, .len = len };
}

struct dfs_req rd(const char *path, uint64_t off, uint64_t len)
{
    return (struct dfs_req){ .op = DFS_OP_READ, .path = path, .offset = off, .length = len };
}

struct dfs_req simple(enum dfs_op o, const char *path)
{
    return (struct dfs_req){ .op = o, .path = path };
}

void fill(unsigned char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 31 + seed + (i >> 8));
}
