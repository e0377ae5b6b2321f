/*
 * test_run.c - the scenario runner: a small scenario in every mode and both
 * worlds; the run objects are complete (report_json_check) and consistent
 * (per-job starts a cluster per job, application mode costs the client
 * nothing, the fault restarts the jobs it should); the same seed in the sim
 * world gives the same trace hash and figures; the default scenario's
 * expectations hold in the sim world.
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

#include "scenarios/report.h"
#include "scenarios/run.h"

static const char small[] =
    "cluster taskmanagers=3 slots=2\n"
    "config cluster.evenly-spread-out-slots=true\n"
    "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "config restart-strategy.fixed-delay.delay=50ms\n"
    "config execution.checkpointing.interval=100ms\n"
    "dfs bandwidth=400MB/s streams=8 latency=1ms\n"
    "probe every=10ms read=4KiB\n"
    "deadline 20s\n"
    "job a source=sequence(records=40k, keys=500, rate=40k/s) | keyby | count | sink parallelism=2\n"
    "job b source=sequence(records=20k, keys=200, rate=20k/s) | keyby | sum | sink parallelism=2\n"
    "application app jobs=a,b execute=async artifacts=1MB main-cpu=5ms\n"
    "when checkpoint a 2 done kill taskmanager-of a[0]\n"
    "expect all jobs finished exactly-once\n"
    "expect per-job: jobs-restarted = 1\n"
    "expect lingering-files = 0\n";

static struct scn_scenario *parse(const char *text)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("small.scn", text, strlen(text), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    assert_int_equal(rc, 0);
    return s;
}

static json_t *run(const struct scn_scenario *s, enum scn_mode mode, enum rt_world_kind w,
                   uint64_t seed, int want)
{
    struct scn_run_opts o = { .mode = mode, .world = w, .has_seed = true, .seed = seed,
                              .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    int rc = scn_run(s, &o, &out, err, sizeof(err));
    if (rc != want) {
        char *dump = out ? json_dumps(json_object_get(out, "expectations"), 0) : NULL;
        fail_msg("%s: scn_run gave %d (%s) %s", scn_mode_name(mode), rc, err, dump ? dump : "");
    }
    char why[256];
    if (report_json_check(out, why, sizeof(why)) != 0)
        fail_msg("run object incomplete: %s", why);
    return out;
}

static long long geti(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(v, b) : v);
}

static void modes_body(enum rt_world_kind w)
{
    struct scn_scenario *s = parse(small);
    json_t *ses = run(s, SCN_MODE_SESSION, w, 3, SCN_RUN_OK);
    json_t *per = run(s, SCN_MODE_PER_JOB, w, 3, SCN_RUN_OK);
    json_t *app = run(s, SCN_MODE_APPLICATION, w, 3, SCN_RUN_OK);
    /* One cluster, one per job, one per application. */
    assert_int_equal(geti(ses, "clusters", "started"), 1);
    assert_int_equal(geti(per, "clusters", "started"), 2);
    assert_int_equal(geti(app, "clusters", "started"), 1);
    assert_int_equal(geti(per, "clusters", "lingering_files"), 0);
    assert_int_equal(geti(app, "clusters", "lingering_files"), 0);
    /* The client downloads and uploads in session and per-job mode, not in
     * application mode, where the JobManager runs main(). */
    assert_true(geti(ses, "client", "bytes_downloaded") >= 1000000);
    assert_true(geti(per, "client", "bytes_uploaded") >= geti(ses, "client", "bytes_uploaded"));
    assert_int_equal(geti(app, "client", "bytes_downloaded"), 0);
    assert_int_equal(geti(app, "client", "bytes_uploaded"), 0);
    /* ... so the download lands on the application's JobManager. */
    const json_t *jm0 = json_array_get(json_object_get(app, "jobmanagers"), 0);
    assert_true(json_integer_value(json_object_get(jm0, "bytes_read")) >= 1000000);
    const json_t *a0 = json_array_get(json_object_get(app, "applications"), 0);
    assert_string_equal(json_string_value(json_object_get(a0, "state")), "SUCCEEDED");
    /* Blast radius: in session mode a and b share the killed TaskManager. */
    assert_int_equal(geti(ses, "recovery", "jobs_restarted"), 2);
    assert_int_equal(geti(per, "recovery", "jobs_restarted"), 1);
    /* One cluster for both jobs: in the sim world they share the killed
     * TaskManager; in the real world placement follows the order in which
     * TaskManagers happen to register, so a may have it to itself. */
    if (w == RT_WORLD_SIM)
        assert_int_equal(geti(app, "recovery", "jobs_restarted"), 2);
    else
        assert_in_range(geti(app, "recovery", "jobs_restarted"), 1, 2);
    assert_true(json_is_true(json_object_get(ses, "ok")));
    assert_true(geti(ses, "probe", "samples") > 10);
    assert_true(geti(ses, "dfs", "recovery_bytes_read") > 0);
    json_decref(ses);
    json_decref(per);
    json_decref(app);
    scn_scenario_free(s);
}

static void test_modes_sim(void **st) { (void)st; modes_body(RT_WORLD_SIM); }
static void test_modes_real(void **st) { (void)st; modes_body(RT_WORLD_REAL); }

/* With HA, a job master writes each job's result to the HA store as the job
 * ends; the teardown lets those writes land before it deletes the
 * cluster's files, so none is left behind.  (In the sim world the last
 * job's result used to arrive after the delete.)  Not application mode:
 * with HA it refuses this application's second execute(), as Flink does. */
static void test_ha_teardown_leaves_nothing(void **st)
{
    (void)st;
    char text[sizeof(small) + 16];
    const char *nl = strchr(small, '\n');
    snprintf(text, sizeof(text), "%.*s ha=on%s", (int)(nl - small), small, nl);
    struct scn_scenario *s = parse(text);
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        json_t *o = run(s, modes[i], RT_WORLD_SIM, 3, SCN_RUN_OK);
        assert_true(geti(o, "clusters", "started") >= 1);
        assert_int_equal(geti(o, "clusters", "lingering_files"), 0);
        json_decref(o);
    }
    scn_scenario_free(s);
}

/* execution.checkpointing.incremental reaches the jobs: a job with 4 MB of
 * per-key state writes it once instead of at every checkpoint, restores
 * through the earlier files after the kill, exactly once, and the setting
 * is no longer one the run warns about. */
static void test_incremental_scenario(void **st)
{
    (void)st;
    static const char one[] =
        "cluster taskmanagers=3 slots=2\n"
        "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
        "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.delay=50ms\n"
        "config execution.checkpointing.interval=100ms\n"
        "dfs bandwidth=400MB/s streams=8 latency=1ms\n"
        "deadline 20s\n"
        "job c source=sequence(records=20k, keys=100, rate=20k/s) | keyby | count | sink "
        "parallelism=2 state=4MB\n"
        "when checkpoint c 3 done kill taskmanager-of c[0]\n"
        "expect all jobs finished exactly-once\n"
        "expect restarts c = 1\n";
    char text[sizeof(one) + 64];
    struct scn_scenario *full = parse(one);
    snprintf(text, sizeof(text), "%sconfig execution.checkpointing.incremental=true\n", one);
    struct scn_scenario *inc = parse(text);
    json_t *f = run(full, SCN_MODE_SESSION, RT_WORLD_SIM, 3, SCN_RUN_OK);
    json_t *i = run(inc, SCN_MODE_SESSION, RT_WORLD_SIM, 3, SCN_RUN_OK);
    long long wf = geti(f, "dfs", "bytes_written"), wi = geti(i, "dfs", "bytes_written");
    if (!(wi < wf / 2))
        fail_msg("incremental wrote %lld bytes, full %lld", wi, wf);
    /* The restore read the blobs back, from the earlier files. */
    assert_true(geti(i, "dfs", "recovery_bytes_read") >= 2000000);
    assert_int_equal(json_array_size(json_object_get(i, "warnings")), 0);
    json_decref(f);
    json_decref(i);
    scn_scenario_free(full);
    scn_scenario_free(inc);
}

/* The same seed gives the same run in the sim world; another seed another. */
static void test_same_seed_same_run(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(small);
    json_t *a = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 11, SCN_RUN_OK);
    json_t *b = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 11, SCN_RUN_OK);
    json_t *c = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 12, SCN_RUN_OK);
    const char *ha = json_string_value(json_object_get(a, "trace_hash"));
    assert_string_equal(ha, json_string_value(json_object_get(b, "trace_hash")));
    assert_string_not_equal(ha, json_string_value(json_object_get(c, "trace_hash")));
    assert_true(json_equal(json_object_get(a, "recovery"), json_object_get(b, "recovery")));
    assert_true(json_equal(json_object_get(a, "dfs"), json_object_get(b, "dfs")));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    scn_scenario_free(s);
}

/* A failed expectation is exit 1 with the reason; a missed deadline is a
 * failed run, not a hang. */
static void test_failing_expectation(void **st)
{
    (void)st;
    char text[2048];
    snprintf(text, sizeof(text), "%s%s", small, "expect session: jobs-restarted = 0\n");
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 3, SCN_RUN_FAILED);
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "expectations"), i, e)
        if (!json_is_true(json_object_get(e, "ok")) &&
            strstr(json_string_value(json_object_get(e, "detail")), "jobs-restarted = 2"))
            found = true;
    assert_true(found);
    json_decref(r);
    scn_scenario_free(s);

    s = parse("deadline 500ms\n"
              "job slow source=sequence(records=1M, rate=10k/s) | sink\n"
              "expect all jobs finished exactly-once\n");
    r = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 1, SCN_RUN_FAILED);
    assert_true(json_real_value(json_object_get(r, "sim_ms")) < 600.0);
    json_decref(r);
    scn_scenario_free(s);
}

/* Application mode rules: HA with several execute() calls fails with Flink's
 * message; a cached file only on the client fails in application mode only. */
static void test_application_rules(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(
        "cluster taskmanagers=2 slots=2 ha=on\n"
        "job a source=sequence(records=2k) | sink\n"
        "job b source=sequence(records=2k) | sink\n"
        "application app jobs=a,b execute=blocking\n"
        "expect application: application app failed with \"Cannot have more than one execute()\"\n");
    json_t *r = run(s, SCN_MODE_APPLICATION, RT_WORLD_SIM, 1, SCN_RUN_OK);
    json_decref(r);
    scn_scenario_free(s);

    s = parse("cluster taskmanagers=1 slots=1\n"
              "job a source=sequence(records=2k) | sink\n"
              "application app jobs=a cached-file=conf/rules.txt on client\n"
              "expect application: application app failed with \"exists only on the client\"\n"
              "expect session: all jobs finished exactly-once\n");
    r = run(s, SCN_MODE_APPLICATION, RT_WORLD_SIM, 1, SCN_RUN_OK);
    json_decref(r);
    r = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 1, SCN_RUN_OK);
    json_decref(r);
    scn_scenario_free(s);
}

/* execute() blocks: b starts after a ends; execute_async() overlaps them. */
static double first_state_ms(const json_t *r, const char *job, const char *state)
{
    size_t i, k;
    json_t *j, *e;
    json_array_foreach(json_object_get(json_object_get(r, "timeline"), "jobs"), i, j) {
        if (strcmp(json_string_value(json_object_get(j, "name")), job) != 0)
            continue;
        json_array_foreach(json_object_get(j, "events"), k, e)
            if (strcmp(json_string_value(json_object_get(e, "state")), state) == 0)
                return json_real_value(json_object_get(e, "t_ms"));
    }
    return -1;
}

static void test_execute_order(void **st)
{
    (void)st;
    const char *fmt = "cluster taskmanagers=2 slots=2\n"
                      "job a source=sequence(records=20k, rate=20k/s) | sink\n"
                      "job b source=sequence(records=20k, rate=20k/s) | sink\n"
                      "application app jobs=a,b execute=%s\n";
    char text[512];
    snprintf(text, sizeof(text), fmt, "blocking");
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_APPLICATION, RT_WORLD_SIM, 1, SCN_RUN_OK);
    assert_true(first_state_ms(r, "b", "CREATED") >= first_state_ms(r, "a", "FINISHED"));
    json_decref(r);
    scn_scenario_free(s);
    snprintf(text, sizeof(text), fmt, "async");
    s = parse(text);
    r = run(s, SCN_MODE_APPLICATION, RT_WORLD_SIM, 1, SCN_RUN_OK);
    assert_true(first_state_ms(r, "b", "RUNNING") < first_state_ms(r, "a", "FINISHED"));
    json_decref(r);
    scn_scenario_free(s);
}

/* In session and per-job mode each application's main() runs on a client
 * node of its own, as each is its own `flink run` process: a quick
 * application does not wait for a slow one's main().  On one shared client
 * node (as it once was) the slow main() burned LONG of that node's thread
 * CPU before the quick one's could start, and thread CPU never outruns the
 * wall clock: the quick job could not be created before LONG, however
 * loaded the machine.  Side by side it is created after its own 1 ms main()
 * and an upload, tens of ms: 1 s is a wide margin under load.  The client's
 * CPU in the report still sums both main()s. */
#define LONG_MAIN_MS 1500.0

static void test_mains_run_side_by_side(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(
        "cluster taskmanagers=2 slots=2\n"
        "deadline 30s\n"
        "job long source=sequence(records=2k) | sink\n"
        "job short source=sequence(records=2k) | sink\n"
        "application slow jobs=long main-cpu=1500ms\n"       /* first: its main() starts first */
        "application quick jobs=short main-cpu=1ms\n"
        "expect all jobs finished exactly-once\n");
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        json_t *r = run(s, modes[i], RT_WORLD_REAL, 1, SCN_RUN_OK);
        double quick = first_state_ms(r, "short", "CREATED");
        double slow = first_state_ms(r, "long", "CREATED");
        if (!(quick >= 0 && quick < LONG_MAIN_MS - 500))
            fail_msg("%s: job short created at %.1f ms, behind the slow main() (long at %.1f ms)",
                     scn_mode_name(modes[i]), quick, slow);
        const json_t *client = json_object_get(r, "client");
        assert_true(json_real_value(json_object_get(client, "cpu_ms")) >= LONG_MAIN_MS + 1);
        json_decref(r);
    }
    scn_scenario_free(s);
}

/* A fault on the client hits every application's client node: pausing
 * "client" holds both main()s back (sim). */
static void test_fault_on_every_client(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(
        "cluster taskmanagers=2 slots=2\n"
        "job a source=sequence(records=2k) | sink\n"
        "job b source=sequence(records=2k) | sink\n"
        "application one jobs=a main-cpu=10ms\n"
        "application two jobs=b main-cpu=10ms\n"
        "at 0ms pause client for 500ms\n"
        "expect all jobs finished exactly-once\n");
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        json_t *r = run(s, modes[i], RT_WORLD_SIM, 1, SCN_RUN_OK);
        assert_true(first_state_ms(r, "a", "CREATED") >= 500);
        assert_true(first_state_ms(r, "b", "CREATED") >= 500);
        const json_t *f0 = json_array_get(json_object_get(r, "faults"), 0);
        const char *d = json_string_value(json_object_get(f0, "detail"));
        if (!d || !strstr(d, "2 client nodes, 0 not applied"))
            fail_msg("fault detail: %s", d ? d : "(none)");
        const json_t *a1 = json_array_get(json_object_get(r, "applications"), 1);
        assert_string_equal(json_string_value(json_object_get(a1, "cluster")),
                            modes[i] == SCN_MODE_PER_JOB ? "b-cluster" : "session");
        json_decref(r);
    }
    scn_scenario_free(s);
}

/* The default scenario holds its expectations in every mode (sim). */
static void test_default_scenario(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(scn_default_text);
    for (enum scn_mode m = SCN_MODE_SESSION; m <= SCN_MODE_APPLICATION; m++)
        json_decref(run(s, m, RT_WORLD_SIM, 1, SCN_RUN_OK));
    scn_scenario_free(s);
}

/* Every action and trigger of the language, each in a tiny scenario in the
 * sim world: the fault is applied (not skipped) and its effect shows in the
 * scenario's own expectations. */
struct fault_case {
    const char *cluster_extra, *config_extra, *faults, *expects;
    int want_rc;                /* SCN_RUN_OK or SCN_RUN_FAILED */
    int applied;                /* faults that must have applied */
};

static const struct fault_case fault_cases[] = {
    { "", "", "at 500ms kill taskmanager-of a[0]\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms stop taskmanager-of a[0]\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms pause taskmanager-of a[0] for 1s\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms pause taskmanager-of a[0] for 100ms\n", "expect restarts a = 0\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 300ms kill taskmanager 2\nat 600ms restart taskmanager 2\n", "expect restarts a = 0\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 2 },
    { "", "", "at 300ms add 2 taskmanagers\n", "expect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms partition taskmanager-of a[0] from jobmanager for 1s\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms for 1s drop messages on link taskmanager-of a[0] <-> jobmanager\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms for 1s delay messages on link taskmanager-of a[0] <-> jobmanager by 20ms\n", "expect restarts a = 0\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms for 300ms duplicate messages on link taskmanager-of a[0] <-> jobmanager\n", "expect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 400ms fail task a[0] at record 5000\n", "expect restarts a = 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { " tm-memory=256MB", "", "at 500ms exhaust memory of taskmanager-of a[0]\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "config execution.checkpointing.tolerable-failed-checkpoints=100\n", "at 300ms for 500ms fail dfs/write probability=0.5\n", "expect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 300ms for 500ms slow dfs/write by 20ms\n", "expect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "config state.checkpoints.num-retained=2\n", "at 500ms kill taskmanager-of a[0]\nwhen restore a started corrupt dfs/read once\n", "expect restarts a >= 1\nexpect job a finished\n", SCN_RUN_OK, 2 },
    /* A restore whose read fails once retries the same checkpoint: no fallback,
     * so nothing the sink committed is replayed (it used to duplicate). */
    { "", "", "when checkpoint a 2 done fail task a[0] at record 1\nwhen checkpoint a 2 done fail dfs/read once\n", "expect restarts a >= 2\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 2 },
    { "", "", "at 500ms crash jobmanager-leader\n", "expect all jobs finished exactly-once\n", SCN_RUN_FAILED, 1 },
    { "", "", "when checkpoint a 3 done kill taskmanager-of a[0]\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
    { "", "", "at 500ms kill taskmanager-of a[0]\nwhen job a restarting pause taskmanager-of a[1] for 20ms\n", "expect restarts a >= 1\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 2 },
    { "", "", "when taskmanager registered repeat 1 pause taskmanager 2 for 10ms\n", "expect restarts a = 0\nexpect all jobs finished exactly-once\n", SCN_RUN_OK, 1 },
};

static void test_every_action_and_trigger(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++) {
        const struct fault_case *fc = &fault_cases[i];
        char text[2048];
        snprintf(text, sizeof(text),
                 "cluster taskmanagers=3 slots=2%s\n"
                 "config cluster.evenly-spread-out-slots=true\n"
                 "config heartbeat.interval=50ms heartbeat.timeout=250ms\n"
                 "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=5\n"
                 "config restart-strategy.fixed-delay.delay=50ms\n"
                 "config execution.checkpointing.interval=100ms\n%s"
                 "dfs bandwidth=400MB/s streams=8 latency=1ms\n"
                 "deadline 10s\n"
                 "job a source=sequence(records=40k, keys=500, rate=40k/s) | keyby | count | sink parallelism=2\n"
                 "%s%s", fc->cluster_extra, fc->config_extra, fc->faults, fc->expects);
        struct scn_scenario *s = parse(text);
        json_t *r = run(s, SCN_MODE_SESSION, RT_WORLD_SIM, 5, fc->want_rc);
        int applied = 0;
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(r, "faults"), k, f) {
            const char *d = json_string_value(json_object_get(f, "detail"));
            if (d && strncmp(d, "skipped", 7) != 0 && strncmp(d, "not applied", 11) != 0)
                applied++;
        }
        if (applied < fc->applied)
            fail_msg("case %zu (%s): %d of %d faults applied: %s", i, fc->faults, applied,
                     fc->applied, json_dumps(json_object_get(r, "faults"), 0));
        json_decref(r);
        scn_scenario_free(s);
    }
}

/* compare's outputs on a real comparison: the table and the HTML render. */
static void test_compare_renders(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(small);
    json_t *modes = json_object();
    for (enum scn_mode m = SCN_MODE_SESSION; m <= SCN_MODE_APPLICATION; m++)
        json_object_set_new(modes, scn_mode_name(m), run(s, m, RT_WORLD_SIM, 3, SCN_RUN_OK));
    json_t *cmp = json_pack("{s:s, s:i, s:s, s:o}", "scenario", "small", "seed", 3, "world", "sim",
                            "modes", modes);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(report_text_table(f, cmp), 0);
    fclose(f);
    assert_non_null(strstr(buf, "Jobs restarted by the fault"));
    assert_non_null(strstr(buf, "application"));
    free(buf);
    f = open_memstream(&buf, &len);
    char err[200] = "";
    assert_int_equal(report_html_write(f, cmp, err, sizeof(err)), 0);
    fclose(f);
    for (enum scn_mode m = SCN_MODE_SESSION; m <= SCN_MODE_APPLICATION; m++) {
        char needle[80];
        snprintf(needle, sizeof(needle), "data-chart=\"timeline\" data-mode=\"%s\"", scn_mode_name(m));
        if (!strstr(buf, needle))
            snprintf(needle, sizeof(needle), "data-mode=\"%s\"", scn_mode_name(m));
        assert_non_null(strstr(buf, needle));
    }
    assert_non_null(strstr(buf, "data-chart=\"dfs\""));
    assert_non_null(strstr(buf, "data-chart=\"probe\""));
    assert_null(strstr(buf, "no data"));    /* a real run has every series */
    free(buf);
    json_decref(cmp);
    scn_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_sim),
        cmocka_unit_test(test_modes_real),
        cmocka_unit_test(test_ha_teardown_leaves_nothing),
        cmocka_unit_test(test_incremental_scenario),
        cmocka_unit_test(test_same_seed_same_run),
        cmocka_unit_test(test_failing_expectation),
        cmocka_unit_test(test_application_rules),
        cmocka_unit_test(test_execute_order),
        cmocka_unit_test(test_mains_run_side_by_side),
        cmocka_unit_test(test_fault_on_every_client),
        cmocka_unit_test(test_default_scenario),
        cmocka_unit_test(test_every_action_and_trigger),
        cmocka_unit_test(test_compare_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
