/*
 * ha.c - high availability: leader election among the JobManager nodes
 * through the shared filesystem, and the new leader's recovery of the jobs.
 *
 * Every JobManager node of an HA cluster runs one elector actor.  The lease
 * is one file under <cluster>/ha/leader/ whose name says who leads:
 *
 *     <cluster>/ha/leader/t<term>.r<renewal>.<node name>
 *
 * (numbers zero-padded, so the names sort by term).  The leader renews it
 * every heartbeat.interval by renaming it to the next renewal; standbys list
 * the folder on the same period and call the lease stale once the same name
 * has stood for heartbeat.timeout.  The first standby to see it stale claims
 * it by renaming it to t<term+1>.r0.<its name>.
 *
 * Why rename, and why the state is in the name: the DFS offers no
 * create-if-absent, but a rename of a given source succeeds only once - the
 * source is gone afterwards.  So a rename of the exact name one has seen is
 * a compare-and-swap on the lease: of two standbys claiming together, one
 * gets -ENOENT; a leader that was only paused (not dead) and renews after a
 * takeover gets -ENOENT too, learns it lost, and stops its JobManager (its
 * node crashes, as a Flink JobManager that loses leadership exits), so two
 * leaders never run jobs at once.  A write-then-read-back term check would
 * leave a window in which a late writer overwrites the new lease.
 *
 * The first JobManager leads from the start (mc_cluster_new spawns its
 * resource manager) and creates the lease with term 1.  A standby that wins
 * a claim sets the cluster's leader, spawns a resource manager (TaskManagers
 * notice the new address and register again, see tm.c) and recovers: it
 * lists the job graph store and the job result store, and for every job
 * without a result reads the checkpoint pointer store and starts a job
 * master whose runner restores that checkpoint (mc__jm_recover).
 *
 * Everything is an actor step: timers and DFS completions; one lease request
 * at a time (a reply lost with a crashed DFS node is given up after the
 * timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minicluster/cluster_internal.h"
#include "runtime/dfs.h"

/* DFS cookies: the kind in the low bits, a job id above them. */
enum { OP_CREATE = 1, OP_RENEW, OP_LIST, OP_CLAIM, OP_VERIFY, OP_LIST_JOBS, OP_LIST_RESULTS,
       OP_READ_PTR };

struct elector {
    struct rt_actor *self;
    struct mc_cluster *c;
    struct mc_jm *me;
    bool leader;
    bool busy;                  /* a lease request is in flight */
    uint64_t busy_since_ns;
    uint64_t seq;               /* of the lease request in flight: older replies are stale */
    uint32_t term;
    uint64_t renewal;
    char lease[DFS_PATH_MAX];   /* the lease file held (leader) or seen last (standby) */
    char next[DFS_PATH_MAX];    /* the name a rename in flight gives it */
    uint64_t seen_ns;           /* standby: when `lease` was first seen */
    uint32_t *jobs;             /* recovery: ids in the job graph store */
    uint32_t njobs;
};

static uint64_t el_now(struct elector *e) { return rt_now(e->c->w); }

void mc__ha_path(const struct mc_cluster *c, const char *store, uint32_t job, char *buf, size_t len)
{
    snprintf(buf, len, "%s/ha/%s/%u", c->name, store, job);
}

static void lease_name(struct elector *e, uint32_t term, uint64_t renewal, char *buf, size_t len)
{
    snprintf(buf, len, "%s/ha/leader/t%010u.r%012llu.%s", e->c->name, term,
             (unsigned long long)renewal, rt_node_name(e->me->node));
}

static void submit(struct elector *e, const struct dfs_req *req)
{
    dfs_submit(e->self, e->c->dfs, req);
}

static void list(struct elector *e, const char *store, uint64_t cookie)
{
    char prefix[DFS_PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%s/ha/%s/", e->c->name, store);
    struct dfs_req req = { .op = DFS_OP_LIST, .path = prefix, .phase = DFS_PHASE_HA,
                           .cookie = cookie };
    submit(e, &req);
}

/* One lease request at a time; its sequence number rides in the cookie. */
static void lease_request(struct elector *e, enum dfs_op op, const char *path, const char *path2,
                          unsigned kind)
{
    e->busy = true;
    e->busy_since_ns = el_now(e);
    uint64_t cookie = (++e->seq << 4) | kind;
    if (op == DFS_OP_LIST) {
        list(e, "leader", cookie);
        return;
    }
    struct dfs_req req = { .op = op, .path = path, .path2 = path2, .phase = DFS_PHASE_HA,
                           .cookie = cookie };
    submit(e, &req);
}

static void read_pointer(struct elector *e, uint32_t job)
{
    char path[DFS_PATH_MAX];
    mc__ha_path(e->c, "checkpoints", job, path, sizeof(path));
    struct dfs_req req = { .op = DFS_OP_READ, .path = path, .job = job, .phase = DFS_PHASE_HA,
                           .cookie = ((uint64_t)job << 4) | OP_READ_PTR };
    submit(e, &req);
}

/* ---- the lease ------------------------------------------------------------------ */

static void tick(struct elector *e)
{
    /* A reply lost with a crashed DFS node is given up after the timeout (a
     * late one is then ignored by its sequence number). */
    if (e->busy && el_now(e) - e->busy_since_ns < e->c->cfg.hb_timeout_ns)
        return;
    e->busy = false;
    if (e->leader && !e->lease[0]) {
        lease_name(e, e->term, 0, e->next, sizeof(e->next));
        lease_request(e, DFS_OP_WRITE, e->next, NULL, OP_CREATE);
    } else if (e->leader) {
        lease_name(e, e->term, e->renewal + 1, e->next, sizeof(e->next));
        lease_request(e, DFS_OP_RENAME, e->lease, e->next, OP_RENEW);
    } else {
        lease_request(e, DFS_OP_LIST, NULL, NULL, OP_LIST);
    }
}

static void recover_jobs(struct elector *e);

/* This standby won the claim: it leads from now on. */
static void take_over(struct elector *e)
{
    struct mc_cluster *c = e->c;
    struct rt_node *n = e->me->node;
    e->leader = true;
    e->renewal = 0;
    snprintf(e->lease, sizeof(e->lease), "%s", e->next);
    atomic_store(&c->leader_term, e->term);
    atomic_store(&c->leader_since_ns, el_now(e));
    atomic_store(&c->leader, n);
    atomic_fetch_add(&c->takeovers, 1);
    rt_trace(c->w, n, "jm_leader", "\"cluster\":\"%s\",\"term\":%u", c->name, e->term);
    /* The old resource manager's view died with it: every TaskManager has to
     * register again (tm.c notices the new address). */
    uint32_t ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms; i++) {
        int want = MC_TM_REGISTERED;
        atomic_compare_exchange_strong(&c->tms[i].state, &want, MC_TM_STARTING);
    }
    atomic_store(&c->registered, 0);
    mc__jm_spawn(n, c);
    recover_jobs(e);
    rt_world_notify(c->w);
}

/* A leader whose lease was taken (it was paused, or cut off, for longer
 * than the timeout) must not go on: its JobManager stops at once. */
static void step_down(struct elector *e)
{
    rt_trace(e->c->w, e->me->node, "jm_fenced", "\"cluster\":\"%s\",\"term\":%u", e->c->name,
             e->term);
    rt_node_crash(e->me->node);
}

/* The newest lease file of a LIST payload (names sort by term), or NULL. */
static const char *newest(const void *payload, uint32_t len)
{
    const char *last = NULL;
    for (const char *s = dfs_list_next(payload, len, NULL); s; s = dfs_list_next(payload, len, s))
        last = s;
    return last;
}

/* Parses a lease file name; false when it is not one. */
static bool parse_lease(const char *path, unsigned *term, unsigned long long *renewal,
                        const char **node)
{
    const char *base = strrchr(path, '/');
    int end = 0;
    if (!base || sscanf(base + 1, "t%u.r%llu.%n", term, renewal, &end) != 2 || !end)
        return false;
    *node = base + 1 + end;
    return true;
}

static void on_lease(struct elector *e, const struct dfs_done *d, const void *payload)
{
    if (d->cookie >> 4 != e->seq)
        return;     /* the answer to a request given up on */
    e->busy = false;
    unsigned term;
    unsigned long long renewal;
    const char *node;
    switch (d->cookie & 0xf) {
    case OP_CREATE:
        if (d->status == 0)
            snprintf(e->lease, sizeof(e->lease), "%s", e->next);
        break;
    case OP_RENEW:
        if (d->status == 0) {
            snprintf(e->lease, sizeof(e->lease), "%s", e->next);
            e->renewal++;
        } else if (d->status == -ENOENT) {
            /* Taken - or renamed by a renewal of ours whose answer we gave
             * up on: the folder says which. */
            lease_request(e, DFS_OP_LIST, NULL, NULL, OP_VERIFY);
        }
        break;
    case OP_VERIFY: {
        const char *cur = d->status == 0 ? newest(payload, d->payload_len) : NULL;
        if (!cur)
            break;      /* cannot tell now: the next renewal asks again */
        if (parse_lease(cur, &term, &renewal, &node) && term == e->term &&
            strcmp(node, rt_node_name(e->me->node)) == 0) {
            snprintf(e->lease, sizeof(e->lease), "%s", cur);
            e->renewal = renewal;
        } else {
            step_down(e);
        }
        break;
    }
    case OP_LIST: {
        const char *cur = d->status == 0 ? newest(payload, d->payload_len) : NULL;
        if (!cur)
            break;      /* no lease yet (or the DFS failed): nothing to judge */
        if (strcmp(cur, e->lease) != 0) {
            snprintf(e->lease, sizeof(e->lease), "%s", cur);
            e->seen_ns = el_now(e);
            break;
        }
        if (el_now(e) - e->seen_ns < e->c->cfg.hb_timeout_ns ||
            !parse_lease(cur, &term, &renewal, &node))
            break;
        e->term = term + 1;
        lease_name(e, e->term, 0, e->next, sizeof(e->next));
        rt_trace(e->c->w, e->me->node, "jm_claim", "\"cluster\":\"%s\",\"term\":%u", e->c->name,
                 e->term);
        lease_request(e, DFS_OP_RENAME, e->lease, e->next, OP_CLAIM);
        break;
    }
    case OP_CLAIM:
        if (d->status == 0)
            take_over(e);
        else
            e->lease[0] = 0;    /* someone else was quicker, or the leader lives: look again */
        break;
    }
}

/* ---- recovery ------------------------------------------------------------------ */

static void recover_jobs(struct elector *e)
{
    list(e, "jobs", OP_LIST_JOBS);
}

static uint32_t job_of_name(const char *name)
{
    const char *base = strrchr(name, '/');
    char *end;
    unsigned long id = strtoul(base ? base + 1 : name, &end, 10);
    return *end || id > UINT32_MAX ? 0 : (uint32_t)id;
}

static struct mc_job *registered_job(struct mc_cluster *c, uint32_t id)
{
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&c->jobs[i]);
        if (j && j->ej->id == id)
            return j;
    }
    return NULL;
}

static void retry_later(struct elector *e, uint64_t cookie)
{
    rt_timer_start(e->self, e->c->cfg.hb_interval_ns, cookie);
}

static void on_recovery(struct elector *e, const struct dfs_done *d, const void *payload)
{
    struct mc_cluster *c = e->c;
    unsigned kind = (unsigned)(d->cookie & 0xf);
    if (d->status < 0 && !(kind == OP_READ_PTR && d->status == -ENOENT)) {
        retry_later(e, d->cookie);
        return;
    }
    switch (kind) {
    case OP_LIST_JOBS:
        rt_free(e->jobs);
        e->jobs = rt_xcalloc(d->count ? d->count : 1, sizeof(*e->jobs));
        e->njobs = 0;
        for (const char *s = dfs_list_next(payload, d->payload_len, NULL); s;
             s = dfs_list_next(payload, d->payload_len, s))
            if (job_of_name(s))
                e->jobs[e->njobs++] = job_of_name(s);
        list(e, "results", OP_LIST_RESULTS);
        break;
    case OP_LIST_RESULTS:
        /* A job with a result ended before: it is never run again. */
        for (uint32_t i = 0; i < e->njobs; i++) {
            bool ended = false;
            for (const char *s = dfs_list_next(payload, d->payload_len, NULL); s && !ended;
                 s = dfs_list_next(payload, d->payload_len, s))
                ended = job_of_name(s) == e->jobs[i];
            if (ended)
                rt_trace(c->w, e->me->node, "job_not_recovered",
                         "\"cluster\":\"%s\",\"job\":%u,\"reason\":\"has a result\"", c->name,
                         e->jobs[i]);
            else
                read_pointer(e, e->jobs[i]);
        }
        break;
    case OP_READ_PTR: {
        uint32_t id = (uint32_t)(d->cookie >> 4);
        uint64_t chk = 0;
        if (d->status == 0) {
            char num[32];
            size_t n = d->bytes < sizeof(num) - 1 ? (size_t)d->bytes : sizeof(num) - 1;
            memcpy(num, payload, n);
            num[n] = 0;
            chk = strtoull(num, NULL, 10);
        }
        struct mc_job *job = registered_job(c, id);
        if (!job) {
            rt_trace(c->w, e->me->node, "job_not_recovered",
                     "\"cluster\":\"%s\",\"job\":%u,\"reason\":\"unknown job\"", c->name, id);
            break;
        }
        atomic_fetch_add(&c->jobs_recovered, 1);
        mc__jm_recover(e->me->node, job, chk);
        break;
    }
    }
}

/* ---- the actor ------------------------------------------------------------------ */

static void el_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct elector *e = rt_actor_state(a);
    if (m->type == RT_MSG_TIMER) {
        const struct rt_timer_fire *f = m->data;
        if (f->tag == 0) {
            tick(e);
            rt_timer_start(a, e->c->cfg.hb_interval_ns, 0);
        } else if ((f->tag & 0xf) == OP_READ_PTR) {
            read_pointer(e, (uint32_t)(f->tag >> 4));
        } else {
            list(e, (f->tag & 0xf) == OP_LIST_JOBS ? "jobs" : "results", f->tag);
        }
        return;
    }
    struct dfs_done d;
    const void *payload;
    if (m->type != DFS_MSG_DONE || dfs_done_parse(m, &d, &payload) < 0)
        return;
    if ((d.cookie & 0xf) >= OP_LIST_JOBS)
        on_recovery(e, &d, payload);
    else
        on_lease(e, &d, payload);
}

static const struct rt_actor_ops el_ops = { "elector", el_msg, NULL };

void mc__ha_spawn(struct rt_node *n, void *arg)
{
    struct mc_jm *jm = arg;
    struct elector *e = rt_xcalloc(1, sizeof(*e));
    e->c = jm->cluster;
    e->me = jm;
    e->self = rt_actor_spawn(n, &el_ops, e);
    /* The first JobManager leads from the start (its resource manager is up
     * already) and publishes the lease; the others watch it. */
    e->leader = mc_cluster_leader(e->c) == n;
    e->term = e->leader ? 1 : 0;
    tick(e);
    rt_timer_start(e->self, e->c->cfg.hb_interval_ns, 0);
}
