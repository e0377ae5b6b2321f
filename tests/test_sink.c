/*
 * test_sink.c - the transactional sink's exactly-once proof, driven without
 * a task runtime: stage, snapshot, crash and restore from every checkpoint,
 * and the external system's transactions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"
#include "runtime/rt_mem.h"

#include "tests/ops_fixture.h"

/* ---- the transactional sink ------------------------------------------------- */

#define SINK_RECORDS 2000
#define PER_CKPT 300

/* The sink's input: a sequence source's records, as the reference sees them. */
static struct eng_record sink_in[SINK_RECORDS];

static struct eng_expected *sink_expected(void)
{
    struct eng_jobgraph *g = eng_jobgraph_new("sinkjob");
    struct eng_op_args a = {.records = SINK_RECORDS, .keys = 7};
    assert_int_equal(eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_SEQUENCE, &a, 1, 0), 0);
    assert_int_equal(eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 1, 0), 1);
    assert_int_equal(eng_jobgraph_add_edge(g, 0, 1, ENG_EDGE_FORWARD), 0);
    struct eng_expected *e;
    char err[256];
    assert_int_equal(eng_reference(g, &e, err, sizeof(err)), 0);
    assert_int_equal(eng_expected_records(e), SINK_RECORDS);
    eng_jobgraph_free(g);
    for (int i = 0; i < SINK_RECORDS; i++)
        sink_in[i] = (struct eng_record){.key = (uint64_t)i % 7, .value = i, .ts = i};
    return e;
}

static void feed(struct eng_op *op, uint32_t from, uint32_t to)
{
    ops_feed(op, sink_in, from, to);
}

/*
 * One life of the sink: checkpoints 1..crash_after at every PER_CKPT
 * records, notifications of 1..notified (each one, or only the last: a lost
 * notification is covered by the next), some records past the last
 * checkpoint, a crash, a restore from checkpoint `from` (0: a fresh start
 * without one, as after a failure before any checkpoint completed), the rest
 * re-fed and a final checkpoint notified.  Returns the verdict.
 */
static void sink_life(struct fixture *f, const struct eng_vertex *v,
                      const struct eng_expected *e, uint32_t crash_after, uint32_t notified,
                      bool notify_each, uint32_t from, struct eng_verdict *verdict)
{
    struct eng_output *o = eng_output_new();
    struct eng_op *op = ops_new_op(f, v, 0, 0, o);
    uint8_t *buf[8] = {0};
    size_t len[8];
    for (uint32_t c = 1; c <= crash_after; c++) {
        feed(op, (c - 1) * PER_CKPT, c * PER_CKPT);
        ops_snap_encode(op, c, &buf[c], &len[c]);
        if (c <= notified && (notify_each || c == notified))
            op->ops->notify_complete(op, c);
    }
    assert_int_equal(eng_output_records(o), notified * PER_CKPT);
    assert_int_equal(eng_output_committed_txn(o, 0, 0), notified);
    feed(op, crash_after * PER_CKPT, crash_after * PER_CKPT + 150);
    /* Everything not committed is staged in the output, not in the files. */
    assert_int_equal(eng_output_pending_records(o), (crash_after - notified) * PER_CKPT + 150);
    eng_op_free(op); /* the crash: no notify, nothing flushed */

    op = ops_new_op(f, v, 0, 1, o);
    if (from) {
        ops_restore_from(op, buf[from], len[from], 0, v->max_parallelism - 1);
        assert_int_equal(eng_output_records(o), (notified > from ? notified : from) * PER_CKPT);
        /* The failed attempt's txns after `from` are aborted by the restore. */
        assert_int_equal(eng_output_pending_records(o), 0);
    }
    feed(op, from * PER_CKPT, SINK_RECORDS);
    uint8_t *last;
    size_t last_len;
    ops_snap_encode(op, 100, &last, &last_len);
    op->ops->notify_complete(op, 100);
    assert_int_equal(eng_output_pending_records(o), 0);
    eng_output_verify(o, e, verdict);
    rt_free(last);
    eng_op_free(op);
    for (int i = 0; i < 8; i++)
        rt_free(buf[i]);
    eng_output_free(o);
}

static void test_sink_exactly_once(void **state)
{
    struct fixture *f = *state;
    struct eng_expected *e = sink_expected();
    const struct eng_vertex *v = ops_vertex(f, "sink", ENG_OP_SINK, NULL, 1, 0);
    int cases = 0;
    for (uint32_t crash = 1; crash <= 5; crash++)
        for (uint32_t notified = 0; notified <= crash; notified++)
            for (int each = 0; each < 2; each++)
                for (uint32_t from = notified; from <= crash; from++) {
                    struct eng_verdict vd;
                    sink_life(f, v, e, crash, notified, each, from, &vd);
                    if (!vd.exactly_once)
                        fail_msg("crash after %u, notified %u, restore %u: lost %llu dup "
                                 "%llu wrong %llu", crash, notified, from,
                                 (unsigned long long)vd.lost, (unsigned long long)vd.duplicated,
                                 (unsigned long long)vd.wrong_values);
                    assert_int_equal(vd.expected, SINK_RECORDS);
                    assert_int_equal(vd.committed, SINK_RECORDS);
                    cases++;
                }
    assert_true(cases > 40);
    /* The control: restoring from a checkpoint older than one already
     * committed duplicates its records, and the verdict says so. */
    struct eng_verdict vd;
    sink_life(f, v, e, 4, 3, true, 2, &vd);
    assert_false(vd.exactly_once);
    assert_int_equal(vd.duplicated, PER_CKPT);
    assert_int_equal(vd.lost, 0);
    eng_expected_free(e);
}

static void test_sink_snapshot_values(void **state)
{
    struct fixture *f = *state;
    struct eng_output *o = eng_output_new();
    const struct eng_vertex *v = ops_vertex(f, "sink", ENG_OP_SINK, NULL, 2, 0);
    struct eng_op *op = ops_new_op(f, v, 1, 0, o);
    struct eng_expected *e = sink_expected(); /* fills sink_in */
    eng_expected_free(e);
    struct eng_snap_state st;
    struct eng_kstate *ks;
    /* 30 pending txn ids fit (2 + 30 = 32 values); a 31st does not. */
    for (uint32_t c = 1; c <= 31; c++) {
        feed(op, c * 10, c * 10 + 10);
        ops_snap_init(&st, c, v->max_parallelism);
        int rc = op->ops->snapshot(op, &st, &ks);
        if (c <= 30) {
            assert_int_equal(rc, 0);
            assert_int_equal(st.n_staged, 0);   /* records stay in the output */
            uint64_t x;
            assert_int_equal(eng_snap_get_u64(&st, "txn.count", &x), 0);
            assert_int_equal(x, c);
            assert_int_equal(eng_snap_get_u64(&st, "sink.subtask", &x), 0);
            assert_int_equal(x, 1);
            char name[32];
            snprintf(name, sizeof(name), "txn.%u.id", c - 1);
            assert_int_equal(eng_snap_get_u64(&st, name, &x), 0);
            assert_int_equal(x, c);
            assert_int_equal(eng_output_pending_records(o), c * 10);
        } else {
            assert_int_equal(rc, -ENOSPC);
            assert_non_null(strstr(eng_op_error(op), "pending transactions"));
        }
    }
    assert_int_equal(eng_output_records(o), 0);
    /* Completing 30 frees the list; the failed checkpoint's records are in
     * the open txn (id 31), which the next snapshot pre-commits. */
    op->ops->notify_complete(op, 30);
    assert_int_equal(eng_output_records(o), 300);
    ops_snap_init(&st, 33, v->max_parallelism);
    assert_int_equal(op->ops->snapshot(op, &st, &ks), 0);
    uint64_t x;
    assert_int_equal(eng_snap_get_u64(&st, "txn.0.id", &x), 0);
    assert_int_equal(x, 31);
    op->ops->notify_complete(op, 32);   /* before txn 31's checkpoint 33: nothing */
    assert_int_equal(eng_output_records(o), 300);
    op->ops->notify_complete(op, 33);
    assert_int_equal(eng_output_records(o), 310);
    assert_int_equal(eng_output_committed_txn(o, 0, 1), 31);
    /* A stale re-commit is ignored, both ways in. */
    bool applied = true;
    assert_int_equal(eng_output_commit(o, 0, 1, 30, sink_in, 5, &applied), 0);
    assert_false(applied);
    applied = true;
    assert_int_equal(eng_output_commit_txn(o, 0, 1, 31, &applied), 0);
    assert_false(applied);
    assert_int_equal(eng_output_records(o), 310);
    eng_op_free(op);
    eng_output_free(o);
}

/* The external system's transactions on their own: invisible until
 * committed, commits idempotent, aborts per subtask, staging in batches. */
static void test_output_txns(void **state)
{
    enum { BIG = 10007 };   /* several chunks, not a multiple of anything */
    static struct eng_record rec[BIG];
    for (uint32_t i = 0; i < BIG; i++)
        rec[i] = (struct eng_record){.key = i % 13, .value = i, .ts = i};
    struct eng_output *o = eng_output_new();
    /* Staged in uneven batches into txn 1 of (3, 0), and a little into txn 2. */
    for (uint32_t at = 0; at < BIG;) {
        uint32_t n = BIG - at < 777 ? BIG - at : 777;
        assert_int_equal(eng_output_stage(o, 3, 0, 0, 1, rec + at, n), 0);
        at += n;
    }
    assert_int_equal(eng_output_stage(o, 3, 0, 0, 2, rec, 5), 0);
    assert_int_equal(eng_output_stage(o, 3, 1, 0, 2, rec, 7), 0);
    assert_int_equal(eng_output_stage(o, 3, 1, 0, 9, rec, 0), 0);  /* opens nothing */
    assert_int_equal(eng_output_records(o), 0);
    assert_int_equal(eng_output_key_count(o), 0);
    assert_int_equal(eng_output_pending_records(o), BIG + 12);
    struct eng_output_key k;
    assert_int_equal(eng_output_key(o, 1, &k), -ENOENT);

    bool applied = false;
    assert_int_equal(eng_output_commit_txn(o, 3, 0, 1, &applied), 0);
    assert_true(applied);
    assert_int_equal(eng_output_records(o), BIG);
    assert_int_equal(eng_output_key(o, 12, &k), 0);
    uint64_t want = 0;
    int64_t want_max = 0;
    for (uint32_t i = 0; i < BIG; i++)
        if (rec[i].key == 12) {
            want++;
            want_max = rec[i].value;
        }
    assert_int_equal(k.records, want);
    assert_int_equal(k.max, want_max);
    assert_int_equal(k.last, want_max);   /* staging order is commit order */
    /* Again: ignored.  Never staged, or aborted: -ENOENT. */
    assert_int_equal(eng_output_commit_txn(o, 3, 0, 1, &applied), 0);
    assert_false(applied);
    assert_int_equal(eng_output_commit_txn(o, 3, 0, 5, NULL), -ENOENT);
    assert_int_equal(eng_output_commit_txn(o, 4, 0, 1, NULL), -ENOENT);
    assert_int_equal(eng_output_commit_txn(o, 3, 1, 9, NULL), -ENOENT);
    /* Aborting (3, 0) after 1 drops its txn 2 and nothing of (3, 1). */
    assert_int_equal(eng_output_abort_after(o, 3, 0, 1), 5);
    assert_int_equal(eng_output_commit_txn(o, 3, 0, 2, NULL), -ENOENT);
    assert_int_equal(eng_output_pending_records(o), 7);
    assert_int_equal(eng_output_abort_after(o, 3, 1, 2), 0);
    assert_int_equal(eng_output_commit_txn(o, 3, 1, 2, &applied), 0);
    assert_true(applied);
    assert_int_equal(eng_output_records(o), BIG + 7);
    assert_int_equal(eng_output_committed_txn(o, 3, 0), 1);
    assert_int_equal(eng_output_committed_txn(o, 3, 1), 2);
    assert_int_equal(eng_output_pending_records(o), 0);
    /* Freed with pending txns in it: no leak (ASan checks). */
    assert_int_equal(eng_output_stage(o, 3, 2, 0, 1, rec, BIG), 0);
    eng_output_free(o);
}

/* Txns fold their records per key as they are staged; committing them must
 * leave exactly what applying every record in commit order leaves.  Many
 * keys, so txn tables and the committed table grow (a merge into a smaller
 * table included), and keys spread as sequences and as multiples of a
 * power of two (which a poor multiplicative hash would pile up). */
static void test_output_fold_matches_replay(void **state)
{
    enum { N = 60000, TXNS = 3 };
    static struct eng_record rec[TXNS][N];
    for (uint32_t t = 0; t < TXNS; t++)
        for (uint32_t i = 0; i < N; i++) {
            uint64_t key = t == 1 ? (uint64_t)(i % 20000) << 20 : (uint64_t)(i * 7 + t) % 50000;
            rec[t][i] = (struct eng_record){.key = key, .value = (int64_t)((i * 2654435761u) % 997),
                                            .ts = i};
        }
    struct eng_output *folded = eng_output_new(), *replayed = eng_output_new();
    bool applied;
    for (uint32_t t = 0; t < TXNS; t++) {
        for (uint32_t at = 0; at < N; at += 512)
            assert_int_equal(eng_output_stage(folded, 1, 0, 0, t + 1, rec[t] + at,
                                              N - at < 512 ? N - at : 512), 0);
        assert_int_equal(eng_output_commit(replayed, 1, 0, t + 1, rec[t], N, &applied), 0);
        assert_true(applied);
    }
    /* Commit the first txn after a second one was staged: tables in use at once. */
    for (uint32_t t = 0; t < TXNS; t++) {
        assert_int_equal(eng_output_commit_txn(folded, 1, 0, t + 1, &applied), 0);
        assert_true(applied);
    }
    assert_int_equal(eng_output_records(folded), eng_output_records(replayed));
    assert_int_equal(eng_output_key_count(folded), eng_output_key_count(replayed));
    for (uint32_t t = 0; t < TXNS; t++)
        for (uint32_t i = 0; i < N; i++) {
            struct eng_output_key a, b;
            assert_int_equal(eng_output_key(folded, rec[t][i].key, &a), 0);
            assert_int_equal(eng_output_key(replayed, rec[t][i].key, &b), 0);
            assert_int_equal(a.records, b.records);
            assert_int_equal(a.max, b.max);
            assert_int_equal(a.last, b.last);
        }
    eng_output_free(folded);
    eng_output_free(replayed);
}

/* A zombie: an instance of the failed attempt still runs for a moment after
 * its successor restored.  Its stages are fenced off (the process call
 * fails, saying why) instead of landing in the txn the successor reuses, and
 * the output stays exactly once. */
static void test_sink_zombie_fenced(void **state)
{
    struct fixture *f = *state;
    const struct eng_vertex *v = ops_vertex(f, "sink", ENG_OP_SINK, NULL, 1, 0);
    struct eng_expected *e = sink_expected(); /* fills sink_in */
    struct eng_output *o = eng_output_new();
    struct eng_op *old = ops_new_op(f, v, 0, 0, o);
    feed(old, 0, PER_CKPT);
    uint8_t *buf;
    size_t len;
    ops_snap_encode(old, 1, &buf, &len);
    old->ops->notify_complete(old, 1);
    feed(old, PER_CKPT, PER_CKPT + 50);      /* txn 2, lost with the attempt */
    struct eng_op *next = ops_new_op(f, v, 0, 1, o);
    ops_restore_from(next, buf, len, 0, v->max_parallelism - 1);
    assert_int_equal(eng_output_pending_records(o), 0);
    feed(next, PER_CKPT, PER_CKPT + 10);     /* txn 2 again, the successor's */

    struct eng_rvec out = {0};
    uint64_t stall = 0;
    int rc = old->ops->process(old, sink_in + PER_CKPT + 50, 20, &out, &stall);
    assert_int_equal(rc, -ESTALE);
    assert_non_null(strstr(eng_op_error(old), "fenced off"));
    assert_int_equal(eng_output_pending_records(o), 10);
    eng_rvec_free(&out);
    eng_op_free(old);

    feed(next, PER_CKPT + 10, SINK_RECORDS);
    rt_free(buf);
    ops_snap_encode(next, 2, &buf, &len);
    next->ops->notify_complete(next, 2);
    struct eng_verdict verdict;
    eng_output_verify(o, e, &verdict);
    assert_true(verdict.exactly_once);
    assert_int_equal(verdict.committed, SINK_RECORDS);
    /* An unfenced stage (epoch 0) is refused too once somebody fenced. */
    assert_int_equal(eng_output_stage(o, next->env.vertex, 0, 0, 3, sink_in, 1), -ESTALE);
    rt_free(buf);
    eng_op_free(next);
    eng_output_free(o);
    eng_expected_free(e);
}

/* A sink restored from another subtask's file (a rescaled restore) commits
 * that subtask's pending txns but does not abort the subtask's later ones:
 * that subtask's new instance, which may be staging already, fences its own
 * identity when it is restored or starts. */
static void test_sink_foreign_restore(void **state)
{
    struct fixture *f = *state;
    const struct eng_vertex *v = ops_vertex(f, "sink", ENG_OP_SINK, NULL, 2, 0);
    struct eng_expected *e = sink_expected(); /* fills sink_in */
    eng_expected_free(e);
    struct eng_output *o = eng_output_new();
    struct eng_op *old1 = ops_new_op(f, v, 1, 0, o);
    feed(old1, 0, 100);                 /* txn 1, pre-committed at checkpoint 4 */
    uint8_t *buf;
    size_t len;
    ops_snap_encode(old1, 4, &buf, &len);
    feed(old1, 100, 150);               /* txn 5: the failed attempt's */
    eng_op_free(old1);
    struct eng_op *new0 = ops_new_op(f, v, 0, 1, o);
    struct eng_op *new1 = ops_new_op(f, v, 1, 1, o);
    ops_restore_from(new0, buf, len, 0, v->max_parallelism - 1);
    assert_int_equal(eng_output_records(o), 100);
    assert_int_equal(eng_output_pending_records(o), 50);   /* not new0's to abort */
    ops_restore_from(new1, buf, len, 0, v->max_parallelism - 1);   /* its own: fences */
    assert_int_equal(eng_output_records(o), 100);
    assert_int_equal(eng_output_pending_records(o), 0);
    feed(new1, 200, 210);
    assert_int_equal(eng_output_pending_records(o), 10);
    rt_free(buf);
    ops_snap_encode(new1, 5, &buf, &len);
    new1->ops->notify_complete(new1, 5);
    assert_int_equal(eng_output_records(o), 110);
    assert_int_equal(eng_output_committed_txn(o, 0, 1), 5);
    rt_free(buf);
    eng_op_free(new0);
    eng_op_free(new1);
    eng_output_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sink_exactly_once, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_sink_snapshot_values, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_output_txns, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_output_fold_matches_replay, ops_setup,
                                        ops_teardown),
        cmocka_unit_test_setup_teardown(test_sink_zombie_fenced, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_sink_foreign_restore, ops_setup, ops_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
