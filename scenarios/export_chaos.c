/*
 * export_chaos.c - a scenario's faults as one Chaos Mesh Workflow.
 *
 * Each fault is a branch of a Parallel entry: a Suspend for the fault's time,
 * then the chaos (PodChaos, NetworkChaos, IOChaos or StressChaos) with the
 * fault's duration as the template's deadline.  Chaos Mesh has no triggers on
 * Flink's events, so `when checkpoint JOB N done` becomes N checkpoint
 * intervals after the Workflow is applied (the README says to apply it once
 * the jobs run) and is listed as approximated; a fault with no counterpart
 * (a client, a task failure inside the job's code) is listed as not expressed
 * and written nowhere.  Pods are chosen by the labels the Flink Kubernetes
 * Operator puts on them (app: CLUSTER, component: taskmanager|jobmanager), or
 * by minicluster.io/checkpoints for everything that mounts the checkpoint
 * volume (Flink pods and the probe).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/export_internal.h"

#define EXP_INSTANT_NS (10ull * 1000000000ull)  /* deadline of a kill: it acts at once */

/* The fault's time after the Workflow is applied; -1 when not expressible. */
static int64_t fault_time(struct exp_ctx *c, const struct scn_fault *f)
{
    const struct scn_trigger *t = &f->trigger;
    if (t->kind == SCN_TRIGGER_AT)
        return (int64_t)t->at_ns;
    const struct scn_event *e = &t->event;
    if (t->repeat != 1 || t->every != 1)
        exp__approx(c, f, "Chaos Mesh has no event triggers: only the first occurrence is "
                    "exported");
    if (e->kind == SCN_EVENT_CHECKPOINT_DONE) {
        union scn_value v;
        if (scn_config_get(c->s, "execution.checkpointing.interval", &v) != 0) {
            exp__unexpressed(c, f, "a checkpoint event with checkpointing off has no time");
            return -1;
        }
        uint64_t n = e->checkpoint ? e->checkpoint : 1;
        exp__approx(c, f, "Chaos Mesh has no trigger on Flink's checkpoints: fired %llu x "
                    "execution.checkpointing.interval after the Workflow is applied (apply it "
                    "when job %s is RUNNING; or apply the fault by hand when "
                    "/jobs/JOBID/checkpoints shows checkpoint %llu completed)",
                    (unsigned long long)n, e->job.name, (unsigned long long)n);
        return (int64_t)(n * v.u);
    }
    if (e->kind == SCN_EVENT_JOB_STATE && e->state == SCN_JOB_RUNNING) {
        exp__approx(c, f, "fired when the Workflow is applied (apply it when job %s is "
                    "RUNNING)", e->job.name);
        return 0;
    }
    if (e->kind == SCN_EVENT_TM_REGISTERED) {
        exp__approx(c, f, "fired when the Workflow is applied (TaskManagers are registered "
                    "by then)");
        return 0;
    }
    exp__unexpressed(c, f, "Chaos Mesh cannot wait for this event (a job restarting, "
                     "finishing or restoring); inject it by hand when the REST API shows it");
    return -1;
}

/* mode + selector for a Flink pod target, at INDENT; -1 when no pod fits. */
static int selector(struct exp_ctx *c, const struct scn_fault *f, const struct scn_target *t,
                    FILE *m, const char *in)
{
    char cluster[EXP_NAME_LEN * 2 + 2];
    const char *component = NULL;
    snprintf(cluster, sizeof(cluster), "%s", c->name);
    if (c->o->mode == SCN_MODE_APPLICATION) {
        size_t job = t->job.name ? t->job.index : 0;
        exp__cluster_of_job(c, job, cluster, sizeof(cluster));
        if (!t->job.name && c->s->n_apps > 1)
            exp__approx(c, f, "application mode has a cluster per application: aimed at the "
                        "first one's (%s)", cluster);
    }
    switch (t->kind) {
    case SCN_TARGET_TASKMANAGER_OF:
    case SCN_TARGET_TASKMANAGER:
        component = "taskmanager";
        if (c->s->cluster.taskmanagers > 1)
            exp__approx(c, f, "Chaos Mesh picks one TaskManager pod of %s at random (`mode: "
                        "one`); minicluster names a particular one", cluster);
        break;
    case SCN_TARGET_JOBMANAGER_OF:
    case SCN_TARGET_JOBMANAGER:
        component = "jobmanager";
        if (c->s->cluster.ha && c->s->cluster.jobmanagers > 0)
            exp__approx(c, f, "one JobManager pod at random: with HA, not necessarily the "
                        "first or the leader");
        break;
    case SCN_TARGET_PROBE:
        fprintf(m, "%smode: all\n%sselector:\n%s  namespaces: [\"%s\"]\n%s  labelSelectors:\n"
                "%s    app: \"%s-probe\"\n", in, in, in, c->o->ns, in, in, c->name);
        return 0;
    default:
        exp__unexpressed(c, f, "the %s is not a pod of the exported cluster",
                         t->kind == SCN_TARGET_CLIENT ? "client (the operator submits jobs)"
                         : t->kind == SCN_TARGET_DFS ? "shared filesystem service"
                                                     : "a task inside the job's code");
        return -1;
    }
    fprintf(m, "%smode: one\n%sselector:\n%s  namespaces: [\"%s\"]\n%s  labelSelectors:\n"
            "%s    app: \"%s\"\n%s    component: \"%s\"\n", in, in, in, c->o->ns, in, in,
            cluster, in, component);
    return 0;
}

static void volume_selector(const struct exp_ctx *c, FILE *m)
{
    fprintf(m, "        mode: all\n        selector:\n          namespaces: [\"%s\"]\n"
            "          labelSelectors:\n            \"minicluster.io/checkpoints\": \"%s\"\n"
            "        volumePath: \"/flink-data\"\n        path: \"/flink-data/**/*\"\n",
            c->o->ns, c->name);
}

static const char *io_method(const char *fp)
{
    static const char *const map[][2] = {
        { "dfs/open", "OPEN" }, { "dfs/read", "READ" }, { "dfs/write", "WRITE" },
        { "dfs/fsync", "FSYNC" }, { "dfs/rename", "RENAME" }, { "dfs/list", "READDIR" },
        { "dfs/delete", "UNLINK" }, { "dfs/stat", "GETATTR" },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(fp, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* IOChaos for a failpoint action; -1 when it is not a filesystem one. */
static int io_chaos(struct exp_ctx *c, const struct scn_fault *f, FILE *m, const char **kind)
{
    const char *method = io_method(f->failpoint);
    bool any = strcmp(f->failpoint, "dfs/slow") == 0 || strcmp(f->failpoint, "dfs/corrupt") == 0;
    if (!method && !any) {
        exp__unexpressed(c, f, "failpoint %s is inside the job's code, not the filesystem",
                         f->failpoint);
        return -1;
    }
    if (exp__store(c) != EXP_STORE_VOLUME) {
        exp__unexpressed(c, f, "the checkpoints are on %s, not on a mounted volume: IOChaos "
                         "injects into volumes only (inject store faults by hand, e.g. a "
                         "bucket policy denying the Flink pods' role)",
                         exp__store(c) == EXP_STORE_S3 ? "S3" : exp__store(c) == EXP_STORE_HDFS
                         ? "HDFS" : "the --store URI");
        return -1;
    }
    *kind = "IOChaos";
    const char *action = f->action == SCN_ACT_SLOW_FAILPOINT ? "latency"
                       : f->action == SCN_ACT_CORRUPT_FAILPOINT ? "mistake" : "fault";
    fprintf(m, "        action: \"%s\"\n", action);
    volume_selector(c, m);
    if (method)
        fprintf(m, "        methods: [\"%s\"]\n", method);
    unsigned pct = 100;
    if (f->fp_mode == SCN_FP_PROBABILITY)
        pct = (unsigned)(f->probability * 100.0 + 0.5) ? (unsigned)(f->probability * 100.0 + 0.5) : 1;
    else if (f->fp_mode != SCN_FP_ALWAYS)
        exp__approx(c, f, "IOChaos has no `nth`/`once`: every matching call fails while it lasts");
    if (f->fp_mode == SCN_FP_PROBABILITY && f->probability * 100.0 != (double)pct)
        exp__approx(c, f, "IOChaos takes a whole percentage: %u%%", pct);
    fprintf(m, "        percent: %u\n", pct);
    if (f->action == SCN_ACT_SLOW_FAILPOINT) {
        char d[32];
        exp__dur(f->delay_ns, d, sizeof(d));
        fprintf(m, "        delay: \"%s\"\n", d);
    } else if (f->action == SCN_ACT_CORRUPT_FAILPOINT) {
        fputs("        mistake:\n          filling: \"random\"\n          maxOccurrences: 1\n"
              "          maxLength: 16\n", m);
    } else {
        fputs("        errno: 5\n", m);            /* EIO, what dfs/ failpoints return */
    }
    return 0;
}

/* The chaos spec of F at 8 spaces; *KIND its Workflow template type. */
static int chaos_spec(struct exp_ctx *c, const struct scn_fault *f, FILE *m, const char **kind)
{
    switch (f->action) {
    case SCN_ACT_KILL: case SCN_ACT_STOP: case SCN_ACT_RESTART: case SCN_ACT_CRASH_JM_LEADER: {
        struct scn_target jm = { .kind = SCN_TARGET_JOBMANAGER };
        *kind = "PodChaos";
        fputs("        action: \"pod-kill\"\n", m);
        if (f->action == SCN_ACT_STOP)
            fputs("        gracePeriod: 30\n", m);   /* a clean stop: SIGTERM, then wait */
        return selector(c, f, f->action == SCN_ACT_CRASH_JM_LEADER ? &jm : &f->target, m,
                        "        ");
    }
    case SCN_ACT_PAUSE:
        *kind = "PodChaos";
        exp__approx(c, f, "PodChaos pod-failure swaps the container for a pause image: the "
                    "process restarts afterwards instead of resuming where it froze");
        fputs("        action: \"pod-failure\"\n", m);
        return selector(c, f, &f->target, m, "        ");
    case SCN_ACT_PARTITION: case SCN_ACT_DELAY_MESSAGES: case SCN_ACT_DROP_MESSAGES:
    case SCN_ACT_DUPLICATE_MESSAGES: {
        *kind = "NetworkChaos";
        const char *a = f->action == SCN_ACT_PARTITION ? "partition"
                      : f->action == SCN_ACT_DELAY_MESSAGES ? "delay"
                      : f->action == SCN_ACT_DROP_MESSAGES ? "loss" : "duplicate";
        fprintf(m, "        action: \"%s\"\n", a);
        if (selector(c, f, &f->target, m, "        ") < 0)
            return -1;
        fputs("        direction: \"both\"\n        target:\n", m);
        if (selector(c, f, &f->peer, m, "          ") < 0)
            return -1;
        char pct[32];
        snprintf(pct, sizeof(pct), "%g", f->probability * 100.0);
        if (f->action == SCN_ACT_DELAY_MESSAGES) {
            char d[32];
            exp__dur(f->delay_ns, d, sizeof(d));
            fprintf(m, "        delay:\n          latency: \"%s\"\n          correlation: \"0\"\n"
                    "          jitter: \"0ms\"\n", d);
            if (f->probability != 1.0)
                exp__approx(c, f, "netem delays every packet: probability=%g is not kept",
                            f->probability);
        } else if (f->action == SCN_ACT_DROP_MESSAGES) {
            fprintf(m, "        loss:\n          loss: \"%s\"\n          correlation: \"0\"\n", pct);
        } else if (f->action == SCN_ACT_DUPLICATE_MESSAGES) {
            fprintf(m, "        duplicate:\n          duplicate: \"%s\"\n"
                    "          correlation: \"0\"\n", pct);
        }
        if (f->action != SCN_ACT_PARTITION)
            exp__approx(c, f, "netem acts on packets, minicluster on whole messages");
        return 0;
    }
    case SCN_ACT_EXHAUST_MEMORY:
        *kind = "StressChaos";
        exp__approx(c, f, "StressChaos allocates the container's memory until the kernel's "
                    "OOM killer acts; minicluster crashes the TaskManager at its limit");
        if (selector(c, f, &f->target, m, "        ") < 0)
            return -1;
        fputs("        stressors:\n          memory:\n            workers: 1\n"
              "            size: \"100%\"\n", m);
        return 0;
    case SCN_ACT_FAIL_FAILPOINT: case SCN_ACT_SLOW_FAILPOINT: case SCN_ACT_CORRUPT_FAILPOINT:
        return io_chaos(c, f, m, kind);
    case SCN_ACT_ADD_TASKMANAGER:
        exp__unexpressed(c, f, "adding TaskManagers is not chaos: `kubectl patch "
                         "flinkdeployment %s --type merge -p '{\"spec\":{\"taskManager\":"
                         "{\"replicas\":%u}}}'` at that time", c->name,
                         c->s->cluster.taskmanagers + f->count);
        return -1;
    case SCN_ACT_FAIL_TASK:
        exp__unexpressed(c, f, "a task failure is thrown inside the job's code: build it into "
                         "the job's jar");
        return -1;
    }
    return -1;
}

int exp__chaos(struct exp_ctx *c, const char *path, bool write)
{
    char *tbuf = NULL, *cbuf = NULL;
    size_t tlen = 0, clen = 0, n = 0;
    FILE *tm = open_memstream(&tbuf, &tlen), *children = open_memstream(&cbuf, &clen);
    if (!tm || !children)
        abort();
    for (size_t i = 0; i < c->s->n_faults; i++) {
        const struct scn_fault *f = &c->s->faults[i];
        char *sbuf = NULL;
        size_t slen = 0;
        FILE *m = open_memstream(&sbuf, &slen);
        if (!m)
            abort();
        const char *kind = NULL;
        int64_t at = fault_time(c, f);
        int rc = at < 0 ? -1 : chaos_spec(c, f, m, &kind);
        fclose(m);
        if (rc == 0) {
            bool instant = f->action == SCN_ACT_KILL || f->action == SCN_ACT_STOP ||
                           f->action == SCN_ACT_RESTART || f->action == SCN_ACT_CRASH_JM_LEADER;
            uint64_t dur = instant ? EXP_INSTANT_NS : f->duration_ns;
            if (!dur)              /* until the run ends */
                dur = c->s->deadline_ns > (uint64_t)at ? c->s->deadline_ns - (uint64_t)at
                                                       : EXP_INSTANT_NS;
            char d[32], w[32], field[32];
            exp__dur(dur, d, sizeof(d));
            exp__dur((uint64_t)at, w, sizeof(w));
            snprintf(field, sizeof(field), "%s", kind);
            field[0] = (char)(field[0] - 'A' + 'a');      /* PodChaos -> podChaos */
            if (strncmp(field, "iOChaos", 7) == 0)
                memcpy(field, "ioChaos", 7);
            n++;
            fprintf(children, "%s\"fault-%zu\"", n > 1 ? ", " : "", i + 1);
            fprintf(tm, "    - name: \"fault-%zu\"\n      templateType: Serial\n"
                    "      children: [\"fault-%zu-wait\", \"fault-%zu-chaos\"]\n"
                    "    - name: \"fault-%zu-wait\"\n      templateType: Suspend\n"
                    "      deadline: \"%s\"\n"
                    "    - name: \"fault-%zu-chaos\"\n      templateType: %s\n"
                    "      deadline: \"%s\"\n      %s:\n%s",
                    i + 1, i + 1, i + 1, i + 1, at ? w : "1ms", i + 1, kind, d, field, sbuf);
        }
        free(sbuf);
    }
    fclose(tm);
    fclose(children);
    int rc = n ? 0 : 1;
    if (n && write) {
        FILE *f = fopen(path, "w");
        if (!f)
            rc = -EIO;
        else {
            fprintf(f, "# The scenario's faults, each after its delay from when this Workflow "
                    "is applied.\n# Apply it once every job is RUNNING (README.md).\n"
                    "apiVersion: chaos-mesh.org/v1alpha1\nkind: Workflow\nmetadata:\n"
                    "  name: \"%s-faults\"\n  namespace: \"%s\"\nspec:\n  entry: \"faults\"\n"
                    "  templates:\n    - name: \"faults\"\n      templateType: Parallel\n"
                    "      children: [%s]\n%s", c->name, c->o->ns, cbuf, tbuf);
            if (ferror(f) | (fclose(f) != 0))
                rc = -EIO;
        }
    }
    free(tbuf);
    free(cbuf);
    return rc;
}
