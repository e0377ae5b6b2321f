/*
 * test_blob.c - the blob server and the TaskManagers' BlobCache: what the
 * client puts comes back byte for byte; each TaskManager downloads a job's
 * artifacts once, however many of its tasks it runs, again for another job
 * and again after it restarts; a blob the server does not have is a clear
 * error that fails the deployment; with HA the blobs outlive the leader;
 * and the counters add up.  Every test runs in both worlds; logical blobs
 * (descriptors, blob.h) exist in the sim world only.
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
#include <xxhash.h>

#include "minicluster/blob.h"
#include "minicluster/client.h"
#include "minicluster/cluster.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "tests/cluster_env.h"
#include "tests/verdict.h"

#define WAIT_NS (60 * RT_NS_PER_SEC)
#define GRAPH_BYTES 4096
#define BIG (2 * MC_BLOB_CHUNK + 12345)     /* three chunks, the last one short */
#define SMALL (3u << 20)
#define NJOBS 3
_Static_assert(NJOBS <= CENV_JOBS, "struct cluster_env keeps the jobs cenv_down frees");

static bool blob_server_up(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->blob) != 0;
}

/* A cluster of tms TaskManagers with two slots each (seed 11; HA: one
 * standby) and a client node, made first: it keeps the node ids the test
 * has always run with.  Returns with the blob server up. */
static void env_up(struct cluster_env *e, enum rt_world_kind kind, uint32_t tms, bool ha)
{
    cenv_up(e, kind, "blob", 11, 100000);
    e->client = rt_node_new(e->w, "client");
    assert_int_equal(rt_node_start(e->client), 0);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, tms);
    cfg.ha = ha;
    cfg.standby_jms = ha ? 1 : 0;
    cenv_restart(&cfg, "2", "50ms");
    cenv_start(e, "session", &cfg);
    assert_int_equal(rt_world_wait(e->w, blob_server_up, e->c, WAIT_NS), 0);
}

/* ---- the client's side: put --------------------------------------------------- */

static bool upload_ended(void *arg) { return atomic_load(&((struct mc_upload *)arg)->done) != 0; }

/* The client puts job's graph and artifacts (logical: as descriptors); both
 * must be stored. */
static void upload_as(struct cluster_env *e, uint32_t job, uint64_t artifacts, bool logical)
{
    struct mc_upload u = { .cluster = e->c, .job = job, .graph_bytes = GRAPH_BYTES,
                           .artifact_bytes = artifacts, .logical = logical };
    assert_int_equal(mc_upload_start(e->client, &u), 0);
    assert_int_equal(rt_world_wait(e->w, upload_ended, &u, WAIT_NS), 0);
    if (atomic_load(&u.done) != 1)
        fail_msg("upload of job %u failed: %s", job, strerror(-atomic_load(&u.done)));
    assert_int_equal(atomic_load(&u.bytes_stored), GRAPH_BYTES + artifacts);
}

static void upload(struct cluster_env *e, uint32_t job, uint64_t artifacts)
{
    upload_as(e, job, artifacts, false);
}

/* ---- a reader of blobs: get, chunk by chunk, from whoever leads ----------------- */

struct getter {
    struct mc_cluster *c;
    uint32_t job;
    enum mc_blob_kind kind;
    struct rt_actor *self;
    unsigned char *buf;         /* process memory: the test thread frees it */
    uint64_t size, hash, got;
    uint32_t logical_chunks;    /* chunks that came as descriptors */
    uint32_t bad_sums;          /* of those, the ones whose payload sum is wrong */
    atomic_int done;            /* 1 ok, -errno */
};

static void get_next(struct getter *g)
{
    struct mc_blob_get req = { .job = g->job, .kind = g->kind, .offset = g->got };
    rt_send(g->self, atomic_load(&g->c->blob), MC_MSG_BLOB_GET, &req, sizeof(req));
}

static void getter_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct getter *g = rt_actor_state(a);
    const struct mc_blob_data *h = m->data;
    if (m->type != MC_MSG_BLOB_DATA || m->len < sizeof(*h) || h->offset != g->got)
        return;
    if (h->status < 0) {
        atomic_store(&g->done, h->status);
    } else {
        if (g->got == 0) {
            g->size = h->size;
            g->hash = h->hash;
        }
        if (h->logical) {
            g->logical_chunks++;
            g->bad_sums += h->sum != dfs_payload_sum(mc_blob_seed(g->job, g->kind), h->offset,
                                                     h->len);
        } else {
            if (!g->buf)
                g->buf = rt_xmalloc_process(h->size ? (size_t)h->size : 1);
            memcpy(g->buf + g->got, h + 1, h->len);
        }
        g->got += h->len;
        if (g->got < g->size && h->len) {
            get_next(g);
            return;
        }
        atomic_store(&g->done, g->got == g->size ? 1 : -EIO);
    }
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops getter_ops = { "testgetter", getter_msg, NULL };

static void getter_spawn(struct rt_node *n, void *arg)
{
    struct getter *g = arg;
    g->self = rt_actor_spawn(n, &getter_ops, g);
    get_next(g);
}

static bool get_ended(void *arg) { return atomic_load(&((struct getter *)arg)->done) != 0; }

/* Gets blob (job, kind) into g; returns what done says. */
static int get(struct cluster_env *e, struct getter *g, uint32_t job, enum mc_blob_kind kind)
{
    memset(g, 0, sizeof(*g));
    g->c = e->c;
    g->job = job;
    g->kind = kind;
    assert_int_equal(rt_node_call(e->client, getter_spawn, g), 0);
    assert_int_equal(rt_world_wait(e->w, get_ended, g, WAIT_NS), 0);
    return atomic_load(&g->done);
}

/* What came back is what the client put, byte for byte, and the key's hash
 * is the hash of those bytes. */
static void assert_content(struct getter *g, uint64_t size)
{
    assert_int_equal(g->size, size);
    unsigned char *want = malloc(size ? (size_t)size : 1);
    mc_blob_fill(want, g->job, g->kind, 0, (size_t)size);
    if (memcmp(want, g->buf, (size_t)size) != 0)
        fail_msg("blob %u/%s differs from what was put", g->job, mc_blob_kind_name(g->kind));
    assert_true(g->hash == XXH64(want, (size_t)size, 0));
    free(want);
    rt_free(g->buf);
}

static uint64_t bytes_in(struct mc_cluster *c)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < c->njms; i++)
        n += atomic_load(&c->jms[i].blob_bytes_in);
    return n;
}

static uint64_t bytes_out(struct mc_cluster *c)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < c->njms; i++)
        n += atomic_load(&c->jms[i].blob_bytes_out);
    return n;
}

/* ---- put and get ------------------------------------------------------------------ */

/* A blob of three chunks and a small one come back as they were put; the
 * counters say exactly what moved. */
static void roundtrip_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 0, false);
    upload(&e, 7, BIG);
    assert_int_equal(bytes_in(e.c), GRAPH_BYTES + BIG);
    struct getter g;
    assert_int_equal(get(&e, &g, 7, MC_BLOB_ARTIFACTS), 1);
    assert_content(&g, BIG);
    assert_int_equal(get(&e, &g, 7, MC_BLOB_JOB_GRAPH), 1);
    assert_content(&g, GRAPH_BYTES);
    assert_int_equal(bytes_out(e.c), GRAPH_BYTES + BIG);
    /* Putting the same blob again stores nothing new. */
    upload(&e, 7, BIG);
    assert_int_equal(bytes_in(e.c), GRAPH_BYTES + BIG);
    cenv_down(&e);
}

static void test_roundtrip_sim(void **s) { (void)s; roundtrip_body(RT_WORLD_SIM); }
static void test_roundtrip_real(void **s) { (void)s; roundtrip_body(RT_WORLD_REAL); }

/* ---- the BlobCache ---------------------------------------------------------------- */

static void submit(struct cluster_env *e, int i, uint64_t records, uint32_t par, uint64_t artifacts)
{
    static const char *names[NJOBS] = { "orders", "clicks", "audit" };
    char err[256];
    assert_int_equal(mc_cluster_submit_artifacts(e->c, cenv_keyed_graph(names[i], records, par),
                                                 (uint32_t)i + 1, NULL, artifacts, &e->jobs[i],
                                                 err, sizeof(err)), 0);
}

static bool ended(const struct mc_job *j)
{
    return eng_job_ended(j->ej);
}

static bool job0_ended(void *arg) { return ended(((struct cluster_env *)arg)->jobs[0]); }
static bool job1_ended(void *arg) { return ended(((struct cluster_env *)arg)->jobs[1]); }
static bool job2_ended(void *arg) { return ended(((struct cluster_env *)arg)->jobs[2]); }

/* Every TaskManager index that hosts a slot of job j, as a bit set. */
static uint32_t tms_of(const struct mc_job *j)
{
    uint32_t set = 0;
    for (uint32_t s = 0; s < atomic_load(&((struct mc_job *)j)->nslots); s++)
        if (mc_job_tm_of(j, s) >= 0)
            set |= 1u << mc_job_tm_of(j, s);
    return set;
}

/* Two TaskManagers run six tasks each of a job: each downloads its
 * artifacts once.  A second job's are downloaded again; a job without
 * artifacts downloads nothing. */
static void once_per_job_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 2, false);
    upload(&e, 1, BIG);
    upload(&e, 2, SMALL);
    submit(&e, 0, 4000, 4, BIG);
    assert_int_equal(rt_world_wait(e.w, job0_ended, &e, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_int_equal(__builtin_popcount(tms_of(e.jobs[0])), 2);
    assert_int_equal(atomic_load(&e.jobs[0]->blob_bytes_out), 2 * (uint64_t)BIG);

    submit(&e, 1, 3000, 4, SMALL);
    assert_int_equal(rt_world_wait(e.w, job1_ended, &e, WAIT_NS), 0);
    assert_output(e.jobs[1]->ej, NULL, false);
    assert_int_equal(atomic_load(&e.jobs[1]->blob_bytes_out), 2 * (uint64_t)SMALL);

    submit(&e, 2, 2000, 2, 0);
    assert_int_equal(rt_world_wait(e.w, job2_ended, &e, WAIT_NS), 0);
    assert_output(e.jobs[2]->ej, NULL, false);
    assert_int_equal(atomic_load(&e.jobs[2]->blob_bytes_out), 0);

    /* Counters add up: in, what the client put; out, TaskManagers x size. */
    assert_int_equal(bytes_in(e.c), 2 * GRAPH_BYTES + BIG + SMALL);
    assert_int_equal(bytes_out(e.c), 2 * (uint64_t)BIG + 2 * (uint64_t)SMALL);
    cenv_down(&e);
}

static void test_once_per_job_sim(void **s) { (void)s; once_per_job_body(RT_WORLD_SIM); }
static void test_once_per_job_real(void **s) { (void)s; once_per_job_body(RT_WORLD_REAL); }

static bool job0_checkpointed(void *arg)
{
    return atomic_load(&((struct cluster_env *)arg)->jobs[0]->ej->last_checkpoint) >= 2;
}

static bool tm0_registered(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->tms[0].state) == MC_TM_REGISTERED;
}

/* A TaskManager that restarts has lost its cache: the job's redeployment
 * downloads the artifacts there again, and only there. */
static void tm_restart_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 2, false);
    upload(&e, 1, SMALL);
    submit(&e, 0, 30000, 4, SMALL);
    assert_int_equal(rt_world_wait(e.w, job0_checkpointed, &e, WAIT_NS), 0);
    assert_int_equal(atomic_load(&e.jobs[0]->blob_bytes_out), 2 * (uint64_t)SMALL);
    mc_tm_crash(e.c, 0);
    assert_int_equal(mc_tm_restart(e.c, 0), 0);
    assert_int_equal(rt_world_wait(e.w, tm0_registered, e.c, WAIT_NS), 0);
    assert_int_equal(rt_world_wait(e.w, job0_ended, &e, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_true(atomic_load(&e.jobs[0]->ej->restarts) >= 1);
    assert_int_equal(atomic_load(&e.jobs[0]->blob_bytes_out), 3 * (uint64_t)SMALL);
    cenv_down(&e);
}

static void test_tm_restart_sim(void **s) { (void)s; tm_restart_body(RT_WORLD_SIM); }
static void test_tm_restart_real(void **s) { (void)s; tm_restart_body(RT_WORLD_REAL); }

/* ---- errors ----------------------------------------------------------------------- */

static bool has_event(const struct mc_job *j, const char *text)
{
    for (struct eng_job_event *ev = atomic_load(&j->ej->events); ev; ev = ev->next)
        if (strstr(ev->text, text))
            return true;
    return false;
}

/* A blob the server does not have is -ENOENT; a job whose artifacts it
 * does not have cannot deploy, says why, and fails once its restarts are
 * spent. */
static void unknown_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 2, false);
    struct getter g;
    assert_int_equal(get(&e, &g, 99, MC_BLOB_ARTIFACTS), -ENOENT);
    submit(&e, 0, 4000, 2, SMALL);      /* never uploaded */
    assert_int_equal(rt_world_wait(e.w, job0_ended, &e, WAIT_NS), 0);
    assert_int_equal(eng_job_state(e.jobs[0]->ej), ENG_JOB_FAILED);
    char err[256];
    eng_job_last_error(e.jobs[0]->ej, err, sizeof(err));
    if (!strstr(err, "has no artifacts of job 1"))
        fail_msg("job failed with '%s'", err);
    assert_true(has_event(e.jobs[0], "cannot deploy: the blob server of session has no "
                                     "artifacts of job 1 (unknown job, or lost with its "
                                     "JobManager)"));
    assert_int_equal(atomic_load(&e.jobs[0]->ej->restarts), 2);
    assert_int_equal(bytes_out(e.c), 0);
    cenv_down(&e);
}

static void test_unknown_sim(void **s) { (void)s; unknown_body(RT_WORLD_SIM); }
static void test_unknown_real(void **s) { (void)s; unknown_body(RT_WORLD_REAL); }

/* ---- high availability ------------------------------------------------------------ */

static bool taken_over(void *arg)
{
    return atomic_load(&((struct mc_cluster *)arg)->takeovers) >= 1;
}

struct files {
    struct dfs *dfs;
    const char *prefix;
};

static bool no_files(void *arg)
{
    struct files *f = arg;
    return dfs_count_files(f->dfs, f->prefix) == 0;
}

/* With HA the blobs are on the DFS too: the leader crashes mid-job, and the
 * new one, which never saw the upload, serves them from there; once the job
 * has ended they are deleted. */
static void ha_body(enum rt_world_kind kind)
{
    struct cluster_env e;
    env_up(&e, kind, 2, true);
    upload(&e, 1, BIG);
    assert_int_equal(dfs_count_files(e.dfs, "session/blobs/1/"), 2);
    submit(&e, 0, 30000, 4, BIG);
    assert_int_equal(rt_world_wait(e.w, job0_checkpointed, &e, WAIT_NS), 0);
    struct rt_node *old = mc_cluster_leader(e.c);
    rt_node_crash(old);
    assert_int_equal(rt_world_wait(e.w, taken_over, e.c, WAIT_NS), 0);
    assert_int_equal(rt_world_wait(e.w, blob_server_up, e.c, WAIT_NS), 0);
    struct dfs_io_stats before, after;
    dfs_stats_phase(e.dfs, DFS_PHASE_BLOB, &before);
    struct getter g;
    assert_int_equal(get(&e, &g, 1, MC_BLOB_ARTIFACTS), 1);
    assert_content(&g, BIG);
    dfs_stats_phase(e.dfs, DFS_PHASE_BLOB, &after);
    assert_int_equal(after.bytes_read - before.bytes_read, BIG);
    assert_int_equal(get(&e, &g, 2, MC_BLOB_ARTIFACTS), -ENOENT);

    assert_int_equal(rt_world_wait(e.w, job0_ended, &e, WAIT_NS), 0);
    assert_output(e.jobs[0]->ej, NULL, false);
    struct files f = { e.dfs, "session/blobs/1/artifacts" };
    assert_int_equal(rt_world_wait(e.w, no_files, &f, WAIT_NS), 0);
    cenv_down(&e);
}

static void test_ha_sim(void **s) { (void)s; ha_body(RT_WORLD_SIM); }
static void test_ha_real(void **s) { (void)s; ha_body(RT_WORLD_REAL); }

/* ---- logical blobs (sim world) ----------------------------------------------------- */

/* A blob that came as descriptors: every chunk one, each with the right
 * payload sum, the key's hash that of (job, kind, size). */
static void assert_logical(const struct getter *g, uint64_t size, uint32_t chunks)
{
    assert_int_equal(g->size, size);
    assert_int_equal(g->got, size);
    assert_null(g->buf);
    assert_int_equal(g->logical_chunks, chunks);
    assert_int_equal(g->bad_sums, 0);
    assert_true(g->hash == mc_blob_logical_hash(g->job, g->kind, size));
}

/* Declared artifacts as descriptors: counted, chunked, stored on the DFS
 * (with HA) and served - by the leader and after a takeover from the DFS -
 * as bytes would be, while neither the leader nor the store holds them.  A
 * chunk the DFS corrupts on its way to a TaskManager fails its deployment,
 * saying so; the restarted job finishes exactly once. */
static void test_logical_sim(void **s)
{
    (void)s;
    struct cluster_env e;
    env_up(&e, RT_WORLD_SIM, 2, true);
    size_t jm0 = rt_node_mem_peak(mc_cluster_leader(e.c));
    upload_as(&e, 1, BIG, true);
    assert_int_equal(bytes_in(e.c), GRAPH_BYTES + BIG);
    assert_true(rt_node_mem_peak(mc_cluster_leader(e.c)) - jm0 < (1u << 20));
    struct dfs_stats st;
    dfs_stats_get(e.dfs, &st);
    assert_true(st.stored_bytes < (1u << 20));
    assert_true(st.stored_logical_bytes >= GRAPH_BYTES + (uint64_t)BIG);
    assert_int_equal(dfs_count_files(e.dfs, "session/blobs/1/"), 2);
    struct getter g;
    assert_int_equal(get(&e, &g, 1, MC_BLOB_ARTIFACTS), 1);
    assert_logical(&g, BIG, 3);
    assert_int_equal(get(&e, &g, 1, MC_BLOB_JOB_GRAPH), 1);
    assert_logical(&g, GRAPH_BYTES, 1);

    /* A new leader serves them from the DFS, which moves every byte. */
    rt_node_crash(mc_cluster_leader(e.c));
    assert_int_equal(rt_world_wait(e.w, taken_over, e.c, WAIT_NS), 0);
    assert_int_equal(rt_world_wait(e.w, blob_server_up, e.c, WAIT_NS), 0);
    struct dfs_io_stats before, after;
    dfs_stats_phase(e.dfs, DFS_PHASE_BLOB, &before);
    assert_int_equal(get(&e, &g, 1, MC_BLOB_ARTIFACTS), 1);
    assert_logical(&g, BIG, 3);
    dfs_stats_phase(e.dfs, DFS_PHASE_BLOB, &after);
    assert_int_equal(after.bytes_read - before.bytes_read, BIG);

    /* The first DFS read of the job's deployment is its artifacts' first
     * chunk: corrupted, it fails that TaskManager's download. */
    assert_int_equal(fiu_enable("dfs/corrupt", 1, NULL, FIU_ONETIME), 0);
    submit(&e, 0, 4000, 4, BIG);
    assert_int_equal(rt_world_wait(e.w, job0_ended, &e, WAIT_NS), 0);
    fiu_disable("dfs/corrupt");
    assert_output(e.jobs[0]->ej, NULL, false);
    assert_true(has_event(e.jobs[0], "are corrupt (a chunk at 0 sums to"));
    assert_true(atomic_load(&e.jobs[0]->ej->restarts) >= 1);
    cenv_down(&e);
}

/* The pattern is a function of the byte's offset alone: a chunk filled on
 * its own, at any offset and length, equals that slice of the whole. */
static void test_fill_slices(void **s)
{
    (void)s;
    unsigned char whole[200], part[64];
    mc_blob_fill(whole, 7, MC_BLOB_ARTIFACTS, 0, sizeof(whole));
    uint64_t distinct = 0;
    for (size_t i = 8; i < sizeof(whole); i += 8)
        distinct += memcmp(whole + i, whole + i - 8, 8) != 0;
    assert_true(distinct > 20);     /* a pattern, not a constant */
    for (size_t off = 0; off < 20; off++)
        for (size_t len = 0; len <= sizeof(part); len += (len < 17 ? 1 : 7)) {
            memset(part, 0xa5, sizeof(part));
            mc_blob_fill(part, 7, MC_BLOB_ARTIFACTS, off, len);
            assert_memory_equal(part, whole + off, len);
            if (len < sizeof(part))
                assert_int_equal(part[len], 0xa5);      /* nothing past len */
        }
    mc_blob_fill(part, 8, MC_BLOB_ARTIFACTS, 0, 16);
    assert_memory_not_equal(part, whole, 16);           /* another job, other bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_slices),
        cmocka_unit_test(test_roundtrip_sim),
        cmocka_unit_test(test_roundtrip_real),
        cmocka_unit_test(test_once_per_job_sim),
        cmocka_unit_test(test_once_per_job_real),
        cmocka_unit_test(test_tm_restart_sim),
        cmocka_unit_test(test_tm_restart_real),
        cmocka_unit_test(test_unknown_sim),
        cmocka_unit_test(test_unknown_real),
        cmocka_unit_test(test_ha_sim),
        cmocka_unit_test(test_ha_real),
        cmocka_unit_test(test_logical_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
