/*
 * dfs.c - the shared filesystem service: lifecycle, the client helper and the
 * server actor with its capacity model.  The ops themselves run in
 * dfs_store.c; the counters live in dfs_stats.c.
 *
 * Design.  One server actor on the dfs node owns the queue.  A request
 * arrives (DFS_MSG_REQ), is copied into one block of the node's memory and
 * appended to a FIFO; pump() then starts requests from the head while a
 * stream is free and the token bucket allows.  Starting a request runs its op
 * at once (real I/O in the real world, the memory store in the sim world), so
 * effects apply in arrival order in both worlds, and computes the model's
 * completion time; the reply is sent by a timer on the server at that time
 * (directly when the time has already come), which frees the stream and pumps
 * again.  Everything above runs on the dfs node's thread only, so the queue
 * needs no lock.  What other threads read - the counters, the sim store for
 * dfs_count_files - sits behind the mutexes in struct dfs; the server address
 * and request ids are atomics.  Strict FIFO (no overtaking) keeps the sim
 * world deterministic and the arithmetic simple.
 */
#include <errno.h>
#include <fcntl.h>
#include <fiu.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/dfs_internal.h"

#define DEFAULT_BUCKET_NS (10 * RT_NS_PER_MS)
#define DEFAULT_SERIES_CAP 4096

struct server {
    struct dfs *d;
    struct rt_actor *self;
    struct dfs__req_list queue;         /* waiting, FIFO */
    struct dfs__req_list serving;       /* started, reply pending; in start order */
    uint64_t next_seq;
    uint64_t nqueued;                   /* in queue */
    uint64_t published;                 /* nqueued as the counters last saw it */
    uint32_t in_service;
    uint64_t tat;                       /* token bucket: theoretical arrival time */
    uint64_t token_timer;               /* pending wake-up for a token, 0: none */
    struct dfs__req *incoming;          /* the request being received, until finished */
    struct dfs__pstate prof;            /* the storage profile's state */
    uint64_t next_retry;                /* tag of the next backoff timer */
    uint64_t epoch;                     /* handlers run so far: tells a wait from none */
};

/* Timer tags: TAG_TOKEN wakes the pump for a token; any other tag is the seq
 * of a request whose reply is due.  Sequence numbers rather than pointers keep
 * everything a sim run sees free of addresses. */
#define TAG_TOKEN 1u
#define FIRST_SEQ 2u
#define TAG_RETRY (UINT64_C(1) << 63)   /* | a throttled request's retry_seq */

void *dfs__proc_grow(void *p, size_t used, size_t size)
{
    void *n = rt_xmalloc_process(size);
    if (used)
        memcpy(n, p, used);
    rt_free(p);
    return n;
}

/* ---- the capacity model ------------------------------------------------ */

static uint64_t token_interval(const struct dfs_config *c)
{
    return (RT_NS_PER_SEC + c->ops_per_s - 1) / c->ops_per_s;
}

/* Service time of a request that moves `bytes`, per the model. */
static uint64_t service_ns(const struct dfs_config *c, uint64_t bytes, uint64_t extra)
{
    uint64_t t = c->base_latency_ns + extra;
    if (c->bandwidth && bytes) {
        __extension__ unsigned __int128 num =
            (unsigned __int128)bytes * (c->streams ? c->streams : 1) * RT_NS_PER_SEC;
        t += (uint64_t)((num + c->bandwidth - 1) / c->bandwidth);
    }
    /* One connection never moves faster than the profile's per-connection
     * rate, however idle the store is. */
    if (c->profile.conn_bandwidth && bytes) {
        __extension__ unsigned __int128 num = (unsigned __int128)bytes * RT_NS_PER_SEC;
        uint64_t conn = (uint64_t)((num + c->profile.conn_bandwidth - 1) / c->profile.conn_bandwidth);
        uint64_t moved = t - c->base_latency_ns - extra;
        if (conn > moved)
            t += conn - moved;
    }
    return t;
}

/* The profile's latency on top of base_latency_ns: uniform in
 * [0, latency_max - base] from the dfs node's seeded RNG. */
static uint64_t profile_latency(struct dfs *d)
{
    const struct dfs_config *c = &d->cfg;
    if (c->profile.latency_max_ns <= c->base_latency_ns)
        return 0;
    return rt_rand_u64(d->node) % (c->profile.latency_max_ns - c->base_latency_ns + 1);
}

static uint64_t moved_bytes(const struct dfs__req *r)
{
    if (r->done.status < 0)
        return 0;
    if (r->w.op == DFS_OP_READ || r->w.op == DFS_OP_WRITE)
        return r->done.bytes + r->done.logical;     /* a logical byte costs what a real one does */
    return 0;
}

static void enqueue(struct server *s, struct dfs__req *r);

static void part_done(struct server *s, struct dfs__req *part);
static void reply(struct server *s, struct dfs__req *r);

static void finish(struct server *s, struct dfs__req *r)
{
    struct dfs *d = s->d;
    uint64_t now = rt_now(d->w);
    /* Its pooled connection goes to the next request of its node. */
    struct dfs__req *next = dfs__pool_release(d, &s->prof, r);
    if (next)
        enqueue(s, next);
    r->done.latency_ns = now > r->w.submit_ns ? now - r->w.submit_ns : 0;
    dfs__stats_done(&d->st, now, r);
    s->in_service--;
    TAILQ_REMOVE(&s->serving, r, link);
    dfs__stats_flight(&d->st, now, r->w.phase, -1);
    if (r->parent)
        part_done(s, r);
    else
        reply(s, r);
}

/* Sends r's completion and frees r. */
static void reply(struct server *s, struct dfs__req *r)
{
    struct dfs *d = s->d;
    if (r->done.logical)    /* a separate line shape: traces without logical bytes stay as they were */
        rt_trace(d->w, d->node, "dfs",
                 "\"req\":%llu,\"op\":%u,\"status\":%d,\"bytes\":%llu,\"logical\":%llu,"
                 "\"from\":%u,\"job\":%u,\"phase\":%u",
                 (unsigned long long)r->w.req_id, r->w.op, r->done.status,
                 (unsigned long long)r->done.bytes, (unsigned long long)r->done.logical, r->node,
                 r->w.job, r->w.phase);
    else
        rt_trace(d->w, d->node, "dfs",
                 "\"req\":%llu,\"op\":%u,\"status\":%d,\"bytes\":%llu,\"from\":%u,\"job\":%u,\"phase\":%u",
                 (unsigned long long)r->w.req_id, r->w.op, r->done.status,
                 (unsigned long long)r->done.bytes, r->node, r->w.job, r->w.phase);

    /* The payload was read into a message buffer (held by this node until
     * now, so a crash would have released it), behind room for this header:
     * it goes as it is, not copied. */
    uint32_t plen = r->done.payload_len;
    if (plen) {
        memcpy(r->reply_buf, &r->done, sizeof(r->done));
        rt_send_shared(s->self, r->client, DFS_MSG_DONE, r->reply_buf,
                       (uint32_t)(sizeof(r->done) + plen));
    } else {
        rt_send(s->self, r->client, DFS_MSG_DONE, &r->done, sizeof(r->done));
    }
    dfs__payload_free(d, r);
    rt_free(r->body);
    rt_msg_buf_release(s->self, r->kept);
    if (s->incoming == r)
        s->incoming = NULL;
    rt_free(r);
}

/* Replies now if r is due, else arms a timer for the rest.  The real world's
 * timers may fire a little early (libevent measures from the time it cached
 * at the top of its loop iteration, before this handler's I/O), so a fired
 * timer comes back here rather than trusting itself. */
static void finish_when_due(struct server *s, struct dfs__req *r)
{
    uint64_t now = rt_now(s->d->w);
    if (r->due <= now)
        finish(s, r);
    else
        rt_timer_start(s->self, r->due - now, r->seq);
}

/* Starts r now: runs the op, then completes it at the model's time. */
static void start(struct server *s, struct dfs__req *r, uint64_t now)
{
    struct dfs *d = s->d;
    dfs__wait_end(d, r, now, s->epoch);
    s->in_service++;
    r->seq = s->next_seq++;
    TAILQ_INSERT_TAIL(&s->serving, r, link);
    uint64_t extra = 0;
    if (fiu_fail("dfs/slow"))
        extra = (uint64_t)(uintptr_t)fiu_failinfo();
    r->started = now;
    if (r->attempts > d->cfg.profile.retry_limit) {
        /* Throttled past the client's retry limit: the SlowDown reaches
         * the caller, after one more round trip. */
        r->done.status = -EAGAIN;
        atomic_fetch_add(&d->p_gave_up, 1);
        r->due = now + d->cfg.base_latency_ns;
    } else if (d->cfg.profile.kind == DFS_PROFILE_S3 && r->w.op == DFS_OP_FSYNC) {
        /* An object is durable when its PUT completes: no request. */
        dfs__exec(d, r);
        r->due = now;
    } else {
        if (!r->executed)
            dfs__exec(d, r);
        uint64_t lat = profile_latency(d), bytes = moved_bytes(r);
        r->due = now + service_ns(&d->cfg, bytes, extra) + lat;
        r->due = dfs__link_due(d, &s->prof, r, now + d->cfg.base_latency_ns + extra + lat, bytes,
                               r->due);
    }
    finish_when_due(s, r);
}

/* S3 answered 503 SlowDown: the client gives its connection back and
 * tries again after its backoff (and the 503's round trip), or gives up. */
static void throttled(struct server *s, struct dfs__req *r, uint64_t now)
{
    struct dfs *d = s->d;
    dfs__wait_end(d, r, now, s->epoch);     /* it reached the store; a backoff is no queue */
    atomic_fetch_add(&d->p_throttled, 1);
    r->attempts++;
    if (r->attempts > d->cfg.profile.retry_limit) {
        start(s, r, now);
        return;
    }
    struct dfs__req *next = dfs__pool_release(d, &s->prof, r);
    uint64_t wait = d->cfg.base_latency_ns +
                    dfs__backoff_ns(&d->cfg.profile, r->attempts, rt_rand_u64(d->node));
    r->retry_seq = ++s->next_retry;
    TAILQ_INSERT_TAIL(&s->prof.backoff, r, link);
    rt_timer_start(s->self, wait, TAG_RETRY | r->retry_seq);
    if (next)
        enqueue(s, next);
}

/* Whether the head request r may start now by its partition's rate: true
 * (a token taken), or false: throttled (S3, r is gone from the queue) or
 * waiting (a wake-up armed).  *gone says which. */
static bool partition_admits(struct server *s, struct dfs__req *r, uint64_t now, bool *gone)
{
    const struct dfs_profile *pr = &s->d->cfg.profile;
    *gone = false;
    int cls = dfs__req_class(pr, r);
    uint64_t rate = cls == DFS__CLS_WRITE ? pr->write_rate : cls == DFS__CLS_READ ? pr->read_rate : 0;
    if (!rate)
        return true;
    struct dfs__part *p = dfs__part_get(s->d, &s->prof, dfs__partition(pr, r));
    /* GCRA with a burst of one second's worth: the rates are per second. */
    uint64_t T = (RT_NS_PER_SEC + rate - 1) / rate;
    uint64_t tau = (rate - 1) * T;
    if (p->tat[cls] <= now + tau) {
        p->tat[cls] = (p->tat[cls] > now ? p->tat[cls] : now) + T;
        return true;
    }
    if (pr->throttle) {
        TAILQ_REMOVE(&s->queue, r, link);
        s->nqueued--;
        *gone = true;
        throttled(s, r, now);
        return false;
    }
    if (!r->rate_waited) {
        r->rate_waited = true;
        atomic_fetch_add(&s->d->p_rate_waits, 1);
    }
    if (!s->token_timer)
        s->token_timer = rt_timer_start(s->self, p->tat[cls] - tau - now, TAG_TOKEN);
    return false;
}

static void pump_queue(struct server *s)
{
    const struct dfs_config *c = &s->d->cfg;
    struct dfs__req *r;
    while ((r = TAILQ_FIRST(&s->queue)) != NULL) {
        if (c->streams && s->in_service >= c->streams)
            return;                     /* a completion pumps again */
        uint64_t now = rt_now(s->d->w);
        if (c->ops_per_s) {
            /* GCRA: conforming when now >= tat - (burst - 1) * T. */
            uint64_t T = token_interval(c);
            uint64_t tau = (uint64_t)((c->ops_burst ? c->ops_burst : 1) - 1) * T;
            if (s->tat > now + tau) {
                if (!s->token_timer)
                    s->token_timer = rt_timer_start(s->self, s->tat - tau - now, TAG_TOKEN);
                return;
            }
            s->tat = (s->tat > now ? s->tat : now) + T;
        }
        bool gone;
        if (c->profile.kind != DFS_PROFILE_NONE && !partition_admits(s, r, now, &gone)) {
            if (gone)
                continue;               /* throttled: the next one may pass */
            return;                     /* waits for its partition's turn */
        }
        TAILQ_REMOVE(&s->queue, r, link);
        s->nqueued--;
        start(s, r, now);
    }
}

/* Starts requests from the head of the queue while capacity allows.  A
 * request counts as queued only if it is still waiting when pump returns. */
static void pump(struct server *s)
{
    pump_queue(s);
    if (s->nqueued != s->published) {
        s->published = s->nqueued;
        dfs__stats_queued(&s->d->st, rt_now(s->d->w), s->nqueued);
    }
}

/* r joins the store's queue, or its node's pool queue. */
static void enqueue(struct server *s, struct dfs__req *r)
{
    if (!r->waiting) {
        r->waiting = true;
        r->wait_from = rt_now(s->d->w);
        r->wait_epoch = s->epoch;
    }
    if (!r->holds_conn && !dfs__pool_admit(s->d, &s->prof, r))
        return;
    TAILQ_INSERT_TAIL(&s->queue, r, link);
    s->nqueued++;
}

/* A throttled request's backoff ended: it is sent again. */
static void retry_timer(struct server *s, uint64_t seq)
{
    struct dfs__req *r;
    TAILQ_FOREACH(r, &s->prof.backoff, link) {
        if (r->retry_seq == seq) {
            TAILQ_REMOVE(&s->prof.backoff, r, link);
            r->retry_seq = 0;
            atomic_fetch_add(&s->d->p_retries, 1);
            enqueue(s, r);
            return;
        }
    }
}

/* ---- parts: a READ served as a backend's SST files ----------------------- */

/* Sends the group's waiting parts to the store while its threads allow. */
static void group_pump(struct server *s, struct dfs__group *g, uint32_t parallel)
{
    struct dfs__req *part;
    while (g->inflight < (parallel ? parallel : 1) && (part = TAILQ_FIRST(&g->backlog))) {
        TAILQ_REMOVE(&g->backlog, part, link);
        g->inflight++;
        dfs__stats_flight(&s->d->st, rt_now(s->d->w), part->w.phase, 1);
        enqueue(s, part);
    }
}

/* A READ or WRITE with part_size: the op runs now (the data is what its
 * parts stand for: downloaded or uploaded SST files), and ceil(bytes /
 * part_size) parts go to the store through the requesting backend's
 * transfer threads - a file of one part too, as Flink downloads every file
 * through them.  False when it moves nothing (failed or empty): it then
 * goes on as one request, its op already run. */
static bool split(struct server *s, struct dfs__req *r)
{
    if ((r->w.op != DFS_OP_READ && r->w.op != DFS_OP_WRITE) || !r->w.part_size)
        return false;
    struct dfs *d = s->d;
    dfs__exec(d, r);
    r->executed = true;
    /* Parts cover the file's logical size: its data bytes first, then the
     * payload its descriptor stands for, each part charged for both. */
    uint64_t real = r->done.status < 0 ? 0 : r->done.bytes;
    uint64_t bytes = r->done.status < 0 ? 0 : real + r->done.logical, ps = r->w.part_size;
    uint64_t n = (bytes + ps - 1) / ps;
    if (n == 0 || n > UINT32_MAX)
        return false;
    r->parts_left = (uint32_t)n;
    dfs__stats_flight(&d->st, rt_now(d->w), r->w.phase, -1);   /* its parts count instead */
    struct dfs__group *g = dfs__group_get(&s->prof, r->node, r->w.job, r->w.part_group, true);
    for (uint64_t i = 0; i < n; i++) {
        struct dfs__req *p = rt_xcalloc(1, sizeof(*p));
        p->w = r->w;
        p->w.part_size = 0;
        p->client = r->client;
        p->node = r->node;
        p->parent = r;
        p->part_index = (uint32_t)i;
        p->executed = true;
        p->done.op = r->done.op;
        uint64_t lo = i * ps, len = bytes - lo < ps ? bytes - lo : ps;
        uint64_t in_real = lo >= real ? 0 : real - lo < len ? real - lo : len;
        p->done.bytes = in_real;
        p->done.logical = len - in_real;
        p->created = i == 0 ? r->created : 0;   /* the store holds one file */
        TAILQ_INSERT_TAIL(&g->backlog, p, link);
    }
    group_pump(s, g, r->w.part_parallel);
    return true;
}

/* A part completed: the next waits for its thread; the parent completes
 * with its last part (failed if any part failed). */
static void part_done(struct server *s, struct dfs__req *part)
{
    struct dfs__req *parent = part->parent;
    struct dfs__group *g = dfs__group_get(&s->prof, part->node, parent->w.job, parent->w.part_group,
                                            false);
    if (part->done.status < 0 && parent->done.status >= 0)
        parent->done.status = part->done.status;
    rt_free(part);
    if (g) {
        g->inflight--;
        group_pump(s, g, parent->w.part_parallel);
        dfs__group_drop_if_idle(&s->prof, g);
    }
    if (--parent->parts_left)
        return;
    if (parent->done.status < 0) {
        parent->done.bytes = 0;
        parent->done.logical = 0;
        parent->done.payload_len = 0;
    }
    uint64_t now = rt_now(s->d->w);
    parent->done.latency_ns = now > parent->w.submit_ns ? now - parent->w.submit_ns : 0;
    reply(s, parent);
}

/* Points r's names and data at body (the message's, or r's own copy). */
static void aim(struct dfs__req *r, const unsigned char *body)
{
    r->path = (const char *)body;
    r->path2 = (const char *)body + r->w.path_len + 1;
    r->data = body + r->w.path_len + 1 + r->w.path2_len + 1;
}

/* A request block for a DFS_MSG_REQ, its names and data still in the
 * message (see keep_body); NULL if malformed. */
static struct dfs__req *parse_req(const struct rt_msg *m)
{
    struct dfs__wire w;
    if (m->len < sizeof(w))
        return NULL;
    memcpy(&w, m->data, sizeof(w));
    uint64_t need = sizeof(w) + (uint64_t)w.path_len + 1 + w.path2_len + 1 + w.data_len;
    if (need != m->len)
        return NULL;
    const unsigned char *p = (const unsigned char *)m->data + sizeof(w);
    if (p[w.path_len] != 0 || p[w.path_len + 1 + w.path2_len] != 0)
        return NULL;
    struct dfs__req *r = rt_xcalloc(1, sizeof(*r));
    r->w = w;
    r->client = m->src;
    r->node = RT_ADDR_NODE(m->src);
    aim(r, p);
    r->done.req_id = w.req_id;
    r->done.cookie = w.cookie;
    r->done.op = w.op;
    return r;
}

/* Finds the request a completion timer names.  Equal service times make
 * replies mostly come due in start order, so the search usually stops at
 * the head. */
static void due_timer(struct server *s, uint64_t seq)
{
    struct dfs__req *r;
    TAILQ_FOREACH(r, &s->serving, link) {
        if (r->seq == seq) {
            finish_when_due(s, r);
            return;
        }
    }
}

static void server_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct server *s = rt_actor_state(a);
    s->epoch++;
    if (m->type == RT_MSG_TIMER) {
        const struct rt_timer_fire *f = m->data;
        if (f->tag == TAG_TOKEN)
            s->token_timer = 0;
        else if (f->tag & TAG_RETRY)
            retry_timer(s, f->tag & ~TAG_RETRY);
        else
            due_timer(s, f->tag);
        pump(s);
        return;
    }
    if (m->type != DFS_MSG_REQ || m->src == 0)
        return;                         /* nobody to answer */
    struct dfs__req *r = parse_req(m);
    if (!r)
        return;
    if ((r->w.op == DFS_OP_READ && (r->w.flags & DFS_F_LOCAL)) ||
        (r->w.flags & DFS_F_INLINE)) {
        /* A TaskManager's local copy (read from its own disk), or state
         * inlined in _metadata (no file of its own): nothing of the store's
         * capacity or counters; the data is the same. */
        s->d->cur_msg = m;
        dfs__exec(s->d, r);
        s->d->cur_msg = NULL;
        if (r->done.status >= 0 && (r->w.op == DFS_OP_READ || r->w.op == DFS_OP_WRITE))
            atomic_fetch_add(r->w.flags & DFS_F_INLINE ? &s->d->inline_bytes : &s->d->local_bytes,
                             r->done.bytes + r->done.logical);
        reply(s, r);
        return;
    }
    dfs__stats_flight(&s->d->st, rt_now(s->d->w), r->w.phase, 1);
    s->incoming = r;
    s->d->cur_msg = m;          /* a WRITE that runs now may keep its data in m */
    if (!split(s, r))
        enqueue(s, r);
    pump(s);
    s->d->cur_msg = NULL;
    /* Names and data are needed until the op runs.  Mostly it has run by
     * now (a free stream takes it at once; it may even be answered and
     * gone, which finish() says by clearing incoming), and a large write was
     * never copied; one that waits in the queue keeps the message (held by
     * this node, so a crash releases it), or failing that takes a copy. */
    r = s->incoming;
    s->incoming = NULL;
    if (r && !r->seq) {
        size_t body = m->len - sizeof(r->w);
        if ((r->kept = rt_msg_keep(s->self, m)) != NULL) {
            aim(r, r->kept + sizeof(r->w));
        } else {
            r->body = rt_xmalloc(body);
            memcpy(r->body, (const unsigned char *)m->data + sizeof(r->w), body);
            aim(r, r->body);
        }
    }
}

static const struct rt_actor_ops server_ops = { "dfs", server_msg, NULL };

/* ---- lifecycle --------------------------------------------------------- */

static void spawn_server(struct rt_node *n, void *arg)
{
    struct dfs *d = arg;
    struct server *s = rt_xcalloc(1, sizeof(*s));
    s->d = d;
    TAILQ_INIT(&s->queue);
    TAILQ_INIT(&s->serving);
    s->next_seq = FIRST_SEQ;
    dfs__pstate_init(&s->prof);
    s->self = rt_actor_spawn(n, &server_ops, s);
    d->self = s->self;
    atomic_store_explicit(&d->server, rt_actor_addr(s->self), memory_order_release);
    rt_world_notify(rt_node_world(n));
}

static bool server_up(void *arg)
{
    return atomic_load_explicit(&((struct dfs *)arg)->server, memory_order_acquire) != 0;
}

static int bring_up(struct dfs *d)
{
    atomic_store_explicit(&d->server, 0, memory_order_release);
    int rc = rt_node_start(d->node);
    if (rc < 0)
        return rc;
    dfs__stats_reset_flight(&d->st, rt_now(d->w));
    rc = rt_node_call(d->node, spawn_server, d);
    if (rc < 0)
        return rc;
    return rt_world_wait(d->w, server_up, d, 10 * RT_NS_PER_SEC);
}

static char *proc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(rt_xmalloc_process(n), s, n);
}

static pthread_once_t fiu_once = PTHREAD_ONCE_INIT;

static void fiu_setup(void)
{
    fiu_init(0);
}

int dfs_new(struct rt_world *w, const struct dfs_config *cfg, struct dfs **out)
{
    int real = rt_world_kind(w) == RT_WORLD_REAL;
    if (!cfg || (real && (!cfg->root || !cfg->root[0])))
        return -EINVAL;
    pthread_once(&fiu_once, fiu_setup);

    struct dfs *d = rt_xcalloc_process(1, sizeof(*d));
    int rc;
    d->w = w;
    d->cfg = *cfg;
    d->real = real;
    d->root_fd = -1;
    d->cfg.root = real ? proc_strdup(cfg->root) : NULL;
    d->cfg.node_name = proc_strdup(cfg->node_name ? cfg->node_name : "dfs");
    if (!d->cfg.series_bucket_ns)
        d->cfg.series_bucket_ns = DEFAULT_BUCKET_NS;
    if (!d->cfg.series_cap)
        d->cfg.series_cap = DEFAULT_SERIES_CAP;
    atomic_init(&d->next_req, 1);
    pthread_mutex_init(&d->store_mu, NULL);
    dfs__stats_init(&d->st, &d->cfg);

    if (real) {
        d->root_fd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->root_fd < 0) {
            rc = -errno;
            goto fail;
        }
    }
    d->node = rt_node_new(w, d->cfg.node_name);
    if (!d->node) {
        rc = -ENOSPC;
        goto fail;
    }
    rc = bring_up(d);
    if (rc < 0)
        goto fail;
    *out = d;
    return 0;

fail:
    /* A node cannot be removed from a world: a failed dfs leaves it down. */
    if (d->node && rt_node_is_up(d->node))
        rt_node_stop(d->node);
    dfs_free(d);
    return rc;
}

int dfs_restart(struct dfs *d)
{
    if (!rt_node_is_down(d->node))
        return -EALREADY;
    return bring_up(d);
}

void dfs_free(struct dfs *d)
{
    if (!d)
        return;
    if (d->root_fd >= 0)
        close(d->root_fd);
    dfs__store_free(d);
    dfs__stats_free(&d->st);
    pthread_mutex_destroy(&d->store_mu);
    rt_free((void *)d->cfg.root);
    rt_free((void *)d->cfg.node_name);
    rt_free(d);
}

struct rt_node *dfs_node(const struct dfs *d)
{
    return d->node;
}

rt_addr dfs_addr(const struct dfs *d)
{
    return atomic_load_explicit(&((struct dfs *)d)->server, memory_order_acquire);
}

/* ---- client ------------------------------------------------------------ */

static void fail_locally(struct rt_actor *self, uint64_t id, const struct dfs_req *req, int status)
{
    struct dfs_done done = {
        .req_id = id, .cookie = req->cookie, .op = (uint32_t)req->op, .status = status,
    };
    rt_send(self, rt_actor_addr(self), DFS_MSG_DONE, &done, sizeof(done));
}

/* A request built in its message: the wire header, the paths, room for
 * the data. */
struct dfs_write {
    unsigned char *msg;
    uint32_t total;
    struct dfs_req req;         /* for a local failure: op and cookie */
};

/* Lays req out in a message with room for dlen bytes of data; NULL when it
 * is too large for one message. */
static struct dfs_write *build(const struct dfs_req *req, size_t dlen, unsigned char **data)
{
    size_t plen = req->path ? strlen(req->path) : 0;
    size_t p2len = req->path2 ? strlen(req->path2) : 0;
    size_t total = sizeof(struct dfs__wire) + plen + 1 + p2len + 1 + dlen;
    if (plen > UINT32_MAX / 2 || p2len > UINT32_MAX / 2 || dlen > UINT32_MAX ||
        total > UINT32_MAX)
        return NULL;
    struct dfs_write *w = rt_xmalloc(sizeof(*w));
    w->total = (uint32_t)total;
    w->req = *req;
    w->req.path = w->req.path2 = NULL;
    w->req.data = NULL;
    w->msg = rt_msg_buf_new(w->total);
    /* The id and submit time go in when it is sent. */
    struct dfs__wire wire = {
        .offset = req->offset, .length = req->length, .op = (uint32_t)req->op,
        .flags = req->flags, .job = req->job, .phase = (uint32_t)req->phase,
        .cookie = req->cookie, .path_len = (uint32_t)plen, .path2_len = (uint32_t)p2len,
        .data_len = (uint32_t)dlen, .logical = req->op == DFS_OP_WRITE ? req->logical : 0,
        .logical_seed = req->op == DFS_OP_WRITE ? req->logical_seed : 0,
        .part_size = (req->op == DFS_OP_READ || req->op == DFS_OP_WRITE) &&
                     !(req->flags & DFS_F_APPEND) ? req->part_size : 0,
        .part_group = req->part_group, .part_parallel = req->part_parallel,
    };
    unsigned char *p = w->msg;
    memcpy(p, &wire, sizeof(wire));
    p += sizeof(wire);
    if (plen)
        memcpy(p, req->path, plen);
    p[plen] = 0;
    p += plen + 1;
    if (p2len)
        memcpy(p, req->path2, p2len);
    p[p2len] = 0;
    *data = p + p2len + 1;
    return w;
}

static uint64_t send_built(struct rt_actor *self, struct dfs *d, struct dfs_write *w)
{
    uint64_t id = atomic_fetch_add_explicit(&d->next_req, 1, memory_order_relaxed);
    struct dfs__wire *wire = (struct dfs__wire *)w->msg;
    wire->req_id = id;
    wire->submit_ns = rt_now(rt_actor_world(self));
    rt_addr server = dfs_addr(d);
    int rc = -EHOSTDOWN;
    if (server)
        rc = rt_send_buf(self, server, DFS_MSG_REQ, w->msg, w->total);
    else
        rt_msg_buf_free(w->msg);
    if (rc < 0)
        fail_locally(self, id, &w->req, rc);
    rt_free(w);
    return id;
}

uint64_t dfs_submit(struct rt_actor *self, struct dfs *d, const struct dfs_req *req)
{
    size_t dlen = req->op == DFS_OP_WRITE ? req->len : 0;
    unsigned char *data;
    struct dfs_write *w = build(req, dlen, &data);
    if (!w) {
        uint64_t id = atomic_fetch_add_explicit(&d->next_req, 1, memory_order_relaxed);
        fail_locally(self, id, req, -EMSGSIZE);
        return id;
    }
    /* Copied once, into the message itself. */
    if (dlen)
        memcpy(data, req->data, dlen);
    return send_built(self, d, w);
}

void *dfs_write_prepare(const struct dfs_req *req, size_t len, struct dfs_write **out)
{
    struct dfs_req r = *req;
    r.op = DFS_OP_WRITE;
    unsigned char *data;
    *out = build(&r, len, &data);
    return *out ? data : NULL;
}

void dfs_write_set_logical(struct dfs_write *w, uint64_t logical, uint64_t seed)
{
    struct dfs__wire *wire = (struct dfs__wire *)w->msg;
    wire->logical = logical;
    wire->logical_seed = seed;
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t dfs_payload_sum(uint64_t seed, uint64_t off, uint64_t len)
{
    return mix64(mix64(mix64(seed) ^ off) ^ len);
}

uint64_t dfs_submit_write(struct rt_actor *self, struct dfs *d, struct dfs_write *w)
{
    return send_built(self, d, w);
}

void dfs_write_add_flags(struct dfs_write *w, uint32_t flags)
{
    ((struct dfs__wire *)w->msg)->flags |= flags;
}

void dfs_write_abandon(struct dfs_write *w)
{
    if (!w)
        return;
    rt_msg_buf_free(w->msg);
    rt_free(w);
}

int dfs_done_parse(const struct rt_msg *m, struct dfs_done *out, const void **payload)
{
    if (m->type != DFS_MSG_DONE || m->len < sizeof(*out))
        return -EINVAL;
    memcpy(out, m->data, sizeof(*out));
    if (m->len - sizeof(*out) != out->payload_len)
        return -EINVAL;
    if (payload)
        *payload = (const unsigned char *)m->data + sizeof(*out);
    return 0;
}

const char *dfs_list_next(const void *payload, uint32_t payload_len, const char *prev)
{
    const char *base = payload;
    const char *next = prev ? prev + strlen(prev) + 1 : base;
    return next < base + payload_len ? next : NULL;
}

int dfs_count_files(struct dfs *d, const char *prefix)
{
    if (dfs__path_ok(prefix, 1) < 0)
        return -EINVAL;
    return dfs__count(d, prefix);
}
