/*
 * test_logical.c - production-sized declared state in the sim world: bytes
 * carried as sized, checksummed payload descriptors, charged by the DFS in
 * full, never materialised.
 *
 *   - the DFS: a WRITE with logical bytes stores its data only, but has the
 *     logical size everywhere (STAT, READ, counters, service time); a READ
 *     reports the payload's sum, which dfs/corrupt spoils; appends after a
 *     payload are refused, and the real world refuses logical bytes;
 *   - the snapshot format: logical blobs round-trip as descriptors (format
 *     version 3, plain files stay version 2), incremental snapshots refer to
 *     them, a referred file's payload counts in its size, a flipped
 *     descriptor byte fails the file's checksum;
 *   - the engine: a job whose declared state is a descriptor per key
 *     restores exactly once, and a restore whose payload comes back spoilt
 *     or short falls back to the previous checkpoint, as a corrupt file does;
 *   - a scenario with GBs of declared state: the sim store holds kilobytes
 *     where the files stand for gigabytes, the run's memory stays small,
 *     every job exactly once;
 *   - the real world's refusal of a scenario too large for the machine: the
 *     figures it needs against given ones (tests/test_too_large.sh runs the
 *     CLI on a 200 TB scenario).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fiu-control.h>
#include <fiu.h>

#include "engine/jobrun.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "engine/snapshot.h"
#include "runtime/dfs.h"
#include "runtime/rt_mem.h"
#include "scenarios/report.h"
#include "scenarios/run.h"
#include "tests/dfs_env.h"
#include "tests/engine_env.h"
#include "tests/verdict.h"
#include "tests/scn_env.h"

#define GB 1000000000ull

/* ---- the DFS ------------------------------------------------------------------ */

static struct dfs_req logical_wr(const char *path, const void *data, size_t len,
                                 uint64_t logical, uint64_t seed)
{
    struct dfs_req r = wr(path, data, len);
    r.logical = logical;
    r.logical_seed = seed;
    return r;
}

static void test_dfs_logical(void **st)
{
    (void)st;
    struct env e;
    env_up(&e, RT_WORLD_SIM, NULL);
    static unsigned char data[1000];
    fill(data, sizeof(data), 3);
    const uint64_t L = 3 * GB;
    struct slot *s = op(&e, 0, logical_wr("j/chk-1/f", data, sizeof(data), L, 77));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, sizeof(data));
    assert_int_equal(s->done.logical, L);
    assert_int_equal(s->done.size, sizeof(data) + L);

    s = op(&e, 0, simple(DFS_OP_STAT, "j/chk-1/f"));
    assert_int_equal(s->done.size, sizeof(data) + L);

    /* The whole file: its data as bytes, its payload as a count and sum. */
    s = op(&e, 0, rd("j/chk-1/f", 0, 0));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, sizeof(data));
    assert_memory_equal(s->buf, data, sizeof(data));
    assert_int_equal(s->done.logical, L);
    assert_int_equal(s->done.logical_sum, dfs_payload_sum(77, 0, L));
    /* A range across the boundary, and one inside the payload. */
    s = op(&e, 0, rd("j/chk-1/f", 900, 300));
    assert_int_equal(s->done.bytes, 100);
    assert_memory_equal(s->buf, data + 900, 100);
    assert_int_equal(s->done.logical, 200);
    assert_int_equal(s->done.logical_sum, dfs_payload_sum(77, 0, 200));
    s = op(&e, 0, rd("j/chk-1/f", 5000, 10));
    assert_int_equal(s->done.bytes, 0);
    assert_int_equal(s->done.logical, 10);
    assert_int_equal(s->done.logical_sum, dfs_payload_sum(77, 4000, 10));
    assert_int_not_equal(dfs_payload_sum(77, 4000, 10), dfs_payload_sum(77, 4001, 10));

    /* Memory holds the data; the counters and the stored size have it all. */
    struct dfs_stats ds;
    dfs_stats_get(e.d, &ds);
    assert_int_equal(ds.stored_bytes, sizeof(data));
    assert_int_equal(ds.stored_logical_bytes, sizeof(data) + L);
    assert_int_equal(ds.total.logical_bytes_written, L);
    assert_int_equal(ds.total.bytes_written, sizeof(data) + L);
    assert_int_equal(ds.total.logical_bytes_read, L + 200 + 10);
    assert_int_equal(ds.total.bytes_read, sizeof(data) + L + 100 + 200 + 10);

    /* Nothing is appended after a payload, nor a payload appended. */
    struct dfs_req ap = wr("j/chk-1/f", data, 10);
    ap.flags = DFS_F_APPEND;
    assert_int_equal(op_status(&e, ap), -EINVAL);
    ap = logical_wr("j/other", data, 10, 5, 1);
    ap.flags = DFS_F_APPEND;
    assert_int_equal(op_status(&e, ap), -EINVAL);

    /* Rename carries the payload; delete gives everything back. */
    struct dfs_req rn = simple(DFS_OP_RENAME, "j/chk-1/f");
    rn.path2 = "j/chk-1/g";
    assert_int_equal(op_status(&e, rn), 0);
    s = op(&e, 0, rd("j/chk-1/g", 0, 0));
    assert_int_equal(s->done.logical, L);
    assert_int_equal(s->done.logical_sum, dfs_payload_sum(77, 0, L));
    struct dfs_req del = simple(DFS_OP_DELETE, "j/");
    del.flags = DFS_F_PREFIX;
    assert_int_equal(op_status(&e, del), 0);
    dfs_stats_get(e.d, &ds);
    assert_int_equal(ds.stored_bytes, 0);
    assert_int_equal(ds.stored_logical_bytes, 0);
    assert_int_equal(ds.peak_stored_logical_bytes, sizeof(data) + L);
    env_down(&e);
}

/* A logical byte costs the model what a real one does. */
static void test_dfs_logical_cost(void **st)
{
    (void)st;
    struct dfs_config model = { .bandwidth = 100000000, .streams = 1 };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &model);
    static unsigned char data[1000000];
    struct slot *s = op(&e, 0, wr("real", data, sizeof(data)));
    uint64_t real_ns = s->done.latency_ns;
    s = op(&e, 0, logical_wr("logical", data, 1000, sizeof(data) - 1000, 5));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.latency_ns, real_ns);
    assert_true(real_ns >= 10 * RT_NS_PER_MS);     /* 1 MB at 100 MB/s */
    s = op(&e, 0, rd("logical", 0, 0));
    assert_true(s->done.latency_ns >= 10 * RT_NS_PER_MS);
    env_down(&e);
}

/* dfs/corrupt picks one byte of what a read delivers: with a payload
 * of gigabytes behind a kilobyte of data, it lands in the payload and
 * spoils its sum; the data comes back intact. */
static void test_dfs_logical_corrupt(void **st)
{
    (void)st;
    struct env e;
    env_up(&e, RT_WORLD_SIM, NULL);
    static unsigned char data[1000];
    fill(data, sizeof(data), 9);
    assert_int_equal(op_status(&e, logical_wr("c", data, sizeof(data), 2 * GB, 4)), 0);
    assert_int_equal(fiu_enable("dfs/corrupt", 1, NULL, 0), 0);
    struct slot *s = op(&e, 0, rd("c", 0, 0));
    assert_int_equal(fiu_disable("dfs/corrupt"), 0);
    assert_int_equal(s->done.status, 0);
    assert_memory_equal(s->buf, data, sizeof(data));
    assert_int_equal(s->done.logical, 2 * GB);
    assert_int_not_equal(s->done.logical_sum, dfs_payload_sum(4, 0, 2 * GB));
    s = op(&e, 0, rd("c", 0, 0));                  /* what is stored is intact */
    assert_int_equal(s->done.logical_sum, dfs_payload_sum(4, 0, 2 * GB));
    env_down(&e);
}

/* The real world writes real bytes. */
static void test_dfs_logical_real_refused(void **st)
{
    (void)st;
    struct env e;
    env_up(&e, RT_WORLD_REAL, NULL);
    static unsigned char data[100];
    assert_int_equal(op_status(&e, logical_wr("r", data, sizeof(data), 1000, 1)), -EOPNOTSUPP);
    assert_int_equal(dfs_count_files(e.d, ""), 0);
    env_down(&e);
}

/* ---- the snapshot format ------------------------------------------------------ */

#define MAXP 16

/* 200 keys, each with a logical blob of (key + 1) MB; key 7 has a real one. */
static struct eng_kstate *logical_state(uint64_t *declared)
{
    struct eng_kstate *ks = eng_kstate_new(MAXP);
    *declared = 0;
    for (uint64_t k = 0; k < 200; k++) {
        eng_kstate_put(ks, k, (int64_t)k * 3);
        if (k == 7) {
            eng_kstate_put_blob(ks, k, "real", 4);
            continue;
        }
        struct eng_payload p = { .bytes = (k + 1) * 1000000, .seed = k ^ 0x55 };
        eng_kstate_put_logical(ks, k, &p);
        *declared += p.bytes;
    }
    return ks;
}

static void test_snapshot_logical_roundtrip(void **st)
{
    (void)st;
    uint64_t declared;
    struct eng_kstate *ks = logical_state(&declared);
    /* 16 bytes a key for 20 GB of declared state. */
    assert_true(eng_kstate_bytes(ks) < 64 * 1024);
    struct eng_snap_state s = { .checkpoint_id = 4, .max_parallelism = MAXP, .kg_last = MAXP - 1 };
    uint8_t *buf;
    size_t len;
    assert_int_equal(eng_snapshot_encode(&s, ks, &buf, &len), 0);
    assert_int_equal(s.payload_bytes, declared);
    assert_true(len < 16 * 1024);
    assert_int_equal(buf[4], 3);                    /* format version 3 */

    struct eng_kstate *back = eng_kstate_new(MAXP);
    struct eng_snap_state out;
    char err[256];
    assert_int_equal(eng_snapshot_decode(buf, len, "f", 0, MAXP - 1, back, &out, err, sizeof(err)),
                     0);
    assert_int_equal(eng_kstate_count(back), 200);
    for (uint64_t k = 0; k < 200; k++) {
        uint32_t blen;
        const uint8_t *b = eng_kstate_get_blob(back, k, &blen);
        assert_int_equal(*eng_kstate_get(back, k), (int64_t)k * 3);
        if (k == 7) {
            assert_false(eng_kstate_blob_is_logical(back, k));
            assert_int_equal(blen, 4);
            assert_memory_equal(b, "real", 4);
            continue;
        }
        assert_true(eng_kstate_blob_is_logical(back, k));
        assert_int_equal(blen, ENG_PAYLOAD_LEN);
        struct eng_payload p;
        eng_payload_get(b, &p);
        assert_int_equal(p.bytes, (k + 1) * 1000000);
        assert_int_equal(p.seed, k ^ 0x55);
    }
    eng_snap_state_release(&out);

    /* A flipped descriptor byte is a checksum mismatch like any other. */
    struct eng_kstate_entry *e;
    size_t ne = eng_kstate_collect(ks, 0, MAXP - 1, &e);
    rt_free(e);
    assert_int_equal(ne, 200);
    uint8_t *bad = rt_xmalloc(len);
    for (size_t at = 96; at < len - 8; at += 97) {
        memcpy(bad, buf, len);
        bad[at] ^= 0x10;
        struct eng_kstate *junk = eng_kstate_new(MAXP);
        assert_int_equal(eng_snapshot_decode(bad, len, "f", 0, MAXP - 1, junk, &out, err,
                                             sizeof(err)),
                         -EBADMSG);
        assert_non_null(strstr(err, "checksum mismatch"));
        eng_kstate_free(junk);
    }
    rt_free(bad);

    /* A state without logical blobs is written as before: version 2. */
    struct eng_kstate *plain = eng_kstate_new(MAXP);
    eng_kstate_put_blob(plain, 1, "abc", 3);
    uint8_t *pbuf;
    size_t plen;
    assert_int_equal(eng_snapshot_encode(&s, plain, &pbuf, &plen), 0);
    assert_int_equal(pbuf[4], 2);
    assert_int_equal(s.payload_bytes, 0);
    rt_free(pbuf);
    eng_kstate_free(plain);
    eng_kstate_free(back);
    eng_kstate_free(ks);
    rt_free(buf);
}

/* An incremental snapshot refers to the descriptors of its base: it carries
 * no payload of its own, and its restore needs the base with its payload. */
static void test_snapshot_logical_incremental(void **st)
{
    (void)st;
    uint64_t declared;
    struct eng_kstate *ks = logical_state(&declared);
    struct eng_snap_state s1 = { .checkpoint_id = 1, .max_parallelism = MAXP, .kg_last = MAXP - 1 };
    uint8_t *f1, *f2;
    size_t len1, len2;
    assert_int_equal(eng_snapshot_encode(&s1, ks, &f1, &len1), 0);
    uint64_t size1 = len1 + s1.payload_bytes;       /* its logical size */
    struct eng_snap_state s2 = { .checkpoint_id = 2, .max_parallelism = MAXP, .kg_last = MAXP - 1,
                                 .n_base = 1 };
    s2.base[0] = (struct eng_snap_fileref){ 1, size1, eng_snapshot_checksum(f1, len1) };
    assert_int_equal(eng_snapshot_encode(&s2, ks, &f2, &len2), 0);
    assert_int_equal(s2.n_refs, 1);
    assert_int_equal(s2.payload_bytes, 0);
    assert_int_equal(f2[4], 3);

    struct eng_snap_file files[1] = {{ 1, f1, len1, "chk-1", s1.payload_bytes }};
    struct eng_kstate *back = eng_kstate_new(MAXP);
    struct eng_snap_state out;
    char err[256];
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2", 0, MAXP - 1, back, files, 1,
                                              &out, err, sizeof(err)),
                     0);
    eng_snap_state_release(&out);
    struct eng_payload p;
    uint32_t blen;
    eng_payload_get(eng_kstate_get_blob(back, 42, &blen), &p);
    assert_true(eng_kstate_blob_is_logical(back, 42));
    assert_int_equal(p.bytes, 43 * 1000000);

    /* The referred file read without its whole payload: refused. */
    files[0].payload = s1.payload_bytes - 1;
    struct eng_kstate *junk = eng_kstate_new(MAXP);
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2", 0, MAXP - 1, junk, files, 1,
                                              &out, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "refers to"));
    eng_kstate_free(junk);
    eng_kstate_free(back);
    eng_kstate_free(ks);
    rt_free(f1);
    rt_free(f2);
}

/* ---- the engine ----------------------------------------------------------------- */

static rt_addr place(void *arg, uint32_t task, uint32_t attempt)
{
    struct engine_env *h = arg;
    rt_addr live[EENV_WORKERS];
    uint32_t n = 0;
    for (int i = 0; i < EENV_WORKERS; i++) {
        rt_addr a = atomic_load(&h->host[i]);
        if (a && rt_addr_alive(h->w, a))
            live[n++] = a;
    }
    return n ? live[(task + attempt) % n] : 0;
}

/* source(2) --hash--> count(2) --> declared state, per_key bytes a key (2)
 * --> sink(2); 100 keys.  in_count: the count holds the declared state
 * itself (op_keyed.c), with no operator of its own. */
static struct eng_jobgraph *declared_job_in(uint64_t per_key, bool in_count)
{
    struct eng_jobgraph *g = eng_jobgraph_new("declared");
    struct eng_op_args src = { .records = 40000, .keys = 100, .rate = 20000 };
    struct eng_op_args al = { .bytes_per_key = per_key, .declared = true };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 2, 0);
    int c = eng_jobgraph_add_vertex(g, "count", ENG_OP_COUNT, in_count ? &al : NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)c, ENG_EDGE_HASH);
    int a = c;
    if (!in_count) {
        a = eng_jobgraph_add_vertex(g, "state", ENG_OP_ALLOC, &al, 2, 0);
        eng_jobgraph_add_edge(g, (uint32_t)c, (uint32_t)a, ENG_EDGE_FORWARD);
    }
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)a, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

static struct eng_jobgraph *declared_job(uint64_t per_key)
{
    return declared_job_in(per_key, false);
}

static bool event_has(const struct eng_job *j, const char *a, const char *b)
{
    for (struct eng_job_event *e = atomic_load(&j->events); e; e = e->next)
        if (strstr(e->text, a) && strstr(e->text, b))
            return true;
    return false;
}

/* 100 keys of 50 MB each (5 GB) restored after a crash: exactly once,
 * with every logical byte read back and the store holding kilobytes -
 * held by an operator of its own, and by the count itself. */
static void declared_restore(bool in_count)
{
    struct engine_env h;
    eenv_up(&h, RT_WORLD_SIM, "logical", 99);
    struct eng_jobrun_policy pol = { .place = place, .arg = &h };
    eenv_submit(&h, declared_job_in(50000000, in_count), 200, 2, &pol);
    assert_int_equal(eenv_wait_checkpoint(&h, 2), 0);
    rt_node_crash(h.tm[1]);
    assert_int_equal(rt_world_wait(h.w, eenv_job_ended, &h, EENV_WAIT_NS), 0);
    assert_true(atomic_load(&h.job->restarts) >= 1);
    assert_int_equal(atomic_load(&h.job->restores_fell_back), 0);
    struct eng_verdict v = assert_output(h.job, NULL, false);
    assert_int_equal(v.committed, 80000);     /* 40 000 per source subtask */
    struct dfs_stats ds;
    dfs_stats_get(h.dfs, &ds);
    assert_true(ds.total.logical_bytes_written >= 2 * 5 * GB);
    struct dfs_io_stats rs;
    dfs_stats_phase(h.dfs, DFS_PHASE_RESTORE, &rs);
    assert_true(rs.logical_bytes_read >= GB);       /* the crashed worker's subtasks */
    assert_true(ds.peak_stored_logical_bytes >= 5 * GB);
    assert_true(ds.peak_stored_bytes < 1024 * 1024);
    eenv_down(&h);
}

static void test_engine_declared_restore(void **st)
{
    (void)st;
    declared_restore(false);
}

static void test_engine_declared_in_keyed(void **st)
{
    (void)st;
    declared_restore(true);
}

/* dfs/corrupt on the nth read that returns something, from now on. */
static int corrupt_nth, corrupt_seen;

static int nth_read(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
    (void)name, (void)failnum, (void)failinfo, (void)flags;
    return ++corrupt_seen == corrupt_nth;
}

/* The restore's reads come back spoilt, the nth of them for n = 1, 2, ...:
 * a state file's payload (the declared state's) or its data.  Either is
 * detected as for a corrupt file: the job restores the checkpoint again
 * (the sinks committed it) or, before they did, falls back to the previous
 * one; it finishes, nothing lost, nothing twice. */
static void test_engine_declared_corrupt(void **st)
{
    (void)st;
    int payload_hits = 0;
    for (corrupt_nth = 1; corrupt_nth <= 8; corrupt_nth++) {
        struct engine_env h;
        eenv_up(&h, RT_WORLD_SIM, "logical", 99);
        struct eng_jobrun_policy pol = { .place = place, .arg = &h };
        eenv_submit(&h, declared_job(50000000), 200, 2, &pol);
        assert_int_equal(eenv_wait_checkpoint(&h, 3), 0);
        corrupt_seen = 0;
        assert_int_equal(fiu_enable_external("dfs/corrupt", 1, NULL, 0, nth_read), 0);
        rt_node_crash(h.tm[1]);
        assert_int_equal(rt_world_wait(h.w, eenv_job_ended, &h, EENV_WAIT_NS), 0);
        fiu_disable("dfs/corrupt");
        assert_int_equal(eng_job_state(h.job), ENG_JOB_FINISHED);
        bool again = event_has(h.job, "restoring it again", ""),
             back = atomic_load(&h.job->restores_fell_back) == 1;
        if (corrupt_seen >= corrupt_nth)
            assert_true(again || back);
        payload_hits += event_has(h.job, "restoring it again", "payload checksum mismatch") ||
                        event_has(h.job, "falling back", "payload checksum mismatch");
        struct eng_verdict v = assert_output(h.job, NULL, !again);
        assert_int_equal(v.lost, 0);
        eenv_down(&h);
    }
    /* The walk covered the declared state's files too. */
    assert_true(payload_hits >= 1);
}

/* A client that rewrites a state file with one logical byte fewer: the same
 * data and seed, as a write cut short in its payload would leave it. */
struct truncator {
    struct dfs *dfs;
    const char *path;
    atomic_int done;                /* 1: rewritten; -1: failed */
};

static void truncator_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct truncator *t = rt_actor_state(a);
    struct dfs_done d;
    const void *data;
    if (dfs_done_parse(m, &d, &data) < 0)
        return;
    if (d.status < 0 || (d.op == DFS_OP_READ && (d.logical == 0 || d.bytes < 8))) {
        atomic_store(&t->done, -1);
    } else if (d.op == DFS_OP_READ) {
        const uint8_t *p = data;
        uint64_t seed = 0;      /* the file's checksum: its last 8 bytes, little-endian */
        for (int i = 7; i >= 0; i--)
            seed = (seed << 8) | p[d.bytes - 8 + (uint64_t)i];
        struct dfs_req w = { .op = DFS_OP_WRITE, .path = t->path, .data = data, .len = d.bytes,
                             .logical = d.logical - 1, .logical_seed = seed };
        dfs_submit(a, t->dfs, &w);
    } else {
        atomic_store(&t->done, 1);
    }
}

static const struct rt_actor_ops truncator_ops = { "truncator", truncator_msg, NULL };

static void truncator_start(struct rt_node *n, void *arg)
{
    struct truncator *t = arg;
    struct rt_actor *a = rt_actor_spawn(n, &truncator_ops, t);
    struct dfs_req r = { .op = DFS_OP_READ, .path = t->path };
    dfs_submit(a, t->dfs, &r);
}

static bool truncated(void *arg)
{
    return atomic_load(&((struct truncator *)arg)->done) != 0;
}

/* Two failures restart the job; the third fails it for good. */
static int two_restarts(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns)
{
    (void)arg, (void)reason;
    *delay_ns = 0;
    return failures <= 2;
}

/* A state file whose payload is one byte short of what the checkpoint lists
 * (a partial write): the restore says so.  The sinks committed that
 * checkpoint, so it is read again until the restart strategy gives up and
 * the job fails, saying why - never an older checkpoint that would commit
 * records twice. */
static void test_engine_declared_partial(void **st)
{
    (void)st;
    struct engine_env h;
    eenv_up(&h, RT_WORLD_SIM, "logical", 99);
    struct eng_jobrun_policy pol = { .place = place, .arg = &h, .on_failure = two_restarts };
    eenv_submit(&h, declared_job(50000000), 200, 2, &pol);
    assert_int_equal(eenv_wait_checkpoint(&h, 3), 0);
    struct truncator t = { .dfs = h.dfs, .path = "job-1/chk-3/v2-s0.state" };
    assert_int_equal(rt_node_call(h.jm, truncator_start, &t), 0);
    assert_int_equal(rt_world_wait(h.w, truncated, &t, EENV_WAIT_NS), 0);
    assert_int_equal(atomic_load(&t.done), 1);
    rt_node_crash(h.tm[1]);
    assert_int_equal(rt_world_wait(h.w, eenv_job_ended, &h, EENV_WAIT_NS), 0);
    if (!event_has(h.job, "restoring it again", "truncated"))
        for (struct eng_job_event *e = atomic_load(&h.job->events); e; e = e->next)
            print_message("event: %s\n", e->text);
    assert_true(event_has(h.job, "restoring it again", "truncated"));
    assert_int_equal(atomic_load(&h.job->restores_fell_back), 0);
    assert_int_equal(eng_job_state(h.job), ENG_JOB_FAILED);
    eenv_down(&h);
}

/* ---- a scenario with GBs of declared state ------------------------------------ */

static const char big[] =
    "cluster taskmanagers=3 slots=2\n"
    "config cluster.evenly-spread-out-slots=true\n"
    "config heartbeat.interval=100ms heartbeat.timeout=500ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "config restart-strategy.fixed-delay.delay=100ms\n"
    "config execution.checkpointing.interval=2s\n"
    "dfs bandwidth=2GB/s streams=16 latency=2ms\n"
    "deadline 120s\n"
    "job a source=sequence(records=200k, keys=1k, rate=20k/s) | keyby | count | sink parallelism=2 state=4GB\n"
    "job b source=sequence(records=200k, keys=1k, rate=20k/s) | keyby | sum | sink parallelism=2 state=2GB\n"
    "when checkpoint a 2 done kill taskmanager-of a[0]\n"
    "expect all jobs finished exactly-once\n";

static long long geti(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(v, b) : v);
}

static void test_run_gigabytes(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("big.scn", big);
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_SIM, .has_seed = true,
                              .seed = 1, .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    assert_int_equal(scn_run(s, &o, &out, err, sizeof(err)), SCN_RUN_OK);
    char why[256];
    if (report_json_check(out, why, sizeof(why)) != 0)
        fail_msg("run object incomplete: %s", why);
    const json_t *jobs = json_object_get(out, "jobs");
    for (size_t j = 0; j < json_array_size(jobs); j++)
        assert_true(json_is_true(json_object_get(json_array_get(jobs, j), "exactly_once")));
    /* 6 GB declared, written at every checkpoint and read back by the
     * restarted subtasks. */
    assert_true(geti(out, "dfs", "logical_bytes_written") >= 6 * (long long)GB);
    assert_true(geti(out, "dfs", "logical_bytes_read") >= 1 * (long long)GB);
    assert_true(geti(out, "dfs", "bytes_written") > geti(out, "dfs", "logical_bytes_written"));
    /* The store held the checkpoints' GBs as kilobytes of descriptors... */
    assert_true(geti(out, "dfs", "stored_logical_bytes_peak") >= 6 * (long long)GB);
    assert_true(geti(out, "dfs", "stored_bytes_peak") < 4 * 1024 * 1024);
    /* ... and the run's memory grows with keys and records, not with them. */
    assert_true(geti(out, "memory", "peak_bytes") < 64 * 1024 * 1024);
    json_decref(out);
    scn_scenario_free(s);
}

/* An application's jar is staged as a descriptor in the sim world: main()
 * downloads every byte of it (counted, charged), the store never holds
 * them, and the blobs the client ships are descriptors too: counted as
 * bytes, held by nobody. */
static const char jar[] =
    "cluster taskmanagers=2 slots=2\n"
    "dfs bandwidth=1GB/s streams=8 latency=1ms\n"
    "deadline 30s\n"
    "job j source=sequence(records=20k, keys=100, rate=100k/s) | keyby | sum | sink parallelism=2\n"
    "application app jobs=j artifacts=24MB main-cpu=10ms\n"
    "expect all jobs finished exactly-once\n";

static void test_run_staged_jar(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("jar.scn", jar);
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_SIM, .has_seed = true,
                              .seed = 1, .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    assert_int_equal(scn_run(s, &o, &out, err, sizeof(err)), SCN_RUN_OK);
    assert_true(json_is_true(json_object_get(out, "ok")));
    assert_int_equal(geti(out, "client", "bytes_downloaded"), 24000000);
    assert_int_equal(geti(out, "dfs", "logical_bytes_written"), 24000000);
    assert_true(geti(out, "dfs", "logical_bytes_read") >= 24000000);
    assert_true(geti(out, "dfs", "stored_bytes_peak") < 1000000);
    assert_true(geti(out, "client", "bytes_uploaded") >= 24000000);     /* blobs: counted */
    assert_true(geti(out, "memory", "peak_bytes") < 16 * 1000 * 1000);  /* ... not held */
    json_decref(out);
    scn_scenario_free(s);
}

/* Where a job's declared state lives: in the count, sum or reduce right
 * before the sink (no operator of its own), else in a "state" operator
 * before the sink; the reference model of either holds none. */
static bool has_vertex(const struct eng_jobgraph *g, const char *name, enum eng_op_kind kind,
                       uint64_t per_key)
{
    for (uint32_t v = 0; v < eng_jobgraph_vertex_count(g); v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        if (strcmp(x->name, name) == 0 && x->kind == kind)
            return x->args.bytes_per_key == per_key && x->args.declared == (per_key != 0);
    }
    return false;
}

static void test_declared_placement(void **st)
{
    (void)st;
    static const char text[] =
        "job a source=sequence(records=1k, keys=100) | keyby | sum | sink state=4MB\n"
        "job b source=sequence(records=1k, keys=100) | map | sink state=4MB\n"
        "job c source=sequence(records=1k, keys=100) | keyby | count | map | sink state=4MB\n"
        "job d source=sequence(records=1k, keys=100) | keyby | reduce | sink\n";
    struct scn_scenario *s = scn_env_parse("placement.scn", text);
    struct eng_jobgraph *a = scn_job_graph(&s->jobs[0]), *b = scn_job_graph(&s->jobs[1]),
                        *c = scn_job_graph(&s->jobs[2]), *d = scn_job_graph(&s->jobs[3]);
    assert_int_equal(eng_jobgraph_vertex_count(a), 3);          /* source, sum, sink */
    assert_true(has_vertex(a, "sum2", ENG_OP_SUM, 40000));
    assert_int_equal(eng_jobgraph_vertex_count(b), 4);          /* source, map, state, sink */
    assert_true(has_vertex(b, "state", ENG_OP_ALLOC, 40000));
    assert_true(has_vertex(c, "count2", ENG_OP_COUNT, 0));      /* not right before the sink */
    assert_true(has_vertex(c, "state", ENG_OP_ALLOC, 40000));
    assert_true(has_vertex(d, "reduce2", ENG_OP_REDUCE, 0));    /* nothing declared */
    /* The expected output does not depend on where the state lives. */
    struct eng_expected *ea, *ex;
    char err[200];
    assert_int_equal(eng_reference(a, &ea, err, sizeof(err)), 0);
    s->jobs[0].state_bytes = 0;
    struct eng_jobgraph *plain = scn_job_graph(&s->jobs[0]);
    assert_true(has_vertex(plain, "sum2", ENG_OP_SUM, 0));
    assert_int_equal(eng_reference(plain, &ex, err, sizeof(err)), 0);
    assert_int_equal(eng_expected_records(ea), eng_expected_records(ex));
    eng_expected_free(ea);
    eng_expected_free(ex);
    eng_jobgraph_free(plain);
    eng_jobgraph_free(a);
    eng_jobgraph_free(b);
    eng_jobgraph_free(c);
    eng_jobgraph_free(d);
    scn_scenario_free(s);
}

/* In the real world the keyed operator holds declared state as real bytes:
 * in the TaskManagers' memory, written whole into every checkpoint. */
static void test_real_world_declared_in_keyed(void **st)
{
    (void)st;
    static const char text[] =
        "cluster taskmanagers=2 slots=2\n"
        "config execution.checkpointing.interval=100ms\n"
        "dfs bandwidth=1GB/s streams=8 latency=1ms\n"
        "deadline 30s\n"
        "job j source=sequence(records=40k, keys=1k, rate=100k/s) | keyby | sum | sink "
        "parallelism=2 state=2MB\n"
        "expect all jobs finished exactly-once\n";
    struct scn_scenario *s = scn_env_parse("real.scn", text);
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_REAL, .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    assert_int_equal(scn_run(s, &o, &out, err, sizeof(err)), SCN_RUN_OK);
    assert_int_equal(geti(out, "dfs", "logical_bytes_written"), 0);
    assert_true(geti(out, "dfs", "bytes_written") >= 2000000);
    json_t *tms = json_object_get(json_object_get(out, "memory"), "taskmanager_peak_bytes");
    long long held = 0;
    for (size_t i = 0; i < json_array_size(tms); i++)
        held += json_integer_value(json_array_get(tms, i));
    assert_true(held >= 2000000);
    json_decref(out);
    scn_scenario_free(s);
}

/* ---- the real world's refusal ----------------------------------------------- */

static void test_real_world_fit(void **st)
{
    (void)st;
    static const char text[] =
        "config execution.checkpointing.interval=1s\n"
        "config state.checkpoints.num-retained=2\n"
        "job a source=sequence(records=1k) | keyby | sum | sink state=3GB\n"
        "job b source=sequence(records=1k) | keyby | sum | sink state=5GB\n";
    struct scn_scenario *s = scn_env_parse("fit.scn", text);
    struct scn_fit need = {0};
    scn_run_fit_needs(s, &need);
    assert_int_equal(need.declared_bytes, 8 * GB);
    assert_int_equal(need.mem_bytes, 16 * GB);
    assert_int_equal(need.disk_bytes, 24 * GB);     /* 2 retained + the one being written */
    char err[768];
    /* Room for both: runs. */
    struct scn_fit machine = { .mem_avail = 16 * GB, .disk_avail = 24 * GB };
    assert_int_equal(scn_run_fit(s, NULL, &machine, err, sizeof(err)), 0);
    /* A byte short of memory: refused, at the largest job, with the figures. */
    machine.mem_avail = 16 * GB - 1;
    assert_int_equal(scn_run_fit(s, NULL, &machine, err, sizeof(err)), -EFBIG);
    assert_non_null(strstr(err, "fit.scn:4:1: error: too large for the real world"));
    assert_non_null(strstr(err, "needs at least 16.0 GB of memory (16000000000 bytes"));
    assert_null(strstr(err, "of disk"));
    /* Short of disk only. */
    machine = (struct scn_fit){ .mem_avail = 100 * GB, .disk_avail = 10 * GB };
    assert_int_equal(scn_run_fit(s, "somewhere", &machine, err, sizeof(err)), -EFBIG);
    assert_non_null(strstr(err, "24.0 GB of disk (24000000000 bytes: 2 retained checkpoint(s)"));
    assert_non_null(strstr(err, "10.0 GB free under somewhere"));
    assert_null(strstr(err, "of memory"));
    scn_scenario_free(s);

    /* Without checkpointing nothing is written: no disk needed. */
    static const char nockp[] = "job a source=sequence(records=1k) | keyby | sum | sink state=3GB\n";
    s = scn_env_parse("nockp.scn", nockp);
    scn_run_fit_needs(s, &need);
    assert_int_equal(need.disk_bytes, 0);
    machine = (struct scn_fit){ .mem_avail = 6 * GB, .disk_avail = 1 };
    assert_int_equal(scn_run_fit(s, NULL, &machine, err, sizeof(err)), 0);
    scn_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dfs_logical),
        cmocka_unit_test(test_dfs_logical_cost),
        cmocka_unit_test(test_dfs_logical_corrupt),
        cmocka_unit_test(test_dfs_logical_real_refused),
        cmocka_unit_test(test_snapshot_logical_roundtrip),
        cmocka_unit_test(test_snapshot_logical_incremental),
        cmocka_unit_test(test_engine_declared_restore),
        cmocka_unit_test(test_engine_declared_in_keyed),
        cmocka_unit_test(test_declared_placement),
        cmocka_unit_test(test_real_world_declared_in_keyed),
        cmocka_unit_test(test_engine_declared_corrupt),
        cmocka_unit_test(test_engine_declared_partial),
        cmocka_unit_test(test_run_gigabytes),
        cmocka_unit_test(test_run_staged_jar),
        cmocka_unit_test(test_real_world_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
