/*
 * rt.h - the world minicluster's components live in.
 *
 * A world holds nodes; a node is a unit that crashes alone (a JobManager, a
 * TaskManager, a client, a probe); a node hosts actors; actors talk only by
 * messages and timers.  The same actor code runs in two worlds:
 *
 *   RT_WORLD_REAL  each node is a pthread running its own libevent event_base;
 *                  time is the monotonic clock.
 *   RT_WORLD_SIM   every node runs on the caller's thread; a discrete-event
 *                  queue ordered by (virtual time, seeded tie-break) delivers
 *                  every message and timer.  Same seed => same run, byte for
 *                  byte; idle time is skipped.
 *
 * Handlers never block.  A handler runs on its node's thread (real) or on the
 * thread driving the world (sim); either way it is the only code of its node
 * running at that moment, so actor state needs no locks.
 *
 * Crash versus stop: rt_node_crash() makes a node vanish at once - its actors,
 * undelivered messages and timers are dropped without their shutdown code and
 * its memory is released.  rt_node_stop() is graceful: each actor's on_stop
 * runs first.  Messages sent to a node that is down are dropped and counted.
 */
#ifndef RT_H
#define RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/rt_mem.h"

struct rt_world;
struct rt_node;
struct rt_actor;

/* An actor's address: node id (16 bits) | node incarnation (16) | actor id (32).
 * An address names one incarnation: after a node restarts, old addresses are
 * dead and messages to them are dropped.  0 is never a valid address. */
typedef uint64_t rt_addr;

#define RT_ADDR_NODE(a)        ((uint32_t)((a) >> 48))
#define RT_ADDR_INCARNATION(a) ((uint32_t)(((a) >> 32) & 0xffff))
#define RT_ADDR_ACTOR(a)       ((uint32_t)((a) & 0xffffffffu))

#define RT_NS_PER_MS  1000000ull
#define RT_NS_PER_SEC 1000000000ull

enum rt_world_kind {
    RT_WORLD_REAL,          /* threads, wall clock */
    RT_WORLD_SIM,           /* one thread, virtual time, seeded */
};

struct rt_world_config {
    enum rt_world_kind kind;
    uint64_t seed;              /* seeds every RNG of the world */
    uint32_t max_nodes;         /* 0: RT_DEFAULT_MAX_NODES */
    uint64_t link_latency_ns;   /* sim: one-way latency between nodes */
    uint64_t link_jitter_ns;    /* sim: uniform extra latency from the seeded RNG */
    /* TEST ONLY: sim ties at one instant are broken with the wall clock, so
     * the world stops being deterministic.  The determinism self-check's test
     * sets it to prove the check catches that; nothing else may. */
    bool test_nondeterministic;
};

#define RT_DEFAULT_MAX_NODES 256
#define RT_MAX_NODES_LIMIT   65535   /* the address has 16 bits of node id */

/* Message types below RT_MSG_USER belong to the runtime. */
enum {
    RT_MSG_TIMER = 1,       /* payload: struct rt_timer_fire */
    RT_MSG_USER = 64,       /* first type free for components */
};

struct rt_msg {
    rt_addr src;            /* 0 when sent from outside any actor */
    rt_addr dst;
    uint32_t type;
    uint32_t len;           /* payload bytes */
    const void *data;       /* payload, valid during the handler only */
};

struct rt_timer_fire {
    uint64_t timer_id;
    uint64_t tag;           /* what the actor passed to rt_timer_start */
};

struct rt_actor_ops {
    const char *name;                                   /* for traces */
    void (*on_message)(struct rt_actor *a, const struct rt_msg *m);
    void (*on_stop)(struct rt_actor *a);                /* graceful stop only; may be NULL */
};

/* ---- world ---------------------------------------------------------------- */

/* Creates a world.  Returns 0, or -EINVAL for a bad configuration. */
int rt_world_new(const struct rt_world_config *cfg, struct rt_world **out);

/* Stops every node that is up (gracefully), joins the threads, frees all.
 * Call from the thread that created the world.  NULL is a no-op. */
void rt_world_free(struct rt_world *w);

enum rt_world_kind rt_world_kind(const struct rt_world *w);
uint64_t rt_world_seed(const struct rt_world *w);
/* How many times a node of w went down (crash or stop), after its state says
 * so: a watcher of many nodes rescans them only when this moved.  Any thread. */
uint64_t rt_world_downs(const struct rt_world *w);

/* Nanoseconds since the world was created: monotonic (real) or virtual (sim).
 * Any thread. */
uint64_t rt_now(const struct rt_world *w);

/*
 * Waits until pred(arg) is true or timeout_ns passes (world time).  Real world:
 * the caller sleeps on a condition variable that rt_world_notify() signals and
 * pred runs on the caller's thread, so it may only read what is safe to read
 * there (atomics, or data behind the component's own lock).  Sim world: the
 * caller's thread runs the world, event by event, checking pred after each.
 * Returns 0, or -ETIMEDOUT.  pred may be NULL: then it simply runs/waits out
 * the timeout.  Not from a handler.
 */
int rt_world_wait(struct rt_world *w, bool (*pred)(void *arg), void *arg, uint64_t timeout_ns);

/* Wakes rt_world_wait() callers so they re-check their predicate.  Any thread;
 * call it after changing what a waiter may be waiting for. */
void rt_world_notify(struct rt_world *w);

/* ---- nodes ---------------------------------------------------------------- */

/* Adds a node, down until rt_node_start().  The name is copied.  Returns NULL
 * when the world has max_nodes already.  Any thread, handlers included. */
struct rt_node *rt_node_new(struct rt_world *w, const char *name);

/* Brings a down node up as a new incarnation (real: starts its thread; what
 * is sent to it meanwhile waits for its loop).  Returns 0, -EALREADY if up,
 * or -errno.  Not from a handler of the same node. */
int rt_node_start(struct rt_node *n);

/* Kills the node silently.  Any thread, any handler (a node may crash itself:
 * then the calling handler does not return).  No-op if down. */
void rt_node_crash(struct rt_node *n);

/* A silent crash: the node crashes as above, but to everyone else it looks
 * like a host that vanished rather than a process that died - messages to it
 * are accepted and lost (rt_send returns 0), rt_addr_alive still says yes -
 * so only timeouts (heartbeats) can tell.  Cleared by the next start. */
void rt_node_vanish(struct rt_node *n);

/* Graceful stop: on_stop of every actor runs on the node, then the node is down.
 * Returns once it is down.  Not from a handler of the same node. */
void rt_node_stop(struct rt_node *n);
/* Stops n nodes as rt_node_stop does, returning once all are down.  In the
 * real world every node is asked before any is waited for, so their threads
 * wind down together instead of one after the other (a cluster's teardown).
 * NULL entries and nodes not up are skipped.  Not from a handler of one of them. */
void rt_nodes_stop(struct rt_node *const *nodes, uint32_t n);

/* The node processes nothing for ns of world time; what arrives meanwhile waits,
 * timers due meanwhile fire late.  Any thread. */
void rt_node_pause(struct rt_node *n, uint64_t ns);

/* Runs fn(n, arg) on the node as if it were a message (ordered after what was
 * sent to the node before).  This is how code outside the node spawns actors.
 * Returns 0, or -EHOSTDOWN if the node is down (fn does not run). Any thread. */
int rt_node_call(struct rt_node *n, void (*fn)(struct rt_node *n, void *arg), void *arg);

/* Up: accepts messages.  Down: torn down, its memory released.  A node that
 * is crashing or stopping is neither, briefly.  Any thread. */
bool rt_node_is_up(const struct rt_node *n);
bool rt_node_is_down(const struct rt_node *n);
/* True while addr's node is up in the incarnation addr names (the actor itself
 * may have exited), or vanished in that incarnation (see rt_node_vanish).
 * Any thread. */
bool rt_addr_alive(const struct rt_world *w, rt_addr addr);
uint32_t rt_node_id(const struct rt_node *n);
const char *rt_node_name(const struct rt_node *n);
struct rt_world *rt_node_world(const struct rt_node *n);
struct rt_node *rt_world_node(const struct rt_world *w, uint32_t id);

/* Memory charged to the node now, the peak since it started, and a limit
 * (0 = none): an allocation that would pass the limit crashes the node. */
size_t rt_node_mem_bytes(const struct rt_node *n);
size_t rt_node_mem_peak(const struct rt_node *n);
void rt_node_set_mem_limit(struct rt_node *n, size_t bytes);

struct rt_node_stats {
    uint64_t delivered;         /* messages handled by this node's actors */
    uint64_t dropped;           /* addressed to it while down or to a dead actor */
    uint64_t crashes;
    uint64_t busy_ns;           /* time spent in handlers */
};
void rt_node_get_stats(const struct rt_node *n, struct rt_node_stats *out);

/* The node whose code is running on this thread now, or NULL. */
struct rt_node *rt_current_node(void);

/* ---- actors --------------------------------------------------------------- */

/* Creates an actor on the node; state is the caller's (allocate it with rt_x*
 * on this node so a crash releases it).  Only on the node's own thread (from
 * a handler or an rt_node_call function). */
struct rt_actor *rt_actor_spawn(struct rt_node *n, const struct rt_actor_ops *ops, void *state);

/* Work too long for a handler, run away from the node's thread: work(arg)
 * runs with no node current (what it allocates is process memory) on the
 * node's worker thread (real; started by its first job) or at once (sim).  It may read the node's
 * memory that arg points at, provided the node's own code leaves that alone
 * meanwhile: the node is not torn down while work runs.  Then, on a's node
 * thread in a's node, done(a, arg) runs - with a NULL when the actor has
 * exited meanwhile, so done can still release what arg holds.  When the node
 * goes down first (crash, stop), done never runs and drop(arg) does instead,
 * on any thread, after the node's memory is gone: it may free only process
 * memory.  Jobs of one node run one at a time, in submission order; those of
 * different nodes run side by side.  In the sim world work and done have
 * both run when this returns, which keeps a run a function of its seed.
 * Only from a's own handler. */
void rt_actor_offload(struct rt_actor *a, void (*work)(void *arg),
                      void (*done)(struct rt_actor *a, void *arg), void (*drop)(void *arg),
                      void *arg);

/* Removes an actor of the current node at once (its on_stop does not run:
 * the caller does its own clean-up).  Messages to it are dropped from now on.
 * May be called by the actor itself from its handler. */
void rt_actor_exit(struct rt_actor *a);

rt_addr rt_actor_addr(const struct rt_actor *a);
void *rt_actor_state(const struct rt_actor *a);
struct rt_node *rt_actor_node(const struct rt_actor *a);
struct rt_world *rt_actor_world(const struct rt_actor *a);

/*
 * Sends a copy of data to dst.  Every message between nodes passes the
 * network's fault rules (rt_net_*).  FIFO per (sender node, receiver node).
 * Returns 0 when the message is on its way (it may still be lost to a fault),
 * -EHOSTDOWN when dst's node is known down or dst names an old incarnation
 * (the message is dropped and counted), -EINVAL for a bad address.
 * from may be NULL (a message from outside any actor).  Any thread.
 */
int rt_send(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data, uint32_t len);

/* As rt_send, for a payload whose bytes are not comparable between runs (it
 * carries pointers into process memory): the trace hashes its length only,
 * so the sim world's run hash does not depend on where the heap put things. */
int rt_send_opaque(struct rt_actor *from, rt_addr dst, uint32_t type, const void *data,
                   uint32_t len);

/*
 * Large payloads (file data, snapshots) without the copy rt_send makes: the
 * sender fills a buffer from rt_msg_buf_new in place and rt_send_buf hands
 * it over as the message itself.  rt_send_buf owns buf from the call on,
 * whatever it returns (a dropped message frees it); len may be less than
 * the buffer's size (-EINVAL when more).  A buffer never sent goes back with
 * rt_msg_buf_free.  Process memory, like every message, so either
 * end may crash in between.  Same results and hashing as rt_send.
 */
void *rt_msg_buf_new(uint32_t len);
void rt_msg_buf_free(void *buf);
int rt_send_buf(struct rt_actor *from, rt_addr dst, uint32_t type, void *buf, uint32_t len);

/*
 * Keeping and sharing a payload instead of copying it (a blob server that
 * stores an upload's chunk and serves it to every TaskManager).
 *
 * rt_msg_keep, called from a's handler of m, keeps m's payload past the
 * handler and returns it (NULL when it cannot: m is itself shared, or not
 * the message being handled - then copy).  rt_msg_buf_hold makes a buffer
 * from rt_msg_buf_new held the same way.  A held buffer is a's node's: it
 * counts in the node's memory, is released with rt_msg_buf_release, and
 * goes when the node goes down, as the node's allocations do.  Until it is
 * first shared its holder may write it.
 *
 * rt_send_shared sends len bytes of a held buffer as a message without
 * copying them: the message takes a reference, so the holder may release
 * the buffer at once.  From then on nobody may change the buffer.  Same
 * results, delivery and hashing as rt_send of the same bytes.  Handler
 * (of a's node) only; the references are atomic, so receivers may be on
 * any thread.
 */
void *rt_msg_keep(struct rt_actor *a, const struct rt_msg *m);
/* As rt_msg_keep, but the payload becomes process memory, held by no node:
 * for what outlives a crash of the node (the DFS's stored files).  Freed
 * with rt_msg_buf_free; never shared. */
void *rt_msg_take(struct rt_actor *a, const struct rt_msg *m);
void rt_msg_buf_hold(struct rt_actor *a, void *buf);
/* A reference of the caller's own (process memory, held by no node) to a
 * buffer a's node holds, which may no longer change: freed with
 * rt_msg_buf_free, whoever releases the hold first.  Returns buf. */
void *rt_msg_buf_ref(void *buf);
void rt_msg_buf_release(struct rt_actor *a, void *buf);
int rt_send_shared(struct rt_actor *from, rt_addr dst, uint32_t type, const void *buf,
                   uint32_t len);

/* XXH64 (seed 0) of len bytes at offset off of the payload of m, the
 * message a's handler is handling.  The first answer for a buffer is kept
 * with it: every message sharing that buffer (rt_send_shared) gets it again
 * without hashing, so a blob chunk served to many TaskManagers is hashed
 * once.  The range must not change after the call (a shared buffer never
 * does).  Any other message is hashed as XXH64 would. */
uint64_t rt_msg_xxh64(struct rt_actor *a, const struct rt_msg *m, uint32_t off, uint32_t len);

/* Starts a one-shot timer that delivers RT_MSG_TIMER {id, tag} to the actor
 * after delay_ns.  Returns the timer id (never 0).  Actor's own node only. */
uint64_t rt_timer_start(struct rt_actor *a, uint64_t delay_ns, uint64_t tag);

/* Cancels a pending timer.  Returns 0, or -ENOENT if it fired or never was. */
int rt_timer_cancel(struct rt_actor *a, uint64_t timer_id);

/* ---- randomness ----------------------------------------------------------- */

/* A node's RNG, seeded from (world seed, node id, incarnation).  Node's own
 * thread only.  rt_world_rand is the world's own stream: sim world, or any
 * thread before nodes start. */
uint64_t rt_rand_u64(struct rt_node *n);
double rt_rand_double(struct rt_node *n);       /* [0, 1) */
uint64_t rt_world_rand(struct rt_world *w);

/* ---- network fault rules -------------------------------------------------- */

/* A rule on the directed link from -> to (node ids; RT_NET_ANY matches all).
 * Partitioned links drop everything; otherwise each message is dropped with
 * drop_p, duplicated with dup_p, and delayed by delay_ns (FIFO is kept). */
#define RT_NET_ANY 0xffffffffu
struct rt_net_rule {
    uint32_t from, to;
    bool partitioned;
    double drop_p, dup_p;
    uint64_t delay_ns;
};
/* Adds a rule; returns its id (> 0) or -ENOSPC.  Any thread. */
int rt_net_add_rule(struct rt_world *w, const struct rt_net_rule *r);
/* Removes a rule; returns 0 or -ENOENT.  Any thread. */
int rt_net_remove_rule(struct rt_world *w, int id);
uint64_t rt_net_dropped(const struct rt_world *w);      /* lost to rules or down nodes */
/* False when a partition rule cuts from -> to (a connection would break). Any thread. */
bool rt_net_reachable(struct rt_world *w, uint32_t from, uint32_t to);

/* ---- trace ---------------------------------------------------------------- */

/* Writes trace lines to path ("-" for stdout) from now on, truncating it.
 * Returns 0 or -errno. Not from a handler. */
int rt_trace_open(struct rt_world *w, const char *path);

/* Records one event: a JSON line {"t":ns,"node":..,"ev":kind,<fields>} where
 * fields_fmt is printf-style JSON members without braces (NULL for none).  The
 * event also goes into the running trace hash.  Any thread. */
void rt_trace(struct rt_world *w, const struct rt_node *n, const char *kind,
              const char *fields_fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes LINE (one or more complete lines) to the trace file as it is,
 * without hashing it: a header or footer that describes the run rather than
 * being part of it, so a traced run and an untraced one keep one hash.
 * No-op without a trace file.  Any thread. */
void rt_trace_note(struct rt_world *w, const char *line);

/* The running 64-bit hash over every delivery and trace event so far.  In the
 * sim world it identifies the run; in the real world it differs run to run. */
uint64_t rt_trace_hash(const struct rt_world *w);
uint64_t rt_trace_events(const struct rt_world *w);

#endif
