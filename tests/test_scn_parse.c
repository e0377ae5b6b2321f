/*
 * test_scn_parse.c - the scenario language front end: good scenarios parse
 * with no diagnostics and the right values, bad ones give the exact message at
 * the exact line:column, every error of a file is reported, the canonical
 * writer round-trips, and units convert exactly (overflow and wrong units
 * included).  Pure parsing: no cluster is started.
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

#include "runtime/rt_mem.h"
#include "scenarios/scn.h"

#define NS_MS 1000000ull
#define NS_S 1000000000ull

static const char sketch[] =
    "# Two jobs share a session cluster; a TaskManager dies silently mid-run.\n"
    "cluster  taskmanagers=4 slots=2 provider=standalone ha=off\n"
    "config   heartbeat.interval=100ms heartbeat.timeout=500ms\n"
    "config   restart-strategy.type=fixed-delay restart-strategy.fixed-delay.delay=200ms\n"
    "config   execution.checkpointing.interval=200ms\n"
    "dfs      bandwidth=200MB/s streams=8 latency=2ms\n"
    "probe    every=10ms read=4KiB\n"
    "\n"
    "job orders  source=sequence(records=2M, keys=10k, rate=500k/s) | map | keyby | sum | sink\n"
    "            parallelism=4 state=64MB\n"
    "job clicks  source=sequence(records=1M) | filter | keyby | count | sink parallelism=2\n"
    "application shop  jobs=orders,clicks execute=async artifacts=120MB main-cpu=50ms\n"
    "\n"
    "at 1.5s                          kill taskmanager-of orders[0]\n"
    "when checkpoint orders 3 done    pause taskmanager-of clicks[1] for 600ms\n"
    "at 3s for 1s                     fail dfs/read probability=0.05\n"
    "\n"
    "expect all jobs finished exactly-once\n"
    "expect recovery orders < 3s\n"
    "expect session: jobs-restarted >= 2\n";

/* Every statement form and option, for the round trip. */
static const char everything[] =
    "cluster taskmanagers=2 slots=3 provider=active ha=on jobmanagers=2\n"
    "        launch-latency=250ms quota=6 tm-memory=1GiB\n"
    "config restart-strategy.type=exponential-delay\n"
    "config restart-strategy.exponential-delay.backoff-multiplier=2.5\n"
    "config restart-strategy.exponential-delay.jitter-factor=0.25\n"
    "config jobmanager.execution.failover-strategy=full cluster.evenly-spread-out-slots=true\n"
    "config execution.checkpointing.interval=1s state.checkpoints.num-retained=3\n"
    "config high-availability.type=zookeeper taskmanager.numberOfTaskSlots=3\n"
    "dfs bandwidth=1GiB/s ops=10k/s streams=16 latency=500us\n"
    "probe every=5ms read=64KiB\n"
    "deadline 2m\n"
    "seed 42\n"
    "job a source=random(records=1G, keys=100, seed=9, rate=2M/s) | flatmap | keyby\n"
    "      | window(size=1s) | fail(at=500) | stall(for=1s) | burn(per-record=3us)\n"
    "      | alloc(per-key=1KiB) | reduce | sink parallelism=3 max-parallelism=256\n"
    "      state=1MB checkpoint-bytes=512KiB\n"
    "job b source=sequence(records=10) | fail(probability=0.001) | sink\n"
    "job c source=sequence(records=10) | sink parallelism=2\n"
    "application app jobs=a,b execute=blocking artifacts=3MB main-cpu=1ms\n"
    "    cached-file=lib/udf.jar on dfs cached-file=\"data/my file.csv\" on client\n"
    "at 1s kill taskmanager 0\n"
    "at 1s stop jobmanager-of a\n"
    "at 2s for 1s pause client\n"
    "when job a restarting restart probe\n"
    "when taskmanager registered every 2 add taskmanager\n"
    "when restore b started repeat 3 add 3 taskmanagers\n"
    "when checkpoint a done every 2 repeat 1 crash jobmanager-leader\n"
    "at 3s partition taskmanager-of a[2] from jobmanager for 2s\n"
    "at 3s delay messages on link taskmanager 1 <-> jobmanager by 20ms probability=0.5\n"
    "at 3s drop messages on link client<->dfs\n"
    "when job c running duplicate messages on link taskmanager-of c[1] <-> jobmanager "
    "probability=0.1 for 5s\n"
    "at 4s fail task a[1] at record 1000\n"
    "at 4s fail task b[0] probability=0.01\n"
    "at 5s exhaust memory of taskmanager-of a[0]\n"
    "at 5s fail dfs/write nth=3\n"
    "at 5s fail dfs/open once\n"
    "at 5s fail dfs/fsync\n"
    "at 6s for 500ms slow dfs/read by 40ms\n"
    "at 6s corrupt dfs/rename probability=0.5\n"
    "expect job a finished\n"
    "expect per-job: job b failed\n"
    "expect application: application app failed with \"boom \\\"quoted\\\"\"\n"
    "expect restarts a != 0\n"
    "expect dfs recovery-bytes-read < 64MiB\n"
    "expect dfs peak-concurrency <= 8\n"
    "expect probe p99 < 20ms\n"
    "expect lingering-files = 0\n"
    "expect jobs-restarted > 1\n";

static struct scn_scenario *parse_ok(const char *text)
{
    struct scn_diags d;
    struct scn_scenario *s = NULL;
    scn_diags_init(&d);
    int rc = scn_parse_text("t.scn", text, strlen(text), &s, &d);
    if (rc != 0 || d.count != 0)
        scn_diags_print(stderr, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.count, 0);
    assert_non_null(s);
    scn_diags_free(&d);
    return s;
}

static void test_sketch(void **state)
{
    struct scn_scenario *s = parse_ok(sketch);
    union scn_value v;
    (void)state;
    assert_int_equal(s->cluster.taskmanagers, 4);
    assert_int_equal(s->cluster.slots, 2);
    assert_int_equal(s->cluster.provider, SCN_PROVIDER_STANDALONE);
    assert_false(s->cluster.ha);
    assert_int_equal(s->n_config, 5);
    assert_int_equal(scn_config_get(s, "heartbeat.timeout", &v), 0);
    assert_int_equal(v.u, 500 * NS_MS);
    assert_int_equal(scn_config_get(s, "restart-strategy.type", &v), 0);
    assert_int_equal(v.u, 1); /* fixed-delay */
    /* Unset keys read as Flink's defaults. */
    assert_int_equal(scn_config_get(s, "heartbeat.rpc-failure-threshold", &v), 0);
    assert_int_equal(v.u, 2);
    assert_int_equal(scn_config_get(s, "restart-strategy.exponential-delay.backoff-multiplier",
                                    &v), 0);
    assert_true(v.d == 1.5);
    assert_int_equal(scn_config_get(s, "no.such.key", &v), -ENOENT);
    assert_int_equal(s->dfs.bandwidth, 200000000ull);
    assert_int_equal(s->dfs.streams, 8);
    assert_int_equal(s->dfs.latency_ns, 2 * NS_MS);
    assert_true(s->probe.present);
    assert_int_equal(s->probe.every_ns, 10 * NS_MS);
    assert_int_equal(s->probe.read_bytes, 4096);
    assert_int_equal(s->deadline_ns, SCN_DEFAULT_DEADLINE_NS);

    assert_int_equal(s->n_jobs, 2);
    const struct scn_job *o = &s->jobs[0];
    assert_string_equal(o->name, "orders");
    assert_int_equal(o->n_ops, 5);
    assert_int_equal(o->ops[0].kind, SCN_OP_SEQUENCE);
    assert_int_equal(o->ops[0].records, 2000000);
    assert_int_equal(o->ops[0].keys, 10000);
    assert_int_equal(o->ops[0].rate, 500000);
    assert_int_equal(o->ops[3].kind, SCN_OP_SUM);
    assert_int_equal(o->ops[4].kind, SCN_OP_SINK);
    assert_int_equal(o->parallelism, 4);
    assert_int_equal(o->max_parallelism, 128);
    assert_int_equal(o->state_bytes, 64000000);
    assert_int_equal(o->checkpoint_bytes, 64000000);
    assert_int_equal(o->pos.line, 9);
    assert_int_equal(o->ops[1].pos.line, 9);
    assert_int_equal(o->ops[1].pos.col, 66);
    assert_int_equal(s->jobs[1].parallelism, 2);
    assert_int_equal(s->jobs[1].ops[0].keys, 1000);

    assert_int_equal(s->n_apps, 1);
    assert_string_equal(s->apps[0].name, "shop");
    assert_false(s->apps[0].implicit);
    assert_int_equal(s->apps[0].n_jobs, 2);
    assert_int_equal(s->apps[0].jobs[1].index, 1);
    assert_int_equal(s->apps[0].execute, SCN_EXECUTE_ASYNC);
    assert_int_equal(s->apps[0].artifacts_bytes, 120000000);
    assert_int_equal(s->apps[0].main_cpu_ns, 50 * NS_MS);
    assert_int_equal(o->app, 0);

    assert_int_equal(s->n_faults, 3);
    const struct scn_fault *f = &s->faults[0];
    assert_int_equal(f->trigger.kind, SCN_TRIGGER_AT);
    assert_int_equal(f->trigger.at_ns, 1500 * NS_MS);
    assert_int_equal(f->action, SCN_ACT_KILL);
    assert_int_equal(f->target.kind, SCN_TARGET_TASKMANAGER_OF);
    assert_int_equal(f->target.job.index, 0);
    assert_int_equal(f->target.index, 0);
    assert_int_equal(f->action_pos.line, 14);
    assert_int_equal(f->action_pos.col, 34);
    f = &s->faults[1];
    assert_int_equal(f->trigger.kind, SCN_TRIGGER_WHEN);
    assert_int_equal(f->trigger.event.kind, SCN_EVENT_CHECKPOINT_DONE);
    assert_int_equal(f->trigger.event.checkpoint, 3);
    assert_int_equal(f->trigger.repeat, 1);
    assert_int_equal(f->action, SCN_ACT_PAUSE);
    assert_int_equal(f->target.job.index, 1);
    assert_int_equal(f->target.index, 1);
    assert_int_equal(f->duration_ns, 600 * NS_MS);
    f = &s->faults[2];
    assert_int_equal(f->duration_ns, NS_S);
    assert_int_equal(f->action, SCN_ACT_FAIL_FAILPOINT);
    assert_string_equal(f->failpoint, "dfs/read");
    assert_int_equal(f->fp_mode, SCN_FP_PROBABILITY);
    assert_true(f->probability == 0.05);

    assert_int_equal(s->n_expects, 3);
    assert_int_equal(s->expects[0].kind, SCN_EXPECT_EXACTLY_ONCE);
    assert_int_equal(s->expects[1].metric, SCN_METRIC_RECOVERY);
    assert_int_equal(s->expects[1].cmp, SCN_CMP_LT);
    assert_int_equal(s->expects[1].value, 3 * NS_S);
    assert_int_equal(s->expects[2].mode, SCN_MODE_SESSION);
    assert_int_equal(s->expects[2].metric, SCN_METRIC_JOBS_RESTARTED);
    assert_int_equal(s->expects[2].cmp, SCN_CMP_GE);
    assert_int_equal(s->expects[2].value, 2);

    char *text = scn_fault_text(s, &s->faults[1]);
    assert_string_equal(text, "when checkpoint orders 3 done pause taskmanager-of clicks[1] "
                        "for 600ms");
    rt_free(text);
    text = scn_expect_text(s, &s->expects[2]);
    assert_string_equal(text, "expect session: jobs-restarted >= 2");
    rt_free(text);
    scn_scenario_free(s);
}

static void test_default(void **state)
{
    struct scn_scenario *s = parse_ok(scn_default_text);
    (void)state;
    assert_int_equal(s->n_jobs, 3);
    /* shop runs orders and clicks with execute_async; audit is a bare job. */
    assert_int_equal(s->n_apps, 2);
    assert_string_equal(s->apps[0].name, "shop");
    assert_false(s->apps[0].implicit);
    assert_int_equal(s->apps[0].n_jobs, 2);
    assert_int_equal(s->apps[0].execute, SCN_EXECUTE_ASYNC);
    assert_int_equal(s->apps[0].artifacts_bytes, 4 * 1000 * 1000);
    assert_true(s->apps[1].implicit);
    assert_int_equal(s->jobs[2].app, 1);
    /* The fault is tied to the job's life, so it means the same in every mode. */
    assert_int_equal(s->faults[0].action, SCN_ACT_KILL);
    assert_int_equal(s->faults[0].trigger.kind, SCN_TRIGGER_WHEN);
    assert_int_equal(s->faults[0].trigger.event.kind, SCN_EVENT_CHECKPOINT_DONE);
    scn_scenario_free(s);

    /* The library copy says the same thing, when the source tree is at hand. */
    char path[4096];
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    snprintf(path, sizeof(path), "%.*s/../scenarios/library/default.scn",
             slash ? (int)(slash - src) : 1, slash ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    size_t want = strlen(scn_default_text);
    char *buf = rt_xcalloc(1, want + 2);
    size_t n = fread(buf, 1, want + 1, f);
    fclose(f);
    assert_int_equal(n, strlen(scn_default_text));
    assert_memory_equal(buf, scn_default_text, n);
    rt_free(buf);
}

static void test_everything(void **state)
{
    struct scn_scenario *s = parse_ok(everything);
    (void)state;
    assert_int_equal(s->cluster.provider, SCN_PROVIDER_ACTIVE);
    assert_true(s->cluster.ha);
    assert_int_equal(s->cluster.jobmanagers, 2);
    assert_int_equal(s->cluster.launch_latency_ns, 250 * NS_MS);
    assert_int_equal(s->cluster.quota, 6);
    assert_int_equal(s->cluster.tm_memory_bytes, 1ull << 30);
    assert_int_equal(s->dfs.bandwidth, 1ull << 30);
    assert_int_equal(s->dfs.ops, 10000);
    assert_int_equal(s->dfs.latency_ns, 500000);
    assert_int_equal(s->deadline_ns, 120 * NS_S);
    assert_true(s->has_seed);
    assert_int_equal(s->seed, 42);
    const struct scn_job *a = &s->jobs[0];
    assert_int_equal(a->n_ops, 10);
    assert_int_equal(a->ops[0].records, 1000000000ull);
    assert_int_equal(a->ops[0].seed, 9);
    assert_int_equal(a->ops[0].rate, 2000000);
    assert_int_equal(a->ops[3].size_ns, NS_S);
    assert_int_equal(a->ops[4].at, 500);
    assert_int_equal(a->ops[6].per_record_ns, 3000);
    assert_int_equal(a->ops[7].per_key_bytes, 1024);
    assert_int_equal(a->max_parallelism, 256);
    assert_int_equal(a->checkpoint_bytes, 512 * 1024);
    /* Explicit applications first, then one per bare job. */
    assert_int_equal(s->n_apps, 2);
    assert_true(s->apps[1].implicit);
    assert_string_equal(s->apps[1].name, "c");
    assert_int_equal(s->jobs[2].app, 1);
    assert_int_equal(s->apps[0].n_files, 2);
    assert_string_equal(s->apps[0].files[1].path, "data/my file.csv");
    assert_int_equal(s->apps[0].files[0].on, SCN_FILE_ON_DFS);
    assert_int_equal(s->faults[3].trigger.event.state, SCN_JOB_RESTARTING);
    assert_int_equal(s->faults[4].trigger.every, 2);
    assert_int_equal(s->faults[4].trigger.repeat, 0);
    assert_int_equal(s->faults[5].count, 3);
    assert_int_equal(s->faults[5].trigger.repeat, 3);
    assert_int_equal(s->faults[8].delay_ns, 20 * NS_MS);
    assert_int_equal(s->faults[8].target.index, 1);
    assert_int_equal(s->faults[9].peer.kind, SCN_TARGET_DFS);
    assert_true(s->faults[9].probability == 1.0);
    assert_int_equal(s->faults[10].duration_ns, 5 * NS_S);
    assert_int_equal(s->faults[11].fp_mode, SCN_FP_NTH);
    assert_int_equal(s->faults[11].nth, 1000);
    assert_int_equal(s->faults[14].fp_mode, SCN_FP_NTH);
    assert_int_equal(s->faults[15].fp_mode, SCN_FP_ONCE);
    assert_int_equal(s->faults[16].fp_mode, SCN_FP_ALWAYS);
    assert_int_equal(s->faults[17].delay_ns, 40 * NS_MS);
    assert_string_equal(s->expects[2].text, "boom \"quoted\"");
    assert_int_equal(s->expects[2].app.index, 0);
    assert_int_equal(s->expects[3].cmp, SCN_CMP_NE);
    assert_int_equal(s->expects[4].value, 64ull << 20);
    scn_scenario_free(s);
}

/* ---- round trip ---- */

static void round_trip(const char *text)
{
    struct scn_scenario *a = parse_ok(text), *b;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    assert_int_equal(scn_scenario_print(f, a), 0);
    fclose(f);
    b = parse_ok(out);
    if (!scn_scenario_equal(a, b))
        fprintf(stderr, "round trip differs; written text:\n%s", out);
    assert_true(scn_scenario_equal(a, b));
    /* Canonical text is a fixed point. */
    char *out2 = NULL;
    size_t len2 = 0;
    f = open_memstream(&out2, &len2);
    scn_scenario_print(f, b);
    fclose(f);
    assert_string_equal(out, out2);
    free(out);
    free(out2);
    scn_scenario_free(a);
    scn_scenario_free(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip(sketch);
    round_trip(scn_default_text);
    round_trip(everything);
}

static void test_equal_detects_change(void **state)
{
    struct scn_scenario *a = parse_ok(sketch), *b = parse_ok(sketch);
    (void)state;
    assert_true(scn_scenario_equal(a, b));
    b->faults[1].duration_ns++;
    assert_false(scn_scenario_equal(a, b));
    scn_scenario_free(a);
    scn_scenario_free(b);
}

/* ---- errors ---- */

struct bad {
    const char *text;
    const char *want;              /* "LINE:COL: error: message" */
};

#define J "job a source=sequence(records=10) | sink parallelism=2\n"

static const struct bad bad_cases[] = {
    {"clutser taskmanagers=2\n" J,
     "1:1: error: unknown statement 'clutser' (did you mean 'cluster'?)"},
    {"cluster taskmanagers=2 slot=3\n" J,
     "1:24: error: unknown cluster setting 'slot' (did you mean 'slots'?)"},
    {"cluster provider=magic\n" J,
     "1:18: error: 'magic' is not a value of 'provider' (use standalone or active)"},
    {"cluster taskmanagers=2 quota=3\n" J, "1:24: error: 'quota' needs provider=active (or target=kubernetes or yarn)"},
    {"cluster slots=2 slots=3\n" J, "1:17: error: 'slots' is given twice (first at line 1)"},
    {"probe every=1s every=2s\n" J, "1:16: error: 'every' is given twice (first at line 1)"},
    {"job a source=sequence(records=10) | sink parallelism=2 parallelism=3\n",
     "1:56: error: 'parallelism' is given twice (first at line 1)"},
    {"cluster\ncluster\n" J, "2:1: error: a second 'cluster' statement (the first is at line 1)"},
    {"config heartbeat.intervall=10s\n" J,
     "1:8: error: unknown configuration key 'heartbeat.intervall' (did you mean "
     "'heartbeat.interval'?)"},
    {"config heartbeat.interval=100\n" J,
     "1:27: error: duration '100' has no unit (use ns, us, ms, s, m or h)"},
    {"config heartbeat.interval=10sec\n" J,
     "1:27: error: unknown duration unit 'sec' in '10sec' (use ns, us, ms, s, m or h)"},
    {"config restart-strategy.type=fixed\n" J,
     "1:30: error: 'fixed' is not a value of 'restart-strategy.type' (use none, fixed-delay, "
     "failure-rate or exponential-delay)"},
    {"config cluster.evenly-spread-out-slots=yes\n" J,
     "1:40: error: 'yes' is not a value of 'cluster.evenly-spread-out-slots' (use true or false)"},
    {"config state.checkpoints.num-retained=1s\n" J,
     "1:39: error: unknown count unit 's' in '1s' (use k, M or G, or none)"},
    {"config heartbeat.timeout=1s\nconfig heartbeat.timeout=2s\n" J,
     "2:8: error: configuration key 'heartbeat.timeout' is set twice (first at line 1)"},
    {"config taskmanager.numberOfTaskSlots=4\ncluster slots=2\n" J,
     "1:8: error: taskmanager.numberOfTaskSlots=4 contradicts cluster slots=2"},
    {"dfs bandwidth=200MB\n" J,
     "1:15: error: bandwidth '200MB' has no '/s' (a value per second, e.g. 200MB/s)"},
    {"dfs ops=5k/ms\n" J, "1:9: error: rate '5k/ms' must be per second ('/s', e.g. 500k/s)"},
    {"probe every=10ms read=4kb\n" J,
     "1:23: error: unknown size unit 'kb' in '4kb' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"},
    {"job a source=sequence(records=10) | mpa | sink\n",
     "1:37: error: unknown operator 'mpa' (did you mean 'map'?)"},
    {"job a source=map | sink\n", "1:14: error: 'map' is not a source (use sequence or random)"},
    {"job a source=sequence(records=10) | map\n",
     "1:37: error: the pipeline of job 'a' must end with '| sink'"},
    {"job a source=sequence(records=1) | sink | map\n",
     "1:36: error: 'sink' must be the last operator"},
    {"job a source=sequence(recs=10) | sink\n",
     "1:23: error: unknown sequence argument 'recs' (did you mean 'records'?)"},
    {"job a source=sequence(keys=10) | sink\n",
     "1:14: error: 'sequence' needs records= (as in sequence(records=...))"},
    {"job a source=sequence(records=1) | map(x=1) | sink\n",
     "1:36: error: 'map' takes no arguments"},
    {"job a source=sequence(records=1) | fail | sink\n",
     "1:36: error: 'fail' needs either at=RECORD or probability=P"},
    {"job a source=sequence(records=1, rate=5k) | sink\n",
     "1:39: error: rate '5k' has no '/s' (a value per second, e.g. 500k/s)"},
    {"job 1a source=sequence(records=1) | sink\n",
     "1:5: error: invalid job name '1a' (letters, digits, '-' and '_', starting with a letter)"},
    {"job a sequence(records=1) | sink\n",
     "1:7: error: expected 'source=' after the job name, found 'sequence'"},
    {"job a source=sequence(records=1) | sink parallelism=0\n",
     "1:41: error: parallelism must be from 1 to 32768"},
    {J "job a source=sequence(records=10) | sink\n",
     "2:5: error: duplicate job 'a' (first defined at line 1)"},
    {J "  at 1s kill client\n",
     "2:3: error: unknown job setting 'at' (a line indented deeper continues the previous "
     "statement)"},
    {J "application shop jobs=a,b\n", "2:25: error: unknown job 'b' (did you mean 'a'?)"},
    {J "application shop jobs=a\napplication shop2 jobs=a\n",
     "3:24: error: job 'a' is already in application 'shop' (line 2)"},
    {J "application shop execute=async\n", "2:13: error: application 'shop' needs jobs=JOB,..."},
    {J "application x jobs=a cached-file=../etc/passwd on dfs\n",
     "2:34: error: path '../etc/passwd' leaves the run directory (use a relative path without "
     "'..')"},
    {J "application x jobs=a cached-file=/etc/passwd\n",
     "2:34: error: path '/etc/passwd' leaves the run directory (use a relative path without "
     "'..')"},
    {J "application x jobs=a cached-file=lib/../../x on client\n",
     "2:34: error: path 'lib/../../x' leaves the run directory (use a relative path without "
     "'..')"},
    {J "at 1s kil taskmanager 0\n", "2:7: error: unknown action 'kil' (did you mean 'kill'?)"},
    {J "at 1s kill taskmanager-of b[0]\n", "2:27: error: unknown job 'b' (did you mean 'a'?)"},
    {J "at 1s kill taskmanager-of orders[0]\n", "2:27: error: unknown job 'orders'"},
    {J "at 1s kill taskmanager-of a[2]\n",
     "2:27: error: subtask 2 is out of range: job 'a' has parallelism 2 (use 0 to 1)"},
    {J "at 1s kill taskmanager 3\n",
     "2:12: error: taskmanager 3 is out of range: the cluster has 1 (numbered from 0 to 0)"},
    {J "at 1s kill taskmanager-of a\n",
     "2:28: error: expected '[' and a subtask index after the job name, found end of statement"},
    {J "at 1s kill\n", "2:11: error: expected a target, found end of statement"},
    {J "at 1s kill taskmangr 0\n",
     "2:12: error: unknown target 'taskmangr' (did you mean 'taskmanager'?)"},
    {J "at 1s fail dfs/raed probability=0.1\n",
     "2:12: error: unknown failpoint 'dfs/raed' (did you mean 'dfs/read'?)"},
    {J "at 1s fail dfs/read probability=1.5\n",
     "2:33: error: probability '1.5' is out of range (0 to 1)"},
    {J "at 1s pause jobmanager\n", "2:7: error: 'pause' needs a duration (add 'for DURATION')"},
    {J "at 1s for 2s kill client\n", "2:11: error: 'kill' takes no duration"},
    {J "at 1s for 2s pause client for 1s\n",
     "2:27: error: the duration is given twice (also at line 2, column 11)"},
    {J "at 1s delay messages on link jobmanager <-> client\n",
     "2:7: error: 'delay messages' needs 'by DURATION'"},
    {J "at 1s drop messages on link jobmanager client\n",
     "2:40: error: expected '<->' between the two ends of the link, found 'client'"},
    {J "at 1s exhaust memory of client\n",
     "2:25: error: 'exhaust memory' needs a TaskManager (taskmanager-of JOB[i] or taskmanager N)"},
    {J "at 1s fail task a[0]\n",
     "2:7: error: 'fail task' needs 'at record N' or 'probability=P'"},
    {J "at 1s kill client extra\n", "2:19: error: unexpected 'extra' at the end of the statement"},
    {J "when chekpoint a 3 done kill client\n",
     "2:6: error: unknown event 'chekpoint' (did you mean 'checkpoint'?)"},
    {J "when job a finishd kill client\n",
     "2:12: error: unknown job state 'finishd' (did you mean 'finished'?)"},
    {J "when job a running repeat 0 kill client\n", "2:27: error: 'repeat' needs a number from 1"},
    {J "expect recovry a < 1s\n",
     "2:8: error: unknown expectation 'recovry' (did you mean 'recovery'?)"},
    {J "expect dfs peak-concurency <= 3\n",
     "2:12: error: unknown expectation 'dfs peak-concurency' (did you mean "
     "'dfs peak-concurrency'?)"},
    {J "expect jobs-restarted 3\n",
     "2:23: error: expected a comparison (<, <=, >, >=, = or !=) after 'jobs-restarted', "
     "found '3'"},
    {J "expect recovery a < 3\n",
     "2:21: error: duration '3' has no unit (use ns, us, ms, s, m or h)"},
    {J "expect dfs recovery-bytes-read < 100\n",
     "2:34: error: size '100' has no unit (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"},
    {J "expect probe p99 < 10ms\n", "2:8: error: 'probe p99' needs a 'probe' statement"},
    {J "expect job b finished\n", "2:12: error: unknown job 'b' (did you mean 'a'?)"},
    {J "expect job a running\n",
     "2:14: error: unknown final job state 'running' (use finished, failed or canceled)"},
    {J "expect session jobs-restarted >= 1\n", "2:8: error: expected ':' after the mode 'session'"},
    {J "expect sesion: jobs-restarted >= 1\n",
     "2:8: error: unknown mode 'sesion' (did you mean 'session'?)"},
    {J "expect application shop failed with \"x\"\n", "2:20: error: unknown application 'shop'"},
    {J "expect application a failed with \"boom\n",
     "2:34: error: unterminated string (close it with '\"' on the same line)"},
    {J "deadline 0s\n", "2:10: error: the deadline must be more than 0s"},
    {J "at 1s kill client ! \n", "2:19: error: unexpected character '!'"},
    {J "at 99999999999999999999s kill client\n",
     "2:4: error: duration '99999999999999999999s' is too large"},
    {J "at 0.5ns kill client\n", "2:4: error: duration '0.5ns' is not a whole number of ns"},
    {"", "1:1: error: the scenario defines no job (add a 'job' statement)"},
    {"# only a comment\n", "1:1: error: the scenario defines no job (add a 'job' statement)"},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad *b = &bad_cases[i];
        struct scn_diags d;
        struct scn_scenario *s = (struct scn_scenario *)1;
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

static void test_every_error_reported(void **state)
{
    static const char text[] =
        "cluster taskmanagers=2 slots=2\n"
        "config heartbeat.timeout=5\n"                           /* 1: no unit */
        "job a source=sequence(records=1k) | mapp | sink\n"     /* 2: operator */
        "job b source=sequence(records=1k) | sink parallelism=2\n"
        "at 1s kill taskmanager-of b[7]\n"                       /* 3: subtask */
        "expect all jobs finished exactly-once\n";
    struct scn_diags d;
    struct scn_scenario *s;
    char *out = NULL;
    size_t len = 0;
    (void)state;
    scn_diags_init(&d);
    assert_int_equal(scn_parse_text("three.scn", text, strlen(text), &s, &d), -EINVAL);
    assert_null(s);
    assert_int_equal(d.count, 3);
    assert_int_equal(scn_diags_errors(&d), 3);
    FILE *f = open_memstream(&out, &len);
    scn_diags_print(f, &d);
    fclose(f);
    assert_string_equal(out,
        "three.scn:2:26: error: duration '5' has no unit (use ns, us, ms, s, m or h)\n"
        "three.scn:3:37: error: unknown operator 'mapp' (did you mean 'map'?)\n"
        "three.scn:5:27: error: subtask 7 is out of range: job 'b' has parallelism 2 "
        "(use 0 to 1)\n");
    free(out);
    scn_diags_free(&d);
}

static void test_warning_keeps_scenario(void **state)
{
    static const char text[] = J "when checkpoint a done kill client\n";
    struct scn_diags d;
    struct scn_scenario *s;
    (void)state;
    scn_diags_init(&d);
    assert_int_equal(scn_parse_text("w.scn", text, strlen(text), &s, &d), 0);
    assert_non_null(s);
    assert_int_equal(d.count, 1);
    assert_int_equal(scn_diags_errors(&d), 0);
    assert_int_equal(d.items[0].severity, SCN_SEV_WARNING);
    assert_int_equal(d.items[0].pos.line, 2);
    assert_int_equal(d.items[0].pos.col, 6);
    scn_scenario_free(s);
    scn_diags_free(&d);
}

static void test_parse_file(void **state)
{
    struct scn_diags d;
    struct scn_scenario *s;
    char *out = NULL;
    size_t len = 0;
    (void)state;
    scn_diags_init(&d);
    assert_int_equal(scn_parse_file("/nonexistent/x.scn", &s, &d), -ENOENT);
    assert_null(s);
    FILE *f = open_memstream(&out, &len);
    scn_diags_print(f, &d);
    fclose(f);
    assert_string_equal(out, "/nonexistent/x.scn: error: cannot read the scenario: "
                             "No such file or directory\n");
    free(out);
    scn_diags_free(&d);

    char path[] = "/tmp/test_scn_parse_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(sketch, f);
    fclose(f);
    assert_int_equal(scn_parse_file(path, &s, &d), 0);
    assert_int_equal(d.count, 0);
    assert_string_equal(s->name, path);
    scn_scenario_free(s);
    scn_diags_free(&d);
    unlink(path);
}

/* ---- units ---- */

static void test_units(void **state)
{
    char err[256];
    uint64_t v;
    double p;
    (void)state;
    assert_int_equal(scn_parse_duration("1.5s", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1500 * NS_MS);
    assert_int_equal(scn_parse_duration("0.1s", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 100 * NS_MS);
    assert_int_equal(scn_parse_duration("250us", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 250000);
    assert_int_equal(scn_parse_duration("2m", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 120 * NS_S);
    assert_int_equal(scn_parse_duration("1h", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 3600 * NS_S);
    assert_int_equal(scn_parse_duration("7ns", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 7);
    assert_int_equal(scn_parse_size("4KiB", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(scn_parse_size("1.5KiB", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1536);
    assert_int_equal(scn_parse_size("64MB", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 64000000);
    assert_int_equal(scn_parse_size("2GiB", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(scn_parse_size("12B", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 12);
    assert_int_equal(scn_parse_count("10k", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(scn_parse_count("2.5M", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 2500000);
    assert_int_equal(scn_parse_count("3G", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 3000000000ull);
    assert_int_equal(scn_parse_count("17", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 17);
    assert_int_equal(scn_parse_count_rate("500k/s", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 500000);
    assert_int_equal(scn_parse_size_rate("200MB/s", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 200000000);
    assert_int_equal(scn_parse_probability("0.05", &p, err, sizeof(err)), 0);
    assert_true(p == 0.05);

    /* Largest exact values, and one past them. */
    assert_int_equal(scn_parse_duration("18446744073709551615ns", &v, err, sizeof(err)), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(scn_parse_duration("18446744073709551616ns", &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "duration '18446744073709551616ns' is too large");
    assert_int_equal(scn_parse_duration("18446744074s", &v, err, sizeof(err)), -ERANGE);
    assert_int_equal(scn_parse_size("16777216TiB", &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "size '16777216TiB' is too large");
    assert_int_equal(scn_parse_count("18446744073709552k", &v, err, sizeof(err)), -ERANGE);

    /* Wrong or missing units name the allowed ones. */
    assert_int_equal(scn_parse_duration("5", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "duration '5' has no unit (use ns, us, ms, s, m or h)");
    assert_int_equal(scn_parse_duration("5MB", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "unknown duration unit 'MB' in '5MB' (use ns, us, ms, s, m or h)");
    assert_int_equal(scn_parse_size("5s", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "unknown size unit 's' in '5s' (use B, KB, MB, GB, TB, KiB, MiB, "
                             "GiB or TiB)");
    assert_int_equal(scn_parse_size("1.5B", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "size '1.5B' is not a whole number of B");
    assert_int_equal(scn_parse_count("1.5", &v, err, sizeof(err)), -EINVAL);
    assert_int_equal(scn_parse_count("-3", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "'-3' is not a count (a number with a unit: k, M or G, or none)");
    assert_int_equal(scn_parse_count("10m", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "unknown count unit 'm' in '10m' (use k, M or G, or none)");
    assert_int_equal(scn_parse_count_rate("500k", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "rate '500k' has no '/s' (a value per second, e.g. 500k/s)");
    assert_int_equal(scn_parse_size_rate("20MB/min", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "bandwidth '20MB/min' must be per second ('/s', e.g. 200MB/s)");
    assert_int_equal(scn_parse_probability("nan", &p, err, sizeof(err)), -EINVAL);
    assert_int_equal(scn_parse_probability("1.01", &p, err, sizeof(err)), -ERANGE);
    assert_int_equal(scn_parse_probability("0.5x", &p, err, sizeof(err)), -EINVAL);
}

static void test_format(void **state)
{
    char b[64];
    (void)state;
    scn_format_duration(1500 * NS_MS, b, sizeof(b));
    assert_string_equal(b, "1500ms");
    scn_format_duration(120 * NS_S, b, sizeof(b));
    assert_string_equal(b, "2m");
    scn_format_duration(0, b, sizeof(b));
    assert_string_equal(b, "0s");
    scn_format_duration(UINT64_MAX, b, sizeof(b));
    assert_string_equal(b, "18446744073709551615ns");
    scn_format_size(4096, b, sizeof(b));
    assert_string_equal(b, "4KiB");
    scn_format_size(64000000, b, sizeof(b));
    assert_string_equal(b, "64MB");
    scn_format_size(1000, b, sizeof(b));
    assert_string_equal(b, "1KB");
    scn_format_size(1023, b, sizeof(b));
    assert_string_equal(b, "1023B");
    scn_format_count(2000000, b, sizeof(b));
    assert_string_equal(b, "2M");
    scn_format_count(1234, b, sizeof(b));
    assert_string_equal(b, "1234");
    scn_format_double(0.05, b, sizeof(b));
    assert_string_equal(b, "0.05");
    scn_format_double(1.0 / 3.0, b, sizeof(b));
    assert_true(strtod(b, NULL) == 1.0 / 3.0);
}

static void test_catalogues(void **state)
{
    size_t n;
    const struct scn_config_key *keys = scn_config_keys(&n);
    union scn_value v;
    char err[256];
    (void)state;
    assert_true(n >= 25);
    /* Every default in the table reads back under its own type. */
    for (size_t i = 0; i < n; i++) {
        struct scn_scenario empty = {0};
        int rc = scn_config_get(&empty, keys[i].name, &v);
        if (keys[i].flink_default)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, -ENODATA);
    }
    assert_non_null(scn_config_lookup("jobmanager.execution.failover-strategy"));
    assert_null(scn_config_lookup("jobmanager.execution.failover"));
    assert_true(scn_failpoint_known("dfs/fsync"));
    assert_true(scn_failpoint_known("task/process"));
    assert_false(scn_failpoint_known("dfs/fsynk"));
    assert_string_equal(scn_metric_name(SCN_METRIC_DFS_PEAK_CONCURRENCY), "dfs peak-concurrency");
    assert_int_equal(scn_metric_unit(SCN_METRIC_PROBE_P99), SCN_UNIT_DURATION);
    assert_true(scn_metric_per_job(SCN_METRIC_RECOVERY));
    (void)err;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sketch),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_equal_detects_change),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_every_error_reported),
        cmocka_unit_test(test_warning_keeps_scenario),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_catalogues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
