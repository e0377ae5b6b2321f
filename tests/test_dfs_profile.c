/*
 * test_dfs_profile.c - the storage profiles beside the DFS capacity model
 * (runtime/dfs_profile.c), in the sim world where virtual time makes every
 * figure exact: S3's per-prefix rates with 503 SlowDown and the client's
 * jittered retries, the give-up after the retry limit, entropy injection
 * spreading data files (not metadata) over prefixes, the per-connection
 * bandwidth, the first-byte latency range, a client node's connection
 * pool, HDFS's NameNode rates (waiting, not throttling), determinism,
 * queueing by purpose and a client node's network link.
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

#define MS RT_NS_PER_MS

/* An S3 profile with the parts a test does not look at switched off. */
static struct dfs_config s3_bare(void)
{
    struct dfs_config m = { 0 };
    dfs_profile_defaults(&m.profile, DFS_PROFILE_S3);
    m.profile.latency_max_ns = 0;
    m.profile.pool = 0;
    m.profile.conn_bandwidth = 0;
    return m;
}

static uint64_t max_latency(const struct env *e, int ci, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (e->cl[ci].slots[i].done.latency_ns > m)
            m = e->cl[ci].slots[i].done.latency_ns;
    return m;
}

/* 30 HEADs on one prefix allowed 10/s (a burst of one second's worth):
 * 10 pass, the others get 503 and retry with backoff until they fit.
 * None fails, and the last cannot finish before the rate allows (2 s). */
static void throttle_run(uint64_t *lat_out)
{
    struct dfs_config m = s3_bare();
    m.profile.read_rate = 10;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    struct dfs_req reqs[30];
    for (int i = 0; i < 30; i++) {
        reqs[i] = simple(DFS_OP_STAT, "job-1/shared/a");
        reqs[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, reqs, 30);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(e.cl[0].slots[i].done.status, -ENOENT);
        if (lat_out)
            lat_out[i] = e.cl[0].slots[i].done.latency_ns;
    }
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    assert_true(ps.throttled_requests >= 20);
    assert_int_equal(ps.retries, ps.throttled_requests);
    assert_int_equal(ps.gave_up, 0);
    assert_int_equal(ps.partitions, 1);
    assert_true(max_latency(&e, 0, 30) >= 2 * RT_NS_PER_SEC);
    /* A 503's backoff is no queue: nothing waited for the store's capacity. */
    struct dfs_wait_stats ws;
    dfs_wait_stats_get(e.d, DFS_PURPOSE_RESTORE, &ws);
    assert_int_equal(ws.waits, 0);
    assert_int_equal(ws.wait_ns, 0);
    /* The first ten went straight through. */
    for (int i = 0; i < 10; i++)
        assert_true(e.cl[0].slots[i].done.latency_ns < 2 * LINK_NS + 100);
    env_down(&e);
}

static void test_throttle_retry(void **s)
{
    (void)s;
    throttle_run(NULL);
}

/* Same seed, same jitter: the retries replay to the nanosecond. */
static void test_throttle_deterministic(void **s)
{
    (void)s;
    uint64_t a[30], b[30];
    throttle_run(a);
    throttle_run(b);
    assert_memory_equal(a, b, sizeof(a));
}

/* Past fs.s3a.retry.throttle.limit the SlowDown reaches the caller. */
static void test_throttle_gives_up(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.read_rate = 1;
    m.profile.retry_limit = 2;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    struct dfs_req reqs[3];
    for (int i = 0; i < 3; i++)
        reqs[i] = simple(DFS_OP_STAT, "job-1/shared/a");
    run(&e, 0, reqs, 3);
    int again = 0;
    for (int i = 0; i < 3; i++)
        again += e.cl[0].slots[i].done.status == -EAGAIN;
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    /* One passes at once, one passes after a backoff of >= 1 s; at 1/s
     * with retries of 100, 200, 400 ms (+-50%) the third cannot. */
    assert_true(again >= 1);
    assert_int_equal(ps.gave_up, (uint64_t)again);
    assert_true(ps.retries <= 2 * 2);
    env_down(&e);
}

/* 20 new SST files on one prefix allowed 5 writes/s throttle; with
 * entropy each lands on a prefix of its own and none is throttled.
 * _metadata files keep the fixed prefix (Flink drops the entropy key). */
static uint64_t entropy_run(uint32_t entropy, const char *fmt, uint64_t *parts)
{
    struct dfs_config m = s3_bare();
    m.profile.write_rate = 5;
    m.profile.entropy_length = entropy;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static const char data[100];
    char names[20][48];
    struct dfs_req reqs[20];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), fmt, i);
        reqs[i] = wr(names[i], data, sizeof(data));
        reqs[i].phase = DFS_PHASE_CHECKPOINT;
    }
    run(&e, 0, reqs, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(e.cl[0].slots[i].done.status, 0);
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    *parts = ps.partitions;
    env_down(&e);
    return ps.throttled_requests;
}

static void test_entropy_spreads_data_files(void **s)
{
    (void)s;
    uint64_t parts;
    assert_true(entropy_run(0, "job-1/shared/sst-%d", &parts) > 0);
    assert_int_equal(parts, 1);
    assert_int_equal(entropy_run(4, "job-1/shared/sst-%d", &parts), 0);
    assert_int_equal(parts, 20);
    assert_true(entropy_run(4, "job-%d/chk-1/_metadata", &parts) > 0);
    assert_int_equal(parts, 1);
}

/* A request never moves faster than one connection: 1 MiB at 1 MiB/s is
 * one second, however idle the store. */
static void test_connection_bandwidth(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    struct slot *w = op(&e, 0, wr("job-1/shared/f", data, sizeof(data)));
    assert_int_equal(w->done.status, 0);
    assert_int_equal(w->done.latency_ns, LINK_NS + RT_NS_PER_SEC);
    env_down(&e);
}

/* First byte between latency= and latency-max, drawn per request. */
static void test_latency_range(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.base_latency_ns = 100 * MS;
    m.profile.latency_max_ns = 200 * MS;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    struct dfs_req reqs[20];
    for (int i = 0; i < 20; i++)
        reqs[i] = simple(DFS_OP_STAT, "x");
    run(&e, 0, reqs, 20);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 20; i++) {
        uint64_t l = e.cl[0].slots[i].done.latency_ns - LINK_NS - (uint64_t)i;
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
    }
    assert_true(lo >= 100 * MS && hi <= 200 * MS);
    assert_true(hi - lo > 10 * MS);     /* drawn, not constant */
    env_down(&e);
}

/* A node's pool of 2: its 6 one-second reads go two at a time; the other
 * node's read does not wait behind them. */
static void test_pool_per_node(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    m.profile.pool = 2;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    assert_int_equal(op_status(&e, wr("job-1/shared/f", data, sizeof(data))), 0);
    struct dfs_req reqs[6];
    for (int i = 0; i < 6; i++)
        reqs[i] = rd("job-1/shared/f", 0, 0);
    run(&e, 0, reqs, 6);
    for (int i = 0; i < 6; i++) {
        uint64_t want = (uint64_t)(i / 2 + 1) * RT_NS_PER_SEC;
        uint64_t got = e.cl[0].slots[i].done.latency_ns - LINK_NS;
        assert_true(got >= want && got < want + MS);
    }
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    assert_int_equal(ps.pool_waits, 4);
    struct slot *o = op(&e, 1, rd("job-1/shared/f", 0, 0));
    assert_int_equal(o->done.latency_ns, LINK_NS + RT_NS_PER_SEC);
    env_down(&e);
}

/* HDFS: the NameNode's creates are far costlier than its reads; requests
 * above the rate wait (RPC queue), they are not refused. */
static void test_hdfs_namenode_rates(void **s)
{
    (void)s;
    struct dfs_config m = { 0 };
    dfs_profile_defaults(&m.profile, DFS_PROFILE_HDFS);
    assert_true(m.profile.write_rate * 10 < m.profile.read_rate);
    m.profile.write_rate = 10;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static const char data[10];
    char names[20][32];
    struct dfs_req reqs[20];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), "job-1/f%d", i);
        reqs[i] = wr(names[i], data, sizeof(data));
    }
    run(&e, 0, reqs, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(e.cl[0].slots[i].done.status, 0);
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    assert_int_equal(ps.throttled_requests, 0);
    assert_int_equal(ps.rate_waits, 10);
    /* 20 creates at 10/s with a second's burst: the last starts at 1 s. */
    assert_true(max_latency(&e, 0, 20) >= RT_NS_PER_SEC);
    /* Reads are not held to the create rate. */
    struct dfs_req stats[20];
    for (int i = 0; i < 20; i++)
        stats[i] = simple(DFS_OP_STAT, names[i]);
    run(&e, 0, stats, 20);
    assert_true(max_latency(&e, 0, 20) < 2 * LINK_NS + 100);
    env_down(&e);
}

/* A restore read as SST files: 10 files of 1 MiB at 1 MiB/s per connection
 * through `threads` transfer threads take ceil(10 / threads) seconds; each
 * file is a request of its own, and the data comes back whole. */
static uint64_t parts_run(uint32_t threads, uint64_t *ops)
{
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[10 * MiB];
    fill(data, sizeof(data), 9);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/op-0", data, sizeof(data))), 0);
    struct dfs_stats before, after;
    dfs_stats_get(e.d, &before);
    struct dfs_req r = rd("job-1/chk-1/op-0", 0, 0);
    r.phase = DFS_PHASE_RESTORE;
    r.part_size = MiB;
    r.part_group = 7;
    r.part_parallel = threads;
    struct slot *sl = op(&e, 0, r);
    assert_int_equal(sl->done.status, 0);
    assert_int_equal(sl->done.bytes, 10 * MiB);
    assert_true(sl->got > 0);
    assert_memory_equal(sl->buf, data, sl->got);
    dfs_stats_get(e.d, &after);
    *ops = after.total.ops - before.total.ops;
    assert_int_equal(after.total.bytes_read - before.total.bytes_read, 10 * MiB);
    uint64_t lat = sl->done.latency_ns;
    env_down(&e);
    return lat;
}

static void test_transfer_threads_bound_parts(void **s)
{
    (void)s;
    uint64_t ops;
    assert_int_equal(parts_run(2, &ops), LINK_NS + 5 * RT_NS_PER_SEC);
    assert_int_equal(ops, 10);
    assert_int_equal(parts_run(4, &ops), LINK_NS + 3 * RT_NS_PER_SEC);
    assert_int_equal(parts_run(0, &ops), LINK_NS + 10 * RT_NS_PER_SEC);
}

/* Two jobs' backends on one TaskManager may carry the same group number
 * (task ids are per job): each keeps its own transfer threads, so two
 * 10-part restores on 2 threads each take 5 s, not 10 s as one pool. */
static void test_transfer_threads_per_job(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[10 * MiB];
    fill(data, sizeof(data), 5);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/op-0", data, sizeof(data))), 0);
    assert_int_equal(op_status(&e, wr("job-2/chk-1/op-0", data, sizeof(data))), 0);
    struct dfs_req reqs[2] = { rd("job-1/chk-1/op-0", 0, 0), rd("job-2/chk-1/op-0", 0, 0) };
    for (uint32_t i = 0; i < 2; i++) {
        reqs[i].phase = DFS_PHASE_RESTORE;
        reqs[i].job = i + 1;
        reqs[i].part_size = MiB;
        reqs[i].part_group = 7;
        reqs[i].part_parallel = 2;
    }
    run(&e, 0, reqs, 2);
    for (int i = 0; i < 2; i++) {
        uint64_t got = e.cl[0].slots[i].done.latency_ns - LINK_NS;
        assert_int_equal(e.cl[0].slots[i].done.status, 0);
        assert_true(got >= 5 * RT_NS_PER_SEC && got < 5 * RT_NS_PER_SEC + MS);
    }
    env_down(&e);
}

/* A file no larger than one part still takes one of its backend's transfer
 * threads: three 1 MiB files on one thread finish at 1, 2 and 3 s. */
static void test_small_files_take_threads(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 6);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/op-0", data, sizeof(data))), 0);
    struct dfs_req reqs[3];
    for (int i = 0; i < 3; i++) {
        reqs[i] = rd("job-1/chk-1/op-0", 0, 0);
        reqs[i].phase = DFS_PHASE_RESTORE;
        reqs[i].part_size = 64 * MiB;
        reqs[i].part_group = 7;
        reqs[i].part_parallel = 1;
    }
    run(&e, 0, reqs, 3);
    uint64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(e.cl[0].slots[i].done.status, 0);
        assert_int_equal(e.cl[0].slots[i].done.bytes, MiB);
        sum += (e.cl[0].slots[i].done.latency_ns - LINK_NS) / RT_NS_PER_SEC;
    }
    assert_int_equal(sum, 1 + 2 + 3);
    assert_int_equal(max_latency(&e, 0, 3) / RT_NS_PER_SEC, 3);
    env_down(&e);
}

/* An upload as SST files: the same threads bound it, each file is a PUT of
 * its own (a write-class request), the store holds one complete file. */
static void test_parted_upload(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[10 * MiB];
    fill(data, sizeof(data), 4);
    struct dfs_req w = wr("job-1/chk-1/op-0", data, sizeof(data));
    w.phase = DFS_PHASE_CHECKPOINT;
    w.part_size = MiB;
    w.part_group = 3;
    w.part_parallel = 4;
    struct slot *sl = op(&e, 0, w);
    assert_int_equal(sl->done.status, 0);
    assert_int_equal(sl->done.bytes, 10 * MiB);
    assert_int_equal(sl->done.latency_ns, LINK_NS + 3 * RT_NS_PER_SEC);
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.total.ops, 10);
    assert_int_equal(st.total.bytes_written, 10 * MiB);
    assert_int_equal(st.files_created, 1);
    sl = op(&e, 0, rd("job-1/chk-1/op-0", 0, 0));
    assert_int_equal(sl->done.bytes, 10 * MiB);
    assert_memory_equal(sl->buf, data, sl->got);
    env_down(&e);
}

/* Within a microsecond: the sim world delivers messages sent together a
 * nanosecond or so apart. */
static void assert_about(uint64_t got, uint64_t want)
{
    assert_in_range(got, want - 1000, want + 1000);
}

/* Queueing is counted by purpose, with its time: three 1 MiB restore reads
 * and a probe's stat on one stream of 1 MiB/s.  The first read starts at
 * once (no wait); the others wait 1 s and 2 s for the stream, the stat 3 s.
 * Without a stream limit nothing waits. */
static void queue_run(uint32_t streams, struct dfs_wait_stats *restore, struct dfs_wait_stats *probe,
                      struct dfs_wait_stats *ckpt)
{
    struct dfs_config m = { 0 };
    dfs_profile_defaults(&m.profile, DFS_PROFILE_HDFS);
    m.bandwidth = streams ? streams * MiB : MiB;
    m.streams = streams;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 3);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/op-0", data, sizeof(data))), 0);
    struct dfs_req reqs[4];
    for (int i = 0; i < 3; i++) {
        reqs[i] = rd("job-1/chk-1/op-0", 0, 0);
        reqs[i].phase = DFS_PHASE_RESTORE;
    }
    reqs[3] = simple(DFS_OP_STAT, "probe/x");
    reqs[3].phase = DFS_PHASE_PROBE;
    run(&e, 0, reqs, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(e.cl[0].slots[i].done.bytes, MiB);
    dfs_wait_stats_get(e.d, DFS_PURPOSE_RESTORE, restore);
    dfs_wait_stats_get(e.d, DFS_PURPOSE_PROBE, probe);
    dfs_wait_stats_get(e.d, DFS_PURPOSE_CHECKPOINT, ckpt);
    env_down(&e);
}

static void test_queue_waits_by_purpose(void **s)
{
    (void)s;
    struct dfs_wait_stats r, p, c;
    queue_run(1, &r, &p, &c);
    assert_int_equal(r.waits, 2);
    assert_about(r.wait_ns, 3 * RT_NS_PER_SEC);
    assert_about(r.max_wait_ns, 2 * RT_NS_PER_SEC);
    assert_int_equal(p.waits, 1);
    assert_about(p.max_wait_ns, 3 * RT_NS_PER_SEC);
    assert_int_equal(c.waits, 0);   /* the setup write found the store idle */
    queue_run(0, &r, &p, &c);
    assert_int_equal(r.waits + p.waits + c.waits, 0);
    assert_int_equal(r.wait_ns + p.wait_ns + r.max_wait_ns, 0);
}

/* A request waiting for its node's pooled connection is queued too, from
 * when it was sent: pool of 1, three 1 s reads from one node wait 1 s and
 * 2 s. */
static void test_pool_wait_is_queueing(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.pool = 1;
    m.profile.conn_bandwidth = MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 8);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/op-0", data, sizeof(data))), 0);
    struct dfs_req reqs[3];
    for (int i = 0; i < 3; i++) {
        reqs[i] = rd("job-1/chk-1/op-0", 0, 0);
        reqs[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, reqs, 3);
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(e.d, &ps);
    struct dfs_wait_stats ws;
    dfs_wait_stats_get(e.d, DFS_PURPOSE_RESTORE, &ws);
    assert_int_equal(ps.pool_waits, 2);
    assert_int_equal(ws.waits, 2);
    assert_about(ws.wait_ns, 3 * RT_NS_PER_SEC);
    assert_about(ws.max_wait_ns, 2 * RT_NS_PER_SEC);
    env_down(&e);
}

/* A client node's link (2 MiB/s each way) under connections of 1 MiB/s:
 * four 1 MiB reads from one node finish at 1, 1, 1.5 and 2 s - the link,
 * not the connections, binds the last two (0.5 s and 1 s late).  Another
 * node has a link of its own, and writes go the other way. */
static void test_client_link(void **s)
{
    (void)s;
    struct dfs_config m = s3_bare();
    m.profile.conn_bandwidth = MiB;
    m.profile.client_link = 2 * MiB;
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 2);
    assert_int_equal(op_status(&e, wr("job-1/shared/f", data, sizeof(data))), 0);
    struct dfs_req reqs[4];
    for (int i = 0; i < 4; i++) {
        reqs[i] = rd("job-1/shared/f", 0, 0);
        reqs[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, reqs, 4);
    static const uint64_t want_ms[4] = {1000, 1000, 1500, 2000};
    for (int i = 0; i < 4; i++) {
        uint64_t got = e.cl[0].slots[i].done.latency_ns - LINK_NS;
        assert_int_equal(e.cl[0].slots[i].done.bytes, MiB);
        assert_true(got >= want_ms[i] * MS && got < want_ms[i] * MS + MS);
    }
    struct dfs_wait_stats ws;
    dfs_wait_stats_get(e.d, DFS_PURPOSE_RESTORE, &ws);
    assert_int_equal(ws.link_waits, 2);
    assert_in_range(ws.link_wait_ns, 1500 * MS - MS, 1500 * MS + MS);
    assert_int_equal(ws.waits, 0);          /* slowed in service, not queued */
    /* Node 1's link is its own: one read at its connection's rate. */
    struct slot *o = op(&e, 1, rd("job-1/shared/f", 0, 0));
    assert_int_equal(o->done.latency_ns, LINK_NS + RT_NS_PER_SEC);
    /* Two reads and two writes at once: each way carries 2 MiB in 1 s. */
    struct dfs_req mix[4] = { rd("job-1/shared/f", 0, 0), rd("job-1/shared/f", 0, 0),
                              wr("job-1/shared/g", data, sizeof(data)),
                              wr("job-1/shared/h", data, sizeof(data)) };
    run(&e, 0, mix, 4);
    assert_true(max_latency(&e, 0, 4) < LINK_NS + RT_NS_PER_SEC + MS);
    dfs_wait_stats_get(e.d, DFS_PURPOSE_OTHER, &ws);
    assert_int_equal(ws.link_waits, 0);
    env_down(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle_retry),
        cmocka_unit_test(test_throttle_deterministic),
        cmocka_unit_test(test_throttle_gives_up),
        cmocka_unit_test(test_entropy_spreads_data_files),
        cmocka_unit_test(test_connection_bandwidth),
        cmocka_unit_test(test_latency_range),
        cmocka_unit_test(test_pool_per_node),
        cmocka_unit_test(test_hdfs_namenode_rates),
        cmocka_unit_test(test_transfer_threads_bound_parts),
        cmocka_unit_test(test_transfer_threads_per_job),
        cmocka_unit_test(test_small_files_take_threads),
        cmocka_unit_test(test_parted_upload),
        cmocka_unit_test(test_queue_waits_by_purpose),
        cmocka_unit_test(test_pool_wait_is_queueing),
        cmocka_unit_test(test_client_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
