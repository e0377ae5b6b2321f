/*
 * rt_internal.h - state shared by the runtime's files (rt_world.c, rt_real.c,
 * rt_sim.c, rt_mem.c, rt_trace.c).  Nothing outside runtime/ includes it.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/queue.h>
#include <xxhash.h>

#include "runtime/rt.h"

struct event_base;
struct event;

/* ---- memory pools (rt_mem.c) ---------------------------------------------- */

struct rt__mem_hdr;

/* What a node's allocations are charged to.  bytes/peak are atomics because
 * reports read them from other threads; only the owning node writes them. */
struct rt__mem_pool {
    atomic_size_t bytes;
    atomic_size_t peak;
    atomic_size_t limit;            /* 0: none */
    unsigned arena;                 /* jemalloc arena index, when has_arena */
    int has_arena;
    LIST_HEAD(, rt__mem_hdr) live;  /* libc builds: every live block, freed on reset */
    struct rt_node *node;           /* NULL for the process pool */
};

void rt__mem_pool_init(struct rt__mem_pool *p, struct rt_node *node);
/* Frees every block of the pool at once (crash, stop) and returns the arena. */
void rt__mem_pool_reset(struct rt__mem_pool *p);
/* The pool allocations are charged to on this thread now (NULL: process). */
extern _Thread_local struct rt__mem_pool *rt__mem_current;
/* Called by rt_mem when the current pool would pass its limit: crashes the
 * node and does not return when one of its handlers is running; otherwise
 * (node code outside a handler) it returns and the allocation goes ahead. */
void rt__mem_limit_hit(struct rt__mem_pool *p, size_t want);
/* Charges (bytes > 0) or credits (< 0) a pool for memory it holds without
 * having allocated it (a kept message payload); a charge checks the limit
 * as an allocation does. */
void rt__mem_charge(struct rt__mem_pool *p, long long bytes);

/* ---- queued items --------------------------------------------------------- */

enum rt__qkind {
    RT__Q_MSG,          /* a message for an actor */
    RT__Q_CALL,         /* rt_node_call */
    RT__Q_TIMER,        /* sim: a timer's due time (timer points at the record) */
    RT__Q_RESUME,       /* end of a pause */
    RT__Q_CTRL,         /* real: wake for crash / stop / pause (see ctrl) */
    RT__Q_OFFLOAD,      /* real: rt_actor_offload's done, after its work ran */
};

enum rt__ctrl { RT__CTRL_NONE, RT__CTRL_STOP, RT__CTRL_PAUSE };

struct rt__timer;

struct rt__qmsg {
    struct rt__qmsg *next;
    uint64_t at;                /* due time (world ns) */
    uint64_t tie;               /* sim: seeded tie-break */
    uint64_t seq;               /* sim: insertion order, last resort */
    uint32_t node;              /* destination node id */
    uint32_t incarnation;       /* of the destination node when sent */
    enum rt__qkind kind;
    int opaque;                 /* payload not hashed: it holds pointers */
    enum rt__ctrl ctrl;
    uint64_t ctrl_ns;
    rt_addr src, dst;
    uint32_t type, len;
    void (*fn)(struct rt_node *, void *);
    void *arg;
    /* RT__Q_OFFLOAD: drop runs when the item is freed undelivered (cleared
     * once done ran), so every path that discards an item releases arg. */
    void (*work)(void *);
    void (*done)(struct rt_actor *, void *);
    void (*drop)(void *);
    struct rt__timer *timer;
    size_t pooled;              /* bytes allocated when from the large-message pool, else 0 */
    /* Shared payloads (rt_msg_keep, rt_send_shared).  refs counts the owners
     * besides the first, so a fresh item (header zeroed) has one owner and
     * freeing it needs no atomic read-modify-write.  A shared send is an item
     * of its own whose payload is shared->data, one reference to it. */
    atomic_uint refs;
    struct rt__qmsg *shared;
    struct rt_node *holder;     /* the node holding it (rt_msg_keep), else NULL */
    LIST_ENTRY(rt__qmsg) held;  /* on holder->held */
    /* rt_msg_xxh64's memo: state 0 none, 1 being written, 2 ready. */
    atomic_int memo_state;
    uint32_t memo_off, memo_len;
    uint64_t memo_hash;
    _Alignas(max_align_t) unsigned char data[];
};

struct rt__qmsg *rt__qmsg_new(uint32_t len);
/* As rt__qmsg_new, the payload left uncleared (the caller fills it all). */
struct rt__qmsg *rt__qmsg_new_uncleared(uint32_t len);
/* The item whose payload is buf (from rt_msg_buf_new). */
struct rt__qmsg *rt__qmsg_of(void *buf);
/* rt_share.c: the item whose handler runs on this thread now; and the
 * release of what a node going down held. */
extern _Thread_local struct rt__qmsg *rt__delivering;
void rt__release_held(struct rt_node *n);
/* Drops one owner of q; the last one frees it.  Any thread. */
void rt__qmsg_free(struct rt__qmsg *q);
/* The bytes a message item carries: its own, or the shared buffer's. */
static inline const void *rt__qmsg_payload(const struct rt__qmsg *q)
{
    return q->shared ? (const void *)q->shared->data : (const void *)q->data;
}

/* A FIFO of qmsgs owned by one thread. */
struct rt__fifo {
    struct rt__qmsg *head, *tail;
};
void rt__fifo_push(struct rt__fifo *f, struct rt__qmsg *q);
struct rt__qmsg *rt__fifo_pop(struct rt__fifo *f);

struct rt__timer {
    TAILQ_ENTRY(rt__timer) link;
    uint64_t id, tag;
    uint32_t actor;
    struct rt_node *node;
    struct event *ev;           /* real world */
    int canceled;               /* sim world: the heap entry frees it */
};
TAILQ_HEAD(rt__timer_list, rt__timer);

/* ---- nodes and actors ----------------------------------------------------- */

/* UP -> CRASHING or STOPPING (not up: sends are refused) -> DOWN once torn down. */
enum rt__node_state { RT__DOWN, RT__UP, RT__STOPPING, RT__CRASHING };

struct rt_actor {
    uint32_t id;
    struct rt_node *node;
    const struct rt_actor_ops *ops;
    void *state;
    rt_addr addr;
};

struct rt_node {
    struct rt_world *w;
    uint32_t id;
    char name[48];
    _Atomic int state;                  /* enum rt__node_state; read by senders */
    _Atomic uint32_t incarnation;       /* bumped by each start */
    struct rt__mem_pool pool;

    /* Owned by the node's thread while up. */
    struct rt_actor **actors;           /* by id; NULL after exit */
    uint32_t nactors, cap_actors;
    struct rt__timer_list timers;
    uint64_t next_timer_id;
    uint64_t rng[4];
    uint64_t paused_until;
    struct rt__fifo deferred;           /* arrived while paused */
    LIST_HEAD(, rt__qmsg) held;         /* payloads kept by its actors (rt_msg_keep) */
    int resume_armed;
    jmp_buf *crash_jmp;                 /* set while a handler runs */

    /* busy_ns: nanoseconds in the real world, rt__ticks in the sim world. */
    atomic_uint_fast64_t delivered, dropped, crashes, busy_ns;

    /* Real world. */
    pthread_t thread;
    int has_thread;                     /* joinable */
    struct event_base *base;            /* lives as long as the node */
    struct event *wake_ev;
    struct event *delay_ev;
    struct event *resume_ev;
    _Atomic(struct rt__qmsg *) inbox;   /* Treiber stack: push CAS, drain by exchange */
    atomic_int crash_req;
    atomic_int vanished;                /* down, but looks like a silent host */
    struct rt__fifo delayed;            /* sorted by at; network delay rules */
    int exit_loop;
    struct rt__offload *offload;        /* its rt_actor_offload worker, once used */
};

/* ---- world ---------------------------------------------------------------- */

#define RT__MAX_RULES 64

struct rt__sim;

struct rt_world {
    struct rt_world_config cfg;
    struct rt_node **nodes;
    atomic_uint nnodes;
    pthread_mutex_t node_mu;            /* serialises rt_node_new */
    uint64_t t0_ns;                     /* real: monotonic at creation */
    atomic_uint_fast64_t downs;         /* nodes that went down, ever (rt_world_downs) */

    /* Waiters. */
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cv;
    uint64_t notify_gen;

    /* Network rules, under net_mu; nrules read without it as a fast path. */
    pthread_mutex_t net_mu;
    struct rt_net_rule rules[RT__MAX_RULES];
    int rule_ids[RT__MAX_RULES];        /* 0: free slot */
    int next_rule_id;
    atomic_int nrules;
    atomic_uint_fast64_t net_dropped;
    uint64_t rng[4];                    /* world stream; under net_mu in the real world */

    /* Trace, under trace_mu. */
    pthread_mutex_t trace_mu;
    FILE *trace_fp;
    XXH64_state_t *trace_hash;
    uint64_t trace_events;

    struct rt__sim *sim;                /* sim world only */
    uint64_t tick0;                     /* sim: rt__ticks() at creation, for busy time */
};

/* rt_offload.c (real world).  Submit and node_down on n's thread. */
void rt__offload_submit(struct rt_node *n, struct rt__qmsg *q);
/* Node n is going down: forgets its jobs not started, waits for the one
 * running.  Call before its memory is released. */
void rt__offload_node_down(struct rt_node *n);
/* Stops and joins n's worker, after n's thread; drops what it still holds. */
void rt__offload_free(struct rt_node *n);

/* rt_world.c (rt__ticks: rt_sim.c) */
void rt__rng_seed(uint64_t s[4], uint64_t seed);
uint64_t rt__rng_next(uint64_t s[4]);
uint64_t rt__mono_ns(void);
/* A cheap monotonic counter for handler busy time in the sim world, where a
 * clock_gettime per event was the loop's largest single cost: the CPU's
 * time-stamp counter on x86-64 (constant rate on the CPUs this runs on),
 * nanoseconds elsewhere.  rt__ticks_to_ns converts a count measured in w. */
uint64_t rt__ticks(void);
uint64_t rt__ticks_to_ns(const struct rt_world *w, uint64_t ticks);
/* Applies network rules to a message leaving for dst; returns how many copies
 * to deliver (0, 1 or 2) and adds any delay to *delay_ns. */
int rt__net_filter(struct rt_world *w, uint32_t from, uint32_t to, uint64_t *delay_ns);
/* Runs one queued item on its node (both worlds): message, call or timer. */
void rt__deliver(struct rt_node *n, struct rt__qmsg *q);
/* Brings the node down: drop actors, timers, deferred items, memory. */
void rt__node_teardown(struct rt_node *n, int graceful);
void rt__node_run_stop_handlers(struct rt_node *n);
struct rt__timer *rt__timer_new(struct rt_actor *a, uint64_t tag);

/* rt_real.c */
int rt__real_init(struct rt_world *w);
void rt__real_free_node(struct rt_node *n);
int rt__real_start(struct rt_node *n);
void rt__real_enqueue(struct rt_node *n, struct rt__qmsg *q);
void rt__real_crash(struct rt_node *n);
/* Asks n's thread to stop (rt__real_join waits for it). */
void rt__real_stop_request(struct rt_node *n);
void rt__real_pause(struct rt_node *n, uint64_t ns);
void rt__real_join(struct rt_node *n);
void rt__real_timer_arm(struct rt_node *n, struct rt__timer *t, uint64_t delay_ns);
void rt__real_timer_disarm(struct rt__timer *t);
void rt__real_arm_resume(struct rt_node *n);

/* rt_sim.c */
int rt__sim_init(struct rt_world *w);
void rt__sim_free(struct rt_world *w);
void rt__sim_schedule(struct rt_world *w, struct rt__qmsg *q);
uint64_t rt__sim_now(const struct rt_world *w);
uint64_t rt__sim_link_time(struct rt_world *w, uint32_t from, uint32_t to, uint64_t extra_ns);
int rt__sim_wait(struct rt_world *w, bool (*pred)(void *), void *arg, uint64_t timeout_ns);

/* rt_trace.c */
void rt__trace_init(struct rt_world *w);
void rt__trace_free(struct rt_world *w);
void rt__trace_delivery(struct rt_world *w, struct rt_node *n, const struct rt__qmsg *q);

#endif
