/*
 * rt_sim.c - the simulated world: every node runs on the thread that calls
 * rt_world_wait(), and a discrete-event queue delivers everything.
 *
 * The queue is a binary min-heap of queued items ordered by (due time, a
 * tie-break drawn from the world's seeded RNG, insertion sequence).  Items due
 * at the same virtual instant therefore run in an order that depends on the
 * seed - different seeds explore different interleavings - while the same seed
 * gives the same order every time.  Nothing that orders events reads the wall
 * clock, a pointer value or an unseeded random source - except the test-only
 * test_nondeterministic flag, which exists to prove the determinism check
 * would catch exactly that.  (Handler busy time, a report figure outside the
 * trace, is counted with the CPU's time-stamp counter: rt__ticks.)
 *
 * FIFO per link: a message from node A to node B is due no earlier than 1 ns
 * after the previous message on that link, so latency jitter never reorders a
 * link.  Idle time is skipped: the clock jumps to the next item's due time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "runtime/rt_internal.h"

struct rt__sim {
    struct rt__qmsg **heap;
    size_t n, cap;
    uint64_t now;
    uint64_t seq;
    uint64_t *link_last;        /* [from * max_nodes + to]: last due time on the link */
    int running;                /* inside rt__sim_wait: no re-entry */
};

int rt__sim_init(struct rt_world *w)
{
    struct rt__sim *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    size_t m = w->cfg.max_nodes;
    s->link_last = calloc(m * m, sizeof(*s->link_last));
    if (!s->link_last) {
        free(s);
        return -ENOMEM;
    }
    w->sim = s;
    return 0;
}

static void free_item(struct rt__qmsg *q)
{
    if (q->kind == RT__Q_TIMER)
        free(q->timer);
    rt__qmsg_free(q);
}

void rt__sim_free(struct rt_world *w)
{
    struct rt__sim *s = w->sim;
    for (size_t i = 0; i < s->n; i++)
        free_item(s->heap[i]);
    free(s->heap);
    free(s->link_last);
    free(s);
    w->sim = NULL;
}

#if defined(__x86_64__)
uint64_t rt__ticks(void) { return __rdtsc(); }

uint64_t rt__ticks_to_ns(const struct rt_world *w, uint64_t ticks)
{
    /* The counter's rate, from both clocks since the world began. */
    uint64_t dt = rt__ticks() - w->tick0, dns = rt__mono_ns() - w->t0_ns;
    return dt ? (uint64_t)((double)ticks * (double)dns / (double)dt) : 0;
}
#else
uint64_t rt__ticks(void) { return rt__mono_ns(); }
uint64_t rt__ticks_to_ns(const struct rt_world *w, uint64_t ticks) { (void)w; return ticks; }
#endif

uint64_t rt__sim_now(const struct rt_world *w)
{
    return w->sim->now;
}

static int before(const struct rt__qmsg *a, const struct rt__qmsg *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    if (a->tie != b->tie)
        return a->tie < b->tie;
    return a->seq < b->seq;
}

void rt__sim_schedule(struct rt_world *w, struct rt__qmsg *q)
{
    struct rt__sim *s = w->sim;
    if (q->at < s->now)
        q->at = s->now;
    q->tie = rt__rng_next(w->rng);
    if (w->cfg.test_nondeterministic) {
        /* TEST ONLY (rt_world_config.test_nondeterministic): the planted
         * nondeterminism the determinism self-check must catch. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        q->tie ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull;   /* reach the high bits */
    }
    q->seq = s->seq++;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->heap = realloc(s->heap, s->cap * sizeof(*s->heap));
        if (!s->heap)
            abort();
    }
    size_t i = s->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(q, s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = q;
}

static struct rt__qmsg *pop(struct rt__sim *s)
{
    struct rt__qmsg *top = s->heap[0], *last = s->heap[--s->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n)
            break;
        if (c + 1 < s->n && before(s->heap[c + 1], s->heap[c]))
            c++;
        if (!before(s->heap[c], last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->n)
        s->heap[i] = last;
    return top;
}

uint64_t rt__sim_link_time(struct rt_world *w, uint32_t from, uint32_t to, uint64_t extra_ns)
{
    struct rt__sim *s = w->sim;
    uint64_t at = s->now + extra_ns;
    if (from != to) {
        at += w->cfg.link_latency_ns;
        if (w->cfg.link_jitter_ns)
            at += rt__rng_next(w->rng) % (w->cfg.link_jitter_ns + 1);
    }
    uint64_t *last = &s->link_last[(size_t)from * w->cfg.max_nodes + to];
    if (at <= *last)
        at = *last + 1;
    *last = at;
    return at;
}

int rt__sim_wait(struct rt_world *w, bool (*pred)(void *), void *arg, uint64_t timeout_ns)
{
    struct rt__sim *s = w->sim;
    if (s->running)
        return -EDEADLK;        /* called from a handler: that would nest worlds */
    s->running = 1;
    uint64_t deadline = s->now + timeout_ns;
    int rc = -ETIMEDOUT;
    for (;;) {
        if (pred && pred(arg)) {
            rc = 0;
            break;
        }
        if (s->n == 0 || s->heap[0]->at > deadline) {
            s->now = deadline;  /* nothing happens before the deadline: skip to it */
            if (!pred)
                rc = 0;
            break;
        }
        struct rt__qmsg *q = pop(s);
        s->now = q->at;
        struct rt_node *n = w->nodes[q->node];
        rt__deliver(n, q);
    }
    s->running = 0;
    return rc;
}
