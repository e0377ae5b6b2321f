/*
 * dfs_profile.c - storage profiles beside the DFS capacity model (dfs.h):
 * the defaults of S3, HDFS and NFS, which requests count against which
 * partition's rate, S3's entropy injection, the client's backoff after a
 * 503, and the connection pool of each client node.  dfs.c's server calls
 * these from its handlers; everything here runs on the dfs node's thread,
 * except the counters (atomics in struct dfs).
 *
 * Every default below is a row of STORAGE.md; docs/storage.md lists them
 * with their sources, and says which are inferences or rough.
 */
#include <string.h>

#include "runtime/dfs_internal.h"

#define MB 1000000ull   /* AWS quotes throughput in decimal megabytes */

void dfs_profile_defaults(struct dfs_profile *p, enum dfs_profile_kind kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    switch (kind) {
    case DFS_PROFILE_S3:
        p->write_rate = 3500;                   /* per partitioned prefix (AWS) */
        p->read_rate = 5500;
        p->throttle = true;                     /* 503 SlowDown above it */
        p->conn_bandwidth = 85 * MB;            /* 85-90 MB/s per request: the low end */
        p->latency_max_ns = 200 * RT_NS_PER_MS; /* first byte 100-200 ms */
        p->pool = 96;                           /* fs.s3a.connection.maximum, Hadoop 3.3 */
        p->retry_limit = 20;                    /* fs.s3a.retry.throttle.limit */
        p->retry_interval_ns = 100 * RT_NS_PER_MS;  /* fs.s3a.retry.throttle.interval */
        break;
    case DFS_PROFILE_HDFS:
        /* One NameNode: creates journal to disk, block lookups run in
         * memory (Shvachko 2010, NNThroughputBenchmark). */
        p->write_rate = 5600;
        p->read_rate = 126000;
        break;
    case DFS_PROFILE_NFS:
    case DFS_PROFILE_NONE:
        break;
    }
}

const char *dfs_profile_name(enum dfs_profile_kind kind)
{
    switch (kind) {
    case DFS_PROFILE_S3: return "s3";
    case DFS_PROFILE_HDFS: return "hdfs";
    case DFS_PROFILE_NFS: return "nfs";
    default: return "none";
    }
}

void dfs_profile_stats_get(struct dfs *d, struct dfs_profile_stats *out)
{
    out->throttled_requests = atomic_load(&d->p_throttled);
    out->retries = atomic_load(&d->p_retries);
    out->gave_up = atomic_load(&d->p_gave_up);
    out->pool_waits = atomic_load(&d->p_pool_waits);
    out->rate_waits = atomic_load(&d->p_rate_waits);
    out->partitions = atomic_load(&d->p_partitions);
}

void dfs_wait_stats_get(struct dfs *d, enum dfs_purpose p, struct dfs_wait_stats *out)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)p >= DFS_PURPOSE_COUNT)
        return;
    out->waits = atomic_load(&d->q_waits[p]);
    out->wait_ns = atomic_load(&d->q_wait_ns[p]);
    out->max_wait_ns = atomic_load(&d->q_wait_max[p]);
    out->link_waits = atomic_load(&d->l_waits[p]);
    out->link_wait_ns = atomic_load(&d->l_wait_ns[p]);
}

uint64_t dfs_local_bytes_read(struct dfs *d)
{
    return atomic_load(&d->local_bytes);
}

uint64_t dfs_inline_bytes(struct dfs *d)
{
    return atomic_load(&d->inline_bytes);
}

void dfs__pstate_init(struct dfs__pstate *p)
{
    memset(p, 0, sizeof(*p));
    TAILQ_INIT(&p->backoff);
}

/* S3 counts a PUT, COPY (a rename is a copy and a delete) or DELETE as a
 * write and a GET, HEAD or LIST as a read; an fsync is no request at all.
 * HDFS: creates, renames and deletes are the NameNode's journaled writes;
 * opens (block locations), stats and lists its in-memory reads; an append
 * or an hsync goes to the DataNodes only. */
int dfs__req_class(const struct dfs_profile *pr, const struct dfs__req *r)
{
    switch (r->w.op) {
    case DFS_OP_WRITE:
        if (pr->kind == DFS_PROFILE_HDFS && (r->w.flags & DFS_F_APPEND))
            return DFS__CLS_NONE;
        return DFS__CLS_WRITE;
    case DFS_OP_RENAME:
    case DFS_OP_DELETE:
        return DFS__CLS_WRITE;
    case DFS_OP_READ:
    case DFS_OP_STAT:
    case DFS_OP_LIST:
        return DFS__CLS_READ;
    default:
        return DFS__CLS_NONE;
    }
}

static bool is_metadata(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "_metadata", 9) == 0;
}

/* 62^len: the entropy values of len alphanumeric characters (len <= 10,
 * which the scenario parser enforces, keeps it inside 64 bits). */
static uint64_t entropy_values(uint32_t len)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < len && i < 10; i++)
        n *= 62;
    return n;
}

/*
 * S3 partitions by key prefix.  Without entropy every checkpoint file of
 * every job lives under the one checkpoint directory, so they share one
 * prefix (partition 1); other purposes (HA metadata, artifacts, the probe)
 * have prefixes of their own.  With entropy injection a data file's key
 * starts with entropy_length random characters - a hash of its name stands
 * for Flink's random draw, so a retried or re-read file keeps its key - and
 * each value is a prefix of its own; metadata files keep the fixed prefix,
 * as Flink removes the entropy key from them.
 */
uint64_t dfs__partition(const struct dfs_profile *pr, const struct dfs__req *r)
{
    if (pr->kind != DFS_PROFILE_S3)
        return 0;
    bool ckpt = r->w.phase == DFS_PHASE_CHECKPOINT || r->w.phase == DFS_PHASE_RESTORE;
    if (!ckpt)
        return 2 + r->w.phase;
    if (!pr->entropy_length || is_metadata(r->parent ? r->parent->path : r->path) ||
        r->w.op == DFS_OP_LIST ||
        (r->w.flags & DFS_F_PREFIX))
        return 1;
    /* A part is an SST file of its own, with an entropy value of its own. */
    const char *path = r->parent ? r->parent->path : r->path;
    uint64_t h = 1469598103934665603ull;    /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    h = (h ^ r->part_index) * 1099511628211ull;
    return 2 + DFS_PHASE_COUNT + h % entropy_values(pr->entropy_length);
}

static size_t part_slot(const struct dfs__pstate *p, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 17) & (p->cap_parts - 1);
    while (p->parts[i].key && p->parts[i].key != key)
        i = (i + 1) & (p->cap_parts - 1);
    return i;
}

static void parts_grow(struct dfs__pstate *p)
{
    struct dfs__part *old = p->parts;
    size_t ocap = p->cap_parts;
    p->cap_parts = ocap ? 2 * ocap : 64;
    p->parts = rt_xcalloc(p->cap_parts, sizeof(*p->parts));
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            p->parts[part_slot(p, old[i].key)] = old[i];
    rt_free(old);
}

struct dfs__part *dfs__part_get(struct dfs *d, struct dfs__pstate *p, uint64_t part)
{
    uint64_t key = part + 1;
    if (2 * (p->nparts + 1) > p->cap_parts)
        parts_grow(p);
    size_t i = part_slot(p, key);
    if (!p->parts[i].key) {
        p->parts[i].key = key;
        p->nparts++;
        if (p->nparts > atomic_load(&d->p_partitions))
            atomic_store(&d->p_partitions, p->nparts);
    }
    return &p->parts[i];
}

/* s3a's throttle retry: interval * 2^(attempt-1), jittered by +-50%. */
uint64_t dfs__backoff_ns(const struct dfs_profile *pr, uint32_t attempt, uint64_t rnd)
{
    uint32_t shift = attempt > 1 ? attempt - 1 : 0;
    if (shift > 30)
        shift = 30;
    uint64_t base = pr->retry_interval_ns << shift;
    if (base > 3600 * RT_NS_PER_SEC)
        base = 3600 * RT_NS_PER_SEC;    /* keeps the jitter arithmetic in range */
    uint64_t half = base / 2;
    return half + (half ? rnd % (2 * half + 1) : 0);
}

/* Clients are allocated one by one: a TAILQ head cannot move in memory. */
static struct dfs__client *client_of(struct dfs__pstate *p, uint32_t node)
{
    if (node >= p->nclients) {
        size_t n = (size_t)node + 16;
        p->clients = rt_xrealloc(p->clients, n * sizeof(*p->clients));
        memset(p->clients + p->nclients, 0, (n - p->nclients) * sizeof(*p->clients));
        p->nclients = n;
    }
    if (!p->clients[node]) {
        p->clients[node] = rt_xcalloc(1, sizeof(struct dfs__client));
        TAILQ_INIT(&p->clients[node]->wait);
    }
    return p->clients[node];
}

bool dfs__pool_admit(struct dfs *d, struct dfs__pstate *p, struct dfs__req *r)
{
    const struct dfs_profile *pr = &d->cfg.profile;
    if (!pr->pool)
        return true;
    struct dfs__client *c = client_of(p, r->node);
    if (c->busy < pr->pool) {
        c->busy++;
        r->holds_conn = true;
        return true;
    }
    atomic_fetch_add(&d->p_pool_waits, 1);
    TAILQ_INSERT_TAIL(&c->wait, r, link);
    return false;
}

struct dfs__req *dfs__pool_release(struct dfs *d, struct dfs__pstate *p, struct dfs__req *r)
{
    (void)d;
    if (!r->holds_conn)
        return NULL;
    r->holds_conn = false;
    struct dfs__client *c = client_of(p, r->node);
    c->busy--;
    struct dfs__req *next = TAILQ_FIRST(&c->wait);
    if (next) {
        TAILQ_REMOVE(&c->wait, next, link);
        c->busy++;
        next->holds_conn = true;
    }
    return next;
}

/* A wait counts only if it outlived the handler that sent r to the store:
 * a request served at once never waited, in either world, however the
 * clock moved meanwhile. */
void dfs__wait_end(struct dfs *d, struct dfs__req *r, uint64_t now, uint64_t epoch)
{
    if (!r->waiting)
        return;
    r->waiting = false;
    if (r->wait_epoch == epoch)
        return;
    unsigned p = (unsigned)dfs_phase_purpose(r->w.phase);
    uint64_t w = now > r->wait_from ? now - r->wait_from : 0;
    atomic_fetch_add(&d->q_waits[p], 1);
    atomic_fetch_add(&d->q_wait_ns[p], w);
    uint64_t max = atomic_load(&d->q_wait_max[p]);
    while (w > max && !atomic_compare_exchange_weak(&d->q_wait_max[p], &max, w))
        ;
}

/* The link carries one node's bytes in the order their requests started,
 * each from its first byte on: a fluid FIFO, so the node's requests
 * together move at most client_link bytes/s, and one alone still at its
 * connection's rate.  Reads and writes go separate ways (full duplex). */
uint64_t dfs__link_due(struct dfs *d, struct dfs__pstate *p, const struct dfs__req *r,
                       uint64_t data_start, uint64_t bytes, uint64_t due)
{
    uint64_t bw = d->cfg.profile.client_link;
    if (!bw || !bytes)
        return due;
    struct dfs__client *c = client_of(p, r->node);
    int dir = r->w.op == DFS_OP_READ ? 0 : 1;
    uint64_t from = c->link_free[dir] > data_start ? c->link_free[dir] : data_start;
    __extension__ unsigned __int128 num = (unsigned __int128)bytes * RT_NS_PER_SEC;
    c->link_free[dir] = from + (uint64_t)((num + bw - 1) / bw);
    if (c->link_free[dir] <= due)
        return due;
    unsigned purpose = (unsigned)dfs_phase_purpose(r->w.phase);
    atomic_fetch_add(&d->l_waits[purpose], 1);
    atomic_fetch_add(&d->l_wait_ns[purpose], c->link_free[dir] - due);
    return c->link_free[dir];
}

/* ---- transfer-thread groups (parts, dfs.c) ---- */

struct dfs__group *dfs__group_get(struct dfs__pstate *p, uint32_t node, uint32_t job, uint32_t id,
                                  bool create)
{
    for (size_t i = 0; i < p->ngroups; i++)
        if (p->groups[i]->node == node && p->groups[i]->job == job && p->groups[i]->id == id)
            return p->groups[i];
    if (!create)
        return NULL;
    if (p->ngroups == p->cap_groups) {
        p->cap_groups = p->cap_groups ? 2 * p->cap_groups : 16;
        p->groups = rt_xrealloc(p->groups, p->cap_groups * sizeof(*p->groups));
    }
    struct dfs__group *g = rt_xcalloc(1, sizeof(*g));
    g->node = node;
    g->job = job;
    g->id = id;
    TAILQ_INIT(&g->backlog);
    p->groups[p->ngroups++] = g;
    return g;
}

void dfs__group_drop_if_idle(struct dfs__pstate *p, struct dfs__group *g)
{
    if (g->inflight || !TAILQ_EMPTY(&g->backlog))
        return;
    for (size_t i = 0; i < p->ngroups; i++)
        if (p->groups[i] == g) {
            p->groups[i] = p->groups[--p->ngroups];
            break;
        }
    rt_free(g);
}
