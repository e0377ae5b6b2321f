/*
 * metrics.c - the Prometheus text format (version 0.0.4) of one cluster:
 * Flink's Prometheus reporter names and labels for what minicluster models
 * (flink_jobmanager_*, flink_jobmanager_job_*, flink_taskmanager_job_task_*),
 * and minicluster's own (minicluster_dfs_*, minicluster_probe_latency_seconds,
 * minicluster_jobmanager_*).  docs/rest.md lists each series.
 *
 * Read from published state only, like the REST bodies (rest.h); any thread.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <xxhash.h>

#include "minicluster/client.h"
#include "minicluster/cluster.h"
#include "minicluster/rest_internal.h"
#include "runtime/dfs.h"

/* A label value with Prometheus' escapes (backslash, quote, newline). */
static void label(char *out, size_t len, const char *s)
{
    size_t k = 0;
    for (; *s && k + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            out[k++] = '\\';
            out[k++] = *s;
        } else if (*s == '\n') {
            out[k++] = '\\';
            out[k++] = 'n';
        } else {
            out[k++] = *s;
        }
    }
    out[k] = '\0';
}

static void help(struct evbuffer *o, const char *name, const char *type, const char *text)
{
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void jobmanager(const struct mc__rest_view *v, struct evbuffer *o, const char *host)
{
    struct mc_cluster *c = v->c;
    uint32_t tms = 0, free_slots = 0, running = 0;
    uint32_t ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++)
        if (atomic_load(&c->tms[i].state) == MC_TM_REGISTERED) {
            tms++;
            free_slots += atomic_load(&c->tms[i].free_slots);
        }
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&c->jobs[i]);
        running += j && !eng_job_ended(j->ej);
    }
    help(o, "flink_jobmanager_numRegisteredTaskManagers", "gauge", "TaskManagers registered");
    evbuffer_add_printf(o, "flink_jobmanager_numRegisteredTaskManagers{host=\"%s\"} %u\n", host,
                        tms);
    help(o, "flink_jobmanager_numRunningJobs", "gauge", "jobs not in a terminal state");
    evbuffer_add_printf(o, "flink_jobmanager_numRunningJobs{host=\"%s\"} %u\n", host, running);
    help(o, "flink_jobmanager_taskSlotsTotal", "gauge", "slots of registered TaskManagers");
    evbuffer_add_printf(o, "flink_jobmanager_taskSlotsTotal{host=\"%s\"} %u\n", host,
                        tms * c->cfg.slots);
    help(o, "flink_jobmanager_taskSlotsAvailable", "gauge", "slots no job holds");
    evbuffer_add_printf(o, "flink_jobmanager_taskSlotsAvailable{host=\"%s\"} %u\n", host,
                        free_slots);
    struct rt_node *leader = mc_cluster_leader(c);
    if (leader) {
        struct rt_node_stats st;
        rt_node_get_stats(leader, &st);
        help(o, "minicluster_jobmanager_busy_seconds_total", "counter",
             "time the leading JobManager node spent in handlers");
        evbuffer_add_printf(o, "minicluster_jobmanager_busy_seconds_total{host=\"%s\"} %.9f\n",
                            host, (double)st.busy_ns / 1e9);
        help(o, "minicluster_jobmanager_messages_total", "counter",
             "messages the leading JobManager node handled");
        evbuffer_add_printf(o, "minicluster_jobmanager_messages_total{host=\"%s\"} %llu\n", host,
                            (unsigned long long)st.delivered);
    }
}

struct series {
    const char *name, *type, *help;
};

enum { S_RESTARTS, S_UPTIME, S_LAST_DUR, S_LAST_SIZE, S_LAST_FULL, S_COMPLETED, S_FAILED,
       S_INPROG, S_TOTAL, S_RESTORE_TS, S_COUNT };

static const struct series job_series[S_COUNT] = {
    { "flink_jobmanager_job_numRestarts", "gauge", "restarts (full and region failovers)" },
    { "flink_jobmanager_job_uptime", "gauge", "ms since the job last became RUNNING (0: not running)" },
    { "flink_jobmanager_job_lastCheckpointDuration", "gauge", "ms of the latest completed checkpoint" },
    { "flink_jobmanager_job_lastCheckpointSize", "gauge", "bytes the latest completed checkpoint wrote" },
    { "flink_jobmanager_job_lastCheckpointFullSize", "gauge", "bytes of the latest completed checkpoint" },
    { "flink_jobmanager_job_numberOfCompletedCheckpoints", "gauge", "completed checkpoints" },
    { "flink_jobmanager_job_numberOfFailedCheckpoints", "gauge", "failed checkpoints" },
    { "flink_jobmanager_job_numberOfInProgressCheckpoints", "gauge", "pending checkpoints" },
    { "flink_jobmanager_job_totalNumberOfCheckpoints", "gauge", "checkpoints triggered" },
    { "flink_jobmanager_job_lastCheckpointRestoreTimestamp", "gauge", "epoch ms of the latest restore (-1: none)" },
};

static double job_value(const struct mc__rest_view *v, const struct mc_job *j, int s)
{
    const struct eng_job *ej = j->ej;
    const struct eng_checkpoint_stat *last = NULL;
    for (last = atomic_load_explicit(&((struct eng_job *)ej)->checkpoint_stats,
                                     memory_order_acquire);
         last && !last->completed; last = last->next)
        ;
    uint64_t nc = atomic_load(&ej->checkpoints_completed), nf = atomic_load(&ej->checkpoints_failed);
    uint32_t np = atomic_load(&ej->checkpoints_in_progress);
    switch (s) {
    case S_RESTARTS: return atomic_load(&ej->restarts);
    case S_UPTIME: {
        if (eng_job_state(ej) != ENG_JOB_RUNNING)
            return 0;
        for (const struct eng_job_event *e = atomic_load_explicit(&((struct eng_job *)ej)->events,
                                                                  memory_order_acquire);
             e; e = e->next)
            if (strcmp(e->text, "RUNNING") == 0 || strncmp(e->text, "RUNNING:", 8) == 0)
                return (double)(v->now_ns - e->t_ns) / 1e6;
        return 0;
    }
    case S_LAST_DUR: return last ? (double)(last->end_ns - last->trigger_ns) / 1e6 : 0;
    case S_LAST_SIZE:
    case S_LAST_FULL: return last ? (double)last->bytes : 0;
    case S_COMPLETED: return (double)nc;
    case S_FAILED: return (double)nf;
    case S_INPROG: return np;
    case S_TOTAL: return (double)(nc + nf + np);
    case S_RESTORE_TS:
        for (const struct eng_job_event *e = atomic_load_explicit(&((struct eng_job *)ej)->events,
                                                                  memory_order_acquire);
             e; e = e->next)
            if (strncmp(e->text, "attempt ", 8) == 0 && strstr(e->text, "restoring checkpoint "))
                return (double)mc__rest_ms(v, e->t_ns);
        return -1;
    }
    return 0;
}

static void jobs(const struct mc__rest_view *v, struct evbuffer *o, const char *host)
{
    struct mc_cluster *c = v->c;
    uint32_t n = atomic_load(&c->njobs);
    char jid[33], name[160];
    for (int s = 0; s < S_COUNT; s++) {
        help(o, job_series[s].name, job_series[s].type, job_series[s].help);
        for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
            struct mc_job *j = atomic_load(&c->jobs[i]);
            if (!j)
                continue;
            mc_rest_job_id(c, j->ej->id, jid);
            label(name, sizeof(name), j->ej->name);
            evbuffer_add_printf(o, "%s{host=\"%s\",job_id=\"%s\",job_name=\"%s\"} %.17g\n",
                                job_series[s].name, host, jid, name, job_value(v, j, s));
        }
    }
}

/* Flink's task metrics, one series per running subtask of each task (a
 * chain), from its counters (struct eng_task_io: the current attempt's).
 * A source task's numRecordsIn is 0, as in Flink; times are ms of world
 * time since the attempt started running. */
static const struct { const char *name, *type, *help; } task_series[] = {
    { "flink_taskmanager_job_task_numRecordsIn", "counter",
      "records the subtask took in (this attempt)" },
    { "flink_taskmanager_job_task_numRecordsOut", "counter",
      "records the subtask sent on (this attempt)" },
    { "flink_taskmanager_job_task_accumulateBusyTimeMs", "gauge",
      "ms the subtask was neither idle nor back-pressured (this attempt)" },
    { "flink_taskmanager_job_task_accumulateIdleTimeMs", "gauge",
      "ms the subtask waited for input (this attempt)" },
    { "flink_taskmanager_job_task_accumulateBackPressuredTimeMs", "gauge",
      "ms the subtask waited for room on an output (this attempt)" },
};

static uint64_t task_value(const struct eng_task_io *io, int m, bool src, uint64_t now)
{
    if (m < 2)
        return m ? atomic_load_explicit(&io->records_out, memory_order_relaxed)
                 : src ? 0 : atomic_load_explicit(&io->records_in, memory_order_relaxed);
    uint64_t t[3];
    eng_task_io_times(io, now, &t[0], &t[1], &t[2]);
    return t[m - 2] / RT_NS_PER_MS;
}

static void tasks(const struct mc__rest_view *v, struct evbuffer *o, const char *jm_host)
{
    struct mc_cluster *c = v->c;
    uint32_t n = atomic_load(&c->njobs);
    char jid[33], tid[33], tmid[33], name[160], tname[200];
    for (int m = 0; m < (int)(sizeof(task_series) / sizeof(task_series[0])); m++) {
        const char *metric = task_series[m].name;
        help(o, metric, task_series[m].type, task_series[m].help);
        for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
            struct mc_job *j = atomic_load(&c->jobs[i]);
            if (!j || eng_job_ended(j->ej))
                continue;
            mc_rest_job_id(c, j->ej->id, jid);
            label(name, sizeof(name), j->ej->name);
            const struct eng_execgraph *eg = j->ej->eg;
            for (uint32_t ci = 0; ci < eng_execgraph_chain_count(eg); ci++) {
                const struct eng_chain *ch = eng_execgraph_chain(eg, ci);
                bool src = eng_op_kind_is_source(eng_jobgraph_vertex(j->ej->graph,
                                                                     ch->ops[0])->kind);
                mc_rest_vertex_id(c, j->ej->id, ch->ops[0], tid);
                label(tname, sizeof(tname), ch->name);
                for (uint32_t s = 0; s < ch->parallelism; s++) {
                    int tm = s < atomic_load(&j->nslots) && s < 64 ? atomic_load(&j->slot_tm[s])
                                                                   : -1;
                    if (tm < 0)
                        continue;       /* not deployed: no task reports */
                    const struct eng_task_io *io = &j->ej->task_io[ch->first_task + s];
                    uint32_t att = atomic_load_explicit(&io->attempt, memory_order_relaxed);
                    uint64_t val = task_value(io, m, src, v->now_ns);
                    mc_rest_tm_id(c, (uint32_t)tm, tmid);
                    uint64_t aid = XXH64(jid, 32, (((uint64_t)(ch->first_task + s) << 32) | att) ^
                                                      0x617474656d7074ull);  /* "attempt" */
                    evbuffer_add_printf(o, "%s{host=\"%s-tm%d\",tm_id=\"%s\",job_id=\"%s\","
                                        "job_name=\"%s\",task_id=\"%s\",task_name=\"%s\","
                                        "subtask_index=\"%u\",task_attempt_num=\"%u\","
                                        "task_attempt_id=\"%016llx%016llx\"} %llu\n", metric,
                                        c->name, tm, tmid, jid, name, tid, tname, s, att,
                                        (unsigned long long)aid,
                                        (unsigned long long)(ch->first_task + s),
                                        (unsigned long long)val);
                }
            }
        }
    }
    (void)jm_host;
}

static void dfs_metrics(const struct mc__rest_view *v, struct evbuffer *o)
{
    if (!v->dfs)
        return;
    struct dfs_stats st;
    dfs_stats_get(v->dfs, &st);
    const struct { const char *name, *type, *help; uint64_t value; } m[] = {
        { "minicluster_dfs_bytes_read_total", "counter", "bytes read from the shared filesystem", st.total.bytes_read },
        { "minicluster_dfs_bytes_written_total", "counter", "bytes written to it", st.total.bytes_written },
        { "minicluster_dfs_operations_total", "counter", "requests completed, failed ones included", st.total.ops },
        { "minicluster_dfs_errors_total", "counter", "requests that failed", st.total.errors },
        { "minicluster_dfs_files_created_total", "counter", "files created", st.files_created },
        { "minicluster_dfs_fsyncs_total", "counter", "fsyncs", st.fsyncs },
        { "minicluster_dfs_concurrency", "gauge", "requests in service or queued now", st.cur_concurrency },
        { "minicluster_dfs_peak_concurrency", "gauge", "most requests in service or queued at once", st.peak_concurrency },
        { "minicluster_dfs_queued", "gauge", "requests waiting for a stream or a token now", st.cur_queued },
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        help(o, m[i].name, m[i].type, m[i].help);
        evbuffer_add_printf(o, "%s %llu\n", m[i].name, (unsigned long long)m[i].value);
    }
}

/* The probe's read latencies (every sample so far) as a Prometheus histogram. */
static void probe_histogram(const struct mc__rest_view *v, struct evbuffer *o)
{
    const struct mc_probe *p = v->probe;
    if (!p || !p->lat_ns)
        return;
    static const double le[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
                                 1, 2, 5, 10 };
    enum { NB = sizeof(le) / sizeof(le[0]) };
    uint64_t count[NB] = { 0 };
    unsigned n = atomic_load_explicit(&((struct mc_probe *)p)->n, memory_order_acquire);
    if (n > p->cap)
        n = p->cap;
    double sum = 0;
    for (unsigned i = 0; i < n; i++) {
        double s = (double)p->lat_ns[i] / 1e9;
        sum += s;
        for (int b = 0; b < NB; b++)
            count[b] += s <= le[b];
    }
    const char *name = "minicluster_probe_latency_seconds";
    help(o, name, "histogram", "latency of the probe's reads from the shared filesystem");
    for (int b = 0; b < NB; b++)
        evbuffer_add_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, le[b],
                            (unsigned long long)count[b]);
    evbuffer_add_printf(o, "%s_bucket{le=\"+Inf\"} %u\n%s_sum %.9f\n%s_count %u\n", name, n,
                        name, sum, name, n);
}

void mc__metrics_text(const struct mc__rest_view *v, struct evbuffer *out)
{
    char host[80];
    label(host, sizeof(host), v->c->name);
    strncat(host, "-jm", sizeof(host) - strlen(host) - 1);
    jobmanager(v, out, host);
    jobs(v, out, host);
    tasks(v, out, host);
    dfs_metrics(v, out);
    probe_histogram(v, out);
}
