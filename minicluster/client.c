/*
 * client.c - the client's pre-submission work, its blob uploads, the probe
 * and the driver agent (see client.h).  Each is a small actor driven by
 * completions (of the DFS or of the blob server); nothing here blocks a
 * handler except main()'s CPU in the real world, which is the cost being
 * measured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "minicluster/blob.h"
#include "minicluster/client.h"
#include "minicluster/cluster.h"
#include "runtime/dfs.h"

#define WRITE_CHUNK (8u << 20)      /* bytes per driver write: one message each */

/* ---- application work ------------------------------------------------------- */

struct app_actor {
    struct rt_actor *self;
    struct dfs *d;
    struct mc_app_work *w;
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * RT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void app_finish(struct app_actor *a, int rc)
{
    atomic_store(&a->w->finished_ns, rt_now(rt_actor_world(a->self)));
    atomic_store(&a->w->done, rc < 0 ? rc : 1);
    rt_world_notify(rt_actor_world(a->self));
    struct rt_actor *self = a->self;
    rt_free(a);
    rt_actor_exit(self);
}

static void app_main(struct app_actor *a)
{
    struct mc_app_work *w = a->w;
    if (!w->main_cpu_ns) {
        app_finish(a, 0);
        return;
    }
    if (rt_world_kind(rt_actor_world(a->self)) == RT_WORLD_SIM) {
        /* No real CPU in a simulation: main() takes its cost in virtual time. */
        atomic_fetch_add(&w->cpu_ns, w->main_cpu_ns);
        rt_timer_start(a->self, w->main_cpu_ns, 0);
        return;
    }
    uint64_t c0 = thread_cpu_ns();
    volatile uint64_t x = 0;
    while (thread_cpu_ns() - c0 < w->main_cpu_ns)
        for (int i = 0; i < 1000; i++)
            x += (uint64_t)i * 2654435761u;
    atomic_fetch_add(&w->cpu_ns, thread_cpu_ns() - c0);
    app_finish(a, 0);
}

static void app_msg(struct rt_actor *self, const struct rt_msg *m)
{
    struct app_actor *a = rt_actor_state(self);
    if (m->type == RT_MSG_TIMER) {      /* sim main() done */
        app_finish(a, 0);
        return;
    }
    struct dfs_done d;
    const void *payload;
    if (m->type != DFS_MSG_DONE || dfs_done_parse(m, &d, &payload) < 0)
        return;
    if (d.status < 0) {
        app_finish(a, d.status);
        return;
    }
    atomic_fetch_add(&a->w->bytes_down, d.bytes + d.logical);   /* a staged jar: logical */
    app_main(a);
}

static const struct rt_actor_ops app_ops = { "appmain", app_msg, NULL };

/* The call's argument is the caller's work itself: nothing to free if the
 * node dies before running it. */
static void app_spawn(struct rt_node *n, void *arg)
{
    struct mc_app_work *w = arg;
    struct app_actor *a = rt_xcalloc(1, sizeof(*a));
    a->d = w->dfs;
    a->w = w;
    a->self = rt_actor_spawn(n, &app_ops, a);
    atomic_store(&a->w->started_ns, rt_now(rt_node_world(n)));
    if (a->w->artifact[0]) {
        struct dfs_req req = { .op = DFS_OP_READ, .path = a->w->artifact, .job = a->w->job,
                               .phase = DFS_PHASE_ARTIFACT };
        dfs_submit(a->self, a->d, &req);
    } else {
        app_main(a);
    }
}

int mc_app_work_start(struct rt_node *n, struct dfs *d, struct mc_app_work *w)
{
    w->dfs = d;
    return rt_node_call(n, app_spawn, w);
}

/* ---- blob upload ----------------------------------------------------------------- */

/* One chunk in flight: the next goes once the blob server acknowledges it.
 * A chunk that cannot leave (the blob server is not up yet, or its
 * JobManager is down and a standby may take over) is tried again after
 * UPLOAD_RETRY_NS; one whose ack does not come within UPLOAD_ACK_NS (lost
 * to the network) is sent again - the server answers a resend without
 * storing it twice.  Without progress for UPLOAD_PATIENCE_NS the upload
 * fails, as a Flink client's REST retries run out; at once when the
 * JobManager is down and there is no HA, as a submission to it would. */
#define UPLOAD_RETRY_NS (10 * RT_NS_PER_MS)
#define UPLOAD_ACK_NS (10 * RT_NS_PER_SEC)
#define UPLOAD_PATIENCE_NS (60 * RT_NS_PER_SEC)

struct upload_actor {
    struct rt_actor *self;
    struct mc_upload *u;
    enum mc_blob_kind kind;     /* the blob being uploaded */
    uint64_t offset;            /* of the chunk in flight */
    uint64_t timer;             /* its retry or ack timeout */
    uint64_t progress_ns;       /* last ack (or the start) */
    int last_rc;                /* of the last send */
};

static uint64_t blob_size(const struct mc_upload *u, enum mc_blob_kind kind)
{
    return kind == MC_BLOB_JOB_GRAPH ? u->graph_bytes : u->artifact_bytes;
}

static uint32_t chunk_len(const struct upload_actor *a)
{
    uint64_t n = blob_size(a->u, a->kind) - a->offset;
    return n > MC_BLOB_CHUNK ? MC_BLOB_CHUNK : (uint32_t)n;
}

static void upload_finish(struct upload_actor *a, int rc)
{
    atomic_store(&a->u->done, rc < 0 ? rc : 1);
    rt_world_notify(rt_actor_world(a->self));
    struct rt_actor *self = a->self;
    rt_free(a);
    rt_actor_exit(self);
}

/* The chunk at a->offset, built in the message itself. */
static void upload_send(struct upload_actor *a)
{
    struct mc_upload *u = a->u;
    if (!u->cluster->cfg.ha && rt_node_is_down(mc_cluster_leader(u->cluster))) {
        upload_finish(a, -EHOSTDOWN);
        return;
    }
    rt_addr server = atomic_load(&u->cluster->blob);
    a->last_rc = -EHOSTDOWN;
    if (server) {
        uint32_t len = chunk_len(a);
        uint32_t carried = u->logical ? 0 : len;     /* a descriptor carries no bytes */
        struct mc_blob_put h = { .job = u->job, .kind = a->kind, .size = blob_size(u, a->kind),
                                 .offset = a->offset, .len = len, .logical = u->logical };
        unsigned char *msg = rt_msg_buf_new((uint32_t)sizeof(h) + carried);
        memcpy(msg, &h, sizeof(h));
        mc_blob_fill(msg + sizeof(h), u->job, a->kind, a->offset, carried);
        a->last_rc = rt_send_buf(a->self, server, MC_MSG_BLOB_PUT, msg,
                                 (uint32_t)sizeof(h) + carried);
    }
    a->timer = rt_timer_start(a->self, a->last_rc < 0 ? UPLOAD_RETRY_NS : UPLOAD_ACK_NS, 0);
}

/* Uploads the next non-empty blob from a->kind on, or finishes. */
static void upload_next(struct upload_actor *a)
{
    while (a->kind < MC_BLOB_KINDS && a->offset == blob_size(a->u, a->kind)) {
        a->kind++;
        a->offset = 0;
    }
    if (a->kind == MC_BLOB_KINDS)
        upload_finish(a, 0);
    else
        upload_send(a);
}

static void upload_acked(struct upload_actor *a, const struct mc_blob_ack *k)
{
    if (k->job != a->u->job || k->kind != a->kind || k->offset != a->offset)
        return;     /* a duplicate, or the answer to a resend of an earlier chunk */
    rt_timer_cancel(a->self, a->timer);
    if (k->status < 0) {
        upload_finish(a, k->status);
        return;
    }
    uint32_t len = chunk_len(a);
    atomic_fetch_add(&a->u->bytes_stored, len);
    if (a->u->work)
        atomic_fetch_add(&a->u->work->bytes_up, len);
    a->offset += len;
    a->progress_ns = rt_now(rt_actor_world(a->self));
    upload_next(a);
}

static void upload_msg(struct rt_actor *self, const struct rt_msg *m)
{
    struct upload_actor *a = rt_actor_state(self);
    if (m->type == MC_MSG_BLOB_ACK && m->len == sizeof(struct mc_blob_ack)) {
        upload_acked(a, m->data);
    } else if (m->type == RT_MSG_TIMER &&
               ((const struct rt_timer_fire *)m->data)->timer_id == a->timer) {
        if (rt_now(rt_actor_world(self)) - a->progress_ns >= UPLOAD_PATIENCE_NS)
            upload_finish(a, a->last_rc < 0 ? a->last_rc : -ETIMEDOUT);
        else
            upload_send(a);
    }
}

static const struct rt_actor_ops upload_ops = { "blobupload", upload_msg, NULL };

static void upload_spawn(struct rt_node *n, void *arg)
{
    struct upload_actor *a = rt_xcalloc(1, sizeof(*a));
    a->u = arg;
    a->self = rt_actor_spawn(n, &upload_ops, a);
    a->progress_ns = rt_now(rt_node_world(n));
    upload_next(a);
}

int mc_upload_start(struct rt_node *n, struct mc_upload *u)
{
    atomic_store(&u->done, 0);
    atomic_store(&u->bytes_stored, 0);
    return rt_node_call(n, upload_spawn, u);
}

/* ---- probe -------------------------------------------------------------------- */

struct probe_actor {
    struct rt_actor *self;
    struct dfs *d;
    struct mc_probe *p;
    bool in_flight;
    uint64_t sent_ns;
};

static void probe_tick(struct probe_actor *pa)
{
    if (atomic_load(&pa->p->stop))
        return;
    if (!pa->in_flight) {
        struct dfs_req req = { .op = DFS_OP_READ, .path = pa->p->path, .length = pa->p->read_bytes,
                               .phase = DFS_PHASE_PROBE };
        pa->sent_ns = rt_now(rt_actor_world(pa->self));
        pa->in_flight = true;
        dfs_submit(pa->self, pa->d, &req);
    }
    rt_timer_start(pa->self, pa->p->every_ns, 0);
}

static void probe_msg(struct rt_actor *self, const struct rt_msg *m)
{
    struct probe_actor *pa = rt_actor_state(self);
    if (m->type == RT_MSG_TIMER) {
        probe_tick(pa);
        return;
    }
    if (m->type != DFS_MSG_DONE)
        return;
    pa->in_flight = false;
    struct mc_probe *p = pa->p;
    unsigned k = atomic_load(&p->n);
    if (k < p->cap) {
        p->t_ns[k] = pa->sent_ns;
        p->lat_ns[k] = rt_now(rt_actor_world(self)) - pa->sent_ns;
        atomic_store_explicit(&p->n, k + 1, memory_order_release);
    }
}

static const struct rt_actor_ops probe_ops = { "probe", probe_msg, NULL };

static void probe_spawn(struct rt_node *n, void *arg)
{
    struct mc_probe *p = arg;
    struct probe_actor *pa = rt_xcalloc(1, sizeof(*pa));
    pa->d = p->dfs;
    pa->p = p;
    pa->self = rt_actor_spawn(n, &probe_ops, pa);
    probe_tick(pa);
}

int mc_probe_start(struct rt_node *n, struct dfs *d, struct mc_probe *p)
{
    p->dfs = d;
    return rt_node_call(n, probe_spawn, p);
}

/* ---- driver agent --------------------------------------------------------------- */

struct mc_driver {
    struct rt_node *n;
    struct dfs *d;
    _Atomic(struct rt_actor *) agent;
    atomic_int done;            /* 0 pending, 1 ok, -errno */
    /* the request being carried out, set by the caller before the call */
    struct dfs_req req;
    struct dfs_write *w;        /* a WRITE built in place; sent instead of req */
    char path[200];
    void *buf;
};

static void agent_msg(struct rt_actor *self, const struct rt_msg *m)
{
    struct mc_driver *dr = rt_actor_state(self);
    struct dfs_done d;
    const void *payload;
    if (m->type == DFS_MSG_DONE && dfs_done_parse(m, &d, &payload) == 0) {
        atomic_store(&dr->done, d.status < 0 ? d.status : 1);
        rt_world_notify(rt_actor_world(self));
    }
}

static const struct rt_actor_ops agent_ops = { "driver", agent_msg, NULL };

static void agent_spawn(struct rt_node *n, void *arg)
{
    struct mc_driver *dr = arg;
    atomic_store(&dr->agent, rt_actor_spawn(n, &agent_ops, dr));
    rt_world_notify(rt_node_world(n));
}

static bool agent_ready(void *arg)
{
    return atomic_load(&((struct mc_driver *)arg)->agent) != NULL;
}

struct mc_driver *mc_driver_new(struct rt_node *n, struct dfs *d)
{
    struct mc_driver *dr = rt_xcalloc_process(1, sizeof(*dr));
    dr->n = n;
    dr->d = d;
    if (rt_node_call(n, agent_spawn, dr) < 0 ||
        rt_world_wait(rt_node_world(n), agent_ready, dr, 10 * RT_NS_PER_SEC) < 0) {
        rt_free(dr);
        return NULL;
    }
    return dr;
}

void mc_driver_free(struct mc_driver *dr)
{
    rt_free(dr);
}

static void agent_submit(struct rt_node *n, void *arg)
{
    struct mc_driver *dr = arg;
    if (dr->w)
        dfs_submit_write(atomic_load(&dr->agent), dr->d, dr->w);
    else
        dfs_submit(atomic_load(&dr->agent), dr->d, &dr->req);
    dr->w = NULL;
}

static bool driver_done(void *arg)
{
    return atomic_load(&((struct mc_driver *)arg)->done) != 0;
}

static int driver_run(struct mc_driver *dr)
{
    atomic_store(&dr->done, 0);
    int rc = rt_node_call(dr->n, agent_submit, dr);
    if (rc < 0) {
        dfs_write_abandon(dr->w);       /* never submitted */
        dr->w = NULL;
    }
    if (rc == 0)
        rc = rt_world_wait(rt_node_world(dr->n), driver_done, dr, 600 * RT_NS_PER_SEC);
    if (rc == 0 && atomic_load(&dr->done) < 0)
        rc = atomic_load(&dr->done);
    return rc;
}

int mc_driver_write(struct mc_driver *dr, const char *path, uint64_t bytes, uint32_t phase)
{
    snprintf(dr->path, sizeof(dr->path), "%s", path);
    int rc = 0;
    for (uint64_t off = 0; off < bytes || (bytes == 0 && off == 0); ) {
        uint64_t n = bytes - off > WRITE_CHUNK ? WRITE_CHUNK : bytes - off;
        dr->req = (struct dfs_req){ .op = DFS_OP_WRITE, .path = dr->path, .len = (size_t)n,
                                    .flags = off ? DFS_F_APPEND : 0,
                                    .phase = (enum dfs_phase)phase };
        /* Built in the request message itself: zeros, and each 4 KiB page's
         * first byte its page number, as a file of that size would be
         * staged. */
        uint8_t *data = dfs_write_prepare(&dr->req, (size_t)n, &dr->w);
        if (!data)
            return -EMSGSIZE;
        memset(data, 0, (size_t)n);
        for (uint64_t i = (off + 4095) / 4096 * 4096; i < off + n; i += 4096)
            data[i - off] = (uint8_t)(i >> 12);
        rc = driver_run(dr);
        if (rc < 0 || n == 0)
            break;
        off += n;
    }
    return rc;
}

int mc_driver_stage(struct mc_driver *dr, const char *path, uint64_t bytes, uint32_t phase)
{
    if (rt_world_kind(rt_node_world(dr->n)) != RT_WORLD_SIM)
        return mc_driver_write(dr, path, bytes, phase);
    snprintf(dr->path, sizeof(dr->path), "%s", path);
    dr->req = (struct dfs_req){ .op = DFS_OP_WRITE, .path = dr->path, .logical = bytes,
                                .logical_seed = XXH64(path, strlen(path), 0),
                                .phase = (enum dfs_phase)phase };
    return driver_run(dr);
}

int mc_driver_delete_prefix(struct mc_driver *dr, const char *prefix, uint32_t phase)
{
    snprintf(dr->path, sizeof(dr->path), "%s", prefix);
    dr->req = (struct dfs_req){ .op = DFS_OP_DELETE, .path = dr->path, .flags = DFS_F_PREFIX,
                                .phase = (enum dfs_phase)phase };
    return driver_run(dr);
}
