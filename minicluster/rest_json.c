/*
 * rest_json.c - Flink's REST API v1 for what minicluster models: the routes
 * and the bodies of the cluster, job and TaskManager endpoints (checkpoint
 * bodies: rest_checkpoints.c).  Shapes follow Flink 1.19's OpenAPI
 * description field for field; what minicluster does not model carries
 * Flink's neutral value, and docs/rest.md lists each such field.
 *
 * Every body is built from what the cluster publishes for outside readers
 * (rest.h): any thread, no locks, no messages - except a cancel, which is
 * one message to the job's runner.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc_config.h"
#include "minicluster/cluster_internal.h"
#include "minicluster/rest_checkpoints.h"
#include "minicluster/rest_internal.h"

#define FLINK_VERSION "1.19.0"          /* the REST API version whose shapes we serve */
#define MAX_SEGMENTS 8

json_t *mc__rest_error(const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return json_pack("{s:[s]}", "errors", text);
}

int64_t mc__rest_ms(const struct mc__rest_view *v, uint64_t world_ns)
{
    return (int64_t)(v->epoch_ms + world_ns / RT_NS_PER_MS);
}

/* ---- ids and lookups ----------------------------------------------------------- */

static bool is_hex32(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return false;
    return n == 32;
}

/* The job named by a 32-hex id: 0 and *out, 400 for a malformed id, 404 for
 * an unknown one (with *body set). */
static int find_job(const struct mc__rest_view *v, const char *id, struct mc_job **out,
                    json_t **body)
{
    if (!is_hex32(id)) {
        *body = mc__rest_error("Invalid JobID '%s': a Flink JobID is 32 hexadecimal digits", id);
        return 400;
    }
    char want[33];
    uint32_t n = atomic_load(&v->c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&v->c->jobs[i]);
        if (!j)
            continue;
        mc_rest_job_id(v->c, j->ej->id, want);
        if (strcasecmp(want, id) == 0) {
            *out = j;
            return 0;
        }
    }
    *body = mc__rest_error("Job %s not found", id);
    return 404;
}

/* ---- job state ---------------------------------------------------------------------- */

static const char *const job_states[] = { "INITIALIZING", "CREATED", "RUNNING", "FAILING",
                                          "FAILED", "CANCELLING", "CANCELED", "FINISHED",
                                          "RESTARTING", "SUSPENDED", "RECONCILING" };
/* Flink's ExecutionState names; subtask_state returns an index into them. */
enum { X_CREATED, X_SCHEDULED, X_DEPLOYING, X_RUNNING, X_FINISHED, X_CANCELING, X_CANCELED,
       X_FAILED, X_RECONCILING, X_INITIALIZING, X_STATES };
static const char *const exec_states[X_STATES] = {
    "CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED",
    "CANCELING", "CANCELED", "FAILED", "RECONCILING", "INITIALIZING" };

static enum eng_job_state job_state(const struct mc_job *j)
{
    return eng_job_state(j->ej);
}

/* The execution state of subtask s of a job in state st (an index into
 * exec_states: counting by index, not by name, lets gcc -O3 see no
 * comparison of a known string against the table). */
static int subtask_state(const struct mc_job *j, uint32_t s, enum eng_job_state st)
{
    switch (st) {
    case ENG_JOB_CREATED:
        return s < atomic_load(&j->nslots) && atomic_load(&j->slot_tm[s]) >= 0 ? X_DEPLOYING
                                                                               : X_SCHEDULED;
    case ENG_JOB_RUNNING: return X_RUNNING;
    case ENG_JOB_FAILING: return X_CANCELING;
    case ENG_JOB_RESTARTING: return X_CANCELED;
    case ENG_JOB_FINISHED: return X_FINISHED;
    case ENG_JOB_FAILED: return X_FAILED;
    case ENG_JOB_CANCELED: return X_CANCELED;
    }
    return X_CREATED;
}

/* World time of the latest entry into state name (0: never). */
static uint64_t state_entered(const struct mc_job *j, const char *name)
{
    size_t n = strlen(name);
    for (const struct eng_job_event *e = atomic_load_explicit(&j->ej->events, memory_order_acquire);
         e; e = e->next)
        if (strncmp(e->text, name, n) == 0 && (e->text[n] == '\0' || e->text[n] == ':'))
            return e->t_ns ? e->t_ns : 1;
    return 0;
}

static int64_t start_ms(const struct mc__rest_view *v, const struct mc_job *j)
{
    return mc__rest_ms(v, atomic_load(&j->submitted_ns));
}

static int64_t end_ms(const struct mc__rest_view *v, const struct mc_job *j)
{
    uint64_t f = atomic_load(&j->finished_ns);
    return eng_job_ended(j->ej) && f ? mc__rest_ms(v, f) : -1;
}

static int64_t duration_ms(const struct mc__rest_view *v, const struct mc_job *j)
{
    int64_t e = end_ms(v, j);
    return (e >= 0 ? e : mc__rest_ms(v, v->now_ns)) - start_ms(v, j);
}

/* Subtasks of the job by execution state: {"RUNNING": n, ...} with every
 * state (upper case, as status-counts) or Flink's lower-case task counts
 * with "total" and "pending" (as the tasks of job overviews). */
static json_t *task_counts(const struct mc_job *j, int vertex, bool lower)
{
    uint32_t counts[X_STATES] = { 0 };
    const struct eng_jobgraph *g = j->ej->graph;
    enum eng_job_state st = job_state(j);
    uint32_t total = 0;
    for (uint32_t vi = 0; vi < eng_jobgraph_vertex_count(g); vi++) {
        if (vertex >= 0 && (uint32_t)vertex != vi)
            continue;
        for (uint32_t s = 0; s < eng_jobgraph_vertex(g, vi)->parallelism; s++) {
            counts[subtask_state(j, s, st)]++;
            total++;
        }
    }
    json_t *o = json_object();
    for (size_t k = 0; k < X_STATES; k++) {
        char key[32];
        snprintf(key, sizeof(key), "%s", exec_states[k]);
        if (lower)
            for (char *p = key; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        json_object_set_new(o, key, json_integer(counts[k]));
    }
    if (lower) {
        json_object_set_new(o, "total", json_integer(total));
        json_object_set_new(o, "pending", json_integer(0));
    }
    return o;
}

/* ---- plan and vertices ------------------------------------------------------------ */

static const char *ship_strategy(enum eng_edge_kind k)
{
    switch (k) {
    case ENG_EDGE_FORWARD: return "FORWARD";
    case ENG_EDGE_HASH: return "HASH";
    case ENG_EDGE_REBALANCE: return "REBALANCE";
    case ENG_EDGE_BROADCAST: return "BROADCAST";
    default: return "UNKNOWN";
    }
}

static json_t *plan_json(const struct mc__rest_view *v, const struct mc_job *j)
{
    const struct eng_jobgraph *g = j->ej->graph;
    char jid[33], vid[33], from[33];
    mc_rest_job_id(v->c, j->ej->id, jid);
    json_t *nodes = json_array();
    for (uint32_t vi = 0; vi < eng_jobgraph_vertex_count(g); vi++) {
        const struct eng_vertex *vx = eng_jobgraph_vertex(g, vi);
        mc_rest_vertex_id(v->c, j->ej->id, vi, vid);
        json_t *inputs = json_array();
        uint32_t num = 0;
        for (uint32_t e = 0; e < eng_jobgraph_edge_count(g); e++) {
            const struct eng_edge *ed = eng_jobgraph_edge(g, e);
            if (ed->to != vi)
                continue;
            mc_rest_vertex_id(v->c, j->ej->id, ed->from, from);
            json_array_append_new(inputs, json_pack("{s:i,s:s,s:s,s:s}", "num", (int)num++,
                                                    "id", from, "ship_strategy",
                                                    ship_strategy(ed->kind), "exchange",
                                                    "pipelined_bounded"));
        }
        /* "operator" carries the operator's kind (sum, keyby, source_sequence,
         * ...), which Flink leaves empty for streaming jobs: an importer
         * needs it to rebuild the pipeline. */
        json_t *node = json_pack("{s:s,s:i,s:s,s:s,s:s,s:{}}", "id", vid, "parallelism",
                                 (int)vx->parallelism, "operator", eng_op_kind_name(vx->kind),
                                 "operator_strategy", "", "description", vx->name,
                                 "optimizer_properties");
        if (json_array_size(inputs))
            json_object_set_new(node, "inputs", inputs);
        else
            json_decref(inputs);
        json_array_append_new(nodes, node);
    }
    return json_pack("{s:s,s:s,s:s,s:o}", "jid", jid, "name", j->ej->name, "type", "STREAMING",
                     "nodes", nodes);
}

/* One subtask of a vertex as Flink's IOMetricsInfo counts it, from its
 * task's counters (struct eng_task_io: the current attempt's).  A task is a
 * chain of vertices: its records in are its head vertex's, its records out
 * its tail's, and a source vertex writes what it generated; a vertex inside
 * a chain has no count of its own (not complete). */
struct vio {
    uint64_t read, write;
    bool read_ok, write_ok;
    uint32_t attempt;
    uint64_t busy_ns, idle_ns, bp_ns;   /* the task's (a chain's vertices share them) */
};

static struct vio vertex_io(const struct mc_job *j, uint32_t v, uint32_t s, uint64_t now)
{
    const struct eng_execgraph *eg = j->ej->eg;
    uint32_t pos;
    const struct eng_chain *ch = eng_execgraph_chain(eg, eng_execgraph_chain_of(eg, v, &pos));
    struct vio o = { 0 };
    if (s >= ch->parallelism)
        return o;
    const struct eng_task_io *io = &j->ej->task_io[ch->first_task + s];
    bool src = eng_op_kind_is_source(eng_jobgraph_vertex(j->ej->graph, v)->kind);
    uint64_t in = atomic_load_explicit(&io->records_in, memory_order_relaxed);
    uint64_t out = atomic_load_explicit(&io->records_out, memory_order_relaxed);
    o.attempt = atomic_load_explicit(&io->attempt, memory_order_relaxed);
    eng_task_io_times(io, now, &o.busy_ns, &o.idle_ns, &o.bp_ns);
    if (src) {
        o.read_ok = o.write_ok = true;
        o.write = in;
    } else if (pos == 0) {
        o.read_ok = true;
        o.read = in;
    }
    if (!src && pos + 1 == ch->n_ops) {
        o.write_ok = true;
        o.write = out;
    }
    return o;
}

/* Subtask s of vertex v, or (s < 0) the sum over its subtasks - the times
 * too, as Flink sums them (the Kubernetes operator's autoscaler divides a
 * vertex's accumulated-busy-time by its parallelism).  Times in ms of
 * world time. */
static json_t *io_metrics(const struct mc__rest_view *view, const struct mc_job *j, uint32_t v,
                          int s)
{
    const struct eng_vertex *vx = eng_jobgraph_vertex(j->ej->graph, v);
    struct vio sum = { .read_ok = true, .write_ok = true };
    for (uint32_t k = s < 0 ? 0 : (uint32_t)s; k < (s < 0 ? vx->parallelism : (uint32_t)s + 1); k++) {
        struct vio o = vertex_io(j, v, k, view->now_ns);
        sum.busy_ns += o.busy_ns;
        sum.idle_ns += o.idle_ns;
        sum.bp_ns += o.bp_ns;
        sum.read += o.read;
        sum.write += o.write;
        sum.read_ok &= o.read_ok;
        sum.write_ok &= o.write_ok;
    }
    return json_pack("{s:I,s:b,s:I,s:b,s:I,s:b,s:I,s:b,s:I,s:I,s:f}",
                     "read-bytes", (json_int_t)0, "read-bytes-complete", 0,
                     "write-bytes", (json_int_t)0, "write-bytes-complete", 0,
                     "read-records", (json_int_t)sum.read, "read-records-complete", sum.read_ok,
                     "write-records", (json_int_t)sum.write, "write-records-complete",
                     sum.write_ok, "accumulated-backpressured-time",
                     (json_int_t)(sum.bp_ns / RT_NS_PER_MS), "accumulated-idle-time",
                     (json_int_t)(sum.idle_ns / RT_NS_PER_MS), "accumulated-busy-time",
                     (double)sum.busy_ns / (double)RT_NS_PER_MS);
}

static const char *vertex_status(const struct mc_job *j)
{
    return exec_states[subtask_state(j, 0, job_state(j))];
}

static json_t *vertex_summary(const struct mc__rest_view *v, const struct mc_job *j, uint32_t vi)
{
    const struct eng_vertex *vx = eng_jobgraph_vertex(j->ej->graph, vi);
    char vid[33];
    mc_rest_vertex_id(v->c, j->ej->id, vi, vid);
    uint64_t run = state_entered(j, "RUNNING");
    int64_t st = run ? mc__rest_ms(v, run) : -1, en = end_ms(v, j);
    return json_pack("{s:s,s:s,s:i,s:i,s:s,s:I,s:I,s:I,s:o,s:o}", "id", vid, "name", vx->name,
                     "maxParallelism", (int)vx->max_parallelism, "parallelism",
                     (int)vx->parallelism, "status", vertex_status(j), "start-time",
                     (json_int_t)st, "end-time", (json_int_t)en, "duration",
                     (json_int_t)(st < 0 ? -1 : (en >= 0 ? en : mc__rest_ms(v, v->now_ns)) - st),
                     "tasks", task_counts(j, (int)vi, false), "metrics", io_metrics(v, j, vi, -1));
}

static void tm_id(const struct mc_cluster *c, uint32_t tm, char *buf, size_t len)
{
    char id[33];
    mc_rest_tm_id(c, tm, id);
    snprintf(buf, len, "%s", id);
}

static json_t *vertex_details(const struct mc__rest_view *v, const struct mc_job *j, uint32_t vi)
{
    const struct eng_vertex *vx = eng_jobgraph_vertex(j->ej->graph, vi);
    char vid[33];
    mc_rest_vertex_id(v->c, j->ej->id, vi, vid);
    enum eng_job_state st = job_state(j);
    uint64_t run = state_entered(j, "RUNNING");
    int64_t t0 = run ? mc__rest_ms(v, run) : -1, en = end_ms(v, j);
    json_t *subtasks = json_array();
    for (uint32_t s = 0; s < vx->parallelism; s++) {
        int tm = s < atomic_load(&j->nslots) ? atomic_load(&j->slot_tm[s]) : -1;
        char tmid[80] = "(unassigned)";
        if (tm >= 0)
            tm_id(v->c, (uint32_t)tm, tmid, sizeof(tmid));
        json_array_append_new(subtasks, json_pack(
            "{s:i,s:s,s:i,s:s,s:I,s:I,s:I,s:o,s:s,s:{},s:[]}", "subtask", (int)s, "status",
            exec_states[subtask_state(j, s, st)], "attempt", (int)vertex_io(j, vi, s, v->now_ns).attempt, "host",
            tm >= 0 ? "127.0.0.1" : "(unassigned)", "start-time", (json_int_t)t0, "end-time",
            (json_int_t)en, "duration",
            (json_int_t)(t0 < 0 ? -1 : (en >= 0 ? en : mc__rest_ms(v, v->now_ns)) - t0),
            "metrics", io_metrics(v, j, vi, (int)s), "taskmanager-id", tmid, "status-duration",
            "other-concurrent-attempts"));
    }
    return json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:{s:{},s:{}}}", "id", vid, "name", vx->name,
                     "parallelism", (int)vx->parallelism, "maxParallelism",
                     (int)vx->max_parallelism, "now", (json_int_t)mc__rest_ms(v, v->now_ns),
                     "subtasks", subtasks, "aggregated", "metrics", "status-duration");
}

/* ---- jobs ---------------------------------------------------------------------------- */

static json_t *job_overview(const struct mc__rest_view *v, const struct mc_job *j)
{
    char jid[33];
    mc_rest_job_id(v->c, j->ej->id, jid);
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o}", "jid", jid, "name", j->ej->name,
                     "state", eng_job_state_name(job_state(j)), "start-time",
                     (json_int_t)start_ms(v, j), "end-time", (json_int_t)end_ms(v, j),
                     "duration", (json_int_t)duration_ms(v, j), "last-modification",
                     (json_int_t)mc__rest_ms(v, atomic_load_explicit(&j->ej->events,
                                                                     memory_order_acquire)
                                                    ? atomic_load_explicit(&j->ej->events,
                                                                           memory_order_acquire)->t_ns
                                                    : atomic_load(&j->submitted_ns)),
                     "tasks", task_counts(j, -1, true));
}

static json_t *job_details(const struct mc__rest_view *v, const struct mc_job *j)
{
    json_t *o = job_overview(v, j);
    json_object_set_new(o, "isStoppable", json_false());
    json_object_set_new(o, "maxParallelism", json_integer(-1));
    json_object_set_new(o, "now", json_integer(mc__rest_ms(v, v->now_ns)));
    json_object_set_new(o, "plan", plan_json(v, j));
    json_object_del(o, "tasks");
    json_object_del(o, "last-modification");
    json_t *ts = json_object();
    for (size_t k = 0; k < sizeof(job_states) / sizeof(job_states[0]); k++) {
        uint64_t t = k == 0 ? atomic_load(&j->submitted_ns) : state_entered(j, job_states[k]);
        json_object_set_new(ts, job_states[k], json_integer(t ? mc__rest_ms(v, t) : 0));
    }
    json_object_set_new(o, "timestamps", ts);
    json_t *vs = json_array();
    for (uint32_t vi = 0; vi < eng_jobgraph_vertex_count(j->ej->graph); vi++)
        json_array_append_new(vs, vertex_summary(v, j, vi));
    json_object_set_new(o, "vertices", vs);
    json_object_set_new(o, "status-counts", task_counts(j, -1, false));
    return o;
}

static bool exception_name_of(const char *text, const char **name)
{
    *name = strstr(text, "eartbeat") || strstr(text, "timed out")
                ? "java.util.concurrent.TimeoutException"
                : strstr(text, "unreachable") || strstr(text, "shutting down")
                      ? "org.apache.flink.runtime.jobmaster.JobMasterException"
                      : "org.apache.flink.util.FlinkException";
    return true;
}

/* Failures, newest first: each FAILING or FAILED event with its reason. */
static json_t *exceptions(const struct mc__rest_view *v, const struct mc_job *j, long max)
{
    json_t *entries = json_array();
    json_t *root = json_null(), *root_ts = json_null();
    bool truncated = false;
    for (const struct eng_job_event *e = atomic_load_explicit(&j->ej->events, memory_order_acquire);
         e; e = e->next) {
        const char *why = NULL;
        if (strncmp(e->text, "FAILING: ", 9) == 0)
            why = e->text + 9;
        else if (strncmp(e->text, "FAILED: ", 8) == 0)
            why = e->text + 8;
        if (!why)
            continue;
        if ((long)json_array_size(entries) >= max) {
            truncated = true;
            break;
        }
        const char *name;
        exception_name_of(why, &name);
        char trace[400];
        snprintf(trace, sizeof(trace), "%s: %s", name, why);
        if (json_is_null(root)) {
            root = json_string(trace);
            root_ts = json_integer(mc__rest_ms(v, e->t_ns));
        }
        json_array_append_new(entries, json_pack(
            "{s:s,s:s,s:I,s:n,s:n,s:n,s:{},s:[]}", "exceptionName", name, "stacktrace", trace,
            "timestamp", (json_int_t)mc__rest_ms(v, e->t_ns), "taskName", "location",
            "taskManagerId", "failureLabels", "concurrentExceptions"));
    }
    return json_pack("{s:o,s:o,s:[],s:b,s:{s:o,s:b}}", "root-exception", root, "timestamp",
                     root_ts, "all-exceptions", "truncated", truncated, "exceptionHistory",
                     "entries", entries, "truncated", truncated);
}

/* On the JobManager's node (rt_node_call): asks the job's runner to cancel. */
static void cancel_on_jm(struct rt_node *n, void *arg)
{
    struct mc_job *j = arg;
    rt_addr runner = atomic_load(&j->runner);
    if (runner && !eng_job_ended(j->ej))
        rt_send(NULL, runner, ENG_MSG_JOB_CANCEL, NULL, 0);
}

static int cancel_job(const struct mc__rest_view *v, struct mc_job *j, const char *query,
                      json_t **body)
{
    const char *mode = query ? strstr(query, "mode=") : NULL;
    if (mode && (mode == query || mode[-1] == '&')) {
        mode += 5;
        if (strncmp(mode, "cancel", 6) != 0 || (mode[6] && mode[6] != '&')) {
            *body = mc__rest_error("Bad request: mode must be 'cancel' (stop is not modelled)");
            return 400;
        }
    }
    char jid[33];
    mc_rest_job_id(v->c, j->ej->id, jid);
    rt_addr runner = atomic_load(&j->runner);
    struct rt_node *jm = mc_cluster_leader(v->c);
    if (eng_job_ended(j->ej)) {
        *body = mc__rest_error("Job %s is in state %s and cannot be cancelled", jid,
                               eng_job_state_name(job_state(j)));
        return 409;
    }
    /* The runner lives on the leading JobManager: the request goes there as
     * a call, the one thing a REST request asks of a node. */
    if (!runner || !jm || rt_node_call(jm, cancel_on_jm, j) < 0) {
        *body = mc__rest_error("Job %s has no JobMaster running now: try again", jid);
        return 409;
    }
    *body = json_object();
    return 202;
}

/* ---- cluster ---------------------------------------------------------------------------- */

static json_t *dashboard_config(void)
{
    return json_pack("{s:I,s:s,s:i,s:s,s:s,s:{s:b,s:b,s:b,s:b}}", "refresh-interval",
                     (json_int_t)3000, "timezone-name", "Coordinated Universal Time",
                     "timezone-offset", 0, "flink-version", FLINK_VERSION, "flink-revision",
                     "minicluster-" MC_VERSION, "features", "web-submit", 0, "web-cancel", 1,
                     "web-rescale", 0, "web-history", 0);
}

static json_t *overview(const struct mc__rest_view *v)
{
    struct mc_cluster *c = v->c;
    uint32_t tms = 0, free_slots = 0, running = 0, finished = 0, cancelled = 0, failed = 0;
    uint32_t ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++)
        if (atomic_load(&c->tms[i].state) == MC_TM_REGISTERED) {
            tms++;
            free_slots += atomic_load(&c->tms[i].free_slots);
        }
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&c->jobs[i]);
        if (!j)
            continue;
        switch (job_state(j)) {
        case ENG_JOB_FINISHED: finished++; break;
        case ENG_JOB_CANCELED: cancelled++; break;
        case ENG_JOB_FAILED: failed++; break;
        default: running++; break;
        }
    }
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:s}", "taskmanagers", (int)tms,
                     "taskmanagers-blocked", 0, "slots-total", (int)(tms * c->cfg.slots),
                     "slots-available", (int)free_slots, "slots-free-and-blocked", 0,
                     "jobs-running", (int)running, "jobs-finished", (int)finished,
                     "jobs-cancelled", (int)cancelled, "jobs-failed", (int)failed,
                     "flink-version", FLINK_VERSION, "flink-commit", "minicluster-" MC_VERSION);
}

static json_t *jobs_list(const struct mc__rest_view *v, bool details)
{
    json_t *a = json_array();
    char jid[33];
    uint32_t n = atomic_load(&v->c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&v->c->jobs[i]);
        if (!j)
            continue;
        mc_rest_job_id(v->c, j->ej->id, jid);
        json_array_append_new(a, details ? job_overview(v, j)
                                         : json_pack("{s:s,s:s}", "id", jid, "status",
                                                     eng_job_state_name(job_state(j))));
    }
    return json_pack("{s:o}", "jobs", a);
}

static json_t *resource(double cpus, int64_t heap)
{
    return json_pack("{s:f,s:i,s:i,s:i,s:i,s:{}}", "cpuCores", cpus, "taskHeapMemory",
                     (int)(heap / (1 << 20)), "taskOffHeapMemory", 0, "managedMemory", 0,
                     "networkMemory", 0, "extendedResources");
}

static json_t *taskmanager(const struct mc__rest_view *v, uint32_t i, bool details)
{
    struct mc_cluster *c = v->c;
    char id[80];
    tm_id(c, i, id, sizeof(id));
    uint32_t slots = c->cfg.slots, free_slots = atomic_load(&c->tms[i].free_slots);
    int64_t mem = (int64_t)c->cfg.tm_memory;
    /* The host's, asked once: sysconf reads files and makes system calls. */
    static _Atomic long cpus_once, phys_once;
    long cpus = atomic_load(&cpus_once), phys_pages = atomic_load(&phys_once);
    if (!cpus) {
        atomic_store(&cpus_once, cpus = sysconf(_SC_NPROCESSORS_ONLN));
        atomic_store(&phys_once, phys_pages = sysconf(_SC_PHYS_PAGES));
    }
    int64_t phys = (int64_t)phys_pages * (int64_t)sysconf(_SC_PAGESIZE);
    size_t used = rt_node_mem_bytes(c->tms[i].node);
    char path[160];
    snprintf(path, sizeof(path), "minicluster://%s/%s-tm%u", c->name, c->name, i);
    json_t *o = json_pack(
        "{s:s,s:s,s:i,s:i,s:I,s:i,s:i,s:o,s:o,s:{s:i,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I,"
        "s:I,s:I,s:I,s:I},s:b}",
        "id", id, "path", path, "dataPort", -1, "jmxPort", -1, "timeSinceLastHeartbeat",
        (json_int_t)mc__rest_ms(v, atomic_load(&c->tms[i].last_heartbeat_ns)), "slotsNumber",
        (int)slots, "freeSlots", (int)free_slots, "totalResource", resource(slots, mem),
        "freeResource", resource(free_slots, slots ? mem / slots * free_slots : 0), "hardware",
        "cpuCores", (int)cpus, "physicalMemory", (json_int_t)phys, "freeMemory",
        (json_int_t)(mem > (int64_t)used ? mem - (int64_t)used : 0), "managedMemory",
        (json_int_t)0, "memoryConfiguration", "frameworkHeap", (json_int_t)0, "taskHeap",
        (json_int_t)mem, "frameworkOffHeap", (json_int_t)0, "taskOffHeap", (json_int_t)0,
        "networkMemory", (json_int_t)0, "managedMemory", (json_int_t)0, "jvmMetaspace",
        (json_int_t)0, "jvmOverhead", (json_int_t)0, "totalFlinkMemory", (json_int_t)mem,
        "totalProcessMemory", (json_int_t)mem, "blocked", 0);
    if (!details)
        return o;
    json_t *slotsj = json_array();
    char jid[33];
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t k = 0; k < n && k < MC_MAX_JOBS; k++) {
        struct mc_job *j = atomic_load(&c->jobs[k]);
        if (!j || eng_job_ended(j->ej))
            continue;
        mc_rest_job_id(c, j->ej->id, jid);
        for (uint32_t s = 0; s < atomic_load(&j->nslots) && s < 64; s++)
            if (atomic_load(&j->slot_tm[s]) == (int)i)
                json_array_append_new(slotsj, json_pack("{s:s,s:o}", "jobId", jid, "resource",
                                                        resource(1, slots ? mem / slots : 0)));
    }
    json_object_set_new(o, "allocatedSlots", slotsj);
    json_object_set_new(o, "metrics", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:[]}",
        "heapUsed", (json_int_t)used, "heapCommitted", (json_int_t)used, "heapMax",
        (json_int_t)(mem ? mem : -1), "nonHeapUsed", (json_int_t)0, "nonHeapCommitted",
        (json_int_t)0, "nonHeapMax", (json_int_t)-1, "directCount", (json_int_t)0, "directUsed",
        (json_int_t)0, "directMax", (json_int_t)0, "mappedCount", (json_int_t)0, "mappedUsed",
        (json_int_t)0, "mappedMax", (json_int_t)0, "memorySegmentsAvailable", (json_int_t)0,
        "memorySegmentsTotal", (json_int_t)0, "nettyShuffleMemorySegmentsAvailable",
        (json_int_t)0, "nettyShuffleMemorySegmentsUsed", (json_int_t)0,
        "nettyShuffleMemorySegmentsTotal", (json_int_t)0, "nettyShuffleMemoryAvailable",
        (json_int_t)0, "nettyShuffleMemoryUsed", (json_int_t)0, "nettyShuffleMemoryTotal",
        (json_int_t)0, "garbageCollectors"));
    return o;
}

static json_t *taskmanagers(const struct mc__rest_view *v)
{
    json_t *a = json_array();
    uint32_t ntms = atomic_load(&v->c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++)
        if (atomic_load(&v->c->tms[i].state) == MC_TM_REGISTERED)
            json_array_append_new(a, taskmanager(v, i, false));
    return json_pack("{s:o}", "taskmanagers", a);
}

static int find_tm(const struct mc__rest_view *v, const char *id, uint32_t *out, json_t **body)
{
    char want[80];
    uint32_t ntms = atomic_load(&v->c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++) {
        tm_id(v->c, i, want, sizeof(want));
        if (strcmp(want, id) == 0 && atomic_load(&v->c->tms[i].state) == MC_TM_REGISTERED) {
            *out = i;
            return 0;
        }
    }
    *body = mc__rest_error("TaskManager %s does not exist or is not registered", id);
    return 404;
}

static void add_entry(json_t *a, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_entry(json_t *a, const char *key, const char *fmt, ...)
{
    char value[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    json_array_append_new(a, json_pack("{s:s,s:s}", "key", key, "value", value));
}

static unsigned long long ms_of(uint64_t ns) { return (unsigned long long)(ns / RT_NS_PER_MS); }

/* The cluster's configuration by Flink's keys, durations as "N ms". */
static json_t *jobmanager_config(const struct mc__rest_view *v)
{
    const struct mc_cluster_config *k = &v->c->cfg;
    const struct mc_restart_config *rs = &k->restart;
    json_t *a = json_array();
    add_entry(a, "jobmanager.rpc.address", "%s-jm", v->c->name);
    add_entry(a, "rest.address", "127.0.0.1");
    add_entry(a, "taskmanager.numberOfTaskSlots", "%u", k->slots);
    add_entry(a, "heartbeat.interval", "%llu ms", ms_of(k->hb_interval_ns));
    add_entry(a, "heartbeat.timeout", "%llu ms", ms_of(k->hb_timeout_ns));
    add_entry(a, "heartbeat.rpc-failure-threshold", "%u", k->hb_rpc_failure_threshold);
    add_entry(a, "cluster.evenly-spread-out-slots", "%s", k->evenly_spread ? "true" : "false");
    add_entry(a, "resourcemanager.taskmanager-timeout", "%llu ms", ms_of(k->tm_idle_timeout_ns));
    add_entry(a, "jobmanager.execution.failover-strategy", "%s", mc_failover_name(k->failover));
    add_entry(a, "restart-strategy.type", "%s", mc_restart_type_name(rs->type));
    add_entry(a, "restart-strategy.fixed-delay.attempts", "%u", rs->fixed_attempts);
    add_entry(a, "restart-strategy.fixed-delay.delay", "%llu ms", ms_of(rs->fixed_delay_ns));
    add_entry(a, "restart-strategy.failure-rate.max-failures-per-interval", "%u",
              rs->rate_max_failures);
    add_entry(a, "restart-strategy.failure-rate.failure-rate-interval", "%llu ms",
              ms_of(rs->rate_interval_ns));
    add_entry(a, "restart-strategy.failure-rate.delay", "%llu ms", ms_of(rs->rate_delay_ns));
    add_entry(a, "restart-strategy.exponential-delay.initial-backoff", "%llu ms",
              ms_of(rs->exp_initial_ns));
    add_entry(a, "restart-strategy.exponential-delay.max-backoff", "%llu ms",
              ms_of(rs->exp_max_ns));
    add_entry(a, "restart-strategy.exponential-delay.backoff-multiplier", "%g",
              rs->exp_multiplier);
    add_entry(a, "restart-strategy.exponential-delay.jitter-factor", "%g", rs->exp_jitter);
    add_entry(a, "execution.checkpointing.interval", "%llu ms",
              ms_of(k->job.checkpoint_interval_ns));
    add_entry(a, "execution.checkpointing.timeout", "%llu ms", ms_of(k->job.checkpoint_timeout_ns));
    add_entry(a, "execution.checkpointing.min-pause", "%llu ms", ms_of(k->job.min_pause_ns));
    add_entry(a, "execution.checkpointing.max-concurrent-checkpoints", "%u",
              k->job.max_concurrent);
    add_entry(a, "execution.checkpointing.tolerable-failed-checkpoints", "%u",
              k->job.tolerable_failed);
    add_entry(a, "execution.checkpointing.incremental", "%s",
              k->job.incremental ? "true" : "false");
    add_entry(a, "state.checkpoints.num-retained", "%u", k->job.num_retained);
    add_entry(a, "high-availability.type", "%s", k->ha ? "zookeeper" : "NONE");
    if (k->tm_memory)
        add_entry(a, "taskmanager.memory.process.size", "%zu b", k->tm_memory);
    return a;
}

/* ---- routing -------------------------------------------------------------------------- */

static long query_long(const char *query, const char *key, long dflt)
{
    size_t n = strlen(key);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, key, n) == 0 && p[n] == '=')
            return strtol(p + n + 1, NULL, 10);
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return dflt;
}

static int split(char *path, char **seg)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS)
            return -1;
        seg[n++] = t;
    }
    return n;
}

static int not_found(const char *path, json_t **body)
{
    *body = mc__rest_error("Not found: %s", path);
    return 404;
}

static int job_route(const struct mc__rest_view *v, enum mc__rest_method m, char **seg, int n,
                     const char *path, const char *query, json_t **body)
{
    struct mc_job *j;
    int rc = find_job(v, seg[1], &j, body);
    if (rc)
        return rc;
    if (n == 2 && m == MC__PATCH)
        return cancel_job(v, j, query, body);
    if (m != MC__GET) {
        *body = mc__rest_error("%s does not serve this method", path);
        return 405;
    }
    if (n == 2) {
        *body = job_details(v, j);
    } else if (n == 3 && strcmp(seg[2], "plan") == 0) {
        *body = json_pack("{s:o}", "plan", plan_json(v, j));
    } else if (n == 3 && strcmp(seg[2], "exceptions") == 0) {
        long max = query_long(query, "maxExceptions", 20);
        *body = exceptions(v, j, max > 0 ? max : 20);
    } else if (n == 3 && strcmp(seg[2], "checkpoints") == 0) {
        *body = mc__rest_checkpoints(v, j);
    } else if (n == 4 && strcmp(seg[2], "checkpoints") == 0 && strcmp(seg[3], "config") == 0) {
        *body = mc__rest_checkpoint_config(v, j);
    } else if (n == 5 && strcmp(seg[2], "checkpoints") == 0 && strcmp(seg[3], "details") == 0) {
        return mc__rest_checkpoint_details(v, j, seg[4], body);
    } else if (n == 4 && strcmp(seg[2], "vertices") == 0) {
        if (!is_hex32(seg[3])) {
            *body = mc__rest_error("Invalid JobVertexID '%s': a Flink JobVertexID is 32 "
                                   "hexadecimal digits", seg[3]);
            return 400;
        }
        char vid[33];
        for (uint32_t vi = 0; vi < eng_jobgraph_vertex_count(j->ej->graph); vi++) {
            mc_rest_vertex_id(v->c, j->ej->id, vi, vid);
            if (strcasecmp(vid, seg[3]) == 0) {
                *body = vertex_details(v, j, vi);
                return 200;
            }
        }
        *body = mc__rest_error("Vertex %s not found in job %s", seg[3], seg[1]);
        return 404;
    } else {
        return not_found(path, body);
    }
    return 200;
}

int mc__rest_route(const struct mc__rest_view *v, enum mc__rest_method m, const char *path,
                   const char *query, json_t **body)
{
    char buf[512], *seg[MAX_SEGMENTS];
    *body = NULL;
    if (strlen(path) >= sizeof(buf))
        return not_found("(a path too long to be one of ours)", body);
    snprintf(buf, sizeof(buf), "%s", path);
    int n = split(buf, seg);
    if (n < 0)
        return not_found(path, body);
    if (n > 0 && strcmp(seg[0], "v1") == 0) {   /* Flink serves /v1/... as well */
        memmove(seg, seg + 1, (size_t)(n - 1) * sizeof(*seg));
        n--;
    }
    if (n >= 2 && strcmp(seg[0], "jobs") == 0 && strcmp(seg[1], "overview") != 0)
        return job_route(v, m, seg, n, path, query, body);
    json_t *b = NULL;
    if (n == 1 && strcmp(seg[0], "config") == 0)
        b = dashboard_config();
    else if (n == 1 && strcmp(seg[0], "overview") == 0)
        b = overview(v);
    else if (n == 1 && strcmp(seg[0], "jobs") == 0)
        b = jobs_list(v, false);
    else if (n == 2 && strcmp(seg[0], "jobs") == 0)
        b = jobs_list(v, true);
    else if (n == 1 && strcmp(seg[0], "taskmanagers") == 0)
        b = taskmanagers(v);
    else if (n == 2 && strcmp(seg[0], "jobmanager") == 0 && strcmp(seg[1], "config") == 0)
        b = jobmanager_config(v);
    else if (n == 2 && strcmp(seg[0], "taskmanagers") == 0) {
        uint32_t tm;
        int rc = find_tm(v, seg[1], &tm, body);
        if (rc)
            return rc;
        if (m != MC__GET) {
            *body = mc__rest_error("%s serves GET only", path);
            return 405;
        }
        *body = taskmanager(v, tm, true);
        return 200;
    } else
        return not_found(path, body);
    if (m != MC__GET) {
        json_decref(b);
        *body = mc__rest_error("%s serves GET only", path);
        return 405;
    }
    *body = b;
    return 200;
}
