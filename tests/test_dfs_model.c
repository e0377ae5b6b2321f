/*
 * test_dfs_model.c - the shared filesystem service's capacity model and
 * what it counts, in both worlds: bandwidth, streams, operations per second
 * and base latency (to the nanosecond in the sim world, whose links have a
 * fixed latency and no jitter; as a lower bound in the real world), byte
 * and operation counters by phase, job and node, the series over time, a
 * crash of the dfs node, and a sim run replayed from its seed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/dfs_env.h"

/* ---- the capacity model ------------------------------------------------------ */

/* N concurrent 1 MiB reads, bandwidth B, S streams, base latency L: each
 * takes L + 1 MiB * S / B, and they go in waves of S. */
static void bandwidth_body(enum rt_world_kind kind)
{
    struct dfs_config m = { .bandwidth = 4 * MiB, .streams = 2, .base_latency_ns = RT_NS_PER_MS };
    struct env e;
    env_up(&e, kind, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 3);
    char names[5][32];
    struct dfs_req reads[5];
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], sizeof(names[i]), "job-1/chk-1/task-%d", i);
        assert_int_equal(op_status(&e, wr(names[i], data, sizeof(data))), 0);
        reads[i] = rd(names[i], 0, 0);
        reads[i].phase = DFS_PHASE_RESTORE;
    }
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.peak_concurrency, 1);       /* the writes went one by one */
    assert_int_equal(st.peak_queued, 0);

    uint64_t t0 = rt_now(e.w);
    run(&e, 0, reads, 5);
    uint64_t per = RT_NS_PER_MS + (uint64_t)MiB * 2 * RT_NS_PER_SEC / (4 * MiB);   /* 501 ms */
    for (int i = 0; i < 5; i++) {
        const struct dfs_done *d = &e.cl[0].slots[i].done;
        assert_int_equal(d->status, 0);
        assert_int_equal(d->bytes, MiB);
        /* The sim link keeps FIFO by spacing same-time messages 1 ns apart:
         * read i arrives at LINK_NS + i. */
        uint64_t want = (uint64_t)(i / 2 + 1) * per + (uint64_t)(i % 2);
        /* Real world: each read is timed from its own submission, and the
         * five leave one after another (microseconds apart), so a queued
         * read's latency may fall short of the model by that spread; 1 ms
         * bounds it with room to spare. */
        if (kind == RT_WORLD_SIM)
            assert_int_equal(d->latency_ns, LINK_NS + want);
        else if (d->latency_ns + RT_NS_PER_MS < want)
            fail_msg("read %d: latency %llu < model %llu - 1 ms", i,
                     (unsigned long long)d->latency_ns, (unsigned long long)want);
    }
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.peak_concurrency, 5);
    assert_int_equal(st.peak_queued, 3);
    assert_int_equal(st.cur_concurrency, 0);
    assert_int_equal(st.cur_queued, 0);

    /* The series holds the storm: a window from its start sums to its bytes. */
    struct dfs_window win;
    dfs_window_get(e.d, t0, rt_now(e.w) + 1, &win);
    assert_int_equal(win.bytes_read, 5 * MiB);
    /* Bucket resolution: the write before the storm may share t0's bucket;
     * its bytes count for the part of its service inside the window. */
    assert_true(win.ops == 5 || win.ops == 6);
    assert_true(win.bytes_written <= MiB);
    assert_int_equal(win.peak_concurrency, 5);
    struct dfs_io_stats ph;
    dfs_stats_phase(e.d, DFS_PHASE_RESTORE, &ph);
    assert_int_equal(ph.bytes_read, 5 * MiB);
    env_down(&e);
}
BOTH(bandwidth_body)

/* ops/s as a token bucket: the first `burst` ops start on arrival, then op i
 * starts at (i - burst + 1) * T (T = 1 s / ops). */
static void ops_rate(uint32_t burst)
{
    struct dfs_config m = { .ops_per_s = 100, .ops_burst = burst };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    struct dfs_req stats[10];
    for (int i = 0; i < 10; i++)
        stats[i] = simple(DFS_OP_STAT, "probe");
    run(&e, 0, stats, 10);
    uint64_t T = 10 * RT_NS_PER_MS;
    uint32_t b = burst ? burst : 1;
    for (uint32_t i = 0; i < 10; i++) {
        uint64_t start = i < b ? i : (i - b + 1) * T;     /* arrivals 1 ns apart */
        assert_int_equal(e.cl[0].slots[i].done.status, -ENOENT);
        assert_int_equal(e.cl[0].slots[i].done.latency_ns, LINK_NS + start);
    }
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.lat_count, 10);
    assert_int_equal(st.lat_max_ns, LINK_NS + (10 - b) * T);
    assert_int_equal(st.lat_p99_ns, st.lat_max_ns);
    assert_true(st.lat_p50_ns <= st.lat_max_ns && st.lat_p50_ns >= LINK_NS);
    uint64_t sum = 0;
    for (int k = 0; k < DFS_LAT_BUCKETS; k++)
        sum += st.lat_hist[k];
    assert_int_equal(sum, 10);
    assert_int_equal(st.peak_queued, 10 - b);
    env_down(&e);
}

static void test_ops_rate_sim(void **s) { (void)s; ops_rate(0); }
static void test_ops_burst_sim(void **s) { (void)s; ops_rate(3); }

/* ---- counters by phase, job and node ---------------------------------------- */

static void counters_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    static unsigned char data[1000];
    fill(data, sizeof(data), 5);
    struct dfs_req w[3], r[3];
    const char *names[] = { "job-7/chk-1/t0", "job-7/chk-1/t1", "job-7/chk-1/t2" };
    for (int i = 0; i < 3; i++) {
        w[i] = wr(names[i], data, sizeof(data));
        w[i].job = 7;
        w[i].phase = DFS_PHASE_CHECKPOINT;
        r[i] = rd(names[i], 0, 0);
        r[i].job = 7;
        r[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, w, 3);
    struct dfs_req sync = simple(DFS_OP_FSYNC, names[0]);
    sync.job = 7;
    sync.phase = DFS_PHASE_CHECKPOINT;
    run(&e, 0, &sync, 1);
    run(&e, 1, r, 3);
    struct dfs_req probe = simple(DFS_OP_STAT, names[1]);
    probe.job = 9;
    probe.phase = DFS_PHASE_PROBE;
    run(&e, 1, &probe, 1);

    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.total.ops, 8);
    assert_int_equal(st.total.errors, 0);
    assert_int_equal(st.total.bytes_written, 3000);
    assert_int_equal(st.total.bytes_read, 3000);
    assert_int_equal(st.files_created, 3);
    assert_int_equal(st.fsyncs, 1);
    assert_int_equal(st.lat_count, 8);

    struct dfs_io_stats sum = { 0 }, x;
    for (int p = 0; p < DFS_PHASE_COUNT; p++) {
        dfs_stats_phase(e.d, p, &x);
        sum.ops += x.ops;
        sum.bytes_read += x.bytes_read;
        sum.bytes_written += x.bytes_written;
    }
    assert_int_equal(sum.ops, st.total.ops);
    assert_int_equal(sum.bytes_read, st.total.bytes_read);
    assert_int_equal(sum.bytes_written, st.total.bytes_written);
    dfs_stats_phase(e.d, DFS_PHASE_CHECKPOINT, &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_phase(e.d, DFS_PHASE_PROBE, &x);
    assert_int_equal(x.ops, 1);
    dfs_stats_job(e.d, 7, &x);
    assert_int_equal(x.ops, 7);
    assert_int_equal(x.bytes_read, 3000);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_job(e.d, 9, &x);
    assert_int_equal(x.ops, 1);
    dfs_stats_job(e.d, 1234, &x);
    assert_int_equal(x.ops, 0);
    dfs_stats_node(e.d, rt_node_id(e.cn[0]), &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_node(e.d, rt_node_id(e.cn[1]), &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_read, 3000);

    /* The series adds up to the totals. */
    static struct dfs_bucket b[4096];
    uint64_t width;
    size_t n = dfs_series_get(e.d, b, 4096, &width);
    assert_true(n > 0 && n <= 4096);
    assert_int_equal(width, 10 * RT_NS_PER_MS);
    uint64_t ops = 0, rb = 0, wb = 0;
    for (size_t i = 0; i < n; i++) {
        ops += b[i].ops;
        rb += b[i].bytes_read;
        wb += b[i].bytes_written;
        assert_int_equal(b[i].t_ms, i * 10);
    }
    assert_int_equal(ops, 8);
    assert_int_equal(rb, 3000);
    assert_int_equal(wb, 3000);
    env_down(&e);
}
BOTH(counters_body)

/* A long run past the series' capacity: buckets merge, totals stay. */
static void test_series_merge_sim(void **s)
{
    (void)s;
    struct dfs_config m = { .series_cap = 8, .series_bucket_ns = RT_NS_PER_MS };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(op_status(&e, wr("s/x", "abcd", 4)), 0);
        rt_world_wait(e.w, NULL, NULL, 7 * RT_NS_PER_MS);
    }
    struct dfs_bucket b[8];
    uint64_t width;
    size_t n = dfs_series_get(e.d, b, 8, &width);
    assert_true(n <= 8);
    assert_true(width >= 4 * RT_NS_PER_MS);     /* 5 x 7 ms did not fit in 8 x 1 ms */
    uint64_t wb = 0;
    for (size_t i = 0; i < n; i++)
        wb += b[i].bytes_written;
    assert_int_equal(wb, 20);
    env_down(&e);
}

/* By purpose: a restore storm's reads, the checkpoint writes before it and a
 * probe's stat are counted apart - totals, peaks and a window - and the
 * purposes add up to the totals; merged buckets keep the sums. */
static void test_purposes_sim(void **s)
{
    (void)s;
    struct dfs_config m = { .bandwidth = 4 * MiB, .streams = 2, .series_cap = 16,
                            .series_bucket_ns = 100 * RT_NS_PER_MS };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 4);
    char names[5][32];
    struct dfs_req w[5], r[5];
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], sizeof(names[i]), "job-1/chk-1/task-%d", i);
        w[i] = wr(names[i], data, sizeof(data));
        w[i].phase = i < 3 ? DFS_PHASE_CHECKPOINT : DFS_PHASE_BLOB;
        r[i] = rd(names[i], 0, 0);
        r[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, w, 3);           /* three checkpoint writes at once */
    run(&e, 0, w + 3, 2);       /* two artifact (blob) writes at once */
    rt_world_wait(e.w, NULL, NULL, 500 * RT_NS_PER_MS);
    uint64_t t0 = rt_now(e.w);
    run(&e, 1, r, 5);
    struct dfs_req probe = simple(DFS_OP_STAT, names[0]);
    probe.phase = DFS_PHASE_PROBE;
    run(&e, 1, &probe, 1);

    struct dfs_window x;
    dfs_purpose_get(e.d, DFS_PURPOSE_RESTORE, &x);
    assert_int_equal(x.bytes_read, 5 * MiB);
    assert_int_equal(x.ops, 5);
    assert_int_equal(x.peak_concurrency, 5);
    dfs_purpose_get(e.d, DFS_PURPOSE_CHECKPOINT, &x);
    assert_int_equal(x.bytes_written, 3 * MiB);
    assert_int_equal(x.peak_concurrency, 3);
    dfs_purpose_get(e.d, DFS_PURPOSE_ARTIFACTS, &x);
    assert_int_equal(x.bytes_written, 2 * MiB);
    assert_int_equal(x.peak_concurrency, 2);
    dfs_purpose_get(e.d, DFS_PURPOSE_PROBE, &x);
    assert_int_equal(x.ops, 1);
    assert_int_equal(x.peak_concurrency, 1);
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    uint64_t ops = 0, rb = 0, wb = 0;
    for (int p = 0; p < DFS_PURPOSE_COUNT; p++) {
        dfs_purpose_get(e.d, p, &x);
        ops += x.ops;
        rb += x.bytes_read;
        wb += x.bytes_written;
    }
    assert_int_equal(ops, st.total.ops);
    assert_int_equal(rb, st.total.bytes_read);
    assert_int_equal(wb, st.total.bytes_written);

    /* The window from the storm's start: the restore, none of the checkpoint. */
    dfs_purpose_window(e.d, DFS_PURPOSE_RESTORE, t0, rt_now(e.w) + 1, &x);
    assert_int_equal(x.bytes_read, 5 * MiB);
    assert_int_equal(x.peak_concurrency, 5);
    dfs_purpose_window(e.d, DFS_PURPOSE_CHECKPOINT, t0, rt_now(e.w) + 1, &x);
    assert_int_equal(x.bytes_written, 0);
    assert_int_equal(x.peak_concurrency, 0);
    /* The run (about 3 s) outgrew 16 x 100 ms: buckets merged, sums kept. */
    uint64_t width;
    dfs_series_get(e.d, NULL, 0, &width);
    assert_true(width > 100 * RT_NS_PER_MS);
    dfs_purpose_window(e.d, DFS_PURPOSE_CHECKPOINT, 0, rt_now(e.w) + 1, &x);
    assert_int_equal(x.bytes_written, 3 * MiB);
    assert_int_equal(x.peak_concurrency, 3);
    assert_string_equal(dfs_purpose_name(dfs_phase_purpose(DFS_PHASE_HA)), "other");
    assert_string_equal(dfs_purpose_name(dfs_phase_purpose(DFS_PHASE_BLOB)), "artifacts");
    env_down(&e);
}

/* ---- a crash of the dfs node ---------------------------------------------------- */

static void crash_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    assert_int_equal(op_status(&e, wr("ha/leader", "jm-1", 4)), 0);
    rt_addr before = dfs_addr(e.d);
    rt_node_crash(dfs_node(e.d));
    assert_int_equal(rt_world_wait(e.w, node_down, dfs_node(e.d), WAIT_NS), 0);
    /* The request cannot leave: the client gets its answer from itself. */
    assert_int_equal(op_status(&e, simple(DFS_OP_STAT, "ha/leader")), -EHOSTDOWN);
    assert_int_equal(dfs_restart(e.d), 0);
    assert_int_equal(dfs_restart(e.d), -EALREADY);
    assert_true(dfs_addr(e.d) != before);
    /* What was written survives the crash, in both worlds. */
    struct slot *s = op(&e, 0, rd("ha/leader", 0, 0));
    assert_int_equal(s->done.status, 0);
    assert_memory_equal(s->buf, "jm-1", 4);
    env_down(&e);
}
BOTH(crash_body)

/* ---- determinism: same seed, same run ---------------------------------------- */

static uint64_t sim_run_hash(void)
{
    struct dfs_config m = { .bandwidth = MiB, .streams = 2, .ops_per_s = 1000, .base_latency_ns = 5000 };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[64 * 1024];
    fill(data, sizeof(data), 11);
    struct dfs_req reqs[12];
    char names[6][32];
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof(names[i]), "job-%d/chk-1/t", 6 - i);
        reqs[i] = wr(names[i], data, sizeof(data) / (size_t)(i + 1));
        reqs[6 + i] = rd(names[i], 0, 0);
    }
    run(&e, 0, reqs, 6);
    run(&e, 1, reqs + 6, 6);
    run(&e, 0, (struct dfs_req[]){ simple(DFS_OP_LIST, "") }, 1);
    uint64_t h = rt_trace_hash(e.w);
    env_down(&e);
    return h;
}

static void test_determinism_sim(void **s)
{
    (void)s;
    assert_int_equal(sim_run_hash(), sim_run_hash());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bandwidth_body_sim),
        cmocka_unit_test(bandwidth_body_real),
        cmocka_unit_test(test_ops_rate_sim),
        cmocka_unit_test(test_ops_burst_sim),
        cmocka_unit_test(counters_body_sim),
        cmocka_unit_test(counters_body_real),
        cmocka_unit_test(test_series_merge_sim),
        cmocka_unit_test(test_purposes_sim),
        cmocka_unit_test(crash_body_sim),
        cmocka_unit_test(crash_body_real),
        cmocka_unit_test(test_determinism_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
