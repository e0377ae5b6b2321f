/*
 * test_tools.c - the determinism tools: the trace header and replay, the
 * determinism self-check (against planted nondeterminism), explore's variants
 * and threads, shrink.
 *
 * Built twice (tests/meson.build): test_tools against the engine as shipped,
 * where seeds 1..PLANTED_SEEDS of the scenario below must all pass, and
 * test_tools_planted (-DTOOLS_PLANTED, linked with planted_op_source.c: a
 * restored source skips a record), where explore must find the bug within
 * those seeds - the same seeds - shrink must cut it to at most 3 faults, and
 * the shrunk file's trace must replay identically, failing the same way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios/explore.h"
#include "scenarios/replay.h"
#include "scenarios/shrink.h"
#include "runtime/rt_dir.h"
#include "tests/scn_env.h"

#define PLANTED_SEEDS 20        /* explore must find the planted bug in these */

/* Two jobs share a session cluster; two TaskManagers die, others stall. */
static const char storm[] =
    "cluster taskmanagers=3 slots=2 provider=active\n"
    "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=20\n"
    "config restart-strategy.fixed-delay.delay=50ms\n"
    "config execution.checkpointing.interval=100ms\n"
    "deadline 30s\n"
    "job a source=sequence(records=20k, keys=200, rate=20k/s) | keyby | count | sink parallelism=2\n"
    "job b source=sequence(records=10k, keys=100, rate=10k/s) | keyby | sum | sink parallelism=2\n"
    "at 200ms for 100ms pause taskmanager-of b[0]\n"
    "when checkpoint a 2 done kill taskmanager-of a[0]\n"
    "at 500ms for 150ms delay messages on link taskmanager-of a[1] <-> jobmanager-of a by 20ms\n"
    "at 700ms kill taskmanager-of b[1]\n"
    "at 900ms for 100ms pause taskmanager-of a[1]\n"
    "expect all jobs finished exactly-once\n";

static char dir[256];

static int run_sim(const struct scn_scenario *s, const char *trace, bool check, bool nondet,
                   char *hash, char *err, size_t errlen)
{
    struct scn_run_opts o = { .mode = SCN_MODE_SESSION, .world = RT_WORLD_SIM, .quiet = true,
                              .trace_path = trace, .check_determinism = check,
                              .test_nondeterministic = nondet };
    json_t *run = NULL;
    int rc = scn_run(s, &o, &run, err, errlen);
    if (hash)
        snprintf(hash, 17, "%s", run ? json_string_value(json_object_get(run, "trace_hash")) : "");
    json_decref(run);
    return rc;
}

/* Replaces line NO of PATH by TEXT. */
static void edit_line(const char *path, unsigned no, const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.edit", path);
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    assert_non_null(in);
    assert_non_null(out);
    char *line = NULL;
    size_t cap = 0;
    for (unsigned n = 1; getline(&line, &cap, in) >= 0; n++)
        fputs(n == no ? text : line, out);
    free(line);
    fclose(in);
    fclose(out);
    assert_int_equal(rename(tmp, path), 0);
}

/* The header rebuilds the run; the first differing line is reported. */
static void test_trace_replay(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("storm.scn", storm);
    char path[300], hash[17], err[256] = "";
    snprintf(path, sizeof(path), "%s/storm.trace", dir);
    int rc = run_sim(s, path, false, false, hash, err, sizeof(err));
    assert_true(rc >= 0);
    char untraced[17];
    assert_int_equal(run_sim(s, NULL, false, false, untraced, err, sizeof(err)), rc);
    assert_string_equal(hash, untraced);    /* the header and footer are not hashed */

    struct scn_replay_result res;
    assert_int_equal(scn_replay(path, true, &res, err, sizeof(err)), 0);
    assert_false(res.diverged);
    assert_string_equal(res.hash, hash);
    assert_string_equal(res.recorded_hash, hash);
    assert_true(res.lines > 1000);
    scn_replay_result_free(&res);

    edit_line(path, 500, "{\"t\":1,\"node\":\"x\",\"ev\":\"edited\"}\n");
    assert_int_equal(scn_replay(path, true, &res, err, sizeof(err)), 1);
    assert_true(res.diverged);
    assert_int_equal(res.line, 500);
    assert_string_equal(res.recorded, "{\"t\":1,\"node\":\"x\",\"ev\":\"edited\"}");
    assert_true(strstr(res.replayed, "\"t\":") != NULL);
    scn_replay_result_free(&res);

    edit_line(path, 1, "{\"not\":\"a trace\"}\n");
    assert_int_equal(scn_replay(path, true, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a minicluster trace"));
    unlink(path);
    scn_scenario_free(s);
}

/* The self-check passes a sound world and catches a planted tie-break that
 * reads the wall clock. */
static void test_check_determinism(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("storm.scn", storm);
    char err[512] = "";
    assert_true(run_sim(s, NULL, true, false, NULL, err, sizeof(err)) >= 0);
    int rc = run_sim(s, NULL, true, true, NULL, err, sizeof(err));
    assert_int_equal(rc, -ENOTRECOVERABLE);
    assert_non_null(strstr(err, "the simulation is not deterministic"));
    scn_scenario_free(s);
}

/* A seed gives one variant; variants stay within the fault model. */
static void test_variants(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("storm.scn", storm);
    bool some_differ = false;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct scn_scenario *a = NULL, *b = NULL;
        struct scn_variant_world wa, wb;
        char err[256];
        assert_int_equal(scn_explore_variant(s, seed, &a, &wa, err, sizeof(err)), 0);
        assert_int_equal(scn_explore_variant(s, seed, &b, &wb, err, sizeof(err)), 0);
        assert_true(scn_scenario_equal(a, b));
        assert_int_equal(wa.link_latency_ns, wb.link_latency_ns);
        assert_int_equal(a->n_faults, s->n_faults);
        assert_true(a->has_seed && a->seed == seed);
        for (size_t i = 0; i < a->n_faults; i++)
            assert_int_equal(a->faults[i].action, s->faults[i].action);
        assert_in_range(a->cluster.taskmanagers, 2, 4);
        some_differ |= !scn_scenario_equal(a, s);
        scn_scenario_free(a);
        scn_scenario_free(b);
    }
    assert_true(some_differ);
    scn_scenario_free(s);
}

#if !TOOLS_PLANTED
/* The engine as shipped: the seeds that find the planted bug all pass, on
 * two workers at once (TSan runs this). */
static void test_explore_clean(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("storm.scn", storm);
    struct scn_explore_opts o = { .mode = SCN_MODE_SESSION, .first = 1, .last = PLANTED_SEEDS,
                                  .workers = 2 };
    struct scn_explore_result res;
    char err[256];
    assert_int_equal(scn_explore(s, &o, &res, err, sizeof(err)), 0);
    for (size_t i = 0; i < res.n_failures; i++)
        print_message("seed %llu: %s\n", (unsigned long long)res.failures[i].seed,
                      res.failures[i].reason);
    assert_int_equal(res.runs, PLANTED_SEEDS);
    assert_int_equal(res.n_failures, 0);
    assert_int_equal(res.workers, 2);
    json_t *j = scn_explore_json(s, &o, &res);
    assert_int_equal(json_integer_value(json_object_get(j, "runs")), PLANTED_SEEDS);
    assert_true(json_number_value(json_object_get(j, "seeds_per_minute")) > 0);
    json_decref(j);
    scn_explore_result_free(&res);
    scn_scenario_free(s);
}
#else
/* The planted bug: found, shrunk to at most 3 faults, replayed. */
static void test_find_shrink_replay(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("storm.scn", storm);
    struct scn_explore_opts o = { .mode = SCN_MODE_SESSION, .first = 1, .last = 1000,
                                  .workers = 2, .stop_after = 1 };
    struct scn_explore_result res;
    char err[256];
    assert_int_equal(scn_explore(s, &o, &res, err, sizeof(err)), 0);
    assert_true(res.n_failures >= 1);
    uint64_t seed = res.failures[0].seed;
    print_message("planted bug found at seed %llu after %llu runs: %s\n",
                  (unsigned long long)seed, (unsigned long long)res.runs,
                  res.failures[0].reason);
    assert_true(seed <= PLANTED_SEEDS);     /* test_tools passes these very seeds */
    assert_non_null(strstr(res.failures[0].reason, "exactly-once"));
    assert_int_equal(res.failures[0].cls, SCN_CLASS_SAFETY);     /* a lost record is unsafe */
    assert_int_equal(res.by_class[SCN_CLASS_SAFETY], res.counted);
    char found[256];
    snprintf(found, sizeof(found), "%s", res.failures[0].reason);
    scn_explore_result_free(&res);

    struct scn_shrink_opts so = { .mode = SCN_MODE_SESSION, .seed = seed };
    struct scn_shrink_result sr;
    assert_int_equal(scn_shrink(s, &so, &sr, err, sizeof(err)), 0);
    assert_true(scn_reason_same(sr.reason, found));
    assert_true(sr.s->n_faults >= 1 && sr.s->n_faults <= 3);
    assert_int_equal(sr.world.link_latency_ns, 0);  /* so `run` reproduces the file */
    char path[300];
    snprintf(path, sizeof(path), "%s/shrunk.scn", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(scn_shrink_write(f, "storm.scn", &so, &sr), 0);
    fclose(f);
    print_message("shrunk to %zu fault(s) in %u runs: %s\n", sr.s->n_faults, sr.runs, sr.removed);

    /* The file is an ordinary scenario: it parses to what shrink found. */
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *back = NULL;
    assert_int_equal(scn_parse_file(path, &back, &d), 0);
    scn_diags_free(&d);
    assert_true(scn_scenario_equal(back, sr.s));

    /* Its run fails the same way, and its trace replays identically. */
    char trace[300], hash[17];
    snprintf(trace, sizeof(trace), "%s/shrunk.trace", dir);
    assert_int_equal(run_sim(back, trace, false, false, hash, err, sizeof(err)), SCN_RUN_FAILED);
    struct scn_replay_result rr;
    assert_int_equal(scn_replay(trace, true, &rr, err, sizeof(err)), 0);
    assert_false(rr.diverged);
    assert_string_equal(rr.hash, hash);
    assert_false(rr.run_ok);
    assert_non_null(strstr(rr.failed, "exactly-once"));
    scn_replay_result_free(&rr);
    unlink(trace);
    unlink(path);
    scn_scenario_free(back);
    scn_shrink_result_free(&sr);
    scn_scenario_free(s);
}
#endif

static int setup(void **st)
{
    (void)st;
    return rt_dir_make_temp("test-tools", dir, sizeof(dir));
}

static int teardown(void **st)
{
    (void)st;
    return rt_dir_remove(dir);      /* whatever a failed test left in it too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_replay),
        cmocka_unit_test(test_check_determinism),
        cmocka_unit_test(test_variants),
#if !TOOLS_PLANTED
        cmocka_unit_test(test_explore_clean),
#else
        cmocka_unit_test(test_find_shrink_replay),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
