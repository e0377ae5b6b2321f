/*
 * test_offload.c - rt_actor_offload: work away from the node's thread, done
 * back on it, drop when the node went down first.
 *
 * The test thread never sleeps: it waits on rt_world_wait with a deadline.
 * A job can block in its work on a gate, a condition variable that the
 * first drop opens, so a crash lands while that work is running.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/rt.h"
#include "runtime/rt_mem.h"

#define WAIT_NS (10 * RT_NS_PER_SEC)
#define NBYTES 4096
#define JOBS 3

/* What the jobs report, for the test thread to check. */
struct obs {
    atomic_int works, dones, drops, orphans;
    atomic_int work_on_node;        /* work ran with a node current */
    atomic_int done_off_node;       /* done ran without its node current */
    atomic_int work_on_node_thread; /* work ran on the node's thread (real world: wrong) */
    atomic_int order_broken;        /* done of job i came before done of job i - 1 */
    atomic_int next_done;
    atomic_uint_fast64_t sum;       /* what work computed from node memory */
    /* The gate: a job with block set waits in work until it opens. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, blocked;
};

static struct obs O;

static void obs_reset(void)
{
    memset(&O, 0, sizeof(O));
    pthread_mutex_init(&O.mu, NULL);
    pthread_cond_init(&O.cv, NULL);
}

struct job {
    struct rt_node *node;
    pthread_t node_thread;
    const uint8_t *bytes;   /* node memory: read by work */
    uint8_t *node_copy;     /* node memory: freed by done */
    int seq;
    bool block;
    uint64_t sum;
};

static void work(void *arg)
{
    struct job *j = arg;
    if (rt_current_node())
        atomic_fetch_add(&O.work_on_node, 1);
    if (pthread_equal(pthread_self(), j->node_thread))
        atomic_fetch_add(&O.work_on_node_thread, 1);
    if (j->block) {
        pthread_mutex_lock(&O.mu);
        O.blocked = true;
        pthread_cond_broadcast(&O.cv);
        rt_world_notify(rt_node_world(j->node));   /* any thread */
        while (!O.open)
            pthread_cond_wait(&O.cv, &O.mu);
        pthread_mutex_unlock(&O.mu);
    }
    /* Reads node memory after the gate: the node must not be torn down yet. */
    uint64_t s = 0;
    for (int i = 0; i < NBYTES; i++)
        s += j->bytes[i];
    j->sum = s;
    atomic_fetch_add(&O.works, 1);
}

static void done(struct rt_actor *a, void *arg)
{
    struct job *j = arg;
    if (rt_current_node() != j->node)
        atomic_fetch_add(&O.done_off_node, 1);
    if (atomic_fetch_add(&O.next_done, 1) != j->seq)
        atomic_fetch_add(&O.order_broken, 1);
    if (a)
        atomic_store(&O.sum, j->sum);
    else
        atomic_fetch_add(&O.orphans, 1);
    rt_free(j->node_copy);
    atomic_fetch_add(&O.dones, 1);
    rt_world_notify(rt_node_world(j->node));
    rt_free(j);
}

static void open_gate(void)
{
    pthread_mutex_lock(&O.mu);
    O.open = true;
    pthread_cond_broadcast(&O.cv);
    pthread_mutex_unlock(&O.mu);
}

static void drop(void *arg)
{
    /* The job itself is process memory; node_copy went with the node. */
    rt_free(arg);
    atomic_fetch_add(&O.drops, 1);
    /* The crash test's gate opens when the teardown has taken the jobs not
     * started off the queue: only then may the blocked work finish. */
    open_gate();
}

struct actor_state {
    uint8_t *bytes;     /* node memory the jobs read */
    bool inline_done;   /* sim: done had run when rt_actor_offload returned */
};

static void ignore(struct rt_actor *a, const struct rt_msg *m)
{
    (void)a;
    (void)m;
}

static const struct rt_actor_ops ops = { "offloader", ignore, NULL };

struct spawn_req {
    struct rt_actor *a;
    struct actor_state *st;
    _Atomic rt_addr addr;
};

static void spawn_fn(struct rt_node *n, void *arg)
{
    struct spawn_req *r = arg;
    r->st = rt_xcalloc(1, sizeof(*r->st));
    r->a = rt_actor_spawn(n, &ops, r->st);
    atomic_store(&r->addr, rt_actor_addr(r->a));
    rt_world_notify(rt_node_world(n));
}

static bool addr_set(void *arg)
{
    return atomic_load(&((struct spawn_req *)arg)->addr) != 0;
}

/* What the actor is told to do, on its node's thread. */
struct go_req {
    struct rt_actor *a;
    int n;
    bool block, exit;
};

static void go_fn(struct rt_node *node, void *arg)
{
    struct go_req *g = arg;
    struct rt_actor *a = g->a;
    struct actor_state *st = rt_actor_state(a);
    if (!st->bytes) {
        st->bytes = rt_xmalloc(NBYTES);
        for (int i = 0; i < NBYTES; i++)
            st->bytes[i] = (uint8_t)(i * 7);
    }
    for (int i = 0; i < g->n; i++) {
        struct job *j = rt_xcalloc_process(1, sizeof(*j));
        j->node = node;
        j->node_thread = pthread_self();
        j->bytes = st->bytes;
        j->node_copy = rt_xmalloc(64);
        j->seq = i;
        j->block = g->block && i == 0;
        int before = atomic_load(&O.dones);
        rt_actor_offload(a, work, done, drop, j);
        st->inline_done = atomic_load(&O.dones) == before + 1;
    }
    if (g->exit)
        rt_actor_exit(a);   /* the jobs' done must still run, with a NULL actor */
    rt_world_notify(rt_node_world(node));
}

static bool dones_at_least(void *arg)
{
    return atomic_load(&O.dones) >= *(int *)arg;
}

static bool node_down(void *arg)
{
    return rt_node_is_down(arg);
}

static uint64_t expected_sum(void)
{
    uint64_t s = 0;
    for (int i = 0; i < NBYTES; i++)
        s += (uint8_t)(i * 7);
    return s;
}

/* Starts node `name` in w with one offloading actor. */
static void add_node(struct rt_world *w, const char *name, struct rt_node **n,
                     struct spawn_req *r)
{
    *n = rt_node_new(w, name);
    assert_int_equal(rt_node_start(*n), 0);
    memset(r, 0, sizeof(*r));
    assert_int_equal(rt_node_call(*n, spawn_fn, r), 0);
    assert_int_equal(rt_world_wait(w, addr_set, r, WAIT_NS), 0);
}

static void setup(enum rt_world_kind kind, struct rt_world **w, struct rt_node **n,
                  struct spawn_req *r)
{
    obs_reset();
    struct rt_world_config cfg = { .kind = kind, .seed = 11 };
    assert_int_equal(rt_world_new(&cfg, w), 0);
    add_node(*w, "tm", n, r);
}

static void go(struct rt_node *n, struct spawn_req *r, struct go_req *g, int jobs, bool block,
               bool exit)
{
    *g = (struct go_req){ .a = r->a, .n = jobs, .block = block, .exit = exit };
    assert_int_equal(rt_node_call(n, go_fn, g), 0);
}

/* Work runs off the node with no node current, done on it, in order. */
static void basic_body(enum rt_world_kind kind)
{
    struct rt_world *w;
    struct rt_node *n;
    struct spawn_req r;
    setup(kind, &w, &n, &r);
    struct go_req g;
    go(n, &r, &g, JOBS, false, false);
    int want = JOBS;
    assert_int_equal(rt_world_wait(w, dones_at_least, &want, WAIT_NS), 0);
    assert_int_equal(atomic_load(&O.works), JOBS);
    assert_int_equal(atomic_load(&O.dones), JOBS);
    assert_int_equal(atomic_load(&O.orphans), 0);
    assert_int_equal(atomic_load(&O.work_on_node), 0);
    assert_int_equal(atomic_load(&O.done_off_node), 0);
    assert_int_equal(atomic_load(&O.order_broken), 0);
    assert_int_equal(atomic_load(&O.sum), expected_sum());
    if (kind == RT_WORLD_SIM) {
        assert_true(r.st->inline_done);   /* a function of the seed: no thread */
    } else {
        assert_int_equal(atomic_load(&O.work_on_node_thread), 0);
    }
    rt_world_free(w);
    assert_int_equal(atomic_load(&O.drops), 0);
}

static void test_basic_real(void **s) { (void)s; basic_body(RT_WORLD_REAL); }
static void test_basic_sim(void **s) { (void)s; basic_body(RT_WORLD_SIM); }

/* The actor exits before done: done still runs, told so by a NULL actor,
 * and releases the node memory the job held (LSan would see a leak). */
static void test_orphan_real(void **s)
{
    (void)s;
    struct rt_world *w;
    struct rt_node *n;
    struct spawn_req r;
    setup(RT_WORLD_REAL, &w, &n, &r);
    struct go_req g;
    go(n, &r, &g, JOBS, false, true);
    int want = JOBS;
    assert_int_equal(rt_world_wait(w, dones_at_least, &want, WAIT_NS), 0);
    assert_int_equal(atomic_load(&O.orphans), JOBS);
    assert_int_equal(atomic_load(&O.done_off_node), 0);
    rt_world_free(w);
    assert_int_equal(atomic_load(&O.drops), 0);
}

static bool blocked(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&O.mu);
    bool b = O.blocked;
    pthread_mutex_unlock(&O.mu);
    return b;
}

/* The node crashes while the first of three jobs is blocked in work: the
 * teardown drops the two not started (the first drop opens the gate) and
 * waits for the running work, which still reads the node's memory (ASan
 * would catch a release under it).  No done runs: every job is dropped,
 * exactly once - the blocked one at world free, from the dead node's inbox. */
static void test_crash_during_work_real(void **s)
{
    (void)s;
    struct rt_world *w;
    struct rt_node *n;
    struct spawn_req r;
    setup(RT_WORLD_REAL, &w, &n, &r);
    struct go_req g;
    go(n, &r, &g, JOBS, true, false);
    assert_int_equal(rt_world_wait(w, blocked, NULL, WAIT_NS), 0);
    rt_node_crash(n);
    /* The teardown opens the gate (drop) and then waits for the work. */
    int rc = rt_world_wait(w, node_down, n, WAIT_NS);
    open_gate();    /* so that a failure does not hang the worker */
    assert_int_equal(rc, 0);
    assert_int_equal(atomic_load(&O.works), 1);
    rt_world_free(w);
    assert_int_equal(atomic_load(&O.dones), 0);
    assert_int_equal(atomic_load(&O.drops), JOBS);
}

/* Each node has its own worker: a job of one node blocked in its work does
 * not hold up another node's (with one worker for the world it did). */
static void test_nodes_side_by_side_real(void **s)
{
    (void)s;
    struct rt_world *w;
    struct rt_node *a, *b;
    struct spawn_req ra, rb;
    setup(RT_WORLD_REAL, &w, &a, &ra);
    add_node(w, "tm2", &b, &rb);
    struct go_req ga, gb;
    go(a, &ra, &ga, 1, true, false);
    assert_int_equal(rt_world_wait(w, blocked, NULL, WAIT_NS), 0);
    go(b, &rb, &gb, 1, false, false);
    int want = 1;
    int rc = rt_world_wait(w, dones_at_least, &want, WAIT_NS);
    int works_then = atomic_load(&O.works);
    open_gate();
    assert_int_equal(rc, 0);
    assert_int_equal(works_then, 1);    /* b's; a's is still at the gate */
    want = 2;
    assert_int_equal(rt_world_wait(w, dones_at_least, &want, WAIT_NS), 0);
    assert_int_equal(atomic_load(&O.works), 2);
    assert_int_equal(atomic_load(&O.work_on_node), 0);
    assert_int_equal(atomic_load(&O.done_off_node), 0);
    rt_world_free(w);
    assert_int_equal(atomic_load(&O.drops), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_real),
        cmocka_unit_test(test_basic_sim),
        cmocka_unit_test(test_orphan_real),
        cmocka_unit_test(test_crash_during_work_real),
        cmocka_unit_test(test_nodes_side_by_side_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
