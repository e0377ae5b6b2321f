/*
 * test_jobgraph.c - job graph validation messages, execution graph
 * expansion (chains, channels, regions) and key-group assignment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "engine/jobgraph.h"

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

/* A valid three-vertex pipeline src -> map -> sink with forward edges. */
static struct eng_jobgraph *pipeline(uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, par);
    int m = vtx(g, "map", ENG_OP_MAP, par);
    int k = vtx(g, "sink", ENG_OP_SINK, par);
    edge(g, s, m, ENG_EDGE_FORWARD);
    edge(g, m, k, ENG_EDGE_FORWARD);
    return g;
}

static void expect_error(struct eng_jobgraph *g, const char *msg)
{
    memset(err, 'x', sizeof(err));
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    struct eng_execgraph *eg = NULL;
    assert_int_equal(eng_execgraph_build(g, &eg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_null(eg);
    eng_jobgraph_free(g);
}

static void test_valid(void **state)
{
    struct eng_jobgraph *g = pipeline(2);
    memset(err, 'x', sizeof(err));
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(eng_jobgraph_validate(g, NULL, 0), 0);
    assert_int_equal(eng_jobgraph_find(g, "map"), 1);
    assert_int_equal(eng_jobgraph_find(g, "nope"), -ENOENT);
    assert_int_equal(eng_jobgraph_vertex(g, 1)->max_parallelism, 128);
    assert_int_equal(eng_jobgraph_add_edge(g, 0, 3, ENG_EDGE_FORWARD), -EINVAL);
    assert_int_equal(eng_jobgraph_add_vertex(g, "", ENG_OP_MAP, NULL, 1, 0), -EINVAL);
    assert_int_equal(eng_jobgraph_add_vertex(g, NULL, ENG_OP_MAP, NULL, 1, 0), -EINVAL);
    assert_string_equal(eng_jobgraph_name(g), "j");
    eng_jobgraph_free(g);
    eng_jobgraph_free(NULL);
}

static void test_error_empty(void **state)
{
    expect_error(eng_jobgraph_new("empty"), "job graph 'empty' has no vertices");
}

static void test_error_duplicate_name(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    vtx(g, "map", ENG_OP_MAP, 1);
    expect_error(g, "duplicate vertex name 'map' (vertices 1 and 3)");
}

static void test_error_unknown_operator(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    eng_jobgraph_add_vertex(g, "weird", (enum eng_op_kind)99, NULL, 1, 0);
    expect_error(g, "vertex 'weird': unknown operator kind 99");
}

static void test_error_zero_parallelism(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 0);
    expect_error(g, "vertex 'src': parallelism must be at least 1, got 0");
}

static void test_error_max_parallelism(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    eng_jobgraph_add_vertex(g, "sum", ENG_OP_SUM, NULL, 8, 4);
    expect_error(g, "vertex 'sum': max parallelism 4 is less than parallelism 8");

    g = eng_jobgraph_new("j");
    eng_jobgraph_add_vertex(g, "sum", ENG_OP_SUM, NULL, 8, 40000);
    expect_error(g, "vertex 'sum': max parallelism 40000 exceeds the limit 32768");
}

static void test_error_unknown_partitioning(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    edge(g, 0, 2, (enum eng_edge_kind)9);
    expect_error(g, "edge 'src' -> 'sink': unknown partitioning 9");
}

static void test_error_duplicate_edge(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    edge(g, 0, 1, ENG_EDGE_HASH);
    expect_error(g, "duplicate edge 'src' -> 'map' (edges 0 and 2)");
}

static void test_error_source_with_input(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    edge(g, 1, 0, ENG_EDGE_REBALANCE);
    expect_error(g, "source 'src' has an input from 'map'; a source takes no inputs");
}

static void test_error_sink_with_output(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    int m2 = vtx(g, "map2", ENG_OP_MAP, 1);
    edge(g, 2, m2, ENG_EDGE_FORWARD);
    expect_error(g, "sink 'sink' has an output to 'map2'; a sink takes no outputs");
}

static void test_error_forward_parallelism(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_RANDOM, 4);
    int k = vtx(g, "sink", ENG_OP_SINK, 2);
    edge(g, s, k, ENG_EDGE_FORWARD);
    expect_error(g, "forward edge 'src' -> 'sink' joins parallelism 4 to parallelism 2; "
                    "forward needs equal parallelism (use rebalance or hash)");
}

static void test_error_no_source_no_sink(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int m = vtx(g, "map", ENG_OP_MAP, 1);
    int k = vtx(g, "sink", ENG_OP_SINK, 1);
    edge(g, m, k, ENG_EDGE_FORWARD);
    expect_error(g, "job graph 'j' has no source (add a source_sequence or source_random vertex)");

    g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 1);
    m = vtx(g, "map", ENG_OP_MAP, 1);
    edge(g, s, m, ENG_EDGE_FORWARD);
    expect_error(g, "job graph 'j' has no sink (add a sink vertex)");
}

static void test_error_cycle(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 1);
    int a = vtx(g, "a", ENG_OP_MAP, 1);
    int b = vtx(g, "b", ENG_OP_MAP, 1);
    int c = vtx(g, "c", ENG_OP_MAP, 1);
    int k = vtx(g, "sink", ENG_OP_SINK, 1);
    edge(g, s, a, ENG_EDGE_FORWARD);
    edge(g, a, b, ENG_EDGE_FORWARD);
    edge(g, b, c, ENG_EDGE_HASH);
    edge(g, c, a, ENG_EDGE_REBALANCE);
    edge(g, c, k, ENG_EDGE_FORWARD);
    expect_error(g, "cycle: 'a' -> 'b' -> 'c' -> 'a'");

    g = pipeline(1);
    edge(g, 1, 1, ENG_EDGE_FORWARD);
    expect_error(g, "cycle: 'map' -> 'map'");
}

static void test_error_unreachable(void **state)
{
    struct eng_jobgraph *g = pipeline(1);
    int orphan = vtx(g, "orphan", ENG_OP_FILTER, 1);
    edge(g, orphan, 2, ENG_EDGE_REBALANCE);
    expect_error(g, "vertex 'orphan' is not reachable from any source");
}

/* src(2) -e1-> a(2) -e2-> keyed(2) -> sink: which inputs a keyed vertex
 * takes at parallelism 2 - each key must reach the subtask owning its key
 * group, or a restore by key group would lose its state. */
static struct eng_jobgraph *keyed_after(enum eng_op_kind a_kind, enum eng_edge_kind e1,
                                        enum eng_edge_kind e2, enum eng_op_kind keyed)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 2);
    int a = vtx(g, "a", a_kind, 2);
    int k = vtx(g, "state", keyed, 2);
    int o = vtx(g, "sink", ENG_OP_SINK, 2);
    edge(g, s, a, e1);
    edge(g, a, k, e2);
    edge(g, k, o, ENG_EDGE_FORWARD);
    return g;
}

static void test_error_keyed_unpartitioned(void **state)
{
    /* Accepted: hash straight in, or forward behind a hash through
     * operators that keep keys, or anything at parallelism 1. */
    struct eng_jobgraph *g = keyed_after(ENG_OP_MAP, ENG_EDGE_HASH, ENG_EDGE_FORWARD,
                                         ENG_OP_SUM);
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), 0);
    eng_jobgraph_free(g);
    g = keyed_after(ENG_OP_COUNT, ENG_EDGE_HASH, ENG_EDGE_FORWARD, ENG_OP_WINDOW);
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), 0);
    eng_jobgraph_free(g);
    g = keyed_after(ENG_OP_KEYBY, ENG_EDGE_FORWARD, ENG_EDGE_HASH, ENG_OP_COUNT);
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), 0);
    eng_jobgraph_free(g);
    g = eng_jobgraph_new("j");
    edge(g, vtx(g, "src", ENG_OP_SOURCE_RANDOM, 1), vtx(g, "c", ENG_OP_COUNT, 1),
         ENG_EDGE_FORWARD);
    edge(g, 1, vtx(g, "sink", ENG_OP_SINK, 1), ENG_EDGE_FORWARD);
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), 0);
    eng_jobgraph_free(g);

    expect_error(keyed_after(ENG_OP_KEYBY, ENG_EDGE_HASH, ENG_EDGE_FORWARD, ENG_OP_COUNT),
                 "count 'state' (parallelism 2) keeps state per key, but its forward input "
                 "from 'a' is not partitioned by key (it changes keys); make that edge hash");
    expect_error(keyed_after(ENG_OP_MAP, ENG_EDGE_FORWARD, ENG_EDGE_FORWARD, ENG_OP_ALLOC),
                 "alloc 'state' (parallelism 2) keeps state per key, but its forward input "
                 "from 'a' is not partitioned by key (its own input is not partitioned by "
                 "key); make that edge hash");
    expect_error(keyed_after(ENG_OP_MAP, ENG_EDGE_HASH, ENG_EDGE_REBALANCE, ENG_OP_REDUCE),
                 "reduce 'state' (parallelism 2) keeps state per key, but its rebalance "
                 "input from 'a' is not partitioned by key (it spreads keys over subtasks); "
                 "make that edge hash");
    expect_error(keyed_after(ENG_OP_MAP, ENG_EDGE_HASH, ENG_EDGE_BROADCAST, ENG_OP_WINDOW),
                 "window 'state' (parallelism 2) keeps state per key, but its broadcast "
                 "input from 'a' is not partitioned by key (it sends every key to every "
                 "subtask); make that edge hash");
    g = keyed_after(ENG_OP_MAP, ENG_EDGE_HASH, ENG_EDGE_FORWARD, ENG_OP_SUM);
    edge(g, 0, 2, ENG_EDGE_FORWARD);
    expect_error(g, "sum 'state' (parallelism 2) keeps state per key, but its forward input "
                    "from 'src' is not partitioned by key (every subtask of a source emits "
                    "any key); make that edge hash");
    g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 2);
    int a = eng_jobgraph_add_vertex(g, "a", ENG_OP_MAP, NULL, 2, 256);
    int c = vtx(g, "state", ENG_OP_COUNT, 2);
    edge(g, s, a, ENG_EDGE_HASH);
    edge(g, a, c, ENG_EDGE_FORWARD);
    edge(g, c, vtx(g, "sink", ENG_OP_SINK, 2), ENG_EDGE_FORWARD);
    expect_error(g, "count 'state' (parallelism 2) keeps state per key, but its forward input "
                    "from 'a' is not partitioned by key (its max parallelism differs, so its "
                    "key groups do); make that edge hash");
}

static void test_names(void **state)
{
    for (unsigned k = 0; k < ENG_OP_KIND_COUNT; k++) {
        enum eng_op_kind back;
        assert_int_equal(eng_op_kind_parse(eng_op_kind_name((enum eng_op_kind)k), &back), 0);
        assert_int_equal(back, k);
    }
    enum eng_op_kind out;
    assert_int_equal(eng_op_kind_parse("SUM", &out), 0);
    assert_int_equal(out, ENG_OP_SUM);
    assert_int_equal(eng_op_kind_parse("summ", &out), -EINVAL);
    assert_string_equal(eng_op_kind_name((enum eng_op_kind)77), "unknown");
    assert_string_equal(eng_edge_kind_name(ENG_EDGE_BROADCAST), "broadcast");
    assert_int_equal(eng_default_max_parallelism(1), 128);
    assert_int_equal(eng_default_max_parallelism(100), 256);
    assert_int_equal(eng_default_max_parallelism(30000), 32768);
}

static struct eng_execgraph *build(struct eng_jobgraph *g)
{
    struct eng_execgraph *eg = NULL;
    int rc = eng_execgraph_build(g, &eg, err, sizeof(err));
    if (rc)
        fail_msg("build: %s", err);
    eng_jobgraph_free(g); /* the execution graph must not depend on it */
    return eg;
}

/* Every channel appears once in its producer's outputs and once in its
 * consumer's inputs; regions partition the tasks. */
static void check_consistency(const struct eng_execgraph *eg)
{
    uint32_t nt = eng_execgraph_task_count(eg), seen_in = 0, seen_regions = 0;
    const uint32_t *in = eng_execgraph_inputs(eg);
    for (uint32_t t = 0; t < nt; t++) {
        const struct eng_task *task = eng_execgraph_task(eg, t);
        for (uint32_t k = 0; k < task->n_out; k++)
            assert_int_equal(eng_execgraph_channel(eg, task->first_out + k)->producer, t);
        for (uint32_t k = 0; k < task->n_in; k++) {
            assert_int_equal(eng_execgraph_channel(eg, in[task->first_in + k])->consumer, t);
            if (k)
                assert_true(in[task->first_in + k] > in[task->first_in + k - 1]);
        }
        seen_in += task->n_in;
        const struct eng_channel *ch;
        for (uint32_t k = 0; k < task->n_out; k++) {
            ch = eng_execgraph_channel(eg, task->first_out + k);
            assert_int_equal(eng_execgraph_task(eg, ch->consumer)->region, task->region);
        }
    }
    assert_int_equal(seen_in, eng_execgraph_channel_count(eg));
    for (uint32_t r = 0; r < eng_execgraph_region_count(eg); r++) {
        const struct eng_region *reg = eng_execgraph_region(eg, r);
        assert_true(reg->n_tasks > 0);
        for (uint32_t i = 0; i < reg->n_tasks; i++)
            assert_int_equal(eng_execgraph_task(eg, reg->tasks[i])->region, r);
        seen_regions += reg->n_tasks;
    }
    assert_int_equal(seen_regions, nt);
}

static void test_forward_pipeline(void **state)
{
    struct eng_execgraph *eg = build(pipeline(4));
    check_consistency(eg);
    assert_int_equal(eng_execgraph_chain_count(eg), 1);
    assert_string_equal(eng_execgraph_chain(eg, 0)->name, "src -> map -> sink");
    assert_int_equal(eng_execgraph_chain(eg, 0)->n_ops, 3);
    assert_int_equal(eng_execgraph_task_count(eg), 4);
    assert_int_equal(eng_execgraph_channel_count(eg), 0);
    assert_int_equal(eng_execgraph_region_count(eg), 4);
    for (uint32_t t = 0; t < 4; t++) {
        assert_int_equal(eng_execgraph_task(eg, t)->region, t);
        assert_int_equal(eng_execgraph_task(eg, t)->subtask, t);
    }
    uint32_t pos;
    assert_int_equal(eng_execgraph_chain_of(eg, 2, &pos), 0);
    assert_int_equal(pos, 2);
    eng_execgraph_free(eg);
}

static void test_keyby_shuffle(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 2);
    int m = vtx(g, "map", ENG_OP_MAP, 2);
    int sum = vtx(g, "sum", ENG_OP_SUM, 3);
    int k = vtx(g, "sink", ENG_OP_SINK, 3);
    edge(g, sum, k, ENG_EDGE_FORWARD); /* edge order must not matter */
    edge(g, s, m, ENG_EDGE_FORWARD);
    edge(g, m, sum, ENG_EDGE_HASH);
    struct eng_execgraph *eg = build(g);
    check_consistency(eg);
    assert_int_equal(eng_execgraph_chain_count(eg), 2);
    assert_string_equal(eng_execgraph_chain(eg, 0)->name, "src -> map");
    assert_string_equal(eng_execgraph_chain(eg, 1)->name, "sum -> sink");
    assert_int_equal(eng_execgraph_chain(eg, 1)->first_task, 2);
    assert_int_equal(eng_execgraph_task_count(eg), 5);
    assert_int_equal(eng_execgraph_channel_count(eg), 6);
    assert_int_equal(eng_execgraph_region_count(eg), 1);
    const struct eng_task *t0 = eng_execgraph_task(eg, 0);
    assert_int_equal(t0->n_out, 3);
    for (uint32_t j = 0; j < 3; j++) {
        const struct eng_channel *ch = eng_execgraph_channel(eg, t0->first_out + j);
        assert_int_equal(ch->kind, ENG_EDGE_HASH);
        assert_int_equal(ch->consumer_subtask, j);
        assert_int_equal(ch->consumer, 2 + j);
        assert_int_equal(ch->edge, 2);
    }
    const struct eng_task *sum0 = eng_execgraph_task(eg, 2);
    assert_int_equal(sum0->n_in, 2);
    assert_int_equal(eng_execgraph_inputs(eg)[sum0->first_in], 0);
    assert_int_equal(eng_execgraph_inputs(eg)[sum0->first_in + 1], 3);
    assert_int_equal(eng_execgraph_region(eg, 0)->n_tasks, 5);
    eng_execgraph_free(eg);
}

static void test_broadcast(void **state)
{
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_RANDOM, 2);
    int m = vtx(g, "map", ENG_OP_MAP, 3);
    int k = vtx(g, "sink", ENG_OP_SINK, 3);
    edge(g, s, m, ENG_EDGE_BROADCAST);
    edge(g, m, k, ENG_EDGE_FORWARD);
    struct eng_execgraph *eg = build(g);
    check_consistency(eg);
    assert_int_equal(eng_execgraph_chain_count(eg), 2);
    assert_int_equal(eng_execgraph_channel_count(eg), 6);
    assert_int_equal(eng_execgraph_channel(eg, 0)->kind, ENG_EDGE_BROADCAST);
    assert_int_equal(eng_execgraph_region_count(eg), 1);
    eng_execgraph_free(eg);
}

static void test_diamond(void **state)
{
    /* src fans out to a and b (so nothing chains to src), both forward into
     * j, which chains with the sink: each parallel pipeline is a region. */
    struct eng_jobgraph *g = eng_jobgraph_new("j");
    int s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 2);
    int a = vtx(g, "a", ENG_OP_MAP, 2);
    int b = vtx(g, "b", ENG_OP_FILTER, 2);
    int j = vtx(g, "join", ENG_OP_MAP, 2);
    int k = vtx(g, "sink", ENG_OP_SINK, 2);
    edge(g, s, a, ENG_EDGE_FORWARD);
    edge(g, s, b, ENG_EDGE_FORWARD);
    edge(g, a, j, ENG_EDGE_FORWARD);
    edge(g, b, j, ENG_EDGE_FORWARD);
    edge(g, j, k, ENG_EDGE_FORWARD);
    struct eng_execgraph *eg = build(g);
    check_consistency(eg);
    assert_int_equal(eng_execgraph_chain_count(eg), 4);
    assert_string_equal(eng_execgraph_chain(eg, 0)->name, "src");
    assert_string_equal(eng_execgraph_chain(eg, 1)->name, "a");
    assert_string_equal(eng_execgraph_chain(eg, 2)->name, "b");
    assert_string_equal(eng_execgraph_chain(eg, 3)->name, "join -> sink");
    assert_int_equal(eng_execgraph_task_count(eg), 8);
    assert_int_equal(eng_execgraph_channel_count(eg), 8);
    assert_int_equal(eng_execgraph_region_count(eg), 2);
    for (uint32_t t = 0; t < 8; t++)
        assert_int_equal(eng_execgraph_task(eg, t)->region, eng_execgraph_task(eg, t)->subtask);
    const struct eng_region *r1 = eng_execgraph_region(eg, 1);
    assert_int_equal(r1->n_tasks, 4);
    assert_int_equal(r1->tasks[0], 1);
    assert_int_equal(r1->tasks[3], 7);
    /* Now make one edge all-to-all: everything joins one region. */
    eng_execgraph_free(eg);

    g = eng_jobgraph_new("j");
    s = vtx(g, "src", ENG_OP_SOURCE_SEQUENCE, 2);
    a = vtx(g, "a", ENG_OP_MAP, 2);
    b = vtx(g, "b", ENG_OP_FILTER, 2);
    j = vtx(g, "join", ENG_OP_MAP, 2);
    k = vtx(g, "sink", ENG_OP_SINK, 2);
    edge(g, s, a, ENG_EDGE_FORWARD);
    edge(g, s, b, ENG_EDGE_REBALANCE);
    edge(g, a, j, ENG_EDGE_FORWARD);
    edge(g, b, j, ENG_EDGE_FORWARD);
    edge(g, j, k, ENG_EDGE_FORWARD);
    eg = build(g);
    check_consistency(eg);
    assert_int_equal(eng_execgraph_channel_count(eg), 10);
    assert_int_equal(eng_execgraph_region_count(eg), 1);
    eng_execgraph_free(eg);
}

static void test_key_groups_cover(void **state)
{
    static const uint32_t maxps[] = {1, 7, 128, 129, 1000, 32768};
    static const uint32_t pars[] = {1, 2, 3, 4, 7, 64, 128};
    for (size_t m = 0; m < sizeof(maxps) / sizeof(maxps[0]); m++) {
        for (size_t p = 0; p < sizeof(pars) / sizeof(pars[0]); p++) {
            uint32_t maxp = maxps[m], par = pars[p];
            if (par > maxp)
                continue;
            uint32_t next = 0;
            for (uint32_t i = 0; i < par; i++) {
                uint32_t first, last;
                eng_key_group_range(i, par, maxp, &first, &last);
                assert_int_equal(first, next); /* contiguous, no gap, no overlap */
                assert_true(first <= last);
                for (uint32_t kg = first; kg <= last; kg++)
                    assert_int_equal(eng_key_group_subtask(kg, par, maxp), i);
                next = last + 1;
            }
            assert_int_equal(next, maxp);
        }
    }
}

static void test_key_group_hash(void **state)
{
    uint32_t hits[128] = {0};
    for (uint64_t k = 0; k < 100000; k++) {
        uint64_t key = k * 0x9E3779B97F4A7C15ull;
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(key >> (8 * i));
        assert_true(eng_key_hash(key) == XXH64(b, 8, 0));
        uint32_t kg = eng_key_group(key, 128);
        assert_int_equal(kg, XXH64(b, 8, 0) % 128);
        hits[kg]++;
    }
    for (int g = 0; g < 128; g++)
        assert_true(hits[g] > 600 && hits[g] < 960); /* ~781 each */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_error_empty),
        cmocka_unit_test(test_error_duplicate_name),
        cmocka_unit_test(test_error_unknown_operator),
        cmocka_unit_test(test_error_zero_parallelism),
        cmocka_unit_test(test_error_max_parallelism),
        cmocka_unit_test(test_error_unknown_partitioning),
        cmocka_unit_test(test_error_duplicate_edge),
        cmocka_unit_test(test_error_source_with_input),
        cmocka_unit_test(test_error_sink_with_output),
        cmocka_unit_test(test_error_forward_parallelism),
        cmocka_unit_test(test_error_no_source_no_sink),
        cmocka_unit_test(test_error_cycle),
        cmocka_unit_test(test_error_unreachable),
        cmocka_unit_test(test_error_keyed_unpartitioned),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_forward_pipeline),
        cmocka_unit_test(test_keyby_shuffle),
        cmocka_unit_test(test_broadcast),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_key_groups_cover),
        cmocka_unit_test(test_key_group_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
