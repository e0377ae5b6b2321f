/*
 * report_sample.c - builds the sample compare object of report_sample.h.
 * Each mode runs the same three jobs with the same faults; what differs is
 * what the deployment mode makes a fault cost: in session mode one killed
 * TaskManager takes down two jobs and their restores storm the shared
 * filesystem; per-job pays cluster spin-up instead; application mode sits
 * between.  The series are computed from those figures, not random, so the
 * charts agree with the table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_sample.h"

/* What distinguishes one mode in the sample. */
struct sample_mode {
    const char *name;
    int jobmanagers, clusters, restarted;
    double start_ms, detect, restart, restore, storm_mb_s, storm_streams, probe_peak;
    double spinup, teardown, client_cpu;
    long long downloaded, uploaded, peak_mem, recovery_read;
    int lingering;
};

static const struct sample_mode modes[] = {
    {"session", 1, 1, 2, 120, 540, 210, 820, 190, 8, 420, 850, 120, 60,
     0, 126000000, 1300000000LL, 201326592, 0},
    {"per-job", 3, 3, 1, 980, 520, 260, 410, 70, 3, 35, 910, 140, 410,
     377000000, 378000000, 1900000000LL, 67108864, 2},
    {"application", 2, 2, 2, 900, 530, 230, 700, 150, 6, 180, 880, 130, 20,
     0, 0, 1600000000LL, 134217728, 0},
};

static const char *const job_names[] = {"orders", "clicks", "audit"};
static const char *const job_apps[] = {"shop", "shop", "audit"};

#define FAULT_AT 1500.0
#define END_MS 5200.0

static json_t *fault_windows(void)
{
    return json_pack("[{s:f,s:f,s:s,s:s},{s:f,s:f,s:s,s:s},{s:f,s:f,s:s,s:s}]",
                     "at_ms", FAULT_AT, "until_ms", FAULT_AT, "action", "kill",
                     "target", "taskmanager-of orders[0]",
                     "at_ms", 2600.0, "until_ms", 3200.0, "action", "pause",
                     "target", "taskmanager-of clicks[1]",
                     "at_ms", 3800.0, "until_ms", 4400.0, "action", "fail",
                     "target", "dfs/read probability=0.05");
}

static json_t *timeline(const struct sample_mode *m)
{
    json_t *jobs = json_array();
    size_t j;

    for (j = 0; j < 3; j++) {
        double t0 = m->start_ms + 40.0 * (double)j;
        double end = END_MS - 300.0 * (double)j;
        json_t *ev = json_pack("[{s:f,s:s},{s:f,s:s}]", "t_ms", t0, "state", "CREATED",
                               "t_ms", t0 + 90, "state", "RUNNING");

        /* The jobs with a subtask on the killed TaskManager restart. */
        if ((int)j < m->restarted) {
            double d = FAULT_AT + m->detect + 15.0 * (double)j;

            json_array_append_new(ev, json_pack("{s:f,s:s}", "t_ms", d, "state", "FAILING"));
            json_array_append_new(ev, json_pack("{s:f,s:s}", "t_ms", d + 30, "state",
                                                "RESTARTING"));
            json_array_append_new(ev, json_pack("{s:f,s:s}", "t_ms",
                                                d + m->restart + m->restore, "state",
                                                "RUNNING"));
        }
        json_array_append_new(ev, json_pack("{s:f,s:s}", "t_ms", end, "state",
                                            j == 2 && m->restarted == 1 ? "CANCELED" : "FINISHED"));
        json_array_append_new(jobs, json_pack("{s:s,s:s,s:o}", "name", job_names[j],
                                              "application", job_apps[j], "events", ev));
    }
    return json_pack("{s:o,s:o}", "jobs", jobs, "faults", fault_windows());
}

static json_t *dfs_series(const struct sample_mode *m)
{
    json_t *pts = json_array();
    double t, restore0 = FAULT_AT + m->detect + m->restart;

    for (t = m->start_ms - fmod(m->start_ms, 100); t < END_MS; t += 100) {
        /* Checkpoints write every 200 ms; the restore reads at storm rate. */
        long long wr = fmod(t, 200) < 1 ? 1800000 : 300000;
        long long rd = 40000;
        long long streams = 2;

        if (t >= restore0 && t < restore0 + m->restore) {
            rd = (long long)(m->storm_mb_s * 1e5);
            streams = (long long)m->storm_streams;
        } else if (t >= 3800 && t < 4400) {
            rd = 90000;
            streams = 3;
        }
        json_array_append_new(pts, json_pack("{s:f,s:I,s:I,s:I,s:I}", "t_ms", t,
                                             "bytes_read", rd, "bytes_written", wr, "ops",
                                             (json_int_t)(12 + rd / 400000), "inflight_peak",
                                             streams));
    }
    return json_pack("{s:f,s:o}", "bucket_ms", 100.0, "points", pts);
}

static json_t *probe_series(const struct sample_mode *m)
{
    json_t *pts = json_array();
    double t, restore0 = FAULT_AT + m->detect + m->restart;

    for (t = 0; t < END_MS; t += 20) {
        /* Baseline around 2 ms with a deterministic wobble; recovery adds a
         * hump that peaks at probe_peak mid-restore. */
        double lat = 1.8 + 0.5 * sin(t / 37.0) * sin(t / 13.0);

        if (t >= restore0 && t < restore0 + m->restore)
            lat += m->probe_peak * sin(M_PI * (t - restore0) / m->restore);
        if (t >= 3800 && t < 4400)
            lat += 6 + 4 * sin(t / 9.0);
        json_array_append_new(pts, json_pack("{s:f,s:f}", "t_ms", t, "latency_ms", lat));
    }
    return json_pack("{s:o}", "points", pts);
}

static const struct sample_mode *find_mode(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof modes / sizeof *modes; i++)
        if (strcmp(modes[i].name, name) == 0)
            return &modes[i];
    abort();
}

static json_t *run_of(const char *scenario, const struct sample_mode *m)
{
    json_t *jobs = json_array(), *jms = json_array(), *run;
    double total = m->detect + m->restart + m->restore;
    int j;

    for (j = 0; j < 3; j++)
        json_array_append_new(jobs, json_pack(
            "{s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:b,s:o}", "name", job_names[j],
            "application", job_apps[j], "state",
            j == 2 && m->restarted == 1 ? "CANCELED" : "FINISHED", "restarts",
            j < m->restarted, "records_in", (json_int_t)(j == 0 ? 2000000 : 1000000),
            "records_out", (json_int_t)(j == 0 ? 2000000 : 1000000), "lost", (json_int_t)0,
            "duplicated", (json_int_t)(j == 1 && m->restarted == 2 ? 12 : 0), "exactly_once",
            !(j == 1 && m->restarted == 2 && m->jobmanagers == 1), "recovery_ms",
            j < m->restarted ? json_real(total + 15 * j) : json_null()));
    for (j = 0; j < m->jobmanagers; j++)
        json_array_append_new(jms, json_pack("{s:s,s:i,s:I,s:f}", "name",
                                             j == 0 ? "jobmanager-0" : "jobmanager-1",
                                             "jobs", m->jobmanagers == 1 ? 3 : 1, "messages",
                                             (json_int_t)(m->jobmanagers == 1 ? 48210
                                                                              : 17400 - 900 * j),
                                             "busy_ms", m->jobmanagers == 1 ? 412.5
                                             : (m->jobmanagers == 2 ? 190.0 : 151.0) - 9 * j));
    run = json_pack("{s:s,s:s,s:s,s:I,s:s,s:b,s:f,s:f}", "scenario", scenario, "mode",
                    m->name, "world", "real", "seed", (json_int_t)42, "trace_hash",
                    "9f2c41d07ab3e615", "ok", m->jobmanagers != 1, "wall_ms",
                    END_MS + m->spinup, "sim_ms", 0.0);
    json_object_set_new(run, "expectations", json_pack(
        "[{s:s,s:b,s:s},{s:s,s:b,s:s}]", "text", "all jobs finished exactly-once", "ok",
        m->jobmanagers != 1, "detail", m->jobmanagers != 1 ? "" : "clicks: 12 duplicated",
        "text", "recovery orders < 3s", "ok", 1, "detail", ""));
    json_object_set_new(run, "jobs", jobs);
    json_object_set_new(run, "recovery", json_pack(
        "{s:f,s:f,s:f,s:f,s:i}", "detect_ms", m->detect, "restart_ms", m->restart,
        "restore_ms", m->restore, "total_ms", total, "jobs_restarted", m->restarted));
    json_object_set_new(run, "dfs", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bytes_read",
        (json_int_t)(m->storm_mb_s * m->restore * 1000 + 9e6), "bytes_written",
        (json_int_t)31000000, "ops", (json_int_t)2400, "files_created", (json_int_t)310,
        "fsyncs", (json_int_t)150, "peak_concurrency", (json_int_t)m->storm_streams,
        "recovery_bytes_read", (json_int_t)(m->storm_mb_s * m->restore * 1000),
        "recovery_peak_concurrency", (json_int_t)m->storm_streams));
    json_object_set_new(run, "probe", json_pack(
        "{s:i,s:f,s:f,s:f,s:f}", "samples", 260, "p50_ms", 1.9 + m->probe_peak / 400,
        "p99_ms", m->probe_peak * 0.92, "max_ms", m->probe_peak + 2, "baseline_p99_ms", 2.4));
    json_object_set_new(run, "jobmanagers", jms);
    json_object_set_new(run, "client", json_pack(
        "{s:f,s:I,s:I}", "cpu_ms", m->client_cpu, "bytes_downloaded",
        (json_int_t)m->downloaded, "bytes_uploaded", (json_int_t)m->uploaded));
    json_object_set_new(run, "clusters", json_pack(
        "{s:i,s:f,s:f,s:i}", "started", m->clusters, "spinup_ms_median", m->spinup,
        "teardown_ms_median", m->teardown, "lingering_files", m->lingering));
    json_object_set_new(run, "memory", json_pack(
        "{s:I,s:[I,I,I,I]}", "peak_bytes", (json_int_t)m->peak_mem,
        "taskmanager_peak_bytes", (json_int_t)(m->peak_mem / 5),
        (json_int_t)(m->peak_mem / 6), (json_int_t)(m->peak_mem / 6),
        (json_int_t)(m->peak_mem / 7)));
    json_object_set_new(run, "faults", json_pack(
        "[{s:f,s:s,s:s,s:s}]", "at_ms", FAULT_AT, "action", "kill", "target",
        "taskmanager-of orders[0]", "detail", "taskmanager-1 (silent)"));
    json_object_set_new(run, "timeline", timeline(m));
    json_object_set_new(run, "dfs_series", dfs_series(m));
    json_object_set_new(run, "probe_series", probe_series(m));
    return run;
}

json_t *report_sample_run(const char *mode)
{
    return run_of("default", find_mode(mode));
}

json_t *report_sample_compare(const char *scenario, int flags)
{
    json_t *all = json_object();
    size_t i;

    for (i = 0; i < sizeof modes / sizeof *modes; i++) {
        json_t *run;

        if ((flags & REPORT_SAMPLE_NO_APPLICATION) && strcmp(modes[i].name, "application") == 0)
            continue;
        run = run_of(scenario, &modes[i]);
        if ((flags & REPORT_SAMPLE_EMPTY_DFS) && strcmp(modes[i].name, "per-job") == 0)
            json_array_clear(json_object_get(json_object_get(run, "dfs_series"), "points"));
        json_object_set_new(all, modes[i].name, run);
    }
    return json_pack("{s:s,s:I,s:s,s:o}", "scenario", scenario, "seed", (json_int_t)42,
                     "world", "real", "modes", all);
}
