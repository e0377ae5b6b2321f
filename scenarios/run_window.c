/*
 * run_window.c - the run object's recovery-window figures: what the probe
 * saw while the jobs recovered against a baseline window of the same length
 * just before the fault, the time it spent over its SLO, and the shared
 * filesystem's bytes, requests and peak streams by purpose (restore reads,
 * checkpoint writes, artifacts, probe, other), over the run and over the
 * recovery window, and how long each purpose's requests queued.
 *
 * The recovery window runs from the first fault to the moment the last
 * restarted job is RUNNING again (run_report.c finds it).  A run with no
 * fault, or whose fault restarted nothing, has no window: its window
 * figures are JSON null, never zeros that look measured.
 */
#include <stdlib.h>

#include "runtime/dfs.h"
#include "scenarios/run_internal.h"

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Latencies of the probe samples sent in [t0, t1), sorted, in v (cap n). */
static size_t samples_in(const struct run *r, uint64_t t0, uint64_t t1, uint64_t *v)
{
    unsigned np = atomic_load(&((struct run *)r)->probe.n);
    size_t k = 0;
    for (unsigned i = 0; i < np; i++)
        if (r->probe.t_ns[i] >= t0 && r->probe.t_ns[i] < t1)
            v[k++] = r->probe.lat_ns[i];
    qsort(v, k, sizeof(*v), cmp_u64);
    return k;
}

/* Nearest-rank quantile of sorted v, as run_report.c computes the others. */
static uint64_t quantile(const uint64_t *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return n ? v[k < n ? k : n - 1] : 0;
}

static json_t *ms_or_null(bool have, uint64_t ns)
{
    return have ? json_real(ms(ns)) : json_null();
}

/* Time the probe waited past its SLO: each sample's latency beyond it.  The
 * probe is one sequential reader, so this is the time "other services" were
 * kept waiting longer than promised. */
static uint64_t over_slo(const struct run *r, uint64_t slo, uint64_t t0, uint64_t t1)
{
    unsigned np = atomic_load(&((struct run *)r)->probe.n);
    uint64_t sum = 0;
    for (unsigned i = 0; i < np; i++)
        if (r->probe.t_ns[i] >= t0 && r->probe.t_ns[i] < t1 && r->probe.lat_ns[i] > slo)
            sum += r->probe.lat_ns[i] - slo;
    return sum;
}

static void probe_figures(struct run *r, bool had, uint64_t from, uint64_t to, json_t *probe)
{
    uint64_t slo = r->s->probe.slo_ns ? r->s->probe.slo_ns : SCN_PROBE_SLO_NS;
    unsigned np = atomic_load(&r->probe.n);
    uint64_t *v = rt_xcalloc_process(np ? np : 1, sizeof(uint64_t));
    json_object_set_new(probe, "slo_ms", json_real(ms(slo)));
    json_object_set_new(probe, "over_slo_ms",
                        np ? json_real(ms(over_slo(r, slo, 0, UINT64_MAX))) : json_null());
    size_t n = had ? samples_in(r, from, to, v) : 0;
    json_object_set_new(probe, "recovery_samples", json_integer((json_int_t)n));
    json_object_set_new(probe, "recovery_p99_ms", ms_or_null(n, quantile(v, n, 0.99)));
    json_object_set_new(probe, "recovery_max_ms", ms_or_null(n, n ? v[n - 1] : 0));
    json_object_set_new(probe, "recovery_over_slo_ms",
                        n ? json_real(ms(over_slo(r, slo, from, to))) : json_null());
    /* The baseline: a window as long as the recovery, ending at the fault
     * (clipped at the run's start), so both p99s are over like spans. */
    uint64_t len = to - from, b0 = from - r->t0_ns > len ? from - len : r->t0_ns;
    size_t nb = had ? samples_in(r, b0, from, v) : 0;
    json_object_set_new(probe, "baseline_window_p99_ms", ms_or_null(nb, quantile(v, nb, 0.99)));
    json_object_set_new(probe, "baseline_window_max_ms", ms_or_null(nb, nb ? v[nb - 1] : 0));
    rt_free(v);
}

static json_t *purpose_obj(const struct dfs_window *w)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}",
                     "bytes", (json_int_t)(w->bytes_read + w->bytes_written),
                     "bytes_read", (json_int_t)w->bytes_read,
                     "bytes_written", (json_int_t)w->bytes_written,
                     "requests", (json_int_t)w->ops,
                     "peak_streams", (json_int_t)w->peak_concurrency);
}

/* dfs.by_purpose over the run (what the driver stored before the run
 * started - the artifacts and the probe's file - is not the run's and is
 * left out, as in dfs.bytes_written), and dfs.recovery_by_purpose. */
static void dfs_figures(struct run *r, bool had, uint64_t from, uint64_t to, json_t *dfs)
{
    json_t *all = json_object(), *rec = had ? json_object() : json_null();
    for (int p = 0; p < DFS_PURPOSE_COUNT; p++) {
        struct dfs_window w;
        dfs_purpose_get(r->dfs, p, &w);
        w.bytes_read -= r->setup_purpose[p].bytes_read;
        w.bytes_written -= r->setup_purpose[p].bytes_written;
        w.ops -= r->setup_purpose[p].ops;
        json_object_set_new(all, dfs_purpose_name(p), purpose_obj(&w));
        if (had) {
            dfs_purpose_window(r->dfs, p, from, to, &w);
            json_object_set_new(rec, dfs_purpose_name(p), purpose_obj(&w));
        }
    }
    json_object_set_new(dfs, "by_purpose", all);
    json_object_set_new(dfs, "recovery_by_purpose", rec);
    /* Queueing for the store's capacity over the run (dfs_wait_stats):
     * restore reads happen in recoveries only. */
    json_t *q = json_object();
    for (int p = 0; p < DFS_PURPOSE_COUNT; p++) {
        struct dfs_wait_stats ws;
        dfs_wait_stats_get(r->dfs, p, &ws);
        json_object_set_new(q, dfs_purpose_name(p),
                            json_pack("{s:I, s:f, s:f, s:I, s:f}", "waits", (json_int_t)ws.waits,
                                      "wait_ms", ms(ws.wait_ns), "max_wait_ms", ms(ws.max_wait_ns),
                                      "link_waits", (json_int_t)ws.link_waits,
                                      "link_wait_ms", ms(ws.link_wait_ns)));
    }
    json_object_set_new(dfs, "queued_by_purpose", q);
}

void run__window_figures(struct run *r, bool had, uint64_t from, uint64_t to, json_t *run)
{
    json_t *rec = json_object_get(run, "recovery");
    json_object_set_new(rec, "window_from_ms",
                        had ? json_real(ms(from - r->t0_ns)) : json_null());
    json_object_set_new(rec, "window_to_ms", had ? json_real(ms(to - r->t0_ns)) : json_null());
    probe_figures(r, had && to > from, from, to, json_object_get(run, "probe"));
    dfs_figures(r, had && to > from, from, to, json_object_get(run, "dfs"));
}
