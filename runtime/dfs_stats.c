/*
 * dfs_stats.c - what the dfs service counts: bytes and ops by node, job and
 * phase, files created and deleted, fsyncs, concurrency now and at its peak,
 * a log2 latency histogram, and a bucketed time series of concurrency and
 * throughput that reports draw and sum over windows (a recovery, say).
 *
 * Design.  The dfs server's thread is the only writer; reports read from any
 * thread.  One mutex guards everything: updates are a handful of additions
 * per request, far cheaper than the I/O, and a snapshot under one lock is
 * consistent (phases add up to the total), which separate atomics would not
 * give.  The series has a fixed number of buckets allocated up front; when
 * time runs past the last one, neighbours merge pairwise and the width
 * doubles, so memory stays bounded and the series still covers the whole
 * run.  Tables outlive a crash of the dfs node, hence process memory.
 *
 * By purpose (restore, checkpoint, artifacts, probe, other: dfs.h) the same
 * counts are kept again, series included, so a report can say what a
 * recovery window's bytes and streams were for rather than lump a restore
 * storm together with the checkpoints of jobs that never failed.
 */
#include <string.h>

#include "runtime/dfs_internal.h"

void dfs__stats_init(struct dfs__stats *st, const struct dfs_config *cfg)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->series_cap = cfg->series_cap;
    st->width_ns = cfg->series_bucket_ns;
    st->series = rt_xcalloc_process(st->series_cap, sizeof(*st->series));
    st->pseries = rt_xcalloc_process(st->series_cap * DFS_PURPOSE_COUNT, sizeof(*st->pseries));
}

enum dfs_purpose dfs_phase_purpose(unsigned phase)
{
    switch (phase) {
    case DFS_PHASE_RESTORE: return DFS_PURPOSE_RESTORE;
    case DFS_PHASE_CHECKPOINT: return DFS_PURPOSE_CHECKPOINT;
    case DFS_PHASE_ARTIFACT:
    case DFS_PHASE_BLOB: return DFS_PURPOSE_ARTIFACTS;
    case DFS_PHASE_PROBE: return DFS_PURPOSE_PROBE;
    default: return DFS_PURPOSE_OTHER;
    }
}

const char *dfs_purpose_name(enum dfs_purpose p)
{
    static const char *const names[DFS_PURPOSE_COUNT] = {
        "restore", "checkpoint", "artifacts", "probe", "other",
    };
    return (unsigned)p < DFS_PURPOSE_COUNT ? names[p] : "other";
}

/* Purpose k's part of bucket i; mu held. */
static struct dfs__pbucket *pb(struct dfs__stats *st, size_t i, unsigned k)
{
    return &st->pseries[i * DFS_PURPOSE_COUNT + k];
}

void dfs__stats_free(struct dfs__stats *st)
{
    rt_free(st->series);
    rt_free(st->pseries);
    rt_free(st->nodes);
    rt_free(st->jobs);
    pthread_mutex_destroy(&st->mu);
}

/* Halves the number of buckets by merging neighbours; mu held. */
static void series_merge(struct dfs__stats *st)
{
    size_t n = (st->series_n + 1) / 2;
    for (size_t j = 0; j < n; j++) {
        struct dfs_bucket m = st->series[2 * j];
        if (2 * j + 1 < st->series_n) {
            const struct dfs_bucket *b = &st->series[2 * j + 1];
            m.peak_in_flight = m.peak_in_flight > b->peak_in_flight ? m.peak_in_flight : b->peak_in_flight;
            m.end_in_flight = b->end_in_flight;
            m.ops += b->ops;
            m.bytes_read += b->bytes_read;
            m.bytes_written += b->bytes_written;
        }
        st->series[j] = m;
        for (unsigned k = 0; k < DFS_PURPOSE_COUNT; k++) {
            struct dfs__pbucket p = *pb(st, 2 * j, k);
            if (2 * j + 1 < st->series_n) {
                const struct dfs__pbucket *q = pb(st, 2 * j + 1, k);
                p.peak_in_flight = p.peak_in_flight > q->peak_in_flight ? p.peak_in_flight
                                                                        : q->peak_in_flight;
                p.end_in_flight = q->end_in_flight;
                p.ops += q->ops;
                p.bytes_read += q->bytes_read;
                p.bytes_written += q->bytes_written;
            }
            *pb(st, j, k) = p;
        }
    }
    memset(pb(st, n, 0), 0, (st->series_n - n) * DFS_PURPOSE_COUNT * sizeof(*st->pseries));
    st->series_n = n;
    st->width_ns *= 2;
}

/* The bucket holding now, creating those before it (carrying the current
 * concurrency through quiet buckets); mu held. */
static struct dfs_bucket *bucket_at(struct dfs__stats *st, uint64_t now)
{
    while (now / st->width_ns >= st->series_cap)
        series_merge(st);
    size_t i = (size_t)(now / st->width_ns);
    for (; st->series_n <= i; st->series_n++) {
        struct dfs_bucket *b = &st->series[st->series_n];
        *b = (struct dfs_bucket){
            .t_ns = st->series_n * st->width_ns,
            .peak_in_flight = (uint32_t)st->cur, .end_in_flight = (uint32_t)st->cur,
        };
        for (unsigned k = 0; k < DFS_PURPOSE_COUNT; k++)
            *pb(st, st->series_n, k) = (struct dfs__pbucket){
                .peak_in_flight = (uint32_t)st->pcur[k], .end_in_flight = (uint32_t)st->pcur[k],
            };
    }
    return &st->series[i];
}

static void flight_changed(struct dfs__stats *st, uint64_t now)
{
    if (st->cur > st->peak)
        st->peak = st->cur;
    if (st->cur_queued > st->peak_queued)
        st->peak_queued = st->cur_queued;
    struct dfs_bucket *b = bucket_at(st, now);
    b->end_in_flight = (uint32_t)st->cur;
    if (st->cur > b->peak_in_flight)
        b->peak_in_flight = (uint32_t)st->cur;
}

static uint64_t add_delta(uint64_t v, int delta)
{
    return delta < 0 && v < (uint64_t)-delta ? 0 : v + (uint64_t)(int64_t)delta;
}

void dfs__stats_flight(struct dfs__stats *st, uint64_t now, unsigned phase, int delta)
{
    unsigned k = dfs_phase_purpose(phase);
    pthread_mutex_lock(&st->mu);
    st->cur = add_delta(st->cur, delta);
    st->pcur[k] = add_delta(st->pcur[k], delta);
    if (st->pcur[k] > st->ppeak[k])
        st->ppeak[k] = st->pcur[k];
    flight_changed(st, now);
    struct dfs__pbucket *p = pb(st, (size_t)(now / st->width_ns), k);
    p->end_in_flight = (uint32_t)st->pcur[k];
    if (st->pcur[k] > p->peak_in_flight)
        p->peak_in_flight = (uint32_t)st->pcur[k];
    pthread_mutex_unlock(&st->mu);
}

void dfs__stats_queued(struct dfs__stats *st, uint64_t now, uint64_t queued)
{
    pthread_mutex_lock(&st->mu);
    st->cur_queued = queued;
    flight_changed(st, now);
    pthread_mutex_unlock(&st->mu);
}

void dfs__stats_reset_flight(struct dfs__stats *st, uint64_t now)
{
    pthread_mutex_lock(&st->mu);
    st->cur = st->cur_queued = 0;
    memset(st->pcur, 0, sizeof(st->pcur));
    flight_changed(st, now);
    for (unsigned k = 0; k < DFS_PURPOSE_COUNT; k++)
        pb(st, (size_t)(now / st->width_ns), k)->end_in_flight = 0;
    pthread_mutex_unlock(&st->mu);
}

static void io_add(struct dfs_io_stats *s, int failed, uint64_t rd, uint64_t wr,
                   uint64_t lrd, uint64_t lwr)
{
    s->ops++;
    s->errors += failed;
    s->bytes_read += rd;
    s->bytes_written += wr;
    s->logical_bytes_read += lrd;
    s->logical_bytes_written += lwr;
}

/* The job's counters, inserted in order when new; mu held. */
static struct dfs_io_stats *job_slot(struct dfs__stats *st, uint32_t job)
{
    size_t lo = 0, hi = st->njobs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->jobs[mid].job < job)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->njobs && st->jobs[lo].job == job)
        return &st->jobs[lo].s;
    if (st->njobs == st->cap_jobs) {
        st->cap_jobs = st->cap_jobs ? 2 * st->cap_jobs : 16;
        st->jobs = dfs__proc_grow(st->jobs, st->njobs * sizeof(*st->jobs), st->cap_jobs * sizeof(*st->jobs));
    }
    if (lo < st->njobs)
        memmove(&st->jobs[lo + 1], &st->jobs[lo], (st->njobs - lo) * sizeof(*st->jobs));
    st->njobs++;
    st->jobs[lo] = (struct dfs__job_stats){ .job = job };
    return &st->jobs[lo].s;
}

static struct dfs_io_stats *node_slot(struct dfs__stats *st, uint32_t node)
{
    if (node >= st->nnodes) {
        size_t n = node + 1 > 2 * st->nnodes ? node + 1 : 2 * st->nnodes;
        st->nodes = dfs__proc_grow(st->nodes, st->nnodes * sizeof(*st->nodes), n * sizeof(*st->nodes));
        memset(&st->nodes[st->nnodes], 0, (n - st->nnodes) * sizeof(*st->nodes));
        st->nnodes = n;
    }
    return &st->nodes[node];
}

/* Credits a transfer's bytes to the buckets its service spanned, in
 * proportion to the time spent in each: throughput over time then shows the
 * service's real rate instead of a spike where each transfer completed.
 * The last bucket takes the remainder, so sums stay exact; mu held. */
static void spread_bytes(struct dfs__stats *st, unsigned k, uint64_t t0, uint64_t t1,
                         uint64_t rd, uint64_t wr)
{
    bucket_at(st, t1);  /* creates (and merges) first: the width is final below */
    uint64_t w = st->width_ns, span = t1 - t0, left_rd = rd, left_wr = wr;
    for (uint64_t t = t0; span && t / w < t1 / w; t = (t / w + 1) * w) {
        struct dfs_bucket *b = &st->series[t / w];
        uint64_t part = (t / w + 1) * w - t;
        uint64_t prd = (uint64_t)((double)rd * (double)part / (double)span);
        uint64_t pwr = (uint64_t)((double)wr * (double)part / (double)span);
        b->bytes_read += prd;
        b->bytes_written += pwr;
        pb(st, t / w, k)->bytes_read += prd;
        pb(st, t / w, k)->bytes_written += pwr;
        left_rd -= prd;
        left_wr -= pwr;
    }
    struct dfs_bucket *last = &st->series[t1 / w];
    last->bytes_read += left_rd;
    last->bytes_written += left_wr;
    pb(st, t1 / w, k)->bytes_read += left_rd;
    pb(st, t1 / w, k)->bytes_written += left_wr;
}

void dfs__stats_done(struct dfs__stats *st, uint64_t now, const struct dfs__req *r)
{
    int failed = r->done.status < 0;
    /* Logical bytes count as moved bytes everywhere; their own counters say
     * how many of them were descriptors. */
    uint64_t lrd = !failed && r->w.op == DFS_OP_READ ? r->done.logical : 0;
    uint64_t lwr = !failed && r->w.op == DFS_OP_WRITE ? r->done.logical : 0;
    uint64_t rd = !failed && r->w.op == DFS_OP_READ ? r->done.bytes + lrd : 0;
    uint64_t wr = !failed && r->w.op == DFS_OP_WRITE ? r->done.bytes + lwr : 0;
    uint32_t phase = r->w.phase < DFS_PHASE_COUNT ? r->w.phase : DFS_PHASE_OTHER;
    unsigned pk = dfs_phase_purpose(phase);
    uint64_t lat = r->done.latency_ns;
    int k = lat ? 63 - __builtin_clzll(lat) : 0;

    pthread_mutex_lock(&st->mu);
    io_add(&st->total, failed, rd, wr, lrd, lwr);
    io_add(&st->phase[phase], failed, rd, wr, lrd, lwr);
    io_add(job_slot(st, r->w.job), failed, rd, wr, lrd, lwr);
    io_add(node_slot(st, r->node), failed, rd, wr, lrd, lwr);
    io_add(&st->ptotal[pk], failed, rd, wr, lrd, lwr);
    st->files_created += (uint64_t)r->created;
    st->files_deleted += (uint64_t)r->deleted;
    st->fsyncs += (uint64_t)r->synced;
    st->hist[k]++;
    st->lat_count++;
    if (lat > st->lat_max)
        st->lat_max = lat;
    struct dfs_bucket *b = bucket_at(st, now);
    b->ops++;
    pb(st, (size_t)(now / st->width_ns), pk)->ops++;
    spread_bytes(st, pk, r->started < now ? r->started : now, now, rd, wr);
    pthread_mutex_unlock(&st->mu);
}

/* The p-quantile (per mille) as the upper bound of its bucket; mu held. */
static uint64_t quantile(const struct dfs__stats *st, unsigned per_mille)
{
    if (!st->lat_count)
        return 0;
    uint64_t target = (st->lat_count * per_mille + 999) / 1000, seen = 0;
    for (int k = 0; k < DFS_LAT_BUCKETS; k++) {
        seen += st->hist[k];
        if (seen >= target) {
            uint64_t hi = k >= 63 ? UINT64_MAX : (2ull << k) - 1;
            return hi < st->lat_max ? hi : st->lat_max;
        }
    }
    return st->lat_max;
}

void dfs_stats_get(struct dfs *d, struct dfs_stats *out)
{
    struct dfs__stats *st = &d->st;
    pthread_mutex_lock(&st->mu);
    *out = (struct dfs_stats){
        .total = st->total, .files_created = st->files_created,
        .files_deleted = st->files_deleted, .fsyncs = st->fsyncs,
        .cur_concurrency = st->cur, .peak_concurrency = st->peak,
        .cur_queued = st->cur_queued, .peak_queued = st->peak_queued,
        .lat_count = st->lat_count, .lat_max_ns = st->lat_max,
        .lat_p50_ns = quantile(st, 500), .lat_p99_ns = quantile(st, 990),
    };
    memcpy(out->lat_hist, st->hist, sizeof(out->lat_hist));
    pthread_mutex_unlock(&st->mu);
    if (!d->real) {
        uint64_t sz[4];
        dfs__store_sizes(d, sz);
        out->stored_bytes = sz[0];
        out->stored_logical_bytes = sz[1];
        out->peak_stored_bytes = sz[2];
        out->peak_stored_logical_bytes = sz[3];
    }
}

void dfs_stats_phase(struct dfs *d, enum dfs_phase phase, struct dfs_io_stats *out)
{
    pthread_mutex_lock(&d->st.mu);
    *out = (unsigned)phase < DFS_PHASE_COUNT ? d->st.phase[phase] : (struct dfs_io_stats){ 0 };
    pthread_mutex_unlock(&d->st.mu);
}

void dfs_stats_job(struct dfs *d, uint32_t job, struct dfs_io_stats *out)
{
    *out = (struct dfs_io_stats){ 0 };
    pthread_mutex_lock(&d->st.mu);
    for (size_t i = 0; i < d->st.njobs; i++)
        if (d->st.jobs[i].job == job)
            *out = d->st.jobs[i].s;
    pthread_mutex_unlock(&d->st.mu);
}

void dfs_stats_node(struct dfs *d, uint32_t node_id, struct dfs_io_stats *out)
{
    pthread_mutex_lock(&d->st.mu);
    *out = node_id < d->st.nnodes ? d->st.nodes[node_id] : (struct dfs_io_stats){ 0 };
    pthread_mutex_unlock(&d->st.mu);
}

size_t dfs_series_get(struct dfs *d, struct dfs_bucket *out, size_t cap, uint64_t *width_ns)
{
    pthread_mutex_lock(&d->st.mu);
    size_t n = d->st.series_n;
    for (size_t i = 0; i < n && i < cap; i++) {
        out[i] = d->st.series[i];
        out[i].t_ms = out[i].t_ns / RT_NS_PER_MS;
    }
    if (width_ns)
        *width_ns = d->st.width_ns;
    pthread_mutex_unlock(&d->st.mu);
    return n;
}

void dfs_window_get(struct dfs *d, uint64_t t0_ns, uint64_t t1_ns, struct dfs_window *out)
{
    struct dfs__stats *st = &d->st;
    *out = (struct dfs_window){ 0 };
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->series_n; i++) {
        const struct dfs_bucket *b = &st->series[i];
        if (b->t_ns >= t1_ns || b->t_ns + st->width_ns <= t0_ns)
            continue;
        out->ops += b->ops;
        out->bytes_read += b->bytes_read;
        out->bytes_written += b->bytes_written;
        if (b->peak_in_flight > out->peak_concurrency)
            out->peak_concurrency = b->peak_in_flight;
    }
    /* Past the last bucket nothing changed: the concurrency is the current. */
    if (t1_ns > st->series_n * st->width_ns && st->cur > out->peak_concurrency)
        out->peak_concurrency = st->cur;
    pthread_mutex_unlock(&st->mu);
}

void dfs_purpose_get(struct dfs *d, enum dfs_purpose p, struct dfs_window *out)
{
    *out = (struct dfs_window){ 0 };
    if ((unsigned)p >= DFS_PURPOSE_COUNT)
        return;
    pthread_mutex_lock(&d->st.mu);
    *out = (struct dfs_window){
        .ops = d->st.ptotal[p].ops, .bytes_read = d->st.ptotal[p].bytes_read,
        .bytes_written = d->st.ptotal[p].bytes_written, .peak_concurrency = d->st.ppeak[p],
    };
    pthread_mutex_unlock(&d->st.mu);
}

void dfs_purpose_window(struct dfs *d, enum dfs_purpose p, uint64_t t0_ns, uint64_t t1_ns,
                        struct dfs_window *out)
{
    struct dfs__stats *st = &d->st;
    *out = (struct dfs_window){ 0 };
    if ((unsigned)p >= DFS_PURPOSE_COUNT)
        return;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->series_n; i++) {
        const struct dfs_bucket *b = &st->series[i];
        if (b->t_ns >= t1_ns || b->t_ns + st->width_ns <= t0_ns)
            continue;
        const struct dfs__pbucket *q = pb(st, i, p);
        out->ops += q->ops;
        out->bytes_read += q->bytes_read;
        out->bytes_written += q->bytes_written;
        if (q->peak_in_flight > out->peak_concurrency)
            out->peak_concurrency = q->peak_in_flight;
    }
    if (t1_ns > st->series_n * st->width_ns && st->pcur[p] > out->peak_concurrency)
        out->peak_concurrency = st->pcur[p];
    pthread_mutex_unlock(&st->mu);
}
