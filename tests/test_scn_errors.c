/*
 * test_scn_errors.c - more of the scenario language's error paths, each with
 * its exact message at its exact line:column: settings out of range or given
 * twice, values that are not what the key takes, storage profiles that
 * contradict each other, malformed faults and triggers, pipelines in the
 * wrong order, application paths that leave the run directory.  Every text
 * gives exactly one diagnostic.  (test_scn_parse.c has the first set.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/scn.h"

#define J "job a source=sequence(records=10) | sink parallelism=2\n"

struct bad {
    const char *text;
    const char *want;       /* LINE:COL: SEVERITY: MESSAGE of the one diagnostic */
};

static const struct bad bad_cases[] = {
    {J "cluster slots=0\n", "2:9: error: slots must be at least 1"},
    {J "cluster taskmanagers=0\n", "2:9: error: a standalone cluster needs at least 1 taskmanager"},
    {J "cluster jobmanagers=1\n", "2:9: error: 'jobmanagers' (standby JobManagers) needs ha=on"},
    {J "cluster taskmanagers=99999999999\n",
     "2:22: error: 99999999999 is too large (at most 4294967295)"},
    {J "cluster taskmanagers \"x\"\n",
     "2:22: error: expected '=' after 'taskmanagers', found string \"x\""},
    {J "cluster slots\n", "2:14: error: expected '=' after 'slots', found end of statement"},
    {J "cluster provider=cloud\n",
     "2:18: error: 'cloud' is not a value of 'provider' (use standalone or active)"},
    {J "cluster ha=maybe\n", "2:12: error: 'maybe' is not a value of 'ha' (use on or off)"},
    {J "cluster quota=3\n",
     "2:9: error: 'quota' needs provider=active (or target=kubernetes or yarn)"},
    {J "cluster taskmanagers=2 taskmanagers=3\n",
     "2:24: error: 'taskmanagers' is given twice (first at line 2)"},
    {J "config\n", "2:7: error: expected KEY=VALUE, found end of statement"},
    {J "config heartbeat.interval\n",
     "2:26: error: expected '=' after the key, found end of statement"},
    {J "config heartbeat.interval=\n", "2:27: error: expected a value, found end of statement"},
    {J "config \"x\"=1\n",
     "2:8: error: expected a configuration key (KEY=VALUE), found string \"x\""},
    {J "dfs profile=ceph\n", "2:13: error: unknown storage profile 'ceph' (use s3, hdfs or nfs)"},
    {J "dfs latency-max=5ms\n",
     "2:5: error: 'latency-max' needs a storage profile (profile=s3, hdfs or nfs)"},
    {J "dfs profile=s3 latency=50ms latency-max=10ms\n",
     "2:29: error: latency-max is below latency: the first byte cannot come sooner than "
     "the least latency"},
    {J "dfs profile=nfs write-rate=10/s bandwidth=1MB/s ops=10/s\n",
     "2:17: error: 'write-rate' is a rate per partition, and nfs has one server: use ops="},
    {J "dfs profile=nfs\n",
     "2:1: error: profile=nfs needs bandwidth= and ops= (one server's; no published figure "
     "fits every server, see docs/storage.md)"},
    {J "dfs bandwidth=fast\n",
     "2:15: error: bandwidth 'fast' has no '/s' (a value per second, e.g. 200MB/s)"},
    {J "probe every=0s\n", "2:7: error: probe needs every= more than 0s (e.g. every=10ms)"},
    {J "probe every=10ms slo=0s\n",
     "2:18: error: probe slo= must be more than 0s (e.g. slo=100ms)"},
    {J "probe\n", "2:1: error: probe needs every= more than 0s (e.g. every=10ms)"},
    {J "at 1s fail task a[0] probability=x\n",
     "2:34: error: 'x' is not a probability (a number from 0 to 1)"},
    {J "at 1s fail task a[0] probability\n",
     "2:33: error: expected '=' after 'probability', found end of statement"},
    {J "at 1s\n", "2:6: error: expected an action, found end of statement"},
    {J "zzzz bar\n", "2:1: error: unknown statement 'zzzz'"},
    {J "= x\n",
     "2:1: error: expected a statement (cluster, config, job, at, expect, ...), found '='"},
    {J "at 1s kill client for 0s\n", "2:23: error: 'kill' takes no duration"},
    {J "config execution.checkpointing.interval=1s\nwhen checkpoint a 0 done kill client\n",
     "3:19: error: checkpoints are numbered from 1"},
    {J "at 1s fail dfs/read nth=0\n", "2:24: error: nth counts from 1"},
    {J "job b source=sequence(records=10) | map(x=1) | sink\n",
     "2:37: error: 'map' takes no arguments"},
    {J "job b source=sequence(records=10, records=5) | sink\n",
     "2:35: error: 'records' is given twice"},
    {J "job b source=sequence(records=10) | fail(at=0) | sink\n",
     "2:37: error: 'fail' counts records from 1 (at=1 is the first)"},
    {J "job b source=sequence(records=10) | fail | sink\n",
     "2:37: error: 'fail' needs either at=RECORD or probability=P"},
    {J "job b source=sequence(records=10) | fail(at=3, probability=0.5) | sink\n",
     "2:37: error: 'fail' needs either at=RECORD or probability=P"},
    {J "job b source=sequence(records=10) | sink | map\n",
     "2:37: error: 'sink' must be the last operator"},
    {J "job b source=sequence(records=10) | map\n",
     "2:37: error: the pipeline of job 'b' must end with '| sink'"},
    {J "job b source=sequence(records=10) | sink max-parallelism=1 parallelism=4\n",
     "2:42: error: max-parallelism must be from parallelism (4) to 32768"},
    {J "job b source=sequence(records=10) | sink parallelism=0\n",
     "2:42: error: parallelism must be from 1 to 32768"},
    {J "job b sequence\n", "2:7: error: expected 'source=' after the job name, found 'sequence'"},
    {J "job b source sequence\n", "2:14: error: expected '=' after 'source', found 'sequence'"},
    {J "job 9b source=sequence(records=10) | sink\n",
     "2:5: error: invalid job name '9b' (letters, digits, '-' and '_', starting with a letter)"},
    {J "job b source=sequence(records=10, rate=5) | sink\n",
     "2:40: error: rate '5' has no '/s' (a value per second, e.g. 500k/s)"},
    {J "application app jobs=a cached-file=/etc/passwd\n",
     "2:36: error: path '/etc/passwd' leaves the run directory (use a relative path without '..')"},
    {J "application app jobs=a cached-file=x on tape\n",
     "2:41: error: 'tape' is not a place for a cached file (use client or dfs)"},
    {J "application app jobs=a cached-file=(\n", "2:36: error: expected a path, found '('"},
    {J "application app jobs=a execute=later\n",
     "2:32: error: 'later' is not a value of 'execute' (use blocking or async)"},
    {J "application app jobs=a jobs=a\n", "2:24: error: 'jobs' is given twice (first at line 2)"},
    {J "at 1s fail task a[0]\n", "2:7: error: 'fail task' needs 'at record N' or 'probability=P'"},
    {J "at 1s fail task a\n",
     "2:18: error: expected '[' and a subtask index after the job name, found end of statement"},
    {J "at 1s fail task a[x]\n",
     "2:19: error: 'x' is not a count (a number with a unit: k, M or G, or none)"},
    {J "at 1s fail task a[0\n", "2:20: error: expected ']', found end of statement"},
    {J "at 1s exhaust memory of client\n",
     "2:25: error: 'exhaust memory' needs a TaskManager (taskmanager-of JOB[i] or taskmanager N)"},
    {J "at 1s exhaust memory\n", "2:21: error: expected 'of', found end of statement"},
    {J "at 1s add 2 nodes\n", "2:13: error: expected 'taskmanagers', found 'nodes'"},
    {J "at 1s crash leader\n", "2:13: error: expected 'jobmanager-leader', found 'leader'"},
    {J "at 1s partition client to taskmanager 1\n", "2:24: error: expected 'from', found 'to'"},
    {J "at 1s delay messages client <-> taskmanager 0\n",
     "2:22: error: expected 'on', found 'client'"},
    {J "at 1s slow dfs/read 5ms\n", "2:21: error: expected 'by', found '5ms'"},
    {J "at 1s fail task a[0] at 5\n", "2:25: error: expected 'record', found '5'"},
    {J "when restore a begun kill client\n", "2:16: error: expected 'started', found 'begun'"},
    {J "when taskmanager 1 kill client\n", "2:18: error: expected 'registered', found '1'"},
    {J "when job a finished repeat x kill client\n",
     "2:28: error: 'x' is not a count (a number with a unit: k, M or G, or none)"},
};

static void test_more_bad_inputs(void **state)
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

/* A directory is not a scenario: -EISDIR and a message naming it. */
static void test_parse_directory(void **state)
{
    struct scn_diags d;
    struct scn_scenario *s = (struct scn_scenario *)1;
    (void)state;
    scn_diags_init(&d);
    assert_int_equal(scn_parse_file(".", &s, &d), -EISDIR);
    assert_null(s);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].file, ".");
    assert_non_null(strstr(d.items[0].msg, "cannot read the scenario"));
    scn_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_more_bad_inputs),
        cmocka_unit_test(test_parse_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
