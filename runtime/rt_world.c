/*
 * rt_world.c - what both worlds share: nodes, actors, sending, timers, the
 * delivery of one queued item, crash and stop.  Randomness and the network
 * fault rules are in rt_net.c, queued items and message buffers in rt_msg.c.
 *
 * The world-specific halves live in rt_real.c (threads + libevent) and
 * rt_sim.c (one thread, discrete events).  Everything an actor can do goes
 * through here, which is why the same actor code runs unchanged in both.
 *
 * Delivery (rt__deliver) is the only place a handler is called.  It marks the
 * node current (so allocations are charged to it), arms a jump buffer so that
 * a node which crashes itself (memory limit, rt_node_crash on itself) leaves
 * the handler at once, and measures the handler's busy time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/rt_internal.h"

static _Thread_local struct rt_node *current_node;

uint64_t rt__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * RT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- world ----------------------------------------------------------------- */

int rt_world_new(const struct rt_world_config *cfg, struct rt_world **out)
{
    if (!cfg || !out || (cfg->kind != RT_WORLD_REAL && cfg->kind != RT_WORLD_SIM))
        return -EINVAL;
    if (cfg->max_nodes > RT_MAX_NODES_LIMIT)
        return -EINVAL;
    struct rt_world *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->cfg = *cfg;
    if (!w->cfg.max_nodes)
        w->cfg.max_nodes = RT_DEFAULT_MAX_NODES;
    w->nodes = calloc(w->cfg.max_nodes, sizeof(*w->nodes));
    if (!w->nodes)
        goto fail_nodes;
    w->t0_ns = rt__mono_ns();
    w->tick0 = rt__ticks();
    pthread_mutex_init(&w->wait_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wait_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->net_mu, NULL);
    pthread_mutex_init(&w->trace_mu, NULL);
    pthread_mutex_init(&w->node_mu, NULL);
    rt__rng_seed(w->rng, cfg->seed ^ 0x5eed0f0001d5ull);
    rt__trace_init(w);
    int rc = cfg->kind == RT_WORLD_SIM ? rt__sim_init(w) : rt__real_init(w);
    if (rc < 0)
        goto fail_kind;
    *out = w;
    return 0;

fail_kind:
    rt__trace_free(w);
    free(w->nodes);
fail_nodes:
    free(w);
    return -ENOMEM;
}

void rt_world_free(struct rt_world *w)
{
    if (!w)
        return;
    unsigned nn = atomic_load(&w->nnodes);
    for (unsigned i = 0; i < nn; i++)
        if (rt_node_is_up(w->nodes[i]))
            rt_node_stop(w->nodes[i]);
    if (w->cfg.kind == RT_WORLD_REAL) {
        /* Node threads first: their teardown may still wait for a worker. */
        for (unsigned i = 0; i < nn; i++)
            rt__real_join(w->nodes[i]);
        for (unsigned i = 0; i < nn; i++)
            rt__offload_free(w->nodes[i]);
    }
    for (unsigned i = 0; i < nn; i++) {
        struct rt_node *n = w->nodes[i];
        if (w->cfg.kind == RT_WORLD_REAL)
            rt__real_free_node(n);
        free(n);
    }
    if (w->sim)
        rt__sim_free(w);
    rt__trace_free(w);
    pthread_mutex_destroy(&w->wait_mu);
    pthread_cond_destroy(&w->wait_cv);
    pthread_mutex_destroy(&w->net_mu);
    pthread_mutex_destroy(&w->trace_mu);
    pthread_mutex_destroy(&w->node_mu);
    free(w->nodes);
    free(w);
}

enum rt_world_kind rt_world_kind(const struct rt_world *w)
{
    return w->cfg.kind;
}

uint64_t rt_world_seed(const struct rt_world *w)
{
    return w->cfg.seed;
}

uint64_t rt_now(const struct rt_world *w)
{
    if (w->cfg.kind == RT_WORLD_SIM)
        return rt__sim_now(w);
    return rt__mono_ns() - w->t0_ns;
}

int rt_world_wait(struct rt_world *w, bool (*pred)(void *), void *arg, uint64_t timeout_ns)
{
    if (w->cfg.kind == RT_WORLD_SIM)
        return rt__sim_wait(w, pred, arg, timeout_ns);

    uint64_t deadline = rt__mono_ns() + timeout_ns;
    struct timespec ts = { .tv_sec = (time_t)(deadline / RT_NS_PER_SEC),
                           .tv_nsec = (long)(deadline % RT_NS_PER_SEC) };
    int rc = 0;
    pthread_mutex_lock(&w->wait_mu);
    for (;;) {
        uint64_t gen = w->notify_gen;
        /* pred runs without the lock: it reads component state that has its
         * own synchronisation, and notify may be called under that state's
         * lock.  A notify between pred and wait bumps gen, so none is lost. */
        pthread_mutex_unlock(&w->wait_mu);
        int done = pred && pred(arg);
        pthread_mutex_lock(&w->wait_mu);
        if (done)
            break;
        if (gen != w->notify_gen)
            continue;
        if (pthread_cond_timedwait(&w->wait_cv, &w->wait_mu, &ts) == ETIMEDOUT &&
            gen == w->notify_gen) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&w->wait_mu);
    return rc;
}

void rt_world_notify(struct rt_world *w)
{
    if (w->cfg.kind == RT_WORLD_SIM)
        return;     /* the waiter runs the world itself and checks after every event */
    pthread_mutex_lock(&w->wait_mu);
    w->notify_gen++;
    pthread_cond_broadcast(&w->wait_cv);
    pthread_mutex_unlock(&w->wait_mu);
}

/* ---- nodes ------------------------------------------------------------------ */

struct rt_node *rt_node_new(struct rt_world *w, const char *name)
{
    pthread_mutex_lock(&w->node_mu);
    unsigned id = atomic_load(&w->nnodes);
    if (id >= w->cfg.max_nodes) {
        pthread_mutex_unlock(&w->node_mu);
        return NULL;
    }
    struct rt_node *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->w = w;
    n->id = id;
    snprintf(n->name, sizeof(n->name), "%s", name);
    atomic_init(&n->state, RT__DOWN);
    TAILQ_INIT(&n->timers);
    w->nodes[id] = n;
    /* Release: a thread that sees the count sees the node. */
    atomic_store_explicit(&w->nnodes, id + 1, memory_order_release);
    pthread_mutex_unlock(&w->node_mu);
    return n;
}

static void node_begin_incarnation(struct rt_node *n)
{
    uint32_t inc = (atomic_load(&n->incarnation) + 1) & 0xffff;
    atomic_store(&n->incarnation, inc ? inc : 1);
    rt__mem_pool_init(&n->pool, n);
    rt__rng_seed(n->rng, n->w->cfg.seed ^ ((uint64_t)n->id << 32) ^ inc);
    n->nactors = 0;
    n->cap_actors = 0;
    n->actors = NULL;
    n->next_timer_id = 1;
    n->paused_until = 0;
    n->resume_armed = 0;
}

int rt_node_start(struct rt_node *n)
{
    if (n->w->cfg.kind == RT_WORLD_REAL && atomic_load(&n->state) == RT__CRASHING)
        rt__real_join(n);       /* a crashed incarnation's thread is still tearing down */
    if (atomic_load(&n->state) != RT__DOWN)
        return -EALREADY;
    if (n->w->cfg.kind == RT_WORLD_REAL)
        rt__real_join(n);
    node_begin_incarnation(n);
    atomic_store(&n->vanished, 0);
    if (n->w->cfg.kind == RT_WORLD_REAL)
        return rt__real_start(n);
    atomic_store(&n->state, RT__UP);
    rt_trace(n->w, n, "node_start", "\"incarnation\":%u", (unsigned)atomic_load(&n->incarnation));
    return 0;
}

void rt_node_crash(struct rt_node *n)
{
    int up = RT__UP;
    if (!atomic_compare_exchange_strong(&n->state, &up, RT__CRASHING))
        return;
    atomic_fetch_add(&n->crashes, 1);
    rt_trace(n->w, n, "node_crash", NULL);
    if (current_node == n && n->crash_jmp)
        longjmp(*n->crash_jmp, 1);  /* leave the running handler at once */
    if (n->w->cfg.kind == RT_WORLD_REAL)
        rt__real_crash(n);
    else
        rt__node_teardown(n, 0);
}

void rt_node_vanish(struct rt_node *n)
{
    /* Set before the crash so that no sender sees "down" in between. */
    if (rt_node_is_up(n))
        atomic_store(&n->vanished, 1);
    rt_node_crash(n);
}

/* Marks n stopping and, in the real world, asks its thread to stop; false if
 * it was not up.  The sim world stops it at once. */
static bool stop_begin(struct rt_node *n)
{
    int up = RT__UP;
    if (!atomic_compare_exchange_strong(&n->state, &up, RT__STOPPING))
        return false;
    rt_trace(n->w, n, "node_stop", NULL);
    if (n->w->cfg.kind == RT_WORLD_REAL) {
        rt__real_stop_request(n);
        return true;
    }
    rt__node_run_stop_handlers(n);
    rt__node_teardown(n, 1);
    return true;
}

void rt_node_stop(struct rt_node *n)
{
    if (stop_begin(n) && n->w->cfg.kind == RT_WORLD_REAL)
        rt__real_join(n);
}

void rt_nodes_stop(struct rt_node *const *nodes, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (nodes[i])
            stop_begin(nodes[i]);
    /* Joining a node that was not up is harmless: a crashed one's thread is
     * finishing its teardown, a down one has none. */
    for (uint32_t i = 0; i < n; i++)
        if (nodes[i] && nodes[i]->w->cfg.kind == RT_WORLD_REAL)
            rt__real_join(nodes[i]);
}

void rt_node_pause(struct rt_node *n, uint64_t ns)
{
    if (!rt_node_is_up(n))
        return;
    rt_trace(n->w, n, "node_pause", "\"ns\":%llu", (unsigned long long)ns);
    if (n->w->cfg.kind == RT_WORLD_REAL) {
        rt__real_pause(n, ns);
        return;
    }
    uint64_t until = rt_now(n->w) + ns;
    if (until > n->paused_until)
        n->paused_until = until;
    if (!n->resume_armed) {
        n->resume_armed = 1;
        struct rt__qmsg *q = rt__qmsg_new(0);
        q->kind = RT__Q_RESUME;
        q->node = n->id;
        q->incarnation = atomic_load(&n->incarnation);
        q->at = n->paused_until;
        rt__sim_schedule(n->w, q);
    }
}

static void enqueue(struct rt_node *n, struct rt__qmsg *q)
{
    if (n->w->cfg.kind == RT_WORLD_REAL)
        rt__real_enqueue(n, q);
    else
        rt__sim_schedule(n->w, q);
}

int rt_node_call(struct rt_node *n, void (*fn)(struct rt_node *, void *), void *arg)
{
    if (!rt_node_is_up(n))
        return -EHOSTDOWN;
    struct rt__qmsg *q = rt__qmsg_new(0);
    q->kind = RT__Q_CALL;
    q->fn = fn;
    q->arg = arg;
    q->node = n->id;
    q->incarnation = atomic_load(&n->incarnation);
    /* In the sim world a call rides the node's own link, so it stays behind
     * what was queued for the node before it at the same instant. */
    q->at = n->w->cfg.kind == RT_WORLD_SIM ? rt__sim_link_time(n->w, n->id, n->id, 0) : 0;
    enqueue(n, q);
    return 0;
}

bool rt_node_is_up(const struct rt_node *n)
{
    return atomic_load_explicit(&n->state, memory_order_acquire) == RT__UP;
}

bool rt_addr_alive(const struct rt_world *w, rt_addr addr)
{
    struct rt_node *n = rt_world_node(w, RT_ADDR_NODE(addr));
    return n && (rt_node_is_up(n) || atomic_load(&n->vanished)) &&
           atomic_load(&n->incarnation) == RT_ADDR_INCARNATION(addr);
}

bool rt_node_is_down(const struct rt_node *n)
{
    return atomic_load_explicit(&n->state, memory_order_acquire) == RT__DOWN;
}

uint32_t rt_node_id(const struct rt_node *n) { return n->id; }
const char *rt_node_name(const struct rt_node *n) { return n->name; }
struct rt_world *rt_node_world(const struct rt_node *n) { return n->w; }

struct rt_node *rt_world_node(const struct rt_world *w, uint32_t id)
{
    unsigned nn = atomic_load_explicit(&((struct rt_world *)w)->nnodes, memory_order_acquire);
    return id < nn ? w->nodes[id] : NULL;
}

size_t rt_node_mem_bytes(const struct rt_node *n)
{
    return atomic_load_explicit(&((struct rt_node *)n)->pool.bytes, memory_order_relaxed);
}

size_t rt_node_mem_peak(const struct rt_node *n)
{
    return atomic_load_explicit(&((struct rt_node *)n)->pool.peak, memory_order_relaxed);
}

void rt_node_set_mem_limit(struct rt_node *n, size_t bytes)
{
    atomic_store_explicit(&n->pool.limit, bytes, memory_order_relaxed);
}

void rt_node_get_stats(const struct rt_node *n, struct rt_node_stats *out)
{
    struct rt_node *m = (struct rt_node *)n;
    out->delivered = atomic_load(&m->delivered);
    out->dropped = atomic_load(&m->dropped);
    out->crashes = atomic_load(&m->crashes);
    out->busy_ns = atomic_load(&m->busy_ns);
    if (m->w->cfg.kind == RT_WORLD_SIM)
        out->busy_ns = rt__ticks_to_ns(m->w, out->busy_ns);   /* counted in ticks there */
}

struct rt_node *rt_current_node(void)
{
    return current_node;
}

void rt__mem_limit_hit(struct rt__mem_pool *p, size_t want)
{
    struct rt_node *n = p->node;
    if (!n || current_node != n || !n->crash_jmp)
        return;
    rt_trace(n->w, n, "mem_limit", "\"bytes\":%zu,\"want\":%zu,\"limit\":%zu",
             (size_t)atomic_load(&p->bytes), want, (size_t)atomic_load(&p->limit));
    rt_node_crash(n);       /* does not return: we are inside n's handler */
    abort();
}

/* ---- actors ----------------------------------------------------------------- */

struct rt_actor *rt_actor_spawn(struct rt_node *n, const struct rt_actor_ops *ops, void *state)
{
    if (n->nactors == n->cap_actors) {
        n->cap_actors = n->cap_actors ? 2 * n->cap_actors : 8;
        n->actors = rt_xrealloc(n->actors, n->cap_actors * sizeof(*n->actors));
    }
    struct rt_actor *a = rt_xcalloc(1, sizeof(*a));
    a->id = n->nactors + 1;     /* 0 is never an actor, so 0 is never an address */
    a->node = n;
    a->ops = ops;
    a->state = state;
    a->addr = ((uint64_t)n->id << 48) | ((uint64_t)atomic_load(&n->incarnation) << 32) | a->id;
    n->actors[n->nactors++] = a;
    return a;
}

void rt_actor_offload(struct rt_actor *a, void (*work)(void *arg),
                      void (*done)(struct rt_actor *a, void *arg), void (*drop)(void *arg),
                      void *arg)
{
    struct rt_node *n = a->node;
    if (n->w->cfg.kind == RT_WORLD_SIM) {
        struct rt_node *prev_node = current_node;
        struct rt__mem_pool *prev_pool = rt__mem_current;
        current_node = NULL;
        rt__mem_current = NULL;
        work(arg);
        current_node = prev_node;
        rt__mem_current = prev_pool;
        done(a, arg);
        return;
    }
    struct rt__qmsg *q = rt__qmsg_new(0);
    q->kind = RT__Q_OFFLOAD;
    q->opaque = 1;
    q->node = n->id;
    q->incarnation = atomic_load(&n->incarnation);
    q->dst = a->addr;
    q->work = work;
    q->done = done;
    q->drop = drop;
    q->arg = arg;
    rt__offload_submit(n, q);
}

void rt_actor_exit(struct rt_actor *a)
{
    struct rt_node *n = a->node;
    struct rt__timer *t, *tmp;
    for (t = TAILQ_FIRST(&n->timers); t; t = tmp) {
        tmp = TAILQ_NEXT(t, link);
        if (t->actor == a->id)
            rt_timer_cancel(a, t->id);
    }
    n->actors[a->id - 1] = NULL;
    rt_free(a);
}

rt_addr rt_actor_addr(const struct rt_actor *a) { return a->addr; }
void *rt_actor_state(const struct rt_actor *a) { return a->state; }
struct rt_node *rt_actor_node(const struct rt_actor *a) { return a->node; }
struct rt_world *rt_actor_world(const struct rt_actor *a) { return a->node->w; }

/* ---- sending ---------------------------------------------------------------- */

/* Sends data (len bytes) to dst.  With own, data is the payload of a qmsg
 * from rt_msg_buf_new, sent as it is (and freed when it is not sent). */
static int send_msg(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data,
                    uint32_t len, int opaque, int own, struct rt__qmsg *share);

int rt_send(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data, uint32_t len)
{
    return send_msg(from, dst, type, data, len, 0, 0, NULL);
}

int rt_send_opaque(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data,
                   uint32_t len)
{
    return send_msg(from, dst, type, data, len, 1, 0, NULL);
}

int rt_send_buf(struct rt_actor *from, rt_addr dst, uint32_t type, void *buf, uint32_t len)
{
    struct rt__qmsg *q = rt__qmsg_of(buf);
    if (len > q->len) {
        rt_msg_buf_free(buf);
        return -EINVAL;
    }
    q->len = len;       /* the sender may use less than it asked for */
    return send_msg(from, dst, type, buf, len, 0, 1, NULL);
}

int rt_send_shared(struct rt_actor *from, rt_addr dst, uint32_t type, const void *buf,
                   uint32_t len)
{
    struct rt__qmsg *q = rt__qmsg_of((void *)buf);
    if (q->holder != from->node || len > q->len)
        return -EINVAL;
    return send_msg(from, dst, type, buf, len, 0, 0, q);
}

static int send_msg(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data,
                    uint32_t len, int opaque, int own, struct rt__qmsg *share)
{
    int rc = 0;
    struct rt__qmsg *mine = own ? rt__qmsg_of((void *)data) : NULL;
    struct rt_world *w;
    uint32_t src_node;
    if (from) {
        w = from->node->w;
        src_node = from->node->id;
    } else {
        struct rt_node *cur = current_node;
        if (!cur) {
            rc = -EINVAL;       /* from outside any node: use rt_node_call */
            goto out;
        }
        w = cur->w;
        src_node = cur->id;
    }
    struct rt_node *n = rt_world_node(w, RT_ADDR_NODE(dst));
    if (!n || RT_ADDR_ACTOR(dst) == 0) {
        rc = -EINVAL;
        goto out;
    }
    if (!rt_node_is_up(n) || RT_ADDR_INCARNATION(dst) != atomic_load(&n->incarnation)) {
        atomic_fetch_add(&n->dropped, 1);
        atomic_fetch_add(&w->net_dropped, 1);
        /* A vanished host swallows what is sent to it; a dead process refuses. */
        rc = atomic_load(&n->vanished) && RT_ADDR_INCARNATION(dst) == atomic_load(&n->incarnation)
                 ? 0 : -EHOSTDOWN;
        goto out;
    }
    uint64_t delay = 0;
    int copies = rt__net_filter(w, src_node, n->id, &delay);
    if (copies == 0) {
        atomic_fetch_add(&w->net_dropped, 1);
        goto out;
    }
    for (int c = 0; c < copies; c++) {
        struct rt__qmsg *q;
        if (share) {
            q = rt__qmsg_new_uncleared(0);      /* a reference, not a copy */
            q->shared = share;
            q->len = len;
            atomic_fetch_add_explicit(&share->refs, 1, memory_order_relaxed);
        } else if (mine && c == copies - 1) {
            q = mine;           /* the last copy is the buffer itself */
            mine = NULL;
        } else {
            q = rt__qmsg_new_uncleared(len);
            if (len)
                memcpy(q->data, data, len);
        }
        q->kind = RT__Q_MSG;
        q->opaque = opaque;
        q->src = from ? from->addr : 0;
        q->dst = dst;
        q->type = type;
        q->node = n->id;
        q->incarnation = RT_ADDR_INCARNATION(dst);
        if (w->cfg.kind == RT_WORLD_SIM)
            q->at = rt__sim_link_time(w, src_node, n->id, delay);
        else
            q->at = delay ? rt_now(w) + delay : 0;
        enqueue(n, q);
    }
out:
    if (mine)
        rt__qmsg_free(mine);
    return rc;
}

/* ---- timers ----------------------------------------------------------------- */

struct rt__timer *rt__timer_new(struct rt_actor *a, uint64_t tag)
{
    struct rt_node *n = a->node;
    struct rt__timer *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    t->id = n->next_timer_id++;
    t->tag = tag;
    t->actor = a->id;
    t->node = n;
    TAILQ_INSERT_TAIL(&n->timers, t, link);
    return t;
}

uint64_t rt_timer_start(struct rt_actor *a, uint64_t delay_ns, uint64_t tag)
{
    struct rt_node *n = a->node;
    struct rt__timer *t = rt__timer_new(a, tag);
    if (n->w->cfg.kind == RT_WORLD_REAL) {
        rt__real_timer_arm(n, t, delay_ns);
    } else {
        struct rt__qmsg *q = rt__qmsg_new(0);
        q->kind = RT__Q_TIMER;
        q->timer = t;
        q->node = n->id;
        q->incarnation = atomic_load(&n->incarnation);
        q->at = rt_now(n->w) + delay_ns;
        rt__sim_schedule(n->w, q);
    }
    return t->id;
}

int rt_timer_cancel(struct rt_actor *a, uint64_t timer_id)
{
    struct rt_node *n = a->node;
    struct rt__timer *t;
    TAILQ_FOREACH(t, &n->timers, link)
        if (t->id == timer_id && t->actor == a->id)
            break;
    if (!t)
        return -ENOENT;
    TAILQ_REMOVE(&n->timers, t, link);
    if (n->w->cfg.kind == RT_WORLD_REAL) {
        rt__real_timer_disarm(t);
        free(t);
    } else {
        t->canceled = 1;        /* its heap entry frees it when it comes up */
    }
    return 0;
}

/* ---- delivery --------------------------------------------------------------- */

static struct rt_actor *find_actor(struct rt_node *n, rt_addr dst)
{
    uint32_t id = RT_ADDR_ACTOR(dst);
    if (RT_ADDR_INCARNATION(dst) != atomic_load(&n->incarnation) || id == 0 || id > n->nactors)
        return NULL;
    return n->actors[id - 1];
}

/* Frees a queued item that will not run.  A sim timer deferred by a pause
 * still owns its record (teardown already took it off the node's list). */
static void drop_queued(struct rt_node *n, struct rt__qmsg *q)
{
    if (q->kind == RT__Q_MSG)
        atomic_fetch_add(&n->dropped, 1);
    if (q->kind == RT__Q_TIMER)
        free(q->timer);
    rt__qmsg_free(q);
}

void rt__deliver(struct rt_node *n, struct rt__qmsg *q)
{
    struct rt_world *w = n->w;
    int live = atomic_load(&n->state) == RT__UP && q->incarnation == atomic_load(&n->incarnation);
    if (!live) {
        if (q->kind == RT__Q_MSG)
            atomic_fetch_add(&n->dropped, 1);
        if (q->kind == RT__Q_TIMER && !q->timer->canceled)
            TAILQ_REMOVE(&n->timers, q->timer, link);
        if (q->kind == RT__Q_TIMER)
            free(q->timer);
        rt__qmsg_free(q);
        return;
    }
    if (q->kind == RT__Q_RESUME) {
        rt__qmsg_free(q);
        n->resume_armed = 0;
        if (rt_now(w) < n->paused_until) {
            rt_node_pause(n, n->paused_until - rt_now(w));
            return;
        }
        rt_trace(w, n, "node_resume", NULL);
        struct rt__fifo later = n->deferred;
        n->deferred.head = n->deferred.tail = NULL;
        struct rt__qmsg *d;
        while ((d = rt__fifo_pop(&later)) != NULL && rt_node_is_up(n))
            rt__deliver(n, d);
        while ((d = rt__fifo_pop(&later)) != NULL)
            drop_queued(n, d);
        return;
    }
    if (n->paused_until && rt_now(w) < n->paused_until) {
        if (w->cfg.kind == RT_WORLD_REAL)
            rt__real_arm_resume(n);
        rt__fifo_push(&n->deferred, q);
        return;
    }

    struct rt_actor *a = NULL;
    struct rt_msg m = { 0 };
    struct rt_timer_fire fire;
    if (q->kind == RT__Q_MSG) {
        a = find_actor(n, q->dst);
        if (!a) {
            atomic_fetch_add(&n->dropped, 1);
            rt__qmsg_free(q);
            return;
        }
        m = (struct rt_msg){ q->src, q->dst, q->type, q->len, rt__qmsg_payload(q) };
    } else if (q->kind == RT__Q_TIMER) {
        struct rt__timer *t = q->timer;
        if (t->canceled) {
            free(t);
            rt__qmsg_free(q);
            return;
        }
        TAILQ_REMOVE(&n->timers, t, link);
        a = n->actors[t->actor - 1];
        fire = (struct rt_timer_fire){ t->id, t->tag };
        free(t);
        q->timer = NULL;
        if (!a) {
            rt__qmsg_free(q);
            return;
        }
        m = (struct rt_msg){ 0, a->addr, RT_MSG_TIMER, sizeof(fire), &fire };
    }
    rt__trace_delivery(w, n, q);

    jmp_buf jb;
    struct rt__qmsg *prev_delivering = rt__delivering;
    struct rt_node *prev_node = current_node;
    struct rt__mem_pool *prev_pool = rt__mem_current;
    bool sim = w->cfg.kind == RT_WORLD_SIM;
    uint64_t t0 = sim ? rt__ticks() : rt__mono_ns();
    current_node = n;
    rt__mem_current = &n->pool;
    rt__delivering = q;
    if (setjmp(jb) == 0) {
        n->crash_jmp = &jb;
        if (q->kind == RT__Q_CALL) {
            q->fn(n, q->arg);
        } else if (q->kind == RT__Q_OFFLOAD) {
            q->drop = NULL;     /* done releases arg, whatever happens next */
            q->done(find_actor(n, q->dst), q->arg);
        } else
            a->ops->on_message(a, &m);
        n->crash_jmp = NULL;
        current_node = prev_node;
        rt__mem_current = prev_pool;
        rt__delivering = prev_delivering;
        atomic_fetch_add_explicit(&n->delivered, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&n->busy_ns, (sim ? rt__ticks() : rt__mono_ns()) - t0,
                                  memory_order_relaxed);
        rt__qmsg_free(q);
        return;
    }
    /* The node crashed itself inside the handler (longjmp from rt_node_crash). */
    n->crash_jmp = NULL;
    current_node = prev_node;
    rt__mem_current = prev_pool;
    rt__delivering = prev_delivering;
    rt__qmsg_free(q);
    if (w->cfg.kind == RT_WORLD_REAL)
        n->exit_loop = 1;       /* rt_real tears down once its loop unwinds */
    else
        rt__node_teardown(n, 0);
}

void rt__node_run_stop_handlers(struct rt_node *n)
{
    struct rt_node *prev_node = current_node;
    struct rt__mem_pool *prev_pool = rt__mem_current;
    current_node = n;
    rt__mem_current = &n->pool;
    for (uint32_t i = 0; i < n->nactors; i++) {
        struct rt_actor *a = n->actors[i];
        if (a && a->ops->on_stop)
            a->ops->on_stop(a);
    }
    current_node = prev_node;
    rt__mem_current = prev_pool;
}

void rt__node_teardown(struct rt_node *n, int graceful)
{
    struct rt__timer *t;
    while ((t = TAILQ_FIRST(&n->timers)) != NULL) {
        TAILQ_REMOVE(&n->timers, t, link);
        if (n->w->cfg.kind == RT_WORLD_REAL) {
            rt__real_timer_disarm(t);
            free(t);
        } else {
            t->canceled = 1;
        }
    }
    struct rt__qmsg *q;
    while ((q = rt__fifo_pop(&n->deferred)) != NULL)
        drop_queued(n, q);
    while ((q = rt__fifo_pop(&n->delayed)) != NULL) {
        atomic_fetch_add(&n->dropped, 1);
        rt__qmsg_free(q);
    }
    /* Actors and everything they allocated go with the pool, without their
     * shutdown code: that is what a crash is. */
    n->actors = NULL;
    n->nactors = n->cap_actors = 0;
    n->paused_until = 0;
    if (n->w->cfg.kind == RT_WORLD_REAL)
        rt__offload_node_down(n);   /* no work may still read what is released now */
    rt__release_held(n);
    rt__mem_pool_reset(&n->pool);
    rt_trace(n->w, n, graceful ? "node_down" : "node_crashed", NULL);
    atomic_store_explicit(&n->state, RT__DOWN, memory_order_release);
    atomic_fetch_add_explicit(&n->w->downs, 1, memory_order_release);
    rt_world_notify(n->w);
}

uint64_t rt_world_downs(const struct rt_world *w)
{
    return atomic_load_explicit(&((struct rt_world *)w)->downs, memory_order_acquire);
}
