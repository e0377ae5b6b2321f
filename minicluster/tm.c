/*
 * tm.c - the task executor, the one actor a TaskManager node starts with.
 *
 * It registers with the resource manager (retrying until acknowledged, as a
 * TaskManager does while the JobManager is not up yet), answers heartbeats,
 * and turns deployments into task actors on its node.  The node's memory
 * limit (the TaskManager's memory) is enforced by the runtime: a task that
 * allocates past it takes the whole TaskManager down, every task of every job
 * on it, as an OOM kill would.  On a graceful stop it tells the resource
 * manager it is leaving, so that it is released at once.
 *
 * JobManager changes.  Once registered it watches, every heartbeat interval,
 * the resource manager it serves: when the cluster names another one (a new
 * leader took over) or no heartbeat came for heartbeat.timeout, it registers
 * again, with whichever resource manager the cluster names then.
 *
 * Fencing the tasks of a dead JobManager.  It remembers which job runner
 * deployed each of its tasks.  A task whose runner is gone (its JobManager
 * node died) or runs on a JobManager that no longer leads is canceled at the
 * next watch and before any deployment; a deployment of a job by another
 * runner cancels the job's older tasks here first.  That is Flink's
 * behaviour (a TaskExecutor that loses its JobMaster fails that job's
 * tasks), and it is what keeps a recovered sink's transactions its own: the
 * old tasks stop long before a new leader deploys (it takes over only after
 * the lease timeout, and the watch runs every heartbeat interval).
 *
 * The BlobCache.  A job submitted with artifacts (mc_job.artifact_bytes)
 * runs here only once they are here: the first deployment of the job starts
 * a download from the leader's blob server (cluster/blob.h), one chunk at a
 * time, and it and the job's later deployments wait for it; then they spawn
 * in the order they came.  The bytes are hashed as they arrive and checked
 * against the blob's key, then dropped: the TaskManager's local disk is not
 * modelled, what it keeps is only that the job's artifacts are here.  That
 * holds until the job ends (the next fence forgets it) or the TaskManager
 * restarts (a new task executor starts empty).  A deployment that waited is
 * spawned only if its attempt is still the job's current one (same runner,
 * no restart since, the job not failing); one superseded is dropped, as its
 * runner could not cancel a task it never heard of.  A download that fails -
 * the server has no such blob, a chunk fails or goes unanswered
 * BLOB_FETCH_RETRIES times, the bytes do not match the key - fails each
 * deployment waiting for it with the reason, reported to its runner as the
 * task's failure, and the job restarts by its strategy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY     /* XXH64_state_t inside struct te_blob */
#include <xxhash.h>

#include "minicluster/blob.h"
#include "minicluster/cluster_internal.h"
#include "runtime/dfs.h"

#define REGISTER_RETRY_NS (10 * RT_NS_PER_MS)   /* until the resource manager answers */
#define BLOB_FETCH_RETRIES 5    /* blob.fetch.retries: tries of a chunk before giving up */

enum { TAG_WATCH, TAG_BLOB };   /* timers: registration or watch; a chunk's timeout */

struct te_task {
    struct eng_job *job;
    uint32_t attempt;
    rt_addr runner, task;
};

/* The BlobCache's entry for one job. */
struct te_blob {
    struct eng_job *job;
    bool ready;                 /* downloaded and checked */
    uint64_t got, size, hash;   /* bytes so far; the blob's size and XXH64 */
    uint32_t tries;             /* failed tries of the chunk at `got` */
    int last_error;             /* of the last failed try (0: no answer) */
    uint64_t timer;             /* the chunk's timeout */
    XXH64_state_t st;
    struct eng_deploy *wait;    /* deployments waiting for it, in order */
    uint32_t nwait, cap_wait;
};

struct te {
    struct rt_actor *self;
    struct mc_cluster *c;
    uint32_t tm;
    bool registered;
    rt_addr rm;                 /* registered with (or asking) */
    uint64_t last_hb_ns;        /* last heartbeat from rm */
    struct te_task *tasks;      /* deployed here and maybe still running */
    uint32_t ntasks, cap;
    struct te_blob *blobs;      /* the BlobCache, one entry per job */
    uint32_t nblobs, cap_blobs;
};

static uint64_t te_now(struct te *t) { return rt_now(t->c->w); }

/* ---- the BlobCache ------------------------------------------------------------- */

static uint32_t leader_id(struct te *t)
{
    struct rt_node *leader = mc_cluster_leader(t->c);
    return t->c->cfg.ha && leader ? rt_node_id(leader) : 0;
}

/* A waiting deployment whose attempt is over: its runner is gone or no
 * longer leads, its job ended or is failing, or a later deployment of the
 * same task came (a newer attempt, or another runner). */
static bool superseded(struct te *t, const struct eng_deploy *w, const struct eng_deploy *newer)
{
    uint32_t lead = leader_id(t);
    enum eng_job_state st = eng_job_state(w->job);
    return !rt_addr_alive(t->c->w, w->runner) || (lead && RT_ADDR_NODE(w->runner) != lead) ||
           eng_job_ended(w->job) || st == ENG_JOB_FAILING || st == ENG_JOB_RESTARTING ||
           (newer && newer->job == w->job && newer->task == w->task &&
            (newer->runner != w->runner || newer->attempt > w->attempt));
}

static struct te_blob *cache_find(struct te *t, uint32_t job)
{
    for (uint32_t i = 0; i < t->nblobs; i++)
        if (t->blobs[i].job->id == job)
            return &t->blobs[i];
    return NULL;
}

static void cache_drop(struct te *t, struct te_blob *b)
{
    if (!b->ready)
        rt_timer_cancel(t->self, b->timer);
    rt_free(b->wait);
    *b = t->blobs[--t->nblobs];
}

/* Forgets the waiting deployments that d (NULL: none) or time superseded. */
static void prune(struct te *t, struct te_blob *b, const struct eng_deploy *d)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < b->nwait; i++)
        if (!superseded(t, &b->wait[i], d))
            b->wait[k++] = b->wait[i];
    b->nwait = k;
}

/* The fence's share: forgets the artifacts of jobs that ended, and the
 * deployments whose attempt is over. */
static void cache_fence(struct te *t)
{
    for (uint32_t i = 0; i < t->nblobs;) {
        if (eng_job_ended(t->blobs[i].job)) {
            cache_drop(t, &t->blobs[i]);
        } else {
            prune(t, &t->blobs[i], NULL);
            i++;
        }
    }
}

/* Cancels the tasks whose runner is gone or no longer leads, and those of
 * `job` deployed by another runner than `runner` (job NULL: none); forgets
 * them, the tasks of jobs that ended, and those of job's attempts before
 * `attempt` (their runner cancels them itself). */
static void fence(struct te *t, const struct eng_job *job, rt_addr runner, uint32_t attempt)
{
    uint32_t lead = leader_id(t);
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->ntasks; i++) {
        struct te_task *e = &t->tasks[i];
        bool stale = !rt_addr_alive(t->c->w, e->runner) ||
                     (lead && RT_ADDR_NODE(e->runner) != lead) ||
                     (e->job == job && e->runner != runner);
        if (stale) {
            rt_trace(t->c->w, rt_actor_node(t->self), "task_fenced",
                     "\"job\":%u,\"attempt\":%u", e->job->id, e->attempt);
            rt_send(t->self, e->task, ENG_MSG_CANCEL, &e->attempt, sizeof(e->attempt));
        } else if (!eng_job_ended(e->job) &&
                   !(e->job == job && e->runner == runner && e->attempt < attempt)) {
            t->tasks[k++] = *e;
        }
    }
    t->ntasks = k;
    cache_fence(t);
}

static void send_register(struct te *t)
{
    rt_addr rm = atomic_load(&t->c->rm);
    struct mc_reg r = { t->tm, t->c->cfg.slots };
    t->rm = rm;
    if (rm)
        rt_send(t->self, rm, MC_MSG_TM_REGISTER, &r, sizeof(r));
}

/* Registers with the resource manager the cluster names; the retry timer
 * covers a lost answer.  A TaskManager that starts before the resource
 * manager exists does not wait for the retry: the resource manager tells it
 * when it comes up (MC_MSG_RM_UP), as Flink's leader retrieval does. */
static void try_register(struct te *t)
{
    send_register(t);
    rt_timer_start(t->self, REGISTER_RETRY_NS, TAG_WATCH);
}

/* Registered: is the resource manager still the one the cluster names, and
 * alive by its heartbeats? */
static void watch(struct te *t)
{
    fence(t, NULL, 0, 0);
    rt_addr rm = atomic_load(&t->c->rm);
    if (rm != t->rm || te_now(t) - t->last_hb_ns >= t->c->cfg.hb_timeout_ns) {
        rt_trace(t->c->w, rt_actor_node(t->self), "tm_reregister",
                 "\"cluster\":\"%s\",\"tm\":%u,\"reason\":\"%s\"", t->c->name, t->tm,
                 rm != t->rm ? "new resource manager" : "heartbeat timeout");
        t->registered = false;
        try_register(t);
        return;
    }
    rt_timer_start(t->self, t->c->cfg.hb_interval_ns, TAG_WATCH);
}

static void track(struct te *t, const struct eng_deploy *d, struct rt_actor *task)
{
    if (t->ntasks == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->tasks = rt_xrealloc(t->tasks, t->cap * sizeof(*t->tasks));
    }
    t->tasks[t->ntasks++] = (struct te_task){ d->job, d->attempt, d->runner, rt_actor_addr(task) };
}

static void spawn(struct te *t, const struct eng_deploy *d)
{
    struct rt_actor *task = eng_task_spawn(rt_actor_node(t->self), d);
    if (task)       /* NULL: it could not start, and has told its runner why */
        track(t, d, task);
}

/* ---- downloads ------------------------------------------------------------------- */

/* Asks the leader's blob server for the chunk at b->got; its answer or the
 * timeout comes back. */
static void fetch(struct te *t, struct te_blob *b)
{
    struct mc_blob_get g = { .job = b->job->id, .kind = MC_BLOB_ARTIFACTS, .offset = b->got };
    rt_addr server = atomic_load(&t->c->blob);
    int rc = server ? rt_send(t->self, server, MC_MSG_BLOB_GET, &g, sizeof(g)) : -EHOSTDOWN;
    if (rc < 0)
        b->last_error = rc;
    b->timer = rt_timer_start(t->self, t->c->cfg.hb_timeout_ns, TAG_BLOB);
}

/* The download failed: every deployment still waiting for it fails with
 * the reason, as its task would have; the entry goes, so that the job's
 * next deployment here tries again. */
static void cache_fail(struct te *t, struct te_blob *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cache_fail(struct te *t, struct te_blob *b, const char *fmt, ...)
{
    struct eng_task_status st = { .state = ENG_TASK_FAILED };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.reason, sizeof(st.reason), fmt, ap);
    va_end(ap);
    rt_trace(t->c->w, rt_actor_node(t->self), "blob_fetch_failed", "\"job\":%u,\"reason\":\"%s\"",
             b->job->id, st.reason);
    prune(t, b, NULL);
    for (uint32_t i = 0; i < b->nwait; i++) {
        st.task = b->wait[i].task;
        st.attempt = b->wait[i].attempt;
        st.restore_checkpoint = b->wait[i].restore_checkpoint;
        rt_send(t->self, b->wait[i].runner, ENG_MSG_TASK_STATUS, &st, sizeof(st));
    }
    cache_drop(t, b);
}

/* A chunk failed (error < 0) or went unanswered (0): ask again, or give up. */
static void retry(struct te *t, struct te_blob *b, int error)
{
    if (error)
        b->last_error = error;
    if (++b->tries <= BLOB_FETCH_RETRIES) {
        fetch(t, b);
        return;
    }
    cache_fail(t, b, "cannot deploy: downloading the artifacts of job %u from the blob server "
               "of %s failed %u times (%s)", b->job->id, t->c->name, b->tries,
               b->last_error ? strerror(-b->last_error) : "no answer");
}

/* Downloaded and checked: the deployments that waited and are still
 * current spawn, in the order they came. */
static void cache_ready(struct te *t, struct te_blob *b)
{
    b->ready = true;
    rt_trace(t->c->w, rt_actor_node(t->self), "blob_cached", "\"job\":%u,\"bytes\":%" PRIu64,
             b->job->id, b->size);
    prune(t, b, NULL);
    struct eng_deploy *wait = b->wait;
    uint32_t n = b->nwait;
    b->wait = NULL;
    b->nwait = b->cap_wait = 0;
    for (uint32_t i = 0; i < n; i++)
        spawn(t, &wait[i]);
    rt_free(wait);
}

/* All of b is here and hashes to hash: ready, or corrupt. */
static void check(struct te *t, struct te_blob *b, uint32_t job, uint64_t hash)
{
    if (hash != b->hash)
        cache_fail(t, b, "cannot deploy: the artifacts of job %u from the blob server of %s are "
                   "corrupt (XXH64 %016" PRIx64 ", expected %016" PRIx64 ")", job, t->c->name,
                   hash, b->hash);
    else
        cache_ready(t, b);
}

static void on_data(struct te *t, const struct rt_msg *m)
{
    const struct mc_blob_data *h = m->data;
    if (m->len < sizeof(*h) || (h->logical ? 0 : h->len) != m->len - sizeof(*h) ||
        h->logical > 1 || h->kind != MC_BLOB_ARTIFACTS)
        return;
    struct te_blob *b = cache_find(t, h->job);
    if (!b || b->ready || h->offset != b->got)
        return;     /* a duplicate, or the second answer to a chunk asked for twice */
    rt_timer_cancel(t->self, b->timer);
    if (h->status == -ENOENT) {
        cache_fail(t, b, "cannot deploy: the blob server of %s has no artifacts of job %u "
                   "(unknown job, or lost with its JobManager)", t->c->name, h->job);
        return;
    }
    if (h->status < 0 || (h->len == 0 && h->offset < h->size)) {
        retry(t, b, h->status < 0 ? h->status : -EIO);
        return;
    }
    /* The blob's size and hash come with its first chunk; the others must agree. */
    if (b->got == 0) {
        b->size = h->size;
        b->hash = h->hash;
        XXH64_reset(&b->st, 0);
    } else if (h->size != b->size || h->hash != b->hash) {
        cache_fail(t, b, "cannot deploy: the artifacts of job %u changed in the blob server of "
                   "%s during the download", h->job, t->c->name);
        return;
    }
    if (h->logical) {
        /* A descriptor (blob.h, "Logical blobs"): its payload sum is checked
         * as bytes would be hashed. */
        uint64_t want = dfs_payload_sum(mc_blob_seed(h->job, MC_BLOB_ARTIFACTS), h->offset,
                                        h->len);
        if (h->sum != want) {
            cache_fail(t, b, "cannot deploy: the artifacts of job %u from the blob server of %s "
                       "are corrupt (a chunk at %" PRIu64 " sums to %016" PRIx64 ", expected %016"
                       PRIx64 ")", h->job, t->c->name, h->offset, h->sum, want);
            return;
        }
    } else if (b->got == 0 && h->len == h->size) {
        /* The whole blob in one chunk: hashed at once, and only once for
         * every TaskManager when the server shares the chunk. */
        b->got = h->len;
        b->tries = 0;
        check(t, b, h->job, rt_msg_xxh64(t->self, m, (uint32_t)sizeof(*h), h->len));
        return;
    } else {
        XXH64_update(&b->st, h + 1, h->len);
    }
    b->got += h->len;
    b->tries = 0;
    if (b->got < b->size) {
        fetch(t, b);
        return;
    }
    check(t, b, h->job, h->logical ? mc_blob_logical_hash(h->job, MC_BLOB_ARTIFACTS, b->size)
                                   : XXH64_digest(&b->st));
}

static void on_blob_timeout(struct te *t, uint64_t timer_id)
{
    for (uint32_t i = 0; i < t->nblobs; i++)
        if (!t->blobs[i].ready && t->blobs[i].timer == timer_id) {
            retry(t, &t->blobs[i], 0);
            return;
        }
}

/* A deployment: at once, or once the job's artifacts are here. */
static void deploy(struct te *t, const struct eng_deploy *d)
{
    fence(t, d->job, d->runner, d->attempt);
    struct mc_job *j = mc__cluster_job(t->c, d->job->id);
    struct te_blob *b = cache_find(t, d->job->id);
    if (!j || !j->artifact_bytes || (b && b->ready)) {
        spawn(t, d);
        return;
    }
    if (!b) {
        if (t->nblobs == t->cap_blobs) {
            t->cap_blobs = t->cap_blobs ? 2 * t->cap_blobs : 4;
            t->blobs = rt_xrealloc(t->blobs, t->cap_blobs * sizeof(*t->blobs));
        }
        b = &t->blobs[t->nblobs++];
        memset(b, 0, sizeof(*b));
        b->job = d->job;
        rt_trace(t->c->w, rt_actor_node(t->self), "blob_fetch", "\"job\":%u,\"bytes\":%" PRIu64,
                 d->job->id, j->artifact_bytes);
        fetch(t, b);
    }
    prune(t, b, d);
    if (b->nwait == b->cap_wait) {
        b->cap_wait = b->cap_wait ? 2 * b->cap_wait : 4;
        b->wait = rt_xrealloc(b->wait, b->cap_wait * sizeof(*b->wait));
    }
    b->wait[b->nwait++] = *d;
}

static void te_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct te *t = rt_actor_state(a);
    switch (m->type) {
    case RT_MSG_TIMER: {
        const struct rt_timer_fire *f = m->data;
        if (f->tag == TAG_BLOB)
            on_blob_timeout(t, f->timer_id);
        else if (t->registered)
            watch(t);
        else
            try_register(t);
        break;
    }
    case MC_MSG_TM_REGISTERED:
        if (t->registered || m->src != t->rm)
            break;      /* a late answer, or from a resource manager we left */
        t->registered = true;
        t->last_hb_ns = te_now(t);
        fence(t, NULL, 0, 0);
        /* The retry timer still runs: it turns into the watch. */
        break;
    case MC_MSG_RM_UP:
        /* Not yet registered and not yet asking this one: ask now (the
         * retry timer already runs). */
        if (!t->registered && t->rm != m->src && atomic_load(&t->c->rm) == m->src)
            send_register(t);
        break;
    case MC_MSG_HB_REQ: {
        struct mc_hb hb = { t->tm, 0 };
        if (m->len == sizeof(uint64_t))
            hb.seq = *(const uint64_t *)m->data;
        if (m->src == t->rm)
            t->last_hb_ns = te_now(t);
        rt_send(a, m->src, MC_MSG_HB_REPLY, &hb, sizeof(hb));
        break;
    }
    case ENG_MSG_DEPLOY:
        if (m->len == sizeof(struct eng_deploy))
            deploy(t, m->data);
        break;
    case MC_MSG_BLOB_DATA:
        on_data(t, m);
        break;
    }
}

static void te_stop(struct rt_actor *a)
{
    struct te *t = rt_actor_state(a);
    rt_addr rm = t->rm ? t->rm : atomic_load(&t->c->rm);
    if (rm)
        rt_send(a, rm, MC_MSG_TM_LEAVING, &t->tm, sizeof(t->tm));
}

static const struct rt_actor_ops te_ops = { "taskexecutor", te_msg, te_stop };

void mc__te_spawn(struct rt_node *n, void *arg)
{
    struct mc_tm *tm = arg;
    struct te *t = rt_xcalloc(1, sizeof(*t));
    t->c = tm->cluster;
    t->tm = tm->index;
    t->self = rt_actor_spawn(n, &te_ops, t);
    atomic_store(&tm->te, rt_actor_addr(t->self));
    /* A container asked for with the cluster: it registers once launched. */
    uint64_t delay = tm->start_delay_ns;
    tm->start_delay_ns = 0;
    if (delay)
        rt_timer_start(t->self, delay, TAG_WATCH);
    else
        try_register(t);
}
