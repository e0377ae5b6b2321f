/*
 * rt_real.c - the real world: each node is a pthread running its own libevent
 * event_base, and time is the monotonic clock.
 *
 * Design.  A node's inbox is a lock-free Treiber stack of queued items: a
 * sender pushes with one CAS, and only the sender that finds the stack empty
 * wakes the node (event_active on the node's wake event).  The node drains the
 * whole stack with one atomic exchange and reverses it, which restores the
 * order of each sender's pushes, so delivery is FIFO per sender.  A wake-up
 * across cores costs ~40 us on these machines, so this matters: a burst of
 * messages costs one wake-up, not one each.
 *
 * The event_base is created on the starting thread before the node's thread
 * exists and is then used only by that thread, except for event_active from
 * senders, which libevent's pthread locking (evthread_use_pthreads) makes safe.
 * The base lives as long as the node, across incarnations: a sender may still
 * wake a node that is crashing, and must never touch a freed base.
 *
 * Crash from another thread sets crash_req and pushes an empty control item;
 * the node's thread notices between two items, tears itself down (actors,
 * timers, memory) without running shutdown code, and its thread ends.  A
 * running handler is not interrupted: a crash lands between two messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "runtime/rt_internal.h"

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void evthread_init(void)
{
    evthread_rc = evthread_use_pthreads();
}

int rt__real_init(struct rt_world *w)
{
    (void)w;
    pthread_once(&evthread_once, evthread_init);
    return evthread_rc == 0 ? 0 : -ENOSYS;
}

/* Rounded up: a timer may fire late, never early. */
static struct timeval tv_of(uint64_t ns)
{
    ns += 999;
    return (struct timeval){ .tv_sec = (time_t)(ns / RT_NS_PER_SEC),
                             .tv_usec = (suseconds_t)(ns % RT_NS_PER_SEC / 1000) };
}

/* libevent measures a timeout from the time it cached at the top of the loop
 * iteration; a handler that worked for a while before arming a timer would
 * see it fire that much early.  Refresh the cache first. */
static void arm(struct rt_node *n, struct event *ev, uint64_t ns)
{
    struct timeval tv = tv_of(ns);
    event_base_update_cache_time(n->base);
    evtimer_add(ev, &tv);
}

static void finish_if_leaving(struct rt_node *n)
{
    if (!n->exit_loop && !atomic_load(&n->crash_req))
        return;
    rt__node_teardown(n, n->exit_loop == 2);
    event_base_loopbreak(n->base);
}

static int leaving(struct rt_node *n)
{
    return n->exit_loop || atomic_load_explicit(&n->crash_req, memory_order_acquire);
}

/* Network delay: keep the node's delayed items sorted by due time, and never
 * let a later message from the same sender overtake an earlier one. */
static void delayed_insert(struct rt_node *n, struct rt__qmsg *q)
{
    uint32_t src = RT_ADDR_NODE(q->src);
    for (struct rt__qmsg *d = n->delayed.head; d; d = d->next)
        if (q->src && RT_ADDR_NODE(d->src) == src && d->at > q->at)
            q->at = d->at;
    struct rt__qmsg **pp = &n->delayed.head;
    while (*pp && (*pp)->at <= q->at)
        pp = &(*pp)->next;
    q->next = *pp;
    *pp = q;
    if (!q->next)
        n->delayed.tail = q;
    uint64_t now = rt_now(n->w);
    arm(n, n->delay_ev, n->delayed.head->at > now ? n->delayed.head->at - now : 0);
}

static int behind_delayed(struct rt_node *n, const struct rt__qmsg *q)
{
    if (!n->delayed.head || !q->src)
        return 0;
    for (struct rt__qmsg *d = n->delayed.head; d; d = d->next)
        if (RT_ADDR_NODE(d->src) == RT_ADDR_NODE(q->src))
            return 1;
    return 0;
}

static void handle(struct rt_node *n, struct rt__qmsg *q)
{
    if (q->kind == RT__Q_CTRL) {
        if (q->ctrl == RT__CTRL_STOP) {
            rt__node_run_stop_handlers(n);
            n->exit_loop = 2;
        } else if (q->ctrl == RT__CTRL_PAUSE) {
            uint64_t until = rt_now(n->w) + q->ctrl_ns;
            if (until > n->paused_until)
                n->paused_until = until;
            rt__real_arm_resume(n);
        }
        rt__qmsg_free(q);
        return;
    }
    if (q->kind == RT__Q_MSG && (q->at > rt_now(n->w) || behind_delayed(n, q))) {
        delayed_insert(n, q);
        return;
    }
    rt__deliver(n, q);
}

static void drop_item(struct rt_node *n, struct rt__qmsg *q)
{
    if (q->kind == RT__Q_MSG)
        atomic_fetch_add(&n->dropped, 1);
    rt__qmsg_free(q);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rt_node *n = arg;
    struct rt__qmsg *list = atomic_exchange_explicit(&n->inbox, NULL, memory_order_acquire);
    struct rt__qmsg *fifo = NULL;
    while (list) {
        struct rt__qmsg *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        struct rt__qmsg *q = fifo;
        fifo = fifo->next;
        q->next = NULL;
        if (leaving(n))
            drop_item(n, q);
        else
            handle(n, q);
    }
    finish_if_leaving(n);
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rt_node *n = arg;
    uint64_t now = rt_now(n->w);
    while (n->delayed.head && n->delayed.head->at <= now && !leaving(n)) {
        struct rt__qmsg *q = rt__fifo_pop(&n->delayed);
        rt__deliver(n, q);
    }
    if (n->delayed.head && !leaving(n))
        arm(n, n->delay_ev, n->delayed.head->at - now);
    finish_if_leaving(n);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rt_node *n = arg;
    if (leaving(n)) {
        finish_if_leaving(n);
        return;
    }
    struct rt__qmsg *q = rt__qmsg_new(0);
    q->kind = RT__Q_RESUME;
    q->node = n->id;
    q->incarnation = atomic_load(&n->incarnation);
    rt__deliver(n, q);
    finish_if_leaving(n);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rt__timer *t = arg;
    struct rt_node *n = t->node;
    /* A fired timer becomes an ordinary message at once, so a pause that
     * defers it, or a cancel that comes too late, cannot leave it dangling. */
    TAILQ_REMOVE(&n->timers, t, link);
    struct rt_timer_fire fire = { t->id, t->tag };
    struct rt__qmsg *q = rt__qmsg_new(sizeof(fire));
    q->kind = RT__Q_MSG;
    q->type = RT_MSG_TIMER;
    q->node = n->id;
    q->incarnation = atomic_load(&n->incarnation);
    q->dst = ((uint64_t)n->id << 48) | ((uint64_t)q->incarnation << 32) | t->actor;
    memcpy(q->data, &fire, sizeof(fire));
    event_free(t->ev);
    free(t);
    if (leaving(n))
        drop_item(n, q);
    else
        rt__deliver(n, q);
    finish_if_leaving(n);
}

void rt__real_timer_arm(struct rt_node *n, struct rt__timer *t, uint64_t delay_ns)
{
    t->ev = evtimer_new(n->base, timer_cb, t);
    if (!t->ev)
        abort();
    arm(n, t->ev, delay_ns);
}

void rt__real_timer_disarm(struct rt__timer *t)
{
    event_free(t->ev);
    t->ev = NULL;
}

void rt__real_arm_resume(struct rt_node *n)
{
    if (n->resume_armed)
        return;
    n->resume_armed = 1;
    uint64_t now = rt_now(n->w);
    arm(n, n->resume_ev, n->paused_until > now ? n->paused_until - now : 0);
}

static void *node_main(void *arg)
{
    struct rt_node *n = arg;
    char name[16] = { 0 };     /* the kernel keeps 15 characters of a thread name */
    memcpy(name, n->name, sizeof(name) - 1);
    pthread_setname_np(pthread_self(), name);
    event_base_loop(n->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int rt__real_start(struct rt_node *n)
{
    if (!n->base) {
        /* Precise timer: libevent's default coarse clock can fire a timer a
         * few milliseconds before its delay, and timeouts here are contracts. */
        struct event_config *ec = event_config_new();
        if (!ec)
            return -ENOMEM;
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
        n->base = event_base_new_with_config(ec);
        event_config_free(ec);
        if (!n->base)
            return -ENOMEM;
        n->wake_ev = event_new(n->base, -1, 0, wake_cb, n);
        n->delay_ev = evtimer_new(n->base, delay_cb, n);
        n->resume_ev = evtimer_new(n->base, resume_cb, n);
        if (!n->wake_ev || !n->delay_ev || !n->resume_ev)
            return -ENOMEM;
    }
    atomic_store(&n->crash_req, 0);
    n->exit_loop = 0;
    atomic_store_explicit(&n->state, RT__UP, memory_order_release);
    /* Items queued for an old incarnation are dropped by the first drain. */
    if (atomic_load(&n->inbox))
        event_active(n->wake_ev, 0, 0);
    int rc = pthread_create(&n->thread, NULL, node_main, n);
    if (rc != 0) {
        atomic_store(&n->state, RT__DOWN);
        rt__mem_pool_reset(&n->pool);
        return -rc;
    }
    n->has_thread = 1;
    rt_trace(n->w, n, "node_start", "\"incarnation\":%u", (unsigned)atomic_load(&n->incarnation));
    return 0;
}

void rt__real_enqueue(struct rt_node *n, struct rt__qmsg *q)
{
    struct rt__qmsg *old = atomic_load_explicit(&n->inbox, memory_order_relaxed);
    do {
        q->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&n->inbox, &old, q,
                                                    memory_order_release, memory_order_relaxed));
    if (!old)
        event_active(n->wake_ev, 0, 0);     /* empty -> non-empty: the one wake-up */
}

static void push_ctrl(struct rt_node *n, enum rt__ctrl ctrl, uint64_t ns)
{
    struct rt__qmsg *q = rt__qmsg_new(0);
    q->kind = RT__Q_CTRL;
    q->ctrl = ctrl;
    q->ctrl_ns = ns;
    q->node = n->id;
    q->incarnation = atomic_load(&n->incarnation);
    rt__real_enqueue(n, q);
}

void rt__real_crash(struct rt_node *n)
{
    atomic_store_explicit(&n->crash_req, 1, memory_order_release);
    push_ctrl(n, RT__CTRL_NONE, 0);
}

void rt__real_stop_request(struct rt_node *n)
{
    push_ctrl(n, RT__CTRL_STOP, 0);
}

void rt__real_pause(struct rt_node *n, uint64_t ns)
{
    push_ctrl(n, RT__CTRL_PAUSE, ns);
}

void rt__real_join(struct rt_node *n)
{
    if (!n->has_thread)
        return;
    pthread_join(n->thread, NULL);
    n->has_thread = 0;
}

void rt__real_free_node(struct rt_node *n)
{
    rt__real_join(n);
    struct rt__qmsg *q = atomic_exchange(&n->inbox, NULL);
    while (q) {
        struct rt__qmsg *next = q->next;
        rt__qmsg_free(q);
        q = next;
    }
    if (n->base) {
        event_free(n->wake_ev);
        event_free(n->delay_ev);
        event_free(n->resume_ev);
        event_base_free(n->base);
    }
}
