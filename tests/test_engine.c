/*
 * test_engine.c - the task engine end to end: real records through real
 * tasks and channels, checkpoints written to and read back from the DFS,
 * restarts, and the committed output checked against the reference model.
 *
 * The world is tests/engine_env.c's: a JobManager-like node (the job
 * runner), three worker nodes each with a task host, and the DFS.  Every
 * test runs in both worlds through the same code.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <fiu-control.h>
#include <fiu.h>

#include "engine/channel.h"
#include "engine/jobrun.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "tests/engine_env.h"
#include "tests/verdict.h"

/* Tasks go round-robin over the workers that are alive. */
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

/* Appends fail(at) (parallelism 2) behind vertex last when fail_at is set;
 * returns the new last vertex. */
static int then_fail(struct eng_jobgraph *g, int last, uint64_t fail_at)
{
    if (!fail_at)
        return last;
    struct eng_op_args fa = { .at_record = fail_at };
    int f = eng_jobgraph_add_vertex(g, "fail", ENG_OP_FAIL, &fa, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)f, ENG_EDGE_FORWARD);
    return f;
}

/* source(records, keys, rate) --hash--> count [--> fail(at)] --> sink */
static struct eng_jobgraph *keyed_count(uint64_t records, uint64_t keys, uint64_t rate,
                                        uint64_t fail_at, uint64_t burn_ns)
{
    struct eng_jobgraph *g = eng_jobgraph_new("keyed-count");
    struct eng_op_args src = { .records = records, .keys = keys, .rate = rate };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 2, 0);
    int c = eng_jobgraph_add_vertex(g, "count", ENG_OP_COUNT, NULL, 2, 0);
    int last = c;
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)c, ENG_EDGE_HASH);
    last = then_fail(g, last, fail_at);
    if (burn_ns) {
        struct eng_op_args b = { .ns_per_record = burn_ns };
        int f = eng_jobgraph_add_vertex(g, "burn", ENG_OP_BURN, &b, 2, 0);
        eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)f, ENG_EDGE_REBALANCE);
        last = f;
    }
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

/* Job 1 of g on h, tasks round-robin over the live workers. */
static void submit(struct engine_env *h, struct eng_jobgraph *g, uint64_t interval_ms,
                   uint32_t retained)
{
    struct eng_jobrun_policy pol = { .place = place, .arg = h };
    eenv_submit(h, g, interval_ms, retained, &pol);
}

/* The job finished and its committed output is exactly the reference's. */
static void assert_exactly_once(struct engine_env *h, struct eng_jobgraph *ref_graph)
{
    assert_int_equal(rt_world_wait(h->w, eenv_job_ended, h, EENV_WAIT_NS), 0);
    struct eng_verdict v = assert_output(h->job, ref_graph, false);
    assert_true(v.committed > 0);
}

/* ---- a job runs to the end, exactly once ------------------------------------ */

static void finish_body(enum rt_world_kind kind)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    submit(&h, keyed_count(20000, 100, 200000, 0, 0), 10, 1);
    struct eng_jobgraph *ref = keyed_count(20000, 100, 200000, 0, 0);
    assert_exactly_once(&h, ref);
    assert_true(atomic_load(&h.job->checkpoints_completed) >= 2);
    assert_int_equal(atomic_load(&h.job->restarts), 0);
    /* Checkpoint files really are on the DFS, metadata last and retained. */
    assert_true(dfs_count_files(h.dfs, "job-1/") > 0);
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_finish_real(void **s) { (void)s; finish_body(RT_WORLD_REAL); }
static void test_finish_sim(void **s) { (void)s; finish_body(RT_WORLD_SIM); }

/* ---- a rate-limited source in the sim world: batches sized by virtual time --- */

/* Runs 2 x 20000 records at 10k/s per subtask in the sim world; the trace
 * hash, the events delivered and the virtual time the job ended out. */
static void rated_run(uint64_t *hash, uint64_t *events, uint64_t *end_ns)
{
    struct engine_env h;
    eenv_up(&h, RT_WORLD_SIM, "engine", 5);
    uint64_t t0 = rt_now(h.w);
    submit(&h, keyed_count(20000, 100, 10000, 0, 0), 200, 1);
    struct eng_jobgraph *ref = keyed_count(20000, 100, 10000, 0, 0);
    assert_exactly_once(&h, ref);
    *end_ns = rt_now(h.w) - t0;
    *hash = rt_trace_hash(h.w);
    *events = rt_trace_events(h.w);
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_rate_batches_sim(void **s)
{
    (void)s;
    uint64_t hash, events, end_ns, hash2, events2, end2;
    rated_run(&hash, &events, &end_ns);
    /* One event per record would be 40000 timer wake-ups alone; a batch of
     * 512 is due every 51 ms at 10k/s, so some 80 batches carry them. */
    assert_true(events < 4000);
    /* Batching holds records back by at most the linger: the last one is
     * due at 2 s, and the job (final checkpoint included) ends soon after. */
    assert_true(end_ns >= 2 * RT_NS_PER_SEC);
    assert_true(end_ns < 2 * RT_NS_PER_SEC + ENG_SRC_LINGER_NS + 300 * RT_NS_PER_MS);
    rated_run(&hash2, &events2, &end2);
    assert_int_equal(hash2, hash);
    assert_int_equal(events2, events);
    assert_int_equal(end2, end_ns);
}

/* ---- a long chain, restored ----------------------------------------------------- */

/* source --hash--> map -> sum -> flatmap -> filter -> keyby --hash--> count
 * [-> fail(at)] -> sink: two chains of several operators per subtask, each
 * passing its batches along inside the task, with keyed state on both
 * sides of the second shuffle. */
static struct eng_jobgraph *long_chain(uint64_t fail_at)
{
    struct eng_jobgraph *g = eng_jobgraph_new("long-chain");
    struct eng_op_args src = { .records = 6000, .keys = 50, .rate = 100000 };
    int last = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 2, 0);
    static const struct { const char *name; enum eng_op_kind kind; } ops[] = {
        { "map", ENG_OP_MAP }, { "sum", ENG_OP_SUM }, { "flatmap", ENG_OP_FLATMAP },
        { "filter", ENG_OP_FILTER }, { "keyby", ENG_OP_KEYBY }, { "count", ENG_OP_COUNT },
    };
    struct eng_op_args a = { .seed = 3, .fanout = 2, .probability = 0.5, .keys = 7 };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        int v = eng_jobgraph_add_vertex(g, ops[i].name, ops[i].kind, &a, 2, 0);
        eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)v,
                              i == 0 || ops[i].kind == ENG_OP_COUNT ? ENG_EDGE_HASH
                                                                    : ENG_EDGE_FORWARD);
        last = v;
    }
    last = then_fail(g, last, fail_at);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

static void test_long_chain(void **s)
{
    (void)s;
    for (int failing = 0; failing < 2; failing++) {
        struct engine_env h;
        eenv_up(&h, RT_WORLD_SIM, "engine", 41);
        submit(&h, long_chain(failing ? 2500 : 0), 10, 1);
        struct eng_jobgraph *ref = long_chain(0);
        assert_exactly_once(&h, ref);
        assert_int_equal(atomic_load(&h.job->restarts), failing);
        eng_jobgraph_free(ref);
        eenv_down(&h);
    }
}

/* ---- an operator fails: restart from the checkpoint, still exactly once ----- */

static void failure_body(enum rt_world_kind kind)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    submit(&h, keyed_count(20000, 100, 100000, 7000, 0), 10, 1);
    struct eng_jobgraph *ref = keyed_count(20000, 100, 100000, 0, 0);
    assert_exactly_once(&h, ref);
    assert_int_equal(atomic_load(&h.job->restarts), 1);
    char err[256];
    eng_job_last_error(h.job, err, sizeof(err));
    assert_non_null(strstr(err, "fail"));
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_failure_real(void **s) { (void)s; failure_body(RT_WORLD_REAL); }
static void test_failure_sim(void **s) { (void)s; failure_body(RT_WORLD_SIM); }

/* ---- a discarding sink: its receipt survives a restart, exactly once -------- */

/* source(records, 100 keys) --hash--> sum (2) [--> fail(at)] --> discard (2) */
static struct eng_jobgraph *sum_discard(uint64_t records, uint64_t fail_at)
{
    struct eng_jobgraph *g = eng_jobgraph_new("sum-discard");
    struct eng_op_args src = { .records = records, .keys = 100, .rate = 100000 };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 1, 0);
    int last = eng_jobgraph_add_vertex(g, "sum", ENG_OP_SUM, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)last, ENG_EDGE_HASH);
    last = then_fail(g, last, fail_at);
    int k = eng_jobgraph_add_vertex(g, "drop", ENG_OP_DISCARD, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

static void discard_body(enum rt_world_kind kind)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    submit(&h, sum_discard(20000, 5000), 10, 1);
    struct eng_jobgraph *ref = sum_discard(20000, 0);
    assert_int_equal(rt_world_wait(h.w, eenv_job_ended, &h, EENV_WAIT_NS), 0);
    struct eng_verdict v = assert_output(h.job, ref, false);
    /* Every record is in the receipts of the two subtasks, once, after the
     * restore put back the count and digest of the checkpoint. */
    assert_int_equal(v.committed, 20000);
    assert_int_equal(eng_output_key_count(h.job->output), 0);
    assert_int_equal(atomic_load(&h.job->restarts), 1);
    assert_true(atomic_load(&h.job->checkpoints_completed) >= 2);
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_discard_real(void **s) { (void)s; discard_body(RT_WORLD_REAL); }
static void test_discard_sim(void **s) { (void)s; discard_body(RT_WORLD_SIM); }

/* ---- a worker dies: its peers notice the broken channels, the job restarts
 * on the live workers from its checkpoint, exactly once ------------------------ */

static void crash_body(enum rt_world_kind kind)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    /* 2 s of input, so the job still runs when the crash comes after
     * checkpoint 3 (~50 ms in) on a loaded machine too. */
    submit(&h, keyed_count(40000, 100, 20000, 0, 0), 10, 1);
    assert_int_equal(eenv_wait_checkpoint(&h, 3), 0);
    rt_node_crash(h.tm[1]);
    struct eng_jobgraph *ref = keyed_count(40000, 100, 20000, 0, 0);
    assert_exactly_once(&h, ref);
    assert_true(atomic_load(&h.job->restarts) >= 1);
    char err[256];
    eng_job_last_error(h.job, err, sizeof(err));
    assert_non_null(strstr(err, "tm1"));    /* the cause names the lost node */
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_crash_real(void **s) { (void)s; crash_body(RT_WORLD_REAL); }
static void test_crash_sim(void **s) { (void)s; crash_body(RT_WORLD_SIM); }

/* ---- a corrupt state file is detected; the committed checkpoint is read again */

static void corrupt_body(enum rt_world_kind kind)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    submit(&h, keyed_count(40000, 100, 20000, 0, 0), 10, 2);  /* 2 s: see crash_body */
    assert_int_equal(eenv_wait_checkpoint(&h, 3), 0);
    /* The next read from the DFS (a restore) comes back with one byte flipped. */
    assert_int_equal(fiu_enable("dfs/corrupt", 1, NULL, FIU_ONETIME), 0);
    rt_node_crash(h.tm[1]);
    assert_int_equal(rt_world_wait(h.w, eenv_job_ended, &h, EENV_WAIT_NS), 0);
    fiu_disable("dfs/corrupt");
    assert_int_equal(eng_job_state(h.job), ENG_JOB_FINISHED);
    assert_true(atomic_load(&h.job->restarts) >= 2);
    /* The sinks had committed the checkpoint: it is restored again, not
     * given up for an older one (which would commit records twice). */
    assert_int_equal(atomic_load(&h.job->restores_fell_back), 0);
    /* The reason is logged: a checksum mismatch naming the file. */
    bool logged = false;
    for (struct eng_job_event *e = atomic_load(&h.job->events); e; e = e->next)
        if (strstr(e->text, "restoring it again") && strstr(e->text, "checksum"))
            logged = true;
    assert_true(logged);
    /* The second restore reads it intact: exactly once (found by `sweep`,
     * dfs/corrupt: records came twice when the restore fell back). */
    struct eng_jobgraph *ref = keyed_count(40000, 100, 20000, 0, 0);
    assert_output(h.job, ref, false);
    eng_jobgraph_free(ref);
    eenv_down(&h);
}

static void test_corrupt_real(void **s) { (void)s; corrupt_body(RT_WORLD_REAL); }
static void test_corrupt_sim(void **s) { (void)s; corrupt_body(RT_WORLD_SIM); }

/* ---- incremental checkpoints: less written, the chain read back ----------- */

/* source(records, 100 keys, 15 000/s) --hash--> count (2) --> alloc(4 KB a
 * key) (2) [--> fail(at)] --> sink (2).  30 000 records run 2 s: some 100
 * checkpoints at 10 ms, and dozens on a loaded machine, so the first one -
 * which writes every blob in either mode - weighs little in the average. */
static struct eng_jobgraph *keyed_alloc(uint64_t records, uint64_t fail_at)
{
    struct eng_jobgraph *g = eng_jobgraph_new("keyed-alloc");
    struct eng_op_args src = { .records = records, .keys = 100, .rate = 15000 };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 2, 0);
    int c = eng_jobgraph_add_vertex(g, "count", ENG_OP_COUNT, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)c, ENG_EDGE_HASH);
    struct eng_op_args al = { .bytes_per_key = 4096 };
    int last = eng_jobgraph_add_vertex(g, "state", ENG_OP_ALLOC, &al, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)c, (uint32_t)last, ENG_EDGE_FORWARD);
    last = then_fail(g, last, fail_at);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

struct chk_run {
    double bytes_per_checkpoint;    /* written for checkpoints, per completed one */
    int files, files_last;          /* under the job, and in its last checkpoint */
    uint64_t restarts;
};

/* The job has ended and the checkpoint directories it asked to delete are
 * gone. */
static bool ended_and_tidy(void *arg)
{
    struct engine_env *h = arg;
    return eng_job_ended(h->job) && atomic_load(&h->job->deletes_pending) == 0;
}

static struct chk_run run_alloc(enum rt_world_kind kind, bool incremental, uint64_t fail_at)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    struct eng_job_config cfg;
    eng_job_config_defaults(&cfg);
    cfg.checkpoint_interval_ns = 10 * RT_NS_PER_MS;
    cfg.incremental = incremental;
    struct eng_jobrun_policy pol = { .place = place, .arg = &h };
    eenv_submit_cfg(&h, keyed_alloc(30000, fail_at), &cfg, &pol);
    struct eng_jobgraph *ref = keyed_alloc(30000, 0);
    assert_exactly_once(&h, ref);
    eng_jobgraph_free(ref);
    assert_int_equal(rt_world_wait(h.w, ended_and_tidy, &h, EENV_WAIT_NS), 0);
    struct dfs_io_stats io;
    dfs_stats_phase(h.dfs, DFS_PHASE_CHECKPOINT, &io);
    uint64_t done = atomic_load(&h.job->checkpoints_completed);
    assert_true(done >= 10);
    char last[64];
    snprintf(last, sizeof(last), "job-1/chk-%llu/",
             (unsigned long long)atomic_load(&h.job->last_checkpoint));
    struct chk_run r = { .bytes_per_checkpoint = (double)io.bytes_written / (double)done,
                         .files = dfs_count_files(h.dfs, "job-1/"),
                         .files_last = dfs_count_files(h.dfs, last),
                         .restarts = atomic_load(&h.job->restarts) };
    eenv_down(&h);
    return r;
}

static void incremental_body(enum rt_world_kind kind)
{
    struct chk_run full = run_alloc(kind, false, 0);
    struct chk_run inc = run_alloc(kind, true, 0);
    /* Full checkpoints write the 800 KB of blobs every time; incremental
     * ones once, then refer to them. */
    if (!(inc.bytes_per_checkpoint < full.bytes_per_checkpoint / 3))
        fail_msg("incremental %.0f bytes per checkpoint, full %.0f",
                 inc.bytes_per_checkpoint, full.bytes_per_checkpoint);
    /* One checkpoint retained: a full one leaves its own files alone; an
     * incremental one keeps the earlier files it refers to as well. */
    assert_int_equal(full.files, full.files_last);
    assert_true(inc.files > inc.files_last);
    /* A failure restores the last checkpoint through the files it refers
     * to, exactly once (assert_exactly_once in run_alloc). */
    struct chk_run failed = run_alloc(kind, true, 12000);
    assert_int_equal(failed.restarts, 1);
}

static void test_incremental_real(void **s) { (void)s; incremental_body(RT_WORLD_REAL); }
static void test_incremental_sim(void **s) { (void)s; incremental_body(RT_WORLD_SIM); }

/* ---- back pressure: a slow consumer bounds what is in flight ---------------- */

struct inflight {
    struct eng_job *j;
    uint64_t max;
};

static bool sample_inflight(void *arg)
{
    struct inflight *f = arg;
    uint64_t in = atomic_load(&f->j->records_in), out = atomic_load(&f->j->records_out);
    if (in > out && in - out > f->max)
        f->max = in - out;
    return eng_job_ended(f->j);
}

static void check_task_times(const struct eng_job *j, enum rt_world_kind kind, bool small);

/* Job 1 of 2 x 20,000 unthrottled records, 20 us of CPU each downstream,
 * through rings of `slots` batches (0: the world's own); returns the most
 * records ever in flight (emitted by a source, not yet at a sink). */
static uint64_t backpressure_run(enum rt_world_kind kind, uint32_t slots)
{
    struct engine_env h;
    eenv_up(&h, kind, "engine", 99);
    struct eng_job_config cfg;
    eng_job_config_defaults(&cfg);
    cfg.checkpoint_interval_ns = 50 * RT_NS_PER_MS;
    cfg.chan_slots = slots;
    struct eng_jobrun_policy pol = { .place = place, .arg = &h };
    eenv_submit_cfg(&h, keyed_count(20000, 100, 0, 0, 20000), &cfg, &pol);
    struct inflight f = { h.job, 0 };
    assert_int_equal(rt_world_wait(h.w, sample_inflight, &f, EENV_WAIT_NS), 0);
    assert_int_equal(eng_job_state(h.job), ENG_JOB_FINISHED);
    /* Rings by world: the sim world's stand for Flink's buffers in flight
     * (channel.h), the real world's are sized for its wake-ups. */
    uint32_t want = slots ? slots : kind == RT_WORLD_SIM ? ENG_CHAN_SLOTS_SIM : ENG_CHAN_SLOTS;
    const struct eng_attempt *a = h.job->attempts;
    assert_non_null(a);
    for (uint32_t c = 0; c < a->nchans; c++)
        assert_int_equal(a->chans[c]->mask + 1, want);
    for (int i = 0; i < EENV_WORKERS; i++)
        assert_true(rt_node_mem_peak(h.tm[i]) < 16u * 1024 * 1024);
    check_task_times(h.job, kind, slots != 0);
    eenv_down(&h);
    return f.max;
}

/* Where the finished job's tasks spent their time (struct eng_task_io):
 * each subtask's busy, idle and back-pressured time add up to its running
 * time.  Through small rings the sources, faster than what follows, waited
 * for room.  In the real world the chain that burns 20 us a record was
 * busier than back-pressured; in the sim world work takes no world time
 * (only what a model charges does), so a task is busy there only for the
 * nanoseconds its own next step waits in the mailbox. */
static void check_task_times(const struct eng_job *j, enum rt_world_kind kind, bool small)
{
    const struct eng_execgraph *eg = j->eg;
    bool saw_source = false, saw_burn = false;
    for (uint32_t ci = 0; ci < eng_execgraph_chain_count(eg); ci++) {
        const struct eng_chain *ch = eng_execgraph_chain(eg, ci);
        const char *head = eng_jobgraph_vertex(j->graph, ch->ops[0])->name;
        bool burn = false;
        for (uint32_t o = 0; o < ch->n_ops; o++)
            burn |= strcmp(eng_jobgraph_vertex(j->graph, ch->ops[o])->name, "burn") == 0;
        for (uint32_t s = 0; s < ch->parallelism; s++) {
            const struct eng_task_io *io = &j->task_io[ch->first_task + s];
            assert_int_equal(atomic_load(&io->time_mode), ENG_TASK_TIME_ENDED);
            uint64_t busy, idle, bp;
            eng_task_io_times(io, UINT64_MAX, &busy, &idle, &bp);
            uint64_t spent = atomic_load(&io->since_ns) - atomic_load(&io->run_ns);
            assert_true(spent > 0);
            if (busy + idle + bp != spent)
                fail_msg("%s[%u]: busy %llu + idle %llu + back-pressured %llu != %llu ns", head,
                         s, (unsigned long long)busy, (unsigned long long)idle,
                         (unsigned long long)bp, (unsigned long long)spent);
            if (kind == RT_WORLD_SIM)
                assert_true(busy * 1000 < spent);      /* mailbox hops only */
            if (strcmp(head, "source") == 0) {
                saw_source = true;
                if (small && bp == 0)
                    fail_msg("source[%u] was never back-pressured", s);
            }
            if (burn) {
                saw_burn = true;
                if (kind == RT_WORLD_REAL && busy <= bp)
                    fail_msg("%s[%u]: busy %llu <= back-pressured %llu ns", ch->name, s,
                             (unsigned long long)busy, (unsigned long long)bp);
            }
        }
    }
    assert_true(saw_source && saw_burn);
}

/* What can be in flight through rings of `slots` batches: every ring of the
 * job's 4 + 4 + 2 channels full, plus a batch held by each of its tasks
 * (a source's generated batch, an operator's pending output). */
static uint64_t inflight_bound(uint32_t slots)
{
    return (4 + 4 + 2) * (uint64_t)slots * ENG_BATCH_CAP + 8 * (uint64_t)ENG_BATCH_CAP;
}

static void backpressure_body(enum rt_world_kind kind)
{
    /* Rings of 2 batches: the sources emit 40,000 records, more than twice
     * what the job can hold, so only back pressure keeps them under the
     * bound, however fast the sources run against the consumers. */
    uint64_t bound = inflight_bound(2);
    assert_true(2 * bound < 40000);
    uint64_t max = backpressure_run(kind, 2);
    if (max > bound)
        fail_msg("in flight %llu > bound %llu", (unsigned long long)max,
                 (unsigned long long)bound);
    assert_true(max > 0);
    /* The world's own rings: their size (in backpressure_run), and the
     * same bound, which the sources need not reach. */
    uint32_t own = kind == RT_WORLD_SIM ? ENG_CHAN_SLOTS_SIM : ENG_CHAN_SLOTS;
    max = backpressure_run(kind, 0);
    if (max > inflight_bound(own))
        fail_msg("in flight %llu > bound %llu with the world's rings",
                 (unsigned long long)max, (unsigned long long)inflight_bound(own));
}

static void test_backpressure_real(void **s) { (void)s; backpressure_body(RT_WORLD_REAL); }
static void test_backpressure_sim(void **s) { (void)s; backpressure_body(RT_WORLD_SIM); }

/* Jobs so small that their sources end before every task is running: the
 * final checkpoint must still come (it used to be forgotten: the job stayed
 * RUNNING for ever).  Many seeds, so that the race is really run. */
static void test_tiny_jobs_finish(void **s)
{
    (void)s;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        struct engine_env h;
        struct rt_world_config wc = { .kind = RT_WORLD_SIM, .seed = seed,
                                      .link_latency_ns = 100000, .link_jitter_ns = 300000 };
        eenv_up_with(&h, &wc, "engine", 0);
        submit(&h, keyed_count(50, 10, 0, 0, 0), 0, 1);
        if (rt_world_wait(h.w, eenv_job_ended, &h, 10 * RT_NS_PER_SEC) != 0)
            fail_msg("seed %llu: the job is still %s after 10 s", (unsigned long long)seed,
                     eng_job_state_name(eng_job_state(h.job)));
        assert_int_equal(eng_job_state(h.job), ENG_JOB_FINISHED);
        eenv_down(&h);
    }
}

/* A thread that sees a job's final state must find the event of entering
 * it: the bench reads FINISHED's time from it, a test a failure's reason.
 * The state used to be published before its event, and the bench, polling,
 * once read a FINISHED job without a FINISHED event (a run of 0 records/s).
 * The test thread polls the state itself, as the bench does, rather than
 * waiting for the runner's notification, which comes after both. */
static void test_state_event_order(void **s)
{
    (void)s;
    for (int run = 0; run < 10; run++) {
        struct engine_env h;
        eenv_up(&h, RT_WORLD_REAL, "engine", 99);
        submit(&h, keyed_count(2000, 10, 0, 0, 0), 0, 1);
        uint64_t deadline = rt_now(h.w) + EENV_WAIT_NS;
        while (!eenv_job_ended(&h)) {   /* asserts the event is there once it ends */
            if (rt_now(h.w) > deadline)
                fail_msg("run %d: the job is still %s", run,
                         eng_job_state_name(eng_job_state(h.job)));
            sched_yield();
        }
        assert_int_equal(eng_job_state(h.job), ENG_JOB_FINISHED);
        eenv_down(&h);
    }
}

/* A ring keeps FIFO order whatever it does with its slots, holds exactly
 * its size, and one that never has more than a few slots in flight uses a
 * few slots, not all of them (eng_chan_claim takes warm ones first).  No
 * world needed: with no peers deployed nobody is woken. */
static void test_channel_ring(void **state)
{
    (void)state;
    enum { SLOTS = 16 };
    struct eng_chan *c = eng_chan_new(1, SLOTS);
    struct eng_slot *seen[4 * SLOTS];
    uint32_t nseen = 0;
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 200; round++) {
        uint32_t burst = 1 + (uint32_t)round % 3;      /* 1..3 in flight */
        for (uint32_t i = 0; i < burst; i++) {
            struct eng_slot *sl = eng_chan_claim(c);
            assert_non_null(sl);
            assert_ptr_equal(eng_chan_claim(c), sl);   /* again before publish: the same */
            sl->kind = ENG_SLOT_DATA;
            sl->checkpoint_id = next_in++;
            bool known = false;
            for (uint32_t k = 0; k < nseen; k++)
                known |= seen[k] == sl;
            if (!known) {
                assert_true(nseen < 4 * SLOTS);
                seen[nseen++] = sl;
            }
            assert_int_equal(eng_chan_publish(c, NULL), 0);
        }
        struct eng_slot *sl;
        while ((sl = eng_chan_peek(c)) != NULL) {
            assert_int_equal(sl->checkpoint_id, next_out++);
            eng_chan_release(c, NULL);
        }
    }
    assert_int_equal(next_out, next_in);
    assert_true(nseen <= 6);        /* not SLOTS */
    /* Full at SLOTS in flight; order kept across the wrap. */
    for (uint32_t i = 0; i < SLOTS; i++) {
        struct eng_slot *sl = eng_chan_claim(c);
        assert_non_null(sl);
        sl->checkpoint_id = next_in++;
        eng_chan_publish(c, NULL);
    }
    assert_null(eng_chan_claim(c));
    for (uint32_t i = 0; i < SLOTS; i++) {
        assert_int_equal(eng_chan_peek(c)->checkpoint_id, next_out++);
        eng_chan_release(c, NULL);
    }
    assert_null(eng_chan_peek(c));
    eng_chan_free(c);
}

int main(void)
{
    fiu_init(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_ring),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_state_event_order),
        cmocka_unit_test(test_finish_sim),
        cmocka_unit_test(test_rate_batches_sim),
        cmocka_unit_test(test_finish_real),
        cmocka_unit_test(test_failure_sim),
        cmocka_unit_test(test_failure_real),
        cmocka_unit_test(test_discard_sim),
        cmocka_unit_test(test_discard_real),
        cmocka_unit_test(test_crash_sim),
        cmocka_unit_test(test_crash_real),
        cmocka_unit_test(test_corrupt_sim),
        cmocka_unit_test(test_corrupt_real),
        cmocka_unit_test(test_incremental_sim),
        cmocka_unit_test(test_incremental_real),
        cmocka_unit_test(test_backpressure_sim),
        cmocka_unit_test(test_backpressure_real),
        cmocka_unit_test(test_tiny_jobs_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
