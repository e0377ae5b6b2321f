/*
 * bench_modes_client.c - the client's share of `minicluster bench modes`:
 * one small application with artifacts run by the scenario runner (scn_run,
 * real world) in each deployment mode; from each run object its "client"
 * ({cpu_ms, bytes_downloaded, bytes_uploaded}: what the client node did -
 * download the artifacts, main(), upload blobs; in application mode main()
 * runs on the JobManager and the client does nothing), its "clusters"
 * (spin-up and teardown medians) and wall_ms.  The scenario's expectation
 * (every job exactly once) must hold, else the bench fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_modes.h"
#include "scenarios/run.h"

static const char app_scenario[] =
    "cluster  taskmanagers=2 slots=2 provider=standalone ha=off\n"
    "deadline 60s\n"
    "seed     1\n"
    "job a    source=sequence(records=20k, keys=100) | keyby | sum | sink parallelism=2\n"
    "job b    source=sequence(records=20k, keys=100) | keyby | count | sink parallelism=2\n"
    "application shop  jobs=a,b execute=async artifacts=32MB main-cpu=50ms\n"
    "expect all jobs finished exactly-once\n";

static int one_mode(const struct scn_scenario *s, enum scn_mode m, json_t *into)
{
    struct scn_run_opts o = { .mode = m, .world = RT_WORLD_REAL, .quiet = true };
    json_t *run = NULL;
    char err[256];
    int rc = scn_run(s, &o, &run, err, sizeof(err));
    if (rc != SCN_RUN_OK) {
        fprintf(stderr, "bench modes: client scenario in %s mode %s: %s\n", scn_mode_name(m),
                rc < 0 ? "failed" : "broke an expectation", rc < 0 ? err : "");
        if (run)
            json_dumpf(json_object_get(run, "expectations"), stderr, JSON_INDENT(2));
        json_decref(run);
        return -EPROTO;
    }
    json_t *c = json_deep_copy(json_object_get(run, "client"));
    json_t *cl = json_object_get(run, "clusters");
    json_object_set(c, "spinup_ms_median", json_object_get(cl, "spinup_ms_median"));
    json_object_set(c, "teardown_ms_median", json_object_get(cl, "teardown_ms_median"));
    json_object_set(c, "run_wall_ms", json_object_get(run, "wall_ms"));
    const char *key = m == SCN_MODE_SESSION ? "session" :
                      m == SCN_MODE_PER_JOB ? "per_job" : "application";
    fprintf(stderr, "bench modes: client in %-11s cpu %.1f ms, down %lld B, up %lld B\n", key,
            json_number_value(json_object_get(c, "cpu_ms")),
            (long long)json_integer_value(json_object_get(c, "bytes_downloaded")),
            (long long)json_integer_value(json_object_get(c, "bytes_uploaded")));
    json_object_set_new(into, key, c);
    json_decref(run);
    return 0;
}

int bench_modes_client(json_t *into)
{
    struct scn_scenario *s = NULL;
    struct scn_diags d = { 0 };
    if (scn_parse_text("bench-modes.scn", app_scenario, strlen(app_scenario), &s, &d) < 0) {
        fprintf(stderr, "bench modes: internal scenario does not parse:\n");
        scn_diags_print(stderr, &d);
        scn_diags_free(&d);
        return -EPROTO;
    }
    scn_diags_free(&d);
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB,
                                           SCN_MODE_APPLICATION };
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++)
        rc = one_mode(s, modes[i], into);
    scn_scenario_free(s);
    return rc;
}
