/*
 * client.c - the client's pre-submission work, the probe and the driver
 * agent (see client.h).  Each is a small actor driving the DFS through
 * completions; nothing here blocks a handler except main()'s CPU in the real
 * world, which is the cost being measured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/client.h"
#include "runtime/dfs.h"

#define UPLOAD_CHUNK (8u << 20)     /* bytes per blob write: one message each */

/* ---- application work ------------------------------------------------------- */

struct app_actor {
    struct rt_actor *self;
    struct dfs *d;
    struct mc_app_work *w;
    uint64_t uploaded;
    int stage;
};

enum { ST_DOWNLOAD, ST_MAIN, ST_UPLOAD, ST_DONE };

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

static void app_upload_next(struct app_actor *a)
{
    struct mc_app_work *w = a->w;
    if (!w->upload_dir[0] || a->uploaded >= w->upload_bytes) {
        app_finish(a, 0);
        return;
    }
    uint64_t n = w->upload_bytes - a->uploaded;
    if (n > UPLOAD_CHUNK)
        n = UPLOAD_CHUNK;
    void *buf = rt_xcalloc(1, (size_t)n);
    char path[200];
    snprintf(path, sizeof(path), "%s/%s.blob", w->upload_dir, w->name);
    struct dfs_req req = { .op = DFS_OP_WRITE, .path = path, .data = buf, .len = (size_t)n,
                           .flags = a->uploaded ? DFS_F_APPEND : 0, .job = w->job,
                           .phase = DFS_PHASE_BLOB };
    dfs_submit(a->self, a->d, &req);
    rt_free(buf);
}

static void app_main(struct app_actor *a)
{
    struct mc_app_work *w = a->w;
    a->stage = ST_MAIN;
    if (!w->main_cpu_ns) {
        a->stage = ST_UPLOAD;
        app_upload_next(a);
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
    a->stage = ST_UPLOAD;
    app_upload_next(a);
}

static void app_msg(struct rt_actor *self, const struct rt_msg *m)
{
    struct app_actor *a = rt_actor_state(self);
    if (m->type == RT_MSG_TIMER) {      /* sim main() done */
        a->stage = ST_UPLOAD;
        app_upload_next(a);
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
    if (a->stage == ST_DOWNLOAD) {
        atomic_fetch_add(&a->w->bytes_down, d.bytes);
        app_main(a);
    } else if (a->stage == ST_UPLOAD) {
        atomic_fetch_add(&a->w->bytes_up, d.bytes);
        a->uploaded += d.bytes;
        app_upload_next(a);
    }
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
        a->stage = ST_DOWNLOAD;
    } else {
        app_main(a);
    }
}

int mc_app_work_start(struct rt_node *n, struct dfs *d, struct mc_app_work *w)
{
    w->dfs = d;
    return rt_node_call(n, app_spawn, w);
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
    dfs_submit(atomic_load(&dr->agent), dr->d, &dr->req);
}

static bool driver_done(void *arg)
{
    return atomic_load(&((struct mc_driver *)arg)->done) != 0;
}

static int driver_run(struct mc_driver *dr)
{
    atomic_store(&dr->done, 0);
    int rc = rt_node_call(dr->n, agent_submit, dr);
    if (rc == 0)
        rc = rt_world_wait(rt_node_world(dr->n), driver_done, dr, 600 * RT_NS_PER_SEC);
    if (rc == 0 && atomic_load(&dr->done) < 0)
        rc = atomic_load(&dr->done);
    return rc;
}

int mc_driver_write(struct mc_driver *dr, const char *path, uint64_t bytes, uint32_t phase)
{
    snprintf(dr->path, sizeof(dr->path), "%s", path);
    uint8_t *buf = rt_xcalloc_process(1, bytes ? (size_t)bytes : 1);
    for (uint64_t i = 0; i < bytes; i += 4096)
        buf[i] = (uint8_t)(i >> 12);
    int rc = 0;
    for (uint64_t off = 0; off < bytes || (bytes == 0 && off == 0); ) {
        uint64_t n = bytes - off > UPLOAD_CHUNK ? UPLOAD_CHUNK : bytes - off;
        dr->req = (struct dfs_req){ .op = DFS_OP_WRITE, .path = dr->path, .data = buf + off,
                                    .len = (size_t)n, .flags = off ? DFS_F_APPEND : 0,
                                    .phase = (enum dfs_phase)phase };
        rc = driver_run(dr);
        if (rc < 0 || n == 0)
            break;
        off += n;
    }
    rt_free(buf);
    return rc;
}

int mc_driver_delete_prefix(struct mc_driver *dr, const char *prefix, uint32_t phase)
{
    snprintf(dr->path, sizeof(dr->path), "%s", prefix);
    dr->req = (struct dfs_req){ .op = DFS_OP_DELETE, .path = dr->path, .flags = DFS_F_PREFIX,
                                .phase = (enum dfs_phase)phase };
    return driver_run(dr);
}
