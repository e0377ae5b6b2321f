/*
 * test_storage_scn.c - storage profiles and deployment targets as a
 * scenario uses them: the bad inputs (each a FILE:LINE:COL error), the
 * profiles' defaults and a print/parse round trip, per-job refused on
 * kubernetes, and sim-world runs where the modelled mechanisms show:
 * kubernetes' launch latency in session mode, slot.request.timeout failing
 * through Flink 1.19's default restart strategy (exponential delay, 1 s,
 * x1.5, +-10%), S3 throttling with entropy injection, and a restore storm
 * that queues for (HDFS) or is throttled by (S3) the store, or shares the
 * TaskManagers' links, in session mode only.
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

#include "runtime/dfs.h"
#include "scenarios/report.h"
#include "scenarios/run.h"

#define J "job a source=sequence(records=10) | sink parallelism=2\n"

struct bad {
    const char *text;
    const char *want;              /* "LINE:COL: error: message" */
};

static const struct bad bad_cases[] = {
    {"dfs profile=gcs\n" J,
     "1:13: error: unknown storage profile 'gcs' (use s3, hdfs or nfs)"},
    {"dfs profile=s3 write-rate=3500\n" J,
     "1:27: error: rate '3500' has no '/s' (a value per second, e.g. 500k/s)"},
    {"dfs profile=s3 connection-bandwidth=85MB\n" J,
     "1:37: error: bandwidth '85MB' has no '/s' (a value per second, e.g. 200MB/s)"},
    {"dfs profile=s3 latency=150ms latency-max=120ms\n" J,
     "1:30: error: latency-max is below latency: the first byte cannot come sooner than the "
     "least latency"},
    {"dfs latency-max=1s\n" J,
     "1:5: error: 'latency-max' needs a storage profile (profile=s3, hdfs or nfs)"},
    {"dfs profile=nfs bandwidth=1GB/s\n" J,
     "1:1: error: profile=nfs needs bandwidth= and ops= (one server's; no published figure "
     "fits every server, see docs/storage.md)"},
    {"dfs profile=nfs bandwidth=1GB/s ops=1000/s read-rate=10/s\n" J,
     "1:44: error: 'read-rate' is a rate per partition, and nfs has one server: use ops="},
    {"dfs profile=s3 profile=hdfs\n" J,
     "1:16: error: 'profile' is given twice (first at line 1)"},
    {"config s3.entropy.key=_entropy_\n" J,
     "1:8: error: 's3.entropy.key' is an S3 setting: it needs 'dfs profile=s3'"},
    {"dfs profile=s3\nconfig s3.entropy.length=4\n" J,
     "2:8: error: s3.entropy.length has no effect without s3.entropy.key"},
    {"dfs profile=s3\nconfig s3.entropy.key=_entropy_ s3.entropy.length=11\n" J,
     "2:33: error: s3.entropy.length=11 is out of range (1 to 10 characters)"},
    {"dfs profile=hdfs\nconfig fs.s3a.connection.maximum=10\n" J,
     "2:8: error: 'fs.s3a.connection.maximum' is an S3 setting: it needs 'dfs profile=s3' "
     "(the dfs statement names another profile)"},
    {"dfs profile=s3\nconfig fs.s3a.retry.throttle.interval=100\n" J,
     "2:39: error: duration '100' has no unit (use ns, us, ms, s, m or h)"},
    {"cluster target=openshift\n" J,
     "1:16: error: 'openshift' is not a deployment target (use standalone, kubernetes or "
     "yarn)"},
    {"cluster target=kubernetes provider=standalone\n" J,
     "1:27: error: provider=standalone contradicts target=kubernetes (kubernetes and yarn "
     "start TaskManagers on demand)"},
    {"cluster target=standalone\nconfig slotmanager.redundant-taskmanager-num=1\n" J,
     "2:8: error: slotmanager.redundant-taskmanager-num needs TaskManagers on demand "
     "(target=kubernetes or yarn): a standalone cluster has fixed ones"},
    {"config state.backend.type=rocksdb state.backend.rocksdb.checkpoint.transfer.thread.num=0\n" J,
     "1:35: error: state.backend.rocksdb.checkpoint.transfer.thread.num must be at least 1 "
     "(Flink's negative value, the TaskManager's shared IO pool, is not modelled)"},
    {"config state.storage.fs.memory-threshold=2MiB\n" J,
     "1:8: error: state.storage.fs.memory-threshold is at most 1MiB in Flink (larger state goes "
     "to files of its own)"},
    {"dfs client-link=1GB/s\n" J,
     "1:5: error: 'client-link' needs a storage profile (profile=s3, hdfs or nfs)"},
    {"dfs profile=s3 client-link=1GB\n" J,
     "1:28: error: bandwidth '1GB' has no '/s' (a value per second, e.g. 200MB/s)"},
    {"dfs profile=s3 client-link=0MB/s\n" J,
     "1:16: error: client-link must be more than 0 (leave it out for an unlimited link)"},
    {J "expect dfs restore-queue-time > 5\n",
     "2:33: error: duration '5' has no unit (use ns, us, ms, s, m or h)"},
    {J "expect dfs restore-queue > 0\n",
     "2:12: error: unknown expectation 'dfs restore-queue' (did you mean 'dfs restore-queued'?)"},
    {"cluster target=standalone quota=3\n" J,
     "1:27: error: 'quota' needs provider=active (or target=kubernetes or yarn)"},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad *b = &bad_cases[i];
        struct scn_diags d;
        struct scn_scenario *s = NULL;
        char got[512] = "";
        scn_diags_init(&d);
        int rc = scn_parse_text("t.scn", b->text, strlen(b->text), &s, &d);
        if (d.count >= 1)
            snprintf(got, sizeof(got), "%u:%u: %s: %s", d.items[0].pos.line,
                     d.items[0].pos.col,
                     d.items[0].severity == SCN_SEV_ERROR ? "error" : "warning",
                     d.items[0].msg);
        if (rc != -EINVAL || d.count != 1 || strcmp(got, b->want) != 0) {
            fprintf(stderr, "case %zu:\n%s--- want: %s\n--- got (%zu):\n", i, b->text,
                    b->want, d.count);
            scn_diags_print(stderr, &d);
        }
        assert_int_equal(rc, -EINVAL);
        assert_null(s);
        assert_int_equal(d.count, 1);
        assert_string_equal(got, b->want);
        scn_diags_free(&d);
    }
}

static struct scn_scenario *parse(const char *text)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("t.scn", text, strlen(text), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    assert_int_equal(rc, 0);
    return s;
}

/* The profile's defaults are the documented ones; overrides win. */
static void test_profile_defaults(void **state)
{
    (void)state;
    struct scn_scenario *s = parse("dfs profile=s3 read-rate=100/s\n" J);
    assert_int_equal(s->dfs.profile, SCN_DFS_PROFILE_S3);
    assert_int_equal(s->dfs.write_rate, 3500);
    assert_int_equal(s->dfs.read_rate, 100);
    assert_int_equal(s->dfs.conn_bandwidth, 85000000);
    assert_int_equal(s->dfs.latency_ns, 100 * RT_NS_PER_MS);
    assert_int_equal(s->dfs.latency_max_ns, 200 * RT_NS_PER_MS);
    scn_scenario_free(s);
    s = parse("dfs profile=hdfs bandwidth=1GB/s\n" J);
    assert_int_equal(s->dfs.write_rate, 5600);
    assert_int_equal(s->dfs.read_rate, 126000);
    assert_int_equal(s->dfs.latency_ns, 0);
    scn_scenario_free(s);
    /* A latency above the profile's first-byte range makes it fixed. */
    s = parse("dfs profile=s3 latency=300ms\n" J);
    assert_int_equal(s->dfs.latency_max_ns, 300 * RT_NS_PER_MS);
    scn_scenario_free(s);
    s = parse("cluster taskmanagers=2 target=kubernetes\n" J);
    assert_int_equal(s->cluster.provider, SCN_PROVIDER_ACTIVE);
    assert_int_equal(s->cluster.launch_latency_ns, 5 * RT_NS_PER_SEC);
    scn_scenario_free(s);
    s = parse("cluster taskmanagers=2 target=yarn launch-latency=2s\n" J);
    assert_int_equal(s->cluster.launch_latency_ns, 2 * RT_NS_PER_SEC);
    scn_scenario_free(s);
}

/* What scn_scenario_print writes parses back to the same scenario. */
static void test_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "cluster taskmanagers=2 target=kubernetes\ndfs profile=s3 write-rate=10/s\n"
        "config s3.entropy.key=_entropy_ s3.entropy.length=6 fs.s3a.connection.maximum=500\n" J,
        "cluster target=standalone\ndfs profile=hdfs bandwidth=1GB/s latency=1ms\n" J,
        "dfs profile=s3 client-link=1250MB/s\n" J,
        "dfs profile=nfs bandwidth=1GB/s ops=2k/s latency=1ms latency-max=3ms\n" J,
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct scn_scenario *a = parse(texts[i]);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(scn_scenario_print(f, a), 0);
        fclose(f);
        struct scn_scenario *b = parse(buf);
        if (!scn_scenario_equal(a, b))
            fail_msg("round trip of case %zu differs:\n%s", i, buf);
        free(buf);
        scn_scenario_free(a);
        scn_scenario_free(b);
    }
}

static void test_per_job_on_kubernetes(void **state)
{
    (void)state;
    struct scn_scenario *s = parse("cluster taskmanagers=2 target=kubernetes\n" J);
    char err[512];
    assert_int_equal(scn_mode_check(s, SCN_MODE_SESSION, err, sizeof(err)), 0);
    assert_int_equal(scn_mode_check(s, SCN_MODE_APPLICATION, err, sizeof(err)), 0);
    assert_int_equal(scn_mode_check(s, SCN_MODE_PER_JOB, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "t.scn:1:31: error: per-job mode does not exist on kubernetes"));
    scn_scenario_free(s);
    s = parse("cluster taskmanagers=2 target=yarn\n" J);
    assert_int_equal(scn_mode_check(s, SCN_MODE_PER_JOB, err, sizeof(err)), 0);
    scn_scenario_free(s);
}

/* ---- runs in the sim world ------------------------------------------------ */

static json_t *run(const struct scn_scenario *s, enum scn_mode mode)
{
    struct scn_run_opts o = { .mode = mode, .world = RT_WORLD_SIM, .has_seed = true, .seed = 7,
                              .quiet = true };
    json_t *out = NULL;
    char err[256] = "";
    int rc = scn_run(s, &o, &out, err, sizeof(err));
    if (rc < 0 || !out)
        fail_msg("scn_run: %d (%s)", rc, err);
    char why[256];
    if (report_json_check(out, why, sizeof(why)) != 0)
        fail_msg("run object incomplete: %s", why);
    return out;
}

/* The times (ms) of job 0's state events named `state`, in order. */
static size_t state_times(const json_t *run, const char *state, double *t, size_t cap)
{
    const json_t *jobs = json_object_get(json_object_get(run, "timeline"), "jobs");
    const json_t *ev = json_object_get(json_array_get(jobs, 0), "events");
    size_t n = 0, i;
    const json_t *e;
    json_array_foreach(ev, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "state")), state) == 0 && n < cap)
            t[n++] = json_real_value(json_object_get(e, "t_ms"));
    }
    return n;
}

#define TWO_TMS(target)                                                                  \
    "cluster taskmanagers=2 slots=2 " target "\n"                                        \
    "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"                          \
    "config execution.checkpointing.interval=200ms\n"

/* Standalone: the lost TaskManager is not replaced, so the restarted job's
 * slot request times out after slot.request.timeout and fails the job
 * through the restart strategy - here Flink 1.19's default, as
 * restart-strategy.type is unset: exponential delay from 1 s, x1.5,
 * +-10% jitter from the seeded RNG. */
static void test_slot_timeout_default_restart(void **state)
{
    (void)state;
    struct scn_scenario *s = parse(
        TWO_TMS("target=standalone")
        "config slot.request.timeout=1s\n"
        "deadline 12s\n"
        "job a source=sequence(records=400k, keys=100, rate=10k/s) | keyby | sum | sink "
        "parallelism=4\n"
        "when checkpoint a 2 done kill taskmanager-of a[0]\n");
    json_t *r = run(s, SCN_MODE_SESSION);
    double created[16], failing[16], restarting[16];
    size_t nc = state_times(r, "CREATED", created, 16);
    size_t nf = state_times(r, "FAILING", failing, 16);
    size_t nr = state_times(r, "RESTARTING", restarting, 16);
    assert_true(nf >= 4 && nr >= 4 && nc >= nr);
    /* failing[0] is the TaskManager loss; each later failure comes exactly
     * slot.request.timeout after the restart that asked for slots. */
    for (size_t k = 1; k < nf; k++)
        assert_true(failing[k] - created[k] > 999.9 && failing[k] - created[k] < 1000.1);
    /* created[k + 1] is restart k: 1 s * 1.5^k, +-10%. */
    double want = 1000;
    for (size_t k = 0; k < 4; k++, want *= 1.5) {
        double d = created[k + 1] - restarting[k];
        if (d < want * 0.9 - 1 || d > want * 1.1 + 1)
            fail_msg("restart %zu came after %.1f ms, want %.0f ms +-10%%", k, d, want);
    }
    assert_true(json_integer_value(json_object_get(r, "slot_request_timeouts")) >= 3);
    json_t *w = json_object_get(r, "warnings");
    assert_int_equal(json_array_size(w), 0);   /* slot.request.timeout is modelled */
    json_decref(r);
    scn_scenario_free(s);
}

/* Kubernetes in session mode: the replacement TaskManager comes after the
 * pod launch latency (5 s by default), so the job runs again no sooner. */
static double back_running_ms(const char *target, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof(text), TWO_TMS("%s") "%s"
             "deadline 30s\n"
             "job a source=sequence(records=100k, keys=100, rate=10k/s) | keyby | sum | sink "
             "parallelism=4\n"
             "when checkpoint a 2 done kill taskmanager-of a[0]\n"
             "expect all jobs finished exactly-once\n", target, extra);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    assert_true(json_is_true(json_object_get(r, "ok")));
    double failing[4], running[4];
    assert_true(state_times(r, "FAILING", failing, 4) >= 1);
    assert_true(state_times(r, "RUNNING", running, 4) >= 2);
    json_decref(r);
    scn_scenario_free(s);
    return running[1] - failing[0];
}

static void test_kubernetes_launch_latency_in_session(void **state)
{
    (void)state;
    double k8s = back_running_ms("target=kubernetes", "");
    double fast = back_running_ms("target=kubernetes launch-latency=1s", "");
    assert_true(k8s >= 5000 && k8s < 7000);
    assert_true(fast >= 1000 && fast < 3000);
}

/* A spare TaskManager (slotmanager.redundant-taskmanager-num), launched at
 * start, is up before the loss (checkpoint 2 completes well after the
 * 100 ms launch): the restart does not wait for a pod. */
static void test_redundant_taskmanager(void **state)
{
    (void)state;
    const char *k8s = "target=kubernetes launch-latency=100ms";
    double none = back_running_ms(k8s, "");
    double spare = back_running_ms(k8s, "config slotmanager.redundant-taskmanager-num=1\n");
    assert_true(none >= 100);
    assert_true(spare < none);
}

/* S3 with a low write rate per prefix: checkpoints are throttled and
 * retried, and still every key is exactly once; entropy injection spreads
 * the data files over prefixes, so fewer requests are throttled. */
static uint64_t s3_throttled(const char *extra, uint64_t *retries)
{
    char text[1024];
    snprintf(text, sizeof(text),
             TWO_TMS("target=standalone")
             "dfs profile=s3 write-rate=5/s\n%s"
             "deadline 60s\n"
             "job a source=sequence(records=40k, keys=100, rate=10k/s) | keyby | sum | sink "
             "parallelism=4 state=1MB\n"
             "expect all jobs finished exactly-once\n", extra);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    assert_true(json_is_true(json_object_get(r, "ok")));
    const json_t *d = json_object_get(r, "dfs");
    assert_string_equal(json_string_value(json_object_get(d, "profile")), "s3");
    uint64_t t = (uint64_t)json_integer_value(json_object_get(d, "throttled_requests"));
    *retries = (uint64_t)json_integer_value(json_object_get(d, "retries"));
    json_decref(r);
    scn_scenario_free(s);
    return t;
}

static void test_s3_throttling_and_entropy(void **state)
{
    (void)state;
    uint64_t r1, r2;
    uint64_t plain = s3_throttled("", &r1);
    uint64_t spread = s3_throttled("config s3.entropy.key=_entropy_\n", &r2);
    assert_true(plain > 0);
    assert_int_equal(r1, plain);        /* none gave up */
    assert_true(spread < plain);
}

/* The profile's counters as expectations: the plain run above throttles,
 * so `> 0` holds and `= 0` fails; its 4 subtasks never fill a 96-connection
 * pool, so `pool-waits = 0`. */
static bool throttle_expect_ok(const char *want)
{
    char text[1024];
    snprintf(text, sizeof(text),
             TWO_TMS("target=standalone")
             "dfs profile=s3 write-rate=5/s\n"
             "deadline 60s\n"
             "job a source=sequence(records=40k, keys=100, rate=10k/s) | keyby | sum | sink "
             "parallelism=4 state=1MB\n"
             "expect %s\n", want);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    bool ok = json_is_true(json_object_get(r, "ok"));
    json_decref(r);
    scn_scenario_free(s);
    return ok;
}

static void test_expect_throttled_and_pool_waits(void **state)
{
    (void)state;
    assert_true(throttle_expect_ok("dfs throttled-requests > 0"));
    assert_false(throttle_expect_ok("dfs throttled-requests = 0"));
    assert_true(throttle_expect_ok("dfs pool-waits = 0"));
}

/* The recovery storm against a store's limits, mode by mode.  Four jobs of
 * two subtasks share a session cluster of two TaskManagers (evenly spread,
 * so each holds a subtask of every job): one loss restarts all four there,
 * 8 restoring operators x 4 transfer threads; in per-job and application
 * mode it restarts one job, 2 x 4 threads.  Incremental RocksDB state of
 * 8 MB per job in 1 MiB SST files. */
static json_t *storm_run(const char *dfs, enum scn_mode mode, const char *expect)
{
    char text[2048];
    int n = snprintf(text, sizeof(text),
             "cluster taskmanagers=2 slots=4 target=yarn launch-latency=100ms\n"
             "config cluster.evenly-spread-out-slots=true\n"
             "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"
             "config execution.checkpointing.interval=500ms execution.checkpointing.incremental=true\n"
             "config state.backend.type=rocksdb "
             "state.backend.rocksdb.compaction.level.target-file-size-base=1MiB\n"
             "%s\ndeadline 60s\n", dfs);
    for (char j = 'a'; j <= 'd'; j++)
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "job %c source=sequence(records=2k, keys=100, rate=1k/s) | keyby | sum | "
                      "sink parallelism=2 state=8MB\n", j);
    snprintf(text + n, sizeof(text) - (size_t)n,
             "when checkpoint d 1 done kill taskmanager-of a[0]\n"
             "expect all jobs finished exactly-once\n%s", expect);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, mode);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    return r;
}

static const json_t *jget(const json_t *o, const char *a, const char *b, const char *c)
{
    o = json_object_get(json_object_get(o, a), b);
    return c ? json_object_get(o, c) : o;
}

static double jnum(const json_t *v)
{
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* A store of 8 streams (HDFS DataNodes at 10 MB/s each, a test figure):
 * session's 32 restore streams queue for it, a single job's 8 do not. */
static void test_storm_queues_in_session_only(void **state)
{
    (void)state;
    const char *hdfs = "dfs profile=hdfs bandwidth=80MB/s streams=8";
    static const enum scn_mode modes[] = {SCN_MODE_SESSION, SCN_MODE_PER_JOB, SCN_MODE_APPLICATION};
    for (size_t i = 0; i < 3; i++) {
        bool session = modes[i] == SCN_MODE_SESSION;
        json_t *r = storm_run(hdfs, modes[i], session ? "expect dfs restore-queued > 8\n"
                                                        "expect dfs restore-queue-time > 1s\n"
                                                      : "expect dfs restore-queued = 0\n");
        const json_t *q = jget(r, "dfs", "queued_by_purpose", "restore");
        double jobs = jnum(jget(r, "recovery", "jobs_restarted", NULL));
        if (session) {
            assert_true(jobs == 4);
            assert_true(jnum(json_object_get(q, "waits")) > 8);
            assert_true(jnum(json_object_get(q, "wait_ms")) > 1000);
            assert_true(jnum(json_object_get(q, "max_wait_ms")) > 100);
        } else {
            assert_true(jobs == 1);
            assert_true(jnum(json_object_get(q, "waits")) == 0);
            assert_true(jnum(json_object_get(q, "wait_ms")) == 0);
        }
        /* A queue is no 503: HDFS waits, it does not refuse. */
        assert_true(jnum(jget(r, "dfs", "throttled_requests", NULL)) == 0);
        json_decref(r);
    }
}

/* S3 with a read rate of 20/s per prefix (a test figure, far below AWS's
 * 5,500): session's 36 restore GETs overrun the prefix's one-second burst
 * and are throttled and retried; one job's 9 fit in it.  Every throttled
 * request is retried and none gives up. */
static void test_storm_throttles_in_session_only(void **state)
{
    (void)state;
    const char *s3 = "dfs profile=s3 read-rate=20/s latency=1ms latency-max=1ms "
                     "connection-bandwidth=10MB/s";
    static const enum scn_mode modes[] = {SCN_MODE_SESSION, SCN_MODE_PER_JOB, SCN_MODE_APPLICATION};
    for (size_t i = 0; i < 3; i++) {
        bool session = modes[i] == SCN_MODE_SESSION;
        json_t *r = storm_run(s3, modes[i], session ? "expect dfs throttled-requests > 0\n"
                                                      "expect dfs retries > 0\n"
                                                    : "expect dfs retries = 0\n");
        double thr = jnum(jget(r, "dfs", "throttled_requests", NULL));
        double ret = jnum(jget(r, "dfs", "retries", NULL));
        assert_true(session ? thr > 0 : thr == 0);
        assert_true(ret == thr);
        assert_true(jnum(jget(r, "dfs", "failed_after_retries", NULL)) == 0);
        json_decref(r);
    }
}

/* TaskManager links (client-link=100MB/s, connections of 10 MB/s; test
 * figures): eight jobs of two subtasks, evenly spread over two 8-slot
 * TaskManagers, so each holds a subtask of every job.  In session mode the
 * loss restarts all eight, and the survivor and the replacement each
 * restore 8 operators at once - 32 threads, 320 MB/s asked of a 100 MB/s
 * link; in per-job and application mode one job's two operators (80 MB/s)
 * fit.  A fixed restart delay, no jitter, so the restores overlap. */
static json_t *link_run(enum scn_mode mode)
{
    char text[2048];
    int n = snprintf(text, sizeof(text),
             "cluster taskmanagers=2 slots=8 target=yarn launch-latency=100ms\n"
             "config cluster.evenly-spread-out-slots=true\n"
             "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"
             "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3 "
             "restart-strategy.fixed-delay.delay=200ms\n"
             "config execution.checkpointing.interval=500ms execution.checkpointing.incremental=true\n"
             "config state.backend.type=rocksdb "
             "state.backend.rocksdb.compaction.level.target-file-size-base=1MiB\n"
             "dfs profile=s3 latency=1ms latency-max=1ms connection-bandwidth=10MB/s "
             "client-link=100MB/s\n"
             "deadline 60s\n");
    for (char j = 'a'; j <= 'h'; j++)
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "job %c source=sequence(records=10k, keys=100, rate=1k/s) | keyby | sum | "
                      "sink parallelism=2 state=32MB\n", j);
    snprintf(text + n, sizeof(text) - (size_t)n,
             "when checkpoint h 3 done kill taskmanager-of a[0]\n"
             "expect all jobs finished exactly-once\n"
             "expect session: dfs restore-link-waits > 100\n");
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, mode);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    return r;
}

static void test_storm_shares_links_in_session_only(void **state)
{
    (void)state;
    json_t *ses = link_run(SCN_MODE_SESSION);
    const json_t *q = jget(ses, "dfs", "queued_by_purpose", "restore");
    assert_true(jnum(jget(ses, "recovery", "jobs_restarted", NULL)) == 8);
    assert_true(jnum(json_object_get(q, "link_waits")) > 100);
    assert_true(jnum(json_object_get(q, "link_wait_ms")) > 10000);
    assert_true(jnum(json_object_get(q, "waits")) == 0);     /* S3 itself queued nothing */
    double ses_restore = jnum(jget(ses, "recovery", "restore_ms", NULL));
    static const enum scn_mode others[] = {SCN_MODE_PER_JOB, SCN_MODE_APPLICATION};
    for (size_t i = 0; i < 2; i++) {
        json_t *r = link_run(others[i]);
        q = jget(r, "dfs", "queued_by_purpose", "restore");
        assert_true(jnum(jget(r, "recovery", "jobs_restarted", NULL)) == 1);
        /* The link's start-order approximation may nick a request or two. */
        assert_true(jnum(json_object_get(q, "link_waits")) <= 2);
        assert_true(jnum(json_object_get(q, "link_wait_ms")) < 100);
        assert_true(ses_restore > 2 * jnum(jget(r, "recovery", "restore_ms", NULL)));
        json_decref(r);
    }
    json_decref(ses);
}

/* RocksDB restores a state file as SST files through its transfer threads:
 * 4 MB per subtask in 256 KiB files at 10 MB/s per connection restores in
 * about a quarter of the time with 4 threads than with 1; hashmap reads
 * each file as one stream, in one request. */
static json_t *restore_run(const char *backend)
{
    char text[1400];
    snprintf(text, sizeof(text),
             "cluster taskmanagers=3 slots=2 target=standalone\n"
             "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"
             "config execution.checkpointing.interval=500ms\n"
             "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3 "
             "restart-strategy.fixed-delay.delay=100ms\n"
             "config %s\n"
             "dfs profile=s3 connection-bandwidth=10MB/s latency=1ms latency-max=1ms\n"
             "deadline 60s\n"
             "job a source=sequence(records=40k, keys=1000, rate=10k/s) | keyby | sum | sink "
             "parallelism=2 state=8MB\n"
             "when checkpoint a 2 done kill taskmanager-of a[0]\n"
             "expect all jobs finished exactly-once\n", backend);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_array_size(json_object_get(r, "warnings")), 0);
    return r;
}

static double restore_ms(const json_t *r)
{
    return json_real_value(json_object_get(json_object_get(r, "recovery"), "restore_ms"));
}

static long long ops(const json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "dfs"), "ops"));
}

static void test_rocksdb_transfer_threads(void **state)
{
    (void)state;
    const char *sst = " state.backend.rocksdb.compaction.level.target-file-size-base=256KiB";
    char one[256], four[256];
    snprintf(one, sizeof(one), "state.backend.type=rocksdb "
             "state.backend.rocksdb.checkpoint.transfer.thread.num=1%s", sst);
    snprintf(four, sizeof(four), "state.backend.type=rocksdb%s", sst);   /* 4 by default */
    json_t *r1 = restore_run(one);
    json_t *r4 = restore_run(four);
    json_t *hm = restore_run("state.backend.type=hashmap");
    assert_true(restore_ms(r1) > 300);          /* 4 MB at 10 MB/s, one stream */
    assert_true(restore_ms(r4) < restore_ms(r1) / 2.5);
    assert_true(ops(r1) > 3 * ops(hm));         /* 16 SST files per subtask, not 1 */
    assert_true(ops(r4) > 3 * ops(hm));
    json_decref(r1);
    json_decref(r4);
    json_decref(hm);
}

/* Local recovery with a full restart: the tasks that stay on their
 * TaskManager restore from its local copy; only the lost TaskManager's two
 * subtasks of six read from the shared store. */
static json_t *local_run(const char *on)
{
    char text[1400];
    snprintf(text, sizeof(text),
             "cluster taskmanagers=4 slots=2 target=standalone\n"
             "config cluster.evenly-spread-out-slots=true "
             "jobmanager.execution.failover-strategy=full\n"
             "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"
             "config execution.checkpointing.interval=500ms\n"
             "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3 "
             "restart-strategy.fixed-delay.delay=100ms\n"
             "%s"
             "dfs bandwidth=50MB/s\n"
             "deadline 60s\n"
             "job a source=sequence(records=40k, keys=1000, rate=10k/s) | keyby | sum | sink "
             "parallelism=6 state=12MB\n"
             "when checkpoint a 2 done kill taskmanager-of a[0]\n"
             "expect all jobs finished exactly-once\n", on);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_array_size(json_object_get(r, "warnings")), 0);
    return r;
}

static long long dfs_i(const json_t *r, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(r, "dfs"), key));
}

static void test_local_recovery(void **state)
{
    (void)state;
    json_t *off = local_run("");
    json_t *on = local_run("config state.backend.local-recovery=true\n");
    json_t *on2 = local_run("config execution.state-recovery.from-local=true\n");
    long long all = dfs_i(off, "recovery_bytes_read");
    long long lost = dfs_i(on, "recovery_bytes_read");
    assert_true(all > 10000000);
    assert_int_equal(dfs_i(off, "local_bytes_read"), 0);
    assert_true(lost > all / 4 && lost < all / 2);      /* 2 of 6 subtasks */
    assert_true(dfs_i(on, "local_bytes_read") > all / 2);
    assert_int_equal(dfs_i(on2, "recovery_bytes_read"), lost);
    json_decref(off);
    json_decref(on);
    json_decref(on2);
}

/* State files under state.storage.fs.memory-threshold travel inside
 * _metadata: no file, no request of their own. */
static json_t *inline_run(const char *threshold)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "cluster taskmanagers=2 slots=2\n"
             "config execution.checkpointing.interval=200ms\n"
             "%s"
             "deadline 60s\n"
             "job a source=sequence(records=20k, keys=100, rate=10k/s) | keyby | sum | sink "
             "parallelism=2\n"
             "expect all jobs finished exactly-once\n", threshold);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, SCN_MODE_SESSION);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    return r;
}

static void test_memory_threshold_inlines(void **state)
{
    (void)state;
    json_t *dflt = inline_run("");
    json_t *none = inline_run("config state.storage.fs.memory-threshold=0B\n");
    assert_true(dfs_i(dflt, "inline_bytes") > 0);
    assert_int_equal(dfs_i(none, "inline_bytes"), 0);
    assert_true(dfs_i(dflt, "files_created") * 2 < dfs_i(none, "files_created"));
    json_decref(dflt);
    json_decref(none);
}

/* A per-job or application cluster on YARN asks for its TaskManagers when
 * it starts: its spin-up takes the container launch latency (10 s by
 * default); without a target they are there at once. */
static double spinup_ms(const char *target, enum scn_mode mode)
{
    char text[512];
    snprintf(text, sizeof(text), "cluster taskmanagers=1 slots=2 %s\n"
             "deadline 60s\n"
             "job a source=sequence(records=2k, keys=10, rate=10k/s) | sink parallelism=2\n"
             "expect all jobs finished exactly-once\n", target);
    struct scn_scenario *s = parse(text);
    json_t *r = run(s, mode);
    scn_scenario_free(s);
    assert_true(json_is_true(json_object_get(r, "ok")));
    double v = json_real_value(json_object_get(json_object_get(r, "clusters"), "spinup_ms_median"));
    json_decref(r);
    return v;
}

static void test_yarn_spinup(void **state)
{
    (void)state;
    assert_true(spinup_ms("target=yarn", SCN_MODE_PER_JOB) >= 10000);
    assert_true(spinup_ms("target=yarn", SCN_MODE_APPLICATION) >= 10000);
    assert_true(spinup_ms("", SCN_MODE_PER_JOB) < 1000);
    assert_true(spinup_ms("target=yarn launch-latency=2s", SCN_MODE_PER_JOB) < 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_profile_defaults),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_per_job_on_kubernetes),
        cmocka_unit_test(test_slot_timeout_default_restart),
        cmocka_unit_test(test_kubernetes_launch_latency_in_session),
        cmocka_unit_test(test_redundant_taskmanager),
        cmocka_unit_test(test_s3_throttling_and_entropy),
        cmocka_unit_test(test_expect_throttled_and_pool_waits),
        cmocka_unit_test(test_rocksdb_transfer_threads),
        cmocka_unit_test(test_local_recovery),
        cmocka_unit_test(test_memory_threshold_inlines),
        cmocka_unit_test(test_yarn_spinup),
        cmocka_unit_test(test_storm_queues_in_session_only),
        cmocka_unit_test(test_storm_throttles_in_session_only),
        cmocka_unit_test(test_storm_shares_links_in_session_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
