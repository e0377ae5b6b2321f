/*
 * test_trace_header.c - a trace's first line (scenarios/replay.c) read back:
 * the header `run --world sim --trace` writes rebuilds the scenario, mode and
 * seed; each way a header can be wrong - not JSON, a real-world trace, no
 * mode, scenario text edited under its hash, network parameters this version
 * cannot rebuild, a scenario that no longer parses - is refused with
 * FILE:1 and what is wrong; a trace from another version is only noted; an
 * empty file is not a trace.  No run is started.
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
#include <jansson.h>
#include <xxhash.h>

#include "scenarios/replay.h"
#include "scenarios/run.h"
#include "scenarios/scn.h"
#include "scn_env.h"

static const char small[] =
    "cluster taskmanagers=2 slots=2\n"
    "job a source=sequence(records=1k) | keyby | count | sink parallelism=2\n"
    "expect all jobs finished exactly-once\n";

/* The header a sim run of SMALL with seed 7 in per-job mode writes. */
static json_t *good_header(void)
{
    struct scn_scenario *s = scn_env_parse("small.scn", small);
    struct rt_world_config wc = { .kind = RT_WORLD_SIM, .seed = 7, .max_nodes = SCN_RUN_MAX_NODES,
                                  .link_latency_ns = 100000, .link_jitter_ns = 20000 };
    char *line = scn_trace_header(s, SCN_MODE_PER_JOB, &wc);
    json_t *h = json_loads(line, 0, NULL);
    assert_non_null(h);
    free(line);
    scn_scenario_free(s);
    return h;
}

/* scn_trace_parse_header on H (consumed); the error in ERR. */
static int parse(json_t *h, struct scn_scenario **s, enum scn_mode *mode, uint64_t *seed,
                 char *err, size_t errlen)
{
    char *line = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    int rc = scn_trace_parse_header("t.trace", line, s, mode, seed, err, errlen);
    free(line);
    return rc;
}

static void set_text(json_t *h, const char *text, bool rehash)
{
    json_object_set_new(h, "scenario", json_string(text));
    if (rehash) {
        char hash[17];
        snprintf(hash, sizeof(hash), "%016llx",
                 (unsigned long long)XXH64(text, strlen(text), 0));
        json_object_set_new(h, "scenario_xxh64", json_string(hash));
    }
}

static void test_header_round_trip(void **st)
{
    (void)st;
    struct scn_scenario *s = NULL, *want = scn_env_parse("small.scn", small);
    enum scn_mode mode;
    uint64_t seed = 0;
    char err[512] = "";
    json_t *h = good_header();
    json_object_set_new(h, "version", json_string("0.0.0-elsewhere"));  /* only noted */
    assert_int_equal(parse(h, &s, &mode, &seed, err, sizeof(err)), 0);
    assert_int_equal(mode, SCN_MODE_PER_JOB);
    assert_int_equal(seed, 7);
    assert_true(scn_scenario_equal(s, want));
    scn_scenario_free(s);
    scn_scenario_free(want);
}

static void refused(json_t *h, const char *want)
{
    struct scn_scenario *s = (struct scn_scenario *)1;
    enum scn_mode mode;
    uint64_t seed;
    char err[512] = "";
    assert_int_equal(parse(h, &s, &mode, &seed, err, sizeof(err)), -EINVAL);
    if (strstr(err, want) == NULL)
        fail_msg("want '%s' in '%s'", want, err);
    assert_true(strncmp(err, "t.trace:1: ", 11) == 0);
    assert_true(s == NULL || s == (struct scn_scenario *)1);
}

static void test_header_refused(void **st)
{
    (void)st;
    refused(json_string("not an object"), "not a minicluster trace");
    json_t *h = good_header();
    json_object_set_new(h, "world", json_string("real"));
    refused(h, "a trace of the real world: only sim runs replay");
    h = good_header();
    json_object_del(h, "mode");
    refused(h, "the header lacks the scenario or the mode");
    h = good_header();
    json_object_set_new(h, "mode", json_string("cluster"));
    refused(h, "the header lacks the scenario or the mode");
    h = good_header();
    set_text(h, "cluster taskmanagers=3 slots=2\n"
                "job a source=sequence(records=1k) | sink\n", false);
    refused(h, "the scenario text does not match its hash");
    h = good_header();
    json_object_set_new(h, "link_jitter_ns", json_integer(1));
    refused(h, "network parameters are not ones this version can rebuild");
    h = good_header();
    json_object_set_new(h, "max_nodes", json_integer(RT_DEFAULT_MAX_NODES));
    refused(h, "network parameters are not ones this version can rebuild");
    h = good_header();
    set_text(h, "job a source=sequence(records=1k) | mapp | sink\n", true);
    refused(h, "the recorded scenario (small.scn) no longer parses: unknown operator 'mapp'");
}

/* A header of a run that broke its ties with the wall clock says so. */
static void test_header_nondeterministic(void **st)
{
    (void)st;
    struct scn_scenario *s = scn_env_parse("small.scn", small);
    struct rt_world_config wc = { .kind = RT_WORLD_SIM, .seed = 1, .max_nodes = SCN_RUN_MAX_NODES,
                                  .link_latency_ns = 100000, .link_jitter_ns = 20000,
                                  .test_nondeterministic = true };
    char *line = scn_trace_header(s, SCN_MODE_SESSION, &wc);
    json_t *h = json_loads(line, 0, NULL);
    assert_true(json_is_true(json_object_get(h, "test_nondeterministic")));
    json_decref(h);
    free(line);
    scn_scenario_free(s);
}

static void test_replay_empty_file(void **st)
{
    (void)st;
    const char *tmp = getenv("TMPDIR");
    char buf[512];
    snprintf(buf, sizeof(buf), "%s/trace-header-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
    struct scn_replay_result res;
    char err[512] = "";
    assert_int_equal(scn_replay(buf, true, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty file, not a minicluster trace"));
    scn_replay_result_free(&res);
    unlink(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_header_refused),
        cmocka_unit_test(test_header_nondeterministic),
        cmocka_unit_test(test_replay_empty_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
