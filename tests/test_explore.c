/*
 * test_explore.c - explore's classes, its feasible variants, shards and
 * `explore merge`: the verdict on hand-made run objects (each class, and the
 * order that counts a run failing several ways as the worst), variants of a
 * tight scenario that never start short of slots, shards that split a range
 * exactly, and merges that refuse what must not be combined; the sweep's
 * choice of hits, and sweeps that once found bugs (regressions).
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

#include "scenarios/explore.h"
#include "scenarios/sweep.h"
#include "tests/scn_env.h"

/* 3 TaskManagers x 3 slots for two jobs needing 9 slots at once. */
static const char tight[] =
    "cluster taskmanagers=3 slots=3\n"
    "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
    "config execution.checkpointing.interval=100ms\n"
    "deadline 10s\n"
    "job a source=sequence(records=2k, keys=10, rate=20k/s) | keyby | count | sink parallelism=6\n"
    "job b source=sequence(records=1k, keys=10, rate=20k/s) | keyby | count | sink parallelism=3\n"
    "when checkpoint a 1 done kill taskmanager-of a[0]\n"
    "expect all jobs finished exactly-once\n"
    "expect session: jobs-restarted >= 2\n";

/* One small job, quick to run in the sim world. */
static const char small[] =
    "cluster taskmanagers=2 slots=2\n"
    "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "config restart-strategy.fixed-delay.delay=50ms\n"
    "config execution.checkpointing.interval=100ms\n"
    "deadline 10s\n"
    "job a source=sequence(records=4k, keys=10, rate=20k/s) | keyby | count | sink parallelism=2\n"
    "at 150ms kill taskmanager-of a[0]\n"
    "expect all jobs finished exactly-once\n";

/* A run object with jobs a (FINISHED, exactly once) and b (STATE_B). */
static json_t *run_obj(const char *state_b, bool deadline_ok, bool expect_ok)
{
    json_t *run = json_pack("{s:s, s:[{s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i}, "
                            "{s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i}], s:[], s:[], "
                            "s:{s:[]}}",
        "mode", "session",
        "jobs", "name", "a", "state", "FINISHED", "exactly_once", 1, "verified", 1, "lost", 0,
                "duplicated", 0, "wrong_values", 0, "restarts", 1,
                "name", "b", "state", state_b, "exactly_once", strcmp(state_b, "FINISHED") == 0,
                "verified", 1, "lost", 0, "duplicated", 0, "wrong_values", 0, "restarts", 0,
        "expectations", "faults", "timeline", "jobs");
    json_t *exps = json_object_get(run, "expectations");
    json_array_append_new(exps, json_pack("{s:s, s:b, s:s}", "text",
                                          "expect session: jobs-restarted >= 2", "ok", expect_ok,
                                          "detail", "jobs-restarted = 1"));
    if (!deadline_ok)
        json_array_append_new(exps, json_pack("{s:s, s:b, s:s}", "text",
                                              "the run ends before its deadline", "ok", 0,
                                              "detail", "cut at 10 s"));
    return run;
}

static json_t *job(json_t *run, size_t i)
{
    return json_array_get(json_object_get(run, "jobs"), i);
}

static void test_class_names(void **st)
{
    (void)st;
    unsigned m;
    assert_int_equal(scn_classes_parse("safety,liveness", &m), 0);
    assert_int_equal(m, SCN_CLASS_BIT(SCN_CLASS_SAFETY) | SCN_CLASS_BIT(SCN_CLASS_LIVENESS));
    assert_int_equal(scn_classes_parse("expectation", &m), 0);
    assert_int_equal(m, SCN_CLASS_BIT(SCN_CLASS_EXPECTATION));
    assert_int_equal(scn_classes_parse("safe", &m), -EINVAL);
    assert_int_equal(scn_classes_parse("", &m), -EINVAL);
    assert_int_equal(scn_classes_parse("safety,", &m), 0);     /* a trailing comma is harmless */
    assert_string_equal(scn_class_name(SCN_CLASS_LIVENESS), "liveness");
    assert_string_equal(scn_class_name(SCN_CLASS_COUNT), "?");
    struct scn_explore_opts o = { .safety_only = true, .fail_on = SCN_CLASSES_ALL };
    assert_int_equal(scn_explore_fail_on(&o), SCN_CLASS_BIT(SCN_CLASS_SAFETY));
    o.safety_only = false;
    o.fail_on = 0;
    assert_int_equal(scn_explore_fail_on(&o), SCN_CLASSES_ALL);
}

/* Each class, and safety first when a run fails several ways. */
static void test_classify(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("tight.scn", tight);
    char why[256];
    json_t *run = run_obj("FINISHED", true, true);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 0, run, false, why, sizeof(why)),
                     SCN_CLASS_NONE);
    json_decref(run);

    run = run_obj("FINISHED", true, false);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_EXPECTATION);
    assert_string_equal(why, "expect session: jobs-restarted >= 2 -- jobs-restarted = 1");
    assert_int_equal(scn_explore_verdict(s, 1, run, why, sizeof(why)), 1);
    /* --safety-only: the scenario's expectations are not consulted. */
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_NONE);
    /* A duplicate in a job's committed output is unsafe in any state, and
     * outranks the failed expectation. */
    json_object_set_new(job(run, 1), "duplicated", json_integer(3));
    json_object_set_new(job(run, 1), "state", json_string("RUNNING"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_SAFETY);
    assert_non_null(strstr(why, "job b not exactly-once -- RUNNING"));
    assert_non_null(strstr(why, "duplicated 3"));
    json_decref(run);

    /* A finished job that lost records; a finished job that ran again. */
    run = run_obj("FINISHED", true, true);
    json_object_set_new(job(run, 0), "exactly_once", json_false());
    json_object_set_new(job(run, 0), "lost", json_integer(5));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_SAFETY);
    assert_non_null(strstr(why, "lost 5"));
    json_decref(run);
    run = run_obj("FINISHED", true, true);
    json_array_append_new(json_object_get(json_object_get(run, "timeline"), "jobs"),
        json_pack("{s:s, s:[{s:s, s:f}, {s:s, s:f}]}", "name", "b", "events", "state",
                  "FINISHED", "t_ms", 10.0, "state", "RUNNING", "t_ms", 12.5));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 0, run, true, why, sizeof(why)),
                     SCN_CLASS_SAFETY);
    assert_string_equal(why, "job b ran again after finishing -- running at 12.5 ms");
    json_decref(run);

    /* A job that failed where it should have finished: liveness. */
    run = run_obj("FAILED", true, true);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    assert_non_null(strstr(why, "job b ended FAILED, expected FINISHED"));
    json_decref(run);
    scn_scenario_free(s);
}

/* An `expect job` line names the state for its mode only; a job whose
 * application is expected to fail may end in any state. */
static void test_expected_state_by_mode(void **st)
{
    (void)st;
    char text[sizeof(tight) + 128];
    snprintf(text, sizeof(text), "%sexpect session: job b failed\n", tight);
    struct scn_scenario *s = scn_env_parse("modes.scn", text);
    char why[256];
    json_t *run = run_obj("FINISHED", true, true);
    /* Session: b should have failed - the scenario's own expectation. */
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_EXPECTATION);
    assert_non_null(strstr(why, "job b ended FINISHED, expected FAILED"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_NONE);
    /* Per-job: no line names b's state there, FINISHED is right. */
    assert_int_equal(scn_explore_classify(s, SCN_MODE_PER_JOB, 0, run, false, why, sizeof(why)),
                     SCN_CLASS_NONE);
    json_object_set_new(job(run, 1), "state", json_string("FAILED"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_PER_JOB, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    json_decref(run);
    scn_scenario_free(s);
    /* Application b expected to fail (in application mode): b never submitted is fine. */
    snprintf(text, sizeof(text), "%sexpect application: application b failed with \"x\"\n", tight);
    s = scn_env_parse("appfail.scn", text);
    run = run_obj("NOT_SUBMITTED", true, true);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_APPLICATION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_NONE);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, true, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    json_decref(run);
    scn_scenario_free(s);
}

/* The deadline passed: say why - slots short after the kill, or just the
 * states when the slots were there. */
static void test_liveness_reason(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("tight.scn", tight);
    char why[320];
    json_t *run = run_obj("CREATED", false, false);
    json_array_append_new(json_object_get(run, "faults"),
                          json_pack("{s:s}", "detail", "killed session-tm1 (silent)"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    /* b needs 3 slots (a finished), 2 TaskManagers x 3 slots are left: enough. */
    assert_string_equal(why, "liveness: the deadline passed -- b CREATED");
    json_object_set_new(job(run, 0), "state", json_string("RESTARTING"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    assert_string_equal(why, "liveness: the deadline passed -- 3 slots short after the kill: "
                        "2 TaskManagers x 3 slots for jobs needing 9 (a RESTARTING, b CREATED)");
    /* A TaskManager added back makes the slots suffice again. */
    json_array_append_new(json_object_get(run, "faults"),
                          json_pack("{s:s}", "detail", "added session-tm3"));
    assert_int_equal(scn_explore_classify(s, SCN_MODE_SESSION, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    assert_string_equal(why, "liveness: the deadline passed -- a RESTARTING, b CREATED");
    /* Per-job mode launches TaskManagers on demand: no slot arithmetic. */
    json_array_remove(json_object_get(run, "faults"), 1);
    assert_int_equal(scn_explore_classify(s, SCN_MODE_PER_JOB, 1, run, false, why, sizeof(why)),
                     SCN_CLASS_LIVENESS);
    assert_string_equal(why, "liveness: the deadline passed -- a RESTARTING, b CREATED");
    json_decref(run);
    scn_scenario_free(s);
}

/* A base with room for its jobs gives variants with room; a tight base is
 * never made tighter. */
static void test_variants_feasible(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("tight.scn", tight);
    assert_int_equal(scn_slots_needed(s), 9);
    bool smaller = false, bigger = false;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct scn_scenario *v = NULL;
        struct scn_variant_world w;
        char err[256];
        assert_int_equal(scn_explore_variant(s, seed, &v, &w, err, sizeof(err)), 0);
        assert_true((uint64_t)v->cluster.taskmanagers * v->cluster.slots >= scn_slots_needed(v));
        smaller |= scn_slots_needed(v) < 9;
        bigger |= v->cluster.taskmanagers > 3;
        scn_scenario_free(v);
    }
    assert_true(smaller && bigger);     /* the sizes still vary */
    scn_scenario_free(s);

    /* Two slots for jobs needing 4: never fewer TaskManagers, never more
     * parallelism than that. */
    char text[sizeof(tight) + 64];
    snprintf(text, sizeof(text), "%s", tight);
    memcpy(strstr(text, "taskmanagers=3"), "taskmanagers=1", 14);
    s = scn_env_parse("tighter.scn", text);
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct scn_scenario *v = NULL;
        struct scn_variant_world w;
        char err[256];
        assert_int_equal(scn_explore_variant(s, seed, &v, &w, err, sizeof(err)), 0);
        assert_true(v->cluster.taskmanagers >= 1);
        assert_true(v->jobs[0].parallelism <= 6 && v->jobs[1].parallelism <= 3);
        scn_scenario_free(v);
    }
    scn_scenario_free(s);
    /* A blocking (execute) application needs its largest job's slots only. */
    s = scn_env_parse("app.scn", "cluster taskmanagers=1 slots=4\n"
              "job a source=sequence(records=1k) | sink parallelism=4\n"
              "job b source=sequence(records=1k) | sink parallelism=3\n"
              "application x jobs=a,b execute=blocking\n");
    assert_int_equal(scn_slots_needed(s), 4);
    scn_scenario_free(s);
}

/* Shards 1/3..3/3 of a range run each seed once between them. */
static void test_shards(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("small.scn", small);
    json_t *reports[3];
    const char *names[3] = { "s1.json", "s2.json", "s3.json" };
    uint64_t runs = 0;
    for (uint32_t k = 1; k <= 3; k++) {
        struct scn_explore_opts o = { .mode = SCN_MODE_SESSION, .first = 10, .last = 16,
                                      .workers = 2, .shard_k = k, .shard_n = 3 };
        struct scn_explore_result res;
        char err[256];
        assert_int_equal(scn_explore(s, &o, &res, err, sizeof(err)), 0);
        assert_int_equal(res.runs, k == 1 ? 3 : 2);     /* 10 13 16 | 11 14 | 12 15 */
        for (size_t i = 0; i < res.n_failures; i++)
            assert_int_equal((res.failures[i].seed - 10) % 3, k - 1);
        runs += res.runs;
        reports[k - 1] = scn_explore_json(s, &o, &res);
        json_t *sh = json_object_get(reports[k - 1], "shard");
        assert_int_equal(json_integer_value(json_array_get(sh, 0)), k);
        assert_int_equal(json_integer_value(json_array_get(sh, 1)), 3);
        scn_explore_result_free(&res);
    }
    assert_int_equal(runs, 7);
    struct scn_explore_opts bad = { .first = 1, .last = 2, .shard_k = 3, .shard_n = 2 };
    struct scn_explore_result res;
    char err[256];
    assert_int_equal(scn_explore(s, &bad, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "shard 3/2"));

    /* Merged: every run counted once; a shard missing is named. */
    json_t *m = NULL;
    assert_int_equal(scn_explore_merge(reports, names, 3, &m, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "runs")), 7);
    assert_int_equal(json_array_size(json_object_get(m, "parts")), 3);
    assert_int_equal(json_array_size(json_object_get(m, "missing_shards")), 0);
    assert_true(json_number_value(json_object_get(m, "seeds_per_minute")) > 0);
    json_decref(m);
    assert_int_equal(scn_explore_merge(reports, names, 2, &m, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(m, "missing_shards"), 0)), 3);
    /* A merged report merges again, with the part it lacks - not with one it has. */
    json_t *again[2] = { m, reports[2] };
    const char *again_names[2] = { "m.json", "s3.json" };
    json_t *m2 = NULL;
    assert_int_equal(scn_explore_merge(again, again_names, 2, &m2, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(m2, "runs")), 7);
    json_decref(m2);
    again[1] = reports[0];
    assert_int_equal(scn_explore_merge(again, again_names, 2, &m2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "overlap"));
    json_decref(m);
    for (int k = 0; k < 3; k++)
        json_decref(reports[k]);
    scn_scenario_free(s);
}

/* What merge refuses, each with the file and the JSON path. */
static void test_merge_refuses(void **st)
{
    (void)st;
    struct scn_scenario *a = scn_env_parse("small.scn", small), *b = scn_env_parse("tight.scn", tight);
    struct scn_explore_opts o = { .mode = SCN_MODE_SESSION, .first = 1, .last = 4 };
    struct scn_explore_result res = { .runs = 4, .wall_s = 2.0, .workers = 2 };
    struct scn_explore_failure f = { .seed = 2, .cls = SCN_CLASS_EXPECTATION,
                                     .reason = "expect x -- y", .trace_hash = "00" };
    res.failures = &f;
    res.n_failures = 1;
    res.by_class[SCN_CLASS_EXPECTATION] = 1;
    json_t *r[2];
    const char *names[2] = { "a.json", "b.json" };
    char err[512];
    json_t *m = NULL;
    r[0] = scn_explore_json(a, &o, &res);
    r[1] = scn_explore_json(b, &o, &res);
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.scenario_hash"));
    json_decref(r[1]);
    o.first = 5;
    o.last = 8;
    o.mode = SCN_MODE_PER_JOB;
    r[1] = scn_explore_json(a, &o, &res);
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.mode"));
    json_decref(r[1]);
    o.mode = SCN_MODE_SESSION;
    o.safety_only = true;
    r[1] = scn_explore_json(a, &o, &res);
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.fail_on"));
    json_decref(r[1]);
    o.safety_only = false;
    o.first = 3;                    /* 3..8 overlaps 1..4 */
    r[1] = scn_explore_json(a, &o, &res);
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.seeds"));
    json_decref(r[1]);
    o.first = 5;
    r[1] = scn_explore_json(a, &o, &res);
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "failing")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "classes"),
                                                        "expectation")), 2);
    assert_int_equal((int)json_number_value(json_object_get(m, "seeds_per_minute")), 240);
    json_decref(m);
    /* Broken reports: the path of the first bad value. */
    json_object_set_new(json_array_get(json_object_get(r[1], "failures"), 0), "class",
                        json_string("bogus"));
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.failures[0].class"));
    json_object_set_new(r[1], "shard", json_pack("[i, i]", 3, 2));
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.shard"));
    json_object_set_new(r[1], "seeds", json_string("1..4"));
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $.seeds"));
    json_decref(r[1]);
    r[1] = json_array();
    assert_int_equal(scn_explore_merge(r, names, 2, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.json: $: expected an explore report"));
    json_decref(r[1]);
    assert_int_equal(scn_explore_merge(r, names, 0, &m, err, sizeof(err)), -EINVAL);
    json_decref(r[0]);
    scn_scenario_free(a);
    scn_scenario_free(b);
}

/* Every N up to --max, else MAX of them spread evenly, ends included. */
static void test_sweep_pick(void **st)
{
    (void)st;
    uint64_t *ns;
    assert_int_equal(scn_sweep_pick(3, 0, &ns), 3);
    assert_true(ns[0] == 1 && ns[1] == 2 && ns[2] == 3);
    free(ns);
    assert_int_equal(scn_sweep_pick(3, 5, &ns), 3);
    free(ns);
    assert_int_equal(scn_sweep_pick(100, 4, &ns), 4);
    assert_true(ns[0] == 1 && ns[1] == 34 && ns[2] == 67 && ns[3] == 100);
    free(ns);
    assert_int_equal(scn_sweep_pick(100, 1, &ns), 1);
    assert_int_equal(ns[0], 1);
    free(ns);
    assert_int_equal(scn_sweep_pick(0, 4, &ns), 0);
    free(ns);
    assert_string_equal(scn_sweep_outcome_name(SCN_SWEEP_HANG), "hang");
    assert_string_equal(scn_sweep_outcome_name(SCN_SWEEP_OUTCOMES), "?");
}

/* Regressions for what the sweep found: a corrupt read during a restore made
 * the job fall back past a committed checkpoint (duplicates), and one failed
 * delete at teardown left the cluster's files behind.  Both must now end
 * well at every hit, once and from then on.  task/process, swept by failing
 * whichever task takes the N-th step, likewise. */
static void test_sweep_regressions(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("small.scn", small);
    const char *globs[] = { "dfs/corrupt", "dfs/delete", "dfs/[orw]*", "task/process" };
    for (size_t g = 0; g < sizeof(globs) / sizeof(globs[0]); g++) {
        struct scn_sweep_opts o = { .mode = SCN_MODE_SESSION, .glob = globs[g], .max = 4 };
        struct scn_sweep_result res;
        char err[512];
        assert_int_equal(scn_sweep(s, &o, &res, err, sizeof(err)), 0);
        uint64_t runs = 1;
        for (size_t i = 0; i < res.n_points; i++) {
            const struct scn_sweep_point *p = &res.points[i];
            assert_true(p->hits > 0);
            assert_int_equal(p->n_ns, p->hits < 4 ? p->hits : 4);
            for (size_t k = 0; k < p->n_bad; k++)
                print_message("%s hit %llu %s: %s: %s\n", p->name, (unsigned long long)p->bad[k].n,
                              p->bad[k].persistent ? "persistent" : "transient",
                              scn_sweep_outcome_name(p->bad[k].outcome), p->bad[k].reason);
            assert_int_equal(p->n_bad, 0);
            /* A transient fault is recovered from; every hit was reached. */
            assert_int_equal(p->outcomes[0][SCN_SWEEP_RECOVERED], p->n_ns);
            runs += 2 * p->n_ns;
        }
        assert_int_equal(res.runs, runs);
        assert_int_equal(res.bad, 0);
        json_t *j = scn_sweep_json(s, &o, &res);
        assert_int_equal(json_integer_value(json_object_get(j, "bad")), 0);
        assert_int_equal(json_array_size(json_object_get(j, "failpoints")), res.n_points);
        json_decref(j);
        scn_sweep_result_free(&res);
    }
    scn_scenario_free(s);
}

/* A glob that matches nothing is bad input, naming what there is; a point
 * the scenario drives itself (a failpoint, or `fail task` for task/process)
 * is left to it. */
static void test_sweep_refuses(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("small.scn", small);
    struct scn_sweep_opts o = { .mode = SCN_MODE_SESSION, .glob = "net/*" };
    struct scn_sweep_result res;
    char err[512];
    assert_int_equal(scn_sweep(s, &o, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "matches no failpoint"));
    assert_non_null(strstr(err, "dfs/write"));
    scn_scenario_free(s);
    const char *own[][2] = { { "at 10ms fail dfs/write once\n", "dfs/write" },
                             { "at 10ms fail task a[0] at record 100\n", "task/*" } };
    for (size_t i = 0; i < 2; i++) {
        char text[sizeof(small) + 64];
        snprintf(text, sizeof(text), "%s%s", small, own[i][0]);
        s = scn_env_parse("armed.scn", text);
        o.glob = own[i][1];
        assert_int_equal(scn_sweep(s, &o, &res, err, sizeof(err)), 0);
        assert_int_equal(res.n_points, 1);
        assert_non_null(res.points[0].skipped);
        assert_non_null(strstr(res.points[0].skipped, "scenario"));
        assert_int_equal(res.runs, 1);
        scn_sweep_result_free(&res);
        scn_scenario_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_liveness_reason),
        cmocka_unit_test(test_expected_state_by_mode),
        cmocka_unit_test(test_variants_feasible),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_merge_refuses),
        cmocka_unit_test(test_sweep_pick),
        cmocka_unit_test(test_sweep_regressions),
        cmocka_unit_test(test_sweep_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
