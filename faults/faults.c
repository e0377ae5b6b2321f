/*
 * faults.c - the fault injector's actions: what each struct flt_spec does to
 * a world, a cluster and its nodes, and how what lasts is undone.
 *
 * Node faults go through the cluster's own calls (mc_tm_*) when the node is
 * one of a cluster's TaskManagers, so the cluster's bookkeeping sees them;
 * any other node gets the runtime's calls.  Link faults are a pair of network
 * rules (one per direction).  Failpoint faults are in failpoints.c.
 *
 * Threads: flt_apply and flt_heal run on the runner's thread, never from a
 * handler (rt_node_stop waits for the node; in the sim world that runs it).
 * The only code of ours that runs on a node is exhaust(), via rt_node_call.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "faults/faults_internal.h"

#define NOT_A_TM (-2)

struct flt_active {
    enum flt_kind kind;
    uint64_t deadline;          /* world time to heal at; 0: when told */
    struct rt_world *w;
    int rules[2];               /* net rule ids; 0: none */
    bool has_fp;
    struct flt__fp_ref fp;
    struct rt_node *mem_node;   /* EXHAUST_MEMORY: whose limit to restore */
    size_t mem_limit;
};

/* A target resolved to a node; tm is its TaskManager index in c, FLT_TM_JM
 * for c's JobManager, or NOT_A_TM. */
struct where {
    struct rt_node *node;
    struct mc_cluster *c;
    int tm;
};

static bool target_empty(const struct flt_target *t)
{
    return !t->node && !t->cluster && !t->job;
}

static int resolve(const struct flt_target *t, struct where *r, char *why, size_t len)
{
    r->c = t->cluster ? t->cluster : t->job ? t->job->cluster : NULL;
    r->tm = NOT_A_TM;
    r->node = NULL;
    if (t->node) {
        r->node = t->node;
        if (r->c && t->node == r->c->jm)
            r->tm = FLT_TM_JM;
        for (unsigned i = 0; r->c && i < atomic_load(&r->c->ntms); i++)
            if (r->c->tms[i].node == t->node)
                r->tm = (int)i;
        return 0;
    }
    if (t->job) {
        int tm = mc_job_tm_of(t->job, t->subtask);
        if (tm < 0) {
            snprintf(why, len, "job %u has no slot for subtask %u", t->job->ej->id, t->subtask);
            return -EINVAL;
        }
        r->tm = tm;
        r->node = r->c->tms[tm].node;
        return 0;
    }
    if (t->cluster) {
        if (t->tm == FLT_TM_JM) {
            r->tm = FLT_TM_JM;
            r->node = t->cluster->jm;
            return 0;
        }
        if (t->tm >= 0 && (unsigned)t->tm < atomic_load(&t->cluster->ntms)) {
            r->tm = t->tm;
            r->node = t->cluster->tms[t->tm].node;
            return 0;
        }
        snprintf(why, len, "cluster %s has no TaskManager %d", t->cluster->name, t->tm);
        return -EINVAL;
    }
    snprintf(why, len, "no target (node, job or cluster)");
    return -EINVAL;
}

static unsigned long long ms(uint64_t ns) { return (unsigned long long)(ns / RT_NS_PER_MS); }

static struct flt_active *active_new(struct rt_world *w, enum flt_kind kind, uint64_t duration)
{
    struct flt_active *a = rt_xcalloc_process(1, sizeof(*a));
    a->kind = kind;
    a->w = w;
    a->deadline = duration ? rt_now(w) + duration : 0;
    a->fp.slot = -1;
    return a;
}

/* ---- nodes ------------------------------------------------------------------ */

/* Runs on the victim node: allocate until the limit crashes it (rt_mem.h:
 * an allocation past the limit does not return). */
static void exhaust(struct rt_node *n, void *arg)
{
    size_t limit = (size_t)(uintptr_t)arg;
    if (!limit)     /* no limit configured: one just above what it uses now */
        rt_node_set_mem_limit(n, rt_node_mem_bytes(n) + (1u << 20));
    for (;;) {
        volatile char *p = rt_xmalloc(64u << 10);
        p[0] = 1;   /* used, so no compiler can drop the allocation */
    }
}

static int node_fault(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
                      char *d, size_t len)
{
    struct where r;
    int rc = resolve(&s->a, &r, d, len);
    if (rc < 0)
        return rc;
    const char *name = rt_node_name(r.node);
    bool tm = r.c && r.tm >= 0;
    if (s->kind == FLT_RESTART) {
        if (!tm) {
            snprintf(d, len, "%s is not a TaskManager of a cluster: cannot restart it", name);
            return -EINVAL;
        }
        if (!rt_node_is_down(r.node)) {
            snprintf(d, len, "cannot restart %s: it is up", name);
            return -EINVAL;
        }
        /* An earlier memory exhaustion may have left a tiny limit behind. */
        rt_node_set_mem_limit(r.node, r.c->cfg.tm_memory);
        rc = mc_tm_restart(r.c, (uint32_t)r.tm);
        if (rc < 0) {
            snprintf(d, len, "restart of %s failed: %s", name, strerror(-rc));
            return rc;
        }
        snprintf(d, len, "restarted %s", name);
        return 0;
    }
    if (!rt_node_is_up(r.node)) {
        snprintf(d, len, "%s is not up", name);
        return -EINVAL;
    }
    switch (s->kind) {
    case FLT_KILL:
        tm ? mc_tm_kill(r.c, (uint32_t)r.tm) : rt_node_vanish(r.node);
        snprintf(d, len, "killed %s (silent)", name);
        return 0;
    case FLT_CRASH:
        tm ? mc_tm_crash(r.c, (uint32_t)r.tm) : rt_node_crash(r.node);
        snprintf(d, len, "crashed %s (process died)", name);
        return 0;
    case FLT_STOP:
        tm ? mc_tm_stop(r.c, (uint32_t)r.tm) : rt_node_stop(r.node);
        snprintf(d, len, "stopped %s (graceful)", name);
        return 0;
    case FLT_PAUSE:
        if (!s->duration_ns) {
            snprintf(d, len, "pause of %s needs a duration", name);
            return -EINVAL;
        }
        rt_node_pause(r.node, s->duration_ns);
        snprintf(d, len, "paused %s for %llu ms", name, ms(s->duration_ns));
        return 0;
    case FLT_EXHAUST_MEMORY: {
        if (!out) {
            snprintf(d, len, "memory exhaustion needs out (its limit is restored on heal)");
            return -EINVAL;
        }
        size_t limit = tm ? r.c->cfg.tm_memory : 0;
        rc = rt_node_call(r.node, exhaust, (void *)(uintptr_t)limit);
        if (rc < 0) {
            snprintf(d, len, "%s is down", name);
            return rc;
        }
        struct flt_active *a = active_new(w, s->kind, 0);
        a->mem_node = r.node;
        a->mem_limit = limit;
        *out = a;
        if (limit)
            snprintf(d, len, "exhausting the memory of %s (limit %zu bytes)", name, limit);
        else
            snprintf(d, len, "exhausting the memory of %s (no limit: one set 1 MiB above "
                     "its use)", name);
        return 0;
    }
    default:
        snprintf(d, len, "not a node fault");
        return -EINVAL;
    }
}

static int cluster_fault(const struct flt_spec *s, char *d, size_t len)
{
    struct mc_cluster *c = s->a.cluster ? s->a.cluster : s->a.job ? s->a.job->cluster : NULL;
    if (!c) {
        snprintf(d, len, "%s", s->a.node ? "a bare node belongs to no cluster" : "no cluster given");
        return -EINVAL;
    }
    if (s->kind == FLT_CRASH_JM) {
        /* With HA, the JobManager leading now (a standby after a takeover). */
        struct rt_node *jm = mc_cluster_leader(c);
        if (!rt_node_is_up(jm)) {
            snprintf(d, len, "%s is not up", rt_node_name(jm));
            return -EINVAL;
        }
        rt_node_crash(jm);
        snprintf(d, len, "crashed %s (JobManager%s)", rt_node_name(jm), c->cfg.ha ? " leader" : "");
        return 0;
    }
    uint32_t n = s->count ? s->count : 1;
    size_t off = (size_t)snprintf(d, len, "added");
    for (uint32_t i = 0; i < n; i++) {
        int idx = mc_tm_add(c);
        if (idx < 0) {
            snprintf(d, len, "adding a TaskManager to %s failed after %u: %s", c->name, i,
                     strerror(-idx));
            return idx;
        }
        if (off < len)
            off += (size_t)snprintf(d + off, len - off, "%s %s", i ? "," : "",
                                    rt_node_name(c->tms[idx].node));
    }
    return 0;
}

/* ---- links ------------------------------------------------------------------ */

static int link_fault(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
                      char *d, size_t len)
{
    struct where a, b;
    int rc = resolve(&s->a, &a, d, len);
    if (rc < 0)
        return rc;
    if (target_empty(&s->b)) {
        if (!a.c) {
            snprintf(d, len, "no second end: name one, or a cluster for its JobManager");
            return -EINVAL;
        }
        b = (struct where){ .node = a.c->jm, .c = a.c, .tm = FLT_TM_JM };
    } else if ((rc = resolve(&s->b, &b, d, len)) < 0) {
        return rc;
    }
    if (a.node == b.node) {
        snprintf(d, len, "both ends are %s", rt_node_name(a.node));
        return -EINVAL;
    }
    if (!out) {
        snprintf(d, len, "a link fault needs out (its rules are removed on heal)");
        return -EINVAL;
    }
    struct rt_net_rule rule = { .from = rt_node_id(a.node), .to = rt_node_id(b.node) };
    const char *an = rt_node_name(a.node), *bn = rt_node_name(b.node);
    char what[96];
    switch (s->kind) {
    case FLT_PARTITION:
        rule.partitioned = true;
        snprintf(what, sizeof(what), "partitioned %s from %s", an, bn);
        break;
    case FLT_DELAY:
        if (!s->delay_ns) {
            snprintf(d, len, "delay needs delay_ns > 0");
            return -EINVAL;
        }
        rule.delay_ns = s->delay_ns;
        snprintf(what, sizeof(what), "delayed %s<->%s by %llu ms", an, bn, ms(s->delay_ns));
        break;
    default:    /* FLT_DROP, FLT_DUPLICATE */
        if (!(s->probability > 0 && s->probability <= 1)) {
            snprintf(d, len, "probability %g is not in (0, 1]", s->probability);
            return -EINVAL;
        }
        if (s->kind == FLT_DROP)
            rule.drop_p = s->probability;
        else
            rule.dup_p = s->probability;
        snprintf(what, sizeof(what), "%s %s<->%s with probability %g",
                 s->kind == FLT_DROP ? "dropping" : "duplicating", an, bn, s->probability);
        break;
    }
    struct flt_active *act = active_new(w, s->kind, s->duration_ns);
    for (int i = 0; i < 2; i++) {
        if (i == 1) {
            rule.from = rt_node_id(b.node);
            rule.to = rt_node_id(a.node);
        }
        rc = rt_net_add_rule(w, &rule);
        if (rc < 0) {
            flt_heal(act);
            snprintf(d, len, "no room for another network rule");
            return rc;
        }
        act->rules[i] = rc;
    }
    *out = act;
    if (s->duration_ns)
        snprintf(d, len, "%s for %llu ms", what, ms(s->duration_ns));
    else
        snprintf(d, len, "%s until healed", what);
    return 0;
}

/* ---- failpoints ------------------------------------------------------------- */

/* A name an action may drive: itself, or its layer's point of that kind
 * (slow dfs/read -> dfs/slow, corrupt dfs/read -> dfs/corrupt). */
static const char *fp_name(const char *name, unsigned kind, const char *suffix, char *buf,
                           size_t len)
{
    if (!name)
        name = kind == FLT_FPK_FAIL ? NULL : kind == FLT_FPK_SLOW ? "dfs/slow" : "dfs/corrupt";
    if (!name)
        return NULL;
    const struct flt_failpoint *f = flt_failpoint_find(name);
    if (!f)
        return kind == FLT_FPK_FAIL && flt_failpoint_known(name) ? name : NULL;   /* wildcard */
    if (f->kinds & kind)
        return f->name;
    snprintf(buf, len, "%s/%s", f->layer, suffix);
    f = flt_failpoint_find(buf);
    return f && (f->kinds & kind) ? f->name : NULL;
}

static int fp_fault(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
                    char *d, size_t len)
{
    char buf[64];
    unsigned kind = s->kind == FLT_FAILPOINT_FAIL ? FLT_FPK_FAIL
                  : s->kind == FLT_FAILPOINT_SLOW ? FLT_FPK_SLOW : FLT_FPK_CORRUPT;
    const char *name = fp_name(s->failpoint, kind,
                               kind == FLT_FPK_SLOW ? "slow" : "corrupt", buf, sizeof(buf));
    if (!name) {
        snprintf(d, len, "%s is not a failpoint this action drives (docs/failpoints.md)",
                 s->failpoint ? s->failpoint : "(none)");
        return -EINVAL;
    }
    struct flt__fp_args fa = { .name = name, .mode = s->fp_mode, .probability = s->probability,
                               .nth = s->nth };
    if (kind == FLT_FPK_SLOW) {
        if (!s->delay_ns) {
            snprintf(d, len, "slow %s needs delay_ns > 0", name);
            return -EINVAL;
        }
        fa.failinfo = (void *)(uintptr_t)s->delay_ns;
    }
    char how[64];
    switch (s->fp_mode) {
    case FLT_FP_ALWAYS: snprintf(how, sizeof(how), "on every hit"); break;
    case FLT_FP_ONCE: snprintf(how, sizeof(how), "once"); break;
    case FLT_FP_PROBABILITY:
        if (!(s->probability >= 0 && s->probability <= 1)) {
            snprintf(d, len, "probability %g is not in [0, 1]", s->probability);
            return -EINVAL;
        }
        snprintf(how, sizeof(how), "with probability %g (seeded)", s->probability);
        break;
    case FLT_FP_NTH:
        if (!s->nth) {
            snprintf(d, len, "nth hit needs nth >= 1");
            return -EINVAL;
        }
        snprintf(how, sizeof(how), "on hit %llu", (unsigned long long)s->nth);
        break;
    default:
        snprintf(d, len, "unknown failpoint mode %d", s->fp_mode);
        return -EINVAL;
    }
    if (!out) {
        snprintf(d, len, "a failpoint fault needs out (it is disabled on heal)");
        return -EINVAL;
    }
    struct flt_active *a = active_new(w, s->kind, s->duration_ns);
    int rc = flt__fp_enable(w, &fa, &a->fp, d, len);
    if (rc < 0) {
        rt_free(a);
        return rc;
    }
    a->has_fp = true;
    *out = a;
    const char *verb = kind == FLT_FPK_FAIL ? "fails" : kind == FLT_FPK_SLOW ? "slows" : "corrupts";
    if (kind == FLT_FPK_SLOW)
        snprintf(d, len, "failpoint %s %s by %llu ms %s", name, verb, ms(s->delay_ns), how);
    else
        snprintf(d, len, "failpoint %s %s %s", name, verb, how);
    return 0;
}

static int task_fault(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
                      char *d, size_t len)
{
    struct mc_job *j = s->a.job;
    if (!j) {
        snprintf(d, len, "failing a task needs a job");
        return -EINVAL;
    }
    if (s->a.subtask >= atomic_load(&j->nslots)) {
        snprintf(d, len, "job %u has no subtask %u", j->ej->id, s->a.subtask);
        return -EINVAL;
    }
    if (!out) {
        snprintf(d, len, "failing a task needs out (it is disabled on heal)");
        return -EINVAL;
    }
    bool random = s->probability > 0;
    if (random && s->probability > 1) {
        snprintf(d, len, "probability %g is not in (0, 1]", s->probability);
        return -EINVAL;
    }
    struct eng_fail_point fp = { .job = j->ej->id, .subtask = s->a.subtask, .at_record = s->nth };
    struct flt__fp_args fa = { .name = "task/process", .task = &fp,
                               .mode = random ? FLT_FP_PROBABILITY : FLT_FP_ALWAYS,
                               .probability = s->probability, .once_job = random ? NULL : j };
    struct flt_active *a = active_new(w, s->kind, s->duration_ns);
    int rc = flt__fp_enable(w, &fa, &a->fp, d, len);
    if (rc < 0) {
        rt_free(a);
        return rc;
    }
    a->has_fp = true;
    *out = a;
    if (random)
        snprintf(d, len, "failing job %u (%s) subtask %u with probability %g per step",
                 j->ej->id, j->ej->name, s->a.subtask, s->probability);
    else
        snprintf(d, len, "failing job %u (%s) subtask %u at record %llu (once)", j->ej->id,
                 j->ej->name, s->a.subtask, (unsigned long long)s->nth);
    return 0;
}

/* ---- the API ---------------------------------------------------------------- */

int flt_apply(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
              char *detail, size_t detail_len)
{
    char scratch[8];
    if (!detail || !detail_len) {
        detail = scratch;
        detail_len = sizeof(scratch);
    }
    detail[0] = '\0';
    if (out)
        *out = NULL;
    if (!w || !s) {
        snprintf(detail, detail_len, "no world or spec");
        return -EINVAL;
    }
    switch (s->kind) {
    case FLT_KILL: case FLT_CRASH: case FLT_STOP: case FLT_PAUSE: case FLT_RESTART:
    case FLT_EXHAUST_MEMORY:
        return node_fault(w, s, out, detail, detail_len);
    case FLT_ADD_TM: case FLT_CRASH_JM:
        return cluster_fault(s, detail, detail_len);
    case FLT_PARTITION: case FLT_DELAY: case FLT_DROP: case FLT_DUPLICATE:
        return link_fault(w, s, out, detail, detail_len);
    case FLT_FAIL_TASK:
        return task_fault(w, s, out, detail, detail_len);
    case FLT_FAILPOINT_FAIL: case FLT_FAILPOINT_SLOW: case FLT_FAILPOINT_CORRUPT:
        return fp_fault(w, s, out, detail, detail_len);
    }
    snprintf(detail, detail_len, "unknown fault kind %d", (int)s->kind);
    return -EINVAL;
}

void flt_heal(struct flt_active *a)
{
    if (!a)
        return;
    for (int i = 0; i < 2; i++)
        if (a->rules[i] > 0)
            rt_net_remove_rule(a->w, a->rules[i]);
    if (a->has_fp)
        flt__fp_disable(a->fp);
    if (a->mem_node)
        rt_node_set_mem_limit(a->mem_node, a->mem_limit);
    rt_free(a);
}

uint64_t flt_active_deadline(const struct flt_active *a)
{
    return a ? a->deadline : 0;
}

void flt_active_counts(const struct flt_active *a, uint64_t *hits, uint64_t *fails)
{
    *hits = *fails = 0;
    if (a && a->has_fp)
        flt__fp_counts(a->fp, hits, fails);
}
