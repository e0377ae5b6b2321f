/*
 * bench_scale.c - `bench scale`: the production storm at the size where it
 * happens, compared across the three modes in the sim world.
 *
 * The scenario is scenarios/library/production-storm.scn (built into the
 * binary from that file): 80 jobs x 4 subtasks with 5 GB of declared state
 * each, a session cluster of 44 TaskManagers x 8 slots, one silent
 * TaskManager kill.  Each mode runs once, one after the other in this
 * process, as `compare` runs them.  Figures: the wall time of the three
 * runs together, the process's peak RSS (getrusage), the simulated seconds
 * and the events the simulator delivered (the run objects' `events`), and
 * whether every job of every mode finished exactly once.
 *
 * The floor, measured in the same process right after: the event loop's
 * rate for the same number of events with handlers that do nothing but pass
 * the event on - tokens circulating through a ring of one actor per node,
 * 64 nodes, 256 tokens in flight, every delivery a handler that sends one
 * message.  ratio_to_floor = events_per_s / floor_events_per_s: the share
 * of the simulator's bare speed the scenario keeps (the rest is the
 * engine's and the cluster's own work).  Wall times depend on the machine's
 * load; the 1-minute load average is reported with them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/bench.h"
#include "runtime/rt_mem.h"
#include "scenarios/run.h"

extern const char bench_production_storm_scn[];

/* ---- the scenario in the three modes ------------------------------------------- */

struct mode_run {
    const char *name;
    enum scn_mode mode;
    double wall_s, sim_s;
    uint64_t events;
    bool exactly_once, ok;
    json_t *summary;        /* the figures the comparison is about */
};

static bool all_exactly_once(const json_t *run)
{
    const json_t *jobs = json_object_get(run, "jobs");
    if (!json_array_size(jobs))
        return false;
    for (size_t j = 0; j < json_array_size(jobs); j++)
        if (!json_is_true(json_object_get(json_array_get(jobs, j), "exactly_once")))
            return false;
    return true;
}

static int run_mode(const struct scn_scenario *s, struct mode_run *m)
{
    struct scn_run_opts o = { .mode = m->mode, .world = RT_WORLD_SIM, .quiet = true };
    json_t *run = NULL;
    char err[256] = "";
    double t0 = bench_now_ms();
    int rc = scn_run(s, &o, &run, err, sizeof(err));
    m->wall_s = (bench_now_ms() - t0) / 1e3;
    if (rc < 0 || !run) {
        fprintf(stderr, "bench scale: %s: %s\n", m->name, err);
        return rc < 0 ? rc : -EPROTO;
    }
    m->ok = rc == SCN_RUN_OK;
    m->exactly_once = all_exactly_once(run);
    m->sim_s = json_number_value(json_object_get(run, "sim_ms")) / 1e3;
    m->events = (uint64_t)json_integer_value(json_object_get(run, "events"));
    const json_t *rec = json_object_get(run, "recovery"), *dfs = json_object_get(run, "dfs");
    m->summary = json_pack("{s:f, s:f, s:I, s:b, s:b, s:O, s:O, s:O, s:O, s:O}",
                           "wall_s", m->wall_s, "simulated_s", m->sim_s,
                           "events", (json_int_t)m->events, "ok", m->ok,
                           "exactly_once", m->exactly_once,
                           "jobs_restarted", json_object_get(rec, "jobs_restarted"),
                           "restore_ms", json_object_get(rec, "restore_ms"),
                           "recovery_bytes_read", json_object_get(dfs, "recovery_bytes_read"),
                           "logical_bytes_read", json_object_get(dfs, "logical_bytes_read"),
                           "stored_bytes_peak", json_object_get(dfs, "stored_bytes_peak"));
    if (!m->ok) {
        char *dump = json_dumps(json_object_get(run, "expectations"), 0);
        fprintf(stderr, "bench scale: %s: expectations failed: %s\n", m->name, dump ? dump : "?");
        free(dump);
    }
    json_decref(run);
    return 0;
}

/* ---- the floor: the event loop with handlers that only pass events on -------- */

#define FLOOR_NODES 64
#define FLOOR_TOKENS 256
#define FLOOR_MSG (RT_MSG_USER + 700)

struct floor {
    struct rt_world *w;
    struct rt_node *n[FLOOR_NODES];
    _Atomic rt_addr addr[FLOOR_NODES];
    atomic_int spawned;
    uint64_t target, delivered;     /* the sim world runs on this thread */
};

struct floor_actor {
    struct floor *f;
    uint32_t next;                  /* index of the next node in the ring */
};

static void floor_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct floor_actor *fa = rt_actor_state(a);
    struct floor *f = fa->f;
    if (m->type != FLOOR_MSG)
        return;
    if (++f->delivered < f->target)
        rt_send(a, atomic_load(&f->addr[fa->next]), FLOOR_MSG, m->data, m->len);
}

static const struct rt_actor_ops floor_ops = { "floor", floor_msg, NULL };

struct spawn_arg {
    struct floor *f;
    uint32_t i;
};

static void floor_spawn(struct rt_node *n, void *arg)
{
    struct spawn_arg *sa = arg;
    struct floor_actor *fa = rt_xcalloc(1, sizeof(*fa));
    fa->f = sa->f;
    fa->next = (sa->i + 1) % FLOOR_NODES;
    struct rt_actor *a = rt_actor_spawn(n, &floor_ops, fa);
    atomic_store(&sa->f->addr[sa->i], rt_actor_addr(a));
    atomic_fetch_add(&sa->f->spawned, 1);
}

static bool floor_ready(void *arg)
{
    return atomic_load(&((struct floor *)arg)->spawned) == FLOOR_NODES;
}

static bool floor_done(void *arg)
{
    struct floor *f = arg;
    return f->delivered >= f->target;
}

/* Puts the tokens on the ring (from inside a node, as messages must be). */
static void floor_inject(struct rt_node *n, void *arg)
{
    struct floor *f = arg;
    uint64_t payload = 0;
    for (uint32_t t = 0; t < FLOOR_TOKENS; t++)
        rt_send(NULL, atomic_load(&f->addr[t % FLOOR_NODES]), FLOOR_MSG, &payload,
                sizeof(payload));
}

/* Delivers `events` events through the ring; *rate out (events/s of wall). */
static int floor_rate(uint64_t events, double *rate)
{
    struct floor f = { .target = events };
    struct rt_world_config wc = { .kind = RT_WORLD_SIM, .seed = 1,
                                  .link_latency_ns = 100000, .link_jitter_ns = 20000 };
    int rc = rt_world_new(&wc, &f.w);
    if (rc < 0)
        return rc;
    struct spawn_arg sa[FLOOR_NODES];
    for (uint32_t i = 0; i < FLOOR_NODES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%u", i);
        f.n[i] = rt_node_new(f.w, name);
        if (!f.n[i] || (rc = rt_node_start(f.n[i])) < 0)
            goto out;
        sa[i] = (struct spawn_arg){ &f, i };
        if ((rc = rt_node_call(f.n[i], floor_spawn, &sa[i])) < 0)
            goto out;
    }
    if ((rc = rt_world_wait(f.w, floor_ready, &f, RT_NS_PER_SEC)) < 0)
        goto out;
    double t0 = bench_now_ms();
    if ((rc = rt_node_call(f.n[0], floor_inject, &f)) < 0)
        goto out;
    /* Virtual time: each token hop takes a link latency (~120 us on average). */
    rc = rt_world_wait(f.w, floor_done, &f, (events / FLOOR_TOKENS + 1) * 200000ull + RT_NS_PER_SEC);
    double wall_s = (bench_now_ms() - t0) / 1e3;
    *rate = wall_s > 0 ? (double)f.delivered / wall_s : 0;
out:
    rt_world_free(f.w);
    return rc;
}

/* ---- the bench ---------------------------------------------------------------- */

int bench_scale(json_t **out)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("production-storm.scn", bench_production_storm_scn,
                            strlen(bench_production_storm_scn), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    if (rc < 0)
        return rc;
    uint64_t declared = 0;
    for (size_t j = 0; j < s->n_jobs; j++)
        declared += s->jobs[j].state_bytes;

    struct mode_run modes[3] = {
        { .name = "session", .mode = SCN_MODE_SESSION },
        { .name = "per-job", .mode = SCN_MODE_PER_JOB },
        { .name = "application", .mode = SCN_MODE_APPLICATION },
    };
    double load = bench_loadavg(), wall_s = 0, sim_s = 0;
    uint64_t events = 0;
    bool eo = true;
    json_t *per_mode = json_object();
    for (int i = 0; i < 3; i++) {
        if ((rc = run_mode(s, &modes[i])) < 0)
            break;
        wall_s += modes[i].wall_s;
        sim_s += modes[i].sim_s;
        events += modes[i].events;
        eo &= modes[i].exactly_once;
        json_object_set_new(per_mode, modes[i].name, modes[i].summary);
    }
    uint32_t tms = s->cluster.taskmanagers;
    size_t njobs = s->n_jobs;
    scn_scenario_free(s);
    if (rc < 0) {
        json_decref(per_mode);
        return rc;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    uint64_t peak_rss = (uint64_t)ru.ru_maxrss * 1024;   /* kilobytes on Linux */

    double floor_rate_v = 0;
    if ((rc = floor_rate(events, &floor_rate_v)) < 0) {
        json_decref(per_mode);
        return rc;
    }
    double eps = wall_s > 0 ? (double)events / wall_s : 0;
    *out = json_pack("{s:i, s:i, s:I, s:f, s:I, s:f, s:I, s:f, s:f, s:f, s:b, s:f, s:f, s:o}",
                     "jobs", (int)njobs, "taskmanagers", (int)tms,
                     "declared_state_bytes", (json_int_t)declared, "wall_s", wall_s,
                     "peak_rss_bytes", (json_int_t)peak_rss, "simulated_s", sim_s,
                     "events", (json_int_t)events, "events_per_s", eps,
                     "floor_events_per_s", floor_rate_v,
                     "ratio_to_floor", floor_rate_v > 0 ? eps / floor_rate_v : 0,
                     "exactly_once", eo, "cpu_s", cpu_s, "loadavg", load, "modes", per_mode);
    if (!eo)
        fprintf(stderr, "bench scale: a job was not exactly once (see modes)\n");
    return 0;
}
