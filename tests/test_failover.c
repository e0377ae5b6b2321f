/*
 * test_failover.c - full and region failover on execution graphs built with
 * engine/jobgraph.h: parallel forward pipelines restart one pipeline, a
 * keyBy job restarts everything, full restarts everything; tasks lost with
 * a TaskManager; argument errors and the strategy key's values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "minicluster/failover.h"

static char err[512];

static int vtx(struct eng_jobgraph *g, const char *name, enum eng_op_kind k, uint32_t par)
{
    int id = eng_jobgraph_add_vertex(g, name, k, NULL, par, 0);
    assert_true(id >= 0);
    return id;
}

static void edge(struct eng_jobgraph *g, int a, int b, enum eng_edge_kind k)
{
    assert_int_equal(eng_jobgraph_add_edge(g, (uint32_t)a, (uint32_t)b, k), 0);
}

static struct eng_execgraph *build(struct eng_jobgraph *g)
{
    struct eng_execgraph *eg = NULL;
    if (eng_execgraph_build(g, &eg, err, sizeof(err)) != 0)
        fail_msg("build: %s", err);
    eng_jobgraph_free(g);
    return eg;
}

/* src -> map -> sink, all forward: one chain, `par` independent tasks. */
static struct eng_execgraph *forward_pipeline(uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new("fwd");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, par);
    int m = vtx(g, "map", ENG_OP_MAP, par);
    int k = vtx(g, "sink", ENG_OP_SINK, par);
    edge(g, s, m, ENG_EDGE_FORWARD);
    edge(g, m, k, ENG_EDGE_FORWARD);
    return build(g);
}

/* src -> map, then map -> sink1 and map -> sink2, all forward: the fan-out
 * stops chaining, so each parallel pipeline is three tasks in one region. */
static struct eng_execgraph *forward_fanout(uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new("fanout");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, par);
    int m = vtx(g, "map", ENG_OP_MAP, par);
    int k1 = vtx(g, "sink1", ENG_OP_SINK, par);
    int k2 = vtx(g, "sink2", ENG_OP_SINK, par);
    edge(g, s, m, ENG_EDGE_FORWARD);
    edge(g, m, k1, ENG_EDGE_FORWARD);
    edge(g, m, k2, ENG_EDGE_FORWARD);
    return build(g);
}

/* src -keyBy-> count -> sink: the hash exchange joins every task. */
static struct eng_execgraph *keyby_job(uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new("keyby");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, par);
    int c = vtx(g, "count", ENG_OP_COUNT, par);
    int k = vtx(g, "sink", ENG_OP_SINK, par);
    edge(g, s, c, ENG_EDGE_HASH);
    edge(g, c, k, ENG_EDGE_FORWARD);
    return build(g);
}

/* Asserts the mask holds exactly the tasks want[0..nwant-1]. */
static void expect_mask(const struct eng_execgraph *eg, const uint8_t *mask, uint32_t n,
                        const uint32_t *want, uint32_t nwant)
{
    uint32_t ntasks = eng_execgraph_task_count(eg);
    uint8_t exp[64] = {0};
    assert_true(ntasks <= sizeof(exp));
    for (uint32_t i = 0; i < nwant; i++)
        exp[want[i]] = 1;
    for (uint32_t t = 0; t < ntasks; t++)
        if (mask[t] != exp[t])
            fail_msg("task %u (chain %u subtask %u): restart=%u, want %u", t,
                     eng_execgraph_task(eg, t)->chain, eng_execgraph_task(eg, t)->subtask,
                     mask[t], exp[t]);
    assert_int_equal(n, nwant);
}

/* The task running `subtask` of the chain that holds vertex `v`. */
static uint32_t task_of(const struct eng_execgraph *eg, uint32_t v, uint32_t subtask)
{
    uint32_t pos;
    return eng_execgraph_chain(eg, eng_execgraph_chain_of(eg, v, &pos))->first_task + subtask;
}

static void test_region_forward_pipeline(void **state)
{
    struct eng_execgraph *eg = forward_pipeline(3);
    assert_int_equal(eng_execgraph_task_count(eg), 3);
    assert_int_equal(eng_execgraph_region_count(eg), 3);
    uint8_t mask[3];
    uint32_t n, failed = 1, want = 1;
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, &failed, 1, mask, &n), 0);
    expect_mask(eg, mask, n, &want, 1);
    eng_execgraph_free(eg);
}

static void test_region_fanout(void **state)
{
    struct eng_execgraph *eg = forward_fanout(3);
    assert_int_equal(eng_execgraph_task_count(eg), 9);
    assert_int_equal(eng_execgraph_region_count(eg), 3);
    uint8_t mask[9];
    uint32_t n;

    /* sink2's subtask 1 fails: its pipeline (src->map #1, sink1 #1, sink2 #1)
     * restarts, the other two keep running. */
    uint32_t failed = task_of(eg, 3, 1);
    uint32_t want[] = {task_of(eg, 0, 1), task_of(eg, 2, 1), task_of(eg, 3, 1)};
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, &failed, 1, mask, &n), 0);
    expect_mask(eg, mask, n, want, 3);

    /* Two failures in two pipelines (one repeated): both pipelines. */
    uint32_t two[] = {task_of(eg, 0, 0), task_of(eg, 2, 2), task_of(eg, 0, 0)};
    uint32_t want2[] = {task_of(eg, 0, 0), task_of(eg, 2, 0), task_of(eg, 3, 0),
                        task_of(eg, 0, 2), task_of(eg, 2, 2), task_of(eg, 3, 2)};
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, two, 3, mask, &n), 0);
    expect_mask(eg, mask, n, want2, 6);

    /* Full: everything, whatever failed. */
    uint32_t all[9];
    for (uint32_t t = 0; t < 9; t++)
        all[t] = t;
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, &failed, 1, mask, &n), 0);
    expect_mask(eg, mask, n, all, 9);
    eng_execgraph_free(eg);
}

static void test_region_keyby(void **state)
{
    struct eng_execgraph *eg = keyby_job(3);
    uint32_t ntasks = eng_execgraph_task_count(eg);
    assert_int_equal(ntasks, 6); /* src x3, count->sink x3 */
    assert_int_equal(eng_execgraph_region_count(eg), 1);
    uint8_t mask[6];
    uint32_t n, all[6];
    for (uint32_t t = 0; t < ntasks; t++)
        all[t] = t;
    for (uint32_t f = 0; f < ntasks; f++) {
        assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, &f, 1, mask, &n), 0);
        expect_mask(eg, mask, n, all, ntasks);
        assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, &f, 1, mask, &n), 0);
        expect_mask(eg, mask, n, all, ntasks);
    }
    eng_execgraph_free(eg);
}

static void test_full_pipeline(void **state)
{
    struct eng_execgraph *eg = forward_pipeline(3);
    uint8_t mask[3];
    uint32_t n, failed = 2, all[] = {0, 1, 2};
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, &failed, 1, mask, &n), 0);
    expect_mask(eg, mask, n, all, 3);
    eng_execgraph_free(eg);
}

static void test_lost_taskmanager(void **state)
{
    struct eng_execgraph *eg = forward_fanout(3);
    uint32_t ntasks = eng_execgraph_task_count(eg), placement[9], failed[9], n;
    uint8_t mask[9];

    /* One TaskManager per subtask index (TM i runs every subtask i): losing
     * TM 1 fails three tasks of one pipeline, and only it restarts. */
    for (uint32_t t = 0; t < ntasks; t++)
        placement[t] = eng_execgraph_task(eg, t)->subtask;
    uint32_t nf = mc_failover_tasks_on_tm(placement, ntasks, 1, failed);
    uint32_t want[] = {task_of(eg, 0, 1), task_of(eg, 2, 1), task_of(eg, 3, 1)};
    assert_int_equal(nf, 3);
    for (uint32_t i = 1; i < nf; i++)
        assert_true(failed[i - 1] < failed[i]);
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, failed, nf, mask, &n), 0);
    expect_mask(eg, mask, n, want, 3);

    /* One TM per chain instead: losing it touches every pipeline. */
    for (uint32_t t = 0; t < ntasks; t++)
        placement[t] = eng_execgraph_task(eg, t)->chain;
    nf = mc_failover_tasks_on_tm(placement, ntasks, 0, failed);
    assert_int_equal(nf, 3);
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, failed, nf, mask, &n), 0);
    assert_int_equal(n, ntasks);

    /* A TM with nothing on it fails nothing, and nothing restarts. */
    assert_int_equal(mc_failover_tasks_on_tm(placement, ntasks, 7, failed), 0);
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, failed, 0, mask, &n), 0);
    expect_mask(eg, mask, n, NULL, 0);
    eng_execgraph_free(eg);
}

static void test_errors(void **state)
{
    struct eng_execgraph *eg = forward_pipeline(3);
    uint8_t mask[3] = {7, 7, 7};
    uint32_t n = 99, bad = 3;
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_REGION, &bad, 1, mask, &n), -EINVAL);
    assert_int_equal(mask[0], 7); /* untouched */
    assert_int_equal(n, 99);
    assert_int_equal(mc_failover_tasks(eg, (enum mc_failover)7, &bad, 0, mask, &n), -EINVAL);
    assert_int_equal(mc_failover_tasks(NULL, MC_FAILOVER_FULL, NULL, 0, mask, &n), -EINVAL);
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, NULL, 0, NULL, &n), -EINVAL);
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, NULL, 1, mask, &n), -EINVAL);
    /* Nothing failed: nothing restarts, even with full. */
    assert_int_equal(mc_failover_tasks(eg, MC_FAILOVER_FULL, NULL, 0, mask, NULL), 0);
    assert_memory_equal(mask, "\0\0\0", 3);
    eng_execgraph_free(eg);
}

static void test_parse(void **state)
{
    enum mc_failover k = MC_FAILOVER_FULL;
    assert_int_equal(mc_failover_parse("region", &k, err, sizeof(err)), 0);
    assert_int_equal(k, MC_FAILOVER_REGION);
    assert_int_equal(mc_failover_parse("FULL", &k, err, sizeof(err)), 0);
    assert_int_equal(k, MC_FAILOVER_FULL);
    assert_string_equal(mc_failover_name(k), "full");
    assert_string_equal(mc_failover_name(MC_FAILOVER_REGION), "region");
    assert_int_equal(mc_failover_parse("individual", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "jobmanager.execution.failover-strategy: unknown strategy "
                             "'individual' (expected full or region)");
    assert_int_equal(k, MC_FAILOVER_FULL);
    assert_int_equal(mc_failover_parse(NULL, &k, NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_forward_pipeline),
        cmocka_unit_test(test_region_fanout),
        cmocka_unit_test(test_region_keyby),
        cmocka_unit_test(test_full_pipeline),
        cmocka_unit_test(test_lost_taskmanager),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
