/*
 * scn_print.c - the canonical writer: a scenario back to text.
 *
 * `shrink` writes its smaller scenarios with this, and reports quote single
 * faults and expectations with it, so the output must always parse back to
 * an equal scenario.  Canonical means: statements in a fixed order (cluster,
 * config, dfs, probe, deadline, seed, jobs, applications, faults,
 * expectations), every value in the largest unit that is exact, optional
 * settings left out when they hold their default, implicit applications not
 * written (a bare job makes them again).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/operator.h"
#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

static void put_dur(FILE *f, const char *prefix, uint64_t ns)
{
    char b[48];
    scn_format_duration(ns, b, sizeof(b));
    fprintf(f, "%s%s", prefix, b);
}

static void put_size(FILE *f, const char *prefix, uint64_t bytes)
{
    char b[48];
    scn_format_size(bytes, b, sizeof(b));
    fprintf(f, "%s%s", prefix, b);
}

static void put_count(FILE *f, const char *prefix, uint64_t n)
{
    char b[48];
    scn_format_count(n, b, sizeof(b));
    fprintf(f, "%s%s", prefix, b);
}

static void put_prob(FILE *f, const char *prefix, double p)
{
    char b[48];
    scn_format_double(p, b, sizeof(b));
    fprintf(f, "%s%s", prefix, b);
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void put_target(FILE *f, const struct scn_target *t)
{
    switch (t->kind) {
    case SCN_TARGET_TASKMANAGER_OF:
        fprintf(f, "taskmanager-of %s[%u]", t->job.name, t->index);
        break;
    case SCN_TARGET_JOBMANAGER_OF:
        fprintf(f, "jobmanager-of %s", t->job.name);
        break;
    case SCN_TARGET_TASKMANAGER:
        fprintf(f, "taskmanager %u", t->index);
        break;
    case SCN_TARGET_JOBMANAGER: fputs("jobmanager", f); break;
    case SCN_TARGET_CLIENT: fputs("client", f); break;
    case SCN_TARGET_PROBE: fputs("probe", f); break;
    case SCN_TARGET_DFS: fputs("dfs", f); break;
    case SCN_TARGET_TASK:
        fprintf(f, "%s[%u]", t->job.name, t->index);
        break;
    }
}

static void put_fp_mode(FILE *f, const struct scn_fault *x)
{
    switch (x->fp_mode) {
    case SCN_FP_ALWAYS: break;
    case SCN_FP_PROBABILITY: put_prob(f, " probability=", x->probability); break;
    case SCN_FP_NTH: put_count(f, " nth=", x->nth); break;
    case SCN_FP_ONCE: fputs(" once", f); break;
    }
}

static void put_event(FILE *f, const struct scn_event *e)
{
    switch (e->kind) {
    case SCN_EVENT_CHECKPOINT_DONE:
        fprintf(f, "checkpoint %s", e->job.name);
        if (e->checkpoint)
            put_count(f, " ", e->checkpoint);
        fputs(" done", f);
        break;
    case SCN_EVENT_JOB_STATE:
        fprintf(f, "job %s %s", e->job.name, scn__job_state_names[e->state]);
        break;
    case SCN_EVENT_RESTORE_STARTED:
        fprintf(f, "restore %s started", e->job.name);
        break;
    case SCN_EVENT_TM_REGISTERED:
        fputs("taskmanager registered", f);
        break;
    }
}

void scn__print_fault(FILE *f, const struct scn_scenario *s, const struct scn_fault *x)
{
    const struct scn_trigger *t = &x->trigger;
    (void)s;
    if (t->kind == SCN_TRIGGER_AT) {
        put_dur(f, "at ", t->at_ns);
        if (x->duration_ns)
            put_dur(f, " for ", x->duration_ns);
    } else {
        fputs("when ", f);
        put_event(f, &t->event);
        /* `every N` alone means repeat=0 (unlimited); see scn__parse_fault. */
        if (t->every != 1 || t->repeat == 0)
            fprintf(f, " every %u", t->every);
        if (t->repeat != 0 && !(t->every == 1 && t->repeat == 1))
            fprintf(f, " repeat %u", t->repeat);
    }
    fputc(' ', f);
    switch (x->action) {
    case SCN_ACT_KILL: case SCN_ACT_STOP: case SCN_ACT_PAUSE: case SCN_ACT_RESTART:
        fputs(x->action == SCN_ACT_KILL ? "kill " : x->action == SCN_ACT_STOP ? "stop "
              : x->action == SCN_ACT_PAUSE ? "pause " : "restart ", f);
        put_target(f, &x->target);
        break;
    case SCN_ACT_ADD_TASKMANAGER:
        if (x->count == 1)
            fputs("add taskmanager", f);
        else
            fprintf(f, "add %u taskmanagers", x->count);
        break;
    case SCN_ACT_CRASH_JM_LEADER:
        fputs("crash jobmanager-leader", f);
        break;
    case SCN_ACT_PARTITION:
        fputs("partition ", f);
        put_target(f, &x->target);
        fputs(" from ", f);
        put_target(f, &x->peer);
        break;
    case SCN_ACT_DELAY_MESSAGES: case SCN_ACT_DROP_MESSAGES: case SCN_ACT_DUPLICATE_MESSAGES:
        fputs(x->action == SCN_ACT_DELAY_MESSAGES ? "delay" : x->action ==
              SCN_ACT_DROP_MESSAGES ? "drop" : "duplicate", f);
        fputs(" messages on link ", f);
        put_target(f, &x->target);
        fputs(" <-> ", f);
        put_target(f, &x->peer);
        if (x->action == SCN_ACT_DELAY_MESSAGES)
            put_dur(f, " by ", x->delay_ns);
        if (x->probability != 1.0)
            put_prob(f, " probability=", x->probability);
        break;
    case SCN_ACT_FAIL_TASK:
        fputs("fail task ", f);
        put_target(f, &x->target);
        if (x->fp_mode == SCN_FP_NTH)
            put_count(f, " at record ", x->nth);
        else
            put_fp_mode(f, x);
        break;
    case SCN_ACT_EXHAUST_MEMORY:
        fputs("exhaust memory of ", f);
        put_target(f, &x->target);
        break;
    case SCN_ACT_FAIL_FAILPOINT:
        fprintf(f, "fail %s", x->failpoint);
        put_fp_mode(f, x);
        break;
    case SCN_ACT_SLOW_FAILPOINT:
        fprintf(f, "slow %s", x->failpoint);
        put_dur(f, " by ", x->delay_ns);
        put_fp_mode(f, x);
        break;
    case SCN_ACT_CORRUPT_FAILPOINT:
        fprintf(f, "corrupt %s", x->failpoint);
        put_fp_mode(f, x);
        break;
    }
    if (t->kind == SCN_TRIGGER_WHEN && x->duration_ns)
        put_dur(f, " for ", x->duration_ns);
}

void scn__print_expect(FILE *f, const struct scn_scenario *s, const struct scn_expect *x)
{
    static const char *const modes[] = {"", "session: ", "per-job: ", "application: "};
    (void)s;
    fprintf(f, "expect %s", modes[x->mode]);
    switch (x->kind) {
    case SCN_EXPECT_EXACTLY_ONCE:
        fputs("all jobs finished exactly-once", f);
        break;
    case SCN_EXPECT_JOB_STATE:
        fprintf(f, "job %s %s", x->job.name, scn__job_state_names[x->state]);
        break;
    case SCN_EXPECT_APP_FAILED_WITH:
        fprintf(f, "application %s failed with ", x->app.name);
        put_string(f, x->text);
        break;
    case SCN_EXPECT_METRIC:
        fputs(scn_metric_name(x->metric), f);
        if (scn_metric_per_job(x->metric))
            fprintf(f, " %s", x->job.name);
        fprintf(f, " %s ", scn__cmp_names[x->cmp]);
        switch (scn_metric_unit(x->metric)) {
        case SCN_UNIT_COUNT: put_count(f, "", x->value); break;
        case SCN_UNIT_DURATION: put_dur(f, "", x->value); break;
        case SCN_UNIT_SIZE: put_size(f, "", x->value); break;
        }
        break;
    }
}

static void put_op(FILE *f, const struct scn_op *op)
{
    if (op->kind == SCN_OP_USER) {
        fputs(op->user->name, f);
        for (uint32_t i = 0; i < op->params.n; i++)
            fprintf(f, "%s%s=%lld", i ? ", " : "(", op->params.name[i],
                    (long long)op->params.value[i]);
        if (op->params.n)
            fputc(')', f);
        return;
    }
    fputs(scn__op_names[op->kind], f);
    switch (op->kind) {
    case SCN_OP_SEQUENCE: case SCN_OP_RANDOM:
        put_count(f, "(records=", op->records);
        put_count(f, ", keys=", op->keys);
        if (op->kind == SCN_OP_RANDOM)
            put_count(f, ", seed=", op->seed);
        if (op->rate) {
            put_count(f, ", rate=", op->rate);
            fputs("/s", f);
        }
        fputc(')', f);
        break;
    case SCN_OP_WINDOW: put_dur(f, "(size=", op->size_ns); fputc(')', f); break;
    case SCN_OP_FAIL:
        if (op->at)
            put_count(f, "(at=", op->at);
        else
            put_prob(f, "(probability=", op->probability);
        fputc(')', f);
        break;
    case SCN_OP_STALL: put_dur(f, "(for=", op->for_ns); fputc(')', f); break;
    case SCN_OP_BURN: put_dur(f, "(per-record=", op->per_record_ns); fputc(')', f); break;
    case SCN_OP_ALLOC: put_size(f, "(per-key=", op->per_key_bytes); fputc(')', f); break;
    default: break;
    }
}

static void put_job(FILE *f, const struct scn_job *j)
{
    fprintf(f, "job %s source=", j->name);
    for (size_t i = 0; i < j->n_ops; i++) {
        if (i)
            fputs(" | ", f);
        put_op(f, &j->ops[i]);
    }
    fprintf(f, "\n    parallelism=%u max-parallelism=%u", j->parallelism, j->max_parallelism);
    if (j->state_bytes)
        put_size(f, " state=", j->state_bytes);
    if (j->checkpoint_bytes != j->state_bytes)
        put_size(f, " checkpoint-bytes=", j->checkpoint_bytes);
    fputc('\n', f);
}

static void put_app(FILE *f, const struct scn_application *a)
{
    fprintf(f, "application %s jobs=", a->name);
    for (size_t i = 0; i < a->n_jobs; i++)
        fprintf(f, "%s%s", i ? "," : "", a->jobs[i].name);
    fprintf(f, " execute=%s", a->execute == SCN_EXECUTE_ASYNC ? "async" : "blocking");
    if (a->artifacts_bytes)
        put_size(f, " artifacts=", a->artifacts_bytes);
    if (a->main_cpu_ns)
        put_dur(f, " main-cpu=", a->main_cpu_ns);
    for (size_t i = 0; i < a->n_files; i++) {
        fputs(" cached-file=", f);
        put_string(f, a->files[i].path);
        fputs(a->files[i].on == SCN_FILE_ON_DFS ? " on dfs" : " on client", f);
    }
    fputc('\n', f);
}

int scn_scenario_print(FILE *f, const struct scn_scenario *s)
{
    const struct scn_cluster *cl = &s->cluster;
    char b[64];

    fprintf(f, "cluster taskmanagers=%u slots=%u provider=%s ha=%s", cl->taskmanagers,
            cl->slots, cl->provider == SCN_PROVIDER_ACTIVE ? "active" : "standalone",
            cl->ha ? "on" : "off");
    if (cl->ha)
        fprintf(f, " jobmanagers=%u", cl->jobmanagers);
    if (cl->provider == SCN_PROVIDER_ACTIVE) {
        put_dur(f, " launch-latency=", cl->launch_latency_ns);
        fprintf(f, " quota=%u", cl->quota);
    }
    if (cl->tm_memory_bytes)
        put_size(f, " tm-memory=", cl->tm_memory_bytes);
    if (cl->target != SCN_DEPLOY_NONE)
        fprintf(f, " target=%s", scn_target_name(cl->target));
    fputc('\n', f);
    for (size_t i = 0; i < s->n_config; i++) {
        scn__config_format(s->config[i].key, s->config[i].value, b, sizeof(b));
        fprintf(f, "config %s=%s\n", s->config[i].key->name, b);
    }
    const struct scn_dfs *d = &s->dfs;
    if (d->bandwidth || d->ops || d->streams || d->latency_ns || d->profile) {
        fputs("dfs", f);
        if (d->profile) {
            fprintf(f, " profile=%s", scn_dfs_profile_name((int)d->profile));
            if (d->profile != SCN_DFS_PROFILE_NFS) {
                put_count(f, " write-rate=", d->write_rate);
                put_count(f, "/s read-rate=", d->read_rate);
                fputs("/s", f);
            }
            if (d->conn_bandwidth || d->profile != SCN_DFS_PROFILE_NFS) {
                put_size(f, " connection-bandwidth=", d->conn_bandwidth);
                fputs("/s", f);
            }
            put_dur(f, " latency-max=", d->latency_max_ns);
            if (d->client_link) {
                put_size(f, " client-link=", d->client_link);
                fputs("/s", f);
            }
        }
        if (d->bandwidth) {
            put_size(f, " bandwidth=", d->bandwidth);
            fputs("/s", f);
        }
        if (d->ops) {
            put_count(f, " ops=", d->ops);
            fputs("/s", f);
        }
        if (d->streams)
            fprintf(f, " streams=%u", d->streams);
        if (d->latency_ns)
            put_dur(f, " latency=", d->latency_ns);
        fputc('\n', f);
    }
    if (s->probe.present) {
        put_dur(f, "probe every=", s->probe.every_ns);
        put_size(f, " read=", s->probe.read_bytes);
        if (s->probe.slo_ns)
            put_dur(f, " slo=", s->probe.slo_ns);
        fputc('\n', f);
    }
    put_dur(f, "deadline ", s->deadline_ns);
    fputc('\n', f);
    if (s->has_seed)
        fprintf(f, "seed %llu\n", (unsigned long long)s->seed);
    for (size_t i = 0; i < s->n_jobs; i++)
        put_job(f, &s->jobs[i]);
    for (size_t i = 0; i < s->n_apps; i++)
        if (!s->apps[i].implicit)
            put_app(f, &s->apps[i]);
    for (size_t i = 0; i < s->n_faults; i++) {
        scn__print_fault(f, s, &s->faults[i]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < s->n_expects; i++) {
        scn__print_expect(f, s, &s->expects[i]);
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

/* open_memstream hands back libc memory; the caller expects rt_ memory. */
static char *to_text(void (*fn)(FILE *, const struct scn_scenario *, const void *),
                     const struct scn_scenario *s, const void *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return rt_xstrdup("?");
    fn(f, s, x);
    fclose(f);
    char *out = rt_xstrdup(buf ? buf : "");
    free(buf);
    return out;
}

static void fault_cb(FILE *f, const struct scn_scenario *s, const void *x)
{
    scn__print_fault(f, s, x);
}

static void expect_cb(FILE *f, const struct scn_scenario *s, const void *x)
{
    scn__print_expect(f, s, x);
}

char *scn_fault_text(const struct scn_scenario *s, const struct scn_fault *f)
{
    return to_text(fault_cb, s, f);
}

char *scn_expect_text(const struct scn_scenario *s, const struct scn_expect *e)
{
    return to_text(expect_cb, s, e);
}
